// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//go:build ignore

/* mountsnoop: trace mount(2) and umount(2), with bcc's output, from syscall tracepoints.
 *
 * bcc uses a kprobe and a kretprobe on the syscall and sends five perf events per mount
 * that user space stitches together. Here the enter tracepoint fills one event per thread in
 * a hash map (strings copied while the user's pointers are valid) and the exit tracepoint
 * adds the return value and emits it whole.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "ecli/ecli.h"
#include "mountsnoop.h"

/* mounts in flight, by thread id */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct event);
} inflight SEC(".maps");

/* an all-zero event: the initial value of an inflight entry (too big for the stack) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct event);
} zero SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

/* begin returns a zeroed inflight event for the current thread, with its task fields. */
static __always_inline struct event *begin(__u32 op)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id, k = 0;
	struct task_struct *task;
	struct event *z, *e;

	z = bpf_map_lookup_elem(&zero, &k);
	if (!z)
		return NULL;
	if (bpf_map_update_elem(&inflight, &tid, z, BPF_ANY))
		return NULL;
	e = bpf_map_lookup_elem(&inflight, &tid);
	if (!e)
		return NULL;
	e->pid = id >> 32;
	e->tid = tid;
	e->op = op;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	task = (struct task_struct *)bpf_get_current_task();
	e->mnt_ns = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
	return e;
}

/* finish emits the current thread's event with the call's return value. */
static __always_inline int finish(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct event *e;

	e = bpf_map_lookup_elem(&inflight, &tid);
	if (!e)
		return 0;
	if (e->op == OP_MOUNT)
		e->call.mount.ret = ret;
	else
		e->call.umount.ret = ret;
	ecli_output(&events, e, sizeof(*e));
	bpf_map_delete_elem(&inflight, &tid);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_mount")
int enter_mount(struct trace_event_raw_sys_enter *ctx)
{
	struct event *e = begin(OP_MOUNT);

	if (!e)
		return 0;
	bpf_probe_read_user_str(e->call.mount.source, MAX_STR_LEN, (void *)ctx->args[0]);
	bpf_probe_read_user_str(e->call.mount.target, MAX_STR_LEN, (void *)ctx->args[1]);
	bpf_probe_read_user_str(e->call.mount.type, MAX_STR_LEN, (void *)ctx->args[2]);
	e->call.mount.flags = (enum mountsnoop_ms_flags)ctx->args[3];
	/* bcc: data is almost always a string; binary data prints up to its first NUL */
	bpf_probe_read_user_str(e->call.mount.data, MAX_STR_LEN, (void *)ctx->args[4]);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_mount")
int exit_mount(struct trace_event_raw_sys_exit *ctx)
{
	return finish(ctx->ret);
}

SEC("tracepoint/syscalls/sys_enter_umount")
int enter_umount(struct trace_event_raw_sys_enter *ctx)
{
	struct event *e = begin(OP_UMOUNT);

	if (!e)
		return 0;
	bpf_probe_read_user_str(e->call.umount.target, MAX_STR_LEN, (void *)ctx->args[0]);
	e->call.umount.flags = (enum mountsnoop_umount_flags)ctx->args[1];
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_umount")
int exit_umount(struct trace_event_raw_sys_exit *ctx)
{
	return finish(ctx->ret);
}

/// @brief Trace mount() and umount() syscalls (bcc's mountsnoop)
/// @details One line per mount(2) or umount(2), printed when the call returns:
/// COMM PID TID MNT_NS CALL, the call as bcc prints it, failures as -ERRNO.
char LICENSE[] SEC("license") = "Dual BSD/GPL";
