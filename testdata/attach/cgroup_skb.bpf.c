// cgroup_skb: counts UDP datagrams to target_port leaving the cgroup; allows everything.
#include "common.h"

SEC("cgroup_skb/egress")
int cgroup_skb_egress(struct __sk_buff *skb)
{
	struct iphdr iph;
	struct udphdr udp;

	if (skb->protocol != ETH_P_IP_BE)
		return 1;
	if (bpf_skb_load_bytes(skb, 0, &iph, sizeof(iph)) || iph.protocol != IPPROTO_UDP_)
		return 1;
	if (bpf_skb_load_bytes(skb, iph.ihl * 4, &udp, sizeof(udp)))
		return 1;
	if (!target_port || udp.dest == bpf_htons(target_port))
		count();
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
