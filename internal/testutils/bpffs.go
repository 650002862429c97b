package testutils

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// BPFFSDir returns a fresh directory on a BPF filesystem for pinning, mounting one at
// /sys/fs/bpf when none is there; a cleanup removes the directory.
func BPFFSDir(tb testing.TB) string {
	tb.Helper()
	const dir = "/sys/fs/bpf"
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil || st.Type != unix.BPF_FS_MAGIC {
		if err := unix.Mount("bpf", dir, "bpf", 0, "mode=0700"); err != nil {
			tb.Fatalf("mounting bpffs at %s: %v", dir, err)
		}
	}
	d, err := os.MkdirTemp(dir, "ecli-test-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(d) })
	return d
}
