package attach

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"ecli/internal/testutils"
	"ecli/runner"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Split(strings.TrimSpace(s.b.String()), "\n")
}

// TestEvents sends events through a ring buffer and a perf buffer and checks what
// (*runner.Instance).Run decodes from them: one JSON line per getppid(2) call, with this
// process's pid and command name.
func TestEvents(t *testing.T) {
	testutils.RequirePrivileged(t)
	for _, name := range []string{"ringbuf", "perfbuf"} {
		t.Run(name, func(t *testing.T) {
			if ok, why := probeTracepoint(); !ok {
				t.Fatalf("%s: the events test needs the syscalls tracepoint: %s", kernelRelease(), why)
			}
			inst, err := loadAndAttach(t, name, tgidOnly(t))
			if err != nil {
				t.Fatalf("%s: %v", kernelRelease(), err)
			}
			closed := false
			defer func() {
				if !closed {
					inst.Close()
				}
			}()

			var out syncBuffer
			ctx, cancel := context.WithCancel(context.Background())
			ready := make(chan struct{})
			done := make(chan error, 1)
			go func() {
				done <- inst.Run(ctx, runner.RunOptions{Out: &out, Format: runner.JSON, Ready: func() { close(ready) }})
			}()
			select {
			case <-ready:
			case err := <-done:
				cancel()
				t.Fatalf("Run ended before it was ready: %v", err)
			case <-time.After(10 * time.Second):
				cancel()
				t.Fatal("Run not ready after 10s")
			}
			for range rounds {
				unix.Getppid()
			}
			testutils.Poll(10*time.Second, func() bool { return len(nonEmpty(out.lines())) >= rounds })
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("Run: %v", err)
			}
			lines := nonEmpty(out.lines())
			if len(lines) != rounds {
				t.Fatalf("%s: %d events, want %d:\n%s", name, len(lines), rounds, strings.Join(lines, "\n"))
			}
			for _, l := range lines {
				var ev struct {
					PID  int    `json:"pid"`
					Comm string `json:"comm"`
				}
				if err := json.Unmarshal([]byte(l), &ev); err != nil {
					t.Fatalf("event %q: %v", l, err)
				}
				if ev.PID != os.Getpid() || ev.Comm == "" {
					t.Fatalf("event %q: want pid %d and a comm", l, os.Getpid())
				}
			}
			closed = true
			closeAndCheck(t, inst)
			t.Logf("ECLI-FEATURE %s ok %d events on %s", name, len(lines), kernelRelease())
		})
	}
}

func nonEmpty(ls []string) []string {
	var out []string
	for _, l := range ls {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}
