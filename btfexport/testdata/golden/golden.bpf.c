// SPDX-License-Identifier: GPL-2.0
// Test program for the btfexport golden test: every source of metadata btfexport reads.
// Rebuild the object (rarely): docker/build-package.sh -o /dev/null -b golden.bpf.o golden.bpf.c golden.h
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "golden.h"

/* ecli decl tags on globals become cmdarg. */
const volatile pid_t targ_pid ECLI("short=p") ECLI("long=pid") ECLI("help=trace this PID only") = 0;
const volatile unsigned long long min_us ECLI("positional") ECLI("scale=1000") ECLI("metavar=MS")
	ECLI("help=minimum latency in ms") ECLI("default=0") = 0;
const volatile bool targ_v6 ECLI("short=6") = false;

/// @cmdarg {"short": "c", "long": "comm", "help": "only this command"}
/// @description filter by command name
const volatile char targ_comm[16] = {};

/// A plain description only.
const volatile int threshold = 3;

__u64 events_seen;
int initialised = 1;
static int hidden_static;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
	__type(value, struct event);
} events SEC(".maps");

/// @sample {"interval": 1000, "type": "log2_hist", "unit": "us"}
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, u32);
	__type(value, struct hist);
} hists SEC(".maps");

SEC("tp/sched/sched_process_exec")
int handle_exec(void *ctx)
{
	struct event *e;

	if (targ_pid && (bpf_get_current_pid_tgid() >> 32) != targ_pid)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->delta_us = min_us + threshold + hidden_static + initialised;
	e->af = targ_v6 ? 10 : 2;
	bpf_get_current_comm(&e->comm, sizeof(e->comm));
	events_seen++;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/// @flags 2
SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

/// @brief golden test program
/// @version 1.0
char LICENSE[] SEC("license") = "GPL";
