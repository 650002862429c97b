// SPDX-License-Identifier: GPL-2.0
// Lost-event test: each exec of a child of targ_ppid emits 64 events into a 4 KiB ring
// buffer; those that do not fit are counted in a global tagged ecli:lost.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "lost.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

const volatile __u32 targ_ppid = 0;
__u64 dropped __attribute__((btf_decl_tag("ecli:lost"))) = 0;

SEC("tp/sched/sched_process_exec")
int burst(void *ctx)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	__u32 ppid;

	bpf_probe_read_kernel(&task, sizeof(task), &task->real_parent);
	bpf_probe_read_kernel(&ppid, sizeof(ppid), &task->tgid);
	if (ppid != targ_ppid)
		return 0;
	for (int i = 0; i < 64; i++) {
		struct big *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
		if (!e) {
			__sync_fetch_and_add(&dropped, 1);
			continue;
		}
		e->pid = bpf_get_current_pid_tgid() >> 32;
		e->seq = i;
		bpf_ringbuf_submit(e, 0);
	}
	return 0;
}
