/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* hist.h: log2 histograms in a hash map, drawn by the runner (sample type log2_hist).
 *
 *   struct hist { __u32 slots[ECLI_HIST_SLOTS]; };
 *   ecli_hist_add(&hists, &key, ecli_log2l(value));
 *
 * Slot i counts the values [2^i, 2^(i+1) - 1] (slot 0 counts 0 and 1), as the runner's
 * log2_hist reads them; slots past the last are folded into it. */
#ifndef __ECLI_HIST_H
#define __ECLI_HIST_H

#ifndef ECLI_HIST_SLOTS
#define ECLI_HIST_SLOTS 27
#endif

/* ecli_log2l is floor(log2(v)), 0 for 0 and 1. */
static __always_inline __u64 ecli_log2l(__u64 v)
{
	__u64 r = 0, shift;

	shift = (v > 0xffffffffULL) << 5; v >>= shift; r |= shift;
	shift = (v > 0xffff) << 4; v >>= shift; r |= shift;
	shift = (v > 0xff) << 3; v >>= shift; r |= shift;
	shift = (v > 0xf) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r;
}

/* ecli_hist_slots is the value of a histogram map: slots[] first (the runner reads the
 * member named slots), tools may add members after it. */
#define ECLI_HIST_VALUE(name, ...) struct name { __u32 slots[ECLI_HIST_SLOTS]; __VA_ARGS__ }

/* ecli_hist_get returns the histogram of key in map, creating an empty one. */
static __always_inline void *ecli_hist_get(void *map, const void *key, const void *zero)
{
	void *h = bpf_map_lookup_elem(map, key);

	if (h)
		return h;
	bpf_map_update_elem(map, key, zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, key);
}

/* ecli_hist_slot clamps a slot index to the histogram. */
static __always_inline __u32 ecli_hist_slot(__u64 slot)
{
	return slot >= ECLI_HIST_SLOTS ? ECLI_HIST_SLOTS - 1 : (__u32)slot;
}

#endif /* __ECLI_HIST_H */
