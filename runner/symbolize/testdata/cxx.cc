// C++ fixture for the symbolize tests: mangled names in a namespace and a template.
#include <cstdio>
#include <unistd.h>

namespace ns {
__attribute__((noinline)) int twice(int x, const char *s) { return x * 2 + s[0]; }

template <typename T> __attribute__((noinline)) T ident(T v) { return v + 1; }
} // namespace ns

int main() {
	char c = 0;
	std::printf("twice=%p ident=%p\n", (void *)&ns::twice, (void *)&ns::ident<long>);
	std::fflush(stdout);
	if (read(0, &c, 1) < 0)
		return 2;
	return (ns::twice(c, "a") + (int)ns::ident<long>(c)) & 1;
}
