// Package btfexport turns a compiled BPF object (a CO-RE `*.bpf.o`, stripped with
// `llvm-strip -g`) into an eunomia-compatible package.json, the way eunomia's ecc does, without
// loading anything into the kernel.
//
// The package carries the object itself (zlib + base64) and a `meta` object describing it:
// maps with their skeleton identifiers, programs with their ELF sections, the global variables
// of `.rodata`/`.bss`/`.data` with their C types and command-line hints, and the exported
// (event) structs by their BTF type id in the object's own `.BTF`.
//
// Command-line hints for globals come from `btf_decl_tag("ecli:...")` attributes in the object's
// BTF and, for compatibility with ecc, from `/// @cmdarg {...}` doc comments in the C source.
// See docs/compile.md.
//
// Output is deterministic: the same object and inputs give byte-identical JSON.
package btfexport
