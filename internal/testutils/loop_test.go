package testutils

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// blockStat reads the completed reads and writes of a disk from /sys/block/NAME/stat.
func blockStat(t *testing.T, name string) (reads, writes uint64) {
	t.Helper()
	b, err := os.ReadFile("/sys/block/" + name + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b))
	if len(f) < 5 {
		t.Fatalf("/sys/block/%s/stat: %q", name, b)
	}
	reads, _ = strconv.ParseUint(f[0], 10, 64)
	writes, _ = strconv.ParseUint(f[4], 10, 64)
	return reads, writes
}

func TestLoopDevice(t *testing.T) {
	const size = 1 << 20
	d := NewLoopDevice(t, size)
	b, err := os.ReadFile("/sys/block/" + d.Name + "/size")
	if err != nil {
		t.Fatal(err)
	}
	if sectors := strings.TrimSpace(string(b)); sectors != strconv.Itoa(size/512) {
		t.Fatalf("%s has %s sectors, want %d", d.Name, sectors, size/512)
	}
	_, before := blockStat(t, d.Name)
	if pid := d.WriteDirect(t, 4096, 3); pid <= 0 {
		t.Fatalf("dd pid %d", pid)
	}
	if _, after := blockStat(t, d.Name); after-before != 3 {
		t.Fatalf("%s completed %d writes, want 3", d.Name, after-before)
	}
	second := NewLoopDevice(t, size)
	if second.Name == d.Name {
		t.Fatalf("two loop devices named %s", d.Name)
	}
}
