/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* ecli.h: what every ecli tool repeats — the display-hint macro, the lost-event counter
 * and a ring-buffer reserve that counts what it could not reserve.
 *
 *   #include "vmlinux.h"
 *   #include <bpf/bpf_helpers.h>
 *   #include "ecli/ecli.h"
 *
 * Hints (ECLI("name=PID"), ...) are documented in docs/package-format.md. Include this
 * header once per program; it defines the global `dropped` (tagged ecli:lost), which the
 * runner reports on stderr while running and at exit. */
#ifndef __ECLI_ECLI_H
#define __ECLI_ECLI_H

#ifndef ECLI
#define ECLI(x) __attribute__((btf_decl_tag("ecli:" x)))
#endif

#ifndef TASK_COMM_LEN
#define TASK_COMM_LEN 16
#endif

/* events the ring buffer had no room for; the runner reports its growth */
__u64 dropped ECLI("lost") = 0;

/* ecli_reserve is bpf_ringbuf_reserve that counts a failure in `dropped`. */
static __always_inline void *ecli_reserve(void *ringbuf, __u64 size)
{
	void *e = bpf_ringbuf_reserve(ringbuf, size, 0);

	if (!e)
		__sync_fetch_and_add(&dropped, 1);
	return e;
}

/* ecli_output is bpf_ringbuf_output that counts a failure in `dropped`. */
static __always_inline int ecli_output(void *ringbuf, void *data, __u64 size)
{
	int err = bpf_ringbuf_output(ringbuf, data, size, 0);

	if (err)
		__sync_fetch_and_add(&dropped, 1);
	return err;
}

#endif /* __ECLI_ECLI_H */
