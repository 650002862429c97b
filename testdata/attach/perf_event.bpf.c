// perf_event: counts samples (the runner's CPU clock) taken while the target process runs.
#include "common.h"

SEC("perf_event")
int perf_event_sample(struct bpf_perf_event_data *ctx)
{
	if (mine())
		count();
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
