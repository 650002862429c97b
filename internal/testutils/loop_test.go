package testutils_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"ecli/internal/testutils"
)

func TestNewLoopDevice(t *testing.T) {
	testutils.RequirePrivileged(t)
	const size = 4 << 20
	var path string
	t.Run("attach", func(t *testing.T) {
		path = testutils.NewLoopDevice(t, size)
		sectors, err := os.ReadFile(filepath.Join("/sys/block", filepath.Base(path), "size"))
		if err != nil {
			t.Fatal(err)
		}
		if n, err := strconv.Atoi(strings.TrimSpace(string(sectors))); err != nil || n*512 != size {
			t.Errorf("%s: %q sectors, want %d bytes", path, sectors, size)
		}
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(make([]byte, 4096)); err != nil {
			t.Errorf("writing %s: %v", path, err)
		}
		f.Close()
	})
	// after the subtest's cleanup the device is detached: its size reads 0
	sectors, err := os.ReadFile(filepath.Join("/sys/block", filepath.Base(path), "size"))
	if err == nil && strings.TrimSpace(string(sectors)) != "0" {
		t.Errorf("%s still has %s sectors after cleanup", path, sectors)
	}
}
