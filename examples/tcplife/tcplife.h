/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* tcplife: one event per TCP session, at its close. The ECLI(...) attributes are ecli
 * display hints (docs/package-format.md) reproducing bcc python tcplife's columns:
 *   default  "%-5d %-10.10s %s%-15s %-5d %-15s %-5d %5d %5d %.2f" (no IP column)
 *   -w       "%-5d %-16.16s %-2s %-26s %-5s %-26s %-5d %6d %6d %.2f"
 *   -s       "%d,%s,%s,%s,%s,%s,%d,%d,%d,%.2f"
 * -T adds "%-8s " of the time, -t "%-9.6f " of the seconds since the first event. */
#ifndef __TCPLIFE_H
#define __TCPLIFE_H

#include "ecli/ecli.h"

struct event {
	/* seconds since the first event (bcc: "%-9.6f ") */
	__u64 ts_us ECLI("name=TIME(s)") ECLI("rel") ECLI("div=1000000") ECLI("fmt=%-9.6f")
		ECLI("unit=us") ECLI("show=targ_timestamp");
	__u32 pid ECLI("name=PID") ECLI("fmt=%-5d");
	char comm[TASK_COMM_LEN] ECLI("name=COMM") ECLI("fmt=%-10.10s") ECLI("fmt_if=targ_wide:%-16.16s");
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
	/* bytes: tcp_sock's bytes_acked and bytes_received at close, shown in KiB (bcc: tx_b / 1024) */
	__u64 tx_b ECLI("name=TX_KB") ECLI("div=1024") ECLI("fmt=%5d") ECLI("fmt_if=targ_wide:%6d") ECLI("unit=B");
	__u64 rx_b ECLI("name=RX_KB") ECLI("div=1024") ECLI("fmt=%5d") ECLI("fmt_if=targ_wide:%6d") ECLI("unit=B");
	/* the session's lifespan, shown in ms */
	__u64 span_us ECLI("name=MS") ECLI("div=1000") ECLI("fmt=%.2f") ECLI("unit=us");
} ECLI("time=targ_time") ECLI("csv=targ_csv");

#endif /* __TCPLIFE_H */
