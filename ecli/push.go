package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"ecli/ecli/internal/oci"
	"ecli/runner"
)

// registerRemoteFlags adds the connection flags (no --pull) of push, pull and login.
func registerRemoteFlags(fs *pflag.FlagSet, f *ociFlags) {
	fs.BoolVar(&f.plainHTTP, "plain-http", false, "talk plain HTTP to the registry (loopback registries fall back to it by themselves)")
	fs.StringVar(&f.caFile, "ca-file", "", "PEM `FILE` of extra certificate authorities for the registry's TLS")
}

type pushFlags struct {
	oci         ociFlags
	title       string
	version     string
	description string
	annotations []string
	created     bool
}

var pushOpts pushFlags

var pushCmd = &cobra.Command{
	Use:   "push [flags] REF FILE",
	Short: "Push a package to an OCI registry; prints the manifest digest",
	Long: `Push a package.json to an OCI registry as an ecli package artifact
(artifactType ` + oci.ArtifactType + `) and print its manifest digest.

REF is REGISTRY/REPOSITORY[:TAG] (the tag defaults to latest). The package is
checked first (it must parse as ecli would run it). The manifest annotations
org.opencontainers.image.title, .version and .description come from the
package's meta (obj_name, bpf_skel.doc) unless given by flags. The creation
time is left out unless --created is given, so pushing the same package twice
gives the same digest.

Credentials come from "ecli login" or an existing docker login.`,
	Example: `  ecli push localhost:5000/tools/tcpconnlat:v1 packages/tcpconnlat.json`,
	Args:    cobra.ExactArgs(2),
	RunE:    runPush,
}

func init() {
	fs := pushCmd.Flags()
	registerRemoteFlags(fs, &pushOpts.oci)
	fs.StringVar(&pushOpts.title, "title", "", "org.opencontainers.image.title (default: the package's name)")
	fs.StringVar(&pushOpts.version, "pkg-version", "", "org.opencontainers.image.version (default: bpf_skel.doc.version)")
	fs.StringVar(&pushOpts.description, "description", "", "org.opencontainers.image.description (default: bpf_skel.doc brief or description)")
	fs.StringArrayVarP(&pushOpts.annotations, "annotation", "a", nil, "extra manifest annotation `KEY=VALUE` (repeatable)")
	fs.BoolVar(&pushOpts.created, "created", false, "add org.opencontainers.image.created (now, or $SOURCE_DATE_EPOCH); makes the digest change")
	rootCmd.AddCommand(pushCmd)
}

func runPush(cmd *cobra.Command, args []string) error {
	ref, file := args[0], args[1]
	if _, err := oci.ParseReference(ref); err != nil {
		return usageError{fmt.Errorf("push: %w", err)}
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("reading package: %w", err)
	}
	pkg, err := runner.Parse(data)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	opts, err := pushOpts.pushOptions(pkg)
	if err != nil {
		return usageError{fmt.Errorf("push: %w", err)}
	}
	c, err := pushOpts.oci.client()
	if err != nil {
		return err
	}
	desc, err := c.Push(cmd.Context(), ref, data, opts)
	if err != nil {
		return err
	}
	fmt.Fprintln(cmd.OutOrStdout(), desc.Digest)
	return nil
}

func (f *pushFlags) pushOptions(pkg *runner.Package) (oci.PushOptions, error) {
	opts := oci.PushOptions{
		Title:       f.title,
		Version:     f.version,
		Description: f.description,
	}
	if opts.Title == "" {
		opts.Title = pkg.Name()
	}
	doc := pkg.Meta.Doc
	if opts.Version == "" {
		opts.Version = doc.Version
	}
	if opts.Description == "" {
		opts.Description = firstNonEmpty(doc.Brief, doc.Description)
	}
	for _, a := range f.annotations {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return opts, fmt.Errorf("annotation %q: want KEY=VALUE", a)
		}
		if opts.Annotations == nil {
			opts.Annotations = map[string]string{}
		}
		opts.Annotations[k] = v
	}
	if f.created {
		opts.Created = time.Now()
		if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
			sec, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return opts, errors.New("SOURCE_DATE_EPOCH is not a number of seconds")
			}
			opts.Created = time.Unix(sec, 0)
		}
	}
	return opts, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}
