// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//go:build ignore

/* profile: bcc's tools/profile.py, a CPU profiler sampling stack traces on perf_event.
 *
 * As in bcc, stacks are counted in the kernel: a stack-trace map holds the unique stacks
 * and `counts` the number of samples per (process, user stack, kernel stack, comm). The
 * runner prints `counts` once, at exit or after the duration, sorted by count (bcc prints
 * the hottest stack last), and symbolizes the stacks itself: the key's stack= hints say
 * which fields are stack ids (docs/package-format.md, "Stack-id fields").
 *
 * A stack the user did not ask for (-U, -K) is stored as -EFAULT, which the runner renders
 * as no stack at all, as bcc skips it. bcc adds the sampled IP to the kernel stack from
 * ctx->regs; bpf_get_stackid on a perf_event already starts at that IP (bcc prints it
 * twice), so this program does not.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "ecli/ecli.h"

#define EFAULT 14
#define PERF_MAX_STACK_DEPTH 127
#define STACK_STORAGE_SIZE 16384
#define HASH_STORAGE_SIZE 40960

const volatile __u32 targ_pid ECLI("short=p") ECLI("long=pid") ECLI("metavar=PID")
	ECLI("help=profile process with this PID only") = 0;
const volatile __u32 targ_tid ECLI("short=L") ECLI("long=tid") ECLI("metavar=TID")
	ECLI("help=profile thread with this TID only") = 0;
const volatile bool user_stacks_only ECLI("short=U") ECLI("long=user-stacks-only")
	ECLI("help=show stacks from user space only (no kernel space stacks)") = false;
const volatile bool kernel_stacks_only ECLI("short=K") ECLI("long=kernel-stacks-only")
	ECLI("help=show stacks from kernel space only (no user space stacks)") = false;
const volatile __u32 frequency ECLI("short=F") ECLI("long=frequency") ECLI("metavar=HZ")
	ECLI("role=perf_freq") ECLI("help=sample frequency, Hertz") = 49;
const volatile __u64 sample_period ECLI("short=c") ECLI("long=count") ECLI("metavar=COUNT")
	ECLI("role=perf_period") ECLI("help=sample period, number of events (instead of -F)") = 0;
const volatile bool delimited ECLI("short=d") ECLI("long=delimited")
	ECLI("help=insert delimiter between kernel/user stacks") = false;
const volatile bool annotations ECLI("short=a") ECLI("long=annotations")
	ECLI("help=add _[k] annotations to kernel frames") = false;
const volatile bool include_idle ECLI("short=I") ECLI("long=include-idle")
	ECLI("help=include CPU idle stacks") = false;
const volatile bool folded ECLI("short=f") ECLI("long=folded")
	ECLI("help=output folded format, one line per stack (for flame graphs)") = false;
const volatile bool address ECLI("short=A") ECLI("long=address")
	ECLI("help=show raw addresses") = false;
const volatile __u32 hash_storage_size ECLI("long=hash-storage-size") ECLI("max_entries=counts")
	ECLI("help=the number of hash keys that can be stored") = HASH_STORAGE_SIZE;
const volatile __u32 stack_storage_size ECLI("long=stack-storage-size") ECLI("max_entries=stack_traces")
	ECLI("help=the number of unique stack traces that can be stored and displayed") = STACK_STORAGE_SIZE;
const volatile __s32 targ_cpu ECLI("short=C") ECLI("long=cpu") ECLI("metavar=CPU")
	ECLI("help=cpu number to run profile on (-1: all)") = -1;
const volatile __u32 duration ECLI("positional") ECLI("role=duration") ECLI("metavar=DURATION")
	ECLI("help=duration of trace, in seconds (0: until Ctrl-C)") = 0;
#include "ecli/filter.h"

/* bcc's struct key_t, without kernel_ip (see above) */
struct key_t {
	__u32 pid ECLI("task=pid");
	int user_stack_id ECLI("stack=stack_traces,user,pid");
	int kernel_stack_id ECLI("stack=stack_traces,kernel");
	char name[TASK_COMM_LEN] ECLI("task=comm");
} ECLI("stack_folded=folded") ECLI("stack_delim=delimited") ECLI("stack_annotate=annotations")
	ECLI("stack_offset=on") ECLI("stack_module=on") ECLI("stack_addr=address");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, PERF_MAX_STACK_DEPTH * sizeof(__u64));
	__uint(max_entries, STACK_STORAGE_SIZE);
} stack_traces SEC(".maps");

/// @sample {"at_exit": true, "sort": "value"}
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HASH_STORAGE_SIZE);
	__type(key, struct key_t);
	__type(value, __u64);
} counts SEC(".maps");

SEC("perf_event")
int do_perf_event(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct key_t key = {};
	__u64 one = 1, *val;

	if (!include_idle && tid == 0)
		return 0;
	if (targ_pid && tgid != targ_pid)
		return 0;
	if (targ_tid && tid != targ_tid)
		return 0;
	if (targ_cpu >= 0 && bpf_get_smp_processor_id() != (__u32)targ_cpu)
		return 0;
	if (ecli_container_filtered())
		return 0;

	key.pid = tgid;
	bpf_get_current_comm(&key.name, sizeof(key.name));
	key.user_stack_id = kernel_stacks_only ? -EFAULT : bpf_get_stackid(ctx, &stack_traces, BPF_F_USER_STACK);
	key.kernel_stack_id = user_stacks_only ? -EFAULT : bpf_get_stackid(ctx, &stack_traces, 0);

	val = bpf_map_lookup_elem(&counts, &key);
	if (val) {
		__sync_fetch_and_add(val, 1);
		return 0;
	}
	if (bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST) && (val = bpf_map_lookup_elem(&counts, &key)))
		__sync_fetch_and_add(val, 1); /* another CPU added the key first */
	return 0;
}

/// @brief Profile CPU stack traces at a timed interval (bcc's profile)
/// @details Samples every CPU at -F Hz (default 49) or every -c events, counts the stacks in
/// the kernel and prints them at Ctrl-C or after DURATION seconds, the hottest last; -f prints
/// folded lines for flame graphs.
char LICENSE[] SEC("license") = "Dual BSD/GPL";
