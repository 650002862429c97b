// raw_tp: counts getppid(2) calls of the target process (raw sys_enter, args: regs, id).
#include "common.h"

SEC("raw_tp/sys_enter")
int raw_tp_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	if (ctx->args[1] == NR_getppid && mine())
		count();
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
