// Package testutils holds helpers shared by ecli's tests: privilege checks that fail
// instead of skipping in CI, and kernel-object leak checks.
package testutils

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/rlimit"
)

// EnvPrivileged is the environment variable that makes privileged tests mandatory.
const EnvPrivileged = "ECLI_TEST_PRIVILEGED"

var memlockOnce sync.Once

// Mandatory reports whether privileged tests must run (ECLI_TEST_PRIVILEGED=1).
func Mandatory() bool { return os.Getenv(EnvPrivileged) == "1" }

// RequirePrivileged skips the test when not running as root — or fails it when
// ECLI_TEST_PRIVILEGED=1, so that CI never skips silently.
func RequirePrivileged(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() == 0 {
		// Kernels before 5.11 charge BPF maps to RLIMIT_MEMLOCK: tests that create maps
		// themselves (pinned maps, counters) need it lifted as the runner does.
		memlockOnce.Do(func() {
			if err := rlimit.RemoveMemlock(); err != nil {
				tb.Logf("removing the memlock limit: %v", err)
			}
		})
		return
	}
	if Mandatory() {
		tb.Fatalf("%s=1 but not running as root", EnvPrivileged)
	}
	tb.Skip("needs root (CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN) to load BPF programs")
}

// SkipUnless skips with reason when ok is false — or fails when ECLI_TEST_PRIVILEGED=1.
func SkipUnless(tb testing.TB, ok bool, reason string) {
	tb.Helper()
	if ok {
		return
	}
	if Mandatory() {
		tb.Fatalf("%s=1 but: %s", EnvPrivileged, reason)
	}
	tb.Skip(reason)
}

// Objects is a snapshot of the BPF programs, maps and links in the kernel.
type Objects struct {
	Progs map[ebpf.ProgramID]bool
	Maps  map[ebpf.MapID]bool
	Links map[link.ID]bool
}

// Snapshot lists the kernel's BPF object ids.
func Snapshot(tb testing.TB) Objects {
	tb.Helper()
	o := Objects{map[ebpf.ProgramID]bool{}, map[ebpf.MapID]bool{}, map[link.ID]bool{}}
	for id := ebpf.ProgramID(0); ; {
		next, err := ebpf.ProgramGetNextID(id)
		if errors.Is(err, os.ErrNotExist) {
			break
		}
		if err != nil {
			tb.Fatalf("listing programs: %v", err)
		}
		o.Progs[next], id = true, next
	}
	for id := ebpf.MapID(0); ; {
		next, err := ebpf.MapGetNextID(id)
		if errors.Is(err, os.ErrNotExist) {
			break
		}
		if err != nil {
			tb.Fatalf("listing maps: %v", err)
		}
		o.Maps[next], id = true, next
	}
	it := new(link.Iterator)
	defer it.Close()
	for it.Next() {
		o.Links[it.ID] = true
	}
	return o
}

// CheckNoLeaks fails the test when programs, maps or links exist now that were not in
// before and that carry one of names (program or map names as the kernel shows them).
// Other tests or processes may create objects concurrently, so only named ones count.
func CheckNoLeaks(tb testing.TB, before Objects, names ...string) {
	tb.Helper()
	want := map[string]bool{}
	for _, n := range names {
		if len(n) > 15 {
			n = n[:15] // BPF_OBJ_NAME_LEN
		}
		want[n] = true
	}
	after := Snapshot(tb)
	for id := range after.Progs {
		if before.Progs[id] {
			continue
		}
		p, err := ebpf.NewProgramFromID(id)
		if err != nil {
			continue
		}
		info, err := p.Info()
		p.Close()
		if err == nil && (len(names) == 0 || want[info.Name]) {
			tb.Errorf("program %q (id %d) is still loaded", info.Name, id)
		}
	}
	for id := range after.Maps {
		if before.Maps[id] {
			continue
		}
		m, err := ebpf.NewMapFromID(id)
		if err != nil {
			continue
		}
		info, err := m.Info()
		m.Close()
		if err == nil && (len(names) == 0 || want[info.Name]) {
			tb.Errorf("map %q (id %d) is still loaded", info.Name, id)
		}
	}
	for id := range after.Links {
		if !before.Links[id] && len(names) == 0 {
			tb.Errorf("link %d is still attached", id)
		}
	}
}

// CheckGone fails the test when any of the given program or map ids still exists in the
// kernel: use it after Close with the ids of the objects a test loaded. The kernel frees
// maps after an RCU grace period once their last program is gone, so it waits up to 5s.
func CheckGone(tb testing.TB, progs []ebpf.ProgramID, maps []ebpf.MapID) {
	tb.Helper()
	var left []string
	Poll(5*time.Second, func() bool {
		left = left[:0]
		for _, id := range progs {
			if p, err := ebpf.NewProgramFromID(id); err == nil {
				left = append(left, fmt.Sprintf("program %q (id %d)", progName(p), id))
				p.Close()
			}
		}
		for _, id := range maps {
			if m, err := ebpf.NewMapFromID(id); err == nil {
				left = append(left, fmt.Sprintf("map %q (id %d)", mapName(m), id))
				m.Close()
			}
		}
		return len(left) == 0
	})
	for _, l := range left {
		tb.Errorf("%s is still in the kernel after Close", l)
	}
}

func progName(p *ebpf.Program) string {
	if info, err := p.Info(); err == nil {
		return info.Name
	}
	return ""
}

func mapName(m *ebpf.Map) string {
	if info, err := m.Info(); err == nil {
		return info.Name
	}
	return ""
}
