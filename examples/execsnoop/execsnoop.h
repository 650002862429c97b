/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* execsnoop: the event the BPF side emits, one per exec(), at its return.
 *
 * The ECLI(...) attributes are ecli display hints (docs/package-format.md) for bcc python
 * execsnoop's line:
 *   [%-9s TIME][%-8.3f TIME(s)][%-6d UID]%-16s %-7d [%-16s PCOMM ]%-7s [%-4d CPU ]%3d %s
 * bcc glues TIME(s) and UID to the next column: 7 (5) wide plus the separating space is
 * the same for values that fit. */
#ifndef __EXECSNOOP_H
#define __EXECSNOOP_H

#include "ecli/ecli.h"

/* bcc reads each argument into 128 bytes; --max-args is capped at MAX_ARGS */
#define ARGSIZE 128
#define MAX_ARGS 60
#define ARGS_BUF (MAX_ARGS * ARGSIZE + 4) /* + "..." */

struct event {
	__u64 ts_us ECLI("name=TIME(s)") ECLI("rel") ECLI("div=1000000") ECLI("fmt=%-7.3f")
		ECLI("unit=us") ECLI("show=targ_timestamp");
	__u32 uid ECLI("name=UID") ECLI("fmt=%-5d") ECLI("show=targ_print_uid");
	/* -n NAME: a regex on the (new) command name */
	char comm[TASK_COMM_LEN] ECLI("name=COMM") ECLI("fmt=%-16s") ECLI("match=targ_name");
	__u32 pid ECLI("name=PID") ECLI("fmt=%-7d");
	char pcomm[TASK_COMM_LEN] ECLI("name=PCOMM") ECLI("fmt=%-16s") ECLI("show=targ_print_pcomm");
	__u32 ppid ECLI("name=PPID") ECLI("fmt=%-7d");
	__u32 cpu ECLI("name=CPU") ECLI("fmt=%-4d") ECLI("show=targ_print_cpu");
	/* execve's return value: 0, or -errno (-x) */
	int retval ECLI("name=RET") ECLI("fmt=%3d");
	/* bytes of args in use */
	__u32 args_size ECLI("hide");
	/* the file name, then argv[1..], each NUL-terminated, then "..." when cut at
	 * --max-args. -l LINE: a regex on them joined by spaces (before -q quoting) */
	char args[ARGS_BUF] ECLI("name=ARGS") ECLI("format=argv") ECLI("len=args_size")
		ECLI("quote=targ_quote") ECLI("match=targ_line");
} ECLI("time=targ_time") ECLI("time_fmt=%-9s");

#endif /* __EXECSNOOP_H */
