package tooltest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"ecli/internal/testutils"
)

// OOMEnv makes a test binary whose TestMain is Main an allocating child: it moves itself
// into the memory cgroup directory named by the variable and touches memory until the
// kernel's OOM killer kills it (it exits 3 if it is still alive after 4 GiB).
const OOMEnv = "ECLI_TOOLTEST_OOM_CGROUP"

// memCgroupV1 is where the cgroup v1 memory controller is mounted.
const memCgroupV1 = "/sys/fs/cgroup/memory"

func oomChild(dir string) int {
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(os.Getpid())), 0); err != nil {
		fmt.Fprintln(os.Stderr, "oom child:", err)
		return 1
	}
	var keep [][]byte
	for range 4096 {
		b := make([]byte, 1<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		keep = append(keep, b)
	}
	return 3
}

// MemCgroup creates a memory cgroup limited to limit bytes and removes it in a cleanup: under
// the cgroup v1 memory controller where it is mounted (this machine), else in the cgroup v2
// hierarchy at /sys/fs/cgroup with the memory controller enabled for its children (the VM
// lane). Without either the test is skipped, or fails under ECLI_TEST_PRIVILEGED=1.
func MemCgroup(tb testing.TB, limit int64) string {
	tb.Helper()
	parent, limitFile := memCgroupV1, "memory.limit_in_bytes"
	if _, err := os.Stat(filepath.Join(memCgroupV1, limitFile)); err != nil {
		parent, limitFile = memCgroupV2, "memory.max"
		ok := enableV2Memory()
		testutils.SkipUnless(tb, ok, fmt.Sprintf("no memory cgroup: no v1 controller at %s and no v2 memory controller at %s", memCgroupV1, memCgroupV2))
	}
	dir, err := os.MkdirTemp(parent, "ecli-test-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := os.Remove(dir); err != nil {
			tb.Errorf("removing cgroup %s: %v", dir, err)
		}
	})
	if err := os.WriteFile(filepath.Join(dir, limitFile), []byte(strconv.FormatInt(limit, 10)), 0); err != nil {
		tb.Fatal(err)
	}
	// v2: no swap, so the limit is reached (absent without swap accounting).
	os.WriteFile(filepath.Join(dir, "memory.swap.max"), []byte("0"), 0)
	return dir
}

// memCgroupV2 is the cgroup v2 hierarchy of a unified-mode system.
const memCgroupV2 = "/sys/fs/cgroup"

// enableV2Memory turns the memory controller on for the children of the cgroup v2 root and
// reports whether it is on.
func enableV2Memory() bool {
	ctl, err := os.ReadFile(filepath.Join(memCgroupV2, "cgroup.controllers"))
	if err != nil || !slices.Contains(strings.Fields(string(ctl)), "memory") {
		return false
	}
	os.WriteFile(filepath.Join(memCgroupV2, "cgroup.subtree_control"), []byte("+memory"), 0)
	sub, err := os.ReadFile(filepath.Join(memCgroupV2, "cgroup.subtree_control"))
	return err == nil && slices.Contains(strings.Fields(string(sub)), "memory")
}

// OOMChild runs this test binary as an allocating child in the memory cgroup dir (see
// OOMEnv), waits until it is killed by SIGKILL and returns its pid and its comm (the
// binary's name as the kernel cuts it). Any other end fails the test.
func OOMChild(tb testing.TB, dir string) (int, string) {
	tb.Helper()
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), OOMEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		tb.Fatalf("oom child: %v, want it killed: %s", err, out)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		tb.Fatalf("oom child: %v, want it killed by SIGKILL: %s", err, out)
	}
	comm := filepath.Base(exe)
	if len(comm) > 15 {
		comm = comm[:15]
	}
	return cmd.Process.Pid, comm
}
