package runner

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// AttachOptions configure Attach.
type AttachOptions struct {
	// Ifindex overrides the interface of xdp, tc and socket filter programs. Zero means
	// the package's prog metadata (ifindex, tchook.ifindex), else 1 (lo).
	Ifindex int
	// CgroupPath is the cgroup v2 directory for cgroup programs. Empty means the
	// cgroup v2 root (found in /proc/self/mountinfo).
	CgroupPath string
	// PerfFreq is the sampling frequency (Hz) of perf_event programs. Zero means 1 Hz,
	// as eunomia does.
	PerfFreq uint64

	// tcNetlink (tests only) makes tc programs skip tcx and attach with a clsact qdisc
	// and a bpf filter over rtnetlink, the path kernels before 6.6 take.
	tcNetlink bool
}

// attachFunc attaches one program. rest is the section after the family prefix and '/'.
type attachFunc func(i *Instance, pm ProgMeta, prog *ebpf.Program, rest string, o AttachOptions) error

// attachers maps a section family (the part before the first '/') to its attach function.
// Each family lives in an attach_<family>.go file.
var attachers = map[string]attachFunc{
	"tp":             attachTracepoint,
	"tracepoint":     attachTracepoint,
	"raw_tp":         attachRawTracepoint,
	"raw_tracepoint": attachRawTracepoint,
	"tp_btf":         attachTracing,
	"fentry":         attachTracing,
	"fexit":          attachTracing,
	"fmod_ret":       attachTracing,
	"lsm":            attachLSM,
	"kprobe":         attachKprobe,
	"kretprobe":      attachKprobe,
	"ksyscall":       attachKprobe,
	"kretsyscall":    attachKprobe,
	"uprobe":         attachUprobe,
	"uretprobe":      attachUprobe,
	"perf_event":     attachPerfEvent,
	"xdp":            attachXDP,
	"tc":             attachTC,
	"classifier":     attachTC,
	"tcx":            attachTC,
	"cgroup_skb":     attachCgroup,
	"cgroup":         attachCgroup,
	"socket":         attachSocketFilter,
}

// Attach attaches every program the package lists, in package order. On error, whatever
// was attached is detached again (the programs stay loaded until Close).
func (i *Instance) Attach(o AttachOptions) error {
	for _, pm := range i.pkg.Meta.Progs {
		switch sectionFamily(i.spec.Programs[pm.Name].SectionName) {
		case "tp", "tracepoint", "kprobe", "kretprobe", "ksyscall", "kretsyscall", "uprobe", "uretprobe":
			mountTracefs()
		}
	}
	for _, pm := range i.pkg.Meta.Progs {
		if !i.progActive(pm) {
			continue
		}
		prog := i.coll.Programs[pm.Name]
		if prog == nil {
			return fmt.Errorf("attaching program %s: not loaded", pm.Name)
		}
		sec := i.spec.Programs[pm.Name].SectionName
		fam, rest, _ := strings.Cut(sec, "/")
		fam = strings.TrimSuffix(fam, ".s") // sleepable variants: uprobe.s, lsm.s, fentry.s
		fn, ok := attachers[fam]
		if !ok {
			i.detach()
			return fmt.Errorf("attaching program %s: %w: section %q", pm.Name, ErrUnsupportedAttach, sec)
		}
		if err := fn(i, pm, prog, rest, o); err != nil {
			i.detach()
			return fmt.Errorf("attaching program %s (section %s): %w", pm.Name, sec, err)
		}
	}
	return nil
}

// progActive reports whether a program is attached with the instance's values (its
// when/unless bool globals).
func (i *Instance) progActive(pm ProgMeta) bool {
	if pm.When != "" && !i.values.Bool(pm.When) {
		return false
	}
	return pm.Unless == "" || !i.values.Bool(pm.Unless)
}

// checkProgConditions checks that every program's when/unless names a bool option.
func (p *Package) checkProgConditions() error {
	for pi, pm := range p.Meta.Progs {
		for _, c := range []struct{ key, name string }{{"when", pm.When}, {"unless", pm.Unless}} {
			if c.name == "" {
				continue
			}
			if o := p.Option(c.name); o == nil || o.Kind != KindBool {
				return badf(jsonPath(p.Meta.path, "bpf_skel", "progs", pi, c.key), "%q is not a bool global of the program", c.name)
			}
		}
	}
	return nil
}

func (i *Instance) addLink(l link.Link) {
	i.mu.Lock()
	i.links = append(i.links, l)
	i.mu.Unlock()
}

func (i *Instance) addCloser(fn func() error) {
	i.mu.Lock()
	i.closers = append(i.closers, fn)
	i.mu.Unlock()
}

// detach drops every link and closer, keeping the collection loaded.
func (i *Instance) detach() {
	i.mu.Lock()
	defer i.mu.Unlock()
	for j := len(i.closers) - 1; j >= 0; j-- {
		_ = i.closers[j]()
	}
	for j := len(i.links) - 1; j >= 0; j-- {
		_ = i.links[j].Close()
	}
	i.links, i.closers = nil, nil
}

// hookErr classifies an attach error: a missing hook on this kernel wraps ErrHookMissing.
func hookErr(what string, err error) error {
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, ebpf.ErrNotSupported) {
		return fmt.Errorf("%w: %s: %w", ErrHookMissing, what, err)
	}
	if errors.Is(err, os.ErrPermission) {
		if os.Geteuid() == 0 {
			return fmt.Errorf("%w: %s: the kernel refused (EPERM): %w", ErrHookMissing, what, err)
		}
		return fmt.Errorf("%s: %w: %w", what, ErrPermission, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

func needArg(fam, rest, want string) error {
	if rest == "" {
		return fmt.Errorf("%w: section %q names no %s", ErrUnsupportedAttach, fam, want)
	}
	return nil
}
