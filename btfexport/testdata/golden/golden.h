/* Exported structs (ecc's rule: every `struct X {` in the header). */
#ifndef GOLDEN_H
#define GOLDEN_H

#define ECLI(x) __attribute__((btf_decl_tag("ecli:" x)))

struct hist {
	unsigned int slots[8];
};

struct event {
	int pid;
	unsigned long long delta_us ECLI("name=LAT(ms)") ECLI("div=1000") ECLI("fmt=%.2f");
	char comm[16];
	unsigned short af;
	union {
		unsigned int v4 ECLI("case=2") ECLI("format=ipv4");
		unsigned char v6[16] ECLI("case=10") ECLI("format=ipv6");
	} addr ECLI("select=af");
} ECLI("time=off");

#endif
