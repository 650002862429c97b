// cgroup_sock_addr: counts connect(2) calls to 127.0.0.1:target_port made in the cgroup;
// allows every connect.
#include "common.h"

SEC("cgroup/connect4")
int cgroup_connect4(struct bpf_sock_addr *ctx)
{
	/* user_port holds the port in network byte order. */
	if (!target_port || ctx->user_port == bpf_htons(target_port))
		count();
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
