// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//go:build ignore

/* bitesize: block I/O size histograms per process name, with bcc's semantics.
 *
 * bcc records the comm at blk_account_io_start and counts the request's size in KiB
 * (log2) at its completion, with kprobes. Here tp_btf block_rq_issue does both: the
 * request's size (__data_len) and the comm of the task issuing it, which for the
 * synchronous and direct I/O bcc's example shows is the process that asked for it. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "ecli/block.h"
#include "bitesize.h"

/// @brief Summarize block device I/O size as a histogram per process name (bcc's bitesize)
char LICENSE[] SEC("license") = "GPL";

#define MAX_ENTRIES 10240

/// @sample {"interval": 0, "type": "log2_hist", "unit": "Kbytes"}
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, struct hist_key);
	__type(value, struct hist);
} hists SEC(".maps");

SEC("tp_btf/block_rq_issue")
int BPF_PROG(block_rq_issue)
{
	static const struct hist zero;
	struct request *rq = ecli_rq_arg(ctx);
	struct hist_key key = {};
	struct hist *h;
	__u32 len = BPF_CORE_READ(rq, __data_len);

	if (!len)
		return 0; /* bcc counts only requests with data */
	bpf_get_current_comm(key.comm, sizeof(key.comm));
	h = ecli_hist_get(&hists, &key, &zero);
	if (h)
		__sync_fetch_and_add(&h->slots[ecli_hist_slot(ecli_log2l(len / 1024))], 1);
	return 0;
}
