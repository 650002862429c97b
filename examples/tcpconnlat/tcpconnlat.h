/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* tcpconnlat: the event the BPF side emits, in bcc libbpf-tools' layout.
 *
 * The ECLI(...) attributes are ecli display hints (docs/package-format.md): they
 * make the generic runner print bcc python tcpconnlat's columns. */
#ifndef __TCPCONNLAT_H
#define __TCPCONNLAT_H

#include "ecli/ecli.h"

struct event {
	/* Hints in front of an anonymous union tag the struct member; after the
	 * closing brace they would tag the union type instead. */
	ECLI("name=SADDR") ECLI("select=af") ECLI("fmt=%-16s") ECLI("order=4")
	union {
		__u32 saddr_v4 ECLI("case=2") ECLI("format=ipv4");
		__u8 saddr_v6[16] ECLI("case=10") ECLI("format=ipv6");
	};
	ECLI("name=DADDR") ECLI("select=af") ECLI("fmt=%-16s") ECLI("order=6")
	union {
		__u32 daddr_v4 ECLI("case=2") ECLI("format=ipv4");
		__u8 daddr_v6[16] ECLI("case=10") ECLI("format=ipv6");
	};
	char comm[TASK_COMM_LEN] ECLI("name=COMM") ECLI("fmt=%-12.12s") ECLI("order=2");
	/* connect latency: SYN sent -> SYN-ACK (or RST) received */
	__u64 delta_us ECLI("name=LAT(ms)") ECLI("div=1000") ECLI("fmt=%.2f")
		ECLI("unit=us") ECLI("order=8");
	/* time of the response; printed relative to the first event, in s */
	__u64 ts_us ECLI("name=TIME(s)") ECLI("div=1000000") ECLI("rel") ECLI("fmt=%-8.3f")
		ECLI("unit=us") ECLI("show=targ_timestamp") ECLI("order=0");
	__u32 tgid ECLI("name=PID") ECLI("fmt=%-7d") ECLI("order=1");
	/* AF_INET (2) or AF_INET6 (10) */
	int af ECLI("name=IP") ECLI("map=2:4,10:6") ECLI("fmt=%-2d") ECLI("order=3");
	__u16 lport ECLI("name=LPORT") ECLI("fmt=%-6d") ECLI("show=targ_lport") ECLI("order=5");
	/* host byte order */
	__u16 dport ECLI("name=DPORT") ECLI("fmt=%-5d") ECLI("order=7");
} ECLI("time=off");

#endif /* __TCPCONNLAT_H */
