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

// pushOptions are the flags of `ecli push`.
type pushOptions struct {
	remote      remoteOptions
	title       string
	version     string
	description string
	annotations []string
	created     bool
}

func (o *pushOptions) ApplyFlags(fs *pflag.FlagSet) {
	o.remote.ApplyFlags(fs)
	fs.StringVar(&o.title, "title", "", "org.opencontainers.image.title (default: the package's name)")
	fs.StringVar(&o.version, "pkg-version", "", "org.opencontainers.image.version (default: bpf_skel.doc.version)")
	fs.StringVar(&o.description, "description", "", "org.opencontainers.image.description (default: bpf_skel.doc brief or description)")
	fs.StringArrayVarP(&o.annotations, "annotation", "a", nil, "extra manifest annotation `KEY=VALUE` (repeatable)")
	fs.BoolVar(&o.created, "created", false, "add org.opencontainers.image.created (now, or $SOURCE_DATE_EPOCH); makes the digest change")
}

func newPushCmd() *cobra.Command {
	var opts pushOptions
	cmd := &cobra.Command{
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
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPush(cmd, args[0], args[1], &opts)
		},
	}
	opts.ApplyFlags(cmd.Flags())
	return cmd
}

func runPush(cmd *cobra.Command, ref, file string, o *pushOptions) error {
	if _, err := oci.ParseReference(ref); err != nil {
		return usagef("push: %w", err)
	}
	data, err := readFile(file)
	if err != nil {
		return fmt.Errorf("reading package: %w", err)
	}
	pkg, err := runner.Parse(data)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	opts, err := o.manifestOptions(pkg)
	if err != nil {
		return usagef("push: %w", err)
	}
	c, err := o.remote.client(cmd.ErrOrStderr())
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

// manifestOptions returns the manifest options: the flags, with defaults from the package.
func (f *pushOptions) manifestOptions(pkg *runner.Package) (oci.PushOptions, error) {
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
