/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* tcpretrans: the structs inside the event and the -c table. They live apart from
 * tcpretrans.h because every struct defined there is an exported type, and the ring buffer's
 * events must decode as struct event. */
#ifndef __TCPRETRANS_ADDR_H
#define __TCPRETRANS_ADDR_H

#include "ecli/ecli.h"

/* addr:port, as bcc's "%s:%d" % (inet_ntop(...), port) */
struct endpoint {
	union {
		__u32 v4 ECLI("case=2") ECLI("format=ipv4");
		__u8 v6[16] ECLI("case=10") ECLI("format=ipv6");
	} addr ECLI("select=af") ECLI("sep=");
	__u16 port ECLI("fmt=:%d");	/* host byte order */
	__u16 af ECLI("hide");		/* AF_INET or AF_INET6 */
};

/* -c: bcc's "[%s]#%d" endpoints */
struct cendpoint {
	union {
		__u32 v4 ECLI("case=2") ECLI("format=ipv4");
		__u8 v6[16] ECLI("case=10") ECLI("format=ipv6");
	} addr ECLI("select=af") ECLI("fmt=[%s]") ECLI("sep=");
	__u16 port ECLI("fmt=#%d");
	__u16 af ECLI("hide");
};

struct flow_key {
	__u32 af ECLI("hide");	/* IPv4 rows first, as bcc prints its ipv4_count table first */
	struct cendpoint laddr ECLI("name=LADDR:LPORT") ECLI("fmt=%-20s") ECLI("sep= <-> ");
	struct cendpoint raddr ECLI("name=RADDR:RPORT") ECLI("fmt=%-20s");
};

struct flow_count {
	__u64 retransmits ECLI("name=RETRANSMITS") ECLI("fmt=%10d");
};

#endif /* __TCPRETRANS_ADDR_H */
