// SPDX-License-Identifier: GPL-2.0
// Rejected by the verifier on purpose: a map value is used without a NULL check.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

SEC("tp/sched/sched_process_exec")
int unchecked(void *ctx)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&counts, &key);

	*v += 1; /* no NULL check: the verifier refuses this */
	return 0;
}
