package oomkill_test

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"ecli/internal/testutils"
	"ecli/internal/testutils/tooltest"
)

func TestMain(m *testing.M) { tooltest.Main(m) }

// bcc python oomkill's header and line (tools/oomkill.py), without ", %d pages": the
// oom_control bcc reads them from is on no tracepoint (README.md).
const header = "Tracing OOM kills... Ctrl-C to stop."

func bccLine(clock string, fpid int, fcomm string, tpid int, tcomm, loadavg string) string {
	return fmt.Sprintf("%s Triggered by PID %d (\"%s\"), OOM kill of PID %d (\"%s\"), loadavg: %s",
		clock, fpid, fcomm, tpid, tcomm, loadavg)
}

// Layout of struct event (oomkill.h).
const eventLen = 4 + 16 + 4 + 16 + 1

func TestGoldenFormat(t *testing.T) {
	pkg := tooltest.Builtin(t, "oomkill")
	plans, err := tooltest.Plans(pkg, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := plans["events"]
	if p == nil {
		t.Fatal("no events plan")
	}
	if p.Header() != header {
		t.Errorf("header:\n got %q\nwant %q", p.Header(), header)
	}
	if p.Size() < eventLen {
		t.Fatalf("event is %d bytes, the test's layout %d", p.Size(), eventLen)
	}
	b := make([]byte, p.Size())
	binary.LittleEndian.PutUint32(b, 4242)
	copy(b[4:], "stress-ng")
	binary.LittleEndian.PutUint32(b[20:], 4343)
	copy(b[24:], "stress-ng-vm")
	line, err := p.AppendText(nil, b)
	if err != nil {
		t.Fatal(err)
	}
	if re := lineRE(4242, "stress-ng", 4343, "stress-ng-vm"); !re.Match(line) {
		t.Errorf("line:\n got %q\nwant %s", line, re)
	}
}

// lineRE matches bccLine with any clock and /proc/loadavg's line.
func lineRE(fpid int, fcomm string, tpid int, tcomm string) *regexp.Regexp {
	q := regexp.QuoteMeta(bccLine("@", fpid, fcomm, tpid, tcomm, "@"))
	q = strings.Replace(q, "@", `\d\d:\d\d:\d\d`, 1)
	return regexp.MustCompile("^" + strings.Replace(q, "@", loadavgRE, 1) + "$")
}

// loadavgRE is /proc/loadavg's line.
const loadavgRE = `\d+\.\d\d \d+\.\d\d \d+\.\d\d \d+/\d+ \d+`

// TestOOMKill: a child of the test in a memory cgroup with a 32 MiB limit allocates until
// the OOM killer kills it; it triggered the OOM and is its victim.
func TestOOMKill(t *testing.T) {
	t.Parallel()
	dir := tooltest.MemCgroup(t, 32<<20)
	tl := tooltest.Start(t, "oomkill")
	tl.WaitHeader(header)
	pid, comm := tooltest.OOMChild(t, dir)
	re := lineRE(pid, comm, pid, comm)
	deadline := time.Now().Add(10 * time.Second)
	for {
		l := tl.Next(time.Until(deadline))
		if strings.Contains(l, fmt.Sprintf("OOM kill of PID %d ", pid)) {
			if !re.MatchString(l) {
				t.Errorf("line:\n got %q\nwant %s", l, re)
			}
			break
		}
	}
	tl.Stop()
}

// TestJSON: JSON prints no header to wait on, and tracepoint links cannot be seen on 5.10:
// OOM-kill children until one is printed.
func TestJSON(t *testing.T) {
	t.Parallel()
	dir := tooltest.MemCgroup(t, 32<<20)
	tl := tooltest.Start(t, "oomkill", "--json")
	for deadline := time.Now().Add(60 * time.Second); ; {
		if time.Now().After(deadline) {
			t.Fatalf("no event within 60 s\nstderr: %s", tl.Stderr)
		}
		pid, comm := tooltest.OOMChild(t, dir)
		var ev map[string]any
		for l, ok := tl.Poll(time.Second); ok; l, ok = tl.Poll(100 * time.Millisecond) {
			if err := json.Unmarshal([]byte(l), &ev); err != nil {
				t.Fatalf("%q: %v", l, err)
			}
			if ev["tpid"] == float64(pid) {
				break
			}
			ev = nil
		}
		if ev == nil {
			continue
		}
		la, _ := ev["loadavg"].(string)
		if !regexp.MustCompile("^" + loadavgRE + "$").MatchString(la) {
			t.Errorf("loadavg %q, want /proc/loadavg's line", la)
		}
		delete(ev, "loadavg")
		want := map[string]any{"fpid": float64(pid), "fcomm": comm, "tpid": float64(pid), "tcomm": comm}
		if fmt.Sprint(ev) != fmt.Sprint(want) {
			t.Errorf("JSON:\n got %v\nwant %v", ev, want)
		}
		break
	}
	tl.Stop()
}

func TestNoLeaks(t *testing.T) {
	testutils.RequirePrivileged(t)
	before := testutils.Snapshot(t)
	tl := tooltest.Start(t, "oomkill")
	tl.WaitHeader(header)
	tl.Stop()
	testutils.WaitNoLeaks(t, before, "signal_generate", "mark_victim", "killed", "events")
}
