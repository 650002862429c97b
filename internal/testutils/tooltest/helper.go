package tooltest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// HelperEnv makes a test binary whose TestMain is Main act as a client process: it reads one
// line from stdin, connects over TCP to the address in the variable, prints its local port
// and exits.
const HelperEnv = "ECLI_TOOLTEST_CONNECT"

func helperConnect(addr string) int {
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		fmt.Fprintln(os.Stderr, "helper: reading stdin:", err)
		return 1
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 1
	}
	fmt.Println(c.LocalAddr().(*net.TCPAddr).Port)
	c.Close()
	return 0
}

// HelperCommand returns a command that runs the test binary at path as a client of addr
// (see HelperEnv); write a line to its stdin to make it connect.
func HelperCommand(path, addr string) *exec.Cmd {
	cmd := exec.Command(path)
	cmd.Env = append(os.Environ(), HelperEnv+"="+addr)
	return cmd
}

// Helper is a running copy of this test binary that connects to an address when told to.
type Helper struct {
	// Cmd is the helper process.
	Cmd *exec.Cmd
	// Exe is the binary it runs: its comm is filepath.Base(Exe).
	Exe string

	t   testing.TB
	in  io.WriteCloser
	out strings.Builder
}

// StartHelper starts this test binary as a client of addr, waiting for Connect. A cleanup
// closes its stdin (it then exits) and waits for it.
func StartHelper(tb testing.TB, addr string) *Helper {
	tb.Helper()
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	h := &Helper{Cmd: HelperCommand(exe, addr), Exe: exe, t: tb}
	h.in, err = h.Cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	h.Cmd.Stdout, h.Cmd.Stderr = &h.out, &h.out
	if err := h.Cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { h.Cmd.Wait() })
	tb.Cleanup(func() { h.in.Close() })
	return h
}

// Pid is the helper's process id.
func (h *Helper) Pid() int { return h.Cmd.Process.Pid }

// Connect tells the helper to connect, waits for it to exit and returns the local port it
// connected from; anything else fails the test.
func (h *Helper) Connect() uint16 {
	h.t.Helper()
	if _, err := io.WriteString(h.in, "go\n"); err != nil {
		h.t.Fatal(err)
	}
	h.in.Close()
	if err := h.Cmd.Wait(); err != nil {
		h.t.Fatalf("helper: %v: %s", err, &h.out)
	}
	p, err := strconv.Atoi(strings.TrimSpace(h.out.String()))
	if err != nil {
		h.t.Fatalf("helper output %q: %v", &h.out, err)
	}
	return uint16(p)
}
