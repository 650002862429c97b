// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//go:build ignore

/* tcplife: the lifespan of TCP sessions, with bcc's semantics, from sock:inet_sock_set_state.
 *
 *   birth     the first transition to ESTABLISHED, SYN_SENT or SYN_RECV stamps the socket
 *             (bcc: any state below FIN_WAIT1); a socket closed without a birth is skipped
 *   owner     pid and comm are taken where the kernel runs in the owning task: at SYN_SENT
 *             (connect), and, when none was taken, at FIN_WAIT1 or LAST_ACK (the owner's
 *             close or shutdown). bcc takes SYN_SENT and LAST_ACK; FIN_WAIT1 is added so that
 *             a server socket closed first by the server is not attributed to whatever task
 *             the final ACK's softirq interrupted. Without an owner, the current task.
 *   bytes     at CLOSE, tcp_sock's bytes_acked (TX) and bytes_received (RX) via CO-RE, as
 *             bcc (tcp_get_info's counters)
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "ecli/ecli.h"
/* bcc's tcplife has no --cgroupmap / --mntnsmap */
#define ECLI_NO_CONTAINER_FILTER
#include "ecli/filter.h"
#include "ecli/tcp.h"
#include "tcplife.h"

#define MAX_ENTRIES 10240
#define PORTS_LEN 128

const volatile bool targ_time ECLI("short=T") ECLI("long=time")
	ECLI("help=include time column on output (HH:MM:SS)") = false;
const volatile bool targ_timestamp ECLI("short=t") ECLI("long=timestamp")
	ECLI("help=include timestamp on output (seconds)") = false;
const volatile bool targ_wide ECLI("short=w") ECLI("long=wide")
	ECLI("help=wide column output (fits IPv6 addresses)") = false;
const volatile bool targ_csv ECLI("short=s") ECLI("long=csv")
	ECLI("help=comma separated values output") = false;
const volatile __u32 targ_pid ECLI("short=p") ECLI("long=pid") ECLI("metavar=PID")
	ECLI("help=trace this PID only") = 0;
const volatile char targ_lports[PORTS_LEN] ECLI("short=L") ECLI("long=localport") ECLI("metavar=LOCALPORT")
	ECLI("help=comma-separated list of local ports to trace.") = "";
const volatile char targ_dports[PORTS_LEN] ECLI("short=D") ECLI("long=remoteport") ECLI("metavar=REMOTEPORT")
	ECLI("help=comma-separated list of remote ports to trace.") = "";
const volatile bool targ_ipv4 ECLI("short=4") ECLI("long=ipv4")
	ECLI("help=trace IPv4 family only") = false;
const volatile bool targ_ipv6 ECLI("short=6") ECLI("long=ipv6")
	ECLI("help=trace IPv6 family only") = false;

struct owner {
	__u32 pid;
	char comm[TASK_COMM_LEN];
};

/* bcc's birth: when the session started, by socket */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, __u64);
	__type(value, __u64);
} birth SEC(".maps");

/* bcc's whoami: the owning task, by socket */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, __u64);
	__type(value, struct owner);
} whoami SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

static __always_inline void remember_owner(__u64 sk)
{
	struct owner me = {};

	me.pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(me.comm, sizeof(me.comm));
	bpf_map_update_elem(&whoami, &sk, &me, BPF_NOEXIST);
}

static __always_inline int on_close(struct trace_event_raw_inet_sock_set_state *ctx, __u64 sk)
{
	struct tcp_sock *tp = (struct tcp_sock *)ctx->skaddr;
	struct owner *who;
	struct event *e;
	__u64 *start, now = bpf_ktime_get_ns();
	__u32 pid;

	start = bpf_map_lookup_elem(&birth, &sk);
	if (!start) {
		bpf_map_delete_elem(&whoami, &sk);
		return 0; /* missed the start */
	}
	__u64 span_us = (now - *start) / 1000;
	bpf_map_delete_elem(&birth, &sk);

	who = bpf_map_lookup_elem(&whoami, &sk);
	pid = who ? who->pid : bpf_get_current_pid_tgid() >> 32;
	if (targ_pid && pid != targ_pid)
		goto out;

	e = ecli_reserve(&events, sizeof(*e));
	if (!e)
		goto out;
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_us = now / 1000;
	e->span_us = span_us;
	e->pid = pid;
	if (who)
		__builtin_memcpy(e->comm, who->comm, sizeof(e->comm));
	else
		bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->af = ctx->family;
	e->lport = ctx->sport;
	e->rport = ctx->dport;
	ecli_copy_addrs(ctx, e->af, e->saddr_v6, e->daddr_v6);
	e->tx_b = BPF_CORE_READ(tp, bytes_acked);
	e->rx_b = BPF_CORE_READ(tp, bytes_received);
	bpf_ringbuf_submit(e, 0);
out:
	bpf_map_delete_elem(&whoami, &sk);
	return 0;
}

SEC("tracepoint/sock/inet_sock_set_state")
int handle_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	__u64 sk = (__u64)ctx->skaddr;
	int newstate = ctx->newstate;

	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	if (!ecli_family_wanted(ctx->family, targ_ipv4, targ_ipv6))
		return 0;
	if (!ecli_port_in_list(targ_lports, PORTS_LEN, ctx->sport) ||
	    !ecli_port_in_list(targ_dports, PORTS_LEN, ctx->dport)) {
		bpf_map_delete_elem(&birth, &sk);
		return 0;
	}
	if (newstate < TCP_FIN_WAIT1) {
		__u64 ts = bpf_ktime_get_ns();

		bpf_map_update_elem(&birth, &sk, &ts, BPF_NOEXIST);
	}
	if (newstate == TCP_SYN_SENT || newstate == TCP_FIN_WAIT1 || newstate == TCP_LAST_ACK)
		remember_owner(sk);
	if (newstate == TCP_CLOSE)
		return on_close(ctx, sk);
	return 0;
}

/// @brief Trace the lifespan of TCP sessions and summarize (bcc's tcplife)
/// @details One line per TCP session when it closes: the owning process, the addresses and
/// ports, the bytes sent (acknowledged) and received in KiB, and the lifespan in ms. -w
/// widens the columns for IPv6, -s prints CSV. -L and -D take comma-separated port lists.
/// -4 and -6 together mean both families.
char LICENSE[] SEC("license") = "Dual BSD/GPL";
