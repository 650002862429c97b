// Command btfexport turns a compiled BPF object into an eunomia-compatible package.json.
//
//	btfexport [-o package.json] [-src tool.bpf.c] [-name tool] tool.bpf.o [tool.h]
//	btfexport -header-structs tool.h
//
// The header's structs become meta.export_types (after the value types of ring and perf
// buffers); -src names the C source whose `///` doc comments (@cmdarg, @description,
// @sample, ...) are read. See docs/compile.md.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"ecli/btfexport"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "btfexport: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("btfexport", flag.ContinueOnError)
	out := fs.String("o", "package.json", "output `file` (- for stdout)")
	src := fs.String("src", "", "C source `file` to read doc comments from")
	name := fs.String("name", "", "tool `name` (default: the object's file name up to its first dot)")
	structs := fs.Bool("header-structs", false, "only print the struct names the header given as the only argument defines, one per line (ecc's rule)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: btfexport [-o package.json] [-src tool.bpf.c] [-name tool] tool.bpf.o [tool.h]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *structs {
		if fs.NArg() != 1 {
			return errors.New("-header-structs: want exactly one header")
		}
		h, err := os.ReadFile(fs.Arg(0))
		if err != nil {
			return err
		}
		for _, s := range btfexport.HeaderStructs(h) {
			fmt.Println(s)
		}
		return nil
	}
	if fs.NArg() < 1 || fs.NArg() > 2 {
		fs.Usage()
		return errors.New("want an object and at most one header")
	}
	objPath := fs.Arg(0)
	obj, err := os.ReadFile(objPath)
	if err != nil {
		return err
	}
	opts := btfexport.Options{Name: *name}
	if opts.Name == "" {
		opts.Name, _, _ = strings.Cut(filepath.Base(objPath), ".")
	}
	if fs.NArg() == 2 {
		opts.HeaderName = fs.Arg(1)
		if opts.Header, err = os.ReadFile(opts.HeaderName); err != nil {
			return err
		}
	}
	if *src != "" {
		opts.SourceName = *src
		if opts.Source, err = os.ReadFile(*src); err != nil {
			return err
		}
	}
	pkg, err := btfexport.Export(obj, opts)
	if err != nil {
		return fmt.Errorf("%s: %w", objPath, err)
	}
	data, err := pkg.JSON()
	if err != nil {
		return err
	}
	if *out == "-" {
		_, err = os.Stdout.Write(data)
		return err
	}
	// Write next to the target and rename, so a failed run never leaves half a package.
	tmp, err := os.CreateTemp(filepath.Dir(*out), ".btfexport-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", *out, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", *out, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", *out, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", *out, err)
	}
	if err := os.Rename(tmp.Name(), *out); err != nil {
		return fmt.Errorf("writing %s: %w", *out, err)
	}
	return nil
}
