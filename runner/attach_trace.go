package runner

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// Tracing families: tracepoints, raw tracepoints, BTF-typed hooks, kprobes and uprobes.

func attachTracepoint(i *Instance, pm ProgMeta, prog *ebpf.Program, rest string, _ AttachOptions) error {
	group, name, ok := strings.Cut(rest, "/")
	if !ok || group == "" || name == "" {
		return fmt.Errorf("%w: tracepoint section needs tp/GROUP/NAME", ErrUnsupportedAttach)
	}
	l, err := link.Tracepoint(group, name, prog, nil)
	if err != nil && os.Geteuid() != 0 && errors.Is(err, os.ErrPermission) {
		// The program loaded, so the capabilities are there: tracefs is what is closed.
		return fmt.Errorf("tracepoint %s:%s: reading its id from tracefs: permission denied (tracepoints need root, or read access to %s)", group, name, tracefsDir)
	}
	if err != nil {
		return hookErr("tracepoint "+group+":"+name, err)
	}
	i.addLink(l)
	return nil
}

// tracefsDir is where tracefs is mounted when neither it nor debugfs is.
const tracefsDir = "/sys/kernel/tracing"

// mountTracefs mounts tracefs at /sys/kernel/tracing when no tracefs is reachable, as
// `mount -t tracefs nodev /sys/kernel/tracing` would: tracepoint ids are read from it.
// It must run before cilium/ebpf first looks for tracefs, which it does only once per
// process. It reports whether it mounted anything.
func mountTracefs() bool {
	for _, p := range []string{tracefsDir + "/events", "/sys/kernel/debug/tracing/events"} {
		if _, err := os.Stat(p); err == nil {
			return false
		}
	}
	return unix.Mount("nodev", tracefsDir, "tracefs", 0, "") == nil
}

func attachRawTracepoint(i *Instance, pm ProgMeta, prog *ebpf.Program, rest string, _ AttachOptions) error {
	if err := needArg("raw_tp", rest, "tracepoint"); err != nil {
		return err
	}
	l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: rest, Program: prog})
	if err != nil {
		return hookErr("raw tracepoint "+rest, err)
	}
	i.addLink(l)
	return nil
}

// attachTracing handles tp_btf, fentry, fexit and fmod_ret: the target was resolved at load.
func attachTracing(i *Instance, pm ProgMeta, prog *ebpf.Program, rest string, _ AttachOptions) error {
	l, err := link.AttachTracing(link.TracingOptions{Program: prog})
	if err != nil {
		return hookErr("BTF hook "+rest, err)
	}
	i.addLink(l)
	return nil
}

func attachLSM(i *Instance, pm ProgMeta, prog *ebpf.Program, rest string, _ AttachOptions) error {
	// A kernel with BPF LSM built in but not active (bpf missing from the lsm= boot
	// parameter or CONFIG_LSM) loads and attaches LSM programs, then never runs them.
	if active, ok := activeLSMs(); ok && !slices.Contains(active, "bpf") {
		return fmt.Errorf("%w: LSM hook %s: BPF LSM is not active (%s lists %s; add bpf to the kernel's lsm= boot parameter)", ErrHookMissing, rest, lsmFile, strings.Join(active, ","))
	}
	l, err := link.AttachLSM(link.LSMOptions{Program: prog})
	if err != nil {
		return hookErr("LSM hook "+rest, err)
	}
	i.addLink(l)
	return nil
}

// lsmFile lists the active LSMs (securityfs).
const lsmFile = "/sys/kernel/security/lsm"

// activeLSMs reads the kernel's active LSMs, mounting securityfs at /sys/kernel/security
// first if it is not mounted. ok is false when the list cannot be read (no securityfs).
func activeLSMs() (lsms []string, ok bool) {
	b, err := os.ReadFile(lsmFile)
	if errors.Is(err, os.ErrNotExist) && unix.Mount("securityfs", "/sys/kernel/security", "securityfs", 0, "") == nil {
		b, err = os.ReadFile(lsmFile)
	}
	if err != nil {
		return nil, false
	}
	return parseLSMs(string(b)), true
}

// parseLSMs splits the comma-separated contents of /sys/kernel/security/lsm.
func parseLSMs(s string) []string {
	var out []string
	for _, f := range strings.Split(strings.TrimSpace(s), ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// attachKprobe handles kprobe/SYM[+OFF], kretprobe/SYM, ksyscall/NAME, kretsyscall/NAME.
func attachKprobe(i *Instance, pm ProgMeta, prog *ebpf.Program, rest string, _ AttachOptions) error {
	sec := i.spec.Programs[pm.Name].SectionName
	fam := sectionFamily(sec)
	if err := needArg(fam, rest, "function"); err != nil {
		return err
	}
	ret := fam == "kretprobe" || fam == "kretsyscall"
	var syms []string
	var opts *link.KprobeOptions
	if fam == "ksyscall" || fam == "kretsyscall" {
		syms = syscallSymbols(rest)
	} else {
		sym, off, hasOff := strings.Cut(rest, "+")
		if hasOff {
			o, err := strconv.ParseUint(off, 0, 64)
			if err != nil {
				return fmt.Errorf("%w: bad offset %q in section %q", ErrUnsupportedAttach, off, sec)
			}
			opts = &link.KprobeOptions{Offset: o}
		}
		syms = []string{sym}
	}
	if !kprobesAvailable() {
		return fmt.Errorf("%w: kprobe %s: this kernel has no kprobe support (no kprobe PMU and no tracefs kprobe_events; CONFIG_KPROBE_EVENTS is unset?)", ErrHookMissing, syms[0])
	}
	var err error
	for _, sym := range syms {
		var l link.Link
		if ret {
			l, err = link.Kretprobe(sym, prog, opts)
		} else {
			l, err = link.Kprobe(sym, prog, opts)
		}
		if err == nil {
			i.addLink(l)
			return nil
		}
	}
	return hookErr("kprobe "+syms[0], err)
}

// syscallSymbols lists the kernel function names a syscall may have, most likely first.
func syscallSymbols(name string) []string {
	prefix := map[string]string{"amd64": "__x64_sys_", "arm64": "__arm64_sys_", "s390x": "__s390x_sys_", "riscv64": "__riscv_sys_"}[runtime.GOARCH]
	if prefix == "" {
		return []string{"sys_" + name}
	}
	return []string{prefix + name, "sys_" + name}
}

// kprobesAvailable reports whether the kernel can create kprobes at all.
func kprobesAvailable() bool {
	if _, err := os.Stat("/sys/bus/event_source/devices/kprobe"); err == nil {
		return true
	}
	for _, p := range []string{"/sys/kernel/tracing/kprobe_events", "/sys/kernel/debug/tracing/kprobe_events"} {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}

// attachUprobe handles uprobe/PATH:FUNC and uretprobe/PATH:FUNC (libbpf's syntax).
func attachUprobe(i *Instance, pm ProgMeta, prog *ebpf.Program, rest string, _ AttachOptions) error {
	sec := i.spec.Programs[pm.Name].SectionName
	k := strings.LastIndexByte(rest, ':')
	if k <= 0 || k == len(rest)-1 {
		return fmt.Errorf("%w: section %q must be uprobe/PATH:FUNCTION", ErrUnsupportedAttach, sec)
	}
	path, sym := rest[:k], rest[k+1:]
	ex, err := link.OpenExecutable(path)
	if err != nil {
		return fmt.Errorf("opening %s for uprobe: %w", path, err)
	}
	var l link.Link
	if sectionFamily(sec) == "uretprobe" {
		l, err = ex.Uretprobe(sym, prog, nil)
	} else {
		l, err = ex.Uprobe(sym, prog, nil)
	}
	if err != nil {
		if errors.Is(err, link.ErrNoSymbol) {
			return fmt.Errorf("uprobe %s:%s: no such symbol: %w", path, sym, err)
		}
		return hookErr("uprobe "+path+":"+sym, err)
	}
	i.addLink(l)
	return nil
}
