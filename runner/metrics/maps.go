package metrics

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/cilium/ebpf/btf"
	"github.com/prometheus/client_golang/prometheus"

	"ecli/runner"
	"ecli/runner/decode"
)

// mapMetrics exports one sampled map. Its decode plans are used only inside the map's
// read (runner.Instance.ReadSampled) or Clearing, which Run's clear_map lock serialises.
type mapMetrics struct {
	name      string
	key       *decode.Plan
	val       *decode.Plan
	labels    []int // key fields that are labels
	maxSeries int
	warn      *warner

	hist     *decode.Histogram // nil unless log2_hist / linear_hist
	linear   bool
	histDesc *prometheus.Desc
	sumField int // value field giving the histogram's _sum (hist=total), -1 for none

	values []valueMetric

	mu  sync.Mutex
	acc map[string]*series // totals of the entries Run cleared (counters, histograms)
}

// valueMetric is one numeric value field exported as a gauge or counter.
type valueMetric struct {
	field   int // index in val.Fields()
	name    string
	desc    *prometheus.Desc
	counter bool
}

// series is the state of one label set: live values from the map, plus totals of cleared
// entries for counters and histograms.
type series struct {
	labels []string
	live   bool      // the map holds the key now (gauges are sent only then)
	values []float64 // by valueMetric
	slots  []uint64
	sum    float64
}

func newMapMetrics(pkg string, o runner.Output, maxSeries int, w *warner) (*mapMetrics, error) {
	if o.Key == nil || o.Value == nil || o.Sample == nil {
		return nil, fmt.Errorf("not a sampled map")
	}
	m := &mapMetrics{name: o.Map, key: o.Key, val: o.Value, maxSeries: maxSeries, warn: w, sumField: -1, acc: map[string]*series{}}
	labelNames := m.labelNames(o.KeyType)
	base := metricName(Namespace, pkg, o.Map)
	switch o.Sample.Type {
	case "log2_hist", "linear_hist":
		m.linear = o.Sample.Type == "linear_hist"
		kind := decode.Log2
		if m.linear {
			kind = decode.Linear
		}
		h, err := decode.NewHistogram(o.Key, o.Value, decode.HistOptions{Kind: kind, Unit: o.Unit})
		if err != nil {
			return nil, err
		}
		m.hist = h
		name := base
		if o.Unit != "" {
			name = metricName(base, o.Unit)
		}
		help := fmt.Sprintf("Histogram of map %s of package %s (%s slots", o.Map, pkg, o.Sample.Type)
		if o.Unit != "" {
			help += ", in " + o.Unit
		}
		m.histDesc = prometheus.NewDesc(name, help+").", labelNames, nil)
	}
	_, structValue := decode.Underlying(o.ValueType).(*btf.Struct)
	for i, f := range o.Value.Fields() {
		kind := hint(f, "metric")
		switch role := hint(f, "hist"); {
		case m.hist != nil && f.Name == decode.SlotsField:
			continue
		case m.hist != nil && role == "total":
			m.sumField = i
			continue
		case m.hist != nil && role == "count":
			continue // the slots give _count
		case kind == "off" || !numeric(f.Type):
			continue
		}
		vm := valueMetric{field: i, name: f.Name, counter: kind == "counter"}
		name := base
		if structValue {
			name = metricName(base, f.Name)
		}
		typ := "gauge"
		if vm.counter {
			name, typ = name+"_total", "counter"
		}
		vm.desc = prometheus.NewDesc(name, fmt.Sprintf("Field %s of map %s of package %s (%s).", f.Name, o.Map, pkg, typ), labelNames, nil)
		m.values = append(m.values, vm)
	}
	return m, nil
}

// labelNames picks the key fields that label the map's series: every field the text
// columns show, or one label "key" when the key is not a struct.
func (m *mapMetrics) labelNames(keyType btf.Type) []string {
	fields := m.key.Fields()
	if _, ok := decode.Underlying(keyType).(*btf.Struct); !ok {
		m.labels = []int{0}
		return []string{"key"}
	}
	var names []string
	for i, f := range fields {
		if f.Hidden {
			continue
		}
		name := f.Name
		if name == "" {
			name = strings.ToLower(f.Column)
		}
		name = labelName(name)
		for n := 2; slices.Contains(names, name); n++ {
			name = labelName(fmt.Sprintf("%s_%d", f.Name, n))
		}
		m.labels = append(m.labels, i)
		names = append(names, name)
	}
	return names
}

// hint returns the value of a field's hint key=, "" when it has none.
func hint(f decode.Field, key string) string {
	for _, h := range f.Hints {
		if v, ok := strings.CutPrefix(h, key+"="); ok {
			return v
		}
	}
	return ""
}

// numeric reports whether a field is an integer or a float (not a char, bool, enum,
// array or struct), whose text rendering is a number.
func numeric(t btf.Type) bool {
	switch t := decode.Underlying(t).(type) {
	case *btf.Int:
		return t.Encoding != btf.Char && t.Encoding != btf.Bool && t.Size <= 8
	case *btf.Float:
		return true
	}
	return false
}

// decodeEntry turns one map entry into a series; ok is false when its key cannot be
// rendered.
func (m *mapMetrics) decodeEntry(e runner.Entry) (*series, bool) {
	s := &series{live: true, values: make([]float64, len(m.values))}
	var buf []byte
	for _, i := range m.labels {
		var err error
		if buf, err = m.key.AppendFieldText(buf[:0], e.Key, i); err != nil {
			m.warn.once(m.name+"\x00key", fmt.Sprintf("metrics: map %s: dropping an entry: %v", m.name, err))
			return nil, false
		}
		s.labels = append(s.labels, strings.ToValidUTF8(string(buf), "\uFFFD"))
	}
	for j, vm := range m.values {
		s.values[j] = m.number(e.Value, vm.field)
	}
	if m.hist != nil {
		var err error
		if s.slots, err = m.hist.Slots(nil, e.Value); err != nil {
			m.warn.once(m.name+"\x00slots", fmt.Sprintf("metrics: map %s: dropping an entry: %v", m.name, err))
			return nil, false
		}
		switch {
		case m.sumField >= 0:
			s.sum = m.number(e.Value, m.sumField)
		case m.linear:
			for i, n := range s.slots {
				s.sum += float64(i) * float64(n)
			}
		}
	}
	return s, true
}

// number renders value field i as text and reads it back as a number (so div= and
// unit scaling apply); a field that does not render as a number is NaN, with a warning.
func (m *mapMetrics) number(val []byte, i int) float64 {
	b, err := m.val.AppendFieldText(nil, val, i)
	if err == nil {
		var v float64
		if v, err = strconv.ParseFloat(string(b), 64); err == nil {
			return v
		}
	}
	name := m.val.Fields()[i].Name
	m.warn.once(m.name+"\x00"+name, fmt.Sprintf("metrics: map %s: field %s is not a number (%v); exporting NaN", m.name, name, err))
	return math.NaN()
}

// seriesKey identifies a label set.
func seriesKey(labels []string) string { return strings.Join(labels, "\xff") }

// add adds s's counters, gauges and slots to t.
func (t *series) add(s *series) {
	t.live = t.live || s.live
	for i := range t.values {
		t.values[i] += s.values[i]
	}
	if len(t.slots) < len(s.slots) {
		t.slots = append(t.slots, make([]uint64, len(s.slots)-len(t.slots))...)
	}
	for i, n := range s.slots {
		t.slots[i] += n
	}
	t.sum += s.sum
}

// cleared adds entries Run is deleting to the totals; called under the map's clear lock.
func (m *mapMetrics) cleared(entries []runner.Entry) {
	if m.hist == nil && !slices.ContainsFunc(m.values, func(v valueMetric) bool { return v.counter }) {
		return // gauges only: nothing to carry over
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range entries {
		s, ok := m.decodeEntry(e)
		if !ok {
			continue
		}
		s.live = false
		for j, vm := range m.values {
			if !vm.counter {
				s.values[j] = 0 // a cleared gauge is gone, not summed
			}
		}
		k := seriesKey(s.labels)
		if t := m.acc[k]; t != nil {
			t.add(s)
		} else if len(m.acc) < m.maxSeries {
			m.acc[k] = s
		} else {
			m.overCap()
		}
	}
}

// snapshot is the map's series now: the live entries plus the totals of cleared ones,
// sorted by labels and capped at maxSeries. Called under the map's clear lock.
func (m *mapMetrics) snapshot(entries []runner.Entry) []*series {
	byKey := map[string]*series{}
	for _, e := range entries {
		s, ok := m.decodeEntry(e)
		if !ok {
			continue
		}
		k := seriesKey(s.labels)
		if t := byKey[k]; t != nil {
			t.add(s) // keys that render alike (hidden fields) are one series
		} else {
			byKey[k] = s
		}
	}
	m.mu.Lock()
	for k, a := range m.acc {
		if t := byKey[k]; t != nil {
			t.add(a)
		} else {
			c := *a
			c.values, c.slots = slices.Clone(a.values), slices.Clone(a.slots)
			byKey[k] = &c
		}
	}
	m.mu.Unlock()
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if len(keys) > m.maxSeries {
		keys = keys[:m.maxSeries]
		m.overCap()
	}
	out := make([]*series, len(keys))
	for i, k := range keys {
		out[i] = byKey[k]
	}
	return out
}

func (m *mapMetrics) overCap() {
	m.warn.once(m.name+"\x00cap", fmt.Sprintf("metrics: map %s has more than %d series; exporting the first %d (raise --metrics-max-series)", m.name, m.maxSeries, m.maxSeries))
}

// send sends the metrics of a snapshot.
func (m *mapMetrics) send(ch chan<- prometheus.Metric, snap []*series) {
	for _, s := range snap {
		if m.hist != nil {
			ch <- m.histogram(s)
		}
		for j, vm := range m.values {
			typ := prometheus.GaugeValue
			if vm.counter {
				typ = prometheus.CounterValue
			} else if !s.live {
				continue
			}
			ch <- constMetric(vm.desc, typ, s.values[j], s.labels)
		}
	}
}

// histogram turns a series' slots into a Prometheus histogram: bucket le is the largest
// value a slot holds (log2: 2^(i+1)-1, slot 0 holding 0 and 1; linear: i), counts are
// cumulative. The sum is the hist=total field, exact for linear slots, else unknown (NaN).
func (m *mapMetrics) histogram(s *series) prometheus.Metric {
	buckets := make(map[float64]uint64, len(s.slots))
	var count uint64
	for i, n := range s.slots {
		count += n
		le := float64(i)
		if !m.linear {
			le = math.Ldexp(1, i+1) - 1
		}
		buckets[le] = count
	}
	sum := s.sum
	if m.sumField < 0 && !m.linear {
		sum = math.NaN()
	}
	h, err := prometheus.NewConstHistogram(m.histDesc, count, sum, buckets, s.labels...)
	if err != nil {
		return prometheus.NewInvalidMetric(m.histDesc, err)
	}
	return h
}

func constMetric(desc *prometheus.Desc, typ prometheus.ValueType, v float64, labels []string) prometheus.Metric {
	mt, err := prometheus.NewConstMetric(desc, typ, v, labels...)
	if err != nil {
		return prometheus.NewInvalidMetric(desc, err)
	}
	return mt
}
