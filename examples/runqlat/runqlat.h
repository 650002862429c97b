/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* runqlat: the histogram map's key and value. The key's visible members are bcc's
 * print_log2_hist section headers ("pid = 123"); without -P, -L or --pidnss none is
 * shown and there is one histogram (key 0). */
#ifndef __RUNQLAT_H
#define __RUNQLAT_H

#include "ecli/ecli.h"
#include "ecli/hist.h"

struct hist_key {
	__u32 pid ECLI("name=pid") ECLI("show=targ_per_process");
	__u32 tid ECLI("name=tid") ECLI("show=targ_per_thread");
	__u32 pidns ECLI("name=pidns") ECLI("show=targ_per_pidns");
};

ECLI_HIST_VALUE(hist);

#endif /* __RUNQLAT_H */
