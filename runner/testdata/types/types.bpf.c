// SPDX-License-Identifier: GPL-2.0
// Fills struct kitchen with known values on every exec, for the runner's end-to-end test.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "types.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* Globals for the option tests (they do not change what the program does). */
const volatile bool opt_switch;
const volatile bool opt_on = true;
const volatile bool opt_off = false;
const volatile bool opt_short;
const volatile __u32 targ_pid = 0;

SEC("tp/sched/sched_process_exec")
int handle_exec(void *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (targ_pid && pid != targ_pid)
		return 0;
	struct kitchen *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	e->pid = pid;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->addr.v4 = 0x0100007f;
	e->flag_a = 5;
	e->flag_b = 4097;
	e->sflag = -3;
	e->tail = 1234;
	e->big = -((__int128)1 << 90);
	e->ubig = ((unsigned __int128)1 << 127) + 10;
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 3; j++) {
			e->pts[i][j].x = i * 10 + j;
			e->pts[i][j].y = -(i * 10 + j);
		}
	e->color = BLUE;
	e->magic = 0xdeadbeefULL;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

