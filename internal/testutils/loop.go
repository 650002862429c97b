package testutils

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// NewLoopDevice attaches a fresh loop device to a sparse file of sizeBytes in a temporary
// directory and returns its path (/dev/loopN). It needs root (call RequirePrivileged
// first). A cleanup detaches the device and removes the file. The device is set up with
// ioctls on /dev/loop-control, so no losetup binary is needed (the VM lane has none).
func NewLoopDevice(tb testing.TB, sizeBytes int64) string {
	tb.Helper()
	backing := filepath.Join(tb.TempDir(), "loop.img")
	f, err := os.OpenFile(backing, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(sizeBytes); err != nil {
		tb.Fatalf("sizing %s: %v", backing, err)
	}
	ctl, err := os.OpenFile("/dev/loop-control", os.O_RDWR, 0)
	if err != nil {
		tb.Fatalf("loop device: %v", err)
	}
	defer ctl.Close()
	// Other tests may take the free device between GET_FREE and SET_FD: retry on EBUSY.
	for try := 0; try < 20; try++ {
		n, err := unix.IoctlRetInt(int(ctl.Fd()), unix.LOOP_CTL_GET_FREE)
		if err != nil {
			tb.Fatalf("loop device: LOOP_CTL_GET_FREE: %v", err)
		}
		path := fmt.Sprintf("/dev/loop%d", n)
		dev, err := openLoop(path, n)
		if err != nil {
			tb.Fatalf("loop device: %v", err)
		}
		err = unix.IoctlSetInt(int(dev.Fd()), unix.LOOP_SET_FD, int(f.Fd()))
		if errors.Is(err, unix.EBUSY) {
			dev.Close()
			continue
		}
		if err != nil {
			dev.Close()
			tb.Fatalf("loop device %s: LOOP_SET_FD: %v", path, err)
		}
		info := unix.LoopInfo64{Flags: unix.LO_FLAGS_AUTOCLEAR}
		copy(info.File_name[:], backing)
		if err := unix.IoctlLoopSetStatus64(int(dev.Fd()), &info); err != nil {
			unix.IoctlSetInt(int(dev.Fd()), unix.LOOP_CLR_FD, 0)
			dev.Close()
			tb.Fatalf("loop device %s: LOOP_SET_STATUS64: %v", path, err)
		}
		tb.Cleanup(func() {
			if err := unix.IoctlSetInt(int(dev.Fd()), unix.LOOP_CLR_FD, 0); err != nil && !errors.Is(err, unix.ENXIO) {
				tb.Errorf("detaching %s: %v", path, err)
			}
			dev.Close()
		})
		return path
	}
	tb.Fatal("loop device: every free device was taken by someone else 20 times")
	return ""
}

// openLoop opens /dev/loopN, creating the node when devtmpfs has not (yet) made it.
func openLoop(path string, n int) (*os.File, error) {
	dev, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		const loopMajor = 7
		if err := unix.Mknod(path, unix.S_IFBLK|0o660, int(unix.Mkdev(loopMajor, uint32(n)))); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("creating %s: %w", path, err)
		}
		dev, err = os.OpenFile(path, os.O_RDWR, 0)
	}
	return dev, err
}
