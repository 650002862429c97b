package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/cobra"

	"ecli/packages"
	"ecli/runner"
)

// maxPackageSize caps the bytes ecli reads as one package, from any source: the object may
// be up to runner.MaxObjectSize inflated, and its base64 text inside the JSON is about as
// large again.
const maxPackageSize = 2 * runner.MaxObjectSize

// httpTimeout bounds downloading a package from an http(s) URL.
const httpTimeout = 60 * time.Second

// origin says where a resolved package came from.
type origin struct {
	// name is what errors and inspect call the source: a path, "stdin", "built-in NAME",
	// the URL or the OCI reference.
	name string
	// data are the package bytes as read (for a bare *.skel.json, the metadata file).
	data []byte
	// manifest is the OCI manifest's descriptor; nil for other sources.
	manifest *ocispec.Descriptor
	// file is set when src is a file (which may be a bare *.skel.json).
	file bool
}

// resolvePackage finds and parses the package src names, for run and inspect alike. src is,
// in this order: "-" (standard input), an existing file (a directory is an error), an
// http(s) URL, a built-in tool, else an OCI reference. Every source is read up to
// maxPackageSize.
func resolvePackage(cmd *cobra.Command, src string, opts *sourceOptions) (*runner.Package, *origin, error) {
	in, err := readSource(cmd, src, opts)
	if err != nil {
		return nil, nil, err
	}
	pkg, err := runner.Parse(in.data)
	if err == nil {
		return pkg, in, nil
	}
	if in.file && (opts.object != "" || strings.HasSuffix(src, ".skel.json")) {
		pkg, err = parseSplit(src, in.data, opts.object)
		return pkg, in, err
	}
	return nil, nil, fmt.Errorf("%s: %w", in.name, err)
}

// readSource reads the bytes of src; see resolvePackage for the order.
func readSource(cmd *cobra.Command, src string, opts *sourceOptions) (*origin, error) {
	ctx := cmd.Context()
	if src == "-" {
		data, err := readLimited(cmd.InOrStdin())
		if errors.Is(err, errTooLarge) {
			return nil, fmt.Errorf("stdin: %w", err)
		}
		if err != nil {
			return nil, fmt.Errorf("reading package from stdin: %w", err)
		}
		return &origin{name: "stdin", data: data}, nil
	}
	if st, err := os.Stat(src); err == nil {
		if st.IsDir() {
			return nil, fmt.Errorf("%s is a directory, not a package file", src)
		}
		data, err := readFile(src)
		if err != nil {
			return nil, fmt.Errorf("reading package: %w", err)
		}
		return &origin{name: src, data: data, file: true}, nil
	}
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		data, err := httpGet(ctx, src)
		if err != nil {
			return nil, err
		}
		return &origin{name: src, data: data}, nil
	}
	if data, ok := packages.Lookup(src); ok {
		return &origin{name: "built-in " + src, data: data}, nil
	}
	if looksLikePath(src) {
		return nil, fmt.Errorf("%s: no such file, built-in tool or OCI reference (see ecli list)", src)
	}
	c, err := opts.remote.client(cmd.ErrOrStderr())
	if err != nil {
		return nil, err
	}
	data, desc, err := c.Fetch(ctx, src, opts.pull)
	if err != nil {
		return nil, err
	}
	return &origin{name: src, data: data, manifest: &desc}, nil
}

// parseSplit parses a bare *.skel.json with its object: the file given by --object, else
// NAME.bpf.o beside it.
func parseSplit(path string, meta []byte, object string) (*runner.Package, error) {
	if object == "" {
		object = strings.TrimSuffix(path, ".skel.json") + ".bpf.o"
	}
	elf, err := readFile(object)
	if err != nil {
		return nil, fmt.Errorf("%s is metadata only; reading its object: %w (give --object FILE)", path, err)
	}
	p, err := runner.ParseSplit(meta, elf)
	if err != nil {
		return nil, fmt.Errorf("%s + %s: %w", path, filepath.Base(object), err)
	}
	return p, nil
}

// looksLikePath reports whether s can only be meant as a local file or a tool name.
func looksLikePath(s string) bool {
	return strings.HasPrefix(s, "/") || strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../") ||
		strings.HasSuffix(s, ".json") || !strings.ContainsAny(s, "/:")
}

// readLimited reads r to the end, failing with errTooLarge beyond maxPackageSize bytes.
func readLimited(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxPackageSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxPackageSize {
		return nil, errTooLarge
	}
	return data, nil
}

// readFile is os.ReadFile with the package size limit.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := readLimited(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return data, nil
}

func httpGet(ctx context.Context, url string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, httpTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching %s: %s", url, resp.Status)
	}
	data, err := readLimited(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", url, err)
	}
	return data, nil
}
