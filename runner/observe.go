package runner

import (
	"bytes"
	"fmt"

	"github.com/cilium/ebpf"
)

// Observer watches a run for metrics (RunOptions.Observer). Run calls its methods from its
// reader goroutines, concurrently; they must be quick and must not call back into Run.
type Observer interface {
	// Event is called once per event read from a stream output: ok when it was decoded
	// and written, false when it was dropped because it could not be decoded.
	Event(output string, ok bool)
	// Lost is called when the kernel (perf buffer) or the program (an ecli:lost counter)
	// reports n more lost events.
	Lost(n uint64)
	// Clearing is called with every entry of a sampled map just before Run deletes them
	// (clear_map), while the map is locked against ReadSampled: an observer that adds the
	// entries to its own totals shows counters that never go backwards.
	Clearing(output string, entries []Entry)
}

// Entry is one key/value pair of a sampled map, in the map's own byte layout.
type Entry struct{ Key, Value []byte }

// Outputs compiles the instance's outputs again for its values, like Package.Outputs: the
// plans are the caller's own, for use concurrently with Run.
func (i *Instance) Outputs() ([]Output, error) { return i.pkg.Outputs(i.values) }

// ReadSampled calls fn once with every entry of the sampled output map, read while the
// map is locked against Run's clearing (clear_map), so that what fn sees and what an
// Observer was given by Clearing never overlap nor leave a gap. fn must not keep entries.
func (i *Instance) ReadSampled(output string, fn func(entries []Entry)) error {
	e := i.output(output)
	if e == nil || e.meta.Sample == nil {
		return fmt.Errorf("reading %s: not a sampled map of the package", output)
	}
	m := i.coll.Maps[e.name]
	if m == nil {
		return fmt.Errorf("reading %s: map not loaded", output)
	}
	e.clearMu.Lock()
	defer e.clearMu.Unlock()
	entries, err := readEntries(m)
	fn(entries)
	if err != nil {
		return fmt.Errorf("reading %s: %w", output, err)
	}
	return nil
}

// output returns the compiled output of a map, or nil.
func (i *Instance) output(name string) *exporter {
	for _, e := range i.outputs {
		if e.name == name {
			return e
		}
	}
	return nil
}

// readEntries copies every entry of m, in the map's order.
func readEntries(m *ebpf.Map) ([]Entry, error) {
	key, val := make([]byte, m.KeySize()), make([]byte, m.ValueSize())
	var out []Entry
	it := m.Iterate()
	for it.Next(&key, &val) {
		out = append(out, Entry{bytes.Clone(key), bytes.Clone(val)})
	}
	return out, it.Err()
}
