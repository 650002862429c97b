package symbolize

import (
	"cmp"
	"debug/dwarf"
	"debug/elf"
	"debug/gosym"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"unsafe"
)

// fileKey identifies a file's contents on this machine.
type fileKey struct {
	dev, ino uint64
	mtime    int64 // nanoseconds
	size     int64
}

func statKey(f *os.File) (fileKey, error) {
	fi, err := f.Stat()
	if err != nil {
		return fileKey{}, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileKey{}, fmt.Errorf("%s: no device and inode", f.Name())
	}
	return fileKey{dev: uint64(st.Dev), ino: st.Ino, mtime: fi.ModTime().UnixNano(), size: fi.Size()}, nil
}

// object is the symbol information of one ELF file (and of its separate debug file).
type object struct {
	path    string // as opened
	debug   string // separate debug file used, if any
	buildID string // hex
	err     error  // why the file cannot be used; the rest is empty then

	loads []load
	syms  []esym
	names string

	dynsymOnly bool         // syms are the exported ones only
	gotab      *gosym.Table // Go binaries without .symtab or without DWARF

	dw   *dwarf.Data
	cus  []cuRange
	line map[uint64]lineInfo // per virtual address, reset when full

	demangled map[uint32]string // per symbol index, reset when full

	bytes int64 // approximate memory held
}

type load struct{ off, filesz, vaddr uint64 }

type esym struct {
	addr, size uint64
	name       uint32 // offset in names
	nlen       uint32
}

type cuRange struct {
	low, high uint64
	cu        *dwarf.Entry
}

type lineInfo struct {
	file string
	line int
}

// Per-object memo sizes: hot addresses of a profile repeat, so these stay small.
const (
	maxLineMemo     = 4096
	maxDemangleMemo = 4096
)

// loadObject parses the ELF file at path. A separate debug file with the same build id under
// debugRoot supplies symbols and DWARF when it exists. Errors are returned in object.err,
// wrapping ErrBadObject, so that a failure is cached like a success.
func loadObject(path, debugRoot string) *object {
	o := &object{path: path}
	f, err := elf.Open(path)
	if err != nil {
		o.err = fmt.Errorf("%s: %w: %w", path, ErrBadObject, err)
		return o
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			o.loads = append(o.loads, load{off: p.Off, filesz: p.Filesz, vaddr: p.Vaddr})
		}
	}
	o.buildID = buildID(f)

	var dbg *elf.File
	if o.buildID != "" && debugRoot != "" && len(o.buildID) > 2 {
		p := filepath.Join(debugRoot, ".build-id", o.buildID[:2], o.buildID[2:]+".debug")
		if d, err := elf.Open(p); err == nil {
			defer d.Close()
			dbg, o.debug = d, p
		}
	}

	// .symtab of the debug file, else of the file, else .dynsym.
	for n, src := range []func() (*elf.File, []elf.Symbol){
		func() (*elf.File, []elf.Symbol) {
			if dbg == nil {
				return nil, nil
			}
			s, _ := dbg.Symbols()
			return dbg, s
		},
		func() (*elf.File, []elf.Symbol) { s, _ := f.Symbols(); return f, s },
		func() (*elf.File, []elf.Symbol) { s, _ := f.DynamicSymbols(); return f, s },
	} {
		if file, syms := src(); o.setSymbols(file, syms) > 0 {
			o.dynsymOnly = n == 2
			break
		}
	}

	for _, src := range []*elf.File{dbg, f} {
		if src == nil || src.Section(".debug_info") == nil && src.Section(".zdebug_info") == nil {
			continue
		}
		if d, err := src.DWARF(); err == nil {
			o.dw = d
			o.cus = compileUnits(d)
			for _, s := range src.Sections {
				if strings.HasPrefix(s.Name, ".debug_") || strings.HasPrefix(s.Name, ".zdebug_") {
					o.bytes += int64(s.Size)
				}
			}
			break
		}
	}
	if o.dw == nil || len(o.syms) == 0 || o.dynsymOnly {
		o.goTable(f)
	}
	o.bytes += int64(len(o.syms))*int64(24) + int64(len(o.names)) + int64(len(o.cus))*24 + 512
	return o
}

// setSymbols keeps the function symbols of syms (read from file) and returns their number.
func (o *object) setSymbols(file *elf.File, syms []elf.Symbol) int {
	var names strings.Builder
	type cand struct {
		esym
		global bool
	}
	cands := make([]cand, 0, len(syms))
	for _, s := range syms {
		t := elf.ST_TYPE(s.Info)
		if t != elf.STT_FUNC && t != elf.STT_GNU_IFUNC || s.Section == elf.SHN_UNDEF || s.Value == 0 || s.Name == "" {
			continue
		}
		if s.Size == 0 && int(s.Section) < len(file.Sections) {
			// An unsized symbol (assembly, _init) ends at the latest with its section.
			if sec := file.Sections[s.Section]; sec.Addr <= s.Value && s.Value < sec.Addr+sec.Size {
				s.Size = sec.Addr + sec.Size - s.Value
			}
		}
		cands = append(cands, cand{
			esym:   esym{addr: s.Value, size: s.Size, name: uint32(names.Len()), nlen: uint32(len(s.Name))},
			global: elf.ST_BIND(s.Info) == elf.STB_GLOBAL,
		})
		names.WriteString(s.Name)
	}
	// By address; among aliases the global one, then the sized one, first.
	slices.SortStableFunc(cands, func(a, b cand) int {
		if c := cmp.Compare(a.addr, b.addr); c != 0 {
			return c
		}
		if a.global != b.global {
			if a.global {
				return -1
			}
			return 1
		}
		return cmp.Compare(b.size, a.size)
	})
	o.syms = make([]esym, len(cands))
	for i, c := range cands {
		o.syms[i] = c.esym
	}
	o.names = names.String()
	return len(o.syms)
}

// goTable reads the Go runtime's function table (.gopclntab), which even a Go binary built
// with -ldflags=-s -w keeps: names when the ELF symbols are gone, file:line without DWARF.
func (o *object) goTable(f *elf.File) {
	pcln, text := f.Section(".gopclntab"), f.Section(".text")
	if pcln == nil || text == nil {
		return
	}
	data, err := pcln.Data()
	if err != nil {
		return
	}
	t, err := gosym.NewTable(nil, gosym.NewLineTable(data, text.Addr))
	if err != nil {
		return
	}
	o.gotab = t
	o.bytes += int64(len(data)) + int64(len(t.Funcs))*int64(unsafe.Sizeof(gosym.Func{})+unsafe.Sizeof(gosym.Sym{}))
}

// vaddr translates a file offset to the ELF virtual address through the PT_LOAD headers.
func (o *object) vaddr(off uint64) (uint64, bool) {
	for _, l := range o.loads {
		if l.off <= off && off < l.off+l.filesz {
			return off - l.off + l.vaddr, true
		}
	}
	return 0, false
}

// resolve names the function holding virtual address v and v's offset in it.
func (o *object) resolve(v uint64, demangle bool) (string, uint64, bool) {
	// A Go binary's own table names every function; .dynsym only the exported ones.
	if o.gotab != nil && (len(o.syms) == 0 || o.dynsymOnly) {
		if fn := o.gotab.PCToFunc(v); fn != nil {
			return fn.Name, v - fn.Entry, true
		}
	}
	i, ok := o.symbol(v)
	if !ok {
		return "", 0, false
	}
	return o.name(i, demangle), v - o.syms[i].addr, true
}

// symbol returns the index of the symbol covering v.
func (o *object) symbol(v uint64) (int, bool) {
	i, found := slices.BinarySearchFunc(o.syms, v, func(s esym, v uint64) int { return cmp.Compare(s.addr, v) })
	if !found {
		if i == 0 {
			return 0, false
		}
		i--
	}
	a := o.syms[i].addr
	for i > 0 && o.syms[i-1].addr == a {
		i--
	}
	s := o.syms[i]
	if s.size > 0 && v >= s.addr+s.size {
		return 0, false
	}
	return i, true
}

func (o *object) rawName(i int) string {
	s := o.syms[i]
	return o.names[s.name : s.name+s.nlen]
}

// name returns the demangled name of symbol i.
func (o *object) name(i int, demangle bool) string {
	raw := o.rawName(i)
	if !demangle || !isMangled(raw) {
		return raw
	}
	if n, ok := o.demangled[uint32(i)]; ok {
		return n
	}
	if o.demangled == nil || len(o.demangled) >= maxDemangleMemo {
		o.demangled = make(map[uint32]string)
	}
	n := Demangle(raw)
	o.demangled[uint32(i)] = n
	return n
}

// lineOf returns file:line of v from DWARF.
func (o *object) lineOf(v uint64) lineInfo {
	if o.dw == nil && o.gotab == nil {
		return lineInfo{}
	}
	if li, ok := o.line[v]; ok {
		return li
	}
	li := o.seekLine(v)
	if o.line == nil || len(o.line) >= maxLineMemo {
		o.line = make(map[uint64]lineInfo)
	}
	o.line[v] = li
	return li
}

func (o *object) seekLine(v uint64) lineInfo {
	if o.dw == nil {
		file, line, fn := o.gotab.PCToLine(v)
		if fn == nil || line == 0 {
			return lineInfo{}
		}
		return lineInfo{file: file, line: line}
	}
	i, _ := slices.BinarySearchFunc(o.cus, v, func(c cuRange, v uint64) int {
		if c.low <= v {
			return -1
		}
		return 1
	})
	if i == 0 || v >= o.cus[i-1].high {
		return lineInfo{}
	}
	lr, err := o.dw.LineReader(o.cus[i-1].cu)
	if err != nil || lr == nil {
		return lineInfo{}
	}
	var e dwarf.LineEntry
	if err := lr.SeekPC(v, &e); err != nil || e.File == nil || e.Line == 0 {
		return lineInfo{}
	}
	return lineInfo{file: e.File.Name, line: e.Line}
}

// compileUnits lists the address ranges of every compile unit, sorted by start.
func compileUnits(d *dwarf.Data) []cuRange {
	var out []cuRange
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil || e == nil {
			break
		}
		if e.Tag == dwarf.TagCompileUnit {
			rs, err := d.Ranges(e)
			if err == nil {
				for _, rg := range rs {
					if rg[0] < rg[1] {
						out = append(out, cuRange{low: rg[0], high: rg[1], cu: e})
					}
				}
			}
		}
		r.SkipChildren()
	}
	slices.SortFunc(out, func(a, b cuRange) int { return cmp.Compare(a.low, b.low) })
	return out
}

// buildID returns the GNU build id of f in hex, or "".
func buildID(f *elf.File) string {
	read := func(data []byte) string {
		order := f.ByteOrder
		for len(data) >= 12 {
			namesz, descsz, typ := order.Uint32(data), order.Uint32(data[4:]), order.Uint32(data[8:])
			data = data[12:]
			nameEnd := align4(namesz)
			descEnd := nameEnd + align4(descsz)
			if uint64(descEnd) > uint64(len(data)) {
				return ""
			}
			if typ == 3 /* NT_GNU_BUILD_ID */ && namesz == 4 && string(data[:3]) == "GNU" {
				return hex.EncodeToString(data[nameEnd : nameEnd+descsz])
			}
			data = data[descEnd:]
		}
		return ""
	}
	if s := f.Section(".note.gnu.build-id"); s != nil {
		if data, err := s.Data(); err == nil {
			if id := read(data); id != "" {
				return id
			}
		}
	}
	for _, p := range f.Progs {
		if p.Type != elf.PT_NOTE || p.Filesz > 1<<20 {
			continue
		}
		data := make([]byte, p.Filesz)
		if _, err := p.ReadAt(data, 0); err != nil {
			continue
		}
		if id := read(data); id != "" {
			return id
		}
	}
	return ""
}

func align4(n uint32) uint32 { return (n + 3) &^ 3 }
