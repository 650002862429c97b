/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* exitsnoop: the event the BPF side emits.
 *
 * The ECLI(...) attributes are ecli display hints (docs/package-format.md): they make the
 * generic runner print bcc python exitsnoop's columns:
 *   "%-13s" TIME-%Z, "%-6s" LABEL, "%-16s %-7d %-7d %-7d %-7.2f " then the exit code. */
#ifndef __EXITSNOOP_H
#define __EXITSNOOP_H

#include "ecli/ecli.h"

#define LABEL_LEN 16

struct event {
	/* --label: bcc's "%-6s" glued to PCOMM; 5 wide plus the separating space is the same
	 * for labels of up to 5 characters */
	char label[LABEL_LEN] ECLI("name=LABEL") ECLI("fmt=%-5s") ECLI("show=targ_label");
	char comm[TASK_COMM_LEN] ECLI("name=PCOMM") ECLI("fmt=%-16s");
	__u32 pid ECLI("name=PID") ECLI("fmt=%-7d");
	__u32 ppid ECLI("name=PPID") ECLI("fmt=%-7d");
	__u32 tid ECLI("name=TID") ECLI("fmt=%-7d");
	/* exit time minus task->start_time */
	__u64 age_ns ECLI("name=AGE(s)") ECLI("div=1000000000") ECLI("fmt=%-7.2f") ECLI("unit=ns");
	/* task->exit_code, a wait status: "0", "code 3", "signal 9 (KILL)", ", core dumped" */
	int exit_code ECLI("name=EXIT_CODE") ECLI("format=wstatus") ECLI("fmt=%-10s");
} ECLI("time=targ_timestamp,targ_utc") ECLI("time_fmt=%-13s") ECLI("time_name=TIME-%Z")
	ECLI("time_prec=3") ECLI("time_utc=targ_utc");

#endif /* __EXITSNOOP_H */
