package testutils

import (
	"testing"
	"time"
)

// Poll calls cond until it returns true or timeout has passed, waiting 1 ms after the first
// try and twice as long after each later one (at most 100 ms). It reports whether cond
// returned true. It is the one place tests wait for something they cannot be told about.
func Poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		if cond() {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		time.Sleep(min(wait, left))
	}
}

// WaitFor is Poll that fails the test, naming what it waited for, when cond stays false.
func WaitFor(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	if !Poll(timeout, cond) {
		tb.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
}
