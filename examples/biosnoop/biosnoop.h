/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* biosnoop: one event per completed block I/O request. The ECLI(...) attributes are ecli
 * display hints (docs/package-format.md) reproducing bcc python biosnoop's columns:
 *   "%-11.6f %-14.14s %-7s %-9s %-1s %-10s %-7s" then, with -P, "%-1s " (pattern), with
 *   -Q, "%7.2f " (queued ms), then "%7.2f" (latency ms). BYTES is followed by no space. */
#ifndef __BIOSNOOP_H
#define __BIOSNOOP_H

#include "ecli/ecli.h"

#ifndef DISK_NAME_LEN
#define DISK_NAME_LEN 32
#endif

/* bcc's enum bio_pattern */
enum bio_pattern {
	UNKNOWN,
	SEQUENTIAL,
	RANDOM,
};

struct event {
	/* completion time in µs, shown as seconds since the first event */
	__u64 ts_us ECLI("name=TIME(s)") ECLI("rel") ECLI("div=1000000") ECLI("fmt=%-11.6f") ECLI("unit=us");
	char comm[TASK_COMM_LEN] ECLI("name=COMM") ECLI("fmt=%-14.14s");
	__u32 pid ECLI("name=PID") ECLI("fmt=%-7d");
	/* the request's gendisk's disk_name */
	char disk[DISK_NAME_LEN] ECLI("name=DISK") ECLI("fmt=%-9s");
	/* 1: a write (REQ_OP_WRITE) */
	__u32 rwflag ECLI("name=T") ECLI("map=0:R,1:W") ECLI("fmt=%-1s");
	__u64 sector ECLI("name=SECTOR") ECLI("fmt=%-10d");
	__u64 len ECLI("name=BYTES") ECLI("fmt=%-7d") ECLI("sep=") ECLI("unit=B");
	/* -P: S for an I/O starting where the disk's previous one ended, R otherwise, ? first */
	__u32 pattern ECLI("name=P") ECLI("map=0:?,1:S,2:R") ECLI("fmt=%-1s") ECLI("show=targ_pattern");
	/* -Q: from the request's insert to its issue (0 when it was issued directly) */
	__u64 qdelta_ns ECLI("name=QUE(ms)") ECLI("div=1000000") ECLI("fmt=%7.2f") ECLI("show=targ_queue") ECLI("unit=ns");
	/* from the issue to the completion */
	__u64 delta_ns ECLI("name=LAT(ms)") ECLI("div=1000000") ECLI("fmt=%7.2f") ECLI("unit=ns");
} ECLI("time=off");

#endif /* __BIOSNOOP_H */
