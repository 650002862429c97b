// kretprobe: counts successful do_unlinkat returns of the target process.
#include "common.h"

SEC("kretprobe/do_unlinkat")
int BPF_KRETPROBE(kretprobe_unlinkat, long ret)
{
	if (mine() && ret == 0)
		count();
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
