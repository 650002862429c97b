package main

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"ecli/runner"
)

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		code int
		out  string // whole stderr
	}{
		{"ok", nil, exitOK, ""},
		{"failure", errors.New("boom"), exitFailure, "ecli: boom\n"},
		{"usage", usagef("run: %w", errors.New("bad flag")), exitUsage, "ecli: run: bad flag\n"},
		{"wrapped usage", fmt.Errorf("x: %w", usagef("y")), exitUsage, "ecli: x: y\n"},
		{"permission hint", fmt.Errorf("loading: %w", runner.ErrPermission), exitFailure,
			"ecli: loading: " + runner.ErrPermission.Error() + "\nhint: needs root or CAP_BPF+CAP_PERFMON (plus CAP_NET_ADMIN for xdp/tc): run as root (sudo), or grant them\n"},
		{"no BTF hint", fmt.Errorf("loading: %w", runner.ErrNoKernelBTF), exitFailure,
			"ecli: loading: " + runner.ErrNoKernelBTF.Error() + "\nhint: this kernel has no BTF; pass a BTF file for it with --btf FILE (e.g. from btfhub)\n"},
		{"verifier without omission", fmt.Errorf("%w: short log", runner.ErrVerifier), exitFailure,
			"ecli: " + runner.ErrVerifier.Error() + ": short log\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if code := exitCode(&buf, tc.err); code != tc.code || buf.String() != tc.out {
				t.Errorf("exitCode(%v) = %d, stderr %q; want %d, %q", tc.err, code, buf.String(), tc.code, tc.out)
			}
			if strings.Count(buf.String(), "ecli: ") > 1 {
				t.Errorf("more than one error line: %q", buf.String())
			}
		})
	}
}
