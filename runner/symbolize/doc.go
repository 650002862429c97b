// Package symbolize turns the instruction addresses of stack traces into names.
//
// Kernel addresses resolve through /proc/kallsyms (module symbols carry their module name).
// User addresses resolve per process through /proc/PID/maps and the mapped ELF files
// (executables, PIE and shared libraries): the address is translated to a file offset by its
// mapping and to a virtual address by the ELF program headers, then looked up in .symtab, or
// .dynsym when the file is stripped, or in a separate debug file found by build id under
// <DebugRoot>/.build-id/xx/yyyy.debug. DWARF line tables, when present, give file:line. C++
// (Itanium) and Rust (legacy and v0) names are demangled.
//
// Everything read is cached: kernel symbols once, process maps per pid (so a process that exits
// after Observe still resolves), and parsed ELF files per (device, inode, mtime) in a bounded
// LRU shared between processes. A Symbolizer is safe for concurrent use.
//
// The package reads files only; it needs no privileges, and tests point it at fixtures through
// Options.
package symbolize
