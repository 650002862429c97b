package tooltest

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// VMCFlags are the flags the VM lane (test/vm) compiles a test package's testdata/*.c with,
// statically, into testdata/NAME beside them: the lane's machines have no C compiler.
var VMCFlags = []string{"-O0", "-g", "-fno-omit-frame-pointer"}

// CompileC compiles the C program src into an executable named name (its comm) in a
// temporary directory and returns its path. Where there is no compiler (cc, or $CC), it
// takes the binary the VM lane built from testdata/NAME.c with VMCFlags (flags must then be
// VMCFlags, and src that file's text).
func CompileC(tb testing.TB, name, src string, flags ...string) string {
	tb.Helper()
	dir := tb.TempDir()
	exe := filepath.Join(dir, name)
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "cc"
	}
	if _, err := exec.LookPath(cc); err != nil {
		return prebuiltC(tb, name, src, exe, flags)
	}
	file := filepath.Join(dir, name+".c")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		tb.Fatal(err)
	}
	out, err := exec.Command(cc, append(flags, "-o", exe, file)...).CombinedOutput()
	if err != nil {
		tb.Fatalf("%s %s: %v\n%s", cc, file, err, out)
	}
	return exe
}

// prebuiltC copies the lane's build of testdata/NAME.c to exe, after checking that it was
// built from src with flags.
func prebuiltC(tb testing.TB, name, src, exe string, flags []string) string {
	tb.Helper()
	file := filepath.Join("testdata", name+".c")
	text, err := os.ReadFile(file)
	if err != nil || string(text) != src || !slices.Equal(flags, VMCFlags) {
		tb.Fatalf("no C compiler, and no prebuilt %s from the same source with flags %q (VMCFlags)", file, VMCFlags)
	}
	bin, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatalf("no C compiler and no prebuilt testdata/%s: %v", name, err)
	}
	if err := os.WriteFile(exe, bin, 0o755); err != nil {
		tb.Fatal(err)
	}
	return exe
}

// StartReady runs path, waits (up to 10 s) until it prints its first line, its sign that
// it is ready, and returns it running; a cleanup kills it.
func StartReady(tb testing.TB, path string, args ...string) *exec.Cmd {
	tb.Helper()
	cmd := exec.Command(path, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	ready := make(chan bool, 1)
	go func() {
		_, err := bufio.NewReader(out).ReadString('\n')
		ready <- err == nil
	}()
	select {
	case ok := <-ready:
		if !ok {
			tb.Fatalf("%s exited before it was ready", path)
		}
	case <-time.After(10 * time.Second):
		tb.Fatalf("%s: not ready within 10s", path)
	}
	return cmd
}

// Wait waits (up to timeout) for ecli to exit by itself, e.g. at the end of a duration,
// checks that it exits 0 with nothing on stderr, and returns everything it printed.
func (tl *Tool) Wait(timeout time.Duration) []string {
	tl.T.Helper()
	select {
	case <-tl.done:
	case <-time.After(timeout):
		tl.T.Fatalf("ecli did not exit within %v\nstderr: %s", timeout, tl.Stderr)
	}
	if err := tl.Cmd.Wait(); err != nil {
		tl.T.Errorf("ecli: %v\nstderr: %s", err, tl.Stderr)
	} else if tl.Stderr.Len() > 0 {
		tl.T.Errorf("ecli wrote to stderr: %s", tl.Stderr)
	}
	return tl.All()
}
