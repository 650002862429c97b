package testutils

import (
	"net"
	"os"
	"testing"
	"time"
)

func threadNetNS(t *testing.T) string {
	t.Helper()
	l, err := os.Readlink(threadNetNSPath())
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestNetNS: Do runs in another namespace with lo up, and the thread is back where it was
// afterwards; a listener opened inside is not reachable from outside.
func TestNetNS(t *testing.T) {
	RequirePrivileged(t)
	ns := NewNetNS(t)
	var inside string
	var addr net.Addr
	err := ns.Do(func() error {
		inside = threadNetNS(t)
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return err
		}
		t.Cleanup(func() { ln.Close() })
		addr = ln.Addr()
		c, err := net.DialTimeout("tcp4", addr.String(), time.Second)
		if err != nil {
			return err
		}
		return c.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
	outside := threadNetNS(t)
	if inside == outside {
		t.Fatalf("Do ran in the thread's own namespace %s", outside)
	}
	if c, err := net.DialTimeout("tcp4", addr.String(), time.Second); err == nil {
		c.Close()
		t.Errorf("listener %v of the namespace is reachable from %s", addr, outside)
	}
}

func TestPoll(t *testing.T) {
	calls := 0
	if !Poll(time.Second, func() bool { calls++; return calls == 3 }) || calls != 3 {
		t.Errorf("Poll stopped after %d calls, want true on the 3rd", calls)
	}
	start := time.Now()
	if Poll(20*time.Millisecond, func() bool { return false }) {
		t.Error("Poll reported true for a condition that never held")
	}
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Errorf("Poll gave up after %v, before its timeout", d)
	}
}
