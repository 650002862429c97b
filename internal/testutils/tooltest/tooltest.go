// Package tooltest is the harness of the end-to-end tests of ecli's built-in tools
// (examples/*): it parses a tool's built-in package, runs `ecli run TOOL ARGS...` (the binary
// from testutils.Ecli) and reads its output, re-executes the test binary as a client process,
// and opens the sockets the tests connect with.
//
// A tool's test package calls Main from its TestMain. Tests that run ecli need root; they
// skip without it, or fail when ECLI_TEST_PRIVILEGED=1 (see testutils.RequirePrivileged).
package tooltest

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"ecli/internal/testutils"
)

// Main is a tool test package's TestMain; it does not return. With HelperEnv set the process
// is a client started by StartHelper or HelperCommand: it connects once and exits; with
// OOMEnv set it allocates until the OOM killer kills it (OOMChild). Otherwise
// it runs the tests with testutils.Main, so that Ecli can build the ecli binary.
func Main(m *testing.M) {
	if addr := os.Getenv(HelperEnv); addr != "" {
		os.Exit(helperConnect(addr))
	}
	if dir := os.Getenv(OOMEnv); dir != "" {
		os.Exit(oomChild(dir))
	}
	if mode := os.Getenv(ProcEnv); mode != "" {
		os.Exit(helperProc(mode))
	}
	testutils.Main(m)
}

// Ecli returns the path of the ecli binary the tests run (testutils.Ecli: $ECLI_BIN, or built
// once per test binary).
func Ecli(tb testing.TB) string {
	tb.Helper()
	return testutils.Ecli(tb)
}

// Tool is a running `ecli run TOOL ARGS...` whose standard output is read line by line.
type Tool struct {
	// T is the test the tool runs for.
	T testing.TB
	// Cmd is the ecli process.
	Cmd *exec.Cmd
	// Lines delivers each line of ecli's standard output; it is closed when ecli closes it.
	Lines <-chan string
	// Stderr collects ecli's standard error.
	Stderr *strings.Builder

	mu   sync.Mutex
	all  []string
	done chan struct{}
}

// Start runs `ecli run tool args...` after testutils.RequirePrivileged. A cleanup kills ecli
// if the test did not Stop it.
func Start(tb testing.TB, tool string, args ...string) *Tool {
	tb.Helper()
	testutils.RequirePrivileged(tb)
	cmd := exec.Command(Ecli(tb), append([]string{"run", tool}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	lines := make(chan string, 1<<16)
	tl := &Tool{T: tb, Cmd: cmd, Lines: lines, Stderr: &strings.Builder{}, done: make(chan struct{})}
	cmd.Stderr = tl.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() {
		defer close(tl.done)
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			tl.mu.Lock()
			tl.all = append(tl.all, sc.Text())
			tl.mu.Unlock()
			lines <- sc.Text()
		}
	}()
	tb.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return tl
}

// Next returns the next output line, failing the test when ecli exits first or after
// timeout.
func (tl *Tool) Next(timeout time.Duration) string {
	tl.T.Helper()
	select {
	case l, ok := <-tl.Lines:
		if !ok {
			tl.exitedEarly()
		}
		return l
	case <-time.After(timeout):
		tl.T.Fatalf("no output from ecli within %v\nstderr: %s", timeout, tl.Stderr)
	}
	panic("unreachable")
}

// Poll returns the next output line if one comes within timeout (ok false when none does);
// it fails the test when ecli exits.
func (tl *Tool) Poll(timeout time.Duration) (line string, ok bool) {
	tl.T.Helper()
	select {
	case l, open := <-tl.Lines:
		if !open {
			tl.exitedEarly()
		}
		return l, true
	case <-time.After(timeout):
		return "", false
	}
}

func (tl *Tool) exitedEarly() {
	tl.T.Helper()
	tl.T.Fatalf("ecli exited early: %v\nstderr: %s", tl.Cmd.Wait(), tl.Stderr)
}

// WaitHeader reads the first line (text mode prints its header once the programs are
// attached, so allow 60 s) and fails the test unless it is want.
func (tl *Tool) WaitHeader(want string) {
	tl.T.Helper()
	if h := tl.Next(60 * time.Second); h != want {
		tl.T.Fatalf("header:\n got %q\nwant %q", h, want)
	}
}

// Collect reads lines, each turned into a row by parse (an error fails the test), until
// timeout or a row that keep and stop both accept; it returns the rows keep accepts, in
// order. Other processes on the machine connect too: keep picks the test's own.
func Collect[R any](tl *Tool, timeout time.Duration, parse func(line string) (R, error), keep, stop func(R) bool) []R {
	tl.T.Helper()
	var rows []R
	deadline := time.Now().Add(timeout)
	for {
		r, err := parse(tl.Next(time.Until(deadline)))
		if err != nil {
			tl.T.Fatal(err)
		}
		if !keep(r) {
			continue
		}
		rows = append(rows, r)
		if stop(r) {
			return rows
		}
	}
}

// All returns every line ecli has printed so far, including those already read.
func (tl *Tool) All() []string {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	return append([]string(nil), tl.all...)
}

// Stop interrupts ecli like Ctrl-C, waits for its output to end and checks that it exits 0
// with nothing on stderr.
func (tl *Tool) Stop() {
	tl.T.Helper()
	tl.Cmd.Process.Signal(os.Interrupt)
	err := tl.Cmd.Wait()
	<-tl.done
	if err != nil {
		tl.T.Errorf("ecli: %v\nstderr: %s", err, tl.Stderr)
	} else if tl.Stderr.Len() > 0 {
		tl.T.Errorf("ecli wrote to stderr: %s", tl.Stderr)
	}
}

// TextComm is comm as bcc's %-12.12s cuts it (a line parser drops the padding).
func TextComm(comm string) string {
	if len(comm) > 12 {
		return comm[:12]
	}
	return comm
}

// Self is how this test process shows up: its PID and its full comm.
func Self(tb testing.TB) (uint32, string) {
	comm, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		tb.Fatal(err)
	}
	return uint32(os.Getpid()), strings.TrimSpace(string(comm))
}

// Exact wraps parse so that a line which line does not print back byte for byte from its
// row fails the test (Errorf: the row is still returned), e.g. a row not in bcc's format.
func Exact[R any](tb testing.TB, parse func(string) (R, error), line func(R) string) func(string) (R, error) {
	return func(l string) (R, error) {
		tb.Helper()
		r, err := parse(l)
		if err != nil {
			return r, err
		}
		if want := line(r); l != want {
			tb.Errorf("line not in bcc's format:\n got %q\nwant %q", l, want)
		}
		return r, nil
	}
}
