package runner

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/cilium/ebpf"

	"ecli/runner/decode"
)

// sampler prints a sampled map every interval (eunomia's map sampling).
type sampler struct {
	e      *exporter
	m      *ebpf.Map
	w      *lockedWriter
	format Format
	now    func() time.Time
	diag   func(string)
	// interval, if set, replaces the package's interval (and turns an at-exit map into
	// an interval one): an option with role interval.
	interval time.Duration
	// rounds, if set, is how many interval rounds are printed before stop ends the run
	// (role count); the run then prints no extra round at exit.
	rounds int
	stop   func()
	// observer, if set, is given the entries clear deletes.
	observer Observer

	hist    *decode.Histogram // log2_hist / linear_hist text, built on first use
	histErr error
}

func (s *sampler) loop(ctx context.Context) error {
	smp := s.e.meta.Sample
	if s.format == Text && smp.Type == "default_kv" {
		s.w.write([]byte(s.kv().Header() + "\n"))
	}
	var tick <-chan time.Time
	if interval := s.tickInterval(); interval > 0 {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	for n := 0; ; {
		select {
		case <-ctx.Done():
			// A last round at exit, as bcc tools print their histograms on Ctrl-C.
			s.round()
			if smp.ClearMap {
				s.clear()
			}
			return nil
		case <-tick:
			s.round()
			if smp.ClearMap {
				s.clear()
			}
			if n++; s.rounds > 0 && n >= s.rounds {
				s.stop()
				return nil
			}
		}
	}
}

// tickInterval is the time between rounds, 0 for a map printed only at exit.
func (s *sampler) tickInterval() time.Duration {
	if s.interval > 0 {
		return s.interval
	}
	if s.e.meta.Sample.AtExit {
		return 0
	}
	return s.e.meta.Sample.Interval
}

func (s *sampler) round() {
	var out bytes.Buffer
	entries, err := readEntries(s.m)
	if err != nil {
		s.diag(fmt.Sprintf("iterating map %s: %v", s.e.name, err))
	}
	sortEntries(entries, s.e.sort)
	if s.e.table != nil && s.format == Text {
		// bcc prints its tables after an empty line (the ^C line).
		out.WriteString("\n" + s.e.table.Header() + "\n")
	}
	for _, en := range entries {
		if err := s.entry(&out, en.Key, en.Value); err != nil {
			s.diag(fmt.Sprintf("sampling map %s: %v", s.e.name, err))
		}
	}
	if out.Len() > 0 {
		s.w.write(out.Bytes())
	}
}

// sortEntries orders entries by the sort fields (read from key||value), then by key bytes
// so that the order is deterministic. Without sort fields the map's order is kept.
func sortEntries(entries []Entry, keys []sortField) {
	if len(keys) == 0 {
		return
	}
	field := func(e Entry, f sortField) uint64 {
		sample, at := e.Key, decode.Int{Offset: f.off, Size: f.size, Signed: f.signed}
		if int(f.off) >= len(e.Key) {
			sample, at.Offset = e.Value, f.off-uint32(len(e.Key))
		}
		v, _ := at.Read(sample) // a field past the entry sorts as 0
		return v
	}
	slices.SortStableFunc(entries, func(a, b Entry) int {
		for _, f := range keys {
			va, vb := field(a, f), field(b, f)
			c := 0
			if f.signed {
				c = cmp.Compare(int64(va), int64(vb))
			} else {
				c = cmp.Compare(va, vb)
			}
			if f.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return bytes.Compare(a.Key, b.Key)
	})
}

// clear deletes every entry of the map. The map is locked against ReadSampled while the
// observer (if any) is given the entries and they are deleted.
func (s *sampler) clear() {
	s.e.clearMu.Lock()
	defer s.e.clearMu.Unlock()
	entries, err := readEntries(s.m)
	if err != nil {
		s.diag(fmt.Sprintf("iterating map %s: %v", s.e.name, err))
	}
	if s.observer != nil && len(entries) > 0 {
		s.observer.Clearing(s.e.name, entries)
	}
	for _, en := range entries {
		_ = s.m.Delete(en.Key)
	}
}

// kv renders the map's entries in eunomia's default_kv layout (and its JSON lines).
func (s *sampler) kv() decode.KV { return decode.KV{Key: s.e.keyPlan, Value: s.e.plan} }

// entry renders one map entry into out; nothing is written when it fails.
func (s *sampler) entry(out *bytes.Buffer, key, val []byte) error {
	var b []byte
	var err error
	switch {
	case s.format == JSON:
		b, err = s.kv().AppendJSON(nil, key, val)
	case s.e.meta.Sample.Type == "log2_hist" || s.e.meta.Sample.Type == "linear_hist":
		var h *decode.Histogram
		if h, err = s.histogram(); err == nil {
			b, err = h.AppendText(nil, key, val)
		}
	case s.e.meta.Sample.Type == "table":
		b, err = s.e.table.AppendEntryText(nil, key, val)
	default:
		b, err = s.kv().AppendText(nil, s.now(), key, val)
	}
	if err != nil {
		return err
	}
	out.Write(append(b, '\n'))
	return nil
}

// histogram returns the map's histogram rendering, building it on first use.
func (s *sampler) histogram() (*decode.Histogram, error) {
	if s.hist == nil && s.histErr == nil {
		smp := s.e.meta.Sample
		opts := decode.HistOptions{Kind: decode.Log2, Unit: smp.Unit}
		if smp.Type == "linear_hist" {
			opts.Kind = decode.Linear
		}
		s.hist, s.histErr = decode.NewHistogram(s.e.keyPlan, s.e.plan, opts)
	}
	return s.hist, s.histErr
}

// appendStackTrace renders a stack-trace event like eunomia's stack_trace interpreter,
// without symbols.
func appendStackTrace(b []byte, e *exporter, sample []byte) ([]byte, error) {
	st, err := decode.NewStackTrace(e.plan, decode.StackOptions{Fields: e.meta.StackTrace.FieldMap})
	if err != nil {
		return b, err
	}
	return st.AppendText(b, sample)
}
