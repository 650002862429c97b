// fentry: counts do_unlinkat calls of the target process.
#include "common.h"

SEC("fentry/do_unlinkat")
int BPF_PROG(fentry_unlinkat)
{
	if (mine())
		count();
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
