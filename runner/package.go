package runner

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/tidwall/gjson"
)

const (
	// MaxObjectSize caps the inflated size of a package's BPF object.
	MaxObjectSize = 64 << 20
	// MaxPackageSize caps the size of a package document read from a stream (stdin, a
	// URL): base64 makes the compressed object 4/3 larger, and incompressible objects
	// are rare, so twice the object limit leaves room for the metadata.
	MaxPackageSize = 2 * MaxObjectSize
)

// Package is a parsed package: the BPF object and its metadata. It is not changed after
// Parse: the user's choices for its options are Values (NewValues), given to Load, so one
// Package can be loaded many times, concurrently.
type Package struct {
	// ELF is the BPF object (an ELF file with .BTF).
	ELF []byte
	// Meta is the package metadata.
	Meta Meta

	spec *ebpf.CollectionSpec
	opts []*Option
}

// Parse reads a package in any form eunomia's ecc writes:
//   - the envelope {bpf_object, bpf_object_size, meta} (v2/v3),
//   - the legacy v1 envelope with no bpf_object_size and export_types {export_btf, structs}.
//
// A bare metadata file (*.skel.json) needs its object: use ParseSplit.
func Parse(data []byte) (*Package, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, badf("", "empty input")
	}
	if !gjson.ValidBytes(data) {
		if isWasm(data) {
			return nil, badf("", "WASM modules are not supported (ecli runs JSON packages)")
		}
		return nil, badf("", "not valid JSON: %s", syntaxError(data))
	}
	root := gjson.ParseBytes(data)
	if !root.IsObject() {
		return nil, badf("", "top level is %s, want an object", kindName(root))
	}
	obj := root.Get("bpf_object")
	if !obj.Exists() {
		if root.Get("bpf_skel").Exists() {
			return nil, badf("bpf_object", "missing: this looks like a bare *.skel.json; give the object too (ecli run --object FILE.bpf.o)")
		}
		if root.Get("load_ebpf_script").Exists() || root.Get("data").Exists() {
			return nil, badf("", "eunomia 0.1 (v0) packages are not supported; rebuild the package")
		}
		return nil, badf("bpf_object", "missing")
	}
	if obj.Type != gjson.String {
		return nil, badf("bpf_object", "is %s, want a base64 string", kindName(obj))
	}
	elf, err := inflateObject(obj.Str, root.Get("bpf_object_size"))
	if err != nil {
		return nil, err
	}
	meta := root.Get("meta")
	if !meta.Exists() {
		return nil, badf("meta", "missing")
	}
	return build(meta, "meta", elf)
}

// ParseSplit reads a bare metadata document (ecc's *.skel.json, i.e. the "meta" object of
// a package) together with its BPF object.
func ParseSplit(meta, elf []byte) (*Package, error) {
	if !gjson.ValidBytes(meta) {
		return nil, badf("", "metadata is not valid JSON")
	}
	root := gjson.ParseBytes(meta)
	if root.Get("bpf_object").Exists() && root.Get("meta").Exists() {
		// A full package was given as metadata: take its meta, the object wins.
		root = root.Get("meta")
	}
	return build(root, "", bytes.Clone(elf))
}

func build(meta gjson.Result, path string, elf []byte) (*Package, error) {
	m, err := parseMeta(meta, path)
	if err != nil {
		return nil, err
	}
	spec, err := ebpf.LoadCollectionSpecFromReader(bytes.NewReader(elf))
	if err != nil {
		return nil, badf("bpf_object", "reading BPF object: %w", err)
	}
	p := &Package{ELF: elf, Meta: *m, spec: spec}
	if err := p.check(); err != nil {
		return nil, err
	}
	if err := p.buildOptions(); err != nil {
		return nil, err
	}
	if err := p.checkProgConditions(); err != nil {
		return nil, err
	}
	// What the package prints is checked now, not after the programs are attached. The
	// plans are not kept: a Plan holds per-run state and depends on the values, so each
	// Instance compiles its own at Load.
	exps, err := p.compileOutputs(p.NewValues(), nil)
	if err != nil {
		return nil, err
	}
	if err := p.checkStackTraces(exps); err != nil {
		return nil, err
	}
	return p, nil
}

// CollectionSpec returns a copy of the object's collection spec.
func (p *Package) CollectionSpec() *ebpf.CollectionSpec { return p.spec.Copy() }

// BTF returns the object's own BTF, which export type ids index.
func (p *Package) BTF() *btf.Spec { return p.spec.Types }

// Name is the tool's name: obj_name without the "_bpf" suffix ecc adds.
func (p *Package) Name() string {
	return strings.TrimSuffix(p.Meta.ObjName, "_bpf")
}

// check validates the metadata against the object (check.go): what the JSON says about
// programs, maps, data sections and export types must agree with the ELF and its BTF.
func (p *Package) check() error {
	for _, c := range []func() error{p.checkProgs, p.checkMaps, p.checkDataSections, p.checkExportTypes} {
		if err := c(); err != nil {
			return err
		}
	}
	return nil
}

func inflateObject(b64 string, size gjson.Result) ([]byte, error) {
	clean := strings.Map(func(r rune) rune {
		switch r {
		case '\n', '\r', ' ', '\t':
			return -1
		}
		return r
	}, b64)
	z, err := base64.StdEncoding.DecodeString(clean)
	if err != nil {
		return nil, badf("bpf_object", "invalid base64: %w", err)
	}
	zr, err := zlib.NewReader(bytes.NewReader(z))
	if err != nil {
		return nil, badf("bpf_object", "not a zlib stream: %w", err)
	}
	elf, err := io.ReadAll(io.LimitReader(zr, MaxObjectSize+1))
	if err != nil {
		return nil, badf("bpf_object", "inflating: %w", err)
	}
	if len(elf) > MaxObjectSize {
		return nil, badf("bpf_object", "inflates to more than %d bytes", MaxObjectSize)
	}
	if size.Exists() {
		var r reader
		n, _ := r.number(size, "bpf_object_size", math.MaxInt64, "a number of bytes")
		if r.err != nil {
			return nil, r.err
		}
		if n != uint64(len(elf)) {
			return nil, badf("bpf_object_size", "is %d but the object inflates to %d bytes", n, len(elf))
		}
	}
	if !bytes.HasPrefix(elf, []byte("\x7fELF")) {
		return nil, badf("bpf_object", "does not hold an ELF file")
	}
	return elf, nil
}

// syntaxError says where data stops being JSON, e.g. "unexpected end of JSON input".
func syntaxError(data []byte) string {
	err := json.Unmarshal(data, new(json.RawMessage))
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("%v (at byte %d)", se, se.Offset)
	case err != nil:
		return err.Error()
	}
	return "rejected by the parser"
}

func isWasm(data []byte) bool { return bytes.HasPrefix(data, []byte("\x00asm")) }

func kindName(r gjson.Result) string {
	switch {
	case !r.Exists():
		return "missing"
	case r.IsObject():
		return "an object"
	case r.IsArray():
		return "an array"
	case r.Type == gjson.String:
		return "a string"
	case r.Type == gjson.Number:
		return "a number"
	case r.Type == gjson.True, r.Type == gjson.False:
		return "a bool"
	case r.Type == gjson.Null:
		return "null"
	}
	return "invalid"
}
