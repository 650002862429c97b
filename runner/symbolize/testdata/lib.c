/* Shared library of the symbolize fixture. */
int __attribute__((noinline)) lib_func(int x) { /* LINE:lib */
	return x + 7;
}
