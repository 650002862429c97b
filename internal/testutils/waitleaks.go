package testutils

import (
	"fmt"
	"testing"
	"time"
)

// WaitNoLeaks is CheckNoLeaks for objects another process loaded: the kernel frees a dead
// process's maps and programs from a work queue, so it retries for up to 10 s and fails
// the test with the complaints of the last try.
func WaitNoLeaks(tb testing.TB, before Objects, names ...string) {
	tb.Helper()
	var rec *leakRecorder
	if Poll(10*time.Second, func() bool {
		rec = &leakRecorder{TB: tb}
		CheckNoLeaks(rec, before, names...)
		return len(rec.msgs) == 0
	}) {
		return
	}
	for _, m := range rec.msgs {
		tb.Error(m)
	}
}

// leakRecorder keeps CheckNoLeaks' complaints instead of failing the test.
type leakRecorder struct {
	testing.TB
	msgs []string
}

func (r *leakRecorder) Errorf(format string, args ...any) {
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}
