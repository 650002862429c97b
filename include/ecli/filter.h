/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* filter.h: bcc's common filters, shared by ecli's tools.
 *
 *   ecli_container_filtered()  bcc's --cgroupmap / --mntnsmap (container_should_be_filtered):
 *                              the flags and maps come with this header; a tool without
 *                              those bcc flags defines ECLI_NO_CONTAINER_FILTER before it
 *   ecli_port_in_list()        a "-P 80,443"-style comma-separated port list
 *   ecli_pid_wanted()          -p PID (process id, i.e. tgid) / -t TID / -u UID style filters
 *
 * Needs vmlinux.h, bpf_helpers.h, bpf_core_read.h and ecli/ecli.h before it. A tool without
 * bcc's container flags defines ECLI_NO_CONTAINER_FILTER before including it: the
 * --cgroupmap/--mntnsmap globals and their maps are then left out. */
#ifndef __ECLI_FILTER_H
#define __ECLI_FILTER_H

#ifndef ECLI_PATH_LEN
#define ECLI_PATH_LEN 256
#endif

#ifndef ECLI_NO_CONTAINER_FILTER
/* bcc's container filters: the runner replaces cgroupset / mount_ns_set with the hash maps
 * pinned at these paths (cmdarg pinned_map); a non-empty path turns the filter on. */
const volatile char cgroupmap[ECLI_PATH_LEN] ECLI("long=cgroupmap") ECLI("metavar=PATH")
	ECLI("pinned_map=cgroupset")
	ECLI("help=trace only cgroups whose id is a key of the BPF hash map pinned at PATH (8-byte keys and values)") = "";
const volatile char mntnsmap[ECLI_PATH_LEN] ECLI("long=mntnsmap") ECLI("metavar=PATH")
	ECLI("pinned_map=mount_ns_set")
	ECLI("help=trace only mount namespaces whose inode number is a key of the BPF hash map pinned at PATH (8-byte keys, 4-byte values)") = "";

/* bcc's BPF_TABLE_PINNED("hash", u64, u64, cgroupset, 1024, PATH): cgroup v2 ids */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, __u64);
} cgroupset SEC(".maps");

/* bcc's BPF_TABLE_PINNED("hash", u64, u32, mount_ns_set, 1024, PATH): mount ns inodes */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, __u32);
} mount_ns_set SEC(".maps");

/* ecli_container_filtered is bcc's container_should_be_filtered(): the current task's
 * cgroup (resp. mount namespace) must be a key of the pinned map when --cgroupmap
 * (--mntnsmap) is given. */
static __always_inline bool ecli_container_filtered(void)
{
	if (cgroupmap[0]) {
		__u64 id = bpf_get_current_cgroup_id();

		if (!bpf_map_lookup_elem(&cgroupset, &id))
			return true;
	}
	if (mntnsmap[0]) {
		struct task_struct *task = (struct task_struct *)bpf_get_current_task();
		__u64 inum = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);

		if (!bpf_map_lookup_elem(&mount_ns_set, &inum))
			return true;
	}
	return false;
}
#endif /* ECLI_NO_CONTAINER_FILTER */

/* ecli_port_in_list reports whether port is in the comma-separated decimal list (any
 * non-digit separates; an empty list matches every port). len is the list's size. */
static __always_inline bool ecli_port_in_list(const volatile char *list, int len, __u16 port)
{
	__u32 cur = 0;
	bool have = false;
	int i;

	if (!list[0])
		return true;
	for (i = 0; i < len; i++) {
		char c = list[i];

		if (c >= '0' && c <= '9') {
			cur = cur * 10 + (c - '0');
			if (cur > 65535)
				cur = 65536; /* never matches */
			have = true;
			continue;
		}
		if (have && cur == port)
			return true;
		if (!c)
			return false;
		cur = 0;
		have = false;
	}
	return have && cur == port;
}

/* ecli_task_wanted applies -p PID (tgid, 0: any), -t TID (0: any) and -u UID (<0: any)
 * to the current task. */
static __always_inline bool ecli_task_wanted(__u32 want_pid, __u32 want_tid, __s64 want_uid)
{
	__u64 id = bpf_get_current_pid_tgid();

	if (want_pid && (__u32)(id >> 32) != want_pid)
		return false;
	if (want_tid && (__u32)id != want_tid)
		return false;
	if (want_uid >= 0 && (__u32)bpf_get_current_uid_gid() != (__u32)want_uid)
		return false;
	return true;
}

#endif /* __ECLI_FILTER_H */
