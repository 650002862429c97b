// socket filter: counts UDP datagrams to target_port seen by the socket it is attached to.
#include "common.h"

SEC("socket")
int socket_count(struct __sk_buff *skb)
{
	struct ethhdr eth;
	struct iphdr iph;
	struct udphdr udp;

	/* On a packet socket the buffer starts at the link-layer header. */
	if (bpf_skb_load_bytes(skb, 0, &eth, sizeof(eth)) || eth.h_proto != ETH_P_IP_BE)
		return skb->len;
	if (bpf_skb_load_bytes(skb, sizeof(eth), &iph, sizeof(iph)) || iph.protocol != IPPROTO_UDP_)
		return skb->len;
	if (bpf_skb_load_bytes(skb, sizeof(eth) + iph.ihl * 4, &udp, sizeof(udp)))
		return skb->len;
	if (!target_port || udp.dest == bpf_htons(target_port))
		count();
	return skb->len;
}

char LICENSE[] SEC("license") = "GPL";
