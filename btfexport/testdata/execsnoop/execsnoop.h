/* The event of the container round-trip test: a union and bitfields on purpose. */
#ifndef EXECSNOOP_H
#define EXECSNOOP_H

#define TASK_COMM_LEN 16

struct event {
	int pid;
	int ppid;
	unsigned int uid;
	unsigned int small : 3;  /* always 5 */
	unsigned int large : 13; /* always 4097 */
	unsigned int flag : 1;   /* always 1 */
	union {
		unsigned int word;      /* 0x01020304 */
		unsigned char bytes[4]; /* 04 03 02 01 on little-endian */
	} u;
	char comm[TASK_COMM_LEN];
};

#endif
