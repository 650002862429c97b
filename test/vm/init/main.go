// Command init is PID 1 of the stock-kernel lane's initramfs (see test/vm/README.md).
//
// It mounts the pseudo file systems the privileged tests need, brings up lo, runs every test
// binary listed in /vmtest/tests with ECLI_TEST_PRIVILEGED=1 and -test.v, prints the results
// between marker lines on the serial console, and powers the VM off through qemu's
// isa-debug-exit device: byte 0 when every binary passed (qemu exits 1), 1 otherwise (qemu
// exits 3).
//
// init itself never calls bpf(2): cilium/ebpf caches /proc/self/mountinfo on its first bpf
// call, which in a Go PID 1 happens before main can mount /proc. The test binaries are
// started after the mounts, so they see /proc and bpffs from their first instruction.
package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Marker lines; test/vm parses them from the serial log.
const (
	markKernel = "ECLI-VMTEST KERNEL"
	markBegin  = "ECLI-VMTEST BEGIN"
	markEnd    = "ECLI-VMTEST END"
	markDone   = "ECLI-VMTEST DONE"
)

func main() {
	ok := run()
	if ok {
		fmt.Printf("%s PASS\n", markDone)
	} else {
		fmt.Printf("%s FAIL\n", markDone)
	}
	os.Stdout.Sync()
	exit(ok)
}

func run() bool {
	if err := mountAll(); err != nil {
		fmt.Println("init:", err)
		return false
	}
	var uts unix.Utsname
	unix.Uname(&uts)
	fmt.Printf("%s %s\n", markKernel, unix.ByteSliceToString(uts.Release[:]))
	loadModules(unix.ByteSliceToString(uts.Release[:]))
	if err := linkUp("lo"); err != nil {
		fmt.Println("init:", err)
		return false
	}

	f, err := os.Open("/vmtest/tests")
	if err != nil {
		fmt.Println("init:", err)
		return false
	}
	defer f.Close()
	ok := true
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// Each line: import path, directory (cwd of the test), binary.
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 {
			continue
		}
		if !runTest(fields[0], fields[1], fields[2]) {
			ok = false
		}
	}
	return ok
}

func runTest(pkg, dir, bin string) bool {
	fmt.Printf("%s %s\n", markBegin, pkg)
	start := time.Now()
	cmd := exec.Command(bin, "-test.v", "-test.count=1", "-test.timeout=10m")
	cmd.Dir = dir
	cmd.Env = []string{
		"PATH=/bin:/sbin:/usr/bin",
		"HOME=/tmp",
		"TMPDIR=/tmp",
		"ECLI_TEST_PRIVILEGED=1",
		"ECLI_VMTEST=1",
	}
	if _, err := os.Stat("/bin/ecli"); err == nil {
		// Tests that run the CLI use this binary instead of building one (no go in the VM).
		cmd.Env = append(cmd.Env, "ECLI_BIN=/bin/ecli")
	}
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stdout
	err := cmd.Run()
	result := "PASS"
	if err != nil {
		result = "FAIL"
		fmt.Printf("init: %s: %v\n", pkg, err)
	}
	fmt.Printf("%s %s %s %.1fs\n", markEnd, pkg, result, time.Since(start).Seconds())
	return err == nil
}

func mountAll() error {
	mounts := []struct{ src, dst, fstype string }{
		{"proc", "/proc", "proc"},
		{"sysfs", "/sys", "sysfs"},
		{"devtmpfs", "/dev", "devtmpfs"},
		{"tmpfs", "/tmp", "tmpfs"},
		{"tracefs", "/sys/kernel/tracing", "tracefs"},
		{"debugfs", "/sys/kernel/debug", "debugfs"},
		{"bpffs", "/sys/fs/bpf", "bpf"},
		{"cgroup2", "/sys/fs/cgroup", "cgroup2"},
		{"securityfs", "/sys/kernel/security", "securityfs"}, // the active LSMs
	}
	for _, m := range mounts {
		if err := os.MkdirAll(m.dst, 0o755); err != nil {
			return fmt.Errorf("creating %s: %w", m.dst, err)
		}
		if err := unix.Mount(m.src, m.dst, m.fstype, 0, ""); err != nil && err != unix.EBUSY {
			return fmt.Errorf("mounting %s on %s: %w", m.fstype, m.dst, err)
		}
	}
	return nil
}

// linkUp sets IFF_UP on an interface.
func linkUp(name string) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("bringing up %s: %w", name, err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return fmt.Errorf("bringing up %s: %w", name, err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bringing up %s: %w", name, err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bringing up %s: %w", name, err)
	}
	return nil
}

// exit ends the VM: isa-debug-exit at port 0xf4 makes qemu exit with (byte<<1)|1; power-off
// is the fallback when the device is absent (qemu then exits 0, which test/vm reads as a failure).
func exit(ok bool) {
	var b byte = 1
	if ok {
		b = 0
	}
	if f, err := os.OpenFile("/dev/port", os.O_WRONLY, 0); err == nil {
		f.WriteAt([]byte{b}, 0xf4)
		f.Close()
	}
	unix.Sync()
	syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF)
	for {
		time.Sleep(time.Hour)
	}
}

// loadModules loads the modules test/vm put into /lib/modules/<release>/vmtest.load, in
// order (dependencies first). A module that fails to load is reported, not fatal: the tests
// that need it then say what is missing.
func loadModules(release string) {
	list, err := os.ReadFile("/lib/modules/" + release + "/vmtest.load")
	if err != nil {
		fmt.Printf("init: no modules for %s: %v\n", release, err)
		return
	}
	for _, p := range strings.Fields(string(list)) {
		f, err := os.Open(p)
		if err != nil {
			fmt.Printf("init: module %s: %v\n", p, err)
			continue
		}
		err = unix.FinitModule(int(f.Fd()), "", 0)
		f.Close()
		switch {
		case err == nil:
			fmt.Printf("init: loaded module %s\n", p)
		case err == unix.EEXIST:
		default:
			fmt.Printf("init: loading module %s: %v\n", p, err)
		}
	}
}
