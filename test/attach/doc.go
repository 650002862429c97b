// Package attach holds the privileged per-attach-type tests: one small BPF program of
// testdata/attach per attach type (kprobe, fentry, uprobe, tracepoint, xdp, ...), loaded and
// attached, then triggered by a real event and checked through its hit counter.
//
// Where the running kernel lacks a hook (this project's build host has no kprobes and refuses
// fentry), the test asserts that attaching fails with a hook-missing error naming the hook,
// and reports it; on the stock-kernel lane (make vmtest) the same tests prove the hook fires.
//
// Each test logs one line "ECLI-FEATURE <feature> ok|missing <detail>" that test/vm turns
// into the table of docs/kernels.md.
package attach
