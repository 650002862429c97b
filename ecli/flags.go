package main

// Flag groups shared by several commands, after oras's option package: each group is a
// struct whose ApplyFlags registers its flags on a command's flag set and whose methods
// check and use the values. Commands embed the groups they need in their own local
// option struct; nothing here is a package-level variable.

import (
	"io"
	"os"

	"github.com/spf13/pflag"

	"ecli/ecli/internal/oci"
	"ecli/runner"
)

// remoteOptions are the registry connection flags of run, inspect, pull, push and login.
type remoteOptions struct {
	plainHTTP bool
	caFile    string
}

// ApplyFlags registers --plain-http and --ca-file.
func (o *remoteOptions) ApplyFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.plainHTTP, "plain-http", false, "talk plain HTTP to the registry (loopback registries fall back to it by themselves)")
	fs.StringVar(&o.caFile, "ca-file", "", "PEM `FILE` of extra certificate authorities for the registry's TLS")
}

// client returns a registry client that draws download progress on stderr when stderr is
// a terminal.
func (o *remoteOptions) client(stderr io.Writer) (*oci.Client, error) {
	var progress io.Writer
	if f, ok := stderr.(*os.File); ok {
		progress = oci.TerminalProgress(f)
	}
	return oci.New(oci.Options{PlainHTTP: o.plainHTTP, CAFile: o.caFile, Progress: progress})
}

// sourceOptions are the flags that say where the package PROG of run and inspect comes
// from (see resolvePackage): the registry flags, --pull and --object.
type sourceOptions struct {
	remote remoteOptions
	pull   oci.PullPolicy
	object string
}

// ApplyFlags registers --pull, --object and the registry connection flags.
func (o *sourceOptions) ApplyFlags(fs *pflag.FlagSet) {
	o.pull = oci.PullMissing
	fs.Var(&o.pull, "pull", "when to download an OCI package: always, missing (use the cache) or never")
	fs.StringVar(&o.object, "object", "", "BPF object `FILE` for a bare *.skel.json (default: NAME.bpf.o beside it)")
	o.remote.ApplyFlags(fs)
}

// formatOptions are the output format flags of commands that print events.
type formatOptions struct {
	json bool
}

// ApplyFlags registers -j/--json.
func (o *formatOptions) ApplyFlags(fs *pflag.FlagSet) {
	fs.BoolVarP(&o.json, "json", "j", false, "print one JSON object per event instead of text columns")
}

// format is the runner's output format the flags chose.
func (o *formatOptions) format() runner.Format {
	if o.json {
		return runner.JSON
	}
	return runner.Text
}
