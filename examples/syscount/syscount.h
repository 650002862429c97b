/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* syscount: bcc python syscount's table, one map entry per syscall (or per process with -P).
 * The runner prints the map as a table (docs/package-format.md, "ecli extensions to maps"):
 *   "%-22s %8s" header, "%-22s %8d" rows; -L adds "%16s" TIME (us) with "%16.3f" (or
 *   TIME (ms) with "%16.6f" under -m); -P replaces SYSCALL by "%-6d %-15s" PID COMM. */
#ifndef __SYSCOUNT_H
#define __SYSCOUNT_H

#include "ecli/ecli.h"
#include "ecli/errno.h"
#include "ecli/syscalls_x86_64.h"

/* the key: the syscall number, or with -P the process id (the other member stays 0) */
struct sc_key {
	enum ecli_syscall sys ECLI("name=SYSCALL") ECLI("fmt=%-22s") ECLI("format=enum")
		ECLI("show=!targ_proc");
	__u32 pid ECLI("name=PID") ECLI("fmt=%-6d") ECLI("show=targ_proc");
};

/* the value: the count and, with -L, the summed latency in ns in the member the unit
 * shows (the other one stays 0, so "sort" can order both modes by the same fields) */
struct sc_val {
	/* -P: the process's name (its group leader's comm) when its first syscall was counted */
	char comm[TASK_COMM_LEN] ECLI("name=COMM") ECLI("fmt=%-15s") ECLI("show=targ_proc");
	__u64 count ECLI("name=COUNT") ECLI("fmt=%8d");
	__u64 lat_us ECLI("name=TIME (us)") ECLI("fmt=%16.3f") ECLI("div=1000")
		ECLI("show=targ_latency&!targ_ms") ECLI("unit=ns");
	__u64 lat_ms ECLI("name=TIME (ms)") ECLI("fmt=%16.6f") ECLI("div=1000000")
		ECLI("show=targ_latency&targ_ms") ECLI("unit=ns");
};

#endif /* __SYSCOUNT_H */
