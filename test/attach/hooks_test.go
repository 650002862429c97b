package attach

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/features"
	"golang.org/x/sys/unix"
)

// A hook probe reports whether the running kernel has a hook, and if not, why: it looks at
// the kernel's own interfaces (sysfs, tracefs, the bpf syscall), never at version numbers.
type hookProbe func() (present bool, why string)

var tracefsRoots = []string{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// probeKprobe: kprobes need the kprobe PMU or tracefs' kprobe_events (CONFIG_KPROBE_EVENTS).
func probeKprobe() (bool, string) {
	if exists("/sys/bus/event_source/devices/kprobe") {
		return true, ""
	}
	for _, r := range tracefsRoots {
		if exists(r + "/kprobe_events") {
			return true, ""
		}
	}
	return false, "no kprobe PMU (/sys/bus/event_source/devices/kprobe) and no kprobe_events in tracefs: kernel built without CONFIG_KPROBE_EVENTS"
}

// probeUprobe is probeKprobe for uprobes (CONFIG_UPROBE_EVENTS).
func probeUprobe() (bool, string) {
	if exists("/sys/bus/event_source/devices/uprobe") {
		return true, ""
	}
	for _, r := range tracefsRoots {
		if exists(r + "/uprobe_events") {
			return true, ""
		}
	}
	return false, "no uprobe PMU and no uprobe_events in tracefs: kernel built without CONFIG_UPROBE_EVENTS"
}

// probeLoad loads a test program as it is, without attaching it: BTF-typed programs
// (fentry, fexit, tp_btf) exist when the kernel accepts the load. Kernels without BPF
// trampolines, or with lockdown, refuse it with EPERM, ENOTSUPP or EINVAL.
func probeLoad(name string) hookProbe {
	return func() (bool, string) {
		spec, err := ebpf.LoadCollectionSpec(objPath(name))
		if err != nil {
			return true, "" // let the test report the broken object
		}
		coll, err := ebpf.NewCollection(spec)
		if err == nil {
			coll.Close()
			return true, ""
		}
		const enotsupp = unix.Errno(524)
		if errors.Is(err, unix.EPERM) || errors.Is(err, enotsupp) || errors.Is(err, ebpf.ErrNotSupported) || errors.Is(err, unix.EINVAL) {
			var errno unix.Errno
			if errors.As(err, &errno) {
				return false, fmt.Sprintf("the kernel refuses to load %s programs (%s: %v)", name, unix.ErrnoName(errno), errno)
			}
			return false, fmt.Sprintf("the kernel refuses to load %s programs: %v", name, firstLine(err))
		}
		return true, ""
	}
}

// probeLSM: BPF LSM programs need the kernel to accept them (BTF trampolines, as fentry)
// and BPF LSM to be active: "bpf" in /sys/kernel/security/lsm. A kernel with BPF LSM built
// in but not active loads and attaches LSM programs, then never runs them.
func probeLSM() (bool, string) {
	if ok, why := probeLoad("lsm")(); !ok {
		return false, why
	}
	const lsmFile = "/sys/kernel/security/lsm"
	if !exists(lsmFile) {
		if err := unix.Mount("securityfs", "/sys/kernel/security", "securityfs", 0, ""); err != nil && !errors.Is(err, unix.EBUSY) {
			return true, "" // cannot tell: let the test report what happens
		}
	}
	b, err := os.ReadFile(lsmFile)
	if err != nil {
		return true, ""
	}
	active := strings.TrimSpace(string(b))
	for _, l := range strings.Split(active, ",") {
		if l == "bpf" {
			return true, ""
		}
	}
	return false, fmt.Sprintf("BPF LSM is not active: %s lists %s (no bpf in the lsm= boot parameter or CONFIG_LSM)", lsmFile, active)
}

// probeTracepoint: the syscalls tracepoint the test uses (CONFIG_FTRACE_SYSCALLS).
func probeTracepoint() (bool, string) {
	for _, r := range tracefsRoots {
		if exists(r + "/events/syscalls/sys_enter_getppid") {
			return true, ""
		}
	}
	return false, "no syscalls/sys_enter_getppid in tracefs: tracefs not mounted or kernel built without CONFIG_FTRACE_SYSCALLS"
}

// probeProgType asks the kernel whether it knows a program type.
func probeProgType(pt ebpf.ProgramType) hookProbe {
	return func() (bool, string) {
		if err := features.HaveProgramType(pt); err != nil {
			return false, fmt.Sprintf("no %s programs: %v", pt, err)
		}
		return true, ""
	}
}

// probePerfEvent: perf_event programs sample a software CPU clock.
func probePerfEvent() (bool, string) {
	if !exists("/sys/bus/event_source/devices/software") {
		return false, "no software perf events (/sys/bus/event_source/devices/software)"
	}
	return probeProgType(ebpf.PerfEvent)()
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
