// SPDX-License-Identifier: GPL-2.0
// Map sampling test: every exec of a process whose tgid is targ_tgid's child adds one to
// slot 3 of hists[0] (and records the comm); ecli samples the map as a log2 histogram.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "hist.h"

char LICENSE[] SEC("license") = "GPL";

/// @sample {"interval": 100, "type": "log2_hist", "unit": "usecs"}
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, struct hist);
} hists SEC(".maps");

#define ECLI(x) __attribute__((btf_decl_tag("ecli:" x)))

/* Only count execs of processes whose parent is this tgid (0: all). */
const volatile __u32 targ_ppid = 0;
/* cmdarg roles (runner/options.go): interval and count positionals, a run duration */
const volatile __u32 interval_s ECLI("role=interval") ECLI("positional=1") = 0;
const volatile __u32 rounds ECLI("role=count") ECLI("positional=2") = 0;
const volatile __u32 run_for ECLI("role=duration") = 0;

SEC("tp/sched/sched_process_exec")
int handle_exec(void *ctx)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	__u32 ppid;
	__u32 key = 7;
	struct hist *h, zero = {};

	bpf_probe_read_kernel(&task, sizeof(task), &task->real_parent);
	bpf_probe_read_kernel(&ppid, sizeof(ppid), &task->tgid);
	if (targ_ppid && ppid != targ_ppid)
		return 0;
	h = bpf_map_lookup_elem(&hists, &key);
	if (!h) {
		bpf_map_update_elem(&hists, &key, &zero, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&hists, &key);
		if (!h)
			return 0;
	}
	__sync_fetch_and_add(&h->slots[3], 1);
	bpf_get_current_comm(h->comm, sizeof(h->comm));
	return 0;
}
