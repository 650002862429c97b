// uretprobe: counts returns of ecli_uprobe_target in /tmp/ecli-uprobe-target (uprobe_target.c).
#include "common.h"

SEC("uretprobe//tmp/ecli-uprobe-target:ecli_uprobe_target")
int BPF_KRETPROBE(uretprobe_target, int ret)
{
	if (ret == 42)
		count();
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
