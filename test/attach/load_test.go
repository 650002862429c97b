package attach

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// TODO(runner): this file attaches with cilium/ebpf directly until ecli/runner lands; then
// loadAndAttach becomes runner.ParseSplit → SetOption → runner.Load → (*Instance).Attach and
// errHookMissing becomes runner.ErrHookMissing.

// errHookMissing stands for runner.ErrHookMissing.
var errHookMissing = errors.New("hook not available on this kernel")

func objPath(name string) string {
	return filepath.Join("..", "..", "testdata", "attach", name+".bpf.o")
}

// instance is what a test needs of a loaded and attached package.
type instance struct {
	coll    *ebpf.Collection
	closers []io.Closer
}

// Map returns a map of the package by name, or nil.
func (i *instance) Map(name string) *ebpf.Map { return i.coll.Maps[name] }

func (i *instance) Close() error {
	var errs []error
	for j := len(i.closers) - 1; j >= 0; j-- {
		errs = append(errs, i.closers[j].Close())
	}
	i.coll.Close()
	return errors.Join(errs...)
}

// loadAndAttach loads testdata/attach/<name>.bpf.o with the given globals (values as a user
// would type them) and attaches each program by its ELF section.
func loadAndAttach(t *testing.T, name string, globals map[string]string) (*instance, error) {
	t.Helper()
	spec, err := ebpf.LoadCollectionSpec(objPath(name))
	if err != nil {
		t.Fatalf("reading %s: %v", objPath(name), err)
	}
	for k, v := range globals {
		vs := spec.Variables[k]
		if vs == nil {
			t.Fatalf("%s: no global %s", name, k)
		}
		n, err := strconv.ParseUint(v, 10, int(vs.Size())*8)
		if err != nil {
			t.Fatalf("%s: global %s: %v", name, k, err)
		}
		switch vs.Size() {
		case 2:
			err = vs.Set(uint16(n))
		case 4:
			err = vs.Set(uint32(n))
		default:
			err = vs.Set(n)
		}
		if err != nil {
			t.Fatalf("%s: setting %s: %v", name, k, err)
		}
	}
	coll, err := ebpf.NewCollection(spec)
	if err != nil {
		const enotsupp = unix.Errno(524)
		if errors.Is(err, unix.EPERM) || errors.Is(err, enotsupp) {
			return nil, fmt.Errorf("loading %s: %w: %v", name, errHookMissing, err)
		}
		return nil, fmt.Errorf("loading %s: %w", name, err)
	}
	inst := &instance{coll: coll}
	for pname, ps := range spec.Programs {
		c, err := attachSection(ps.SectionName, coll.Programs[pname])
		if err != nil {
			inst.Close()
			if errors.Is(err, ebpf.ErrNotSupported) || errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("attaching %s (section %s): %w: %v", pname, ps.SectionName, errHookMissing, err)
			}
			return nil, fmt.Errorf("attaching %s (section %s): %w", pname, ps.SectionName, err)
		}
		inst.closers = append(inst.closers, c)
	}
	return inst, nil
}

func attachSection(sec string, prog *ebpf.Program) (io.Closer, error) {
	kind, arg, _ := strings.Cut(sec, "/")
	switch kind {
	case "kprobe":
		return link.Kprobe(arg, prog, nil)
	case "kretprobe":
		return link.Kretprobe(arg, prog, nil)
	case "ksyscall":
		return link.Kprobe("__x64_sys_"+arg, prog, nil)
	case "fentry", "fexit", "tp_btf":
		return link.AttachTracing(link.TracingOptions{Program: prog})
	case "uprobe", "uretprobe":
		path, sym, ok := strings.Cut(arg, ":")
		if !ok {
			return nil, fmt.Errorf("no binary:function in %s", sec)
		}
		ex, err := link.OpenExecutable(path)
		if err != nil {
			return nil, err
		}
		if kind == "uprobe" {
			return ex.Uprobe(sym, prog, nil)
		}
		return ex.Uretprobe(sym, prog, nil)
	case "tracepoint":
		group, name, _ := strings.Cut(arg, "/")
		return link.Tracepoint(group, name, prog, nil)
	case "raw_tp":
		return link.AttachRawTracepoint(link.RawTracepointOptions{Name: arg, Program: prog})
	case "xdp":
		return link.AttachXDP(link.XDPOptions{Program: prog, Interface: loIndex()})
	case "tc":
		return link.AttachTCX(link.TCXOptions{Program: prog, Interface: loIndex(), Attach: ebpf.AttachTCXIngress})
	case "cgroup_skb":
		cg, err := ownCgroup()
		if err != nil {
			return nil, err
		}
		at := ebpf.AttachCGroupInetEgress
		if arg == "ingress" {
			at = ebpf.AttachCGroupInetIngress
		}
		return link.AttachCgroup(link.CgroupOptions{Path: cg, Attach: at, Program: prog})
	case "socket":
		return packetSocket(prog)
	case "perf_event":
		return cpuClock(prog)
	}
	return nil, fmt.Errorf("section %s: unsupported", sec)
}

func loIndex() int {
	ifc, err := net.InterfaceByName("lo")
	if err != nil {
		return 1
	}
	return ifc.Index
}

// ownCgroup returns the cgroup v2 directory of this process.
func ownCgroup() (string, error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", err
	}
	var rel string
	for _, l := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(l, "0::"); ok {
			rel = p
		}
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return "", err
	}
	for _, l := range strings.Split(string(mi), "\n") {
		pre, post, ok := strings.Cut(l, " - ")
		if !ok || !strings.HasPrefix(post, "cgroup2 ") {
			continue
		}
		f := strings.Fields(pre)
		if len(f) >= 5 {
			return filepath.Join(f[4], rel), nil
		}
	}
	return "", fmt.Errorf("no cgroup2 mount: %w", os.ErrNotExist)
}

type fdCloser int

func (f fdCloser) Close() error { return unix.Close(int(f)) }

// packetSocket opens a packet socket on lo and attaches a socket filter to it.
func packetSocket(prog *ebpf.Program) (io.Closer, error) {
	proto := int(htons(unix.ETH_P_ALL))
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, proto)
	if err != nil {
		return nil, err
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: loIndex()}); err != nil {
		unix.Close(fd)
		return nil, err
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ATTACH_BPF, prog.FD()); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return fdCloser(fd), nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

type multiCloser []io.Closer

func (m multiCloser) Close() error {
	var errs []error
	for _, c := range m {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// cpuClock samples the software CPU clock at 1 kHz on every CPU and runs prog on each sample.
func cpuClock(prog *ebpf.Program) (io.Closer, error) {
	var cs multiCloser
	for cpu := 0; cpu < runtime.NumCPU(); cpu++ {
		attr := unix.PerfEventAttr{
			Type:   unix.PERF_TYPE_SOFTWARE,
			Config: unix.PERF_COUNT_SW_CPU_CLOCK,
			Size:   uint32(unsafe.Sizeof(unix.PerfEventAttr{})),
			Sample: 1000,
			Bits:   unix.PerfBitFreq | unix.PerfBitDisabled,
		}
		fd, err := unix.PerfEventOpen(&attr, -1, cpu, -1, unix.PERF_FLAG_FD_CLOEXEC)
		if err != nil {
			cs.Close()
			return nil, fmt.Errorf("perf_event_open on cpu %d: %w", cpu, err)
		}
		cs = append(cs, fdCloser(fd))
		if err := unix.IoctlSetInt(fd, unix.PERF_EVENT_IOC_SET_BPF, prog.FD()); err != nil {
			cs.Close()
			return nil, fmt.Errorf("PERF_EVENT_IOC_SET_BPF: %w", err)
		}
		if err := unix.IoctlSetInt(fd, unix.PERF_EVENT_IOC_ENABLE, 0); err != nil {
			cs.Close()
			return nil, fmt.Errorf("PERF_EVENT_IOC_ENABLE: %w", err)
		}
	}
	return cs, nil
}
