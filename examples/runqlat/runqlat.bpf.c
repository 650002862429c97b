// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//go:build ignore

/* runqlat: run-queue (scheduler) latency as a histogram, with bcc's semantics.
 *
 * As bcc's raw-tracepoint version: a task's enqueue time is taken at sched_wakeup and
 * sched_wakeup_new, and at sched_switch for a preempted task that is still runnable; the
 * latency is taken when the task is switched in. tp_btf gives the task pointers. The
 * program divides by 1000 (us) or 1000000 (-m, ms) as bcc does, and the runner labels
 * the histogram with the unit (sample unit / unit_if). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "runqlat.h"

/// @brief Summarize run queue (scheduler) latency as a histogram (bcc's runqlat)
char LICENSE[] SEC("license") = "GPL";

#define MAX_ENTRIES 10240
#define TASK_RUNNING 0

const volatile bool targ_timestamp ECLI("short=T") ECLI("long=timestamp")
	ECLI("help=include timestamp on output") = false;
const volatile bool targ_ms ECLI("short=m") ECLI("long=milliseconds")
	ECLI("help=millisecond histogram") = false;
const volatile bool targ_per_process ECLI("short=P") ECLI("long=pids")
	ECLI("help=print a histogram per process ID") = false;
const volatile bool targ_per_pidns ECLI("long=pidnss")
	ECLI("help=print a histogram per PID namespace") = false;
const volatile bool targ_per_thread ECLI("short=L") ECLI("long=tids")
	ECLI("help=print a histogram per thread ID") = false;
const volatile __u32 targ_tgid ECLI("short=p") ECLI("long=pid") ECLI("metavar=PID")
	ECLI("help=trace this PID only") = 0;
const volatile __u32 interval ECLI("positional=1") ECLI("role=interval")
	ECLI("metavar=INTERVAL") ECLI("help=output interval, in seconds") = 0;
const volatile __u32 count ECLI("positional=2") ECLI("role=count")
	ECLI("metavar=COUNT") ECLI("help=number of outputs") = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, __u32);
	__type(value, __u64);
} start SEC(".maps");

/// @sample {"interval": 0, "type": "log2_hist", "unit": "usecs", "unit_if": "targ_ms:msecs", "time": "targ_timestamp", "clear_map": true, "sort": "pid,tid,pidns", "banner": "Tracing run queue latency... Hit Ctrl-C to end."}
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, struct hist_key);
	__type(value, struct hist);
} hists SEC(".maps");

/* task_struct's state was renamed __state in 5.14 */
struct task_struct___o {
	volatile long state;
} __attribute__((preserve_access_index));

static __always_inline long task_state(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	return BPF_CORE_READ((struct task_struct___o *)t, state);
}

static __always_inline int trace_enqueue(__u32 tgid, __u32 pid)
{
	__u64 ts;

	if (!pid || (targ_tgid && targ_tgid != tgid))
		return 0;
	ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&start, &pid, &ts, BPF_ANY);
	return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(sched_wakeup, struct task_struct *p)
{
	return trace_enqueue(p->tgid, p->pid);
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(sched_wakeup_new, struct task_struct *p)
{
	return trace_enqueue(p->tgid, p->pid);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	static const struct hist zero;
	struct hist_key key = {};
	struct hist *h;
	__u64 *tsp, delta;
	__u32 pid, tgid;

	/* involuntary context switch: the task stays runnable, its wait starts now */
	if (task_state(prev) == TASK_RUNNING)
		trace_enqueue(prev->tgid, prev->pid);

	pid = next->pid;
	tgid = next->tgid;
	if (targ_tgid && targ_tgid != tgid)
		return 0;
	tsp = bpf_map_lookup_elem(&start, &pid);
	if (!tsp)
		return 0; /* missed the enqueue */
	delta = bpf_ktime_get_ns() - *tsp;
	delta /= targ_ms ? 1000000U : 1000U;

	/* each flag fills the key member it shows (runqlat.h) */
	if (targ_per_thread)
		key.tid = pid;
	if (targ_per_process)
		key.pid = tgid;
	if (targ_per_pidns)
		key.pidns = BPF_CORE_READ(next, nsproxy, pid_ns_for_children, ns.inum);
	h = ecli_hist_get(&hists, &key, &zero);
	if (h)
		__sync_fetch_and_add(&h->slots[ecli_hist_slot(ecli_log2l(delta))], 1);
	bpf_map_delete_elem(&start, &pid);
	return 0;
}
