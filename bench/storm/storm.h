/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* storm: the 24-byte event of the pipeline benchmark (docs/benchmarks.md). */
#ifndef __STORM_H
#define __STORM_H

#include "ecli/ecli.h"

struct event {
	__u64 ts ECLI("name=TS") ECLI("fmt=%-16d");
	__u32 pid ECLI("name=PID") ECLI("fmt=%-7d");
	__u32 cpu ECLI("name=CPU") ECLI("fmt=%-3d");
	/* the generator's loop counter, passed as getpgid's argument */
	__u64 seq ECLI("name=SEQ") ECLI("fmt=%d");
} ECLI("time=off");

#endif /* __STORM_H */
