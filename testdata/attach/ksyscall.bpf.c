// ksyscall: counts getppid(2) calls of the target process (kprobe on the arch syscall wrapper).
#include "common.h"

SEC("ksyscall/getppid")
int ksyscall_getppid(void *ctx)
{
	if (mine())
		count();
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
