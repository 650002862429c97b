// tp_btf: counts getppid(2) calls of the target process (BTF-typed sys_enter).
#include "common.h"

SEC("tp_btf/sys_enter")
int BPF_PROG(tp_btf_sys_enter, struct pt_regs *regs, long id)
{
	if (id == NR_getppid && mine())
		count();
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
