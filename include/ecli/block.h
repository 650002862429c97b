/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* block.h: block-layer tracepoints across kernels, for tp_btf programs.
 *
 *   SEC("tp_btf/block_rq_issue")
 *   int BPF_PROG(issue) { struct request *rq = ecli_rq_arg(ctx); ... }
 *
 * block_rq_issue and block_rq_insert lost their request_queue argument in 5.11 (some 5.10
 * stable kernels too), and request's rq_disk went in 5.17 (the disk is then rq->q->disk):
 * both are handled here with CO-RE. Needs vmlinux.h, bpf_core_read.h. */
#ifndef __ECLI_BLOCK_H
#define __ECLI_BLOCK_H


/* The one-argument form of the block_rq_issue / block_rq_insert tracepoints (upstream 5.11,
 * and backported: Debian's 5.10 has it). CO-RE's type match against the kernel's own
 * btf_trace_ typedef tells which form the running kernel has. */
struct request___ecli_any {
	/* no members: matches the kernel's struct request whatever its layout */
};
typedef void (*btf_trace_block_rq_issue___ecli_one)(void *, struct request___ecli_any *);

/* ecli_rq_arg is the struct request * of block_rq_issue / block_rq_insert. The two loads
 * are written as asm with constant offsets: from C, clang merges them into one load at
 * ctx + 8*cond, a modified context pointer the verifier refuses. The branch is on a
 * constant the loader fixes, so the verifier never checks the dead load (ctx[1] does not
 * exist on a one-argument tracepoint). */
static __always_inline struct request *ecli_rq_arg(__u64 *ctx)
{
	struct request *rq;

	if (bpf_core_type_matches(btf_trace_block_rq_issue___ecli_one))
		asm volatile("%0 = *(u64 *)(%1 + 0)" : "=r"(rq) : "r"(ctx));
	else
		asm volatile("%0 = *(u64 *)(%1 + 8)" : "=r"(rq) : "r"(ctx));
	return rq;
}

struct request___ecli_old {
	struct gendisk *rq_disk;
} __attribute__((preserve_access_index));

/* ecli_rq_disk is the gendisk of a request. */
static __always_inline struct gendisk *ecli_rq_disk(struct request *rq)
{
	struct request___ecli_old *old = (void *)rq;

	if (bpf_core_field_exists(old->rq_disk))
		return BPF_CORE_READ(old, rq_disk);
	return BPF_CORE_READ(rq, q, disk);
}

/* ecli_rq_disk_name copies the request's disk name (e.g. "loop0") into dst. */
static __always_inline void ecli_rq_disk_name(struct request *rq, char *dst, __u32 size)
{
	struct gendisk *disk = ecli_rq_disk(rq);

	if (disk)
		bpf_probe_read_kernel_str(dst, size, disk->disk_name);
}

#ifndef DISK_NAME_LEN
#define DISK_NAME_LEN 32
#endif

/* ecli_rq_disk_is reports whether the request's disk is named name (a -d DISK option;
 * an empty name matches every disk). */
static __always_inline bool ecli_rq_disk_is(struct request *rq, const volatile char *name)
{
	char disk[DISK_NAME_LEN] = {};
	int i;

	if (!name[0])
		return true;
	ecli_rq_disk_name(rq, disk, sizeof(disk));
	for (i = 0; i < DISK_NAME_LEN; i++) {
		if (disk[i] != name[i])
			return false;
		if (!disk[i])
			break;
	}
	return true;
}

#endif /* __ECLI_BLOCK_H */
