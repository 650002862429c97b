/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* tcpconnect: the event the BPF side emits, in bcc libbpf-tools' layout (dport in host
 * byte order). The ECLI(...) attributes are ecli display hints (docs/package-format.md):
 * they make the generic runner print bcc python tcpconnect's columns. */
#ifndef __TCPCONNECT_H
#define __TCPCONNECT_H

#include "ecli/ecli.h"

/* -d: a question name in text form (at most 253 characters), NUL-terminated */
#define DNS_NAME_LEN 256

struct event {
	/* Hints in front of an anonymous union tag the struct member; after the
	 * closing brace they would tag the union type instead. */
	ECLI("name=SADDR") ECLI("select=af") ECLI("fmt=%-16s") ECLI("order=5")
	union {
		__u32 saddr_v4 ECLI("case=2") ECLI("format=ipv4");
		__u8 saddr_v6[16] ECLI("case=10") ECLI("format=ipv6");
	};
	ECLI("name=DADDR") ECLI("select=af") ECLI("fmt=%-16s") ECLI("order=7")
	union {
		__u32 daddr_v4 ECLI("case=2") ECLI("format=ipv4");
		__u8 daddr_v6[16] ECLI("case=10") ECLI("format=ipv6");
	};
	char task[TASK_COMM_LEN] ECLI("name=COMM") ECLI("fmt=%-12.12s") ECLI("order=3");
	/* printed relative to the first event, in s (bcc: %-9.3f with no separator) */
	__u64 ts_us ECLI("name=TIME(s)") ECLI("div=1000000") ECLI("rel") ECLI("fmt=%-8.3f")
		ECLI("unit=us") ECLI("show=targ_timestamp") ECLI("order=0");
	/* AF_INET (2) or AF_INET6 (10); IPv4-mapped IPv6 connects are reported as AF_INET */
	__u32 af ECLI("name=IP") ECLI("map=2:4,10:6") ECLI("fmt=%-2d") ECLI("order=4");
	__u32 pid ECLI("name=PID") ECLI("fmt=%-7d") ECLI("order=2");
	/* bcc: %-6d with no separator */
	__u32 uid ECLI("name=UID") ECLI("fmt=%-5d") ECLI("show=targ_print_uid") ECLI("order=1");
	__u16 sport ECLI("name=LPORT") ECLI("fmt=%-6d") ECLI("show=targ_lport") ECLI("order=6");
	/* host byte order */
	__u16 dport ECLI("name=DPORT") ECLI("fmt=%-6d") ECLI("order=8");
	/* -d: µs from the DNS answer that held DADDR to the connect (0: no answer seen); the
	 * QUERY column shows it as " (N.NNNms)" when it is over 100 ms (bcc's DELAY_DNS) */
	__u64 dns_delay_us ECLI("hide") ECLI("above=100000") ECLI("div=1000") ECLI("unit=us");
	/* -d: the question of that answer, "localhost" for 127.0.0.1 and ::1 with none, else
	 * empty (QUERY: "No DNS Query") */
	char query[DNS_NAME_LEN] ECLI("name=QUERY") ECLI("empty=No DNS Query") ECLI("suffix=dns_delay_us")
		ECLI("suffix_fmt= (%.3fms)") ECLI("show=targ_dns") ECLI("order=9");
} ECLI("time=off");

#endif /* __TCPCONNECT_H */
