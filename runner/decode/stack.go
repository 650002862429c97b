package decode

import (
	"fmt"
	"strconv"
)

// Frame is a code address with what a Symbolizer knows of it.
type Frame struct {
	Name   string // symbol, demangled; "" when unknown
	Offset uint64 // address minus the symbol's start
	Module string // kernel frames: the module ("" for vmlinux); user frames: the mapped file's base name
	File   string // source file from debug info; "" when unknown
	Line   int    // source line; 0 when unknown
}

// Symbolizer names code addresses for stack traces. The runner passes one in (its
// implementation reads /proc and ELF files); decode itself reads nothing.
type Symbolizer interface {
	// Symbolize resolves addr: kernel tells a kernel address from one in the address space of
	// process pid. An address it cannot name gives a Frame with an empty Name.
	Symbolize(addr uint64, pid uint32, kernel bool) Frame
}

// appendEunomiaFrame appends what eunomia prints after a frame's address: " sym+0xoff",
// " [module]" for a kernel module, " file:line" when known; nothing for an unnamed frame.
func appendEunomiaFrame(dst []byte, f Frame, kernel bool) []byte {
	if f.Name == "" {
		return dst
	}
	dst = append(dst, ' ')
	dst = append(dst, f.Name...)
	dst = append(dst, "+0x"...)
	dst = strconv.AppendUint(dst, f.Offset, 16)
	if kernel && f.Module != "" {
		dst = append(dst, " ["...)
		dst = append(dst, f.Module...)
		dst = append(dst, ']')
	}
	if f.File != "" && f.Line > 0 {
		dst = append(dst, ' ')
		dst = append(dst, f.File...)
		dst = append(dst, ':')
		dst = strconv.AppendInt(dst, int64(f.Line), 10)
	}
	return dst
}

// StackOptions configure a [StackTrace].
type StackOptions struct {
	// Fields renames the fields a stack-trace event is read from (eunomia's stack_trace
	// field_map): the key is the standard name (pid, cpu_id, comm, kstack, kstack_sz,
	// ustack, ustack_sz), the value the event's field. Missing or empty entries keep the
	// standard name.
	Fields map[string]string
	// Symbolizer names the addresses; nil prints bare addresses.
	Symbolizer Symbolizer
}

// StackTrace renders events that carry a kernel and a user stack, as eunomia's stack_trace
// interpreter does: "COMM: comm (pid=N) @ CPU N", then each stack as numbered "[<address>]"
// lines ("No Kernel Stack" when its size is 0 or negative, an error from bpf_get_stack),
// followed by "sym+0xoff" (and "file:line") when a Symbolizer names the address.
type StackTrace struct {
	plan               *Plan
	pid, cpu, ksz, usz Int
	kstack, ustack     stackArray
	comm               Field
	hasComm            bool
	sym                Symbolizer
}

// stackArray is an array of 8-byte addresses in the sample.
type stackArray struct {
	off uint32
	n   int64 // capacity in addresses
}

// NewStackTrace builds the stack-trace rendering of events decoded by p. The event must have
// the integer fields pid, cpu_id, kstack_sz and ustack_sz and the address arrays kstack and
// ustack; comm is optional.
func NewStackTrace(p *Plan, opts StackOptions) (*StackTrace, error) {
	field := func(name string) (Field, error) {
		if n := opts.Fields[name]; n != "" {
			name = n
		}
		for _, f := range p.Fields() {
			if f.Name == name {
				return f, nil
			}
		}
		return Field{}, fmt.Errorf("stack trace event has no %s field: %w", name, ErrUnsupportedType)
	}
	s := &StackTrace{plan: p, sym: opts.Symbolizer}
	for _, c := range []struct {
		name string
		to   *Int
	}{{"pid", &s.pid}, {"cpu_id", &s.cpu}, {"kstack_sz", &s.ksz}, {"ustack_sz", &s.usz}} {
		f, err := field(c.name)
		if err != nil {
			return nil, err
		}
		if *c.to, err = IntOf(f); err != nil {
			return nil, fmt.Errorf("stack trace event: %w", err)
		}
	}
	// Sizes are signed: bpf_get_stack returns a negative error.
	s.ksz.Signed, s.usz.Signed = true, true
	for _, c := range []struct {
		name string
		to   *stackArray
	}{{"kstack", &s.kstack}, {"ustack", &s.ustack}} {
		f, err := field(c.name)
		if err != nil {
			return nil, err
		}
		*c.to = stackArray{off: f.Offset, n: int64(f.Size / 8)}
	}
	if f, err := field("comm"); err == nil {
		s.comm, s.hasComm = f, true
	}
	return s, nil
}

// AppendText appends the text (no final newline) of one event; an event with neither stack
// appends nothing.
func (s *StackTrace) AppendText(dst, sample []byte) ([]byte, error) {
	if len(sample) < int(s.plan.Size()) {
		return dst, s.plan.short(sample)
	}
	var v [4]uint64
	for i, at := range []Int{s.pid, s.cpu, s.ksz, s.usz} {
		var err error
		if v[i], err = at.Read(sample); err != nil {
			return dst, err
		}
	}
	pid, cpu, ksz, usz := uint32(v[0]), uint32(v[1]), int64(v[2]), int64(v[3])
	if ksz <= 0 && usz <= 0 {
		return dst, nil
	}
	dst = append(dst, "COMM: "...)
	if s.hasComm {
		dst = append(dst, cstr(sample[s.comm.Offset:s.comm.Offset+s.comm.Size])...)
	}
	dst = fmt.Appendf(dst, " (pid=%d) @ CPU %d\n", pid, cpu)
	dst = s.appendStack(dst, sample, "Kernel", s.kstack, ksz, pid, true)
	dst = append(dst, '\n')
	return s.appendStack(dst, sample, "Userspace", s.ustack, usz, pid, false), nil
}

// appendStack appends one stack (no final newline); size is its length in bytes.
func (s *StackTrace) appendStack(dst, sample []byte, title string, a stackArray, size int64, pid uint32, kernel bool) []byte {
	if size <= 0 {
		return fmt.Appendf(dst, "No %s Stack", title)
	}
	dst = append(dst, title...)
	dst = append(dst, ':')
	for j := range min(size/8, a.n) {
		addr := le(sample[a.off+8*uint32(j):], 8)
		dst = append(dst, "\n  "...)
		dst = strconv.AppendInt(dst, j, 10)
		dst = fmt.Appendf(dst, " [<%016x>]", addr)
		if s.sym != nil {
			dst = appendEunomiaFrame(dst, s.sym.Symbolize(addr, pid, kernel), kernel)
		}
	}
	return dst
}
