// SPDX-License-Identifier: GPL-2.0
// Pinned map replacement test: with --allow PATH, the hash map pinned at PATH replaces
// `allowed`, and only getppid(2) calls of processes whose tgid is a key of it are counted.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define ECLI(x) __attribute__((btf_decl_tag("ecli:" x)))

char LICENSE[] SEC("license") = "GPL";

const volatile char allow_path[64] ECLI("long=allow") ECLI("metavar=PATH") ECLI("pinned_map=allowed")
	ECLI("help=count only processes whose tgid is a key of the hash map pinned at PATH") = "";
const volatile bool dns ECLI("short=d") ECLI("unsupported=this test cannot do it");
const volatile __u32 targ_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u64);
	__type(value, __u64);
} allowed SEC(".maps");

__u64 hits = 0;

SEC("tp/syscalls/sys_enter_getppid")
int handle_getppid(void *ctx)
{
	__u64 tgid = bpf_get_current_pid_tgid() >> 32;

	if (targ_tgid && tgid != targ_tgid)
		return 0;
	if (allow_path[0] && !bpf_map_lookup_elem(&allowed, &tgid))
		return 0;
	__sync_fetch_and_add(&hits, 1);
	return 0;
}
