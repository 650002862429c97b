/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* tcpretrans: one event per TCP retransmission. The ECLI(...) hints
 * (docs/package-format.md) print bcc python tcpretrans's line,
 * "%-8s %-6d %-2d %-20s %1s> %-20s %s": the addr:port cells are nested structs rendered as
 * templates (the address union glued to the port's ":%d"), the T column is "%1s>". */
#ifndef __TCPRETRANS_H
#define __TCPRETRANS_H

#include "ecli/ecli.h"

/* bcc's tcpstate table (include/net/tcp_states.h) */
#define TCPRETRANS_STATES "map=1:ESTABLISHED,2:SYN_SENT,3:SYN_RECV,4:FIN_WAIT1,5:FIN_WAIT2,6:TIME_WAIT,7:CLOSE,8:CLOSE_WAIT,9:LAST_ACK,10:LISTEN,11:CLOSING,12:NEW_SYN_RECV"

#include "tcpretrans_addr.h"

struct event {
	__u32 pid ECLI("name=PID") ECLI("fmt=%-6d");
	__u32 ip ECLI("name=IP") ECLI("fmt=%-2d");	/* 4 or 6 */
	struct endpoint laddr ECLI("name=LADDR:LPORT") ECLI("fmt=%-20s");
	/* 1: retransmit (bcc's R); bcc's 2 (L, tail loss probe) needs a kprobe */
	__u32 type ECLI("name=T") ECLI("fmt=%1s>") ECLI("map=1:R,2:L");
	struct endpoint raddr ECLI("name=RADDR:RPORT") ECLI("fmt=%-20s");
	__u32 state ECLI("name=STATE") ECLI(TCPRETRANS_STATES);
};

#endif /* __TCPRETRANS_H */
