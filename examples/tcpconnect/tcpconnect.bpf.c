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
#include <bpf/bpf_endian.h>
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
	ECLI("help=include likely DNS query associated with each connect") ECLI("conflicts=targ_count") = false;
#include "ecli/filter.h"

struct piddata {
	char comm[TASK_COMM_LEN];
	__u32 pid;
	__u32 uid;
	__u64 ts_ns; /* when the connect started (-d measures the answer's age from it) */
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
	__u64 connects ECLI("name=CONNECTS") ECLI("fmt=%-10d");
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

/* ---- -d: DNS answers, parsed in the kernel ----
 *
 * bcc copies every UDP payload from port 53 to Python (kprobes on udp_recvmsg) and parses it
 * with dnslib. Here a cgroup_skb/ingress program on the cgroup v2 root sees every packet
 * delivered to a local socket (stub resolvers on 127.0.0.53 included), parses DNS answers
 * itself and keeps IP -> {question, time} in an LRU hash; the connect path looks DADDR up.
 * Only answers with QR=1, one question and at least one answer are used, and only their
 * A and AAAA records (bcc's rules); every address maps to the question name (for a CNAME
 * chain, the name that was asked). A message that ends inside a record, or a name with
 * reserved label bits, a label past the end or a compression pointer that does not point
 * back, is dropped whole. DNS over TCP, DoT and DoH are not seen (bcc ignores them too). */

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_UDP 17
#define DNS_PORT 53
#define DNS_BUF 1024		/* bytes of a DNS message parsed (a power of two) */
#define DNS_MASK (DNS_BUF - 1)
#define DNS_HDR 12
#define DNS_MAX_ANSWERS 16	/* A/AAAA records kept per message */
#define DNS_STEPS 256		/* labels + records walked in the answer section */
#define DNS_TTL_NS (24ULL * 3600 * 1000000000) /* bcc's cache TTL */
#define DNS_ENTRIES 10240	/* bcc's DNS_CACHE_SIZE */
#define TYPE_A 1
#define TYPE_AAAA 28

/* an address: IPv4 as ::ffff:a.b.c.d */
struct dns_key {
	__u8 addr[16];
};

struct dns_name {
	char name[DNS_NAME_LEN];
	__u64 ts_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, DNS_ENTRIES);
	__type(key, struct dns_key);
	__type(value, struct dns_name);
} dns_names SEC(".maps");

/* dns_walk is where dns_answers keeps its place between loop iterations. It lives in map
 * memory, not in registers, on purpose: the verifier does not track values loaded from a
 * map, so every iteration starts from the same ranges and the paths through different
 * sequences of labels and records are pruned instead of explored one by one. */
struct dns_walk {
	__u32 n;	  /* bytes of the message copied */
	__u32 limit;	  /* answer records to walk: ANCOUNT, at most DNS_MAX_ANSWERS */
	__u32 cut;	  /* the message is longer than the copy */
	__u32 pos;	  /* offset of the next byte to read */
	__u32 name_start; /* where the current record's name began */
	__u32 rec;	  /* records walked */
	__u32 nkeys;	  /* addresses collected */
};

/* per-CPU scratch: the message, the addresses found, the value stored for them */
struct dns_scratch {
	__u8 pkt[DNS_BUF];
	struct dns_key keys[DNS_MAX_ANSWERS];
	struct dns_name val;
	struct dns_walk walk;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dns_scratch);
} dns_scratch SEC(".maps");

/* DNS_AT(x, m) is x & m, with the mask kept: clang drops a mask it can prove redundant from
 * an earlier comparison, which the verifier may not have tracked on the same register. */
#define DNS_AT(x, m) ({ __u64 __i = (x); barrier_var(__i); __i & (m); })
/* DNS_LOAD reads a struct dns_walk field afresh (see struct dns_walk) */
#define DNS_LOAD(x) (*(volatile __u32 *)&(x))

static __always_inline __u32 dns_u16(const __u8 *b, __u32 off)
{
	return (__u32)b[DNS_AT(off, DNS_MASK)] << 8 | b[DNS_AT(off + 1, DNS_MASK)];
}

/* dns_question copies the question name at offset 12 of the message b (n bytes) into name
 * as text and returns the offset after the question, or 0 when it is malformed or empty.
 * The verifier explores every path through a loop: so the name is copied whole first (a
 * loop without branches), then only its length bytes are visited and turned into dots. */
static __always_inline __u32 dns_question(const __u8 *b, struct dns_walk *w, char *name)
{
	__u32 p = b[DNS_HDR];

	if (p == 0 || p > 63)
		return 0; /* the root, a pointer or a reserved label type */
	for (int i = 0; i < DNS_NAME_LEN - 1; i++)
		name[i] = b[DNS_AT(DNS_HDR + 1 + i, DNS_MASK)];
	for (int hop = 0; hop < DNS_NAME_LEN / 2; hop++) {
		__u8 c;

		if (p >= DNS_NAME_LEN - 2)
			return 0; /* longer than 255 bytes */
		c = name[DNS_AT(p, DNS_NAME_LEN - 1)];
		if (c == 0) {
			w->pos = p;
			goto end;
		}
		if (c > 63)
			return 0;
		name[DNS_AT(p, DNS_NAME_LEN - 1)] = '.';
		p += c + 1;
	}
	return 0;
end:
	p = DNS_LOAD(w->pos) & (DNS_NAME_LEN - 1);
	if (DNS_HDR + 1 + p + 4 >= DNS_LOAD(w->n))
		return 0; /* the name or QTYPE/QCLASS run past the message */
	for (int j = 0; j < DNS_NAME_LEN; j++)
		if (j >= p)
			name[j] = 0;
	return DNS_HDR + 1 + p + 1 + 4;
}

/* dns_answers walks the answer records from w->pos and collects the addresses of A and
 * AAAA records into keys; it returns how many, or -1 to drop the message. cut reports that
 * the message is longer than what was copied (records past the copy are ignored). */
static __always_inline int dns_answers(const __u8 *b, struct dns_walk *w, struct dns_key *keys)
{
	for (int step = 0; step < DNS_STEPS; step++) {
		__u32 pos, rec, nkeys, type, rdlen, n;
		__u8 c;

		rec = DNS_LOAD(w->rec);
		if (rec >= DNS_LOAD(w->limit))
			break;
		n = DNS_LOAD(w->n);
		pos = DNS_LOAD(w->pos);
		if (pos >= n)
			goto short_msg;
		pos &= DNS_MASK;
		c = b[pos];
		if (c && (c & 0xC0) == 0) {
			w->pos = pos + c + 1; /* a label */
			continue;
		}
		if ((c & 0xC0) == 0xC0) {
			/* a pointer must point back, into the message after the header */
			__u32 to = dns_u16(b, pos) & 0x3FFF;

			if (pos + 2 > n)
				goto short_msg;
			if (to < DNS_HDR || to >= DNS_LOAD(w->name_start))
				return -1;
			pos += 2;
		} else if (c == 0) {
			pos += 1;
		} else {
			return -1; /* reserved label type */
		}
		/* TYPE, CLASS, TTL, RDLENGTH, then RDATA */
		if (pos + 10 > n)
			goto short_msg;
		type = dns_u16(b, pos);
		rdlen = dns_u16(b, pos + 8);
		pos += 10;
		if (pos + rdlen > n)
			goto short_msg;
		nkeys = DNS_LOAD(w->nkeys) & (DNS_MAX_ANSWERS - 1);
		if (type == TYPE_A && rdlen == 4) {
			struct dns_key *k = &keys[nkeys];

			__builtin_memset(k, 0, sizeof(*k));
			k->addr[10] = 0xff;
			k->addr[11] = 0xff;
			for (int j = 0; j < 4; j++)
				k->addr[12 + j] = b[DNS_AT(pos + j, DNS_MASK)];
			w->nkeys = nkeys + 1;
		} else if (type == TYPE_AAAA && rdlen == 16) {
			struct dns_key *k = &keys[nkeys];

			for (int j = 0; j < 16; j++)
				k->addr[j] = b[DNS_AT(pos + j, DNS_MASK)];
			w->nkeys = nkeys + 1;
		}
		w->pos = pos + rdlen;
		w->name_start = pos + rdlen;
		w->rec = rec + 1;
	}
	return DNS_LOAD(w->nkeys);
short_msg:
	/* the message ends inside a record: malformed, unless only our copy of it ends */
	return DNS_LOAD(w->cut) ? (int)DNS_LOAD(w->nkeys) : -1;
}

/* dns_message parses the DNS message at offset off of skb and records its addresses. */
static __always_inline void dns_message(struct __sk_buff *skb, __u32 off)
{
	struct dns_scratch *s;
	__u32 zero = 0, len, n, pos, ancount;
	int nkeys;
	bool cut;

	if (skb->len <= off + DNS_HDR)
		return;
	len = skb->len - off;
	n = len;
	if (n > DNS_BUF)
		n = DNS_BUF;
	cut = len > n;
	s = bpf_map_lookup_elem(&dns_scratch, &zero);
	if (!s)
		return;
	if (bpf_skb_load_bytes(skb, off, s->pkt, DNS_AT(n - 1, DNS_MASK) + 1))
		return;
	/* QR=1, QDCOUNT=1, ANCOUNT>0 */
	if (!(s->pkt[2] & 0x80) || dns_u16(s->pkt, 4) != 1)
		return;
	ancount = dns_u16(s->pkt, 6);
	if (!ancount)
		return;
	__builtin_memset(&s->val, 0, sizeof(s->val));
	s->walk.n = n;
	s->walk.cut = cut;
	s->walk.limit = ancount < DNS_MAX_ANSWERS ? ancount : DNS_MAX_ANSWERS;
	pos = dns_question(s->pkt, &s->walk, s->val.name);
	if (!pos)
		return;
	s->walk.pos = pos;
	s->walk.name_start = pos;
	s->walk.rec = 0;
	s->walk.nkeys = 0;
	nkeys = dns_answers(s->pkt, &s->walk, s->keys);
	if (nkeys <= 0)
		return;
	s->val.ts_ns = bpf_ktime_get_ns();
	for (int i = 0; i < DNS_MAX_ANSWERS; i++) {
		if (i >= nkeys)
			break;
		bpf_map_update_elem(&dns_names, &s->keys[i], &s->val, BPF_ANY);
	}
}

/* dns_answer sees every packet delivered to a local socket; it must let all of them
 * through (return 1). Anything but UDP from port 53 leaves after a few loads. */
/// @when targ_dns
SEC("cgroup_skb/ingress")
int dns_answer(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct udphdr *udp;
	__u32 off;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = data;

		if ((void *)(ip + 1) > end || ip->protocol != IPPROTO_UDP)
			return 1;
		off = ip->ihl * 4;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data;

		/* extension headers before UDP are not followed */
		if ((void *)(ip6 + 1) > end || ip6->nexthdr != IPPROTO_UDP)
			return 1;
		off = sizeof(*ip6);
	} else {
		return 1;
	}
	udp = data + off;
	if ((void *)(udp + 1) > end || udp->source != bpf_htons(DNS_PORT))
		return 1;
	dns_message(skb, off + sizeof(*udp));
	return 1;
}

/* dns_query fills the event's QUERY fields for its destination; now_ns is when the
 * connect started. */
static __always_inline void dns_query(struct event *e, int af, __u64 now_ns)
{
	static const char localhost[] = "localhost";
	struct dns_key key = {};
	struct dns_name *v;
	bool loopback;

	if (af == AF_INET) {
		key.addr[10] = 0xff;
		key.addr[11] = 0xff;
		__builtin_memcpy(&key.addr[12], &e->daddr_v4, 4);
		loopback = e->daddr_v4 == bpf_htonl(0x7f000001);
	} else {
		__builtin_memcpy(key.addr, e->daddr_v6, 16);
		loopback = true;
		for (int i = 0; i < 15; i++)
			if (e->daddr_v6[i])
				loopback = false;
		loopback = loopback && e->daddr_v6[15] == 1;
	}
	v = bpf_map_lookup_elem(&dns_names, &key);
	if (v && now_ns >= v->ts_ns && now_ns - v->ts_ns <= DNS_TTL_NS) {
		__builtin_memcpy(e->query, v->name, sizeof(e->query));
		e->dns_delay_us = (now_ns - v->ts_ns) / 1000;
		return;
	}
	if (loopback)
		__builtin_memcpy(e->query, localhost, sizeof(localhost));
}

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
	if (targ_dns)
		dns_query(e, af, who->ts_ns);
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
	who.ts_ns = bpf_ktime_get_ns();
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
/// hash map pinned in bpffs, as bcc's do. With -d, DNS answers (UDP from port 53) are
/// parsed in the kernel and each line gets the question whose answer held DADDR (QUERY).
/// -4 and -6 together mean both families.
char LICENSE[] SEC("license") = "Dual BSD/GPL";
