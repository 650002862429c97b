package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/pflag"

	"ecli/internal/testutils/tooltest"
)

// TestMain builds the ecli binary for the few tests that need a process of their own
// (signals, another user); see tooltest.Main.
func TestMain(m *testing.M) { tooltest.Main(m) }

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

// TestCommandsHaveOwnOptions: two command trees share no option storage, so setting a flag
// in one leaves the other at its defaults (there are no package-level option variables).
func TestCommandsHaveOwnOptions(t *testing.T) {
	a, b := newRootCmd(), newRootCmd()
	set := 0
	for _, ca := range a.Commands() {
		ca.Flags().VisitAll(func(f *pflag.Flag) {
			if f.Value.Type() != "string" {
				return
			}
			if err := f.Value.Set("changed"); err != nil {
				t.Fatalf("%s --%s: %v", ca.Name(), f.Name, err)
			}
			set++
		})
	}
	if set == 0 {
		t.Fatal("no string flags found")
	}
	for _, cb := range b.Commands() {
		cb.Flags().VisitAll(func(f *pflag.Flag) {
			if f.Value.String() != f.DefValue {
				t.Errorf("%s --%s is %q in a fresh command tree, want its default %q", cb.Name(), f.Name, f.Value, f.DefValue)
			}
		})
	}
}

// lockedBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
