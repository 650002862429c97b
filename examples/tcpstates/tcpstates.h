/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* tcpstates: one event per TCP state change. The ECLI(...) attributes are ecli display
 * hints (docs/package-format.md) reproducing bcc python tcpstates's columns:
 *   default  "%-16x %-5d %-10.10s %s%-15s %-5d %-15s %-5d %-11s -> %-11s %.3f" (no IP column)
 *   -w       "%-16x %-5d %-16.16s %-2s %-26s %-5s %-26s %-5d %-11s -> %-11s %.3f"
 *   -s       "%x,%d,%s,%s,%s,%s,%s,%d,%s,%s,%.3f"
 * -T adds "%-8s " of the time, -t "%-9.6f " of the seconds since the first event. */
#ifndef __TCPSTATES_H
#define __TCPSTATES_H

#include "ecli/ecli.h"
#include "ecli/tcp.h"

struct event {
	/* seconds since the first event (bcc: "%-9.6f ") */
	__u64 ts_us ECLI("name=TIME(s)") ECLI("rel") ECLI("div=1000000") ECLI("fmt=%-9.6f")
		ECLI("unit=us") ECLI("show=targ_timestamp");
	__u64 skaddr ECLI("name=SKADDR") ECLI("fmt=%-16x");
	__u32 pid ECLI("name=C-PID") ECLI("fmt=%-5d");
	char comm[TASK_COMM_LEN] ECLI("name=C-COMM") ECLI("fmt=%-10.10s") ECLI("fmt_if=targ_wide:%-16.16s");
	/* AF_INET (2) or AF_INET6 (10); the IP column only with -w or -s, as in bcc */
	__u32 af ECLI("name=IP") ECLI("map=2:4,10:6") ECLI("fmt=%-2s") ECLI("show=targ_wide|targ_csv");
	/* Hints in front of an anonymous union tag the struct member. */
	ECLI("name=LADDR") ECLI("select=af") ECLI("fmt=%-15s") ECLI("fmt_if=targ_wide:%-26s")
	union {
		__u32 saddr_v4 ECLI("case=2") ECLI("format=ipv4");
		__u8 saddr_v6[16] ECLI("case=10") ECLI("format=ipv6");
	};
	__u16 lport ECLI("name=LPORT") ECLI("fmt=%-5d");
	ECLI("name=RADDR") ECLI("select=af") ECLI("fmt=%-15s") ECLI("fmt_if=targ_wide:%-26s")
	union {
		__u32 daddr_v4 ECLI("case=2") ECLI("format=ipv4");
		__u8 daddr_v6[16] ECLI("case=10") ECLI("format=ipv6");
	};
	__u16 rport ECLI("name=RPORT") ECLI("fmt=%-5d");
	/* TCP states, bcc's names, with bcc's " -> " between them (not in CSV) */
	__u32 oldstate ECLI("name=OLDSTATE") ECLI(ECLI_TCP_STATE_NAMES) ECLI("fmt=%-11s") ECLI("sep= -> ");
	__u32 newstate ECLI("name=NEWSTATE") ECLI(ECLI_TCP_STATE_NAMES) ECLI("fmt=%-11s");
	/* time in the old state (0 for the socket's first change seen), shown in ms */
	__u64 span_us ECLI("name=MS") ECLI("div=1000") ECLI("fmt=%.3f") ECLI("unit=us");
} ECLI("time=targ_time") ECLI("csv=targ_csv");

#endif /* __TCPSTATES_H */
