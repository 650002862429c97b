package runner

import (
	"strings"
	"testing"
	"time"

	"ecli/internal/testutils"
)

// ended waits for Run to return by itself (not cancelled by the test) and puts its result
// back for stop.
func (s *session) ended(timeout time.Duration) bool {
	select {
	case err := <-s.done:
		s.done <- err
		return true
	case <-time.After(timeout):
		return false
	}
}

func (s *session) count(substr string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, l := range s.lines {
		if strings.Contains(l, substr) {
			n++
		}
	}
	return n
}

// TestRoleIntervalCount: an option with role interval replaces the map's sample interval
// and one with role count ends the run after that many rounds, with no extra round at exit.
func TestRoleIntervalCount(t *testing.T) {
	p, v := loadHist(t)
	if ps := p.Positionals(); len(ps) != 2 || ps[0].Name != "interval_s" || ps[1].Name != "rounds" {
		t.Fatalf("positionals = %v, want interval_s, rounds", ps)
	}
	for name, val := range map[string]string{"interval_s": "1", "rounds": "2"} {
		if err := v.Set(name, val); err != nil {
			t.Fatal(err)
		}
	}
	began := time.Now()
	s := start(t, p, v, Text, AttachOptions{})
	execN(t, 1)
	if !s.ended(30 * time.Second) {
		t.Fatal("Run did not end after 2 rounds")
	}
	// Run has returned; its last lines may still be on their way through the pipe.
	testutils.Poll(5*time.Second, func() bool { return s.count("usecs") >= 2 })
	if n := s.count("usecs"); n != 2 {
		t.Errorf("%d histogram headers, want 2 (one per round, none at exit)", n)
	}
	// Two 1-second rounds cannot end before 2 s: the package's own interval (100 ms) was replaced.
	if d := time.Since(began); d < 2*time.Second {
		t.Errorf("run ended after %v, before two 1 s intervals", d)
	}
}

// TestRoleDuration: an option with role duration ends the run as a cancel would, with the
// final round printed.
func TestRoleDuration(t *testing.T) {
	p, v := loadHist(t)
	if err := v.Set("run_for", "1"); err != nil {
		t.Fatal(err)
	}
	if d, ok := v.Role(RoleDuration); !ok || d != 1 {
		t.Fatalf("Role(duration) = %v, %v", d, ok)
	}
	s := start(t, p, v, Text, AttachOptions{})
	execN(t, 1)
	if !s.ended(30 * time.Second) {
		t.Fatal("Run did not end after its duration")
	}
	if !testutils.Poll(5*time.Second, func() bool { return s.count("usecs") > 0 }) {
		t.Error("no histogram printed")
	}
}

func TestRoleChecks(t *testing.T) {
	p, v := loadHist(t)
	if _, ok := v.Role(RoleInterval); ok {
		t.Error("Role(interval) set without a value (the global is 0)")
	}
	if o := p.Option("rounds"); o.Role != RoleCount || o.Positional != 2 {
		t.Errorf("rounds: role %q positional %d", o.Role, o.Positional)
	}
}
