/* Key and value of the metrics test's histogram map. */
#ifndef EXECLAT_H
#define EXECLAT_H

#define SLOTS 26

struct exec_key {
	char comm[16];
};

struct hist {
	unsigned int slots[SLOTS];
	unsigned long long total_us __attribute__((btf_decl_tag("ecli:hist=total")));
	unsigned long long count __attribute__((btf_decl_tag("ecli:hist=count")));
};

#endif
