package execsnoop_test

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
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

// flags are the output-shaping flags of one run.
type flags struct{ time, ts, uid, pcomm, cpu, quote bool }

func (f flags) args() []string {
	var a []string
	for _, o := range []struct {
		on   bool
		flag string
	}{{f.time, "-T"}, {f.ts, "-t"}, {f.uid, "-U"}, {f.pcomm, "-M"}, {f.cpu, "-C"}, {f.quote, "-q"}} {
		if o.on {
			a = append(a, o.flag)
		}
	}
	return a
}

// bccHeader and bccLine are bcc python execsnoop's print statements (tools/execsnoop.py).
func bccHeader(f flags) string {
	s := ""
	if f.time {
		s += fmt.Sprintf("%-9s", "TIME")
	}
	if f.ts {
		s += fmt.Sprintf("%-8s", "TIME(s)")
	}
	if f.uid {
		s += fmt.Sprintf("%-6s", "UID")
	}
	s += fmt.Sprintf("%-16s %-7s ", "COMM", "PID")
	if f.pcomm {
		s += fmt.Sprintf("%-16s ", "PCOMM")
	}
	s += fmt.Sprintf("%-7s ", "PPID")
	if f.cpu {
		s += fmt.Sprintf("%-4s ", "CPU")
	}
	return s + fmt.Sprintf("%3s %s", "RET", "ARGS")
}

// row is one line; time is the TIME cell as printed (bcc's clock), ts the TIME(s) value,
// args the ARGS text.
type row struct {
	time  string
	ts    float64
	uid   uint32
	comm  string
	pid   uint32
	pcomm string
	ppid  uint32
	cpu   uint32
	ret   int
	args  string
}

// argsText is bcc's ARGS: the arguments joined by spaces, each in quotes with -q, newlines
// as \n.
func argsText(quote bool, args []string) string {
	if quote {
		q := make([]string, len(args))
		for i, a := range args {
			q[i] = `"` + strings.ReplaceAll(a, `"`, `\"`) + `"`
		}
		args = q
	}
	return strings.ReplaceAll(strings.Join(args, " "), "\n", `\n`)
}

func bccLine(f flags, r row) string {
	s := ""
	if f.time {
		s += fmt.Sprintf("%-9s", r.time)
	}
	if f.ts {
		s += fmt.Sprintf("%-8.3f", r.ts)
	}
	if f.uid {
		s += fmt.Sprintf("%-6d", r.uid)
	}
	s += fmt.Sprintf("%-16s %-7d ", r.comm, r.pid)
	if f.pcomm {
		s += fmt.Sprintf("%-16s ", r.pcomm)
	}
	s += fmt.Sprintf("%-7s ", strconv.Itoa(int(r.ppid)))
	if f.cpu {
		s += fmt.Sprintf("%-4d ", r.cpu)
	}
	return s + fmt.Sprintf("%3d %s", r.ret, r.args)
}

var clockRE = regexp.MustCompile(`^\d\d:\d\d:\d\d$`)

// prefix is the width of the columns before ARGS, for values that fit their columns
// (comm and pcomm without spaces, as here).
func (f flags) prefix() int {
	n := 17 + 8 + 8 + 4 // COMM PID PPID RET
	for _, c := range []struct {
		on bool
		w  int
	}{{f.time, 9}, {f.ts, 8}, {f.uid, 6}, {f.pcomm, 17}, {f.cpu, 5}} {
		if c.on {
			n += c.w
		}
	}
	return n
}

// parseLine reads a line back: the fixed columns by fields, ARGS as the rest.
func parseLine(f flags) func(string) (row, error) {
	return func(line string) (row, error) {
		var r row
		if len(line) < f.prefix() {
			return r, fmt.Errorf("line %q: shorter than its columns", line)
		}
		r.args = line[f.prefix():]
		fs := strings.Fields(line[:f.prefix()])
		var err error
		num := func() uint32 {
			if len(fs) == 0 {
				err = fmt.Errorf("line %q: too few columns", line)
				return 0
			}
			n, e := strconv.ParseUint(fs[0], 10, 32)
			if e != nil && err == nil {
				err = fmt.Errorf("line %q: %q: %v", line, fs[0], e)
			}
			fs = fs[1:]
			return uint32(n)
		}
		str := func() string {
			if len(fs) == 0 {
				err = fmt.Errorf("line %q: too few columns", line)
				return ""
			}
			s := fs[0]
			fs = fs[1:]
			return s
		}
		if f.time {
			if r.time = str(); !clockRE.MatchString(r.time) {
				return r, fmt.Errorf("line %q: no HH:MM:SS", line)
			}
		}
		if f.ts {
			if r.ts, err = strconv.ParseFloat(str(), 64); err != nil {
				return r, fmt.Errorf("line %q: %v", line, err)
			}
		}
		if f.uid {
			r.uid = num()
		}
		r.comm, r.pid = str(), num()
		if f.pcomm {
			r.pcomm = str()
		}
		r.ppid = num()
		if f.cpu {
			r.cpu = num()
		}
		n, e := strconv.Atoi(str())
		if e != nil && err == nil {
			err = fmt.Errorf("line %q: RET: %v", line, e)
		}
		r.ret = n
		return r, err
	}
}

func builtin(t *testing.T) *runner.Package {
	t.Helper()
	return tooltest.Builtin(t, "execsnoop")
}

func TestPackageOptions(t *testing.T) {
	pkg := builtin(t)
	for _, tc := range []struct{ global, long, short string }{
		{"targ_time", "time", "T"},
		{"targ_timestamp", "timestamp", "t"},
		{"targ_fails", "fails", "x"},
		{"cgroupmap", "cgroupmap", ""},
		{"mntnsmap", "mntnsmap", ""},
		{"targ_uid", "uid", "u"},
		{"targ_quote", "quote", "q"},
		{"targ_name", "name", "n"},
		{"targ_line", "line", "l"},
		{"targ_print_uid", "print-uid", "U"},
		{"targ_print_cpu", "print-cpu", "C"},
		{"targ_print_pcomm", "print-pcomm", "M"},
		{"targ_max_args", "max-args", ""},
		{"targ_ppid", "ppid", "P"},
	} {
		o := pkg.OptionByFlag(tc.long)
		if o == nil || o.Name != tc.global || o.Short != tc.short {
			t.Errorf("--%s: %+v, want global %s short %q", tc.long, o, tc.global, tc.short)
		}
	}
}

// The event layout (execsnoop.h).
const (
	argSize = 128
	maxArgs = 60
	argsBuf = maxArgs*argSize + 4
)

type event struct {
	TsUS     uint64
	UID      uint32
	Comm     [16]byte
	Pid      uint32
	Pcomm    [16]byte
	Ppid     uint32
	CPU      uint32
	Ret      int32
	ArgsSize uint32
	Args     [argsBuf]byte
	_        [4]byte
}

func mkEvent(r row, tsUS uint64, args []string) []byte {
	e := event{TsUS: tsUS, UID: r.uid, Pid: r.pid, Ppid: r.ppid, CPU: r.cpu, Ret: int32(r.ret)}
	copy(e.Comm[:15], r.comm)
	copy(e.Pcomm[:15], r.pcomm)
	n := 0
	for _, a := range args {
		n += copy(e.Args[n:], a) + 1
	}
	e.ArgsSize = uint32(n)
	b, _ := binary.Append(nil, binary.NativeEndian, e)
	return b
}

// TestGoldenFormat renders events through the package's hints for combinations of the
// column flags and compares with bcc's print statements.
func TestGoldenFormat(t *testing.T) {
	args := []string{"/usr/bin/ls", "-l", `say "hi"`, "", "new\nline"}
	events := []struct {
		r    row
		tsUS uint64
	}{
		{row{uid: 0, comm: "ls", pid: 1234, pcomm: "bash", ppid: 1000, cpu: 1, ret: 0}, 5_000_000},
		{row{uid: 1000, comm: "abcdefghijklmno", pid: 4194304, pcomm: "systemd", ppid: 1, cpu: 63, ret: -2}, 5_250_000},
		{row{uid: 65534, comm: "x", pid: 1, pcomm: "p", ppid: 0, cpu: 0, ret: -13}, 7_001_000},
	}
	for _, f := range []flags{{}, {time: true}, {ts: true, uid: true}, {pcomm: true, cpu: true}, {quote: true}, {time: true, ts: true, uid: true, pcomm: true, cpu: true, quote: true}} {
		t.Run(strings.Join(append([]string{"flags"}, f.args()...), ""), func(t *testing.T) {
			pkg := builtin(t)
			v := pkg.NewValues()
			for name, on := range map[string]bool{"targ_time": f.time, "targ_timestamp": f.ts, "targ_print_uid": f.uid, "targ_print_pcomm": f.pcomm, "targ_print_cpu": f.cpu, "targ_quote": f.quote} {
				if err := v.Set(name, strconv.FormatBool(on)); err != nil {
					t.Fatal(err)
				}
			}
			plans, err := tooltest.Plans(pkg, v)
			if err != nil {
				t.Fatal(err)
			}
			p := plans["events"]
			if got, want := p.Header(), bccHeader(f); got != want {
				t.Errorf("header:\n got %q\nwant %q", got, want)
			}
			if got, want := p.Size(), uint32(binary.Size(event{})); got != want {
				t.Fatalf("event size %d, want %d", got, want)
			}
			for _, ev := range events {
				line, err := p.AppendText(nil, mkEvent(ev.r, ev.tsUS, args))
				if err != nil {
					t.Fatal(err)
				}
				r := ev.r
				r.ts = float64(ev.tsUS-events[0].tsUS) / 1e6
				r.args = argsText(f.quote, args)
				if f.time {
					r.time = string(line[:8])
				}
				if want := bccLine(f, r); string(line) != want {
					t.Errorf("line:\n got %q\nwant %q", line, want)
				}
			}
		})
	}
}

// TestRegexFilters: -n and -l are user-space regular expressions on COMM and on the
// unquoted ARGS.
func TestRegexFilters(t *testing.T) {
	args := []string{"/usr/bin/make", "-C", "src", `all "now"`}
	r := row{comm: "make", pid: 10, ppid: 1, ret: 0}
	for _, tc := range []struct {
		name, line string
		quote      bool
		keep       bool
	}{
		{"", "", false, true},
		{"^mak", "", false, true},
		{"ake$", "", false, true},
		{"^ake", "", false, false},
		{"", "-C src", false, true},
		{"", `src all "now"`, true, true}, // -l sees the text before -q quotes it
		{"", `"-C"`, true, false},
		{"make", "bin/make -C", false, true},
		{"make", "nothing", false, false},
	} {
		pkg := builtin(t)
		v := pkg.NewValues()
		for name, val := range map[string]string{"targ_name": tc.name, "targ_line": tc.line, "targ_quote": strconv.FormatBool(tc.quote)} {
			if err := v.Set(name, val); err != nil {
				t.Fatal(err)
			}
		}
		plans, err := tooltest.Plans(pkg, v)
		if err != nil {
			t.Fatal(err)
		}
		line, err := plans["events"].AppendText(nil, mkEvent(r, 0, args))
		if err != nil {
			t.Fatal(err)
		}
		if kept := len(line) > 0; kept != tc.keep {
			t.Errorf("-n %q -l %q -q=%v: printed %v (%q), want %v", tc.name, tc.line, tc.quote, kept, line, tc.keep)
		}
	}
	v := builtin(t).NewValues()
	v.Set("targ_line", "(")
	if _, err := builtin(t).Outputs(v); err == nil || !strings.Contains(err.Error(), "targ_line") {
		t.Errorf("-l '(': %v, want an error naming targ_line", err)
	}
}

// --- privileged: real execs ------------------------------------------------------------

// marker makes a test's exec arguments unique on a busy machine.
func marker(t *testing.T) string { return "ecli-test-" + t.Name() }

// execs runs this test binary with args (it exits 0 at once) and returns its PID and the
// ARGS execsnoop prints for it: the path, then args.
func execSelf(t *testing.T, args ...string) (pid uint32, argv []string) {
	t.Helper()
	cmd := tooltest.ProcCommand(t, "exit:0", args...)
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return uint32(cmd.ProcessState.Pid()), append([]string{cmd.Path}, args...)
}

// execMissing tries to exec a file that does not exist (ENOENT) with args.
func execMissing(t *testing.T, args ...string) []string {
	t.Helper()
	path := "/nonexistent-ecli-test/prog"
	if err := exec.Command(path, args...).Run(); err == nil {
		t.Fatalf("%s ran", path)
	}
	return append([]string{path}, args...)
}

func run(t *testing.T, f flags, extra ...string) *tooltest.Tool {
	t.Helper()
	tl := tooltest.Start(t, "execsnoop", append(f.args(), extra...)...)
	tl.WaitHeader(bccHeader(f))
	return tl
}

// collect returns the rows whose ARGS contain mark, up to the one stop accepts.
func collect(tl *tooltest.Tool, f flags, mark string, stop func(row) bool) []row {
	tl.T.Helper()
	parse := tooltest.Exact(tl.T, parseLine(f), func(r row) string { return bccLine(f, r) })
	return tooltest.Collect(tl, 20*time.Second, parse, func(r row) bool { return strings.Contains(r.args, mark) }, stop)
}

func TestExecs(t *testing.T) {
	t.Parallel()
	f := flags{pcomm: true, uid: true, cpu: true}
	tl := run(t, f, "-x")
	me, comm := tooltest.Self(t)
	mark := marker(t)
	pid, argv := execSelf(t, mark, "two words", `quo"te`, "")
	missing := execMissing(t, mark, "b")
	rows := collect(tl, f, mark, func(r row) bool { return r.ret != 0 })
	tl.Stop()
	if len(rows) != 2 {
		t.Fatalf("rows %+v, want the exec and the failed one", rows)
	}
	ok, bad := rows[0], rows[1]
	pcomm := comm
	if len(pcomm) > 15 {
		pcomm = pcomm[:15]
	}
	if ok.pid != pid || ok.ppid != me || ok.comm != comm || ok.pcomm != pcomm || ok.uid != uint32(os.Getuid()) || ok.ret != 0 || ok.args != argsText(false, argv) {
		t.Errorf("exec: %+v, want pid %d ppid %d comm %s uid %d ret 0 args %q", ok, pid, me, comm, os.Getuid(), argsText(false, argv))
	}
	// A failed exec keeps the caller's comm (the forked child's, i.e. ours).
	if bad.ppid != me || bad.comm != comm || bad.ret != -int(syscall.ENOENT) || bad.args != argsText(false, missing) {
		t.Errorf("failed exec: %+v, want ppid %d comm %s ret -2 args %q", bad, me, comm, argsText(false, missing))
	}
}

func TestFailsHidden(t *testing.T) {
	t.Parallel()
	f := flags{quote: true, time: true, ts: true}
	tl := run(t, f)
	mark := marker(t)
	execMissing(t, mark)
	_, argv := execSelf(t, mark, `a "b"`)
	rows := collect(tl, f, mark, func(r row) bool { return true })
	tl.Stop()
	if len(rows) != 1 || rows[0].ret != 0 || rows[0].args != argsText(true, argv) {
		t.Errorf("without -x: rows %+v, want only the exec, args %q", rows, argsText(true, argv))
	}
}

func TestMaxArgs(t *testing.T) {
	t.Parallel()
	mark := marker(t)
	for _, tc := range []struct {
		max  string
		args []string
		want func(path string) []string
	}{
		// --max-args counts the file name: 3 items, then "..." as more follow
		{"3", []string{mark, "b", "c", "d"}, func(p string) []string { return []string{p, mark, "b", "..."} }},
		// exactly max items: no "..."
		{"3", []string{mark, "b"}, func(p string) []string { return []string{p, mark, "b"} }},
	} {
		tl := run(t, flags{}, "--max-args", tc.max)
		_, argv := execSelf(t, tc.args...)
		rows := collect(tl, flags{}, mark, func(r row) bool { return true })
		tl.Stop()
		if want := argsText(false, tc.want(argv[0])); rows[0].args != want {
			t.Errorf("--max-args %s %q: ARGS %q, want %q", tc.max, tc.args, rows[0].args, want)
		}
	}
	// The default, 20: the whole list up to it, then "...".
	tl := run(t, flags{})
	many := []string{mark}
	for i := range 30 {
		many = append(many, strconv.Itoa(i))
	}
	_, argv := execSelf(t, many...)
	rows := collect(tl, flags{}, mark, func(r row) bool { return true })
	tl.Stop()
	if want := argsText(false, append(argv[:20:20], "...")); rows[0].args != want {
		t.Errorf("default --max-args: ARGS %q, want %q", rows[0].args, want)
	}
}

// runTrue execs /bin/true with args and env, as uid when it is not 0.
func runTrue(t *testing.T, uid uint32, env []string, sh bool, args ...string) {
	t.Helper()
	cmd := exec.Command("/bin/true", args...)
	if sh {
		// a grandchild: its parent is the shell, not this process
		cmd = exec.Command("/bin/sh", "-c", `/bin/true "$MARK"; :`)
	}
	cmd.Env = append(os.Environ(), env...)
	if uid != 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
	}
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
}

// TestFilters: each filter keeps one exec and drops another; the test ends on an exec
// the filter keeps, issued after the dropped one.
func TestFilters(t *testing.T) {
	me, comm := tooltest.Self(t)
	for _, tc := range []struct {
		name string
		args []string
		drop func(t *testing.T, mark string) // an exec the filter drops (nil: none)
		end  func(t *testing.T, end string)  // an exec the filter keeps (nil: execSelf)
	}{
		{"name", []string{"-n", "^" + regexp.QuoteMeta(comm[:4])}, func(t *testing.T, m string) { runTrue(t, 0, nil, false, m) }, nil},
		{"name-other", []string{"-n", "^true$"}, func(t *testing.T, m string) { execSelf(t, m) }, func(t *testing.T, e string) { runTrue(t, 0, nil, false, e) }},
		{"line", []string{"-l", "MARK two|end-"}, func(t *testing.T, m string) { execSelf(t, m, "three") }, nil},
		{"ppid", []string{"-P", fmt.Sprint(me)}, func(t *testing.T, m string) { runTrue(t, 0, []string{"MARK=" + m}, true) }, nil},
		{"uid", []string{"-u", fmt.Sprint(os.Getuid())}, func(t *testing.T, m string) { runTrue(t, 12345, nil, false, m) }, nil},
		{"uid-other", []string{"-u", "12345"}, func(t *testing.T, m string) { execSelf(t, m) }, func(t *testing.T, e string) { runTrue(t, 12345, nil, false, e) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mark := marker(t)
			args := strings.Split(strings.ReplaceAll(strings.Join(tc.args, "\x00"), "MARK", mark), "\x00")
			tl := run(t, flags{}, args...)
			var kept []string
			if tc.end == nil {
				_, kept = execSelf(t, mark, "two")
			}
			tc.drop(t, mark+"-drop")
			end := "end-" + mark
			if tc.end != nil {
				tc.end(t, end)
			} else {
				execSelf(t, end)
			}
			rows := collect(tl, flags{}, mark, func(r row) bool { return strings.Contains(r.args, end) })
			tl.Stop()
			for _, r := range rows[:len(rows)-1] {
				if strings.Contains(r.args, mark+"-drop") || kept == nil || r.args != argsText(false, kept) {
					t.Errorf("%v printed %+v (kept: %q)", args, r, kept)
				}
			}
			if kept != nil && len(rows) != 2 {
				t.Errorf("%v: rows %+v, want the kept exec %q, then the end", args, rows, kept)
			}
		})
	}
}

func TestJSON(t *testing.T) {
	t.Parallel()
	mark := marker(t)
	tl := tooltest.Start(t, "execsnoop", "--json", "-l", mark)
	deadline := time.Now().Add(60 * time.Second)
	pids := map[float64][]string{}
	for {
		if time.Now().After(deadline) {
			t.Fatalf("no event within 60 s\nstderr: %s", tl.Stderr)
		}
		pid, argv := execSelf(t, mark, "x y")
		pids[float64(pid)] = argv
		l, ok := tl.Poll(200 * time.Millisecond)
		if !ok {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		argv = pids[m["pid"].(float64)]
		if argv == nil {
			t.Fatalf("-l %s printed %v", mark, m)
		}
		_, comm := tooltest.Self(t)
		if m["comm"] != comm || m["retval"] != float64(0) || m["ppid"] != float64(os.Getpid()) || fmt.Sprint(m["args"]) != fmt.Sprint(argv) {
			t.Errorf("JSON %v, want args %q", m, argv)
		}
		break
	}
	tl.Stop()
}
