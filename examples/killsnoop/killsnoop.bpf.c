// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//go:build ignore

/* killsnoop: signals sent by kill(2), tkill(2) and tgkill(2), with bcc's semantics, from the
 * syscalls tracepoints (bcc: a kprobe and kretprobe on kill). The entry remembers the
 * target and signal per thread; the exit emits them with the result. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "ecli/ecli.h"
#define ECLI_NO_CONTAINER_FILTER /* bcc's killsnoop has no --cgroupmap/--mntnsmap */
#include "ecli/filter.h"
#include "killsnoop.h"

#define SIGLIST_LEN 128

const volatile bool targ_failed ECLI("short=x") ECLI("long=failed")
	ECLI("help=only show failed kill syscalls") = false;
const volatile __u32 targ_pid ECLI("short=p") ECLI("long=pid") ECLI("metavar=PID")
	ECLI("help=trace this PID only which is the sender of signal") = 0;
const volatile __s32 targ_tpid ECLI("short=T") ECLI("long=tpid") ECLI("metavar=TPID")
	ECLI("help=trace this target PID only which is the receiver of signal") = 0;
const volatile char targ_signals[SIGLIST_LEN] ECLI("short=s") ECLI("long=signal")
	ECLI("metavar=SIGNAL") ECLI("help=trace a signal or a signal list (numbers: 9,15)") = "";

struct val {
	__u32 pid;
	int sig;
	int tpid;
	char comm[TASK_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct val);
} inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

static __always_inline int on_enter(int tpid, int sig)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = id >> 32, tid = (__u32)id;
	struct val v = { .pid = pid, .sig = sig, .tpid = tpid };

	if (targ_tpid && tpid != targ_tpid)
		return 0;
	if (targ_pid && pid != targ_pid)
		return 0;
	if (sig < 0 || sig > 65535 || !ecli_port_in_list(targ_signals, SIGLIST_LEN, sig))
		return 0;
	bpf_get_current_comm(v.comm, sizeof(v.comm));
	bpf_map_update_elem(&inflight, &tid, &v, BPF_ANY);
	return 0;
}

static __always_inline int on_exit(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct val *v = bpf_map_lookup_elem(&inflight, &tid);
	struct event *e;

	if (!v)
		return 0;
	if (targ_failed && ret >= 0)
		goto cleanup;
	e = ecli_reserve(&events, sizeof(*e));
	if (!e)
		goto cleanup;
	e->pid = v->pid;
	__builtin_memcpy(e->comm, v->comm, sizeof(e->comm));
	e->sig = v->sig;
	e->tpid = v->tpid;
	e->ret = ret;
	bpf_ringbuf_submit(e, 0);
cleanup:
	bpf_map_delete_elem(&inflight, &tid);
	return 0;
}

/* kill(pid, sig), tkill(tid, sig), tgkill(tgid, tid, sig) */
SEC("tracepoint/syscalls/sys_enter_kill")
int enter_kill(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter(ctx->args[0], ctx->args[1]);
}

SEC("tracepoint/syscalls/sys_enter_tkill")
int enter_tkill(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter(ctx->args[0], ctx->args[1]);
}

SEC("tracepoint/syscalls/sys_enter_tgkill")
int enter_tgkill(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter(ctx->args[1], ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_exit_kill")
int exit_kill(struct trace_event_raw_sys_exit *ctx)
{
	return on_exit(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_tkill")
int exit_tkill(struct trace_event_raw_sys_exit *ctx)
{
	return on_exit(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_tgkill")
int exit_tgkill(struct trace_event_raw_sys_exit *ctx)
{
	return on_exit(ctx->ret);
}

/// @brief Trace signals issued by the kill() syscall (bcc's killsnoop)
/// @details One line per kill(2), tkill(2) or tgkill(2) when it returns: sender, signal,
/// target (a thread id for tkill/tgkill) and result (0 or -errno). bcc traces kill(2)
/// only. Go programs signal their own threads with tgkill (SIGURG, 23): filter with -s or
/// -p. -s takes numbers. PID and TPID are 6 wide (bcc: the digits of pid_max, plus one).
char LICENSE[] SEC("license") = "Dual BSD/GPL";
