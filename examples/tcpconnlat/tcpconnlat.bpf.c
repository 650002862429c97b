// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//go:build ignore

/* tcpconnlat: TCP active-connect latency, with bcc's semantics, from tracepoints only.
 *
 * bcc hooks tcp_v[46]_connect and tcp_rcv_state_process with kprobes/fentry. This
 * version needs neither (some kernels have no kprobes and refuse fentry):
 *
 *   sock:inet_sock_set_state CLOSE -> SYN_SENT   runs inside connect(2), in the
 *       connecting task: remember tgid, comm and the time, keyed by the socket.
 *   sock:inet_sock_set_state SYN_SENT -> *       the first answer (SYN-ACK: ESTABLISHED,
 *       RST: CLOSE), usually in softirq: emit the latency, forget the socket.
 *
 * Like bcc, a refused connect (RST) is reported and one that timed out or was
 * abandoned is not: both end SYN_SENT -> CLOSE, and tcp_reset() sets sk_err to
 * ECONNREFUSED before that transition while a timeout sets ETIMEDOUT, a close(2) or a
 * failed connect(2) leaves it 0. Every transition out of SYN_SENT forgets the socket,
 * and tcp:tcp_destroy_sock does too, so nothing stays in the map.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "ecli/ecli.h"
#include <bpf/bpf_endian.h>
#include "tcpconnlat.h"

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define ECONNREFUSED 111

/* enum tcp_state values are kernel ABI (include/net/tcp_states.h) */
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_CLOSE 7

#define MAX_ENTRIES 10240

const volatile __u32 targ_tgid ECLI("short=p") ECLI("long=pid") ECLI("metavar=PID")
	ECLI("help=trace this PID only") = 0;
/* The user gives milliseconds (a float, as bcc's duration_ms); scale=1000 stores µs. */
const volatile __u64 targ_min_us ECLI("positional") ECLI("long=min-ms") ECLI("scale=1000")
	ECLI("metavar=duration_ms")
	ECLI("help=show only connects at least this slow, in ms (e.g. 0.5)") = 0;
const volatile bool targ_timestamp ECLI("short=t") ECLI("long=timestamp")
	ECLI("help=include timestamp on output") = false;
const volatile bool targ_lport ECLI("short=L") ECLI("long=lport")
	ECLI("help=include LPORT on output") = false;
const volatile bool targ_ipv4 ECLI("short=4") ECLI("long=ipv4")
	ECLI("help=trace IPv4 family only") = false;
const volatile bool targ_ipv6 ECLI("short=6") ECLI("long=ipv6")
	ECLI("help=trace IPv6 family only") = false;

struct piddata {
	char comm[TASK_COMM_LEN];
	__u64 ts;
	__u32 tgid;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, __u64);
	__type(value, struct piddata);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");


static __always_inline bool family_wanted(__u16 family)
{
	if (family != AF_INET && family != AF_INET6)
		return false;
	/* -4 and -6 together (or neither) mean both families */
	if (targ_ipv4 && !targ_ipv6)
		return family == AF_INET;
	if (targ_ipv6 && !targ_ipv4)
		return family == AF_INET6;
	return true;
}

static __always_inline int on_connect(struct trace_event_raw_inet_sock_set_state *ctx,
				      __u64 sk)
{
	struct piddata piddata = {};
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (targ_tgid && targ_tgid != tgid)
		return 0;
	if (!family_wanted(ctx->family))
		return 0;
	bpf_get_current_comm(&piddata.comm, sizeof(piddata.comm));
	piddata.ts = bpf_ktime_get_ns();
	piddata.tgid = tgid;
	bpf_map_update_elem(&start, &sk, &piddata, BPF_ANY);
	return 0;
}

static __always_inline int on_answer(struct trace_event_raw_inet_sock_set_state *ctx,
				     __u64 sk, int newstate)
{
	struct piddata *piddatap;
	struct event *e;
	__u64 now;
	__s64 delta;
	int err;

	piddatap = bpf_map_lookup_elem(&start, &sk);
	if (!piddatap)
		return 0;
	if (newstate == TCP_CLOSE) {
		/* RST: ECONNREFUSED; timeout: ETIMEDOUT; close(2)/connect error: 0 */
		err = BPF_CORE_READ((struct sock *)sk, sk_err);
		if (err != ECONNREFUSED)
			goto cleanup;
	} else if (newstate != TCP_ESTABLISHED) {
		goto cleanup;
	}

	now = bpf_ktime_get_ns();
	delta = (__s64)(now - piddatap->ts);
	if (delta < 0)
		goto cleanup;
	if ((__u64)delta / 1000 < targ_min_us)
		goto cleanup;

	e = ecli_reserve(&events, sizeof(*e));
	if (!e)
		goto cleanup;
	__builtin_memset(e, 0, sizeof(*e));
	__builtin_memcpy(e->comm, piddatap->comm, sizeof(e->comm));
	e->delta_us = (__u64)delta / 1000;
	e->ts_us = now / 1000;
	e->tgid = piddatap->tgid;
	e->af = ctx->family;
	e->lport = ctx->sport;
	e->dport = ctx->dport;
	/* the verifier refuses loads through a modified ctx pointer: copy with a helper */
	if (e->af == AF_INET) {
		bpf_probe_read_kernel(&e->saddr_v4, sizeof(e->saddr_v4), ctx->saddr);
		bpf_probe_read_kernel(&e->daddr_v4, sizeof(e->daddr_v4), ctx->daddr);
	} else {
		bpf_probe_read_kernel(e->saddr_v6, sizeof(e->saddr_v6), ctx->saddr_v6);
		bpf_probe_read_kernel(e->daddr_v6, sizeof(e->daddr_v6), ctx->daddr_v6);
	}
	bpf_ringbuf_submit(e, 0);

cleanup:
	bpf_map_delete_elem(&start, &sk);
	return 0;
}

SEC("tracepoint/sock/inet_sock_set_state")
int handle_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	__u64 sk = (__u64)ctx->skaddr;
	int oldstate = ctx->oldstate;
	int newstate = ctx->newstate;

	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	if (oldstate == TCP_CLOSE && newstate == TCP_SYN_SENT)
		return on_connect(ctx, sk);
	if (oldstate == TCP_SYN_SENT)
		return on_answer(ctx, sk, newstate);
	return 0;
}

SEC("tracepoint/tcp/tcp_destroy_sock")
int handle_destroy_sock(struct trace_event_raw_tcp_event_sk *ctx)
{
	__u64 sk = (__u64)ctx->skaddr;

	bpf_map_delete_elem(&start, &sk);
	return 0;
}

/// @brief Trace TCP active connect latency (bcc's tcpconnlat)
/// @details Prints one line per TCP connect(2) answered by the peer: a completed handshake or a
/// refused (RST) connect, with the time from SYN to the answer. Connects that time out or are
/// abandoned are not shown. -4 and -6 together mean both families. bcc's -v (print the BPF
/// program) has no equivalent: the source is examples/tcpconnlat/tcpconnlat.bpf.c; ecli's
/// --verbose prints the verifier log when loading fails.
char LICENSE[] SEC("license") = "Dual BSD/GPL";
