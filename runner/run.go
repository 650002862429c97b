package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/perf"
	"github.com/cilium/ebpf/ringbuf"

	"ecli/runner/decode"
)

// Format selects how events are written.
type Format int

// Output formats.
const (
	// Text: a header, then one aligned line per event.
	Text Format = iota
	// JSON: one JSON object per line, no header.
	JSON
)

// RunOptions configure Run.
type RunOptions struct {
	// Out receives the events (required).
	Out io.Writer
	// Format is Text or JSON.
	Format Format
	// Diag receives diagnostics: lost events, undecodable samples. Nil drops them.
	Diag func(msg string)
	// Now is the clock of the TIME column; nil means time.Now.
	Now func() time.Time
	// PerfPages is the per-CPU perf buffer size in pages (default 64).
	PerfPages int
	// Ready, if set, is called once every reader is open and before the first event.
	Ready func()
}

// Stats counts what Run saw.
type Stats struct {
	Events  uint64 // events written
	Lost    uint64 // events the kernel reported lost (perf buffers)
	Errors  uint64 // samples that could not be decoded
	Samples uint64 // map sampling rounds
}

// Run streams the package's events to opts.Out until ctx is cancelled, then prints a last
// round of map samples (if any) and returns nil. Errors are returned only for failures
// that stop the run.
func (i *Instance) Run(ctx context.Context, opts RunOptions) error {
	_, err := i.RunStats(ctx, opts)
	return err
}

// RunStats is Run, also returning the counters.
func (i *Instance) RunStats(ctx context.Context, opts RunOptions) (*Stats, error) {
	if opts.Out == nil {
		return nil, errors.New("running: no output writer")
	}
	if opts.Diag == nil {
		opts.Diag = func(string) {}
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	exps, err := i.pkg.exporters(decode.Options{Flag: i.pkg.BoolValue, Time: now})
	if err != nil {
		return nil, err
	}
	st := &Stats{}
	var wg sync.WaitGroup
	errc := make(chan error, len(exps))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// A failed write (full disk, closed pipe) stops the run: events must not vanish.
	w := &lockedWriter{w: opts.Out, fail: cancel}
	var closers []func() error
	defer func() {
		for _, c := range closers {
			c()
		}
	}()

	var starts []func()
	for _, e := range exps {
		if !e.active(i.pkg.BoolValue) {
			continue // when/unless: not printed with these options
		}
		m := i.coll.Maps[e.name]
		if m == nil {
			return nil, fmt.Errorf("running: map %s not loaded", e.name)
		}
		if opts.Format == Text && e.meta.Sample == nil && e.meta.StackTrace == nil {
			w.write([]byte(e.plan.Header() + "\n"))
		}
		var run func() error
		switch {
		case e.meta.Sample != nil:
			s := &sampler{e: e, m: m, w: w, format: opts.Format, now: now, diag: opts.Diag, st: st}
			run = func() error { return s.loop(ctx) }
		case e.specMap.Type == ebpf.RingBuf:
			rd, err := ringbuf.NewReader(m)
			if err != nil {
				return nil, fmt.Errorf("opening ring buffer %s: %w", e.name, err)
			}
			closers = append(closers, rd.Close)
			run = func() error { return pollRing(ctx, rd, e, w, opts, st) }
		case e.specMap.Type == ebpf.PerfEventArray:
			pages := opts.PerfPages
			if pages <= 0 {
				pages = 64
			}
			rd, err := perf.NewReader(m, pages*os.Getpagesize())
			if err != nil {
				return nil, fmt.Errorf("opening perf buffer %s: %w", e.name, err)
			}
			closers = append(closers, rd.Close)
			run = func() error { return pollPerf(ctx, rd, e, w, opts, st) }
		}
		starts = append(starts, func() {
			defer wg.Done()
			if err := run(); err != nil {
				errc <- err
				cancel()
			}
		})
	}
	if len(exps) == 0 {
		opts.Diag("this package exports no events or maps; running until interrupted")
	}
	wg.Add(len(starts))
	for _, s := range starts {
		go s()
	}
	if opts.Ready != nil {
		opts.Ready()
	}
	lostDone := make(chan struct{})
	lostWatched := make(chan struct{})
	go func() {
		defer close(lostWatched)
		i.watchLost(lostDone, time.Second, st, opts.Diag)
	}()
	<-ctx.Done()
	wg.Wait()
	close(lostDone)
	<-lostWatched
	close(errc)
	if lost := atomic.LoadUint64(&st.Lost); lost > 0 {
		opts.Diag(fmt.Sprintf("lost %d events in total", lost))
	}
	if err := <-errc; err != nil {
		return st, err
	}
	return st, w.failed()
}

// lockedWriter serialises the exporters' writes and remembers the first write error.
type lockedWriter struct {
	mu   sync.Mutex
	w    io.Writer
	err  error
	fail func()
}

func (l *lockedWriter) failed() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return fmt.Errorf("writing output: %w", l.err)
	}
	return nil
}

func addLost(st *Stats, n uint64) { atomic.AddUint64(&st.Lost, n) }

func (l *lockedWriter) write(b []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return
	}
	if _, err := l.w.Write(b); err != nil {
		l.err = err
		if l.fail != nil {
			l.fail()
		}
	}
}

// emit decodes one sample and writes it as a line; buf is reused between events.
func emit(e *exporter, sample []byte, buf *[]byte, w *lockedWriter, opts RunOptions, st *Stats) {
	var err error
	b := (*buf)[:0]
	switch {
	case e.meta.StackTrace != nil && opts.Format == Text:
		b, err = appendStackTrace(b, e, sample)
	case opts.Format == JSON:
		b, err = e.plan.AppendJSON(b, sample)
	default:
		b, err = e.plan.AppendText(b, sample)
	}
	if err != nil {
		atomic.AddUint64(&st.Errors, 1)
		opts.Diag(fmt.Sprintf("dropping an event from %s: %v", e.name, err))
		return
	}
	if len(b) > 0 {
		b = append(b, '\n')
		w.write(b)
	}
	*buf = b
	atomic.AddUint64(&st.Events, 1)
}

func pollRing(ctx context.Context, rd *ringbuf.Reader, e *exporter, w *lockedWriter, opts RunOptions, st *Stats) error {
	stop := context.AfterFunc(ctx, func() { rd.Close() })
	defer stop()
	defer rd.Close()
	var rec ringbuf.Record
	buf := make([]byte, 0, 512)
	for {
		if err := rd.ReadInto(&rec); err != nil {
			if errors.Is(err, ringbuf.ErrClosed) || ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("reading ring buffer %s: %w", e.name, err)
		}
		emit(e, rec.RawSample, &buf, w, opts, st)
	}
}

func pollPerf(ctx context.Context, rd *perf.Reader, e *exporter, w *lockedWriter, opts RunOptions, st *Stats) error {
	stop := context.AfterFunc(ctx, func() { rd.Close() })
	defer stop()
	defer rd.Close()
	var rec perf.Record
	buf := make([]byte, 0, 512)
	for {
		if err := rd.ReadInto(&rec); err != nil {
			if errors.Is(err, perf.ErrClosed) || ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("reading perf buffer %s: %w", e.name, err)
		}
		if rec.LostSamples > 0 {
			atomic.AddUint64(&st.Lost, rec.LostSamples)
			opts.Diag(fmt.Sprintf("lost %d events on CPU #%d", rec.LostSamples, rec.CPU))
			continue
		}
		emit(e, rec.RawSample, &buf, w, opts, st)
	}
}
