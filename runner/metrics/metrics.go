// Package metrics exports a running package as Prometheus metrics, generically: every
// sampled map becomes metrics named after the package, the map and its value fields,
// labelled with its key fields rendered as the text columns render them; histogram maps
// (log2_hist, linear_hist) become Prometheus histograms; stream outputs count their events.
//
// A [Collector] is a prometheus.Collector and a runner.Observer: give it to
// RunOptions.Observer and register it with a prometheus.Registry. Maps are read when
// Prometheus scrapes (never on a timer of its own), so a scrape sees the kernel's values of
// that moment. Entries the run deletes (clear_map) are added to totals kept here, so
// counters and histograms never go backwards; gauges show what the map holds.
package metrics

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"ecli/runner"
)

const (
	// Namespace begins every metric name.
	Namespace = "ecli"
	// DefaultMaxSeries is how many label sets one map may export when Options.MaxSeries
	// is 0.
	DefaultMaxSeries = 10000
)

// Options configure a Collector.
type Options struct {
	// MaxSeries caps the label sets (series) exported per map and the totals kept for
	// cleared entries; 0 means DefaultMaxSeries. Past it, further series are dropped and
	// Warn is called once for the map.
	MaxSeries int
	// Warn receives one-line warnings (a map over MaxSeries, a value that is not a
	// number); nil drops them. Each is given once per map and field.
	Warn func(msg string)
}

// Collector exports one running instance. It is safe for concurrent use: Prometheus may
// scrape while Run reports events.
type Collector struct {
	pkg     string
	read    readFunc
	maps    []*mapMetrics
	byName  map[string]*mapMetrics
	streams map[string]*streamCounts
	names   []string // stream outputs, in package order
	lost    atomic.Uint64
	warn    *warner

	events, decodeErrors, lostDesc *prometheus.Desc
}

// readFunc calls fn with every entry of a sampled output, as runner.Instance.ReadSampled.
type readFunc func(output string, fn func([]runner.Entry)) error

// streamCounts are the event counters of one stream output.
type streamCounts struct{ events, errors atomic.Uint64 }

// New returns a Collector for inst, built from its active outputs (compiled again, so
// that scrapes never share decode state with Run).
func New(inst *runner.Instance, opts Options) (*Collector, error) {
	outs, err := inst.Outputs()
	if err != nil {
		return nil, err
	}
	return newCollector(inst.Package().Name(), outs, inst.ReadSampled, opts)
}

func newCollector(pkg string, outs []runner.Output, read readFunc, opts Options) (*Collector, error) {
	if opts.MaxSeries <= 0 {
		opts.MaxSeries = DefaultMaxSeries
	}
	c := &Collector{
		pkg:     pkg,
		read:    read,
		byName:  map[string]*mapMetrics{},
		streams: map[string]*streamCounts{},
		warn:    &warner{fn: opts.Warn},
		events: prometheus.NewDesc(Namespace+"_events_total",
			"Events read from the package's ring and perf buffers and written.", []string{"package", "map"}, nil),
		decodeErrors: prometheus.NewDesc(Namespace+"_decode_errors_total",
			"Events dropped because they could not be decoded.", []string{"package", "map"}, nil),
		lostDesc: prometheus.NewDesc(Namespace+"_events_lost_total",
			"Events lost before ecli read them (full perf buffers, the program's ecli:lost counters).", []string{"package"}, nil),
	}
	for _, o := range outs {
		if !o.Active {
			continue
		}
		if o.Kind == runner.OutputStream {
			c.streams[o.Map] = &streamCounts{}
			c.names = append(c.names, o.Map)
			continue
		}
		m, err := newMapMetrics(pkg, o, opts.MaxSeries, c.warn)
		if err != nil {
			return nil, fmt.Errorf("metrics of map %s: %w", o.Map, err)
		}
		c.maps = append(c.maps, m)
		c.byName[o.Map] = m
	}
	return c, nil
}

// Describe sends nothing: the series of a map are known only when it is read, so the
// Collector is an unchecked one.
func (c *Collector) Describe(chan<- *prometheus.Desc) {}

// Collect reads every sampled map and sends its metrics, then the event counters.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c.maps {
		var snap []*series
		err := c.read(m.name, func(entries []runner.Entry) {
			snap = m.snapshot(entries)
		})
		if err != nil {
			c.warn.once(m.name+"\x00read", fmt.Sprintf("metrics: %v", err))
		}
		m.send(ch, snap)
	}
	for _, name := range c.names {
		s := c.streams[name]
		ch <- prometheus.MustNewConstMetric(c.events, prometheus.CounterValue, float64(s.events.Load()), c.pkg, name)
		ch <- prometheus.MustNewConstMetric(c.decodeErrors, prometheus.CounterValue, float64(s.errors.Load()), c.pkg, name)
	}
	ch <- prometheus.MustNewConstMetric(c.lostDesc, prometheus.CounterValue, float64(c.lost.Load()), c.pkg)
}

// Event counts an event of a stream output (runner.Observer).
func (c *Collector) Event(output string, ok bool) {
	s := c.streams[output]
	switch {
	case s == nil:
	case ok:
		s.events.Add(1)
	default:
		s.errors.Add(1)
	}
}

// Lost counts lost events (runner.Observer).
func (c *Collector) Lost(n uint64) { c.lost.Add(n) }

// Clearing adds the entries Run is about to delete to the map's totals (runner.Observer).
func (c *Collector) Clearing(output string, entries []runner.Entry) {
	if m := c.byName[output]; m != nil {
		m.cleared(entries)
	}
}

var _ runner.Observer = (*Collector)(nil)

// warner gives each warning once.
type warner struct {
	fn   func(string)
	mu   sync.Mutex
	seen []string
}

func (w *warner) once(id, msg string) {
	if w.fn == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if slices.Contains(w.seen, id) {
		return
	}
	w.seen = append(w.seen, id)
	w.fn(msg)
}
