package symbolize

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configure a Symbolizer. The zero value reads this machine's /proc and debug files.
type Options struct {
	// ProcRoot is where /proc is; "" means "/proc". Tests point it at a directory holding
	// PID/maps fixtures.
	ProcRoot string
	// Kallsyms is the path of the kernel symbol table; "" means ProcRoot/kallsyms.
	Kallsyms string
	// Kernel, when set, is used instead of reading Kallsyms (see ParseKallsyms).
	Kernel *KernelSymbols
	// DebugRoot holds separate debug files as .build-id/xx/yyyy.debug; "" means
	// "/usr/lib/debug".
	DebugRoot string
	// MaxFiles bounds the parsed ELF files kept (LRU); 0 means 64.
	MaxFiles int
	// MaxFileBytes bounds the approximate memory of the parsed ELF files kept (symbols and
	// DWARF sections); 0 means 256 MiB. The most recent file stays even when it alone is larger.
	MaxFileBytes int64
	// MaxProcesses bounds the process maps kept (LRU); 0 means 4096.
	MaxProcesses int
	// MapsMaxAge: an address outside every known mapping of a live process rereads its maps
	// (it may have loaded a library) when the snapshot is older than this; 0 means one second,
	// negative never.
	MapsMaxAge time.Duration
	// NoDemangle keeps C++ and Rust names mangled.
	NoDemangle bool
	// Warn, when set, is called once per condition that leaves addresses unnamed: kernel
	// symbols unavailable (ErrKernelRestricted), a process gone without a snapshot
	// (ErrNoProcess), a mapped file that is not readable ELF (ErrBadObject). Per-address misses
	// (ErrNoSymbol, ErrNoMapping, ErrNoFile) are not reported. Warn runs with the Symbolizer
	// locked: it must not call back into it.
	Warn func(error)
}

// Symbolizer resolves kernel and user addresses to Frames, caching what it reads.
type Symbolizer struct {
	opts Options

	kernelOnce sync.Once
	kernel     *KernelSymbols
	kernelErr  error

	mu     sync.Mutex
	procs  *lru[uint32, *process]
	files  *lru[fileKey, *object]
	warned map[string]struct{}
}

type process struct {
	maps  []*mapping
	taken time.Time
	err   error // maps could not be read: the process is gone
}

// New returns a Symbolizer; nothing is read until the first lookup.
func New(opts Options) *Symbolizer {
	if opts.ProcRoot == "" {
		opts.ProcRoot = "/proc"
	}
	if opts.Kallsyms == "" {
		opts.Kallsyms = filepath.Join(opts.ProcRoot, "kallsyms")
	}
	if opts.DebugRoot == "" {
		opts.DebugRoot = "/usr/lib/debug"
	}
	if opts.MaxFiles <= 0 {
		opts.MaxFiles = 64
	}
	if opts.MaxFileBytes <= 0 {
		opts.MaxFileBytes = 256 << 20
	}
	if opts.MaxProcesses <= 0 {
		opts.MaxProcesses = 4096
	}
	if opts.MapsMaxAge == 0 {
		opts.MapsMaxAge = time.Second
	}
	return &Symbolizer{
		opts:   opts,
		kernel: opts.Kernel,
		procs:  newLRU[uint32, *process](opts.MaxProcesses, 0, nil),
		files:  newLRU[fileKey](opts.MaxFiles, opts.MaxFileBytes, func(o *object) int64 { return o.bytes }),
		warned: make(map[string]struct{}),
	}
}

// Kernel resolves a kernel address. Without kernel symbols it returns Frame{Addr: addr} and
// the reason (ErrKernelRestricted, or the read error), the same on every call.
func (s *Symbolizer) Kernel(addr uint64) (Frame, error) {
	s.kernelOnce.Do(s.loadKernel)
	if s.kernelErr != nil {
		return Frame{Addr: addr}, s.kernelErr
	}
	return s.kernel.Lookup(addr)
}

func (s *Symbolizer) loadKernel() {
	if s.kernel != nil {
		return
	}
	f, err := os.Open(s.opts.Kallsyms)
	if err == nil {
		s.kernel, err = ParseKallsyms(f)
		f.Close()
	}
	if err != nil {
		if !errors.Is(err, ErrKernelRestricted) {
			err = fmt.Errorf("kernel symbols: %w", err)
		}
		s.kernelErr = err
		s.mu.Lock()
		s.warn("kernel", err)
		s.mu.Unlock()
	}
}

// Observe takes a snapshot of pid's maps unless one is cached, so that its addresses still
// resolve after it exits. Call it when the first sample of a process arrives.
func (s *Symbolizer) Observe(pid uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.process(pid).err
}

// Forget drops what is cached for pid (its maps; the ELF files stay shared), for a process
// known to have exited or a pid about to be reused.
func (s *Symbolizer) Forget(pid uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.procs.remove(pid)
}

// User resolves addr in process pid. When it cannot name the address it returns the Frame it
// has (Addr, and Object when the mapping is known) and an error: ErrNoProcess or ErrBadObject
// (wrapped, naming the pid or file; the same value per pid or file), or ErrNoMapping, ErrNoFile,
// ErrNoSymbol.
func (s *Symbolizer) User(pid uint32, addr uint64) (Frame, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fr := Frame{Addr: addr}
	p := s.process(pid)
	if p.err != nil {
		return fr, p.err
	}
	m := findMapping(p.maps, addr)
	if m == nil && s.opts.MapsMaxAge > 0 && time.Since(p.taken) > s.opts.MapsMaxAge {
		if q := s.readProcess(pid); q.err == nil {
			s.procs.add(pid, q)
			p = q
			m = findMapping(p.maps, addr)
		}
	}
	if m == nil {
		return fr, ErrNoMapping
	}
	fr.Object = m.path
	if m.path == "" || m.path[0] == '[' || m.inode == 0 {
		return fr, ErrNoFile
	}
	o, err := s.object(pid, m)
	if err != nil {
		return fr, err
	}
	v, ok := o.vaddr(addr - m.start + m.off)
	if !ok {
		return fr, ErrNoSymbol
	}
	name, off, ok := o.resolve(v, !s.opts.NoDemangle)
	if !ok {
		return fr, ErrNoSymbol
	}
	fr.Name, fr.Offset = name, off
	li := o.lineOf(v)
	fr.File, fr.Line = li.file, li.line
	return fr, nil
}

// process returns the cached snapshot of pid or takes one. A failure is cached too.
func (s *Symbolizer) process(pid uint32) *process {
	if p, ok := s.procs.get(pid); ok {
		return p
	}
	p := s.readProcess(pid)
	if p.err != nil {
		s.warn("pid "+strconv.FormatUint(uint64(pid), 10), p.err)
	}
	s.procs.add(pid, p)
	return p
}

func (s *Symbolizer) readProcess(pid uint32) *process {
	path := filepath.Join(s.opts.ProcRoot, strconv.FormatUint(uint64(pid), 10), "maps")
	p := &process{taken: time.Now()}
	f, err := os.Open(path)
	if err != nil {
		p.err = fmt.Errorf("pid %d: %w: %w", pid, ErrNoProcess, err)
		return p
	}
	defer f.Close()
	if p.maps, err = parseMaps(f); err != nil {
		p.err = fmt.Errorf("pid %d: %w: %s: %w", pid, ErrNoProcess, path, err)
	}
	return p
}

// object returns the parsed file behind m, opening it on first use.
func (s *Symbolizer) object(pid uint32, m *mapping) (*object, error) {
	if !m.resolved {
		m.resolved = true
		m.open, m.key, m.err = s.openMapped(pid, m)
	}
	if m.err != nil {
		return nil, m.err
	}
	o, ok := s.files.get(m.key)
	if !ok {
		o = loadObject(m.open, s.opts.DebugRoot)
		if o.err != nil {
			s.warn("file "+m.path, o.err)
		}
		s.files.add(m.key, o)
	}
	return o, o.err
}

// openMapped finds a path by which the file of m can be opened, preferring the process's own
// view of the file system (containers), and identifies it.
func (s *Symbolizer) openMapped(pid uint32, m *mapping) (string, fileKey, error) {
	dir := filepath.Join(s.opts.ProcRoot, strconv.FormatUint(uint64(pid), 10))
	path, deleted := strings.CutSuffix(m.path, " (deleted)")
	var cands []string
	if deleted {
		cands = append(cands, filepath.Join(dir, "map_files", fmt.Sprintf("%x-%x", m.start, m.end)))
	}
	cands = append(cands, filepath.Join(dir, "root", path), path)
	var firstErr error
	for _, c := range cands {
		f, err := os.Open(c)
		if err != nil {
			if firstErr == nil || os.IsNotExist(firstErr) {
				firstErr = err
			}
			continue
		}
		key, err := statKey(f)
		f.Close()
		if err == nil {
			return c, key, nil
		}
		firstErr = err
	}
	err := fmt.Errorf("%s: %w: %w", m.path, ErrBadObject, firstErr)
	s.warn("file "+m.path, err)
	return "", fileKey{}, err
}

// warn reports err once per key.
func (s *Symbolizer) warn(key string, err error) {
	if s.opts.Warn == nil {
		return
	}
	if _, ok := s.warned[key]; ok {
		return
	}
	if len(s.warned) >= 4096 {
		clear(s.warned)
	}
	s.warned[key] = struct{}{}
	s.opts.Warn(err)
}
