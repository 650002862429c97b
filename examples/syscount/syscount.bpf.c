// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//go:build ignore

/* syscount: count syscalls (and their latency) per syscall or per process, as bcc's
 * syscount, from the raw_syscalls tracepoints (bcc uses the same two). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "ecli/ecli.h"
#include "syscount.h"

#define MAX_ENTRIES 10240
/* no syscall: the --syscall default (read is 0) */
#define NO_SYSCALL ((enum ecli_syscall)0xffffffff)

const volatile __u32 targ_pid ECLI("short=p") ECLI("long=pid") ECLI("metavar=PID")
	ECLI("help=trace only this pid") = 0;
const volatile __u32 targ_tid ECLI("short=t") ECLI("long=tid") ECLI("metavar=TID")
	ECLI("help=trace only this tid") = 0;
const volatile __u32 interval ECLI("short=i") ECLI("long=interval") ECLI("metavar=INTERVAL")
	ECLI("role=interval") ECLI("help=print summary at this interval (seconds)") = 0;
const volatile __u32 duration ECLI("short=d") ECLI("long=duration") ECLI("metavar=DURATION")
	ECLI("role=duration") ECLI("help=total duration of trace, in seconds") = 0;
const volatile __u32 top ECLI("short=T") ECLI("long=top") ECLI("metavar=TOP") ECLI("role=rows")
	ECLI("help=print only the top syscalls by count or latency") = 10;
const volatile bool targ_failed ECLI("short=x") ECLI("long=failures")
	ECLI("help=trace only failed syscalls (return < 0)") = false;
const volatile enum ecli_errno targ_errno ECLI("short=e") ECLI("long=errno") ECLI("metavar=ERRNO")
	ECLI("help=trace only syscalls that return this error (numeric or EPERM, etc.)") = 0;
const volatile bool targ_latency ECLI("short=L") ECLI("long=latency")
	ECLI("help=collect syscall latency") = false;
const volatile bool targ_ms ECLI("short=m") ECLI("long=milliseconds")
	ECLI("help=display latency in milliseconds (default: microseconds)") = false;
const volatile bool targ_proc ECLI("short=P") ECLI("long=process")
	ECLI("help=count by process and not by syscall") = false;
const volatile bool targ_list ECLI("short=l") ECLI("long=list")
	ECLI("help=print list of recognized syscalls and exit")
	ECLI("unsupported=a package prints only what its programs trace; the names are enum ecli_syscall in include/ecli/syscalls_x86_64.h, and --syscall takes any of them") = false;
const volatile enum ecli_syscall targ_syscall ECLI("long=syscall") ECLI("metavar=SYSCALL")
	ECLI("help=trace this syscall only (a name, e.g. read, or a number)") = NO_SYSCALL;

/* -L: when the current thread entered its syscall */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, __u64);
	__type(value, __u64);
} start SEC(".maps");

/// @sample {"type": "table", "at_exit": true, "clear_map": true, "sort": "-lat_us,-lat_ms,-count", "time_fmt": "[%H:%M:%S]", "blank": "after", "banner": "Tracing {targ_failed?failed }{targ_syscall?syscall '{targ_syscall}'}{targ_syscall!syscalls, printing top {top}}... Ctrl+C to quit.", "footer": "Detaching..."}
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, struct sc_key);
	__type(value, struct sc_val);
} data SEC(".maps");

/* wanted applies -p, -t and --syscall to the current syscall. */
static __always_inline bool wanted(__u64 pid_tgid, long id)
{
	if (targ_pid && (__u32)(pid_tgid >> 32) != targ_pid)
		return false;
	if (targ_tid && (__u32)pid_tgid != targ_tid)
		return false;
	if (targ_syscall != NO_SYSCALL && id != (long)targ_syscall)
		return false;
	return true;
}

SEC("tracepoint/raw_syscalls/sys_enter")
int sys_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 ts;

	if (!targ_latency || !wanted(pid_tgid, ctx->id))
		return 0;
	ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&start, &pid_tgid, &ts, BPF_ANY);
	return 0;
}

SEC("tracepoint/raw_syscalls/sys_exit")
int sys_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct sc_key key = {};
	struct sc_val *val;
	__u64 *tsp, lat = 0;
	long id = ctx->id, ret = ctx->ret;

	/* id -1: not a syscall (bcc skips key 0xFFFFFFFF when it prints) */
	if (id < 0 || !wanted(pid_tgid, id))
		return 0;
	if (targ_failed && ret >= 0)
		return 0;
	if (targ_errno && ret != -(long)targ_errno)
		return 0;
	if (targ_latency) {
		tsp = bpf_map_lookup_elem(&start, &pid_tgid);
		if (!tsp)
			return 0;
		lat = bpf_ktime_get_ns() - *tsp;
		bpf_map_delete_elem(&start, &pid_tgid);
	}
	if (targ_proc)
		key.pid = pid_tgid >> 32;
	else
		key.sys = (enum ecli_syscall)id;
	val = bpf_map_lookup_elem(&data, &key);
	if (!val) {
		struct sc_val zero = {};

		if (targ_proc) {
			struct task_struct *task = (struct task_struct *)bpf_get_current_task();

			BPF_CORE_READ_STR_INTO(&zero.comm, task, group_leader, comm);
		}
		bpf_map_update_elem(&data, &key, &zero, BPF_NOEXIST);
		val = bpf_map_lookup_elem(&data, &key);
		if (!val)
			return 0;
	}
	__sync_fetch_and_add(&val->count, 1);
	if (targ_latency) {
		if (targ_ms)
			__sync_fetch_and_add(&val->lat_ms, lat);
		else
			__sync_fetch_and_add(&val->lat_us, lat);
	}
	return 0;
}

/// @brief Count syscalls per syscall or per process, with latency (bcc's syscount)
/// @details bcc's SYSCALL COUNT table of the top syscalls, printed at Ctrl-C (or every
/// -i seconds): -L adds the summed latency, -P counts per process, -x / -e count only
/// failures.
char LICENSE[] SEC("license") = "Dual BSD/GPL";
