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
// where the machine has no PMU (most VMs) it falls back to the software CPU clock.
func attachPerfEvent(i *Instance, pm ProgMeta, prog *ebpf.Program, rest string, o AttachOptions) error {
	freq := o.PerfFreq
	if freq == 0 {
		freq = 1
	}
	cpus, err := onlineCPUs()
	if err != nil {
		return err
	}
	for _, cpu := range cpus {
		fd, err := openSampler(unix.PERF_TYPE_HARDWARE, unix.PERF_COUNT_HW_CPU_CYCLES, freq, cpu)
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENODEV) {
			fd, err = openSampler(unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_CPU_CLOCK, freq, cpu)
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

func openSampler(typ uint32, config uint64, freq uint64, cpu int) (int, error) {
	attr := unix.PerfEventAttr{
		Type:   typ,
		Config: config,
		Size:   uint32(unsafe.Sizeof(unix.PerfEventAttr{})),
		Sample: freq,
		Bits:   unix.PerfBitFreq | unix.PerfBitDisabled,
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
