// fexit: counts successful do_unlinkat returns of the target process.
#include "common.h"

SEC("fexit/do_unlinkat")
int BPF_PROG(fexit_unlinkat, int dfd, struct filename *name, long ret)
{
	if (mine() && ret == 0)
		count();
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
