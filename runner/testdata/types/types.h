/* Event of the runner's end-to-end decoding test: one of each C type the decoder handles. */
#ifndef TYPES_H
#define TYPES_H

enum color { RED = 1, GREEN = 2, BLUE = 0x10 };

struct kitchen {
	unsigned int pid;
	char comm[16];
	union {
		unsigned int v4;
		unsigned char v6[16];
	} addr;
	unsigned int flag_a : 3;
	unsigned int flag_b : 13;
	int sflag : 5;
	unsigned int tail : 11;
	__int128 big;
	unsigned __int128 ubig;
	struct point {
		short x;
		short y;
	} pts[2][3];
	enum color color;
	unsigned long long magic;
};

#endif
