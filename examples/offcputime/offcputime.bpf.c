// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//go:build ignore

/* offcputime: bcc's tools/offcputime.py, off-CPU time summed per stack, from sched_switch.
 *
 * bcc hooks finish_task_switch with a kprobe and takes the stacks when a task comes back
 * on CPU. Without kprobes, the sched_switch BTF tracepoint sees both tasks (as libbpf-tools'
 * offcputime does): when a task is switched out its stacks (it is still current) and the
 * time are kept in `start`; when it is switched in again the blocked time is added to
 * `counts` under those stacks. The runner prints `counts` at exit or after the duration,
 * sorted by time (the largest last, as bcc), symbolizing the stack ids (stack= hints).
 *
 * A stack the user did not ask for (-U, -K) is stored as -EFAULT: no stack, as bcc skips it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "ecli/ecli.h"

#define EFAULT 14
#define PF_KTHREAD 0x00200000
#define PERF_MAX_STACK_DEPTH 127
#define STACK_STORAGE_SIZE 16384
#define MAX_ENTRIES 10240

const volatile __u32 targ_tgid ECLI("short=p") ECLI("long=pid") ECLI("metavar=PID")
	ECLI("help=trace this PID only") = 0;
const volatile __u32 targ_pid ECLI("short=t") ECLI("long=tid") ECLI("metavar=TID")
	ECLI("help=trace this TID only") = 0;
const volatile bool user_threads_only ECLI("short=u") ECLI("long=user-threads-only")
	ECLI("help=user threads only (no kernel threads)") = false;
const volatile bool kernel_threads_only ECLI("short=k") ECLI("long=kernel-threads-only")
	ECLI("help=kernel threads only (no user threads)") = false;
const volatile bool user_stacks_only ECLI("short=U") ECLI("long=user-stacks-only")
	ECLI("help=show stacks from user space only (no kernel space stacks)") = false;
const volatile bool kernel_stacks_only ECLI("short=K") ECLI("long=kernel-stacks-only")
	ECLI("help=show stacks from kernel space only (no user space stacks)") = false;
const volatile bool delimited ECLI("short=d") ECLI("long=delimited")
	ECLI("help=insert delimiter between kernel/user stacks") = false;
const volatile bool folded ECLI("short=f") ECLI("long=folded")
	ECLI("help=output folded format") = false;
const volatile bool offset ECLI("short=s") ECLI("long=offset")
	ECLI("help=show address offsets") = false;
const volatile __u32 stack_storage_size ECLI("long=stack-storage-size") ECLI("max_entries=stack_traces")
	ECLI("help=the number of unique stack traces that can be stored and displayed") = STACK_STORAGE_SIZE;
const volatile __u64 min_block_us ECLI("short=m") ECLI("long=min-block-time") ECLI("metavar=MIN_BLOCK_TIME")
	ECLI("help=the amount of time in microseconds over which we store traces (default 1)") = 1;
const volatile __u64 max_block_us ECLI("short=M") ECLI("long=max-block-time") ECLI("metavar=MAX_BLOCK_TIME")
	ECLI("help=the amount of time in microseconds under which we store traces (default U64_MAX)") = (__u64)-1;
const volatile __s64 targ_state ECLI("long=state") ECLI("metavar=STATE")
	ECLI("help=filter on this thread state bitmask (eg, 2 == TASK_UNINTERRUPTIBLE) see include/linux/sched.h (-1: any)") = -1;
const volatile __u32 duration ECLI("positional") ECLI("role=duration") ECLI("metavar=DURATION")
	ECLI("help=duration of trace, in seconds (0: until Ctrl-C)") = 0;

/* bcc's struct key_t: user stacks resolve in the process (tgid), the line shows the thread */
struct key_t {
	__u32 pid ECLI("task=pid");
	__u32 tgid;
	int user_stack_id ECLI("stack=stack_traces,user,tgid");
	int kernel_stack_id ECLI("stack=stack_traces,kernel");
	char name[TASK_COMM_LEN] ECLI("task=comm");
} ECLI("stack_folded=folded") ECLI("stack_delim=delimited") ECLI("stack_offset=offset");

struct start_t {
	__u64 ts;
	struct key_t key;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, __u32);
	__type(value, struct start_t);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, PERF_MAX_STACK_DEPTH * sizeof(__u64));
	__uint(max_entries, STACK_STORAGE_SIZE);
} stack_traces SEC(".maps");

/// @sample {"at_exit": true, "sort": "value"}
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, struct key_t);
	__type(value, __u64);
} counts SEC(".maps");

/* task_struct->state became __state in 5.14 */
struct task_struct___pre514 {
	long state;
} __attribute__((preserve_access_index));

static __always_inline long task_state(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	return BPF_CORE_READ((struct task_struct___pre514 *)t, state);
}

static __always_inline bool wanted(struct task_struct *t)
{
	__u32 flags = BPF_CORE_READ(t, flags);

	if (targ_tgid && BPF_CORE_READ(t, tgid) != targ_tgid)
		return false;
	if (targ_pid && BPF_CORE_READ(t, pid) != targ_pid)
		return false;
	if (user_threads_only && (flags & PF_KTHREAD))
		return false;
	if (kernel_threads_only && !(flags & PF_KTHREAD))
		return false;
	if (targ_state == 0 && task_state(t) != 0)
		return false;
	if (targ_state > 0 && !(task_state(t) & targ_state))
		return false;
	return true;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct start_t *s, st = {};
	__u64 now = bpf_ktime_get_ns(), delta, *val, zero = 0;
	__u32 pid;

	/* prev leaves the CPU: it is still current, so its stacks are the blocked ones */
	if (wanted(prev)) {
		pid = BPF_CORE_READ(prev, pid);
		st.ts = now;
		st.key.pid = pid;
		st.key.tgid = BPF_CORE_READ(prev, tgid);
		st.key.user_stack_id = kernel_stacks_only ? -EFAULT : bpf_get_stackid(ctx, &stack_traces, BPF_F_USER_STACK);
		st.key.kernel_stack_id = user_stacks_only ? -EFAULT : bpf_get_stackid(ctx, &stack_traces, 0);
		bpf_get_current_comm(&st.key.name, sizeof(st.key.name));
		bpf_map_update_elem(&start, &pid, &st, BPF_ANY);
	}

	/* next comes back: add the time it was off CPU */
	pid = BPF_CORE_READ(next, pid);
	s = bpf_map_lookup_elem(&start, &pid);
	if (!s)
		return 0;
	if (s->ts <= now) {
		delta = (now - s->ts) / 1000;
		if (delta >= min_block_us && delta <= max_block_us) {
			val = bpf_map_lookup_elem(&counts, &s->key);
			if (!val) {
				bpf_map_update_elem(&counts, &s->key, &zero, BPF_NOEXIST);
				val = bpf_map_lookup_elem(&counts, &s->key);
			}
			if (val)
				__sync_fetch_and_add(val, delta);
		}
	}
	bpf_map_delete_elem(&start, &pid);
	return 0;
}

/// @brief Summarize off-CPU time by stack trace (bcc's offcputime)
/// @details Sums the microseconds threads spend blocked per user and kernel stack, in the
/// kernel, from the sched_switch tracepoint, and prints them at Ctrl-C or after DURATION
/// seconds, the largest last; -f prints folded lines for flame graphs.
char LICENSE[] SEC("license") = "GPL";
