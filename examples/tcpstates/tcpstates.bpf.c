// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//go:build ignore

/* tcpstates: TCP state changes with the time spent in the old state, with bcc's semantics,
 * from sock:inet_sock_set_state.
 *
 * C-PID / C-COMM: bcc prints the task current at the change, which for changes driven by a
 * received packet is whatever the softirq interrupted. This version remembers the task that
 * owned the socket when the kernel ran in it — connect (SYN_SENT), listen (LISTEN), close
 * or shutdown (FIN_WAIT1, LAST_ACK) — and prints that owner once known; before, the current
 * task, as bcc.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "ecli/ecli.h"
/* bcc's tcpstates has no --cgroupmap / --mntnsmap */
#define ECLI_NO_CONTAINER_FILTER
#include "ecli/filter.h"
#include "ecli/tcp.h"
#include "tcpstates.h"

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
const volatile char targ_lports[PORTS_LEN] ECLI("short=L") ECLI("long=localport") ECLI("metavar=LOCALPORT")
	ECLI("help=comma-separated list of local ports to trace.") = "";
const volatile char targ_dports[PORTS_LEN] ECLI("short=D") ECLI("long=remoteport") ECLI("metavar=REMOTEPORT")
	ECLI("help=comma-separated list of remote ports to trace.") = "";
const volatile bool targ_ipv4 ECLI("short=4") ECLI("long=ipv4")
	ECLI("help=trace IPv4 family only") = false;
const volatile bool targ_ipv6 ECLI("short=6") ECLI("long=ipv6")
	ECLI("help=trace IPv6 family only") = false;
const volatile bool targ_journal ECLI("short=Y") ECLI("long=journal")
	ECLI("help=log session state changes to the systemd journal")
	ECLI("unsupported=bcc sends each event to the systemd journal from Python (systemd.journal.send), and a package has no user-space code; pipe --json into systemd-cat instead") = false;

struct owner {
	__u32 pid;
	char comm[TASK_COMM_LEN];
};

/* bcc's last: when the socket entered its current state */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, __u64);
	__type(value, __u64);
} last SEC(".maps");

/* the owning task, by socket */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, __u64);
	__type(value, struct owner);
} owners SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

/* in_owner reports whether a change to newstate runs in the task owning the socket */
static __always_inline bool in_owner(int newstate)
{
	return newstate == TCP_SYN_SENT || newstate == TCP_LISTEN || newstate == TCP_FIN_WAIT1 ||
	       newstate == TCP_LAST_ACK;
}

SEC("tracepoint/sock/inet_sock_set_state")
int handle_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	__u64 sk = (__u64)ctx->skaddr;
	int newstate = ctx->newstate;
	__u64 *tsp, now = bpf_ktime_get_ns();
	struct owner *who;
	struct event *e;

	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	if (!ecli_family_wanted(ctx->family, targ_ipv4, targ_ipv6))
		return 0;
	if (!ecli_port_in_list(targ_lports, PORTS_LEN, ctx->sport) ||
	    !ecli_port_in_list(targ_dports, PORTS_LEN, ctx->dport)) {
		bpf_map_delete_elem(&last, &sk);
		return 0;
	}
	if (in_owner(newstate)) {
		struct owner me = {};

		me.pid = bpf_get_current_pid_tgid() >> 32;
		bpf_get_current_comm(me.comm, sizeof(me.comm));
		bpf_map_update_elem(&owners, &sk, &me, BPF_NOEXIST);
	}

	e = ecli_reserve(&events, sizeof(*e));
	if (!e)
		goto out;
	__builtin_memset(e, 0, sizeof(*e));
	tsp = bpf_map_lookup_elem(&last, &sk);
	e->span_us = tsp ? (now - *tsp) / 1000 : 0;
	e->ts_us = now / 1000;
	e->skaddr = sk;
	who = bpf_map_lookup_elem(&owners, &sk);
	if (who) {
		e->pid = who->pid;
		__builtin_memcpy(e->comm, who->comm, sizeof(e->comm));
	} else {
		e->pid = bpf_get_current_pid_tgid() >> 32;
		bpf_get_current_comm(e->comm, sizeof(e->comm));
	}
	e->af = ctx->family;
	e->lport = ctx->sport;
	e->rport = ctx->dport;
	ecli_copy_addrs(ctx, e->af, e->saddr_v6, e->daddr_v6);
	e->oldstate = ctx->oldstate;
	e->newstate = newstate;
	bpf_ringbuf_submit(e, 0);
out:
	if (newstate == TCP_CLOSE) {
		bpf_map_delete_elem(&last, &sk);
		bpf_map_delete_elem(&owners, &sk);
	} else {
		bpf_map_update_elem(&last, &sk, &now, BPF_ANY);
	}
	return 0;
}

/// @brief Trace TCP session state changes and durations (bcc's tcpstates)
/// @details One line per TCP state change: the socket's address, its owning process (once
/// known, else the current one), addresses and ports, the old and new state and the time
/// spent in the old state in ms. -w widens the columns for IPv6, -s prints CSV. -L and -D
/// take comma-separated port lists. -4 and -6 together mean both families. -Y (systemd
/// journal) is not available.
char LICENSE[] SEC("license") = "Dual BSD/GPL";
