package symbolize

import (
	"bufio"
	"bytes"
	"cmp"
	"fmt"
	"io"
	"slices"
)

// KernelSymbols is a parsed /proc/kallsyms: text symbols sorted by address.
type KernelSymbols struct {
	addrs   []uint64 // sorted; searched alone to touch less memory
	meta    []kmeta  // meta[i] names addrs[i]
	names   string   // every name, back to back
	modules []string // modules[0] is "" (vmlinux)
}

type kmeta struct {
	name uint32 // offset in names
	nlen uint16
	mod  uint16 // index in modules
}

type ksym struct {
	addr uint64
	kmeta
}

// ParseKallsyms reads the text of /proc/kallsyms ("address type name [module]" lines) and keeps
// its text symbols (types t, T, w, W). It returns ErrKernelRestricted when every address is
// zero, as non-root readers see them under kernel.kptr_restrict.
func ParseKallsyms(r io.Reader) (*KernelSymbols, error) {
	k := &KernelSymbols{modules: []string{""}}
	var names []byte
	var syms []ksym
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
		syms = append(syms, ksym{addr, kmeta{name: uint32(len(names)), nlen: uint16(len(name)), mod: mi}})
		names = append(names, name...)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading kallsyms: %w", err)
	}
	if len(syms) == 0 {
		if zeros > 0 {
			return nil, ErrKernelRestricted
		}
		return nil, fmt.Errorf("kallsyms has no text symbols (%d lines)", lines)
	}
	k.names = string(names)
	// By address, aliases in file order (their name offsets grow with it). The file is
	// nearly sorted: modules come after vmlinux, each sorted.
	byAddr := func(a, b ksym) int {
		if c := cmp.Compare(a.addr, b.addr); c != 0 {
			return c
		}
		return cmp.Compare(a.name, b.name)
	}
	if !slices.IsSortedFunc(syms, byAddr) {
		slices.SortFunc(syms, byAddr)
	}
	k.addrs, k.meta = make([]uint64, len(syms)), make([]kmeta, len(syms))
	for i, s := range syms {
		k.addrs[i], k.meta[i] = s.addr, s.kmeta
	}
	return k, nil
}

// Len is the number of text symbols.
func (k *KernelSymbols) Len() int { return len(k.addrs) }

// Lookup returns the symbol at or below addr. Frame.Name is empty and the error ErrNoSymbol
// when addr lies below every symbol.
func (k *KernelSymbols) Lookup(addr uint64) (Frame, error) {
	// the first index whose address is above addr, then back to the first alias below it
	lo, hi := 0, len(k.addrs)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if k.addrs[m] <= addr {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == 0 {
		return Frame{Addr: addr}, ErrNoSymbol
	}
	i := lo - 1
	for i > 0 && k.addrs[i-1] == k.addrs[i] {
		i--
	}
	s := k.meta[i]
	return Frame{
		Addr:   addr,
		Name:   k.names[s.name : s.name+uint32(s.nlen)],
		Offset: addr - k.addrs[i],
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
