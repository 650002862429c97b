package runner

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// attachPerfEvent opens one sampling perf event per online CPU and runs prog on each
// sample, as eunomia does for SEC("perf_event"): hardware CPU cycles in frequency mode;
// where the machine has no PMU (most VMs) it falls back to the software CPU clock. The
// package's options with roles perf_period (every N events) and perf_freq (Hz) choose the
// sampling, else AttachOptions.PerfFreq, else 1 Hz.
func attachPerfEvent(i *Instance, pm ProgMeta, prog *ebpf.Program, rest string, o AttachOptions) error {
	rate := perfRate{n: o.PerfFreq, freq: true}
	if f, ok := i.values.Role(RolePerfFreq); ok {
		rate.n = uint64(f)
	}
	if p, ok := i.values.Role(RolePerfPeriod); ok {
		rate = perfRate{n: uint64(p)}
	}
	if rate.n == 0 {
		rate = perfRate{n: 1, freq: true}
	}
	cpus, err := onlineCPUs()
	if err != nil {
		return err
	}
	for _, cpu := range cpus {
		fd, err := openSampler(unix.PERF_TYPE_HARDWARE, unix.PERF_COUNT_HW_CPU_CYCLES, rate, cpu)
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENODEV) {
			fd, err = openSampler(unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_CPU_CLOCK, rate, cpu)
		}
		if err != nil {
			return hookErr(fmt.Sprintf("perf_event_open on cpu %d", cpu), err)
		}
		if err := unix.IoctlSetInt(fd, unix.PERF_EVENT_IOC_SET_BPF, prog.FD()); err != nil {
			unix.Close(fd)
			return hookErr(fmt.Sprintf("attaching to perf event on cpu %d", cpu), err)
		}
		if err := unix.IoctlSetInt(fd, unix.PERF_EVENT_IOC_ENABLE, 0); err != nil {
			unix.Close(fd)
			return fmt.Errorf("enabling perf event on cpu %d: %w", cpu, err)
		}
		i.addCloser(func() error {
			_ = unix.IoctlSetInt(fd, unix.PERF_EVENT_IOC_DISABLE, 0)
			return unix.Close(fd)
		})
	}
	return nil
}

// perfRate is how often a perf event samples: n Hz (freq), or every n events.
type perfRate struct {
	n    uint64
	freq bool
}

func openSampler(typ uint32, config uint64, rate perfRate, cpu int) (int, error) {
	attr := unix.PerfEventAttr{
		Type:   typ,
		Config: config,
		Size:   uint32(unsafe.Sizeof(unix.PerfEventAttr{})),
		Sample: rate.n,
		Bits:   unix.PerfBitDisabled,
	}
	if rate.freq {
		attr.Bits |= unix.PerfBitFreq
	}
	return unix.PerfEventOpen(&attr, -1, cpu, -1, unix.PERF_FLAG_FD_CLOEXEC)
}

func onlineCPUs() ([]int, error) {
	var set unix.CPUSet
	n, err := ebpf.PossibleCPU()
	if err != nil {
		return nil, fmt.Errorf("counting CPUs: %w", err)
	}
	// Possible CPUs that are offline fail perf_event_open with ENODEV; use the
	// scheduler's view of online CPUs where it is available.
	if err := unix.SchedGetaffinity(0, &set); err == nil && set.Count() > 0 {
		var cpus []int
		for c := 0; c < n; c++ {
			if set.IsSet(c) {
				cpus = append(cpus, c)
			}
		}
		return cpus, nil
	}
	cpus := make([]int, n)
	for c := range cpus {
		cpus[c] = c
	}
	return cpus, nil
}
