package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"ecli/runner"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2 // bad flags, arguments or package
)

// errTooLarge: a package source holds more than maxPackageSize bytes.
var errTooLarge = fmt.Errorf("package larger than %d bytes", maxPackageSize)

// usageError marks errors in how ecli was invoked (bad flags or arguments): exit status 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usagef returns a usageError formatted as by fmt.Errorf (%w wraps).
func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// exitCode prints err to stderr as one line (and a hint line where one helps) and returns
// the process exit code.
func exitCode(stderr io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "ecli: %v\n", err)
	if h := hint(err); h != "" {
		fmt.Fprintf(stderr, "hint: %s\n", h)
	}
	var ue *usageError
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
