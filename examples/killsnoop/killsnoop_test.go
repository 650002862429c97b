package killsnoop_test

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"ecli/internal/testutils/tooltest"
)

func TestMain(m *testing.M) { tooltest.Main(m) }

// bcc python killsnoop's format strings (tools/killsnoop.py), with pid_bytes = 6: the digits
// of the kernel's default pid_max (32768) plus one.
const (
	pidBytes = 6
	pyHeader = "%-9s %-*s %-16s %-4s %-*s %s"
	pyRow    = "%-9s %-*d %-16s %-4d %-*d %d"
	// missing is a PID above any pid_max (at most 2^22): kill(2) fails with ESRCH.
	missing = 99999999
)

type row struct {
	time      string
	pid       uint32
	comm      string
	sig, tpid int
	ret       int
}

func bccHeader() string {
	return fmt.Sprintf(pyHeader, "TIME", pidBytes, "PID", "COMM", "SIG", pidBytes, "TPID", "RESULT")
}

func bccLine(r row) string {
	return fmt.Sprintf(pyRow, r.time, pidBytes, r.pid, r.comm, r.sig, pidBytes, r.tpid, r.ret)
}

var timeRE = regexp.MustCompile(`^\d\d:\d\d:\d\d$`)

func parseLine(line string) (row, error) {
	fs := strings.Fields(line)
	if len(fs) != 6 || !timeRE.MatchString(fs[0]) {
		return row{}, fmt.Errorf("line %q: want TIME PID COMM SIG TPID RESULT", line)
	}
	r := row{time: fs[0], comm: fs[2]}
	var err error
	num := func(s string) int {
		n, e := strconv.Atoi(s)
		if e != nil && err == nil {
			err = fmt.Errorf("line %q: %v", line, e)
		}
		return n
	}
	r.pid, r.sig, r.tpid, r.ret = uint32(num(fs[1])), num(fs[3]), num(fs[4]), num(fs[5])
	return r, err
}

func TestPackageOptions(t *testing.T) {
	pkg := tooltest.Builtin(t, "killsnoop")
	for _, tc := range []struct{ global, long, short string }{
		{"targ_failed", "failed", "x"},
		{"targ_pid", "pid", "p"},
		{"targ_tpid", "tpid", "T"},
		{"targ_signals", "signal", "s"},
	} {
		o := pkg.OptionByFlag(tc.long)
		if o == nil || o.Name != tc.global || o.Short != tc.short {
			t.Errorf("--%s: %+v, want global %s short %q", tc.long, o, tc.global, tc.short)
		}
	}
	if o := pkg.OptionByFlag("cgroupmap"); o != nil {
		t.Error("killsnoop has --cgroupmap; bcc's has not")
	}
}

// event is struct event (killsnoop.h).
type event struct {
	Pid            uint32
	Comm           [16]byte
	Sig, Tpid, Ret int32
}

func TestGoldenFormat(t *testing.T) {
	p, err := tooltest.Plans(tooltest.Builtin(t, "killsnoop"), nil)
	if err != nil {
		t.Fatal(err)
	}
	plan := p["events"]
	if got := plan.Header(); got != bccHeader() {
		t.Errorf("header:\n got %q\nwant %q", got, bccHeader())
	}
	if got, want := plan.Size(), uint32(binary.Size(event{})); got != want {
		t.Fatalf("event size %d, want %d", got, want)
	}
	for _, r := range []row{
		{pid: 1234, comm: "bash", sig: 10, tpid: 5678, ret: 0},
		{pid: 1, comm: "abcdefghijklmno", sig: 9, tpid: missing, ret: -3},
		{pid: 4194304, comm: "x", sig: 64, tpid: -1, ret: -1},
	} {
		e := event{Pid: r.pid, Sig: int32(r.sig), Tpid: int32(r.tpid), Ret: int32(r.ret)}
		copy(e.Comm[:15], r.comm)
		b, _ := binary.Append(nil, binary.NativeEndian, e)
		line, err := plan.AppendText(nil, b)
		if err != nil {
			t.Fatal(err)
		}
		r.time = string(line[:8])
		if !timeRE.MatchString(r.time) {
			t.Fatalf("line %q: no time", line)
		}
		if want := bccLine(r); string(line) != want {
			t.Errorf("line:\n got %q\nwant %q", line, want)
		}
	}
}

// --- privileged: real signals ----------------------------------------------------------

// signals sends USR1 to a waiting child and USR2 to the missing pid miss, and returns the
// rows of these two kills, up to the failed one (the successful one without expectFail).
// Tests run in parallel in one process: each gives its own miss.
func signals(t *testing.T, tl *tooltest.Tool, miss int, expectFail bool) (child int, rows []row) {
	t.Helper()
	me, _ := tooltest.Self(t)
	c := tooltest.StartProc(t)
	if err := syscall.Kill(c.Pid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	c.Cmd.Wait() // USR1 ends it
	if err := syscall.Kill(miss, syscall.SIGUSR2); err != syscall.ESRCH {
		t.Fatalf("kill(%d): %v, want ESRCH", miss, err)
	}
	ours := func(r row) bool { return r.pid == me && (r.tpid == c.Pid() || r.tpid == miss) }
	parse := tooltest.Exact(t, parseLine, bccLine)
	if expectFail {
		return c.Pid(), tooltest.Collect(tl, 20*time.Second, parse, ours, func(r row) bool { return r.tpid == miss })
	}
	return c.Pid(), tooltest.Collect(tl, 20*time.Second, parse, ours, func(r row) bool { return r.sig == 10 })
}

func TestKills(t *testing.T) {
	t.Parallel()
	tl := tooltest.Start(t, "killsnoop")
	tl.WaitHeader(bccHeader())
	child, rows := signals(t, tl, missing, true)
	tl.Stop()
	_, comm := tooltest.Self(t)
	if len(rows) != 2 {
		t.Fatalf("rows %+v, want 2", rows)
	}
	if r := rows[0]; r.comm != comm || r.sig != 10 || r.tpid != child || r.ret != 0 {
		t.Errorf("kill -USR1 child: %+v, want comm %s tpid %d result 0", r, comm, child)
	}
	if r := rows[1]; r.sig != 12 || r.tpid != missing || r.ret != -int(syscall.ESRCH) {
		t.Errorf("kill -USR2 missing: %+v, want tpid %d result -3", r, missing)
	}
}

func TestFilters(t *testing.T) {
	me, _ := tooltest.Self(t)
	for i, tc := range []struct {
		name string
		args []string
		fail bool // wait for the failed kill, else the successful one
		want []int
	}{
		{"failed", []string{"-x"}, true, []int{12}},
		{"signal", []string{"-s", "10,9"}, false, []int{10}},
		{"signal-list", []string{"-s", "12"}, true, []int{12}},
		{"pid", []string{"-p", fmt.Sprint(me)}, true, []int{10, 12}},
		{"tpid", []string{"-T", "MISS"}, true, []int{12}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			miss := missing + 100 + i
			args := strings.Split(strings.ReplaceAll(strings.Join(tc.args, " "), "MISS", fmt.Sprint(miss)), " ")
			tl := tooltest.Start(t, "killsnoop", args...)
			tl.WaitHeader(bccHeader())
			_, rows := signals(t, tl, miss, tc.fail)
			tl.Stop()
			var sigs []int
			for _, r := range rows {
				sigs = append(sigs, r.sig)
			}
			if fmt.Sprint(sigs) != fmt.Sprint(tc.want) {
				t.Errorf("%v: signals %v, want %v", tc.args, sigs, tc.want)
			}
		})
	}
}

func TestJSON(t *testing.T) {
	t.Parallel()
	tl := tooltest.Start(t, "killsnoop", "--json", "-T", fmt.Sprint(missing+1))
	me, comm := tooltest.Self(t)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if time.Now().After(deadline) {
			t.Fatalf("no event within 60 s\nstderr: %s", tl.Stderr)
		}
		syscall.Kill(missing+1, syscall.SIGUSR1)
		l, ok := tl.Poll(100 * time.Millisecond)
		if !ok {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		if m["pid"] != float64(me) {
			continue
		}
		if m["comm"] != comm || m["sig"] != float64(10) || m["tpid"] != float64(missing+1) || m["ret"] != float64(-3) {
			t.Errorf("JSON %v", m)
		}
		break
	}
	tl.Stop()
}
