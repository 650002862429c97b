/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* mountsnoop: one event per mount(2) or umount(2), emitted when the call returns. The
 * ECLI(...) hints (docs/package-format.md) print bcc python mountsnoop's line,
 * '{:16} {:<7} {:<7} {:<11} {}', with the call as bcc writes it:
 *   mount("none", "/mnt", "tmpfs", MS_NOSUID|MS_NODEV, "") = 0
 *   umount("/mnt", MNT_DETACH) = 0
 * The CALL column is a union of one struct per call (select=op); each struct renders as a
 * template of its members (literal text in fmt=, sep=, format=cstring, format=flags). */
#ifndef __MOUNTSNOOP_H
#define __MOUNTSNOOP_H

#include "ecli/ecli.h"
#include "ecli/errno.h"

/* bcc's MAX_STR_LEN: how much of each string argument is copied */
#define MAX_STR_LEN 412

/* <sys/mount.h>, in bcc's MOUNT_FLAGS order; MS_MGC_VAL (the old magic in the top 16
 * bits) first, as bcc's decode_mount_flags tests it first */
enum mountsnoop_ms_flags {
	MS_MGC_VAL = 0xc0ed0000,
	MS_RDONLY = 1,
	MS_NOSUID = 2,
	MS_NODEV = 4,
	MS_NOEXEC = 8,
	MS_SYNCHRONOUS = 16,
	MS_REMOUNT = 32,
	MS_MANDLOCK = 64,
	MS_DIRSYNC = 128,
	MS_NOATIME = 1024,
	MS_NODIRATIME = 2048,
	MS_BIND = 4096,
	MS_MOVE = 8192,
	MS_REC = 16384,
	MS_SILENT = 32768,
	MS_POSIXACL = 1 << 16,
	MS_UNBINDABLE = 1 << 17,
	MS_PRIVATE = 1 << 18,
	MS_SLAVE = 1 << 19,
	MS_SHARED = 1 << 20,
	MS_RELATIME = 1 << 21,
	MS_KERNMOUNT = 1 << 22,
	MS_I_VERSION = 1 << 23,
	MS_STRICTATIME = 1 << 24,
	MS_LAZYTIME = 1 << 25,
	MS_ACTIVE = 1 << 30,
	MS_NOUSER = 1u << 31,
};

enum mountsnoop_umount_flags {
	MNT_FORCE = 1,
	MNT_DETACH = 2,
	MNT_EXPIRE = 4,
	UMOUNT_NOFOLLOW = 8,
};

enum mount_op {
	OP_MOUNT = 0,
	OP_UMOUNT = 1,
};

struct mount_call {
	char source[MAX_STR_LEN] ECLI("format=cstring") ECLI("fmt=mount(%s") ECLI("sep=, ");
	char target[MAX_STR_LEN] ECLI("format=cstring") ECLI("sep=, ");
	char type[MAX_STR_LEN] ECLI("format=cstring") ECLI("sep=, ");
	/* mount(2) takes an unsigned long; every flag is in the low 32 bits */
	enum mountsnoop_ms_flags flags ECLI("format=flags") ECLI("sep=, ");
	char data[MAX_STR_LEN] ECLI("format=cstring") ECLI("fmt=%s)") ECLI("sep= = ");
	/* 0, or -errno printed as -NAME (bcc's decode_errno) */
	int ret ECLI(ECLI_NEG_ERRNO_MAP);
};

struct umount_call {
	char target[MAX_STR_LEN] ECLI("format=cstring") ECLI("fmt=umount(%s") ECLI("sep=, ");
	enum mountsnoop_umount_flags flags ECLI("format=flags") ECLI("fmt=%s)") ECLI("sep= = ");
	int ret ECLI(ECLI_NEG_ERRNO_MAP);
};

struct event {
	char comm[TASK_COMM_LEN] ECLI("name=COMM") ECLI("fmt=%-16s");
	__u32 pid ECLI("name=PID") ECLI("fmt=%-7d");	/* tgid */
	__u32 tid ECLI("name=TID") ECLI("fmt=%-7d");
	__u32 mnt_ns ECLI("name=MNT_NS") ECLI("fmt=%-11d");
	__u32 op ECLI("hide");			/* enum mount_op */
	union {
		struct mount_call mount ECLI("case=0");
		struct umount_call umount ECLI("case=1");
	} call ECLI("name=CALL") ECLI("select=op");
} ECLI("time=off");

#endif /* __MOUNTSNOOP_H */
