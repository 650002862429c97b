package opensnoop_test

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"ecli/internal/testutils"
	"ecli/internal/testutils/tooltest"
)

func TestMain(m *testing.M) { tooltest.Main(m) }

// flags are the output-shaping flags of one run.
type flags struct{ ts, uid, tid, ext bool }

// bccHeader and bccLine are bcc python opensnoop's print statements (tools/opensnoop.py).
func bccHeader(f flags) string {
	s := ""
	if f.ts {
		s += fmt.Sprintf("%-14s", "TIME(s)")
	}
	if f.uid {
		s += fmt.Sprintf("%-6s", "UID")
	}
	id := "PID"
	if f.tid {
		id = "TID"
	}
	s += fmt.Sprintf("%-6s %-16s %4s %3s ", id, "COMM", "FD", "ERR")
	if f.ext {
		s += fmt.Sprintf("%-8s %-4s ", "FLAGS", "MODE")
	}
	return s + "PATH"
}

type row struct {
	ts          float64
	uid         uint32
	id          uint32 // PID, or TID with -t
	comm        string
	fd, err     int
	flags, mode uint32 // mode: modeNA for n/a
	path        string
}

const modeNA = 0xffffffff

func bccLine(f flags, r row) string {
	s := ""
	if f.ts {
		s += fmt.Sprintf("%-14.9f", r.ts)
	}
	if f.uid {
		s += fmt.Sprintf("%-6d", r.uid)
	}
	s += fmt.Sprintf("%-6d %-16s %4d %3d ", r.id, r.comm, r.fd, r.err)
	if f.ext {
		if r.mode == modeNA {
			s += fmt.Sprintf("%08o n/a  ", r.flags)
		} else {
			s += fmt.Sprintf("%08o %04o ", r.flags, r.mode)
		}
	}
	return s + r.path
}

// parseLine reads a line back (paths without spaces, as the tests use).
func parseLine(f flags) func(string) (row, error) {
	return func(line string) (row, error) {
		var r row
		fs := strings.Fields(line)
		want := 5
		for _, on := range []bool{f.ts, f.uid, f.ext, f.ext} {
			if on {
				want++
			}
		}
		if len(fs) != want {
			return r, fmt.Errorf("line %q: %d fields, want %d", line, len(fs), want)
		}
		var err error
		num := func(base int) uint64 {
			n, e := strconv.ParseInt(fs[0], base, 64)
			if e != nil && err == nil {
				err = fmt.Errorf("line %q: %q: %v", line, fs[0], e)
			}
			fs = fs[1:]
			return uint64(n)
		}
		if f.ts {
			r.ts, err = strconv.ParseFloat(fs[0], 64)
			fs = fs[1:]
		}
		if f.uid {
			r.uid = uint32(num(10))
		}
		r.id = uint32(num(10))
		r.comm, fs = fs[0], fs[1:]
		r.fd, r.err = int(int64(num(10))), int(num(10))
		if f.ext {
			r.flags = uint32(num(8))
			if fs[0] == "n/a" {
				r.mode, fs = modeNA, fs[1:]
			} else {
				r.mode = uint32(num(8))
			}
		}
		r.path = fs[0]
		return r, err
	}
}

func (f flags) args() []string {
	var a []string
	if f.ts {
		a = append(a, "-T")
	}
	if f.uid {
		a = append(a, "-U")
	}
	if f.ext {
		a = append(a, "-e")
	}
	return a
}

func TestPackageOptions(t *testing.T) {
	pkg := tooltest.Builtin(t, "opensnoop")
	for _, tc := range []struct{ global, long, short, unsupported string }{
		{"targ_timestamp", "timestamp", "T", ""},
		{"targ_print_uid", "print-uid", "U", ""},
		{"targ_failed", "failed", "x", ""},
		{"targ_pid", "pid", "p", ""},
		{"targ_tid", "tid", "t", ""},
		{"cgroupmap", "cgroupmap", "", ""},
		{"mntnsmap", "mntnsmap", "", ""},
		{"targ_uid", "uid", "u", ""},
		{"targ_duration", "duration", "d", ""},
		{"targ_name", "name", "n", ""},
		{"targ_extended", "extended_fields", "e", ""},
		{"targ_flag_mask", "flag_filter", "f", "O_* flag names"},
		{"targ_full_path", "full-path", "F", "verifier"},
		{"targ_buffer_pages", "buffer-pages", "b", "fixed"},
		{"targ_exec", "exec", "", "user-space"},
	} {
		o := pkg.OptionByFlag(tc.long)
		if o == nil || o.Name != tc.global || o.Short != tc.short {
			t.Errorf("--%s: %+v, want global %s short %q", tc.long, o, tc.global, tc.short)
			continue
		}
		if !strings.Contains(o.Unsupported, tc.unsupported) || (tc.unsupported == "") != (o.Unsupported == "") {
			t.Errorf("--%s: unsupported %q, want %q", tc.long, o.Unsupported, tc.unsupported)
		}
	}
}

// event is struct event (opensnoop.h).
type event struct {
	TsUS          uint64
	UID, Pid, Tid uint32
	Comm          [16]byte
	Fd, Err       int32
	Flags, Mode   uint32
	Path          [4096]byte
	_             [4]byte // padding to the 8-byte alignment of ts_us
}

func TestGoldenFormat(t *testing.T) {
	rows := []row{
		{uid: 0, id: 1234, comm: "cat", fd: 3, err: 0, flags: 0o2000000, mode: modeNA, path: "/etc/passwd"},
		{uid: 1000, id: 4194304, comm: "abcdefghijklmno", fd: -1, err: 2, flags: 0o2000101, mode: 0o640, path: "relative/file"},
		{uid: 65534, id: 1, comm: "x", fd: 1023, err: 0, flags: 0, mode: 0, path: "/"},
	}
	for _, f := range []flags{{}, {ts: true}, {uid: true, tid: true}, {ext: true}, {ts: true, uid: true, ext: true}} {
		pkg := tooltest.Builtin(t, "opensnoop")
		v := pkg.NewValues()
		for name, on := range map[string]bool{"targ_timestamp": f.ts, "targ_print_uid": f.uid, "targ_extended": f.ext} {
			if err := v.Set(name, strconv.FormatBool(on)); err != nil {
				t.Fatal(err)
			}
		}
		if f.tid {
			v.Set("targ_tid", "77")
		}
		plans, err := tooltest.Plans(pkg, v)
		if err != nil {
			t.Fatal(err)
		}
		p := plans["events"]
		if got, want := p.Header(), bccHeader(f); got != want {
			t.Errorf("%+v: header:\n got %q\nwant %q", f, got, want)
		}
		if got, want := p.Size(), uint32(binary.Size(event{})); got != want {
			t.Fatalf("event size %d, want %d", got, want)
		}
		for i, r := range rows {
			e := event{TsUS: 1_000_000 + uint64(i)*1234, UID: r.uid, Pid: r.id, Tid: r.id + 1, Fd: int32(r.fd), Err: int32(r.err), Flags: r.flags, Mode: r.mode}
			if f.tid {
				e.Pid, e.Tid = r.id+1, r.id
			}
			copy(e.Comm[:15], r.comm)
			copy(e.Path[:], r.path)
			b, _ := binary.Append(nil, binary.NativeEndian, e)
			line, err := p.AppendText(nil, b)
			if err != nil {
				t.Fatal(err)
			}
			r.ts = float64(i*1234) / 1e6
			if want := bccLine(f, r); string(line) != want {
				t.Errorf("%+v: line:\n got %q\nwant %q", f, line, want)
			}
		}
	}
}

// --- privileged: real opens ------------------------------------------------------------

func run(t *testing.T, f flags, extra ...string) *tooltest.Tool {
	t.Helper()
	tl := tooltest.Start(t, "opensnoop", append(f.args(), extra...)...)
	tl.WaitHeader(bccHeader(f))
	return tl
}

// collect returns the rows of paths under dir, up to the one with path end.
func collect(tl *tooltest.Tool, f flags, dir, end string) []row {
	tl.T.Helper()
	parse := tooltest.Exact(tl.T, parseLine(f), func(r row) string { return bccLine(f, r) })
	return tooltest.Collect(tl, 20*time.Second, parse,
		func(r row) bool { return strings.HasPrefix(r.path, dir) },
		func(r row) bool { return r.path == end })
}

// opens opens an existing file of dir (read-only), a missing one, and creates one with
// mode 0640; it returns the paths and the fds of the successful opens.
func opens(t *testing.T, dir string) (paths []string, fds []int) {
	t.Helper()
	have := filepath.Join(dir, "have")
	if err := os.WriteFile(have, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(have)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	missing := filepath.Join(dir, "missing")
	if _, err := os.Open(missing); err == nil {
		t.Fatal("missing file opened")
	}
	created := filepath.Join(dir, "created")
	c, err := os.OpenFile(created, os.O_WRONLY|os.O_CREATE, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return []string{have, missing, created}, []int{int(f.Fd()), int(c.Fd())}
}

func TestOpens(t *testing.T) {
	t.Parallel()
	f := flags{ext: true, uid: true}
	me, comm := tooltest.Self(t)
	tl := run(t, f, "-p", fmt.Sprint(me))
	dir := t.TempDir()
	paths, fds := opens(t, dir)
	rows := collect(tl, f, dir, paths[2])
	tl.Stop()
	// os.WriteFile's create comes first: skip it.
	if len(rows) != 4 {
		t.Fatalf("rows %+v, want 4 opens of %s", rows, dir)
	}
	want := []row{
		{uid: 0, id: me, comm: comm, fd: fds[0], err: 0, flags: unix.O_RDONLY | unix.O_CLOEXEC, mode: modeNA, path: paths[0]},
		{uid: 0, id: me, comm: comm, fd: -1, err: int(unix.ENOENT), flags: unix.O_RDONLY | unix.O_CLOEXEC, mode: modeNA, path: paths[1]},
		{uid: 0, id: me, comm: comm, fd: fds[1], err: 0, flags: unix.O_WRONLY | unix.O_CREAT | unix.O_CLOEXEC, mode: 0o640, path: paths[2]},
	}
	for i, w := range want {
		w.uid = uint32(os.Getuid())
		if r := rows[i+1]; r != w {
			t.Errorf("open %d:\n got %+v\nwant %+v", i, r, w)
		}
	}
}

func TestFailedOnly(t *testing.T) {
	t.Parallel()
	me, _ := tooltest.Self(t)
	tl := run(t, flags{}, "-x", "-p", fmt.Sprint(me))
	dir := t.TempDir()
	paths, _ := opens(t, dir)
	os.Open(filepath.Join(dir, "end"))
	rows := collect(tl, flags{}, dir, filepath.Join(dir, "end"))
	tl.Stop()
	if len(rows) != 2 || rows[0].path != paths[1] || rows[0].fd != -1 || rows[0].err != int(unix.ENOENT) {
		t.Errorf("-x: rows %+v, want the failed open of %s, then the end", rows, paths[1])
	}
}

func TestTID(t *testing.T) {
	t.Parallel()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tid := unix.Gettid()
	_, comm := tooltest.Self(t)
	f := flags{tid: true, ts: true}
	tl := run(t, f, "-t", fmt.Sprint(tid))
	dir := t.TempDir()
	end := filepath.Join(dir, "end")
	os.Open(end)
	rows := collect(tl, f, dir, end)
	tl.Stop()
	if len(rows) != 1 || rows[0].id != uint32(tid) || rows[0].comm != comm || rows[0].err != int(unix.ENOENT) {
		t.Errorf("-t %d: rows %+v", tid, rows)
	}
}

func TestNameFilter(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tl := run(t, flags{}, "-n", "^cat$")
	os.Open(filepath.Join(dir, "dropped")) // this process is not "cat"
	end := filepath.Join(dir, "end")
	exec.Command("cat", end).Run()
	rows := collect(tl, flags{}, dir, end)
	tl.Stop()
	if len(rows) != 1 || rows[0].comm != "cat" || rows[0].err != int(unix.ENOENT) {
		t.Errorf("-n ^cat$: rows %+v, want only cat's open of %s", rows, end)
	}
}

func TestDuration(t *testing.T) {
	t.Parallel()
	testutils.RequirePrivileged(t)
	start := time.Now()
	out, err := exec.Command(tooltest.Ecli(t), "run", "opensnoop", "-d", "1", "-p", "1").CombinedOutput()
	if err != nil {
		t.Fatalf("-d 1: %v: %s", err, out)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("-d 1 ended after %v", d)
	}
	if !strings.HasPrefix(string(out), bccHeader(flags{})) {
		t.Errorf("-d 1 printed %q", out)
	}
}

func TestUnsupported(t *testing.T) {
	t.Parallel()
	testutils.RequirePrivileged(t)
	for _, args := range [][]string{{"-F"}, {"-f", "O_WRONLY"}, {"-b", "128"}, {"--exec"}} {
		out, err := exec.Command(tooltest.Ecli(t), append([]string{"run", "opensnoop"}, args...)...).CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "is not supported") {
			t.Errorf("%v: %v: %s", args, err, out)
		}
	}
}

func TestJSON(t *testing.T) {
	t.Parallel()
	me, comm := tooltest.Self(t)
	tl := tooltest.Start(t, "opensnoop", "--json", "-p", fmt.Sprint(me))
	dir := t.TempDir()
	deadline := time.Now().Add(60 * time.Second)
	for n := 0; ; n++ {
		if time.Now().After(deadline) {
			t.Fatalf("no event within 60 s\nstderr: %s", tl.Stderr)
		}
		os.Open(filepath.Join(dir, strconv.Itoa(n)))
		l, ok := tl.Poll(100 * time.Millisecond)
		if !ok {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		p, _ := m["path"].(string)
		if !strings.HasPrefix(p, dir) {
			continue
		}
		if m["pid"] != float64(me) || m["comm"] != comm || m["fd"] != float64(-1) || m["err"] != float64(2) || m["mode"] != float64(modeNA) {
			t.Errorf("JSON %v", m)
		}
		break
	}
	tl.Stop()
}
