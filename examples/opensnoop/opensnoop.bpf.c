// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//go:build ignore

/* opensnoop: open(2), openat(2) and openat2(2) with bcc's semantics, from the syscalls
 * tracepoints (bcc: kprobes or fentry). The entry remembers the arguments per thread; the
 * exit emits them with the result.
 *
 * -F (full path) is refused: see its option. Paths print as the program gave them.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "ecli/ecli.h"
#include "ecli/filter.h"
#include "opensnoop.h"

#define AT_FDCWD -100
#define O_CREAT 0100
#define O_TMPFILE 020200000

const volatile bool targ_timestamp ECLI("short=T") ECLI("long=timestamp")
	ECLI("help=include timestamp on output") = false;
const volatile bool targ_print_uid ECLI("short=U") ECLI("long=print-uid")
	ECLI("help=print UID column") = false;
const volatile bool targ_failed ECLI("short=x") ECLI("long=failed")
	ECLI("help=only show failed opens") = false;
const volatile __u32 targ_pid ECLI("short=p") ECLI("long=pid") ECLI("metavar=PID")
	ECLI("help=trace this PID only") = 0;
const volatile __u32 targ_tid ECLI("short=t") ECLI("long=tid") ECLI("metavar=TID")
	ECLI("help=trace this TID only") = 0;
const volatile __s64 targ_uid ECLI("short=u") ECLI("long=uid") ECLI("metavar=UID")
	ECLI("help=trace this UID only") = -1;
const volatile __u32 targ_duration ECLI("short=d") ECLI("long=duration") ECLI("metavar=DURATION")
	ECLI("role=duration") ECLI("help=total duration of trace in seconds") = 0;
const volatile char targ_name[TASK_COMM_LEN * 4] ECLI("short=n") ECLI("long=name")
	ECLI("metavar=NAME")
	ECLI("help=only print process names containing this name (a regular expression)") = "";
const volatile bool targ_extended ECLI("short=e") ECLI("long=extended_fields")
	ECLI("help=show extended fields") = false;
const volatile __u32 targ_flag_mask ECLI("short=f") ECLI("long=flag_filter") ECLI("metavar=FLAG")
	ECLI("unsupported=bcc maps O_* flag names to numbers in user space; this package has no option that takes names")
	ECLI("help=filter on flags argument (e.g., O_WRONLY)") = 0;
const volatile bool targ_full_path ECLI("short=F") ECLI("long=full-path")
	ECLI("unsupported=walking the working directory up its dentries and mount points (bcc: 32 levels) from a tracepoint exceeds the verifier's 1M-instruction budget without bpf_loop (Linux 5.17) or bpf_d_path (fentry/LSM only, which this kernel refuses); paths print as given")
	ECLI("help=show full path for an open file with relative path") = false;
const volatile __u32 targ_buffer_pages ECLI("short=b") ECLI("long=buffer-pages")
	ECLI("unsupported=the ring buffer size is fixed in the package (4 MiB)")
	ECLI("help=size of the perf ring buffer (must be a power of two number of pages and defaults to 64)") = 0;
const volatile bool targ_exec ECLI("long=exec")
	ECLI("unsupported=running a command is user-space logic of bcc's tool; start it and use -p")
	ECLI("help=execute command (as the last parameter, supports multiple parameters)") = false;

struct args {
	const char *fname;
	int dfd;
	__u32 flags;
	__u32 mode;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct args);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} events SEC(".maps");

static __always_inline int on_enter(int dfd, const char *fname, __u32 flags, __u32 mode)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct args a = { .fname = fname, .dfd = dfd, .flags = flags, .mode = mode };

	/* -t trumps -p, as in bcc */
	if (targ_tid) {
		if (tid != targ_tid)
			return 0;
	} else if (targ_pid && (__u32)(id >> 32) != targ_pid) {
		return 0;
	}
	if (targ_uid >= 0 && (__u32)bpf_get_current_uid_gid() != (__u32)targ_uid)
		return 0;
	if (ecli_container_filtered())
		return 0;
	/* open(2) ignores the mode without O_CREAT or O_TMPFILE */
	if (mode == 0 && !(flags & O_CREAT) && (flags & O_TMPFILE) != O_TMPFILE)
		a.mode = MODE_NA;
	bpf_map_update_elem(&start, &tid, &a, BPF_ANY);
	return 0;
}

static __always_inline int on_exit(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct args *a = bpf_map_lookup_elem(&start, &tid);
	struct event *e;

	if (!a)
		return 0;
	if (targ_failed && ret >= 0)
		goto cleanup;
	e = ecli_reserve(&events, sizeof(*e));
	if (!e)
		goto cleanup;
	e->ts_us = bpf_ktime_get_ns() / 1000;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->pid = id >> 32;
	e->tid = tid;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->fd = ret >= 0 ? ret : -1;
	e->err = ret >= 0 ? 0 : -ret;
	e->flags = a->flags;
	e->mode = a->mode;
	if (bpf_probe_read_user_str(e->path, sizeof(e->path), a->fname) < 0)
		e->path[0] = 0;
	bpf_ringbuf_submit(e, 0);
cleanup:
	bpf_map_delete_elem(&start, &tid);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_open")
int enter_open(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter(AT_FDCWD, (const char *)ctx->args[0], ctx->args[1], ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_enter_openat")
int enter_openat(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter(ctx->args[0], (const char *)ctx->args[1], ctx->args[2], ctx->args[3]);
}

SEC("tracepoint/syscalls/sys_enter_openat2")
int enter_openat2(struct trace_event_raw_sys_enter *ctx)
{
	struct open_how how = {};

	bpf_probe_read_user(&how, sizeof(how), (void *)ctx->args[2]);
	return on_enter(ctx->args[0], (const char *)ctx->args[1], how.flags, how.mode);
}

SEC("tracepoint/syscalls/sys_exit_open")
int exit_open(struct trace_event_raw_sys_exit *ctx)
{
	return on_exit(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_openat")
int exit_openat(struct trace_event_raw_sys_exit *ctx)
{
	return on_exit(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_openat2")
int exit_openat2(struct trace_event_raw_sys_exit *ctx)
{
	return on_exit(ctx->ret);
}

/// @brief Trace open() syscalls (bcc's opensnoop)
/// @details One line per open(2), openat(2) or openat2(2) when it returns: FD -1 and ERR the
/// errno for a failed open. -n is a regular expression (Go syntax) on the command name
/// (bcc: a substring). -T counts from the first event.
char LICENSE[] SEC("license") = "Dual BSD/GPL";
