/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* bitesize: I/O size histograms per process name ("Process Name = dd"). */
#ifndef __BITESIZE_H
#define __BITESIZE_H

#include "ecli/ecli.h"
#include "ecli/hist.h"

struct hist_key {
	char comm[TASK_COMM_LEN] ECLI("name=Process Name");
};

ECLI_HIST_VALUE(hist);

#endif /* __BITESIZE_H */
