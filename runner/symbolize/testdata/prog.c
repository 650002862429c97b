/* Fixture for the symbolize tests: prints the addresses of its functions, then blocks on stdin. */
#include <stdio.h>
#include <unistd.h>

extern int lib_func(int);

static int __attribute__((noinline)) hidden_helper(int x) { /* LINE:hidden */
	return x * 3 + 1;
}

int __attribute__((noinline)) leaf(int x) { /* LINE:leaf */
	return hidden_helper(x) + 2;
}

int main(void) {
	char c = 0;
	printf("leaf=%p hidden=%p lib=%p\n", (void *)leaf, (void *)hidden_helper, (void *)lib_func);
	fflush(stdout);
	if (read(0, &c, 1) < 0)
		return 2;
	return (leaf(c) + lib_func(c)) & 1;
}
