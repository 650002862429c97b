package syscount_test

import (
	"encoding/binary"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"ecli/internal/testutils"
	"ecli/internal/testutils/tooltest"
	"ecli/runner"
)

func TestMain(m *testing.M) { tooltest.Main(m) }

// bcc python syscount's format strings (tools/syscount.py).
func countHeader(agg string) string { return fmt.Sprintf("%-22s %8s", agg, "COUNT") }
func countRow(agg string, n uint64) string {
	return fmt.Sprintf("%-22s %8d", agg, n)
}
func latHeader(agg, unit string) string {
	return fmt.Sprintf("%-22s %8s %16s", agg, "COUNT", unit)
}
func procAgg(pid int, comm string) string { return fmt.Sprintf("%-6d %-15s", pid, comm) }

const (
	banner = "Tracing syscalls, printing top 10... Ctrl+C to quit."
	footer = "Detaching..."
)

// Layout of the data map's key and value (syscount.h).
const keyLen, valLen = 8, 16 + 3*8

func TestGoldenFormat(t *testing.T) {
	pkg := tooltest.Builtin(t, "syscount")
	key := func(sys, pid uint32) []byte {
		b := binary.LittleEndian.AppendUint32(nil, sys)
		return binary.LittleEndian.AppendUint32(b, pid)
	}
	val := func(comm string, n, us, ms uint64) []byte {
		b := make([]byte, valLen)
		copy(b, comm)
		binary.LittleEndian.PutUint64(b[16:], n)
		binary.LittleEndian.PutUint64(b[24:], us)
		binary.LittleEndian.PutUint64(b[32:], ms)
		return b
	}
	for _, tc := range []struct {
		name, header, row string
		flags             []string
		key, val          []byte
	}{
		{"count", countHeader("SYSCALL"), countRow("getppid", 1000), nil, key(110, 0), val("", 1000, 0, 0)},
		{"unknown-number", countHeader("SYSCALL"), countRow("999", 3), nil, key(999, 0), val("", 3, 0, 0)},
		{"latency-us", latHeader("SYSCALL", "TIME (us)"), fmt.Sprintf("%-22s %8d %16.3f", "read", 7, 1234567.0/1e3),
			[]string{"targ_latency"}, key(0, 0), val("", 7, 1234567, 0)},
		{"latency-ms", latHeader("SYSCALL", "TIME (ms)"), fmt.Sprintf("%-22s %8d %16.6f", "read", 7, 1234567.0/1e6),
			[]string{"targ_latency", "targ_ms"}, key(0, 0), val("", 7, 0, 1234567)},
		{"process", countHeader("PID    COMM"), countRow(procAgg(4242, "sshd"), 12), []string{"targ_proc"}, key(0, 4242), val("sshd", 12, 0, 0)},
		{"process-latency", latHeader("PID    COMM", "TIME (us)"), fmt.Sprintf("%-22s %8d %16.3f", procAgg(1, "systemd-journald"[:15]), 2, 5.5),
			[]string{"targ_proc", "targ_latency"}, key(0, 1), val("systemd-journald"[:15], 2, 5500, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := pkg.NewValues()
			for _, f := range tc.flags {
				if err := v.Set(f, "true"); err != nil {
					t.Fatal(err)
				}
			}
			outs, err := pkg.Outputs(v)
			if err != nil {
				t.Fatal(err)
			}
			var table *runner.Output
			for i := range outs {
				if outs[i].Map == "data" {
					table = &outs[i]
				}
			}
			if table == nil || table.Plan == nil {
				t.Fatalf("no data table in %+v", outs)
			}
			if got := table.Plan.Header(); got != tc.header {
				t.Errorf("header:\n got %q\nwant %q", got, tc.header)
			}
			row, err := table.Plan.AppendEntryText(nil, tc.key, tc.val)
			if err != nil {
				t.Fatal(err)
			}
			if string(row) != tc.row {
				t.Errorf("row:\n got %q\nwant %q", row, tc.row)
			}
		})
	}
}

// calls makes n calls of the raw syscall nr (no arguments) from this process.
func calls(nr uintptr, n int) {
	for range n {
		syscall.RawSyscall(nr, 0, 0, 0)
	}
}

// start runs syscount for this process only (-p) and waits for its banner (printed once
// the programs are attached).
func start(t *testing.T, banner string, args ...string) *tooltest.Tool {
	t.Helper()
	tl := tooltest.Start(t, "syscount", append([]string{"-p", strconv.Itoa(os.Getpid())}, args...)...)
	tl.WaitHeader(banner)
	return tl
}

var clockLine = regexp.MustCompile(`^\[\d\d:\d\d:\d\d\]$`)

// round reads one round: its [HH:MM:SS] line, the header, the rows up to the empty line.
func round(t *testing.T, tl *tooltest.Tool, header string) []string {
	t.Helper()
	if l := tl.Next(30 * time.Second); !clockLine.MatchString(l) {
		t.Fatalf("round starts with %q, want [HH:MM:SS]", l)
	}
	if l := tl.Next(10 * time.Second); l != header {
		t.Fatalf("table header %q, want %q", l, header)
	}
	var out []string
	for l := tl.Next(10 * time.Second); l != ""; l = tl.Next(10 * time.Second) {
		out = append(out, l)
	}
	return out
}

// stop interrupts syscount and returns the rows of the round it prints at exit, checking
// the footer.
func stop(t *testing.T, tl *tooltest.Tool, header string) []string {
	t.Helper()
	tl.Cmd.Process.Signal(os.Interrupt)
	rows := round(t, tl, header)
	if l := tl.Next(10 * time.Second); l != footer {
		t.Errorf("last line %q, want %q", l, footer)
	}
	tl.Stop()
	return rows
}

// The cases use different syscalls, so they run in parallel in this one process.

func TestCount(t *testing.T) {
	t.Parallel()
	tl := start(t, banner)
	calls(unix.SYS_GETPPID, 3000)
	rows := stop(t, tl, countHeader("SYSCALL"))
	if len(rows) == 0 || len(rows) > 10 {
		t.Fatalf("%d rows, want 1 to 10 (top 10): %q", len(rows), rows)
	}
	if !slices.Contains(rows, countRow("getppid", 3000)) {
		t.Errorf("rows %q, want %q among them", rows, countRow("getppid", 3000))
	}
}

func TestSyscallLatency(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		unit string
		prec string
	}{{[]string{"-L"}, "TIME (us)", "3"}, {[]string{"-L", "-m"}, "TIME (ms)", "6"}} {
		tl := start(t, "Tracing syscall 'getpgrp'... Ctrl+C to quit.", append(tc.args, "--syscall", "getpgrp")...)
		calls(unix.SYS_GETPGRP, 2000)
		rows := stop(t, tl, latHeader("SYSCALL", tc.unit))
		re := regexp.MustCompile(`^getpgrp\s+2000\s+(\d+\.\d{` + tc.prec + `})$`)
		if len(rows) != 1 || !re.MatchString(rows[0]) {
			t.Fatalf("%v: rows %q, want one matching %s", tc.args, rows, re)
		}
		f, _ := strconv.ParseFloat(re.FindStringSubmatch(rows[0])[1], 64)
		if want := fmt.Sprintf("%-22s %8d %16."+tc.prec+"f", "getpgrp", 2000, f); rows[0] != want || f <= 0 {
			t.Errorf("%v: row %q, want %q (and a latency above 0)", tc.args, rows[0], want)
		}
	}
}

func TestProcess(t *testing.T) {
	t.Parallel()
	pid, comm := tooltest.Self(t)
	tl := start(t, "Tracing syscall 'getuid'... Ctrl+C to quit.", "-P", "--syscall", "getuid")
	calls(unix.SYS_GETUID, 1500)
	rows := stop(t, tl, countHeader("PID    COMM"))
	if want := countRow(procAgg(int(pid), comm), 1500); len(rows) != 1 || rows[0] != want {
		t.Errorf("rows %q, want [%q]", rows, want)
	}
}

// TestFailures: -x keeps the failed closes (EBADF), -e EBADF too, -e ENOENT drops them.
func TestFailures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args   []string
		banner string
		want   []string
	}{
		{[]string{"-x"}, "Tracing failed syscall 'close'... Ctrl+C to quit.", []string{countRow("close", 700)}},
		{[]string{"-e", "EBADF"}, "Tracing syscall 'close'... Ctrl+C to quit.", []string{countRow("close", 700)}},
		{[]string{"-e", "ENOENT"}, "Tracing syscall 'close'... Ctrl+C to quit.", nil},
	} {
		tl := start(t, tc.banner, append(tc.args, "--syscall", "close")...)
		fd, err := unix.Dup(0)
		if err != nil {
			t.Fatal(err)
		}
		unix.Close(fd) // one close that succeeds
		for range 700 {
			unix.Close(-1)
		}
		rows := stop(t, tl, countHeader("SYSCALL"))
		if fmt.Sprint(rows) != fmt.Sprint(tc.want) {
			t.Errorf("%v: rows %q, want %q", tc.args, rows, tc.want)
		}
	}
}

// TestIntervalDuration: -i 1 -d 2 prints two rounds and ends by itself, as bcc's loop.
func TestIntervalDuration(t *testing.T) {
	t.Parallel()
	tl := start(t, "Tracing syscall 'getpgid'... Ctrl+C to quit.", "-i", "1", "-d", "2", "--syscall", "getpgid")
	for i := range 2 {
		calls(unix.SYS_GETPGID, 100)
		if rows := round(t, tl, countHeader("SYSCALL")); len(rows) > 1 {
			t.Errorf("round %d: rows %q, want at most one", i, rows)
		}
	}
	if l := tl.Next(10 * time.Second); l != footer {
		t.Errorf("after two rounds %q, want %q", l, footer)
	}
	if err := tl.Cmd.Wait(); err != nil {
		t.Errorf("ecli: %v\nstderr: %s", err, tl.Stderr)
	}
	if rest := tl.All(); len(rest) != 1+2*3+1+countRows(rest) {
		t.Errorf("output %q: want the banner, two rounds and the footer", rest)
	}
}

func countRows(lines []string) int {
	n := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "getpgid ") {
			n++
		}
	}
	return n
}

// TestJSON: JSON prints no banner to wait on, and tracepoint links cannot be seen on 5.10:
// with -i 1, make calls until a round has the row.
func TestJSON(t *testing.T) {
	t.Parallel()
	tl := tooltest.Start(t, "syscount", "--json", "-i", "1", "-p", strconv.Itoa(os.Getpid()), "--syscall", "getegid")
	want := regexp.MustCompile(`^\{"key":\{"sys":"getegid","pid":0\},"value":\{"comm":"","count":([1-9][0-9]*),"lat_us":0,"lat_ms":0\}\}$`)
	for deadline := time.Now().Add(60 * time.Second); ; {
		calls(unix.SYS_GETEGID, 400)
		l, ok := tl.Poll(1500 * time.Millisecond)
		if ok {
			if !want.MatchString(l) {
				t.Errorf("JSON:\n got %s\nwant %s", l, want)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no JSON row within 60 s\nstderr: %s", tl.Stderr)
		}
	}
	tl.Stop()
}

func TestNoLeaks(t *testing.T) {
	testutils.RequirePrivileged(t)
	before := testutils.Snapshot(t)
	tl := tooltest.Start(t, "syscount", "-L")
	tl.WaitHeader(banner)
	tl.Stop()
	testutils.WaitNoLeaks(t, before, "sys_enter", "sys_exit", "start", "data")
}
