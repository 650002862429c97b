package attach

import "github.com/cilium/ebpf"

const (
	ebpfRawTracepoint = ebpf.RawTracepoint
	ebpfXDP           = ebpf.XDP
	ebpfCGroupSKB     = ebpf.CGroupSKB
	ebpfSocketFilter  = ebpf.SocketFilter
)
