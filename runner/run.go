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
	// Ready, if set, is called once every reader is open and before the first event.
	Ready func()
}

const (
	// perfPagesPerCPU is the size of each CPU's perf event buffer, in pages.
	perfPagesPerCPU = 64
	// lineBufSize is the starting capacity of the buffer an output line is decoded into;
	// it grows for longer lines and is reused between events.
	lineBufSize = 512
	// lostPollInterval is how often the ecli:lost counters are read during a run.
	lostPollInterval = time.Second
)

// Run streams the package's events to opts.Out until ctx is cancelled, then prints a last
// round of map samples (if any) and returns nil. Errors are returned only for failures
// that stop the run. It decodes with the plans compiled at Load; one Instance runs once
// at a time.
func (i *Instance) Run(ctx context.Context, opts RunOptions) error {
	if opts.Out == nil {
		return errors.New("running: no output writer")
	}
	if opts.Diag == nil {
		opts.Diag = func(string) {}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if d, ok := i.values.Role(RoleDuration); ok {
		// An option with role duration ends the run as Ctrl-C would.
		var stop context.CancelFunc
		ctx, stop = context.WithTimeout(ctx, seconds(d))
		defer stop()
	}
	// A failed write (full disk, closed pipe) stops the run: events must not vanish.
	w := &lockedWriter{w: opts.Out, fail: cancel}
	var lost atomic.Uint64
	var closers []func() error
	defer func() {
		for _, c := range closers {
			c()
		}
	}()
	var readers []func() error
	var sym *symbols // names stack addresses, shared by the outputs; made on first need
	for _, e := range i.outputs {
		if !e.active(i.values.Bool) {
			continue // when/unless: not printed with these options
		}
		if sym == nil && (e.stacks || e.meta.StackTrace != nil) {
			sym = newSymbols(opts.Diag)
		}
		read, closer, err := i.openOutput(ctx, cancel, e, w, opts, &lost, sym)
		if err != nil {
			return err
		}
		if closer != nil {
			closers = append(closers, closer)
		}
		readers = append(readers, read)
	}
	if len(i.outputs) == 0 {
		opts.Diag("this package exports no events or maps; running until interrupted")
	}
	err := i.runReaders(ctx, cancel, readers, opts, &lost)
	if n := lost.Load(); n > 0 {
		opts.Diag(fmt.Sprintf("lost %d events in total", n))
	}
	if err != nil {
		return err
	}
	return w.failed()
}

// openOutput writes an output's text header and opens its reader. It returns the loop
// that reads the output until ctx is done, and what to close afterwards (or nil).
func (i *Instance) openOutput(ctx context.Context, stop context.CancelFunc, e *exporter, w *lockedWriter, opts RunOptions, lost *atomic.Uint64, sym *symbols) (func() error, func() error, error) {
	m := i.coll.Maps[e.name]
	if m == nil {
		return nil, nil, fmt.Errorf("running: map %s not loaded", e.name)
	}
	var trace *decode.StackTrace // eunomia's stack_trace interpreter
	if e.meta.StackTrace != nil && e.meta.Sample == nil {
		var err error
		if trace, err = decode.NewStackTrace(e.plan, decode.StackOptions{Fields: e.meta.StackTrace.FieldMap, Symbolizer: sym}); err != nil {
			return nil, nil, fmt.Errorf("running: map %s: %w", e.name, err)
		}
	}
	if opts.Format == Text && e.meta.Sample == nil && e.meta.StackTrace == nil {
		w.write([]byte(e.plan.Header() + "\n"))
	}
	switch {
	case e.meta.Sample != nil:
		s := &sampler{e: e, m: m, w: w, format: opts.Format, now: i.now, diag: opts.Diag, flag: i.values.Bool, stop: stop}
		if iv, ok := i.values.Role(RoleInterval); ok {
			s.interval = seconds(iv)
		}
		if n, ok := i.values.Role(RoleCount); ok {
			s.rounds = int(n)
		}
		if n, ok := i.values.Role(RoleRows); ok {
			s.rows = int(n)
		}
		if e.stacks {
			sc, err := decode.NewStackCounts(e.keyPlan, e.plan, decode.StackCountsOptions{Flag: i.values.Bool, Symbolizer: sym})
			if err != nil {
				return nil, nil, fmt.Errorf("running: map %s: %w", e.name, err)
			}
			s.stacks, s.lookup, s.sym, s.sizeHint = sc, stackMaps{i.coll}, sym, i.stackSizeHint(sc.Maps())
		}
		return func() error { return s.loop(ctx) }, nil, nil
	case e.specMap.Type == ebpf.RingBuf:
		rd, err := ringbuf.NewReader(m)
		if err != nil {
			return nil, nil, fmt.Errorf("opening ring buffer %s: %w", e.name, err)
		}
		return func() error { return pollRing(ctx, rd, e, trace, w, opts) }, rd.Close, nil
	case e.specMap.Type == ebpf.PerfEventArray:
		rd, err := perf.NewReader(m, perfPagesPerCPU*os.Getpagesize())
		if err != nil {
			return nil, nil, fmt.Errorf("opening perf buffer %s: %w", e.name, err)
		}
		return func() error { return pollPerf(ctx, rd, e, trace, w, opts, lost) }, rd.Close, nil
	}
	return nil, nil, fmt.Errorf("running: map %s is neither sampled nor a ring or perf buffer", e.name)
}

// runReaders runs every reader and the lost-counter watch until ctx is done (or a reader
// fails, which cancels the run), and returns the first reader's error.
func (i *Instance) runReaders(ctx context.Context, cancel context.CancelFunc, readers []func() error, opts RunOptions, lost *atomic.Uint64) error {
	var wg sync.WaitGroup
	errc := make(chan error, len(readers))
	for _, read := range readers {
		wg.Go(func() {
			if err := read(); err != nil {
				errc <- err
				cancel()
			}
		})
	}
	if opts.Ready != nil {
		opts.Ready()
	}
	lostDone := make(chan struct{})
	var watch sync.WaitGroup
	watch.Go(func() { i.watchLost(lostDone, lostPollInterval, lost, opts.Diag) })
	<-ctx.Done()
	wg.Wait()
	close(lostDone)
	watch.Wait()
	close(errc)
	return <-errc
}

// seconds converts an option's value in seconds to a Duration.
func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

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

// emit decodes one sample and writes it as a line; buf is reused between events. trace,
// when set, renders the text of a stack_trace interpreter.
func emit(e *exporter, trace *decode.StackTrace, sample []byte, buf *[]byte, w *lockedWriter, opts RunOptions) {
	var err error
	b := (*buf)[:0]
	switch {
	case trace != nil && opts.Format == Text:
		b, err = trace.AppendText(b, sample)
	case opts.Format == JSON:
		b, err = e.plan.AppendJSON(b, sample)
	default:
		b, err = e.plan.AppendText(b, sample)
	}
	if err != nil {
		opts.Diag(fmt.Sprintf("dropping an event from %s: %v", e.name, err))
		return
	}
	if len(b) > 0 {
		b = append(b, '\n')
		w.write(b)
	}
	*buf = b
}

func pollRing(ctx context.Context, rd *ringbuf.Reader, e *exporter, trace *decode.StackTrace, w *lockedWriter, opts RunOptions) error {
	stop := context.AfterFunc(ctx, func() { rd.Close() })
	defer stop()
	defer rd.Close()
	var rec ringbuf.Record
	buf := make([]byte, 0, lineBufSize)
	for {
		if err := rd.ReadInto(&rec); err != nil {
			if errors.Is(err, ringbuf.ErrClosed) || ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("reading ring buffer %s: %w", e.name, err)
		}
		emit(e, trace, rec.RawSample, &buf, w, opts)
	}
}

func pollPerf(ctx context.Context, rd *perf.Reader, e *exporter, trace *decode.StackTrace, w *lockedWriter, opts RunOptions, lost *atomic.Uint64) error {
	stop := context.AfterFunc(ctx, func() { rd.Close() })
	defer stop()
	defer rd.Close()
	var rec perf.Record
	buf := make([]byte, 0, lineBufSize)
	for {
		if err := rd.ReadInto(&rec); err != nil {
			if errors.Is(err, perf.ErrClosed) || ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("reading perf buffer %s: %w", e.name, err)
		}
		if rec.LostSamples > 0 {
			lost.Add(rec.LostSamples)
			opts.Diag(fmt.Sprintf("lost %d events on CPU #%d", rec.LostSamples, rec.CPU))
			continue
		}
		emit(e, trace, rec.RawSample, &buf, w, opts)
	}
}
