package symbolize

import (
	"errors"
	"strconv"
)

// Frame is one resolved address.
type Frame struct {
	Addr   uint64 // the address looked up
	Name   string // symbol name, demangled; empty when unknown
	Offset uint64 // Addr minus the symbol's start
	Module string // kernel module of a kernel symbol; empty for vmlinux and for user frames
	Object string // user frames: path of the mapped file (or [vdso], [heap], …) when known
	File   string // source file from DWARF; empty when unknown
	Line   int    // source line from DWARF; 0 when unknown
}

// String renders the frame as eunomia's and bcc's stack printers do: `sym+0xoff`,
// `sym+0xoff [module]` for kernel modules, then ` file:line` when known. An unresolved frame
// renders as the empty string; the caller prints the bare address.
func (f Frame) String() string {
	if f.Name == "" {
		return ""
	}
	return string(f.AppendText(nil))
}

// AppendText appends String's text to b without an intermediate string.
func (f Frame) AppendText(b []byte) []byte {
	if f.Name == "" {
		return b
	}
	b = append(b, f.Name...)
	b = append(b, "+0x"...)
	b = strconv.AppendUint(b, f.Offset, 16)
	if f.Module != "" {
		b = append(b, " ["...)
		b = append(b, f.Module...)
		b = append(b, ']')
	}
	if f.File != "" && f.Line > 0 {
		b = append(b, ' ')
		b = append(b, f.File...)
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(f.Line), 10)
	}
	return b
}

var (
	// ErrKernelRestricted: /proc/kallsyms shows zero addresses (kernel.kptr_restrict, or not
	// root), so kernel addresses cannot be named.
	ErrKernelRestricted = errors.New("kernel symbol addresses are hidden (kernel.kptr_restrict or missing CAP_SYSLOG)")
	// ErrNoProcess: the process is gone and its maps were never taken (see Observe).
	ErrNoProcess = errors.New("process exited before its memory maps were read")
	// ErrNoMapping: the address lies in no mapping of the process.
	ErrNoMapping = errors.New("address is not mapped in the process")
	// ErrNoFile: the address is in a mapping with no ELF file behind it (anonymous memory,
	// JIT code, [vdso], [stack], …).
	ErrNoFile = errors.New("address is not in a file mapping")
	// ErrBadObject: the mapped file could not be read as ELF.
	ErrBadObject = errors.New("mapped file is not a readable ELF object")
	// ErrNoSymbol: no symbol covers the address.
	ErrNoSymbol = errors.New("no symbol covers the address")
)
