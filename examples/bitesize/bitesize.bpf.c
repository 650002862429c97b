// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//go:build ignore

/* bitesize: block I/O size histograms per process name, with bcc's semantics.
 *
 * bcc records the comm at blk_account_io_start (in the submitting task) and counts the
 * request's size in KiB (log2) with kprobes. Here, from tracepoints: block_rq_insert,
 * which runs in the submitting task when it flushes its plug, remembers the comm per
 * request; block_rq_issue counts the size (__data_len) under that comm — or under the
 * issuing task's, for a request issued directly, without an insert. The issue may run in
 * a kblockd worker (one CPU, a busy queue): without the insert the I/O would count as
 * kworker's. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "ecli/block.h"
#include "bitesize.h"

/// @brief Summarize block device I/O size as a histogram per process name (bcc's bitesize)
char LICENSE[] SEC("license") = "GPL";

#define MAX_ENTRIES 10240

/// @sample {"interval": 0, "type": "log2_hist", "unit": "Kbytes", "banner": "Tracing block I/O... Hit Ctrl-C to end."}
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, struct hist_key);
	__type(value, struct hist);
} hists SEC(".maps");

/* the submitter's comm of inserted requests not issued yet (LRU: a request that is never
 * issued cannot fill it) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, __u64);
	__type(value, struct hist_key);
} submitter SEC(".maps");

SEC("tp_btf/block_rq_insert")
int BPF_PROG(block_rq_insert)
{
	__u64 rq = (__u64)ecli_rq_arg(ctx);
	struct hist_key key = {};

	bpf_get_current_comm(key.comm, sizeof(key.comm));
	bpf_map_update_elem(&submitter, &rq, &key, BPF_ANY);
	return 0;
}

SEC("tp_btf/block_rq_issue")
int BPF_PROG(block_rq_issue)
{
	static const struct hist zero;
	struct request *rq = ecli_rq_arg(ctx);
	__u64 id = (__u64)rq;
	struct hist_key key = {}, *who;
	struct hist *h;
	__u32 len = BPF_CORE_READ(rq, __data_len);

	who = bpf_map_lookup_elem(&submitter, &id);
	if (who) {
		key = *who;
		bpf_map_delete_elem(&submitter, &id);
	} else {
		bpf_get_current_comm(key.comm, sizeof(key.comm));
	}
	if (!len)
		return 0; /* bcc counts only requests with data */
	h = ecli_hist_get(&hists, &key, &zero);
	if (h)
		__sync_fetch_and_add(&h->slots[ecli_hist_slot(ecli_log2l(len / 1024))], 1);
	return 0;
}
