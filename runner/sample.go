package runner

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"

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
}

func (s *sampler) loop(ctx context.Context) error {
	smp := s.e.meta.Sample
	if s.format == Text && smp.Type == "default_kv" {
		s.w.write([]byte(s.kvHeader() + "\n"))
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
	if s.e.table != nil && s.format == Text {
		// bcc prints its tables after an empty line (the ^C line).
		out.WriteString("\n" + s.e.table.Header() + "\n")
	}
	for _, en := range entries {
		if err := s.entry(&out, en.key, en.val); err != nil {
			s.diag(fmt.Sprintf("sampling map %s: %v", s.e.name, err))
		}
	}
	if out.Len() > 0 {
		s.w.write(out.Bytes())
	}
}

// sortEntries orders entries by the sort fields (read from key||value), then by key bytes
// so that the order is deterministic. Without sort fields the map's order is kept.
func sortEntries(entries []kv, keys []sortField) {
	if len(keys) == 0 {
		return
	}
	field := func(e kv, f sortField) (uint64, bool) {
		var b []byte
		if int(f.off) < len(e.key) {
			b = e.key[f.off:]
		} else {
			b = e.val[int(f.off)-len(e.key):]
		}
		if len(b) < int(f.size) {
			return 0, false
		}
		var v uint64
		for i := int(f.size) - 1; i >= 0; i-- {
			v = v<<8 | uint64(b[i])
		}
		if f.signed && f.size < 8 && v&(1<<(8*f.size-1)) != 0 {
			v |= ^uint64(0) << (8 * f.size)
		}
		return v, true
	}
	slices.SortStableFunc(entries, func(a, b kv) int {
		for _, f := range keys {
			va, _ := field(a, f)
			vb, _ := field(b, f)
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

func (s *sampler) entry(out *bytes.Buffer, key, val []byte) error {
	if s.format == JSON {
		b := []byte(`{"key":`)
		b, err := s.e.keyPlan.AppendJSON(b, key)
		if err != nil {
			return err
		}
		b = append(b, `,"value":`...)
		if b, err = s.e.plan.AppendJSON(b, val); err != nil {
			return err
		}
		out.Write(append(b, '}', '\n'))
		return nil
	}
	switch s.e.meta.Sample.Type {
	case "log2_hist", "linear_hist":
		return s.hist(out, key, val)
	case "table":
		sample := append(append(make([]byte, 0, len(key)+len(val)), key...), val...)
		b, err := s.e.table.AppendText(nil, sample)
		if err != nil {
			return err
		}
		out.Write(append(b, '\n'))
		return nil
	}
	// default_kv: time, the key as JSON, the value as JSON (eunomia's layout).
	b := s.now().AppendFormat(nil, "15:04:05")
	b = append(b, ' ')
	b, err := s.e.keyPlan.AppendJSON(b, key)
	if err != nil {
		return err
	}
	b = append(b, ' ')
	if b, err = s.e.plan.AppendJSON(b, val); err != nil {
		return err
	}
	out.Write(append(b, '\n'))
	return nil
}

func (s *sampler) kvHeader() string {
	var b strings.Builder
	b.WriteString("TIME     ")
	for _, p := range []*decode.Plan{s.e.keyPlan, s.e.plan} {
		for _, f := range p.Fields() {
			name := strings.ToUpper(f.Name)
			if name == "" {
				name = strings.ToUpper(typeString(f.Type))
			}
			fmt.Fprintf(&b, "%-6s ", name)
		}
	}
	return b.String()
}

// hist prints "key = ...", the value's other fields, then the slots as a histogram.
func (s *sampler) hist(out *bytes.Buffer, key, val []byte) error {
	out.WriteString("key =")
	for i := range s.e.keyPlan.Fields() {
		t, err := s.e.keyPlan.AppendFieldText(nil, key, i)
		if err != nil {
			return err
		}
		out.WriteString("  ")
		out.Write(t)
	}
	out.WriteByte('\n')
	var slots []uint64
	found := false
	for i, f := range s.e.plan.Fields() {
		if f.Name == "slots" {
			found = true
			var err error
			if slots, err = readSlots(f, val); err != nil {
				return err
			}
			continue
		}
		t, err := s.e.plan.AppendFieldText(nil, val, i)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s = %s\n", f.Name, t)
	}
	if !found {
		return fmt.Errorf("value of map %s has no slots field to draw a histogram from", s.e.name)
	}
	if s.e.meta.Sample.Type == "linear_hist" {
		writeLinearHist(out, slots, s.e.meta.Sample.Unit)
	} else {
		writeLog2Hist(out, slots, s.e.meta.Sample.Unit)
	}
	out.WriteByte('\n')
	return nil
}

func readSlots(f decode.Field, val []byte) ([]uint64, error) {
	arr, ok := btf.UnderlyingType(f.Type).(*btf.Array)
	if !ok {
		return nil, fmt.Errorf("slots is not an array")
	}
	sz, err := btf.Sizeof(arr.Type)
	if err != nil || (sz != 4 && sz != 8) {
		return nil, fmt.Errorf("slots elements must be 4 or 8 byte integers")
	}
	n := int(arr.Nelems)
	if int(f.Offset)+n*sz > len(val) {
		return nil, decode.ErrShortSample
	}
	out := make([]uint64, n)
	for i := range out {
		b := val[int(f.Offset)+i*sz:]
		if sz == 4 {
			out[i] = uint64(binary.LittleEndian.Uint32(b))
		} else {
			out[i] = binary.LittleEndian.Uint64(b)
		}
	}
	return out, nil
}

func stars(val, max uint64, width int) string {
	if max == 0 {
		return strings.Repeat(" ", width)
	}
	n := int(min(val, max) * uint64(width) / max)
	s := strings.Repeat("*", n) + strings.Repeat(" ", width-n)
	if val > max {
		s = s[:width-1] + "+"
	}
	return s
}

// writeLog2Hist draws slots like libbpf-tools' print_log2_hist.
func writeLog2Hist(out *bytes.Buffer, vals []uint64, unit string) {
	idxMax, valMax := -1, uint64(0)
	for i, v := range vals {
		if v > 0 {
			idxMax = i
		}
		valMax = max(valMax, v)
	}
	if idxMax < 0 {
		return
	}
	starsMax, w, pad, uw := 40, 10, 5, 19
	if idxMax > 32 {
		starsMax, w, pad, uw = 20, 20, 15, 29
	}
	fmt.Fprintf(out, "%*s%-*s : count    distribution\n", pad, "", uw, unit)
	for i := 0; i <= idxMax; i++ {
		low := (uint64(1) << (i + 1)) >> 1
		high := (uint64(1) << (i + 1)) - 1
		if low == high {
			low--
		}
		fmt.Fprintf(out, "%*d -> %-*d : %-8d |%s|\n", w, low, w, high, vals[i], stars(vals[i], valMax, starsMax))
	}
}

// writeLinearHist draws slots like libbpf-tools' print_linear_hist with step 1.
func writeLinearHist(out *bytes.Buffer, vals []uint64, unit string) {
	idxMin, idxMax, valMax := -1, -1, uint64(0)
	for i, v := range vals {
		if v > 0 {
			if idxMin < 0 {
				idxMin = i
			}
			idxMax = i
		}
		valMax = max(valMax, v)
	}
	if idxMax < 0 {
		return
	}
	fmt.Fprintf(out, "     %-13s : count     distribution\n", unit)
	for i := idxMin; i <= idxMax; i++ {
		fmt.Fprintf(out, "        %-10d : %-8d |%s|\n", i, vals[i], stars(vals[i], valMax, 40))
	}
}

// appendStackTrace renders a stack-trace event like eunomia's stack_trace interpreter
// without symbols.
func appendStackTrace(b []byte, e *exporter, sample []byte) ([]byte, error) {
	if len(sample) < int(e.plan.Size()) {
		return b, decode.ErrShortSample
	}
	fm := e.meta.StackTrace.FieldMap
	field := func(name string) (decode.Field, bool) {
		if n, ok := fm[name]; ok && n != "" {
			name = n
		}
		for _, f := range e.plan.Fields() {
			if f.Name == name {
				return f, true
			}
		}
		return decode.Field{}, false
	}
	u32 := func(name string) (int64, error) {
		f, ok := field(name)
		if !ok {
			return 0, fmt.Errorf("stack trace event has no %s field", name)
		}
		return int64(int32(binary.LittleEndian.Uint32(sample[f.Offset:]))), nil
	}
	pid, err := u32("pid")
	if err != nil {
		return b, err
	}
	cpu, err := u32("cpu_id")
	if err != nil {
		return b, err
	}
	ksz, err := u32("kstack_sz")
	if err != nil {
		return b, err
	}
	usz, err := u32("ustack_sz")
	if err != nil {
		return b, err
	}
	if ksz <= 0 && usz <= 0 {
		return b[:0], nil
	}
	comm := ""
	if f, ok := field("comm"); ok {
		if sz, err := btf.Sizeof(f.Type); err == nil {
			c := sample[f.Offset : int(f.Offset)+sz]
			if k := bytes.IndexByte(c, 0); k >= 0 {
				c = c[:k]
			}
			comm = string(c)
		}
	}
	b = fmt.Appendf(b, "COMM: %s (pid=%d) @ CPU %d\n", comm, uint32(pid), uint32(cpu))
	stack := func(title, name string, size int64) error {
		f, ok := field(name)
		if !ok {
			return fmt.Errorf("stack trace event has no %s field", name)
		}
		if size <= 0 {
			b = fmt.Appendf(b, "No %s Stack\n", title)
			return nil
		}
		arrSize, _ := btf.Sizeof(f.Type)
		n := min(int(size/8), arrSize/8)
		b = fmt.Appendf(b, "%s:\n", title)
		for j := 0; j < n; j++ {
			addr := binary.LittleEndian.Uint64(sample[int(f.Offset)+8*j:])
			b = fmt.Appendf(b, "  %d [<%016x>]\n", j, addr)
		}
		return nil
	}
	if err := stack("Kernel", "kstack", ksz); err != nil {
		return b, err
	}
	if err := stack("Userspace", "ustack", usz); err != nil {
		return b, err
	}
	return bytes.TrimSuffix(b, []byte("\n")), nil
}
