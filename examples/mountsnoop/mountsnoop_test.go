package mountsnoop_test

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"ecli/internal/testutils"
	"ecli/internal/testutils/tooltest"
)

func TestMain(m *testing.M) { tooltest.Main(m) }

// bcc python mountsnoop's format string (tools/mountsnoop.py): header and every line.
const pyLine = "{:16} {:<7} {:<7} {:<11} {}"

// bccLine is pyLine in Go: strings left-aligned, numbers left-aligned with '<'.
func bccLine(comm string, pid, tid, mntns any, call string) string {
	return fmt.Sprintf("%-16v %-7v %-7v %-11v %v", comm, pid, tid, mntns, call)
}

// Layout of struct event (mountsnoop.h): MAX_STR_LEN 412.
const (
	maxStr   = 412
	offCall  = 32
	eventLen = offCall + 4*maxStr + 4 + 4 // struct mount_call is the larger arm
)

func TestGoldenFormat(t *testing.T) {
	pkg := tooltest.Builtin(t, "mountsnoop")
	plans, err := tooltest.Plans(pkg, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := plans["events"]
	if p == nil {
		t.Fatal("no events plan")
	}
	if want := bccLine("COMM", "PID", "TID", "MNT_NS", "CALL"); p.Header() != want {
		t.Errorf("header:\n got %q\nwant %q", p.Header(), want)
	}
	if p.Size() != eventLen {
		t.Fatalf("event is %d bytes, the test's layout %d", p.Size(), eventLen)
	}
	ev := func(op uint32, comm string) []byte {
		b := make([]byte, eventLen)
		copy(b, comm)
		binary.LittleEndian.PutUint32(b[16:], 100)
		binary.LittleEndian.PutUint32(b[20:], 101)
		binary.LittleEndian.PutUint32(b[24:], 4026531840)
		binary.LittleEndian.PutUint32(b[28:], op)
		return b
	}
	str := func(b []byte, i int, s string) { copy(b[offCall+i*maxStr:], s) }
	u32 := func(b []byte, off int, v int32) { binary.LittleEndian.PutUint32(b[off:], uint32(v)) }

	mount := ev(0, "mount")
	str(mount, 0, "none")
	str(mount, 1, "/mnt")
	str(mount, 2, "tmpfs")
	u32(mount, offCall+3*maxStr, 2|4)
	u32(mount, offCall+4*maxStr+4, 0)

	bind := ev(0, "mount")
	str(bind, 0, "/a \"b\"\t")
	str(bind, 1, "/c")
	u32(bind, offCall+3*maxStr, int32(-0x3f130000)|4096|16384|0x4000000) // MS_MGC_VAL|MS_BIND|MS_REC|bit 26
	u32(bind, offCall+4*maxStr+4, -13)

	umount := ev(1, "umount")
	str(umount, 0, "/mnt")
	u32(umount, offCall+maxStr, 2)
	u32(umount, offCall+maxStr+4, -22)

	zero := ev(1, "umount")
	u32(zero, offCall+maxStr+4, -1000)

	for _, tc := range []struct {
		name string
		ev   []byte
		call string
	}{
		{"mount", mount, `mount("none", "/mnt", "tmpfs", MS_NOSUID|MS_NODEV, "") = 0`},
		{"escapes-magic-unknown-bits", bind, `mount("/a \"b\"\t", "/c", "", MS_MGC_VAL|MS_BIND|MS_REC|0x4000000, "") = -EACCES`},
		{"umount", umount, `umount("/mnt", MNT_DETACH) = -EINVAL`},
		{"no-flags-unknown-errno", zero, `umount("", 0x0) = -1000`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			line, err := p.AppendText(nil, tc.ev)
			if err != nil {
				t.Fatal(err)
			}
			comm := strings.TrimRight(string(tc.ev[:16]), "\x00")
			if want := bccLine(comm, 100, 101, uint32(4026531840), tc.call); string(line) != want {
				t.Errorf("line:\n got %q\nwant %q", line, want)
			}
		})
	}
}

// self is what the test thread shows up as.
type self struct {
	comm          string
	pid, tid      int
	mntns         uint64
	dir, notMount string
}

// lockSelf pins the test to its OS thread (the TID column) and names its mount namespace.
func lockSelf(t *testing.T) self {
	t.Helper()
	runtime.LockOSThread()
	t.Cleanup(runtime.UnlockOSThread)
	_, comm := tooltest.Self(t)
	link, err := os.Readlink("/proc/thread-self/ns/mnt")
	if err != nil {
		t.Fatal(err)
	}
	ns, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(link, "mnt:["), "]"), 10, 64)
	if err != nil {
		t.Fatalf("%s: %v", link, err)
	}
	return self{comm: comm, pid: os.Getpid(), tid: unix.Gettid(), mntns: ns, dir: t.TempDir(), notMount: t.TempDir()}
}

// mountUmount mounts a tmpfs on s.dir (MS_NOSUID|MS_NODEV), unmounts it (MNT_DETACH) and
// fails an umount of a directory that is no mount point (EINVAL).
func (s self) mountUmount(t *testing.T) {
	t.Helper()
	if err := unix.Mount("none", s.dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, ""); err != nil {
		t.Fatal(err)
	}
	if err := unix.Unmount(s.dir, unix.MNT_DETACH); err != nil {
		t.Fatal(err)
	}
	if err := unix.Unmount(s.notMount, 0); err != unix.EINVAL {
		t.Fatalf("umount of %s: %v, want EINVAL", s.notMount, err)
	}
}

func (s self) lines() []string {
	return []string{
		bccLine(s.comm, s.pid, s.tid, s.mntns, fmt.Sprintf(`mount("none", %q, "tmpfs", MS_NOSUID|MS_NODEV, "") = 0`, s.dir)),
		bccLine(s.comm, s.pid, s.tid, s.mntns, fmt.Sprintf(`umount(%q, MNT_DETACH) = 0`, s.dir)),
		bccLine(s.comm, s.pid, s.tid, s.mntns, fmt.Sprintf(`umount(%q, 0x0) = -EINVAL`, s.notMount)),
	}
}

func TestMountUmount(t *testing.T) {
	t.Parallel()
	tl := tooltest.Start(t, "mountsnoop")
	tl.WaitHeader(bccLine("COMM", "PID", "TID", "MNT_NS", "CALL"))
	s := lockSelf(t)
	s.mountUmount(t)
	want := s.lines()
	var got []string
	deadline := time.Now().Add(10 * time.Second)
	for len(got) < len(want) {
		l := tl.Next(time.Until(deadline))
		if strings.Contains(l, s.dir) || strings.Contains(l, s.notMount) {
			got = append(got, l)
		}
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d:\n got %q\nwant %q", i, got[i], want[i])
		}
	}
	tl.Stop()
}

func TestJSONRun(t *testing.T) {
	t.Parallel()
	tl := tooltest.Start(t, "mountsnoop", "--json")
	s := lockSelf(t)
	// No header in JSON mode: mount until an event shows that ecli is attached.
	deadline := time.Now().Add(60 * time.Second)
	var got map[string]any
	for got == nil {
		s.mountUmount(t)
		for l, ok := tl.Poll(100 * time.Millisecond); ok && got == nil; l, ok = tl.Poll(10 * time.Millisecond) {
			var ev map[string]any
			if err := json.Unmarshal([]byte(l), &ev); err != nil {
				t.Fatalf("%q: %v", l, err)
			}
			if call, _ := ev["call"].(map[string]any); ev["tid"] == float64(s.tid) && call["source"] == "none" && call["target"] == s.dir {
				got = ev
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no event within 60 s\nstderr: %s", tl.Stderr)
		}
	}
	want := map[string]any{
		"comm": s.comm, "pid": float64(s.pid), "tid": float64(s.tid), "mnt_ns": float64(s.mntns), "op": float64(0),
		"call": map[string]any{"source": "none", "target": s.dir, "type": "tmpfs", "flags": "MS_NOSUID|MS_NODEV", "data": "", "ret": float64(0)},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("JSON:\n got %v\nwant %v", got, want)
	}
	tl.Stop()
}

func TestNoLeaks(t *testing.T) {
	testutils.RequirePrivileged(t)
	before := testutils.Snapshot(t)
	tl := tooltest.Start(t, "mountsnoop")
	tl.WaitHeader(bccLine("COMM", "PID", "TID", "MNT_NS", "CALL"))
	tl.Stop()
	testutils.WaitNoLeaks(t, before, "enter_mount", "exit_mount", "enter_umount", "exit_umount", "inflight", "zero", "events")
}
