package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"ecli/runner"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2 // bad flags, arguments or package
)

// usageError marks errors in how ecli was invoked (bad flags or arguments).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// exitCode prints err (with a hint where one helps) and returns the process exit code.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(os.Stderr, "ecli: %v\n", err)
	if h := hint(err); h != "" {
		fmt.Fprintf(os.Stderr, "hint: %s\n", h)
	}
	var ue usageError
	if errors.As(err, &ue) || errors.Is(err, runner.ErrBadPackage) {
		// A package that is not one is bad input, like a bad flag.
		return exitUsage
	}
	return exitFailure
}

// hint returns advice for well-known failures, in one place.
func hint(err error) string {
	switch {
	case errors.Is(err, runner.ErrPermission):
		return "needs root or CAP_BPF+CAP_PERFMON (plus CAP_NET_ADMIN for xdp/tc): run as root (sudo), or grant them"
	case errors.Is(err, runner.ErrNoKernelBTF):
		return "this kernel has no BTF; pass a BTF file for it with --btf FILE (e.g. from btfhub)"
	case errors.Is(err, runner.ErrVerifier) && strings.Contains(err.Error(), "omitted)"):
		return "run again with --verbose for the full verifier log"
	}
	return ""
}
