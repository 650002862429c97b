package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"ecli/internal/testutils/tooltest"
)

// TestMain builds the ecli binary for the few tests that need a process of their own
// (signals, another user); see tooltest.Main.
func TestMain(m *testing.M) { tooltest.Main(m, "ecli") }

// cliEnv runs ecli commands in-process, in an isolated environment: its own cache and
// docker config (set for the whole test; tests using it must not be parallel).
type cliEnv struct {
	t      *testing.T
	cache  string
	docker string
}

func newCLIEnv(t *testing.T) *cliEnv {
	d := t.TempDir()
	e := &cliEnv{t: t, cache: filepath.Join(d, "cache"), docker: filepath.Join(d, "docker")}
	t.Setenv("XDG_CACHE_HOME", e.cache)
	t.Setenv("DOCKER_CONFIG", e.docker)
	return e
}

// run executes ecli with args and stdin, as main does; it returns stdout, stderr and the
// exit status.
func (e *cliEnv) run(stdin string, args ...string) (string, string, int) {
	e.t.Helper()
	var out, errb bytes.Buffer
	code := execute(e.t.Context(), args, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

// ok runs ecli and fails the test unless it exits 0.
func (e *cliEnv) ok(stdin string, args ...string) (string, string) {
	e.t.Helper()
	out, errs, code := e.run(stdin, args...)
	if code != 0 {
		e.t.Fatalf("ecli %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errs)
	}
	return out, errs
}

// fails runs ecli, expects exit status 1 and a one-line error containing want.
func (e *cliEnv) fails(want string, args ...string) string {
	e.t.Helper()
	return e.failsWith(1, want, args...)
}

// failsWith is fails with another exit status (2: usage errors).
func (e *cliEnv) failsWith(status int, want string, args ...string) string {
	e.t.Helper()
	return e.failsWithInput(status, want, "", args...)
}

// failsWithInput is failsWith with stdin.
func (e *cliEnv) failsWithInput(status int, want, stdin string, args ...string) string {
	e.t.Helper()
	out, errs, code := e.run(stdin, args...)
	first, _, _ := strings.Cut(errs, "\n")
	if code != status || !strings.HasPrefix(first, "ecli: ") || !strings.Contains(first, want) {
		e.t.Errorf("ecli %s: exit %d, stderr %q; want exit %d and an error line containing %q (stdout %q)", strings.Join(args, " "), code, errs, status, want, out)
	}
	return errs
}
