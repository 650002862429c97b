// tc: counts UDP datagrams to target_port on the interface's ingress; passes everything.
#include "common.h"

SEC("tc")
int tc_count(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;

	if (is_target_eth(data, end))
		count();
	return 0; /* TC_ACT_OK */
}

char LICENSE[] SEC("license") = "GPL";
