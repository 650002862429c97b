package runner

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/rlimit"
)

// DefaultKernelBTF is where the running kernel's BTF is read from.
const DefaultKernelBTF = "/sys/kernel/btf/vmlinux"

// LoadOptions configure Load.
type LoadOptions struct {
	// Values are the user's choices for the package's options, from the package's
	// NewValues. Nil means every option has its default.
	Values *Values
	// KernelBTF is a BTF file for the running kernel. Empty means DefaultKernelBTF.
	KernelBTF string
	// Verbose keeps the full verifier log in ErrVerifier errors.
	Verbose bool
	// Now is the clock of the TIME columns Run prints; nil means time.Now.
	Now func() time.Time
}

// Instance is a loaded package: its collection, the outputs compiled for its values, and
// once attached, its links. Close releases everything it holds.
type Instance struct {
	pkg     *Package
	values  *Values
	now     func() time.Time
	clock   *eventClock // the TIME columns' clock, which the readers set
	outputs []*exporter // compiled once, at Load
	coll    *ebpf.Collection
	spec    *ebpf.CollectionSpec

	mu      sync.Mutex
	links   []link.Link
	closers []func() error
}

var memlockOnce sync.Once

// Load loads the package's object into the kernel, with the option values of
// opts.Values written to its globals, and compiles what Run prints. p is not changed: a
// package may be loaded many times, concurrently. Nothing is left loaded when it fails.
func Load(p *Package, opts LoadOptions) (*Instance, error) {
	memlockOnce.Do(func() { _ = rlimit.RemoveMemlock() })

	v := opts.Values
	if v == nil {
		v = p.NewValues()
	} else if v.pkg != p {
		return nil, errors.New("loading: the values are for another package")
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	// Reading the kernel's BTF is half of loading (docs/benchmarks.md): it goes on while
	// the outputs are compiled and the spec is prepared.
	type btfResult struct {
		spec *btf.Spec
		err  error
	}
	kernel := make(chan btfResult, 1)
	go func() {
		s, err := kernelBTF(opts.KernelBTF)
		kernel <- btfResult{s, err}
	}()
	clock := &eventClock{src: now}
	outputs, err := p.compileOutputs(v, clock.now)
	if err != nil {
		return nil, err
	}
	spec, err := p.loadSpec(v)
	if err != nil {
		return nil, err
	}
	kb := <-kernel
	if kb.err != nil {
		return nil, kb.err
	}
	kbtf := kb.spec
	repl, err := p.pinnedMaps(spec, v)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, m := range repl {
			m.Close() // the collection holds clones
		}
	}()
	copts := ebpf.CollectionOptions{Programs: ebpf.ProgramOptions{KernelTypes: kbtf}, MapReplacements: repl}
	coll, err := ebpf.NewCollectionWithOptions(spec, copts)
	if err != nil {
		return nil, loadError(spec, err, opts.Verbose)
	}
	return &Instance{pkg: p, values: v, now: now, clock: clock, outputs: outputs, coll: coll, spec: spec}, nil
}

// loadSpec returns the collection spec Load gives the kernel: a copy of the package's,
// with the values baked into the globals and only the programs the package lists.
func (p *Package) loadSpec(v *Values) (*ebpf.CollectionSpec, error) {
	spec := p.spec.Copy()
	if err := p.applyValues(spec, v); err != nil {
		return nil, err
	}
	if err := bakeVariables(spec); err != nil {
		return nil, err
	}
	// Only load the programs the package lists; others in the object stay out of the kernel.
	if len(p.Meta.Progs) > 0 {
		keep := map[string]bool{}
		for _, pm := range p.Meta.Progs {
			keep[pm.Name] = true
		}
		for name := range spec.Programs {
			if !keep[name] {
				delete(spec.Programs, name)
			}
		}
	}
	return spec, nil
}

// pinnedMaps opens the pinned maps named by options with a pinned_map (cmdarg) and checks
// them against the maps they replace. The replaced MapSpecs take the pinned maps' size and
// flags, so any map of the right type, key and value size will do.
func (p *Package) pinnedMaps(spec *ebpf.CollectionSpec, v *Values) (map[string]*ebpf.Map, error) {
	repl := map[string]*ebpf.Map{}
	fail := func(err error) (map[string]*ebpf.Map, error) {
		for _, m := range repl {
			m.Close()
		}
		return nil, err
	}
	for _, o := range p.opts {
		if o.PinnedMap == "" {
			continue
		}
		path, _ := v.value(o)
		if path == "" {
			continue
		}
		ms := spec.Maps[o.PinnedMap]
		if _, dup := repl[o.PinnedMap]; dup || ms == nil {
			return fail(fmt.Errorf("%w: --%s %s: map %s is replaced twice or missing", ErrBadOption, o.FlagName(), path, o.PinnedMap))
		}
		m, err := ebpf.LoadPinnedMap(path, nil)
		if err != nil {
			why := err.Error()
			if errors.Is(err, os.ErrNotExist) {
				why = "no such file"
			}
			return fail(fmt.Errorf("%w: --%s %s: opening the pinned map: %s", ErrBadOption, o.FlagName(), path, why))
		}
		if m.Type() != ms.Type || m.KeySize() != ms.KeySize || m.ValueSize() != ms.ValueSize {
			m.Close()
			return fail(fmt.Errorf("%w: --%s %s: the pinned map is a %s with %d-byte keys and %d-byte values, want a %s with %d-byte keys and %d-byte values",
				ErrBadOption, o.FlagName(), path, m.Type(), m.KeySize(), m.ValueSize(), ms.Type, ms.KeySize, ms.ValueSize))
		}
		ms.MaxEntries, ms.Flags = m.MaxEntries(), m.Flags()
		repl[o.PinnedMap] = m
	}
	if len(repl) == 0 {
		return nil, nil
	}
	return repl, nil
}

// bakeVariables writes the globals' values into their data section maps and drops the
// VariableSpecs. Without VariableSpecs cilium/ebpf does not mmap the data sections, whose
// mappings would otherwise keep the maps alive after Close until the next GC.
func bakeVariables(spec *ebpf.CollectionSpec) error {
	for name, vs := range spec.Variables {
		ms := spec.Maps[vs.SectionName]
		if ms == nil || len(ms.Contents) > 1 {
			continue
		}
		if len(ms.Contents) == 0 {
			if bytes.Count(vs.Value, []byte{0}) == len(vs.Value) {
				continue // zero, as the section starts
			}
			ms.Contents = []ebpf.MapKV{{Key: uint32(0), Value: make([]byte, ms.ValueSize)}}
		}
		data, ok := ms.Contents[0].Value.([]byte)
		if !ok {
			return fmt.Errorf("data section %s: unexpected contents %T", vs.SectionName, ms.Contents[0].Value)
		}
		end := int(vs.Offset) + len(vs.Value)
		if end > len(data) {
			return fmt.Errorf("variable %s exceeds its section %s", name, vs.SectionName)
		}
		data = bytes.Clone(data)
		copy(data[vs.Offset:end], vs.Value)
		ms.Contents[0].Value = data
	}
	spec.Variables = nil
	return nil
}

func kernelBTF(path string) (*btf.Spec, error) {
	if path == "" {
		if _, err := os.Stat(DefaultKernelBTF); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNoKernelBTF, err)
		}
		spec, err := btf.LoadKernelSpec()
		if err != nil {
			return nil, fmt.Errorf("%w: reading %s: %w", ErrNoKernelBTF, DefaultKernelBTF, err)
		}
		return spec, nil
	}
	spec, err := btf.LoadSpec(path)
	if err != nil {
		// The kernel may well have BTF: it is the file the user gave that is wrong.
		return nil, fmt.Errorf("kernel BTF file %s: %w", path, err)
	}
	return spec, nil
}

// loadError turns a collection load error into one that names the program and section,
// and wraps the right sentinel as well as the cause.
func loadError(spec *ebpf.CollectionSpec, err error, verbose bool) error {
	prog := failingProgram(spec, err)
	where := "the package"
	if prog != nil {
		where = fmt.Sprintf("program %s (section %s)", prog.Name, prog.SectionName)
	}
	refusedTracing := errors.Is(err, os.ErrPermission) && prog != nil && isTracingSection(prog.SectionName)
	var ve *ebpf.VerifierError
	switch {
	case errors.As(err, &ve) && refusedTracing:
		return fmt.Errorf("loading %s: %w: the kernel refuses %s programs (EPERM): %w", where, ErrHookMissing, sectionFamily(prog.SectionName), ve)
	case errors.As(err, &ve) && errors.Is(err, os.ErrPermission) && os.Geteuid() != 0:
		return fmt.Errorf("loading %s: %w: %w", where, ErrPermission, ve)
	case errors.As(err, &ve) && verbose:
		return fmt.Errorf("loading %s: %w: %w", where, ErrVerifier, fullLog{ve})
	case errors.As(err, &ve):
		return fmt.Errorf("loading %s: %w: %w", where, ErrVerifier, ve)
	case refusedTracing && os.Geteuid() == 0:
		return fmt.Errorf("loading %s: %w: the kernel refuses %s programs (EPERM): %w", where, ErrHookMissing, sectionFamily(prog.SectionName), err)
	case errors.Is(err, os.ErrPermission):
		return fmt.Errorf("loading %s: %w: %w", where, ErrPermission, err)
	case errors.Is(err, btf.ErrNotFound) && prog != nil:
		return fmt.Errorf("loading %s: %w: %w", where, ErrHookMissing, err)
	}
	return fmt.Errorf("loading %s: %w", where, err)
}

// fullLog formats a verifier error with its whole log (%+v); it unwraps to the error.
type fullLog struct{ ve *ebpf.VerifierError }

func (f fullLog) Error() string { return fmt.Sprintf("%+v", f.ve) }
func (f fullLog) Unwrap() error { return f.ve }

// failingProgram guesses which program an error from NewCollection is about: cilium/ebpf
// prefixes errors with "program NAME:".
func failingProgram(spec *ebpf.CollectionSpec, err error) *ebpf.ProgramSpec {
	msg := err.Error()
	for name, ps := range spec.Programs {
		if strings.Contains(msg, "program "+name+":") {
			return ps
		}
	}
	return nil
}

func isTracingSection(sec string) bool {
	switch sectionFamily(sec) {
	case "fentry", "fexit", "fmod_ret", "lsm", "freplace":
		return true
	}
	return false
}

// sectionFamily is the part of an ELF section name before the first '/' (or '.s/').
func sectionFamily(sec string) string {
	fam, _, _ := strings.Cut(sec, "/")
	return strings.TrimSuffix(fam, ".s")
}

// Package returns the package the instance was loaded from.
func (i *Instance) Package() *Package { return i.pkg }

// Map returns a loaded map by its name in the object (e.g. "events", ".rodata").
func (i *Instance) Map(name string) *ebpf.Map { return i.coll.Maps[name] }

// Program returns a loaded program by name.
func (i *Instance) Program(name string) *ebpf.Program { return i.coll.Programs[name] }

// ObjectIDs returns the kernel ids of the instance's programs and maps (for leak checks).
func (i *Instance) ObjectIDs() (progs []ebpf.ProgramID, maps []ebpf.MapID) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.coll == nil {
		return nil, nil
	}
	for _, p := range i.coll.Programs {
		if info, err := p.Info(); err == nil {
			if id, ok := info.ID(); ok {
				progs = append(progs, id)
			}
		}
	}
	for _, m := range i.coll.Maps {
		if info, err := m.Info(); err == nil {
			if id, ok := info.ID(); ok {
				maps = append(maps, id)
			}
		}
	}
	return progs, maps
}

// Close detaches every link and unloads every program and map. It is safe to call twice.
func (i *Instance) Close() error {
	i.mu.Lock()
	defer i.mu.Unlock()
	var errs []error
	for j := len(i.closers) - 1; j >= 0; j-- {
		errs = append(errs, i.closers[j]())
	}
	i.closers = nil
	for j := len(i.links) - 1; j >= 0; j-- {
		errs = append(errs, i.links[j].Close())
	}
	i.links = nil
	if i.coll != nil {
		i.coll.Close()
		i.coll = nil
	}
	return errors.Join(errs...)
}
