package exitsnoop_test

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"ecli/internal/testutils/tooltest"
	"ecli/runner"
)

func TestMain(m *testing.M) { tooltest.Main(m) }

// bcc python exitsnoop's format strings (tools/exitsnoop.py).
const (
	pyHeaderTime = "%-13s"
	pyLabel      = "%-6s"
	pyHeader     = "%-16s %-7s %-7s %-7s %-7s %-10s"
	pyRow        = "%-16s %-7d %-7d %-7d %-7.2f "
)

// row is one line as bcc prints it.
type row struct {
	time           string // the TIME cell with its padding, "" without -t
	label          string // "" without --label
	comm           string
	pid, ppid, tid uint32
	age            float64
	exit           string // "0", "code 3", "signal 9 (KILL)"
}

func bccHeader(ts bool, utc bool, label bool) string {
	s := ""
	if ts || utc {
		zone := "UTC"
		if !utc {
			zone, _ = time.Now().Zone()
		}
		s += fmt.Sprintf(pyHeaderTime, "TIME-"+zone)
	}
	if label {
		s += fmt.Sprintf(pyLabel, "LABEL")
	}
	return strings.TrimRight(s+fmt.Sprintf(pyHeader, "PCOMM", "PID", "PPID", "TID", "AGE(s)", "EXIT_CODE"), " ")
}

func bccLine(r row) string {
	s := r.time
	if r.label != "" {
		s = fmt.Sprintf(pyLabel, r.label)
	}
	return s + fmt.Sprintf(pyRow, r.comm, r.pid, r.ppid, r.tid, r.age) + r.exit
}

var timeRE = regexp.MustCompile(`^\d\d:\d\d:\d\d\.\d\d\d {1}`)

// parseLine reads a line back; ts says a TIME cell leads it, label a LABEL cell.
func parseLine(ts, label bool) func(string) (row, error) {
	return func(line string) (row, error) {
		if ts {
			if !timeRE.MatchString(line) {
				return row{}, fmt.Errorf("line %q: no HH:MM:SS.mmm time", line)
			}
		}
		var r row
		if ts {
			r.time, line = line[:13], line[13:]
		}
		fs := strings.Fields(line)
		if label {
			r.label, fs = fs[0], fs[1:]
		}
		if len(fs) < 6 {
			return r, fmt.Errorf("line %q: %d fields", line, len(fs))
		}
		r.comm = fs[0]
		var err error
		num := func(s string) uint32 {
			n, e := strconv.ParseUint(s, 10, 32)
			if e != nil && err == nil {
				err = fmt.Errorf("line %q: %v", line, e)
			}
			return uint32(n)
		}
		r.pid, r.ppid, r.tid = num(fs[1]), num(fs[2]), num(fs[3])
		if r.age, err = strconv.ParseFloat(fs[4], 64); err != nil {
			return r, fmt.Errorf("line %q: %v", line, err)
		}
		r.exit = strings.Join(fs[5:], " ")
		return r, err
	}
}

func builtin(t *testing.T) *runner.Package {
	t.Helper()
	return tooltest.Builtin(t, "exitsnoop")
}

func TestPackageOptions(t *testing.T) {
	pkg := builtin(t)
	for _, tc := range []struct{ global, long, short string }{
		{"targ_timestamp", "timestamp", "t"},
		{"targ_utc", "utc", ""},
		{"targ_pid", "pid", "p"},
		{"targ_label", "label", ""},
		{"targ_failed", "failed", "x"},
		{"targ_per_thread", "per-thread", ""},
	} {
		o := pkg.OptionByFlag(tc.long)
		if o == nil || o.Name != tc.global || o.Short != tc.short {
			t.Errorf("--%s: %+v, want global %s short %q", tc.long, o, tc.global, tc.short)
		}
	}
}

// event is struct event (exitsnoop.h).
type event struct {
	Label          [16]byte
	Comm           [16]byte
	Pid, Ppid, Tid uint32
	_              [4]byte
	AgeNS          uint64
	ExitCode       int32
	_              [4]byte
}

func TestGoldenFormat(t *testing.T) {
	events := []struct {
		r      row
		ageNS  uint64
		status int32
	}{
		{row{comm: "sh", pid: 1234, ppid: 1, tid: 1234, age: 0.01, exit: "code 3"}, 12_000_000, 3 << 8},
		{row{comm: "sleep", pid: 4194304, ppid: 4194303, tid: 4194304, age: 1.5, exit: "signal 9 (KILL)"}, 1_500_000_000, 9},
		{row{comm: "abcdefghijklmno", pid: 1, ppid: 0, tid: 1, age: 12345.68, exit: "0"}, 12345_678_000_000, 0},
		{row{comm: "crash", pid: 7, ppid: 2, tid: 8, age: 0, exit: "signal 11 (SEGV), core dumped"}, 0, 0x80 | 11},
		{row{comm: "term", pid: 7, ppid: 2, tid: 7, age: 0, exit: "signal 15 (TERM)"}, 1, 15},
	}
	for _, label := range []string{"", "exit"} {
		pkg := builtin(t)
		v := pkg.NewValues()
		if label != "" {
			if err := v.Set("targ_label", label); err != nil {
				t.Fatal(err)
			}
		}
		plans, err := tooltest.Plans(pkg, v)
		if err != nil {
			t.Fatal(err)
		}
		p := plans["events"]
		if got, want := p.Header(), bccHeader(false, false, label != ""); got != want {
			t.Errorf("label %q: header:\n got %q\nwant %q", label, got, want)
		}
		if got, want := p.Size(), uint32(binary.Size(event{})); got != want {
			t.Fatalf("event size %d, want %d", got, want)
		}
		for _, ev := range events {
			e := event{Pid: ev.r.pid, Ppid: ev.r.ppid, Tid: ev.r.tid, AgeNS: ev.ageNS, ExitCode: ev.status}
			copy(e.Comm[:15], ev.r.comm)
			copy(e.Label[:], label)
			b, _ := binary.Append(nil, binary.NativeEndian, e)
			line, err := p.AppendText(nil, b)
			if err != nil {
				t.Fatal(err)
			}
			r := ev.r
			r.label = label
			if want := bccLine(r); string(line) != want {
				t.Errorf("line:\n got %q\nwant %q", line, want)
			}
		}
	}
}

func TestTimeHeader(t *testing.T) {
	for _, tc := range []struct {
		flags   map[string]string
		ts, utc bool
	}{
		{map[string]string{"targ_timestamp": "true"}, true, false},
		{map[string]string{"targ_utc": "true"}, false, true}, // --utc implies -t
		{map[string]string{"targ_timestamp": "true", "targ_utc": "true", "targ_label": "x"}, true, true},
	} {
		pkg := builtin(t)
		v := pkg.NewValues()
		for k, val := range tc.flags {
			if err := v.Set(k, val); err != nil {
				t.Fatal(err)
			}
		}
		plans, err := tooltest.Plans(pkg, v)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := plans["events"].Header(), bccHeader(tc.ts, tc.utc, tc.flags["targ_label"] != ""); got != want {
			t.Errorf("%v: header:\n got %q\nwant %q", tc.flags, got, want)
		}
	}
}

// --- privileged: real exits ------------------------------------------------------------

// collect reads lines until one of pid ends the list; it returns the rows of the pids in
// want, in order.
func collect(tl *tooltest.Tool, ts, label bool, want map[uint32]bool, last uint32) []row {
	tl.T.Helper()
	parse := tooltest.Exact(tl.T, parseLine(ts, label), bccLine)
	return tooltest.Collect(tl, 20*time.Second, parse,
		func(r row) bool { return want[r.pid] },
		func(r row) bool { return r.pid == last })
}

func comm(t *testing.T) string {
	_, c := tooltest.Self(t)
	return c
}

func TestExits(t *testing.T) {
	t.Parallel()
	tl := tooltest.Start(t, "exitsnoop")
	tl.WaitHeader(bccHeader(false, false, false))
	me := uint32(os.Getpid())
	ok := uint32(tooltest.RunProc(t, 0))
	three := uint32(tooltest.RunProc(t, 3, "some", "args"))
	killed := tooltest.StartProc(t)
	killed.Kill(t, syscall.SIGKILL)
	kpid := uint32(killed.Pid())
	rows := collect(tl, false, false, map[uint32]bool{ok: true, three: true, kpid: true}, kpid)
	tl.Stop()
	want := []struct {
		pid  uint32
		exit string
	}{{ok, "0"}, {three, "code 3"}, {kpid, "signal 9 (KILL)"}}
	if len(rows) != len(want) {
		t.Fatalf("rows %+v, want pids %v", rows, want)
	}
	for i, w := range want {
		r := rows[i]
		if r.pid != w.pid || r.tid != w.pid || r.ppid != me || r.comm != comm(t) || r.exit != w.exit || r.age < 0 || r.age > 20 {
			t.Errorf("row %d: %+v, want pid=tid=%d ppid %d comm %s exit %q", i, r, w.pid, me, comm(t), w.exit)
		}
	}
}

func TestFailedOnly(t *testing.T) {
	t.Parallel()
	tl := tooltest.Start(t, "exitsnoop", "-x", "--label", "fail")
	tl.WaitHeader(bccHeader(false, false, true))
	ok := uint32(tooltest.RunProc(t, 0))
	bad := uint32(tooltest.RunProc(t, 1))
	rows := collect(tl, false, true, map[uint32]bool{ok: true, bad: true}, bad)
	tl.Stop()
	if len(rows) != 1 || rows[0].exit != "code 1" || rows[0].label != "fail" {
		t.Errorf("-x: rows %+v, want only %d with code 1, labelled fail", rows, bad)
	}
}

func TestPIDAndPerThread(t *testing.T) {
	t.Parallel()
	child := tooltest.StartProc(t)
	pid := uint32(child.Pid())
	tl := tooltest.Start(t, "exitsnoop", "-p", fmt.Sprint(pid), "--per-thread", "-t")
	tl.WaitHeader(bccHeader(true, false, false))
	other := uint32(tooltest.RunProc(t, 2))
	child.End(t)
	// A Go process has several threads: each one's exit is a line, in no fixed order.
	var leader, others int
	parse := tooltest.Exact(t, parseLine(true, false), bccLine)
	deadline := time.Now().Add(20 * time.Second)
	for leader == 0 || others == 0 {
		r, err := parse(tl.Next(time.Until(deadline)))
		if err != nil {
			t.Fatal(err)
		}
		if r.pid != pid {
			t.Fatalf("-p %d printed %+v (other child %d)", pid, r, other)
		}
		if r.tid == pid {
			leader++
		} else {
			others++
		}
	}
	tl.Stop()
	if leader != 1 {
		t.Errorf("--per-thread: the leader's exit printed %d times", leader)
	}
}

func TestPIDLeaderOnly(t *testing.T) {
	t.Parallel()
	child := tooltest.StartProc(t)
	pid := uint32(child.Pid())
	tl := tooltest.Start(t, "exitsnoop", "-p", fmt.Sprint(pid))
	tl.WaitHeader(bccHeader(false, false, false))
	tooltest.RunProc(t, 2)
	child.Kill(t, syscall.SIGTERM)
	rows := collect(tl, false, false, map[uint32]bool{pid: true}, pid)
	// Without --per-thread only the process (its leader) is reported; the next line, if
	// any comes, must not be one of its threads either.
	if l, ok := tl.Poll(200 * time.Millisecond); ok {
		t.Errorf("-p %d without --per-thread printed another line: %q", pid, l)
	}
	tl.Stop()
	if len(rows) != 1 || rows[0].tid != pid || rows[0].exit != "signal 15 (TERM)" {
		t.Errorf("rows %+v, want one: pid=tid=%d, signal 15 (TERM)", rows, pid)
	}
}

func TestJSON(t *testing.T) {
	t.Parallel()
	tl := tooltest.Start(t, "exitsnoop", "--json")
	// No header in JSON mode: exit children until one shows up (ecli is then attached).
	ours := map[float64]bool{}
	deadline := time.Now().Add(60 * time.Second)
	var got map[string]any
	for got == nil {
		if time.Now().After(deadline) {
			t.Fatalf("no event of ours within 60 s\nstderr: %s", tl.Stderr)
		}
		ours[float64(tooltest.RunProc(t, 3))] = true
		for l, ok := tl.Poll(100 * time.Millisecond); ok && got == nil; l, ok = tl.Poll(10 * time.Millisecond) {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("%q: %v", l, err)
			}
			if p, _ := m["pid"].(float64); ours[p] {
				got = m
			}
		}
	}
	tl.Stop()
	if got["exit_code"] != "code 3" || got["tid"] != got["pid"] || got["ppid"] != float64(os.Getpid()) || got["comm"] != comm(t) {
		t.Errorf("JSON %v", got)
	}
	if _, ok := got["age_ns"].(float64); !ok {
		t.Errorf("JSON age_ns: %v", got["age_ns"])
	}
}
