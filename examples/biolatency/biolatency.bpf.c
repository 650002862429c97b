// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//go:build ignore

/* biolatency: block I/O latency as a histogram, with bcc's semantics, from tracepoints.
 *
 * bcc times a request from blk_mq_start_request (issue) or, with -Q, from
 * blk_account_io_start (queued) to its completion, with kprobes. Here: tp_btf
 * block_rq_issue (or, with -Q, block_rq_insert; a request that bypasses the I/O scheduler
 * is never inserted and is timed from its issue) to block_rq_complete, keyed by the request
 * pointer. -D reads the disk name from the request's gendisk in the kernel, -d compares
 * it there. The program divides by 1000 or 1000000 (-m) as bcc does. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "ecli/block.h"
#include "biolatency.h"

/// @brief Summarize block device I/O latency as a histogram (bcc's biolatency)
char LICENSE[] SEC("license") = "GPL";

#define MAX_ENTRIES 10240

const volatile bool targ_timestamp ECLI("short=T") ECLI("long=timestamp")
	ECLI("help=include timestamp on output") = false;
const volatile bool targ_queued ECLI("short=Q") ECLI("long=queued")
	ECLI("help=include OS queued time in I/O time") = false;
const volatile bool targ_ms ECLI("short=m") ECLI("long=milliseconds")
	ECLI("help=millisecond histogram") = false;
const volatile bool targ_per_disk ECLI("short=D") ECLI("long=disks")
	ECLI("help=print a histogram per disk device") = false;
const volatile bool targ_per_flag ECLI("short=F") ECLI("long=flags")
	ECLI("help=print a histogram per set of I/O flags")
	ECLI("unsupported=bcc reads the flags with the blk_account_io kprobes and refuses -F on tracepoints; a package has no kprobes") = false;
const volatile bool targ_extension ECLI("short=e") ECLI("long=extension")
	ECLI("help=summarize average/total value") = false;
const volatile char targ_disk[DISK_NAME_LEN] ECLI("short=d") ECLI("long=disk") ECLI("metavar=DISK")
	ECLI("help=Trace this disk only") = "";
const volatile __u32 interval ECLI("positional=1") ECLI("role=interval")
	ECLI("metavar=INTERVAL") ECLI("help=output interval, in seconds") = 0;
const volatile __u32 count ECLI("positional=2") ECLI("role=count")
	ECLI("metavar=COUNT") ECLI("help=number of outputs") = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, struct request *);
	__type(value, __u64);
} start SEC(".maps");

/// @sample {"interval": 0, "type": "log2_hist", "unit": "usecs", "unit_if": "targ_ms:msecs", "time": "targ_timestamp", "clear_map": true, "banner": "Tracing block device I/O... Hit Ctrl-C to end."}
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, struct hist_key);
	__type(value, struct hist);
} hists SEC(".maps");

/* disk_wanted: -d DISK, compared with the request's disk name */
static __always_inline bool disk_wanted(struct request *rq)
{
	char name[DISK_NAME_LEN] = {};
	int i;

	if (!targ_disk[0])
		return true;
	ecli_rq_disk_name(rq, name, sizeof(name));
	for (i = 0; i < DISK_NAME_LEN; i++) {
		if (name[i] != targ_disk[i])
			return false;
		if (!name[i])
			break;
	}
	return true;
}

static __always_inline int trace_rq_start(struct request *rq, bool issue)
{
	__u64 ts;

	/* -Q: a request that went through the I/O scheduler was timed at its insert */
	if (issue && targ_queued && BPF_CORE_READ(rq, q, elevator))
		return 0;
	if (!disk_wanted(rq))
		return 0;
	ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&start, &rq, &ts, BPF_ANY);
	return 0;
}

SEC("tp_btf/block_rq_insert")
int BPF_PROG(block_rq_insert)
{
	if (!targ_queued)
		return 0;
	return trace_rq_start(ecli_rq_arg(ctx), false);
}

SEC("tp_btf/block_rq_issue")
int BPF_PROG(block_rq_issue)
{
	return trace_rq_start(ecli_rq_arg(ctx), true);
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(block_rq_complete, struct request *rq, int error, unsigned int nr_bytes)
{
	static const struct hist zero;
	struct hist_key key = {};
	struct hist *h;
	__u64 *tsp, delta;

	tsp = bpf_map_lookup_elem(&start, &rq);
	if (!tsp)
		return 0; /* missed the issue */
	delta = bpf_ktime_get_ns() - *tsp;
	bpf_map_delete_elem(&start, &rq);
	delta /= targ_ms ? 1000000U : 1000U;
	if (targ_per_disk)
		ecli_rq_disk_name(rq, key.disk, sizeof(key.disk));
	h = ecli_hist_get(&hists, &key, &zero);
	if (!h)
		return 0;
	__sync_fetch_and_add(&h->slots[ecli_hist_slot(ecli_log2l(delta))], 1);
	if (targ_extension) {
		__sync_fetch_and_add(&h->total, delta);
		__sync_fetch_and_add(&h->count, 1);
	}
	return 0;
}
