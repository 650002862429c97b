// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//go:build ignore

/* biosnoop: block device I/O with the issuing process and the latency, with bcc's semantics,
 * from tracepoints.
 *
 * bcc caches the pid and comm of the task current when an I/O starts (blk_account_io_start,
 * or block_io_start on 6.5+) and times the request from blk_mq_start_request (issue) to its
 * completion. Here, keyed by the request pointer:
 *
 *   tp_btf/block_rq_insert   a request entering the I/O scheduler: pid, comm, insert time
 *   tp_btf/block_rq_issue    to the driver: pid and comm unless the insert gave them (a
 *                            request issued directly, as to a loop device without
 *                            scheduler, is issued in the submitting task), issue time,
 *                            the request's size (__data_len) and sector
 *   tp_btf/block_rq_complete the line
 *
 * The disk name is read from the request's gendisk in the kernel (rq->rq_disk before 5.17,
 * rq->q->disk after: ecli/block.h), -d compares it there. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "ecli/ecli.h"
#include "ecli/block.h"
#include "biosnoop.h"

#define MAX_ENTRIES 10240
#define REQ_OP_MASK_ ((1 << 8) - 1) /* REQ_OP_BITS: 8 since 4.10 */

const volatile bool targ_queue ECLI("short=Q") ECLI("long=queue")
	ECLI("help=include OS queued time") = false;
const volatile char targ_disk[DISK_NAME_LEN] ECLI("short=d") ECLI("long=disk") ECLI("metavar=DISK")
	ECLI("help=trace this disk only") = "";
const volatile bool targ_pattern ECLI("short=P") ECLI("long=pattern")
	ECLI("help=display block I/O pattern (sequential or random)") = false;

struct start {
	__u64 insert_ns; /* 0: not inserted */
	__u64 issue_ns;  /* 0: not issued yet */
	__u64 len;
	__u64 sector;
	__u32 pid;
	char comm[TASK_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, struct request *);
	__type(value, struct start);
} starts SEC(".maps");

/* -P: where the disk's last I/O ended, in sectors, by dev_t */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} last_sectors SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} events SEC(".maps");

static __always_inline void who(struct start *s)
{
	s->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(s->comm, sizeof(s->comm));
}

SEC("tp_btf/block_rq_insert")
int BPF_PROG(block_rq_insert)
{
	struct request *rq = ecli_rq_arg(ctx);
	struct start s = {};

	if (!ecli_rq_disk_is(rq, targ_disk))
		return 0;
	who(&s);
	s.insert_ns = bpf_ktime_get_ns();
	bpf_map_update_elem(&starts, &rq, &s, BPF_ANY);
	return 0;
}

SEC("tp_btf/block_rq_issue")
int BPF_PROG(block_rq_issue)
{
	struct request *rq = ecli_rq_arg(ctx);
	struct start *sp, s = {};

	if (!ecli_rq_disk_is(rq, targ_disk))
		return 0;
	sp = bpf_map_lookup_elem(&starts, &rq);
	if (!sp) {
		who(&s);
		sp = &s;
	}
	sp->issue_ns = bpf_ktime_get_ns();
	sp->len = BPF_CORE_READ(rq, __data_len);
	sp->sector = BPF_CORE_READ(rq, __sector);
	if (sp == &s)
		bpf_map_update_elem(&starts, &rq, &s, BPF_ANY);
	return 0;
}

/* pattern classifies an I/O against the disk's previous one and remembers where it ends */
static __always_inline __u32 pattern(struct request *rq, struct start *s)
{
	struct gendisk *disk = ecli_rq_disk(rq);
	__u32 dev = 0;
	__u64 *last, end = s->sector + s->len / 512;
	__u32 p = UNKNOWN;

	if (disk)
		dev = (BPF_CORE_READ(disk, major) << 20) | BPF_CORE_READ(disk, first_minor);
	last = bpf_map_lookup_elem(&last_sectors, &dev);
	if (last)
		p = *last == s->sector ? SEQUENTIAL : RANDOM;
	bpf_map_update_elem(&last_sectors, &dev, &end, BPF_ANY);
	return p;
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(block_rq_complete, struct request *rq, int error, unsigned int nr_bytes)
{
	struct start *s;
	struct event *e;
	__u64 now = bpf_ktime_get_ns();

	s = bpf_map_lookup_elem(&starts, &rq);
	if (!s)
		return 0; /* missed the issue */
	if (!s->issue_ns)
		goto out; /* completed without an issue seen (flush, or tracing began in between) */
	e = ecli_reserve(&events, sizeof(*e));
	if (!e)
		goto out;
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_us = now / 1000;
	e->delta_ns = now - s->issue_ns;
	if (targ_queue && s->insert_ns)
		e->qdelta_ns = s->issue_ns - s->insert_ns;
	e->pid = s->pid;
	__builtin_memcpy(e->comm, s->comm, sizeof(e->comm));
	ecli_rq_disk_name(rq, e->disk, sizeof(e->disk));
	e->rwflag = (BPF_CORE_READ(rq, cmd_flags) & REQ_OP_MASK_) == REQ_OP_WRITE;
	e->sector = s->sector;
	e->len = s->len;
	if (targ_pattern)
		e->pattern = pattern(rq, s);
	bpf_ringbuf_submit(e, 0);
out:
	bpf_map_delete_elem(&starts, &rq);
	return 0;
}

/// @brief Trace block device I/O with PID and latency (bcc's biosnoop)
/// @details One line per completed block I/O request: the process that issued it, the disk,
/// read or write, the sector, the size and the latency from issue to completion in ms. -Q adds
/// the time queued in the OS before the issue, -P the access pattern, -d DISK limits to one
/// disk (by name, e.g. sda or loop0).
char LICENSE[] SEC("license") = "GPL";
