/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* block.h: block-layer tracepoints across kernels, for tp_btf programs.
 *
 *   SEC("tp_btf/block_rq_issue")
 *   int BPF_PROG(issue) { struct request *rq = ecli_rq_arg(ctx); ... }
 *
 * block_rq_issue and block_rq_insert lost their request_queue argument in 5.11, and
 * request's rq_disk went in 5.17 (the disk is then rq->q->disk): both are handled here
 * with CO-RE and the kernel version. Needs vmlinux.h, bpf_core_read.h. */
#ifndef __ECLI_BLOCK_H
#define __ECLI_BLOCK_H

extern int LINUX_KERNEL_VERSION __kconfig;

/* ecli_rq_arg is the struct request * of block_rq_issue / block_rq_insert. */
static __always_inline struct request *ecli_rq_arg(__u64 *ctx)
{
	if (LINUX_KERNEL_VERSION < KERNEL_VERSION(5, 11, 0))
		return (struct request *)ctx[1];
	return (struct request *)ctx[0];
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

#endif /* __ECLI_BLOCK_H */
