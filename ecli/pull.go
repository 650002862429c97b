package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"ecli/ecli/internal/oci"
	"ecli/runner"
)

// pullOptions are the flags of `ecli pull`.
type pullOptions struct {
	remote remoteOptions
	output string
}

func (o *pullOptions) ApplyFlags(fs *pflag.FlagSet) {
	o.remote.ApplyFlags(fs)
	fs.StringVarP(&o.output, "output", "o", "", "also write the package to `FILE` (- for standard output)")
}

func newPullCmd() *cobra.Command {
	var opts pullOptions
	cmd := &cobra.Command{
		Use:   "pull [flags] REF",
		Short: "Download a package from an OCI registry into the cache (and optionally a file)",
		Long: `Download an ecli package from an OCI registry into the local cache, so that
"ecli run REF" works offline afterwards, and print the manifest digest.

REF is REGISTRY/REPOSITORY[:TAG] or REGISTRY/REPOSITORY@sha256:DIGEST. pull always
asks the registry what a tag points to now; blobs already in the cache are not
downloaded again. Every blob is checked against its digest before it is cached.
With -o the package.json is also written to FILE (- for standard output).`,
		Example: `  ecli pull localhost:5000/tools/tcpconnlat:v1
  ecli pull localhost:5000/tools/tcpconnlat:v1 -o tcpconnlat.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPull(cmd, args[0], &opts)
		},
	}
	opts.ApplyFlags(cmd.Flags())
	return cmd
}

func runPull(cmd *cobra.Command, ref string, opts *pullOptions) error {
	if _, err := oci.ParseReference(ref); err != nil {
		return usagef("pull: %w", err)
	}
	c, err := opts.remote.client(cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	data, desc, err := c.Fetch(cmd.Context(), ref, oci.PullAlways)
	if err != nil {
		return err
	}
	// Only what ecli can run is useful to pull: say so now, not at run time.
	if _, err := runner.Parse(data); err != nil {
		return fmt.Errorf("%s: %w", ref, err)
	}
	switch opts.output {
	case "":
	case "-":
		if _, err := cmd.OutOrStdout().Write(data); err != nil {
			return fmt.Errorf("writing package: %w", err)
		}
		fmt.Fprintln(cmd.ErrOrStderr(), desc.Digest)
		return nil
	default:
		if err := oci.WriteFileAtomic(opts.output, data); err != nil {
			return fmt.Errorf("writing package: %w", err)
		}
	}
	fmt.Fprintln(cmd.OutOrStdout(), desc.Digest)
	return nil
}
