/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* biolatency: the histogram map's key and value. With -D the key's disk name is bcc's
 * section header ("disk = loop0"); with -e the value's total and count make bcc's
 * "avg = ..., total: ..., count: ..." line. */
#ifndef __BIOLATENCY_H
#define __BIOLATENCY_H

#include "ecli/ecli.h"
#include "ecli/hist.h"

#define DISK_NAME_LEN 32

struct hist_key {
	char disk[DISK_NAME_LEN] ECLI("name=disk") ECLI("show=targ_per_disk");
};

ECLI_HIST_VALUE(hist,
	__u64 total ECLI("hist=total") ECLI("show=targ_extension");
	__u64 count ECLI("hist=count") ECLI("show=targ_extension");
);

#endif /* __BIOLATENCY_H */
