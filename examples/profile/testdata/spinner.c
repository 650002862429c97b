#include <stdio.h>
volatile unsigned long sink;
__attribute__((noinline)) void spin_leaf(void) { for (;;) sink++; }
__attribute__((noinline)) void spin_middle(void) { spin_leaf(); }
int main(void) { puts("ready"); fflush(stdout); spin_middle(); return 0; }
