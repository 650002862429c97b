/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* tcp.h: what the tools on sock:inet_sock_set_state share — TCP state numbers, the -4/-6
 * family filter and copying the tracepoint's addresses.
 *
 * Needs vmlinux.h, bpf_helpers.h and ecli/ecli.h before it. */
#ifndef __ECLI_TCP_H
#define __ECLI_TCP_H

#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif
#ifndef IPPROTO_TCP
#define IPPROTO_TCP 6
#endif

/* TCP states: vmlinux.h's enum (TCP_ESTABLISHED ... TCP_NEW_SYN_RECV, kernel ABI). */

/* the ecli map= hint text of a TCP state number, bcc's tcpstate2str names */
#define ECLI_TCP_STATE_NAMES "map=1:ESTABLISHED,2:SYN_SENT,3:SYN_RECV,4:FIN_WAIT1,5:FIN_WAIT2,6:TIME_WAIT,7:CLOSE,8:CLOSE_WAIT,9:LAST_ACK,10:LISTEN,11:CLOSING,12:NEW_SYN_RECV"

/* ecli_family_wanted applies -4 / -6 (both or neither: every family) to af. */
static __always_inline bool ecli_family_wanted(int af, bool only_v4, bool only_v6)
{
	if (af != AF_INET && af != AF_INET6)
		return false;
	if (only_v4 && !only_v6)
		return af == AF_INET;
	if (only_v6 && !only_v4)
		return af == AF_INET6;
	return true;
}

/* ecli_copy_addrs copies the tracepoint's source and destination address of family af into
 * saddr and daddr (4 or 16 bytes each; the buffers hold 16). The verifier refuses loads
 * through a modified ctx pointer, hence the helper. */
static __always_inline void ecli_copy_addrs(struct trace_event_raw_inet_sock_set_state *ctx, int af,
					    void *saddr, void *daddr)
{
	if (af == AF_INET) {
		bpf_probe_read_kernel(saddr, 4, ctx->saddr);
		bpf_probe_read_kernel(daddr, 4, ctx->daddr);
	} else {
		bpf_probe_read_kernel(saddr, 16, ctx->saddr_v6);
		bpf_probe_read_kernel(daddr, 16, ctx->daddr_v6);
	}
}

#endif /* __ECLI_TCP_H */
