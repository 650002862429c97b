// Command gen is the storm benchmark's load: it calls getpgid(2) in a tight loop, passing
// the loop counter, which fires the storm package's tracepoint once per call.
//
//	gen -n 500000 [-wait]
//
// With -wait it reads one byte from standard input before starting, so the caller can
// attach a consumer to its PID first. It prints the loop's wall time in nanoseconds.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"
)

func main() {
	n := flag.Int("n", 500000, "number of events")
	wait := flag.Bool("wait", false, "wait for a byte on standard input before starting")
	flag.Parse()
	if *wait {
		var b [1]byte
		if _, err := os.Stdin.Read(b[:]); err != nil {
			fmt.Fprintln(os.Stderr, "gen: reading the start byte:", err)
			os.Exit(1)
		}
	}
	runtime.LockOSThread()
	start := time.Now()
	for i := 0; i < *n; i++ {
		// The tracepoint fires before getpgid looks the PID up.
		syscall.RawSyscall(syscall.SYS_GETPGID, uintptr(i), 0, 0)
	}
	fmt.Println(time.Since(start).Nanoseconds())
}
