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
	// flag reads bool globals (sample.time, sample.unit_if).
	flag func(string) bool
	// interval, if set, replaces the package's interval (and turns an at-exit map into
	// an interval one): an option with role interval.
	interval time.Duration
	// rounds, if set, is how many interval rounds are printed before stop ends the run
	// (role count); the run then prints no extra round at exit.
	rounds int
	// rows, if set, is how many entries a round prints at most, after sorting (role rows).
	rows int
	stop func()

	hist    *decode.Histogram // log2_hist / linear_hist text, built on first use
	histErr error

	// stacks renders a key with stack-id fields (nil otherwise), reading stack ids through
	// lookup; sym takes snapshots of the processes whose user stacks are counted.
	stacks   *decode.StackCounts
	lookup   decode.StackLookup
	sym      *symbols
	seen     map[uint32]bool // processes observed
	sizeHint string          // what to enlarge when stacks were lost for room
}

// observeInterval is how often a map of user stack counts is scanned for new processes, so
// that their memory maps are taken while they run.
const observeInterval = time.Second

func (s *sampler) loop(ctx context.Context) error {
	smp := s.e.meta.Sample
	if s.format == Text && smp.Type == "default_kv" && s.stacks == nil {
		s.w.write([]byte(s.kv().Header() + "\n"))
	}
	var tick, observe <-chan time.Time
	if interval := s.tickInterval(); interval > 0 {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	if s.stacks != nil && s.sym != nil {
		t := time.NewTicker(observeInterval)
		defer t.Stop()
		observe = t.C
	}
	for n := 0; ; {
		select {
		case <-observe:
			s.observeProcesses()
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

// kv is one map entry.
type kv struct{ key, val []byte }

func (s *sampler) round() {
	var out bytes.Buffer
	keySize, valSize := int(s.m.KeySize()), int(s.m.ValueSize())
	it := s.m.Iterate()
	key, val := make([]byte, keySize), make([]byte, valSize)
	var entries []kv
	for it.Next(&key, &val) {
		entries = append(entries, kv{bytes.Clone(key), bytes.Clone(val)})
	}
	if err := it.Err(); err != nil {
		s.diag(fmt.Sprintf("iterating map %s: %v", s.e.name, err))
	}
	sortEntries(entries, s.e.sort)
	if s.rows > 0 && len(entries) > s.rows {
		entries = entries[:s.rows]
	}
	switch {
	case s.stacks != nil && s.format == Text:
		if !s.stacks.Folded() {
			out.WriteString("\n") // bcc's stack tools print an empty line (the ^C line) first
		}
	case s.e.table != nil && s.format == Text:
		// bcc prints its tables after an empty line (the ^C line).
		out.WriteString("\n" + s.e.table.Header() + "\n")
	}
	if h, err := s.histogram(); err == nil && h != nil && h.BCC() {
		if len(s.e.sort) == 0 {
			// bcc prints its sections in hash order; key order is as good and stable.
			slices.SortStableFunc(entries, func(a, b kv) int { return bytes.Compare(a.key, b.key) })
		}
		if s.format == Text {
			// Every round of bcc's histogram tools starts with print(), then -T's
			// print("%-8s\n" % strftime("%H:%M:%S"), end="").
			out.WriteByte('\n')
			if s.e.meta.Sample.Time != "" && s.flag(s.e.meta.Sample.Time) {
				out.Write(s.now().AppendFormat(nil, "15:04:05"))
				out.WriteByte('\n')
			}
		}
	}
	missed, full := 0, false
	for _, en := range entries {
		if err := s.entry(&out, en.key, en.val); err != nil {
			s.diag(fmt.Sprintf("sampling map %s: %v", s.e.name, err))
		}
		if s.stacks != nil {
			n, f := s.stacks.Missed(en.key)
			missed, full = missed+n, full || f
		}
	}
	if out.Len() > 0 {
		s.w.write(out.Bytes())
	}
	if missed > 0 {
		// bcc: "WARNING: %d stack traces could not be displayed.%s" on stderr.
		hint := ""
		if full {
			hint = s.sizeHint
		}
		s.diag(fmt.Sprintf("WARNING: %d stack traces could not be displayed.%s", missed, hint))
	}
}

// observeProcesses takes memory-map snapshots of the processes with user stacks in the map
// that were not seen before.
func (s *sampler) observeProcesses() {
	if s.seen == nil {
		s.seen = map[uint32]bool{}
	}
	key, val := make([]byte, s.m.KeySize()), make([]byte, s.m.ValueSize())
	it := s.m.Iterate()
	for it.Next(&key, &val) {
		if pid, ok := s.stacks.Process(key); ok && !s.seen[pid] {
			s.seen[pid] = true
			s.sym.observe(pid)
		}
	}
}

// sortEntries orders entries by the sort fields (read from key||value), then by key bytes
// so that the order is deterministic. Without sort fields the map's order is kept.
func sortEntries(entries []kv, keys []sortField) {
	if len(keys) == 0 {
		return
	}
	field := func(e kv, f sortField) uint64 {
		sample, at := e.key, decode.Int{Offset: f.off, Size: f.size, Signed: f.signed}
		if int(f.off) >= len(e.key) {
			sample, at.Offset = e.val, f.off-uint32(len(e.key))
		}
		v, _ := at.Read(sample) // a field past the entry sorts as 0
		return v
	}
	slices.SortStableFunc(entries, func(a, b kv) int {
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
		return bytes.Compare(a.key, b.key)
	})
}

func (s *sampler) clear() {
	key := make([]byte, s.m.KeySize())
	var keys [][]byte
	it := s.m.Iterate()
	val := make([]byte, s.m.ValueSize())
	for it.Next(&key, &val) {
		keys = append(keys, append([]byte(nil), key...))
	}
	for _, k := range keys {
		_ = s.m.Delete(k)
	}
}

// kv renders the map's entries in eunomia's default_kv layout (and its JSON lines).
func (s *sampler) kv() decode.KV { return decode.KV{Key: s.e.keyPlan, Value: s.e.plan} }

// entry renders one map entry into out; nothing is written when it fails.
func (s *sampler) entry(out *bytes.Buffer, key, val []byte) error {
	var b []byte
	var err error
	h, herr := s.histogram()
	switch {
	case s.stacks != nil && s.format == JSON:
		b, err = s.stacks.AppendJSON(nil, key, val, s.lookup)
	case s.stacks != nil:
		b, err = s.stacks.AppendText(nil, key, val, s.lookup)
	case h != nil || herr != nil:
		if err = herr; err != nil {
			break
		}
		if s.format == JSON {
			b, err = h.AppendJSON(nil, key, val)
		} else {
			b, err = h.AppendText(nil, key, val)
		}
	case s.format == JSON:
		b, err = s.kv().AppendJSON(nil, key, val)
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

// histogram returns the map's histogram rendering, building it on first use; nil, nil
// when the map is not a histogram.
func (s *sampler) histogram() (*decode.Histogram, error) {
	smp := s.e.meta.Sample
	if smp.Type != "log2_hist" && smp.Type != "linear_hist" {
		return nil, nil
	}
	if s.hist == nil && s.histErr == nil {
		opts := decode.HistOptions{Kind: decode.Log2, Unit: smp.Unit, Now: s.now}
		if smp.Type == "linear_hist" {
			opts.Kind = decode.Linear
		}
		if smp.UnitIf != nil && s.flag(smp.UnitIf.Flag) {
			opts.Unit = smp.UnitIf.Unit
		}
		s.hist, s.histErr = decode.NewHistogram(s.e.keyPlan, s.e.plan, opts)
	}
	return s.hist, s.histErr
}
