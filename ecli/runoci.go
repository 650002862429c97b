package main

import (
	"context"
	"os"

	"github.com/spf13/pflag"

	"ecli/ecli/internal/oci"
)

// ociFlags are the registry flags shared by run, pull, push and inspect.
type ociFlags struct {
	pull      oci.PullPolicy
	plainHTTP bool
	caFile    string
}

func (f *ociFlags) register(fs *pflag.FlagSet) {
	f.pull = oci.PullMissing
	fs.Var(&f.pull, "pull", "when to download an OCI package: always, missing (use the cache) or never")
	registerRemoteFlags(fs, f)
}

func (f *ociFlags) client() (*oci.Client, error) {
	return oci.New(oci.Options{PlainHTTP: f.plainHTTP, CAFile: f.caFile, Progress: oci.TerminalProgress(os.Stderr)})
}

// fetch returns the package bytes of an OCI reference, from the cache or the registry.
func (f *ociFlags) fetch(ctx context.Context, ref string) ([]byte, error) {
	c, err := f.client()
	if err != nil {
		return nil, err
	}
	data, _, err := c.Fetch(ctx, ref, f.pull)
	return data, err
}
