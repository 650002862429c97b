package testutils

import (
	"fmt"
	"os"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// NetNS is a network namespace of a test, with lo up. Code runs in it through Do; the
// calling thread's own namespace is left as it was.
type NetNS struct {
	f *os.File
}

// NewNetNS creates a network namespace with lo up; a cleanup closes it (the kernel frees it
// once nothing else holds it).
func NewNetNS(tb testing.TB) *NetNS {
	tb.Helper()
	ns, err := newNetNS()
	if err != nil {
		tb.Fatalf("creating a network namespace: %v", err)
	}
	tb.Cleanup(func() { ns.f.Close() })
	if err := ns.Do(bringLoUp); err != nil {
		tb.Fatalf("network namespace: %v", err)
	}
	return ns
}

// newNetNS unshares a namespace on a locked thread, keeps a handle on it and moves the
// thread back.
func newNetNS() (*NetNS, error) {
	var ns *NetNS
	err := onLockedThread(func() error {
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("unshare: %w", err)
		}
		f, err := os.Open(threadNetNSPath())
		if err != nil {
			return err
		}
		ns = &NetNS{f: f}
		return nil
	})
	return ns, err
}

// Do runs f on the calling goroutine with its thread in the namespace, then moves the thread
// back to its own namespace, also when f fails the test (runtime.Goexit runs Do's deferred
// restore). Sockets f opens stay in the namespace; goroutines f starts do not run in it. If
// the thread cannot be moved back it stays locked, so the runtime discards it.
func (ns *NetNS) Do(f func() error) error {
	return onLockedThread(func() error {
		if err := unix.Setns(int(ns.f.Fd()), unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("entering the network namespace: %w", err)
		}
		return f()
	})
}

// onLockedThread runs f with the goroutine locked to its thread and restores the thread's
// network namespace afterwards; the thread is unlocked only when that succeeded.
func onLockedThread(f func() error) error {
	runtime.LockOSThread()
	orig, err := os.Open(threadNetNSPath())
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("saving the thread's network namespace: %w", err)
	}
	defer func() {
		if unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		orig.Close()
	}()
	return f()
}

func threadNetNSPath() string {
	return fmt.Sprintf("/proc/%d/task/%d/ns/net", os.Getpid(), unix.Gettid())
}

// bringLoUp sets IFF_UP on lo in the current thread's namespace.
func bringLoUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("reading lo flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bringing lo up: %w", err)
	}
	return nil
}
