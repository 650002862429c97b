package runner

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/cilium/ebpf"

	"ecli/runner/decode"
	"ecli/runner/symbolize"
)

// symbols names stack addresses for decode through a runner/symbolize.Symbolizer: one per
// Run, so its caches (kernel symbols, process maps, parsed ELF files) serve every output.
type symbols struct{ s *symbolize.Symbolizer }

// newSymbols returns the symbolizer of a run; conditions that leave addresses unnamed
// (kernel symbols hidden, a process gone, an unreadable file) are reported once each.
func newSymbols(diag func(string)) *symbols {
	return &symbols{symbolize.New(symbolize.Options{Warn: func(err error) {
		diag("symbols: " + err.Error())
	}})}
}

// Symbolize implements decode.Symbolizer. User frames carry the base name of their mapped
// file as the module, as bcc prints it.
func (y *symbols) Symbolize(addr uint64, pid uint32, kernel bool) decode.Frame {
	var f symbolize.Frame
	if kernel {
		f, _ = y.s.Kernel(addr) // unnamed frames print as unknown; the cause is warned once
	} else {
		f, _ = y.s.User(pid, addr)
		if f.Object != "" {
			f.Module = filepath.Base(strings.TrimSuffix(f.Object, " (deleted)"))
		}
	}
	return decode.Frame{Name: f.Name, Offset: f.Offset, Module: f.Module, File: f.File, Line: f.Line}
}

// observe takes a snapshot of pid's memory maps so that its addresses resolve after it exits.
func (y *symbols) observe(pid uint32) { _ = y.s.Observe(pid) }

// stackMaps reads stack ids from the loaded stack-trace maps (decode.StackLookup).
type stackMaps struct{ coll *ebpf.Collection }

func (m stackMaps) Stack(name string, id uint32) ([]uint64, bool) {
	mp := m.coll.Maps[name]
	if mp == nil || mp.ValueSize()%8 != 0 {
		return nil, false
	}
	addrs := make([]uint64, mp.ValueSize()/8)
	if err := mp.Lookup(id, &addrs); err != nil {
		return nil, false
	}
	for i, a := range addrs {
		if a == 0 {
			return addrs[:i], true
		}
	}
	return addrs, true
}

// compileStacks checks the stack-count rendering of a sampled map whose key has stack= fields:
// the hints, and that the maps they name are stack-trace maps of the object.
func (p *Package) compileStacks(e *exporter, path string, flag func(string) bool) error {
	sc, err := decode.NewStackCounts(e.keyPlan, e.plan, decode.StackCountsOptions{Flag: flag})
	if err != nil {
		return badf(jsonPath(path, "sample"), "map %s: %w", e.name, err)
	}
	for _, m := range sc.Maps() {
		ms, ok := p.spec.Maps[m]
		if !ok || ms == nil {
			return badf(jsonPath(path, "sample"), "map %s: stack map %s is not in the BPF object", e.name, m)
		}
		if ms.Type != ebpf.StackTrace {
			return badf(jsonPath(path, "sample"), "map %s: stack map %s is a %s map, want a stack trace map", e.name, m, ms.Type)
		}
	}
	e.stacks = true
	return nil
}

// stackSizeHint names what to enlarge when stacks were lost for room: the option that sets
// the size of the stack map (cmdarg max_entries), else the map.
func (i *Instance) stackSizeHint(maps []string) string {
	for _, o := range i.pkg.opts {
		for _, m := range maps {
			if o.MaxEntries == m {
				return " Consider increasing --" + o.FlagName() + "."
			}
		}
	}
	return fmt.Sprintf(" Consider increasing the size of map %s.", strings.Join(maps, ", "))
}
