// SPDX-License-Identifier: GPL-2.0
// Metrics test package: a log2 histogram of fork-to-exec latency (microseconds from a
// task's start to its exec), keyed by the new comm, for the children of targ_ppid. The
// map is cleared after every 1 s round (clear_map), so the metrics' totals are tested
// across clearing.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "ecli/ecli.h"
#include "execlat.h"

char LICENSE[] SEC("license") = "GPL";

/// @sample {"interval": 1000, "type": "log2_hist", "unit": "usecs", "clear_map": true}
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct exec_key);
	__type(value, struct hist);
} hists SEC(".maps");

const volatile __u32 targ_ppid ECLI("long=ppid") ECLI("help=only children of this PID (0: all)") = 0;

static __always_inline __u32 log2l(__u64 v)
{
	__u32 r = 0;

	for (int i = 0; i < 64 && v > 1; i++) {
		v >>= 1;
		r++;
	}
	return r;
}

SEC("tp/sched/sched_process_exec")
int handle_exec(void *ctx)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	struct exec_key key = {};
	struct hist *h, zero = {};
	__u64 delta;
	__u32 slot;

	if (targ_ppid && BPF_CORE_READ(task, real_parent, tgid) != targ_ppid)
		return 0;
	delta = (bpf_ktime_get_ns() - BPF_CORE_READ(task, start_time)) / 1000;
	bpf_get_current_comm(key.comm, sizeof(key.comm));
	h = bpf_map_lookup_elem(&hists, &key);
	if (!h) {
		bpf_map_update_elem(&hists, &key, &zero, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&hists, &key);
		if (!h)
			return 0;
	}
	slot = log2l(delta);
	if (slot >= SLOTS)
		slot = SLOTS - 1;
	__sync_fetch_and_add(&h->slots[slot], 1);
	__sync_fetch_and_add(&h->total_us, delta);
	__sync_fetch_and_add(&h->count, 1);
	return 0;
}
