package tcpretrans_test

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"ecli/internal/testutils"
	"ecli/internal/testutils/tooltest"
)

func TestMain(m *testing.M) { tooltest.Main(m) }

// bcc python tcpretrans's format strings (tools/tcpretrans.py, trace mode).
const (
	pyHeader = "%-8s %-6s %-2s %-20s %1s> %-20s %-4s"
	pyRow    = "%-8s %-6d %-2d %-20s %1s> %-20s %s"
)

func header() string {
	return fmt.Sprintf(pyHeader, "TIME", "PID", "IP", "LADDR:LPORT", "T", "RADDR:RPORT", "STATE")
}

func TestGoldenHeader(t *testing.T) {
	plans, err := tooltest.Plans(tooltest.Builtin(t, "tcpretrans"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := plans["events"].Header(); got != header() {
		t.Errorf("header:\n got %q\nwant %q", got, header())
	}
}

// retransmit makes the kernel retransmit a SYN: a listen(0) socket whose accept queue one
// connect fills, then a connect (one SYN retry) whose SYNs are dropped. It returns the
// listener's port and the second connect's local port once that connect is under way.
func retransmit(t *testing.T) (port, lport uint16) {
	t.Helper()
	_, port = tooltest.RawListen(t, 0)
	if _, _, err := tooltest.RawConnect(t, port, 0); err != nil {
		t.Fatal(err)
	}
	got := make(chan uint16, 1)
	go func() {
		_, lp, _ := tooltest.RawConnect(t, port, 1) // times out: the SYNs are never answered
		got <- lp
	}()
	// The local port is known once connect(2) returns; the first SYN retransmit comes ~1 s
	// after the SYN, so wait for the connect's end before matching lines.
	select {
	case lport = <-got:
	case <-time.After(20 * time.Second):
		t.Fatal("connect did not time out")
	}
	return port, lport
}

var rowRE = regexp.MustCompile(`^(\d\d:\d\d:\d\d) (.{6}) (.{2}) (.{20}) R> (.{20}) (\S+)$`)

func TestSynRetransmit(t *testing.T) {
	t.Parallel()
	tl := tooltest.Start(t, "tcpretrans")
	tl.WaitHeader(header())
	port, lport := retransmit(t)
	laddr, raddr := fmt.Sprintf("127.0.0.1:%d", lport), fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(10 * time.Second); ; {
		l := tl.Next(time.Until(deadline))
		m := rowRE.FindStringSubmatch(l)
		if m == nil || strings.TrimSpace(m[4]) != laddr {
			continue
		}
		var pid int
		fmt.Sscan(m[2], &pid)
		if want := fmt.Sprintf(pyRow, m[1], pid, 4, laddr, "R", raddr, "SYN_SENT"); l != want {
			t.Errorf("line:\n got %q\nwant %q", l, want)
		}
		break
	}
	tl.Stop()
}

func TestCount(t *testing.T) {
	testutils.RequirePrivileged(t)
	tl := tooltest.Start(t, "tcpretrans", "-c")
	// -c prints nothing until exit: wait until the program is attached.
	tl.WaitAttached(1)
	// How many SYN retransmits a connect makes before it times out depends on timing (the
	// kernel gives up by elapsed time): count them in a network namespace of the test's own,
	// where the kernel's TCPSynRetrans counter is this connect's alone.
	var port, lport uint16
	var retrans uint64
	err := testutils.NewNetNS(t).Do(func() error {
		_, port = tooltest.RawListen(t, 0)
		if _, _, err := tooltest.RawConnect(t, port, 0); err != nil { // fills the listen(0) queue
			t.Fatal(err)
		}
		before, err := tooltest.TcpExt("TCPSynRetrans")
		if err != nil {
			t.Fatal(err)
		}
		_, lport, _ = tooltest.RawConnect(t, port, 1) // times out: the SYNs are never answered
		after, err := tooltest.TcpExt("TCPSynRetrans")
		if err != nil {
			t.Fatal(err)
		}
		retrans = after - before
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	tl.Stop()
	if retrans == 0 {
		t.Fatal("the connect was not retransmitted")
	}
	want := fmt.Sprintf("%-20s <-> %-20s %10d", fmt.Sprintf("[127.0.0.1]#%d", lport), fmt.Sprintf("[127.0.0.1]#%d", port), retrans)
	lines := tl.All()
	if len(lines) < 2 || lines[0] != "" || lines[1] != "LADDR:LPORT          <-> RADDR:RPORT          RETRANSMITS" {
		t.Fatalf("no table header in %q", lines)
	}
	for _, l := range lines[2:] {
		if strings.HasPrefix(l, fmt.Sprintf("[127.0.0.1]#%d ", lport)) {
			if l != want {
				t.Errorf("row:\n got %q\nwant %q", l, want)
			}
			return
		}
	}
	t.Errorf("no row for port %d in %q", lport, lines)
}

func TestJSON(t *testing.T) {
	testutils.RequirePrivileged(t)
	tl := tooltest.Start(t, "tcpretrans", "--json")
	tl.WaitAttached(1)
	port, lport := retransmit(t)
	for deadline := time.Now().Add(10 * time.Second); ; {
		var ev struct {
			IP    int `json:"ip"`
			Type  int `json:"type"`
			State int `json:"state"`
			Laddr struct {
				Addr string `json:"addr"`
				Port uint16 `json:"port"`
				Af   int    `json:"af"`
			} `json:"laddr"`
			Raddr struct {
				Addr string `json:"addr"`
				Port uint16 `json:"port"`
			} `json:"raddr"`
		}
		l := tl.Next(time.Until(deadline))
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		if ev.Laddr.Port != lport {
			continue
		}
		if ev.IP != 4 || ev.Type != 1 || ev.State != 2 || ev.Laddr.Addr != "127.0.0.1" || ev.Laddr.Af != 2 || ev.Raddr.Addr != "127.0.0.1" || ev.Raddr.Port != port {
			t.Errorf("event %s", l)
		}
		break
	}
	tl.Stop()
}

func TestLossProbeRefused(t *testing.T) {
	testutils.RequirePrivileged(t)
	out, err := exec.Command(tooltest.Ecli(t), "run", "tcpretrans", "-l").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "--lossprobe is not supported: no tracepoint marks tail loss probes") {
		t.Errorf("ecli run tcpretrans -l: %v: %s", err, out)
	}
}
