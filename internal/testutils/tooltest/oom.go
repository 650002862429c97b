package tooltest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
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

// MemCgroup creates a cgroup v1 memory cgroup limited to limit bytes (skipping the test
// where the v1 memory controller is not mounted) and removes it in a cleanup.
func MemCgroup(tb testing.TB, limit int64) string {
	tb.Helper()
	if _, err := os.Stat(filepath.Join(memCgroupV1, "memory.limit_in_bytes")); err != nil {
		tb.Skipf("no cgroup v1 memory controller at %s: %v", memCgroupV1, err)
	}
	dir, err := os.MkdirTemp(memCgroupV1, "ecli-test-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := os.Remove(dir); err != nil {
			tb.Errorf("removing cgroup %s: %v", dir, err)
		}
	})
	if err := os.WriteFile(filepath.Join(dir, "memory.limit_in_bytes"), []byte(strconv.FormatInt(limit, 10)), 0); err != nil {
		tb.Fatal(err)
	}
	return dir
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
