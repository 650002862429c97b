/* The event the ringbuf and perfbuf test programs send. */
#ifndef ECLI_TEST_ATTACH_EVENT_H
#define ECLI_TEST_ATTACH_EVENT_H

struct event {
	__u32 pid;
	__u32 tid;
	__u64 seq;
	char comm[16];
};

#endif
