package testutils

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// LoopDevice is a loop block device backed by a sparse file in a test's temporary
// directory: a disk of its own that block I/O tools can be pointed at (I/O to it goes
// through the block layer's tracepoints with the disk name Name).
type LoopDevice struct {
	// Path is the device node, e.g. /dev/loop3.
	Path string
	// Name is the disk name the kernel gives the device (gendisk's disk_name), e.g. loop3.
	Name string
	// Size is the device size in bytes.
	Size int64

	dev *os.File
}

// loopAttempts bounds the retries when another process takes the free loop device between
// LOOP_CTL_GET_FREE and LOOP_SET_FD.
const loopAttempts = 20

// NewLoopDevice attaches a loop device over a new sparse file of size bytes, after
// RequirePrivileged. A cleanup detaches it (the kernel frees it once the last opener is
// gone). It uses the loop ioctls directly, so no losetup is needed.
func NewLoopDevice(tb testing.TB, size int64) *LoopDevice {
	tb.Helper()
	RequirePrivileged(tb)
	backing, err := os.Create(filepath.Join(tb.TempDir(), "disk.img"))
	if err != nil {
		tb.Fatal(err)
	}
	defer backing.Close()
	if err := backing.Truncate(size); err != nil {
		tb.Fatal(err)
	}
	ctl, err := os.OpenFile("/dev/loop-control", os.O_RDWR, 0)
	if err != nil {
		SkipUnless(tb, false, fmt.Sprintf("no loop devices: %v", err))
	}
	defer ctl.Close()
	for range loopAttempts {
		n, err := unix.IoctlRetInt(int(ctl.Fd()), unix.LOOP_CTL_GET_FREE)
		if err != nil {
			tb.Fatalf("LOOP_CTL_GET_FREE: %v", err)
		}
		d, err := attachLoop(n, backing)
		if errors.Is(err, unix.EBUSY) {
			continue // taken by someone else in the meantime
		}
		if err != nil {
			tb.Fatal(err)
		}
		d.Size = size
		tb.Cleanup(d.detach)
		return d
	}
	tb.Fatalf("no free loop device after %d attempts", loopAttempts)
	return nil
}

// attachLoop binds /dev/loopN to the backing file.
func attachLoop(n int, backing *os.File) (*LoopDevice, error) {
	name := "loop" + strconv.Itoa(n)
	path := "/dev/" + name
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		// No devtmpfs node (yet): make one for block major 7.
		if err := unix.Mknod(path, unix.S_IFBLK|0o660, int(unix.Mkdev(7, uint32(n)))); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("creating %s: %w", path, err)
		}
	}
	dev, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	if err := unix.IoctlSetInt(int(dev.Fd()), unix.LOOP_SET_FD, int(backing.Fd())); err != nil {
		dev.Close()
		if errors.Is(err, unix.EBUSY) {
			return nil, err
		}
		return nil, fmt.Errorf("LOOP_SET_FD on %s: %w", path, err)
	}
	return &LoopDevice{Path: path, Name: name, dev: dev}, nil
}

func (d *LoopDevice) detach() {
	unix.IoctlSetInt(int(d.dev.Fd()), unix.LOOP_CLR_FD, 0)
	d.dev.Close()
}

// WriteDirect runs `dd if=/dev/zero of=DEVICE bs=BS count=COUNT oflag=direct`: COUNT
// synchronous writes of BS bytes each, one block request apiece, issued by a process whose
// comm is "dd". It returns dd's pid and fails the test if dd fails.
func (d *LoopDevice) WriteDirect(tb testing.TB, bs, count int) int {
	tb.Helper()
	return d.WriteDirectAs(tb, "", bs, count)
}

// WriteDirectAs is WriteDirect with dd run under another name (a copy of dd in a temporary
// directory), so that its comm is comm: a test can tell its own I/O from that of other dd
// processes. "" is dd itself.
func (d *LoopDevice) WriteDirectAs(tb testing.TB, comm string, bs, count int) int {
	tb.Helper()
	dd := "dd"
	if comm != "" {
		src, err := exec.LookPath("dd")
		if err != nil {
			tb.Fatal(err)
		}
		data, err := os.ReadFile(src)
		if err != nil {
			tb.Fatal(err)
		}
		dd = filepath.Join(tb.TempDir(), comm)
		if err := os.WriteFile(dd, data, 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	if int64(bs)*int64(count) > d.Size {
		tb.Fatalf("%d writes of %d bytes do not fit on %s (%d bytes)", count, bs, d.Name, d.Size)
	}
	cmd := exec.Command(dd, "if=/dev/zero", "of="+d.Path, "bs="+strconv.Itoa(bs),
		"count="+strconv.Itoa(count), "oflag=direct")
	// A renamed busybox (the VM lane's dd) picks its applet from argv[0]: keep it "dd";
	// the comm comes from the file name.
	cmd.Args[0] = "dd"
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("%v: %v: %s", cmd, err, out)
	}
	return cmd.Process.Pid
}
