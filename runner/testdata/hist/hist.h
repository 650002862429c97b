/* Value of the sampled map of the runner's map-sampling test. */
#ifndef HIST_H
#define HIST_H

struct hist {
	unsigned int slots[26];
	char comm[16];
};

#endif
