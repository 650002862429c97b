// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//go:build ignore

/* oomkill: trace the kernel's OOM killer, as bcc's oomkill, without kprobes.
 *
 * bcc kprobes oom_kill_process() and reads the victim from its oom_control. Here two
 * tracepoints that __oom_kill_process() hits in a row, in the context of the task that
 * triggered the OOM, do the same: signal_generate (the SIGKILL sent to the victim: its
 * task, so its tgid and comm, on every kernel) and oom:mark_victim (which confirms it was
 * the OOM killer's; on 5.10 it carries only a pid). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "ecli/ecli.h"
#include "oomkill.h"

#define SIGKILL 9

/* the last SIGKILL each thread sent: its victim, until mark_victim claims it */
struct victim {
	__u32 tid;
	__u32 tgid;
	char comm[TASK_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct victim);
} killed SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} events SEC(".maps");

SEC("tp_btf/signal_generate")
int BPF_PROG(signal_generate, int sig, struct kernel_siginfo *info, struct task_struct *task,
	     int group, int result)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct victim v = {};

	if (sig != SIGKILL)
		return 0;
	v.tid = BPF_CORE_READ(task, pid);
	v.tgid = BPF_CORE_READ(task, tgid);
	BPF_CORE_READ_STR_INTO(&v.comm, task, comm);
	bpf_map_update_elem(&killed, &tid, &v, BPF_ANY);
	return 0;
}

SEC("tracepoint/oom/mark_victim")
int mark_victim(struct trace_event_raw_mark_victim *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct victim *v;
	struct event e = {};

	e.fpid = id >> 32;
	bpf_get_current_comm(e.fcomm, sizeof(e.fcomm));
	e.tpid = ctx->pid;
	v = bpf_map_lookup_elem(&killed, &tid);
	if (v && v->tid == (__u32)ctx->pid) {
		e.tpid = v->tgid;
		__builtin_memcpy(e.tcomm, v->comm, sizeof(e.tcomm));
	}
	/* else: a victim already exiting gets no SIGKILL; its pid is all we have */
	if (v)
		bpf_map_delete_elem(&killed, &tid);
	ecli_output(&events, &e, sizeof(e));
	return 0;
}

/// @brief Trace OOM killer kills: trigger and victim (bcc's oomkill)
/// @details One line per OOM kill: the time, the task that triggered it, the victim and
/// the load averages (/proc/loadavg when the line is printed).
char LICENSE[] SEC("license") = "Dual BSD/GPL";
