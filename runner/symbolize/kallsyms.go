package symbolize

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"slices"
)

// KernelSymbols is a parsed /proc/kallsyms: text symbols sorted by address.
type KernelSymbols struct {
	syms    []ksym
	names   string   // every name, back to back
	modules []string // modules[0] is "" (vmlinux)
}

type ksym struct {
	addr uint64
	name uint32 // offset in names
	nlen uint16
	mod  uint16 // index in modules
}

// ParseKallsyms reads the text of /proc/kallsyms ("address type name [module]" lines) and keeps
// its text symbols (types t, T, w, W). It returns ErrKernelRestricted when every address is
// zero, as non-root readers see them under kernel.kptr_restrict.
func ParseKallsyms(r io.Reader) (*KernelSymbols, error) {
	k := &KernelSymbols{modules: []string{""}}
	var names []byte
	modIndex := map[string]uint16{"": 0}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	lines, zeros := 0, 0
	for sc.Scan() {
		line := sc.Bytes()
		lines++
		addr, rest, ok := parseHex(line)
		if !ok || len(rest) < 3 || rest[0] != ' ' || rest[2] != ' ' {
			return nil, fmt.Errorf("kallsyms line %d: %q is not \"address type name\"", lines, line)
		}
		if addr == 0 {
			zeros++
			continue
		}
		switch rest[1] {
		case 't', 'T', 'w', 'W':
		default:
			continue
		}
		name, mod := rest[3:], []byte(nil)
		if i := bytes.IndexByte(name, '\t'); i >= 0 {
			name, mod = name[:i], bytes.TrimSuffix(bytes.TrimPrefix(bytes.TrimSpace(name[i+1:]), []byte("[")), []byte("]"))
		}
		if len(name) == 0 || len(name) > 0xffff {
			continue
		}
		mi, ok := modIndex[string(mod)]
		if !ok {
			if len(k.modules) > 0xffff {
				return nil, fmt.Errorf("kallsyms line %d: more than 65535 modules", lines)
			}
			mi = uint16(len(k.modules))
			k.modules = append(k.modules, string(mod))
			modIndex[string(mod)] = mi
		}
		k.syms = append(k.syms, ksym{addr: addr, name: uint32(len(names)), nlen: uint16(len(name)), mod: mi})
		names = append(names, name...)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading kallsyms: %w", err)
	}
	if len(k.syms) == 0 {
		if zeros > 0 {
			return nil, ErrKernelRestricted
		}
		return nil, fmt.Errorf("kallsyms has no text symbols (%d lines)", lines)
	}
	k.names = string(names)
	k.syms = slices.Clip(k.syms)
	slices.SortStableFunc(k.syms, func(a, b ksym) int {
		switch {
		case a.addr < b.addr:
			return -1
		case a.addr > b.addr:
			return 1
		}
		return 0
	})
	return k, nil
}

// Len is the number of text symbols.
func (k *KernelSymbols) Len() int { return len(k.syms) }

// Lookup returns the symbol at or below addr. Frame.Name is empty and the error ErrNoSymbol
// when addr lies below every symbol.
func (k *KernelSymbols) Lookup(addr uint64) (Frame, error) {
	i, found := slices.BinarySearchFunc(k.syms, addr, func(s ksym, a uint64) int {
		switch {
		case s.addr < a:
			return -1
		case s.addr > a:
			return 1
		}
		return 0
	})
	if found {
		// the first of several symbols at one address (aliases keep file order)
		for i > 0 && k.syms[i-1].addr == addr {
			i--
		}
	} else {
		if i == 0 {
			return Frame{Addr: addr}, ErrNoSymbol
		}
		i--
		for i > 0 && k.syms[i-1].addr == k.syms[i].addr {
			i--
		}
	}
	s := k.syms[i]
	return Frame{
		Addr:   addr,
		Name:   k.names[s.name : s.name+uint32(s.nlen)],
		Offset: addr - s.addr,
		Module: k.modules[s.mod],
	}, nil
}

// parseHex parses the leading hexadecimal number of b.
func parseHex(b []byte) (uint64, []byte, bool) {
	var v uint64
	i := 0
	for ; i < len(b) && i < 16; i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return v, b[i:], i > 0
		}
		v = v<<4 | uint64(c)
	}
	return v, b[i:], i > 0
}
