/* Shared by the attach-type test programs: one counter, a process filter, a packet filter. */
#ifndef ECLI_TEST_ATTACH_COMMON_H
#define ECLI_TEST_ATTACH_COMMON_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

#define NR_getppid 110 /* x86_64 */

/* Count only events of this process (tgid); 0 counts every process. */
const volatile __u32 target_tgid = 0;
/* Count only UDP datagrams to this port; 0 counts every packet. */
const volatile __u16 target_port = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

static __always_inline int mine(void)
{
	return !target_tgid || (__u32)(bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

static __always_inline void count(void)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&hits, &key);

	if (v)
		__sync_fetch_and_add(v, 1);
}

#define ETH_P_IP_BE 0x0008 /* htons(ETH_P_IP) */
#define IPPROTO_UDP_ 17

/* is_target_udp reports whether [ip, end) holds an IPv4 UDP datagram to target_port. */
static __always_inline int is_target_udp(void *ip, void *end)
{
	struct iphdr *iph = ip;
	struct udphdr *udp;

	if ((void *)(iph + 1) > end || iph->protocol != IPPROTO_UDP_)
		return 0;
	udp = (void *)iph + iph->ihl * 4;
	if ((void *)(udp + 1) > end)
		return 0;
	return !target_port || udp->dest == bpf_htons(target_port);
}

/* is_target_eth is is_target_udp for a frame that starts with an Ethernet header. */
static __always_inline int is_target_eth(void *data, void *end)
{
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end || eth->h_proto != ETH_P_IP_BE)
		return 0;
	return is_target_udp(eth + 1, end);
}

#endif
