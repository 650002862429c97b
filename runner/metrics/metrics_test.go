package metrics

import (
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cilium/ebpf/btf"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"ecli/runner"
	"ecli/runner/decode"
)

var (
	u16 = &btf.Int{Name: "__u16", Size: 2}
	u32 = &btf.Int{Name: "__u32", Size: 4}
	u64 = &btf.Int{Name: "__u64", Size: 8}
)

func hints(s ...string) []string {
	for i := range s {
		s[i] = "ecli:" + s[i]
	}
	return s
}

func member(name string, t btf.Type, off uint32, tags ...string) btf.Member {
	return btf.Member{Name: name, Type: t, Offset: btf.Bits(off * 8), Tags: hints(tags...)}
}

// sampled builds the runner.Output of a sampled map with BTF key and value types.
func sampled(t *testing.T, name string, key, val btf.Type, smp runner.Sample) runner.Output {
	t.Helper()
	kp, err := decode.Compile(key, decode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	vp, err := decode.Compile(val, decode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return runner.Output{Map: name, Kind: runner.OutputSample, Active: true, Plan: vp, Key: kp, Value: vp,
		Sample: &smp, KeyType: key, ValueType: val, Unit: smp.Unit}
}

// fakeMaps holds map contents for a Collector's reads, the way runner.Instance.ReadSampled
// gives them: under a lock Clearing is also called with.
type fakeMaps struct {
	mu      sync.Mutex
	entries map[string][]runner.Entry
}

func (f *fakeMaps) read(name string, fn func([]runner.Entry)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(slices.Clone(f.entries[name]))
	return nil
}

// clear does what the runner's clear_map does: Clearing with the entries, then deletes them.
func (f *fakeMaps) clear(c *Collector, name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c.Clearing(name, f.entries[name])
	f.entries[name] = nil
}

func le32(vs ...uint32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	return b
}

func le64(vs ...uint64) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	return b
}

// gather registers c and returns its metric families by name.
func gather(t *testing.T, c prometheus.Collector) map[string]*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

func labels(m *dto.Metric) string {
	var s []string
	for _, l := range m.GetLabel() {
		s = append(s, l.GetName()+"="+l.GetValue())
	}
	return strings.Join(s, ",")
}

// histValue is the value of a map whose histogram has 4 slots, a sum and a count field.
func histValue() *btf.Struct {
	return &btf.Struct{Name: "hist", Size: 32, Members: []btf.Member{
		member("slots", &btf.Array{Index: u32, Type: u32, Nelems: 4}, 0),
		member("total", u64, 16, "hist=total"),
		member("count", u64, 24, "hist=count"),
	}}
}

// histEntry is one entry of a histValue map.
func histEntry(key uint32, slots [4]uint32, total uint64) runner.Entry {
	var n uint64
	for _, s := range slots {
		n += uint64(s)
	}
	return runner.Entry{Key: le32(key), Value: append(le32(slots[:]...), le64(total, n)...)}
}

func TestLog2Histogram(t *testing.T) {
	out := sampled(t, "hists", u32, histValue(), runner.Sample{Type: "log2_hist", Unit: "usecs"})
	maps := &fakeMaps{entries: map[string][]runner.Entry{"hists": {
		histEntry(7, [4]uint32{1, 0, 2, 3}, 50),
	}}}
	c, err := newCollector("runqlat", []runner.Output{out}, maps.read, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mf := gather(t, c)["ecli_runqlat_hists_usecs"]
	if mf == nil || mf.GetType() != dto.MetricType_HISTOGRAM || len(mf.Metric) != 1 {
		t.Fatalf("histogram ecli_runqlat_hists_usecs: %v", mf)
	}
	m := mf.Metric[0]
	if got := labels(m); got != "key=7" {
		t.Errorf("labels %s, want key=7", got)
	}
	h := m.GetHistogram()
	// slot i holds [2^i, 2^(i+1)-1] (slot 0: 0 and 1): le is the slot's largest value.
	wantLE, wantCount := []float64{1, 3, 7, 15}, []uint64{1, 1, 3, 6}
	if len(h.Bucket) != len(wantLE) {
		t.Fatalf("%d buckets, want %d", len(h.Bucket), len(wantLE))
	}
	for i, b := range h.Bucket {
		if b.GetUpperBound() != wantLE[i] || b.GetCumulativeCount() != wantCount[i] {
			t.Errorf("bucket %d: le %v count %d, want le %v count %d", i, b.GetUpperBound(), b.GetCumulativeCount(), wantLE[i], wantCount[i])
		}
	}
	if h.GetSampleCount() != 6 || h.GetSampleSum() != 50 {
		t.Errorf("count %d sum %v, want 6 and 50 (the hist=total field)", h.GetSampleCount(), h.GetSampleSum())
	}
}

func TestLinearHistogramSum(t *testing.T) {
	val := &btf.Struct{Name: "hist", Size: 16, Members: []btf.Member{member("slots", &btf.Array{Index: u32, Type: u32, Nelems: 4}, 0)}}
	out := sampled(t, "h", u32, val, runner.Sample{Type: "linear_hist"})
	maps := &fakeMaps{entries: map[string][]runner.Entry{"h": {{Key: le32(0), Value: le32(0, 2, 0, 1)}}}}
	c, err := newCollector("t", []runner.Output{out}, maps.read, Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := gather(t, c)["ecli_t_h"].Metric[0].GetHistogram()
	// linear slot i holds the value i: the sum is exact, 2*1 + 1*3.
	if h.GetSampleCount() != 3 || h.GetSampleSum() != 5 {
		t.Errorf("count %d sum %v, want 3 and 5", h.GetSampleCount(), h.GetSampleSum())
	}
	if b := h.Bucket[1]; b.GetUpperBound() != 1 || b.GetCumulativeCount() != 2 {
		t.Errorf("bucket le=1: %v", b)
	}

	// A log2 histogram without a hist=total field has no known sum.
	out = sampled(t, "h", u32, val, runner.Sample{Type: "log2_hist"})
	c, _ = newCollector("t", []runner.Output{out}, maps.read, Options{})
	if s := gather(t, c)["ecli_t_h"].Metric[0].GetHistogram().GetSampleSum(); !math.IsNaN(s) {
		t.Errorf("log2 sum %v, want NaN", s)
	}
}

// flowKey is tcpconnect's -c key, shortened: an address rendered as text, a hidden
// family, a port.
func flowKey() *btf.Struct {
	return &btf.Struct{Name: "flow_key", Size: 12, Members: []btf.Member{
		member("daddr", u32, 0, "format=ipv4", "name=RADDR"),
		member("af", u32, 4, "hide"),
		member("dport", u16, 8, "name=RPORT"),
	}}
}

func flowValue() *btf.Struct {
	return &btf.Struct{Name: "flow_count", Size: 16, Members: []btf.Member{
		member("connects", u64, 0, "metric=counter"),
		member("inflight", u32, 8),
		member("secs", u32, 12, "div=1000"),
	}}
}

func flow(addr [4]byte, af uint32, port uint16, connects uint64, inflight, ms uint32) runner.Entry {
	k := append(append(append([]byte{}, addr[:]...), le32(af)...), binary.LittleEndian.AppendUint16(nil, port)...)
	k = append(k, 0, 0)
	return runner.Entry{Key: k, Value: append(le64(connects), le32(inflight, ms)...)}
}

func TestTableLabelsAndValues(t *testing.T) {
	out := sampled(t, "counts", flowKey(), flowValue(), runner.Sample{Type: "table", AtExit: true})
	maps := &fakeMaps{entries: map[string][]runner.Entry{"counts": {
		flow([4]byte{127, 0, 0, 1}, 2, 8080, 3, 1, 2500),
		// same rendered labels (af is hidden): one series, values summed
		flow([4]byte{127, 0, 0, 1}, 10, 8080, 2, 1, 500),
		flow([4]byte{10, 1, 2, 3}, 2, 22, 7, 0, 0),
	}}}
	c, err := newCollector("tcpconnect", []runner.Output{out}, maps.read, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mfs := gather(t, c)
	want := map[string]map[string]float64{
		"ecli_tcpconnect_counts_connects_total": {"daddr=10.1.2.3,dport=22": 7, "daddr=127.0.0.1,dport=8080": 5},
		"ecli_tcpconnect_counts_inflight":       {"daddr=10.1.2.3,dport=22": 0, "daddr=127.0.0.1,dport=8080": 2},
		"ecli_tcpconnect_counts_secs":           {"daddr=10.1.2.3,dport=22": 0, "daddr=127.0.0.1,dport=8080": 3},
	}
	for name, series := range want {
		mf := mfs[name]
		if mf == nil {
			t.Errorf("no %s", name)
			continue
		}
		wantType := dto.MetricType_GAUGE
		if strings.HasSuffix(name, "_total") {
			wantType = dto.MetricType_COUNTER
		}
		if mf.GetType() != wantType {
			t.Errorf("%s is a %v, want %v", name, mf.GetType(), wantType)
		}
		got := map[string]float64{}
		for _, m := range mf.Metric {
			got[labels(m)] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
		if !mapsEqual(got, series) {
			t.Errorf("%s: %v, want %v", name, got, series)
		}
	}
}

func mapsEqual(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestClearedEntries: clear_map deletes entries between scrapes; counters and histograms
// keep their totals, gauges show only what the map holds.
func TestClearedEntries(t *testing.T) {
	table := sampled(t, "counts", flowKey(), flowValue(), runner.Sample{Type: "table", ClearMap: true})
	hist := sampled(t, "hists", u32, histValue(), runner.Sample{Type: "log2_hist", ClearMap: true})
	maps := &fakeMaps{entries: map[string][]runner.Entry{
		"counts": {flow([4]byte{127, 0, 0, 1}, 2, 80, 4, 9, 0)},
		"hists":  {histEntry(0, [4]uint32{2, 1, 0, 0}, 3)},
	}}
	c, err := newCollector("p", []runner.Output{table, hist}, maps.read, Options{})
	if err != nil {
		t.Fatal(err)
	}
	check := func(step string, connects float64, gauges int, histCount uint64) {
		t.Helper()
		mfs := gather(t, c)
		if got := mfs["ecli_p_counts_connects_total"].Metric[0].GetCounter().GetValue(); got != connects {
			t.Errorf("%s: connects %v, want %v", step, got, connects)
		}
		if got := len(mfs["ecli_p_counts_inflight"].GetMetric()); got != gauges {
			t.Errorf("%s: %d inflight series, want %d", step, got, gauges)
		}
		if got := mfs["ecli_p_hists"].Metric[0].GetHistogram().GetSampleCount(); got != histCount {
			t.Errorf("%s: histogram count %d, want %d", step, got, histCount)
		}
	}
	check("before clearing", 4, 1, 3)
	maps.clear(c, "counts")
	maps.clear(c, "hists")
	check("after clearing", 4, 0, 3)
	maps.entries["counts"] = []runner.Entry{flow([4]byte{127, 0, 0, 1}, 2, 80, 1, 9, 0)}
	maps.entries["hists"] = []runner.Entry{histEntry(0, [4]uint32{0, 0, 5, 0}, 30)}
	check("new entries", 5, 1, 8)
}

func TestMaxSeries(t *testing.T) {
	out := sampled(t, "counts", flowKey(), flowValue(), runner.Sample{Type: "table", ClearMap: true})
	var entries []runner.Entry
	for i := range 5 {
		entries = append(entries, flow([4]byte{10, 0, 0, byte(i)}, 2, 80, 1, 0, 0))
	}
	maps := &fakeMaps{entries: map[string][]runner.Entry{"counts": entries}}
	var warnings []string
	c, err := newCollector("p", []runner.Output{out}, maps.read, Options{MaxSeries: 3, Warn: func(s string) { warnings = append(warnings, s) }})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if got := len(gather(t, c)["ecli_p_counts_connects_total"].Metric); got != 3 {
			t.Errorf("%d series, want 3", got)
		}
	}
	// The totals kept for cleared entries are capped too.
	maps.clear(c, "counts")
	if got := len(c.byName["counts"].acc); got != 3 {
		t.Errorf("%d totals kept, want 3", got)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "map counts has more than 3 series") {
		t.Errorf("warnings %q, want one about the cap", warnings)
	}
}

func TestEventCounters(t *testing.T) {
	p, err := decode.Compile(flowValue(), decode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	outs := []runner.Output{
		{Map: "events", Kind: runner.OutputStream, Active: true, Plan: p},
		{Map: "off", Kind: runner.OutputStream, Active: false, Plan: p},
	}
	c, err := newCollector("tool", outs, (&fakeMaps{}).read, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		c.Event("events", true)
	}
	c.Event("events", false)
	c.Event("off", true)
	c.Lost(4)
	c.Lost(1)
	mfs := gather(t, c)
	for name, want := range map[string]float64{"ecli_events_total": 3, "ecli_decode_errors_total": 1, "ecli_events_lost_total": 5} {
		mf := mfs[name]
		if mf == nil || len(mf.Metric) != 1 {
			t.Errorf("%s: %v, want one series", name, mf)
			continue
		}
		if got := mf.Metric[0].GetCounter().GetValue(); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if got := labels(mfs["ecli_events_total"].Metric[0]); got != "map=events,package=tool" {
		t.Errorf("labels %s", got)
	}
}

// TestHistRoleFields: hist=total and hist=count are the histogram's _sum and _count, not
// gauges of their own; other numeric value fields are.
func TestHistRoleFields(t *testing.T) {
	val := histValue()
	val.Size = 40
	val.Members = append(val.Members, member("peak", u64, 32))
	out := sampled(t, "h", u32, val, runner.Sample{Type: "log2_hist"})
	e := histEntry(1, [4]uint32{0, 1, 0, 0}, 2)
	e.Value = append(e.Value, le64(9)...)
	c, err := newCollector("p", []runner.Output{out}, (&fakeMaps{entries: map[string][]runner.Entry{"h": {e}}}).read, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mfs := gather(t, c)
	var names []string
	for n := range mfs {
		names = append(names, n)
	}
	slices.Sort(names)
	if want := []string{"ecli_events_lost_total", "ecli_p_h", "ecli_p_h_peak"}; !slices.Equal(names, want) {
		t.Errorf("metrics %v, want %v", names, want)
	}
	if h := mfs["ecli_p_h"].Metric[0].GetHistogram(); h.GetSampleSum() != 2 || h.GetSampleCount() != 1 {
		t.Errorf("sum %v count %d, want 2 and 1", h.GetSampleSum(), h.GetSampleCount())
	}
}

func TestNames(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"dport", "dport"},
		{"__u32", "u32"},
		{"le", "key_le"},
		{"9lives", "key_9lives"},
		{"a.b-c", "a_b_c"},
		{"", "key"},
	} {
		if got := labelName(tc.in); got != tc.want {
			t.Errorf("labelName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := metricName("ecli", "tcp-connect", "counts"); got != "ecli_tcp_connect_counts" {
		t.Errorf("metricName: %q", got)
	}
}
