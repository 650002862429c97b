/* Event of the runner's lost-event test: big enough that few fit the ring buffer. */
#ifndef LOST_H
#define LOST_H

struct big {
	unsigned int pid;
	unsigned int seq;
	char pad[504];
};

#endif
