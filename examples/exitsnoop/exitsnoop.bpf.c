// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//go:build ignore

/* exitsnoop: process (and, with --per-thread, thread) termination, with bcc's semantics,
 * from the sched:sched_process_exit tracepoint, as bcc does. It runs in the exiting task,
 * after do_exit() stored the wait status in task->exit_code. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include "ecli/ecli.h"
#include "exitsnoop.h"

const volatile bool targ_timestamp ECLI("short=t") ECLI("long=timestamp")
	ECLI("help=include timestamp (local time default)") = false;
const volatile bool targ_utc ECLI("long=utc")
	ECLI("help=include timestamp in UTC (-t implied)") = false;
const volatile __u32 targ_pid ECLI("short=p") ECLI("long=pid") ECLI("metavar=PID")
	ECLI("help=trace this PID only") = 0;
const volatile char targ_label[LABEL_LEN] ECLI("long=label") ECLI("metavar=LABEL")
	ECLI("help=label each line") = "";
const volatile bool targ_failed ECLI("short=x") ECLI("long=failed")
	ECLI("help=trace only fails, exclude exit(0)") = false;
const volatile bool targ_per_thread ECLI("long=per-thread")
	ECLI("help=trace per thread termination") = false;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

/* wanted applies -p and --per-thread as bcc: without --per-thread only the exit of a
 * thread group leader (the process) counts. */
static __always_inline bool wanted(__u32 tgid, __u32 tid)
{
	if (targ_pid) {
		if (targ_per_thread)
			return tgid == targ_pid;
		return tgid == targ_pid && tid == tgid;
	}
	return targ_per_thread || tid == tgid;
}

SEC("tracepoint/sched/sched_process_exit")
int handle_exit(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct event *e;
	int code, i;

	if (!wanted(tgid, tid))
		return 0;
	code = BPF_CORE_READ(task, exit_code);
	if (targ_failed && code == 0)
		return 0;
	e = ecli_reserve(&events, sizeof(*e));
	if (!e)
		return 0;
	for (i = 0; i < LABEL_LEN; i++)
		e->label[i] = targ_label[i];
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->pid = tgid;
	e->tid = tid;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->age_ns = bpf_ktime_get_ns() - BPF_CORE_READ(task, start_time);
	e->exit_code = code;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/// @brief Trace process termination (bcc's exitsnoop)
/// @details One line per process that exits (exit, fatal signal), with its age and how it
/// ended: "0", "code N", "signal N (NAME)", ", core dumped". --per-thread reports every
/// thread. --utc implies -t. bcc's hidden --timespec (RHEL 7 kernels) and --ebpf have no
/// equivalent: the source is examples/exitsnoop/exitsnoop.bpf.c.
char LICENSE[] SEC("license") = "Dual BSD/GPL";
