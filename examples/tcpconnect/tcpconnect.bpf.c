// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//go:build ignore

/* tcpconnect: trace active TCP connects, with bcc's semantics, from tracepoints only.
 *
 * bcc uses kprobe + kretprobe on tcp_v[46]_connect. This version needs neither (some
 * kernels have no kprobes and refuse fentry): sock:inet_sock_set_state CLOSE -> SYN_SENT
 * fires inside tcp_v[46]_connect, in the connecting task, with addresses and the
 * destination port set. The local port is chosen only after that transition, so:
 *
 *   without -L  the event is emitted at CLOSE -> SYN_SENT, at once;
 *   with -L     pid, uid and comm are remembered per socket and the event is emitted at
 *               the next transition out of SYN_SENT (answer, RST, timeout or close), when
 *               the local port is known. A connect that failed inside connect(2) before a
 *               port was bound (sport still 0) is dropped, as bcc drops connects whose
 *               tcp_v[46]_connect failed.
 *
 * An IPv4-mapped connect from an AF_INET6 socket goes through tcp_v4_connect and bcc
 * reports it as IPv4: so does this program.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "ecli/ecli.h"
#include "tcpconnect.h"

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6

/* enum tcp_state values are kernel ABI (include/net/tcp_states.h) */
#define TCP_SYN_SENT 2
#define TCP_CLOSE 7

#define MAX_ENTRIES 10240
#define PORTS_LEN 128

const volatile __u32 targ_pid ECLI("short=p") ECLI("long=pid") ECLI("metavar=PID")
	ECLI("help=trace this PID only") = 0;
const volatile __s64 targ_uid ECLI("short=u") ECLI("long=uid") ECLI("metavar=UID")
	ECLI("help=trace this UID only (-1: all)") = -1;
const volatile char targ_ports[PORTS_LEN] ECLI("short=P") ECLI("long=port") ECLI("metavar=PORT")
	ECLI("help=comma-separated list of destination ports to trace") = "";
const volatile bool targ_timestamp ECLI("short=t") ECLI("long=timestamp")
	ECLI("help=include timestamp on output") = false;
const volatile bool targ_print_uid ECLI("short=U") ECLI("long=print-uid")
	ECLI("help=include UID on output") = false;
const volatile bool targ_lport ECLI("short=L") ECLI("long=lport")
	ECLI("help=include LPORT on output (lines then wait for the connect's answer)") = false;
const volatile bool targ_ipv4 ECLI("short=4") ECLI("long=ipv4")
	ECLI("help=trace IPv4 family only") = false;
const volatile bool targ_ipv6 ECLI("short=6") ECLI("long=ipv6")
	ECLI("help=trace IPv6 family only") = false;

const volatile bool targ_count ECLI("short=c") ECLI("long=count")
	ECLI("help=count connects per source address, destination address and port; print the table at exit") = false;

const volatile bool targ_dns ECLI("short=d") ECLI("long=dns")
	ECLI("help=include likely DNS query")
	ECLI("unsupported=bcc matches connects with DNS answers it parses in user space, and a package has no user-space code") = false;
#include "ecli/filter.h"

struct piddata {
	char comm[TASK_COMM_LEN];
	__u32 pid;
	__u32 uid;
};

/* -L only: sockets in SYN_SENT, keyed by address */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, __u64);
	__type(value, struct piddata);
} start SEC(".maps");

/* -c: bcc's ipv4_count/ipv6_count in one map. The runner prints it at exit as bcc's
 * "LADDR RADDR RPORT CONNECTS" table: IPv4 rows first (af ascending), then by count,
 * descending (sample "sort"). */
struct flow_key {
	ECLI("name=LADDR") ECLI("select=af") ECLI("fmt=%-25s")
	union {
		__u32 saddr_v4 ECLI("case=2") ECLI("format=ipv4");
		__u8 saddr_v6[16] ECLI("case=10") ECLI("format=ipv6");
	};
	ECLI("name=RADDR") ECLI("select=af") ECLI("fmt=%-25s")
	union {
		__u32 daddr_v4 ECLI("case=2") ECLI("format=ipv4");
		__u8 daddr_v6[16] ECLI("case=10") ECLI("format=ipv6");
	};
	__u32 af ECLI("hide");
	/* host byte order */
	__u16 dport ECLI("name=RPORT") ECLI("fmt=%-20d");
};

struct flow_count {
	__u64 connects ECLI("name=CONNECTS") ECLI("fmt=%-10d") ECLI("metric=counter");
};

/// @sample {"type": "table", "at_exit": true, "sort": "af,-connects"}
/// @when targ_count
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, struct flow_key);
	__type(value, struct flow_count);
} counts SEC(".maps");

/// @unless targ_count
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

/* is_v4_mapped reports whether a 16-byte address is ::ffff:a.b.c.d */
static __always_inline bool is_v4_mapped(const __u8 *a)
{
	__u8 b[16];

	if (bpf_probe_read_kernel(b, sizeof(b), a))
		return false;
	for (int i = 0; i < 10; i++)
		if (b[i])
			return false;
	return b[10] == 0xff && b[11] == 0xff;
}

/* family returns the family to report: AF_INET for IPv4-mapped IPv6 connects. */
static __always_inline int family(struct trace_event_raw_inet_sock_set_state *ctx)
{
	int af = ctx->family;

	if (af == AF_INET6 && is_v4_mapped(ctx->daddr_v6))
		return AF_INET;
	return af;
}

static __always_inline bool family_wanted(int af)
{
	if (af != AF_INET && af != AF_INET6)
		return false;
	/* -4 and -6 together (or neither) mean both families */
	if (targ_ipv4 && !targ_ipv6)
		return af == AF_INET;
	if (targ_ipv6 && !targ_ipv4)
		return af == AF_INET6;
	return true;
}

static __always_inline int emit(struct trace_event_raw_inet_sock_set_state *ctx, int af,
				struct piddata *who)
{
	struct event *e;

	e = ecli_reserve(&events, sizeof(*e));
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	__builtin_memcpy(e->task, who->comm, sizeof(e->task));
	e->ts_us = bpf_ktime_get_ns() / 1000;
	e->af = af;
	e->pid = who->pid;
	e->uid = who->uid;
	e->sport = ctx->sport;
	e->dport = ctx->dport;
	/* the verifier refuses loads through a modified ctx pointer: copy with a helper */
	if (af == AF_INET) {
		bpf_probe_read_kernel(&e->saddr_v4, sizeof(e->saddr_v4), ctx->saddr);
		bpf_probe_read_kernel(&e->daddr_v4, sizeof(e->daddr_v4), ctx->daddr);
	} else {
		bpf_probe_read_kernel(e->saddr_v6, sizeof(e->saddr_v6), ctx->saddr_v6);
		bpf_probe_read_kernel(e->daddr_v6, sizeof(e->daddr_v6), ctx->daddr_v6);
	}
	bpf_ringbuf_submit(e, 0);
	return 0;
}

static __always_inline int count(struct trace_event_raw_inet_sock_set_state *ctx, int af)
{
	static const struct flow_count zero;
	struct flow_count *c;
	struct flow_key key;

	__builtin_memset(&key, 0, sizeof(key));
	key.af = af;
	key.dport = ctx->dport;
	if (af == AF_INET) {
		bpf_probe_read_kernel(&key.saddr_v4, sizeof(key.saddr_v4), ctx->saddr);
		bpf_probe_read_kernel(&key.daddr_v4, sizeof(key.daddr_v4), ctx->daddr);
	} else {
		bpf_probe_read_kernel(key.saddr_v6, sizeof(key.saddr_v6), ctx->saddr_v6);
		bpf_probe_read_kernel(key.daddr_v6, sizeof(key.daddr_v6), ctx->daddr_v6);
	}
	c = bpf_map_lookup_elem(&counts, &key);
	if (!c) {
		bpf_map_update_elem(&counts, &key, &zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&counts, &key);
		if (!c)
			return 0;
	}
	__sync_fetch_and_add(&c->connects, 1);
	return 0;
}

static __always_inline int on_connect(struct trace_event_raw_inet_sock_set_state *ctx,
				      __u64 sk)
{
	struct piddata who = {};
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u32 uid = (__u32)bpf_get_current_uid_gid();
	int af;

	if (ecli_container_filtered())
		return 0;
	if (targ_pid && targ_pid != pid)
		return 0;
	if (targ_uid >= 0 && (__u32)targ_uid != uid)
		return 0;
	if (!ecli_port_in_list(targ_ports, PORTS_LEN, ctx->dport))
		return 0;
	af = family(ctx);
	if (!family_wanted(af))
		return 0;
	if (targ_count)
		return count(ctx, af);
	bpf_get_current_comm(&who.comm, sizeof(who.comm));
	who.pid = pid;
	who.uid = uid;
	if (!targ_lport)
		return emit(ctx, af, &who);
	bpf_map_update_elem(&start, &sk, &who, BPF_ANY);
	return 0;
}

static __always_inline int on_leave_syn_sent(struct trace_event_raw_inet_sock_set_state *ctx,
					     __u64 sk)
{
	struct piddata *who;

	who = bpf_map_lookup_elem(&start, &sk);
	if (!who)
		return 0;
	/* sport 0: connect(2) failed before binding a port, bcc does not report it */
	if (ctx->sport)
		emit(ctx, family(ctx), who);
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
	if (targ_lport && !targ_count && oldstate == TCP_SYN_SENT)
		return on_leave_syn_sent(ctx, sk);
	return 0;
}

SEC("tracepoint/tcp/tcp_destroy_sock")
int handle_destroy_sock(struct trace_event_raw_tcp_event_sk *ctx)
{
	__u64 sk = (__u64)ctx->skaddr;

	if (targ_lport)
		bpf_map_delete_elem(&start, &sk);
	return 0;
}

/// @brief Trace active TCP connects (bcc's tcpconnect)
/// @details Prints one line per TCP connect(2), including ones that later fail. With -L the
/// line waits for the first answer (or the timeout), because the local port is chosen after
/// the connect starts. With -c, connects are counted per (source, destination, port) and
/// the table is printed at exit instead. --cgroupmap and --mntnsmap take the path of a BPF
/// hash map pinned in bpffs, as bcc's do. -d/--dns is not available (see
/// examples/tcpconnect/README.md). -4 and -6 together mean both families.
char LICENSE[] SEC("license") = "Dual BSD/GPL";
