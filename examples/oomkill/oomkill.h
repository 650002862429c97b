/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* oomkill: one event per OOM kill. The ECLI(...) hints print bcc python oomkill's line,
 *   "%s Triggered by PID %d (\"%s\"), OOM kill of PID %d (\"%s\"), %d pages, loadavg: %s"
 * (the TIME column, literal text around each conversion), except the pages: bcc prints
 * oc->totalpages, which is on no tracepoint (see README.md). loadavg is /proc/loadavg read
 * when the line is printed, as bcc reads it (file= hint). */
#ifndef __OOMKILL_H
#define __OOMKILL_H

#include "ecli/ecli.h"

struct event {
	__u32 fpid ECLI("fmt=Triggered by PID %d");	/* the task whose allocation failed */
	char fcomm[TASK_COMM_LEN] ECLI("fmt=(\"%s\"),");
	__u32 tpid ECLI("fmt=OOM kill of PID %d");	/* the victim (its tgid) */
	char tcomm[TASK_COMM_LEN] ECLI("fmt=(\"%s\"),");
	/* no bytes of its own: /proc/loadavg's line when the event is printed */
	char loadavg[1] ECLI("fmt=loadavg: %s") ECLI("file=/proc/loadavg");
} ECLI("header=Tracing OOM kills... Ctrl-C to stop.");

#endif /* __OOMKILL_H */
