// uprobe: counts calls of ecli_uprobe_target in /tmp/ecli-uprobe-target (uprobe_target.c).
#include "common.h"

SEC("uprobe//tmp/ecli-uprobe-target:ecli_uprobe_target")
int BPF_KPROBE(uprobe_target, int x)
{
	if (x == 41)
		count();
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
