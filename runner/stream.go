package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/cilium/ebpf/perf"
	"github.com/cilium/ebpf/ringbuf"

	"ecli/runner/decode"
)

// How a ring or perf buffer's events become writes. A reader decodes the lines of every
// record that is ready into its own buffer and writes the buffer when it has drained the
// ring (so an idle tool prints each event at once), when the buffer holds batchSize bytes,
// and at least every flushEvery while the ring never drains. A storm costs one write(2)
// per batch instead of one per event.
//
// Under load the reader also wakes less often: after a drain that returned busyRecords
// records or more, it waits busyPause before looking at the ring again, so records
// accumulate and the kernel wakes it once per batch rather than for nearly every record
// (a ring buffer notifies whenever the consumer has caught up). An idle tool never waits:
// the pause follows only a busy drain. The latency this adds to an event is at most
// busyPause, plus the time to decode the batch it arrives in.
const (
	batchSize   = 64 << 10
	flushEvery  = 50 * time.Millisecond
	busyRecords = 64
	busyPause   = time.Millisecond
	// timeCheckEvery is how many records are read between looks at the clock while a
	// drain goes on (for flushEvery and lastDrain).
	timeCheckEvery = 64
	// lastDrain bounds the drain at the end of a run, which reads what the program wrote
	// before the run stopped; a storm that goes on is cut there.
	lastDrain = 200 * time.Millisecond
)

// eventClock is the clock of the TIME columns during a run. The readers set it when a
// drain starts and every timeCheckEvery records, so a line's time is when its batch was
// read (within timeCheckEvery records) and the wall clock, a system call on some virtual
// machines, is read once per batch rather than once per event. Before a reader sets it,
// it reads src.
type eventClock struct {
	src func() time.Time
	mu  sync.Mutex
	t   time.Time
	set bool
}

func (c *eventClock) now() time.Time {
	c.mu.Lock()
	t, set := c.t, c.set
	c.mu.Unlock()
	if !set {
		return c.src()
	}
	return t
}

// tick reads the clock for the lines that follow.
func (c *eventClock) tick() time.Time {
	t := c.src()
	c.mu.Lock()
	c.t, c.set = t, true
	c.mu.Unlock()
	return t
}

// reset makes now read src again.
func (c *eventClock) reset() {
	c.mu.Lock()
	c.set = false
	c.mu.Unlock()
}

// pastDeadline makes a reader's next wait return at once: it reads what is ready and
// reports os.ErrDeadlineExceeded when nothing is.
var pastDeadline = time.Unix(1, 0)

// batch is one reader's output buffer.
type batch struct {
	buf []byte
	w   *lockedWriter
	// line writes every line at once (a terminal).
	line bool
	// trace, when set, renders the text of a stack_trace interpreter.
	trace *decode.StackTrace
	// since is when a look at the clock first saw unwritten lines (drain looks every
	// timeCheckEvery records); zero when buf is empty.
	since time.Time
}

func newBatch(w *lockedWriter, line bool, trace *decode.StackTrace) *batch {
	return &batch{buf: make([]byte, 0, batchSize+lineBufSize), w: w, line: line, trace: trace}
}

// flush writes what the buffer holds.
func (b *batch) flush() {
	if len(b.buf) > 0 {
		b.w.write(b.buf)
		b.buf = b.buf[:0]
	}
	b.since = time.Time{}
}

// emit decodes one sample as a line into the buffer, and writes the buffer when it is
// full or writes go line by line.
func (b *batch) emit(e *exporter, sample []byte, opts RunOptions) {
	start := len(b.buf)
	var err error
	switch {
	case b.trace != nil && opts.Format == Text:
		b.buf, err = b.trace.AppendText(b.buf, sample)
	case opts.Format == JSON:
		b.buf, err = e.plan.AppendJSON(b.buf, sample)
	default:
		b.buf, err = e.plan.AppendText(b.buf, sample)
	}
	if opts.Observer != nil {
		opts.Observer.Event(e.name, err == nil)
	}
	if err != nil {
		b.buf = b.buf[:start]
		opts.Diag(fmt.Sprintf("dropping an event from %s: %v", e.name, err))
		return
	}
	if len(b.buf) == start {
		return
	}
	b.buf = append(b.buf, '\n')
	if b.line || len(b.buf) >= batchSize {
		b.flush()
	}
}

// records is a ring or perf buffer as a stream of samples.
type records interface {
	// next returns the next sample; nil with a nil error for a record that holds none
	// (a perf buffer's lost count, already tallied).
	next() ([]byte, error)
	SetDeadline(time.Time)
	Flush() error
	Close() error
}

// stream prints the records of one buffer until ctx is done, then what the program wrote
// before that (for at most lastDrain).
func stream(ctx context.Context, rd records, e *exporter, trace *decode.StackTrace, w *lockedWriter, clock *eventClock, opts RunOptions) error {
	// Cancelling wakes a blocked read with ErrFlushed after the records still pending.
	stop := context.AfterFunc(ctx, func() { rd.Flush() })
	defer stop()
	out := newBatch(w, opts.LineBuffered, trace)
	defer out.flush()
	pause := time.NewTimer(0)
	<-pause.C
	for ctx.Err() == nil {
		// Block until a record is ready, then read what is ready without blocking.
		rd.SetDeadline(time.Time{})
		n, err := drain(rd, e, out, clock, opts, time.Time{})
		if err != nil {
			return err
		}
		out.flush()
		if n >= busyRecords {
			pause.Reset(busyPause)
			select {
			case <-ctx.Done():
				pause.Stop()
			case <-pause.C:
			}
		}
	}
	rd.SetDeadline(pastDeadline)
	_, err := drain(rd, e, out, clock, opts, time.Now().Add(lastDrain))
	return err
}

// drain reads records until none is ready (after a first wait, if the reader has no
// deadline), or until the time until, if not zero, has come. It returns how many records
// it read; a closed or flushed reader is not an error.
func drain(rd records, e *exporter, out *batch, clock *eventClock, opts RunOptions, until time.Time) (int, error) {
	for n := 0; ; n++ {
		sample, err := rd.next()
		switch {
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, ringbuf.ErrFlushed), errors.Is(err, ringbuf.ErrClosed), errors.Is(err, perf.ErrClosed):
			return n, nil
		default:
			return n, fmt.Errorf("reading %s: %w", e.name, err)
		}
		if n == 0 {
			// The first record of a drain arrives after a wait, maybe blocking; what
			// follows must not block.
			rd.SetDeadline(pastDeadline)
			clock.tick()
		}
		if sample != nil {
			out.emit(e, sample, opts)
		}
		if n%timeCheckEvery == timeCheckEvery-1 {
			now := clock.tick()
			switch {
			case len(out.buf) == 0:
			case out.since.IsZero():
				out.since = now
			case now.Sub(out.since) >= flushEvery:
				out.flush()
			}
			if !until.IsZero() && now.After(until) {
				return n + 1, nil
			}
		}
	}
}

// ringRecords reads a BPF ring buffer.
type ringRecords struct {
	*ringbuf.Reader
	rec ringbuf.Record
}

func (r *ringRecords) next() ([]byte, error) {
	if err := r.ReadInto(&r.rec); err != nil {
		return nil, err
	}
	return r.rec.RawSample, nil
}

// perfRecords reads a perf event array; lost counts go to the run's tally.
type perfRecords struct {
	*perf.Reader
	rec  perf.Record
	lost *lostTally
}

func (r *perfRecords) next() ([]byte, error) {
	if err := r.ReadInto(&r.rec); err != nil {
		return nil, err
	}
	if r.rec.LostSamples > 0 {
		r.lost.perf.Add(r.rec.LostSamples)
		return nil, nil
	}
	return r.rec.RawSample, nil
}
