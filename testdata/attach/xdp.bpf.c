// xdp: counts UDP datagrams to target_port arriving on the interface; passes everything.
#include "common.h"

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;

	if (is_target_eth(data, end))
		count();
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
