/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* killsnoop: the event the BPF side emits.
 *
 * The ECLI(...) attributes are ecli display hints (docs/package-format.md) for bcc python
 * killsnoop's line: "%-9s %-*d %-16s %-4d %-*d %d" (TIME PID COMM SIG TPID RESULT). bcc
 * sizes PID and TPID by the digits of /proc/sys/kernel/pid_max plus one; a package is
 * static, so both are 6 wide: the kernel's default pid_max, 32768. */
#ifndef __KILLSNOOP_H
#define __KILLSNOOP_H

#include "ecli/ecli.h"

struct event {
	__u32 pid ECLI("name=PID") ECLI("fmt=%-6d");
	char comm[TASK_COMM_LEN] ECLI("name=COMM") ECLI("fmt=%-16s");
	int sig ECLI("name=SIG") ECLI("fmt=%-4d");
	/* the pid (kill) or thread id (tkill, tgkill) the signal is sent to */
	int tpid ECLI("name=TPID") ECLI("fmt=%-6d");
	/* the syscall's return value: 0, or -errno */
	int ret ECLI("name=RESULT") ECLI("fmt=%d");
} ECLI("time_fmt=%-10s");

#endif /* __KILLSNOOP_H */
