// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//go:build ignore

/* tcpretrans: trace TCP retransmits from the tcp:tcp_retransmit_skb tracepoint, as bcc's
 * python tool does where the tracepoint exists. The tracepoint's own layout changed between
 * kernels (5.10: tcp_event_sk_skb without family; 6.x: tcp_retransmit_skb with family and
 * err), so only its common prefix is read (skaddr, sport, dport at fixed offsets, the same
 * on every kernel since 4.16) and the rest comes from the socket with CO-RE, as bcc reads
 * state and family from the socket.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "ecli/ecli.h"
#include "tcpretrans.h"

#define AF_INET 2
#define AF_INET6 10
#define RETRANSMIT 1

const volatile bool targ_ipv4 ECLI("short=4") ECLI("long=ipv4")
	ECLI("help=trace IPv4 family only") = false;
const volatile bool targ_ipv6 ECLI("short=6") ECLI("long=ipv6")
	ECLI("help=trace IPv6 family only") = false;
const volatile bool targ_count ECLI("short=c") ECLI("long=count")
	ECLI("help=count occurred retransmits per flow") = false;
const volatile bool targ_lossprobe ECLI("short=l") ECLI("long=lossprobe")
	ECLI("help=include tail loss probe attempts")
	ECLI("unsupported=no tracepoint marks tail loss probes (bcc kprobes tcp_send_loss_probe, and kprobes are not available); a probe that retransmits data is still shown as R") = false;

/* the prefix every kernel's tcp_retransmit_skb tracepoint shares */
struct retransmit_ctx {
	__u64 common;
	const void *skbaddr;
	const void *skaddr;
	int state;
	__u16 sport;
	__u16 dport;
};

/// @unless targ_count
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 18);
} events SEC(".maps");

/// @sample {"type": "table", "at_exit": true, "sort": "af,retransmits"}
/// @when targ_count
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct flow_key);
	__type(value, struct flow_count);
} counts SEC(".maps");

static __always_inline void fill(struct endpoint *e, const struct sock *sk, int af, __u16 port,
				 bool local)
{
	e->af = af;
	e->port = port;
	if (af == AF_INET)
		e->addr.v4 = local ? BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr)
				   : BPF_CORE_READ(sk, __sk_common.skc_daddr);
	else if (local)
		BPF_CORE_READ_INTO(&e->addr.v6, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
	else
		BPF_CORE_READ_INTO(&e->addr.v6, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
}

static __always_inline int count(const struct sock *sk, int af, __u16 sport, __u16 dport)
{
	static const struct flow_count zero;
	struct flow_key key;
	struct endpoint ep;
	struct flow_count *c;

	__builtin_memset(&key, 0, sizeof(key));
	key.af = af;
	/* struct cendpoint has struct endpoint's layout; only the hints differ */
	fill(&ep, sk, af, sport, true);
	__builtin_memcpy(&key.laddr, &ep, sizeof(ep));
	fill(&ep, sk, af, dport, false);
	__builtin_memcpy(&key.raddr, &ep, sizeof(ep));
	c = bpf_map_lookup_elem(&counts, &key);
	if (!c) {
		bpf_map_update_elem(&counts, &key, &zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&counts, &key);
		if (!c)
			return 0;
	}
	__sync_fetch_and_add(&c->retransmits, 1);
	return 0;
}

SEC("tracepoint/tcp/tcp_retransmit_skb")
int tcp_retransmit_skb(struct retransmit_ctx *ctx)
{
	const struct sock *sk = ctx->skaddr;
	__u16 sport = ctx->sport, dport = ctx->dport;
	struct event *e;
	int af;

	if (!sk)
		return 0;
	af = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (af != AF_INET && af != AF_INET6)
		return 0;
	/* -4 and -6 together (or neither) mean both families */
	if (targ_ipv4 && !targ_ipv6 && af != AF_INET)
		return 0;
	if (targ_ipv6 && !targ_ipv4 && af != AF_INET6)
		return 0;
	if (targ_count)
		return count(sk, af, sport, dport);
	e = ecli_reserve(&events, sizeof(*e));
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->ip = af == AF_INET ? 4 : 6;
	e->type = RETRANSMIT;
	e->state = BPF_CORE_READ(sk, __sk_common.skc_state);
	fill(&e->laddr, sk, af, sport, true);
	fill(&e->raddr, sk, af, dport, false);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/// @brief Trace TCP retransmits (bcc's tcpretrans)
/// @details One line per retransmitted segment: TIME PID IP LADDR:LPORT T> RADDR:RPORT STATE.
/// PID is whatever task was on the CPU (retransmits mostly run from timers: often 0), as in
/// bcc. With -c, retransmits are counted per flow and the table is printed at exit. -l
/// (tail loss probes) is not available: no tracepoint marks them.
char LICENSE[] SEC("license") = "Dual BSD/GPL";
