// tracepoint: counts getppid(2) calls of the target process.
#include "common.h"

SEC("tracepoint/syscalls/sys_enter_getppid")
int tracepoint_getppid(struct trace_event_raw_sys_enter *ctx)
{
	if (mine())
		count();
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
