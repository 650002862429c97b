/* uprobe_target: the binary the uprobe and uretprobe tests probe. It calls
 * ecli_uprobe_target(41) once and exits 0 when it returned 42. Built without libc
 * (gcc -static -nostdlib) so it is tiny and runs in the VM lane's initramfs. */

__attribute__((noinline, used)) int ecli_uprobe_target(int x)
{
	__asm__ volatile("" ::: "memory");
	return x + 1;
}

__attribute__((noreturn)) void _start(void)
{
	int r = ecli_uprobe_target(41);

	__asm__ volatile("syscall" : : "a"(60), "D"(r == 42 ? 0 : 1) : "rcx", "r11", "memory");
	__builtin_unreachable();
}
