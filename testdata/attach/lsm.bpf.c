// lsm: counts file_open LSM checks of the target process; never denies (returns the
// previous verdict).
#include "common.h"

SEC("lsm/file_open")
int BPF_PROG(lsm_file_open, struct file *file, int ret)
{
	if (mine())
		count();
	return ret;
}

char LICENSE[] SEC("license") = "GPL";
