// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//go:build ignore

/* storm: one 24-byte ring-buffer event per getpgid(2) of the traced process, for the
 * pipeline benchmark (bench/, docs/benchmarks.md). bench/gen fires the tracepoint in a
 * tight loop, passing its loop counter as the argument, so a consumer's output shows
 * which events arrived. Not a tool: it is not in packages/ and `ecli list` does not
 * show it. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "ecli/ecli.h"
#include "storm.h"

const volatile __u32 targ_tgid ECLI("short=p") ECLI("long=pid") ECLI("metavar=PID")
	ECLI("help=trace this PID only") = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} events SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getpgid")
int storm(struct trace_event_raw_sys_enter *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct event *e;

	if (targ_tgid && tgid != targ_tgid)
		return 0;
	e = ecli_reserve(&events, sizeof(*e));
	if (!e)
		return 0;
	e->ts = bpf_ktime_get_ns();
	e->pid = tgid;
	e->cpu = bpf_get_smp_processor_id();
	e->seq = ctx->args[0];
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
