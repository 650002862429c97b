package tooltest

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// ProcEnv makes a test binary whose TestMain is Main act as a plain child process for the
// process tools (exec, exit, kill): "exit:N" exits with status N at once; "wait" blocks
// until its standard input is closed, then exits 0 (or a signal ends it first). Its comm is
// the test binary's name.
const ProcEnv = "ECLI_TOOLTEST_PROC"

func helperProc(mode string) int {
	if s, ok := strings.CutPrefix(mode, "exit:"); ok {
		n, err := strconv.Atoi(s)
		if err != nil {
			fmt.Fprintln(os.Stderr, "helper: bad mode", mode)
			return 125
		}
		return n
	}
	if mode == "wait" {
		io.Copy(io.Discard, os.Stdin)
		return 0
	}
	fmt.Fprintln(os.Stderr, "helper: bad mode", mode)
	return 125
}

// Proc is a running child copy of this test binary (see ProcEnv).
type Proc struct {
	// Cmd is the child; Cmd.Process.Pid is its PID.
	Cmd *exec.Cmd
	// Exe is the binary it runs (the path given to execve).
	Exe string

	in io.WriteCloser
}

// ProcCommand returns a command that runs this test binary in mode (see ProcEnv) with args
// as its arguments after argv[0].
func ProcCommand(tb testing.TB, mode string, args ...string) *exec.Cmd {
	tb.Helper()
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), ProcEnv+"="+mode)
	return cmd
}

// RunProc runs this test binary in mode "exit:N" with args to its end and returns its PID;
// it fails the test unless the child exits with status code.
func RunProc(tb testing.TB, code int, args ...string) int {
	tb.Helper()
	cmd := ProcCommand(tb, "exit:"+strconv.Itoa(code), args...)
	err := cmd.Run()
	if cmd.ProcessState == nil {
		tb.Fatalf("running %s: %v", cmd.Path, err)
	}
	if got := cmd.ProcessState.ExitCode(); got != code {
		tb.Fatalf("child exited with %d, want %d (%v)", got, code, err)
	}
	return cmd.ProcessState.Pid()
}

// StartProc starts this test binary in mode "wait". A cleanup ends it (closing its stdin)
// and waits for it.
func StartProc(tb testing.TB) *Proc {
	tb.Helper()
	p := &Proc{Cmd: ProcCommand(tb, "wait")}
	p.Exe = p.Cmd.Path
	var err error
	if p.in, err = p.Cmd.StdinPipe(); err != nil {
		tb.Fatal(err)
	}
	if err := p.Cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.in.Close(); p.Cmd.Wait() })
	return p
}

// Pid is the child's process id.
func (p *Proc) Pid() int { return p.Cmd.Process.Pid }

// End closes the child's stdin and waits for it to exit 0.
func (p *Proc) End(tb testing.TB) {
	tb.Helper()
	p.in.Close()
	if err := p.Cmd.Wait(); err != nil {
		tb.Fatalf("child %d: %v", p.Pid(), err)
	}
}

// Kill sends sig to the child and waits for it to die of it.
func (p *Proc) Kill(tb testing.TB, sig os.Signal) {
	tb.Helper()
	if err := p.Cmd.Process.Signal(sig); err != nil {
		tb.Fatal(err)
	}
	p.Cmd.Wait()
}
