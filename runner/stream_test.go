package runner

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/ringbuf"

	"ecli/runner/decode"
)

// queue is a ring buffer as stream sees it: records pushed by the test are ready at once;
// a read with no deadline blocks until one is pushed or Flush is called.
type queue struct {
	mu       sync.Mutex
	cond     *sync.Cond
	ready    [][]byte
	deadline bool // a past deadline is set: reads do not block
	flushed  bool
	waits    int // reads that found nothing ready and had to block
}

func newQueue() *queue {
	q := &queue{}
	q.cond = sync.NewCond(&q.mu)
	return q
}

func (q *queue) push(samples ...[]byte) {
	q.mu.Lock()
	q.ready = append(q.ready, samples...)
	q.mu.Unlock()
	q.cond.Broadcast()
}

func (q *queue) next() ([]byte, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.ready) == 0 && !q.deadline && !q.flushed {
		q.waits++
		q.cond.Broadcast()
	}
	for len(q.ready) == 0 {
		switch {
		case q.flushed:
			q.flushed = false
			return nil, ringbuf.ErrFlushed
		case q.deadline:
			return nil, os.ErrDeadlineExceeded
		}
		q.cond.Wait()
	}
	s := q.ready[0]
	q.ready = q.ready[1:]
	return s, nil
}

// waitBlocked waits until n reads have blocked on an empty queue.
func (q *queue) waitBlocked(n int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.waits < n || len(q.ready) > 0 {
		q.cond.Wait()
	}
}

func (q *queue) SetDeadline(t time.Time) {
	q.mu.Lock()
	q.deadline = !t.IsZero()
	q.mu.Unlock()
}

func (q *queue) Flush() error {
	q.mu.Lock()
	q.flushed = true
	q.mu.Unlock()
	q.cond.Broadcast()
	return nil
}

func (q *queue) Close() error { return nil }

// writes records every Write call.
type writes struct {
	mu     sync.Mutex
	calls  int
	lines  int
	buffer bytes.Buffer
}

func (w *writes) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls++
	w.lines += bytes.Count(b, []byte("\n"))
	return w.buffer.Write(b)
}

func (w *writes) counts() (calls, lines int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.calls, w.lines
}

// seqExporter prints 8-byte samples holding a counter.
func seqExporter(t *testing.T) *exporter {
	t.Helper()
	u64 := &btf.Int{Name: "u64", Size: 8}
	p, err := decode.Compile(&btf.Struct{Name: "ev", Size: 8, Members: []btf.Member{{Name: "seq", Type: u64}}}, decode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &exporter{name: "events", plan: p}
}

func seqSamples(from, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = binary.LittleEndian.AppendUint64(nil, uint64(from+i))
	}
	return out
}

// runStream runs stream over q until the returned stop is called; stop returns stream's
// error.
func runStream(t *testing.T, q *queue, opts RunOptions) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	e := seqExporter(t)
	w := &lockedWriter{w: opts.Out}
	if opts.Diag == nil {
		opts.Diag = func(m string) { t.Error(m) }
	}
	errc := make(chan error, 1)
	go func() { errc <- stream(ctx, q, e, nil, w, &eventClock{src: time.Now}, opts) }()
	return func() error { cancel(); return <-errc }
}

// TestStreamBatches: records that are ready together become one write; an idle reader
// writes each record as it comes; a terminal gets one write per line.
func TestStreamBatches(t *testing.T) {
	t.Run("burst", func(t *testing.T) {
		q, out := newQueue(), &writes{}
		q.push(seqSamples(0, 1000)...)
		stop := runStream(t, q, RunOptions{Out: out})
		q.waitBlocked(1)
		if calls, lines := out.counts(); calls != 1 || lines != 1000 {
			t.Errorf("1000 ready records: %d writes of %d lines, want 1 write of 1000", calls, lines)
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("idle", func(t *testing.T) {
		q, out := newQueue(), &writes{}
		stop := runStream(t, q, RunOptions{Out: out})
		q.waitBlocked(1)
		for i := range 3 {
			q.push(seqSamples(i, 1)...)
			q.waitBlocked(i + 2)
			if calls, lines := out.counts(); calls != i+1 || lines != i+1 {
				t.Errorf("after record %d: %d writes of %d lines, want one write per record", i, calls, lines)
			}
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("terminal", func(t *testing.T) {
		q, out := newQueue(), &writes{}
		q.push(seqSamples(0, 10)...)
		stop := runStream(t, q, RunOptions{Out: out, LineBuffered: true})
		q.waitBlocked(1)
		if calls, lines := out.counts(); calls != 10 || lines != 10 {
			t.Errorf("line buffered: %d writes of %d lines, want 10 of 10", calls, lines)
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("full", func(t *testing.T) {
		q, out := newQueue(), &writes{}
		const n = 20000 // lines of 5-6 bytes: more than one batch
		q.push(seqSamples(0, n)...)
		stop := runStream(t, q, RunOptions{Out: out})
		q.waitBlocked(1)
		calls, lines := out.counts()
		if lines != n || calls < 2 {
			t.Errorf("%d ready records: %d writes of %d lines, want several writes of %d", n, calls, lines, n)
		}
		out.mu.Lock()
		for i, l := range strings.Split(strings.TrimSuffix(out.buffer.String(), "\n"), "\n") {
			if !strings.HasSuffix(l, " "+fmt.Sprint(i)) {
				t.Fatalf("line %d is %q", i, l)
			}
		}
		out.mu.Unlock()
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestStreamDrainsAtStop: records still in the ring when the run stops are printed.
func TestStreamDrainsAtStop(t *testing.T) {
	q, out := newQueue(), &writes{}
	stop := runStream(t, q, RunOptions{Out: out})
	q.waitBlocked(1)
	// The reader is blocked; records arrive with the stop.
	q.mu.Lock()
	q.ready = append(q.ready, seqSamples(0, 100)...)
	q.mu.Unlock()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, lines := out.counts(); lines != 100 {
		t.Errorf("printed %d of 100 records pending at the stop", lines)
	}
}
