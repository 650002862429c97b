// kprobe: counts do_unlinkat calls of the target process.
#include "common.h"

SEC("kprobe/do_unlinkat")
int BPF_KPROBE(kprobe_unlinkat)
{
	if (mine())
		count();
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
