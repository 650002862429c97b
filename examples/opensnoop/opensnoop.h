/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* opensnoop: the event the BPF side emits, one per open(2), openat(2), openat2(2), at its
 * return.
 *
 * The ECLI(...) attributes are ecli display hints (docs/package-format.md) for bcc python
 * opensnoop's line:
 *   [%-14.9f TIME(s)][%-6d UID]%-6d %-16s %4d %3d [%08o %04o|n/a  ]%s
 * bcc glues TIME(s) and UID to the next column: 13 (5) wide plus the separating space is
 * the same for values that fit. */
#ifndef __OPENSNOOP_H
#define __OPENSNOOP_H

#include "ecli/ecli.h"

#define PATH_BUF 4096
/* mode when open(2) ignores it (neither O_CREAT nor O_TMPFILE): bcc prints "n/a" */
#define MODE_NA 0xffffffff

struct event {
	/* µs since boot, printed as seconds since the first event */
	__u64 ts_us ECLI("name=TIME(s)") ECLI("rel") ECLI("div=1000000") ECLI("fmt=%-13.9f")
		ECLI("unit=us") ECLI("show=targ_timestamp");
	__u32 uid ECLI("name=UID") ECLI("fmt=%-5d") ECLI("show=targ_print_uid");
	/* with -t TID the column is the thread id */
	__u32 pid ECLI("name=PID") ECLI("fmt=%-6d") ECLI("show=!targ_tid");
	__u32 tid ECLI("name=TID") ECLI("fmt=%-6d") ECLI("show=targ_tid");
	/* -n NAME */
	char comm[TASK_COMM_LEN] ECLI("name=COMM") ECLI("fmt=%-16s") ECLI("match=targ_name");
	/* the file descriptor, -1 when the open failed */
	int fd ECLI("name=FD") ECLI("fmt=%4d");
	/* errno of a failed open, else 0 */
	int err ECLI("name=ERR") ECLI("fmt=%3d");
	__u32 flags ECLI("name=FLAGS") ECLI("fmt=%-8.8o") ECLI("show=targ_extended");
	__u32 mode ECLI("name=MODE") ECLI("fmt=%-4.4o") ECLI("map=4294967295:n/a")
		ECLI("show=targ_extended");
	char path[PATH_BUF] ECLI("name=PATH");
} ECLI("time=off");

#endif /* __OPENSNOOP_H */
