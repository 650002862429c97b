// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//go:build ignore

/* execsnoop: exec() calls with their arguments, with bcc's semantics, from the syscalls
 * tracepoints (bcc: a kprobe and kretprobe on execve).
 *
 *   sys_enter_execve  reads the file name and argv[1..] (up to --max-args items in all,
 *                     then "..." if there are more) into a per-thread event.
 *   sys_exit_execve   adds the result and the task's (new) comm, PID, parent, UID and CPU
 *                     and emits it: one line per exec, printed when it returns. Failed
 *                     execs (result -errno) only with -x.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "ecli/ecli.h"
#include "ecli/filter.h"
#include "execsnoop.h"

#define NAME_LEN 256

const volatile bool targ_time ECLI("short=T") ECLI("long=time")
	ECLI("help=include time column on output (HH:MM:SS)") = false;
const volatile bool targ_timestamp ECLI("short=t") ECLI("long=timestamp")
	ECLI("help=include timestamp on output") = false;
const volatile bool targ_fails ECLI("short=x") ECLI("long=fails")
	ECLI("help=include failed exec()s") = false;
const volatile __s64 targ_uid ECLI("short=u") ECLI("long=uid") ECLI("metavar=UID")
	ECLI("help=trace this UID only (a number)") = -1;
const volatile bool targ_quote ECLI("short=q") ECLI("long=quote")
	ECLI("help=Add quotemarks (\") around arguments.") = false;
const volatile char targ_name[NAME_LEN] ECLI("short=n") ECLI("long=name") ECLI("metavar=NAME")
	ECLI("help=only print commands matching this name (regex), any arg") = "";
const volatile char targ_line[NAME_LEN] ECLI("short=l") ECLI("long=line") ECLI("metavar=LINE")
	ECLI("help=only print commands where arg contains this line (regex)") = "";
const volatile bool targ_print_uid ECLI("short=U") ECLI("long=print-uid")
	ECLI("help=print UID column") = false;
const volatile bool targ_print_cpu ECLI("short=C") ECLI("long=print-cpu")
	ECLI("help=print CPU column") = false;
const volatile bool targ_print_pcomm ECLI("short=M") ECLI("long=print-pcomm")
	ECLI("help=print parent command") = false;
const volatile __u32 targ_max_args ECLI("long=max-args") ECLI("metavar=MAX_ARGS")
	ECLI("help=maximum number of arguments parsed and displayed, defaults to 20 (at most 60)") = 20;
const volatile __u32 targ_ppid ECLI("short=P") ECLI("long=ppid") ECLI("metavar=PPID")
	ECLI("help=trace this parent PID only") = 0;

static const struct event empty_event = {};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct event);
} execs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} events SEC(".maps");

static __always_inline bool task_wanted(struct task_struct *task)
{
	if (targ_uid >= 0 && (__u32)bpf_get_current_uid_gid() != (__u32)targ_uid)
		return false;
	if (targ_ppid && BPF_CORE_READ(task, real_parent, tgid) != targ_ppid)
		return false;
	return !ecli_container_filtered();
}

/* read_args copies filename and argv[1..] into e->args, NUL-terminated, at most
 * targ_max_args items, then "..." when argv goes on. */
static __always_inline void read_args(struct event *e, const char *filename, const char *const *argv)
{
	__u32 max = targ_max_args < MAX_ARGS ? targ_max_args : MAX_ARGS;
	const char *argp;
	__u32 off = 0;
	long n;
	int i;

	n = bpf_probe_read_user_str(e->args, ARGSIZE, filename);
	if (n <= 0)
		return;
	off = n;
	for (i = 1; i < MAX_ARGS; i++) {
		if (bpf_probe_read_user(&argp, sizeof(argp), &argv[i]) || !argp)
			goto done;
		if (i >= max)
			break;
		if (off > ARGS_BUF - 4 - ARGSIZE)
			goto done;
		n = bpf_probe_read_user_str(&e->args[off], ARGSIZE, argp);
		if (n < 0)
			goto done;
		if (n == 0) {
			/* an empty argument: Linux before 5.11 returns 0 for it, not 1 */
			e->args[off] = 0;
			n = 1;
		}
		off += n;
	}
	/* cut at --max-args (or at MAX_ARGS) with more to come */
	if (i == MAX_ARGS && (bpf_probe_read_user(&argp, sizeof(argp), &argv[i]) || !argp))
		goto done;
	if (off > ARGS_BUF - 4)
		goto done;
	e->args[off] = '.';
	e->args[off + 1] = '.';
	e->args[off + 2] = '.';
	e->args[off + 3] = 0;
	off += 4;
done:
	e->args_size = off;
}

SEC("tracepoint/syscalls/sys_enter_execve")
int enter_execve(struct trace_event_raw_sys_enter *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct event *e;

	if (!task_wanted(task))
		return 0;
	if (bpf_map_update_elem(&execs, &tid, &empty_event, BPF_ANY))
		return 0;
	e = bpf_map_lookup_elem(&execs, &tid);
	if (!e)
		return 0;
	read_args(e, (const char *)ctx->args[0], (const char *const *)ctx->args[1]);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_execve")
int exit_execve(struct trace_event_raw_sys_exit *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct event *e;
	int ret = ctx->ret;

	e = bpf_map_lookup_elem(&execs, &tid);
	if (!e)
		return 0;
	if ((ret != 0 && !targ_fails) || !task_wanted(task))
		goto cleanup;
	e->ts_us = bpf_ktime_get_ns() / 1000;
	e->uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->pid = id >> 32;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	BPF_CORE_READ_STR_INTO(&e->pcomm, task, real_parent, comm);
	e->cpu = bpf_get_smp_processor_id();
	e->retval = ret;
	ecli_output(&events, e, sizeof(*e));
cleanup:
	bpf_map_delete_elem(&execs, &tid);
	return 0;
}

/// @brief Trace exec() syscalls (bcc's execsnoop)
/// @details One line per execve(2) when it returns, with the file name and arguments (up to
/// --max-args items, then "..."). -n and -l are regular expressions (Go syntax) on the
/// command name and on the arguments joined by spaces. -u takes a numeric UID. -t counts
/// from the first exec printed.
char LICENSE[] SEC("license") = "Dual BSD/GPL";
