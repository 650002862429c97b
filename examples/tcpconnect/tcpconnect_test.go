package tcpconnect_test

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"ecli/internal/testutils"
	"ecli/internal/testutils/tooltest"
	"ecli/runner"
)

func TestMain(m *testing.M) { tooltest.Main(m) }

// bcc python tcpconnect's format strings (tools/tcpconnect.py, trace mode, no -d: the
// last %s is the empty QUERY column).
const (
	pyHeaderTS    = "%-9s"
	pyHeaderUID   = "%-6s"
	pyHeader      = "%-7s %-12s %-2s %-16s %-16s %-6s"
	pyHeaderLport = "%-7s %-12s %-2s %-16s %-6s %-16s %-6s"
	pyRowTS       = "%-9.3f"
	pyRowUID      = "%-6d"
	pyRow         = "%-7d %-12.12s %-2d %-16s %-16s %-6d %s"
	pyRowLport    = "%-7d %-12.12s %-2d %-16s %-6d %-16s %-6d %s"
)

// flags are the output-shaping flags of one run.
type flags struct{ ts, uid, lport bool }

func (f flags) args() []string {
	var a []string
	if f.ts {
		a = append(a, "-t")
	}
	if f.uid {
		a = append(a, "-U")
	}
	if f.lport {
		a = append(a, "-L")
	}
	return a
}

func (f flags) name() string { return strings.Join(append([]string{"flags"}, f.args()...), "") }

// trim drops trailing blanks: bcc pads its last column and ends rows with an empty QUERY
// field, ecli never pads the last column. Everything else must match byte for byte.
func trim(s string) string { return strings.TrimRight(s, " ") }

func bccHeader(f flags) string {
	s := ""
	if f.ts {
		s += fmt.Sprintf(pyHeaderTS, "TIME(s)")
	}
	if f.uid {
		s += fmt.Sprintf(pyHeaderUID, "UID")
	}
	if f.lport {
		s += fmt.Sprintf(pyHeaderLport, "PID", "COMM", "IP", "SADDR", "LPORT", "DADDR", "DPORT")
	} else {
		s += fmt.Sprintf(pyHeader, "PID", "COMM", "IP", "SADDR", "DADDR", "DPORT")
	}
	return trim(s)
}

// row is one decoded event, as bcc's python prints it.
type row struct {
	ts           float64
	uid          uint32
	pid          uint32
	comm         string
	ip           int
	saddr, daddr string
	lport, dport uint16
}

func bccLine(f flags, r row) string {
	s := ""
	if f.ts {
		s += fmt.Sprintf(pyRowTS, r.ts)
	}
	if f.uid {
		s += fmt.Sprintf(pyRowUID, r.uid)
	}
	if f.lport {
		s += fmt.Sprintf(pyRowLport, r.pid, r.comm, r.ip, r.saddr, r.lport, r.daddr, r.dport, "")
	} else {
		s += fmt.Sprintf(pyRow, r.pid, r.comm, r.ip, r.saddr, r.daddr, r.dport, "")
	}
	return trim(s)
}

func parseLine(f flags, line string) (row, error) {
	fs := strings.Fields(line)
	want := 6
	for _, on := range []bool{f.ts, f.uid, f.lport} {
		if on {
			want++
		}
	}
	if len(fs) != want {
		return row{}, fmt.Errorf("line %q: %d fields, want %d", line, len(fs), want)
	}
	var r row
	var err error
	num := func(s string) uint64 {
		n, e := strconv.ParseUint(s, 10, 64)
		if e != nil && err == nil {
			err = fmt.Errorf("line %q: %q: %v", line, s, e)
		}
		return n
	}
	if f.ts {
		var e error
		if r.ts, e = strconv.ParseFloat(fs[0], 64); e != nil {
			return r, fmt.Errorf("line %q: %v", line, e)
		}
		fs = fs[1:]
	}
	if f.uid {
		r.uid, fs = uint32(num(fs[0])), fs[1:]
	}
	r.pid, r.comm, r.ip, r.saddr = uint32(num(fs[0])), fs[1], int(num(fs[2])), fs[3]
	fs = fs[4:]
	if f.lport {
		r.lport, fs = uint16(num(fs[0])), fs[1:]
	}
	r.daddr, r.dport = fs[0], uint16(num(fs[1]))
	return r, err
}

// --- tests without privileges ---------------------------------------------------------------

func builtin(t *testing.T) *runner.Package {
	t.Helper()
	return tooltest.Builtin(t, "tcpconnect")
}

func TestPackageOptions(t *testing.T) {
	pkg := builtin(t)
	for _, tc := range []struct{ global, long, short string }{
		{"targ_pid", "pid", "p"},
		{"targ_uid", "uid", "u"},
		{"targ_ports", "port", "P"},
		{"targ_timestamp", "timestamp", "t"},
		{"targ_print_uid", "print-uid", "U"},
		{"targ_lport", "lport", "L"},
		{"targ_ipv4", "ipv4", "4"},
		{"targ_ipv6", "ipv6", "6"},
		{"targ_count", "count", "c"},
	} {
		o := pkg.OptionByFlag(tc.long)
		if o == nil {
			t.Errorf("no option --%s", tc.long)
			continue
		}
		if o.Name != tc.global || o.Short != tc.short {
			t.Errorf("--%s: %s -%s, want %s -%s", tc.long, o.Name, o.Short, tc.global, tc.short)
		}
	}
	if err := pkg.NewValues().Set("targ_ports", "80,443,8080"); err != nil {
		t.Error(err)
	}
	if err := pkg.NewValues().Set("targ_ports", strings.Repeat("1", 200)); err == nil {
		t.Error("a -P list longer than the global was accepted")
	}
}

// event is libbpf-tools' tcpconnect struct event (tcpconnect.h).
type event struct {
	Saddr [16]byte
	Daddr [16]byte
	Task  [16]byte
	TsUS  uint64
	Af    uint32
	Pid   uint32
	Uid   uint32
	Sport uint16
	Dport uint16
	// -d (ecli's additions after libbpf-tools' layout)
	DNSDelayUS uint64
	Query      [256]byte
}

func mkEvent(t *testing.T, r row, tsUS uint64) []byte {
	t.Helper()
	e := event{TsUS: tsUS, Pid: r.pid, Uid: r.uid, Sport: r.lport, Dport: r.dport}
	copy(e.Task[:15], r.comm)
	sa, da := netip.MustParseAddr(r.saddr), netip.MustParseAddr(r.daddr)
	if r.ip == 4 {
		e.Af = unix.AF_INET
		s4, d4 := sa.As4(), da.As4()
		copy(e.Saddr[:], s4[:])
		copy(e.Daddr[:], d4[:])
	} else {
		e.Af = unix.AF_INET6
		e.Saddr, e.Daddr = sa.As16(), da.As16()
	}
	b, err := binary.Append(nil, binary.NativeEndian, e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEventLayout(t *testing.T) {
	plans, err := tooltest.Plans(builtin(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	p := plans["events"]
	if p == nil {
		t.Fatalf("no plan for map events: %v", plans)
	}
	if got, want := p.Size(), uint32(binary.Size(event{})); got != want {
		t.Fatalf("event size %d, want %d (libbpf-tools layout)", got, want)
	}
	want := map[string]uint32{"saddr": 0, "daddr": 16, "task": 32, "ts_us": 48, "af": 56, "pid": 60, "uid": 64, "sport": 68, "dport": 70,
		"dns_delay_us": 72, "query": 80}
	got := map[string]uint32{}
	for _, f := range p.Fields() {
		got[f.Name] = f.Offset
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fields (name: offset):\n got %v\nwant %v", got, want)
	}
}

var allFlags = func() []flags {
	var out []flags
	for i := 0; i < 8; i++ {
		out = append(out, flags{ts: i&1 != 0, uid: i&2 != 0, lport: i&4 != 0})
	}
	return out
}()

func TestGoldenFormat(t *testing.T) {
	events := []struct {
		r    row
		tsUS uint64
	}{
		{row{uid: 1000, pid: 1479, comm: "telnet", ip: 4, saddr: "127.0.0.1", daddr: "127.0.0.1", lport: 40000, dport: 23}, 31_871_000},
		{row{uid: 0, pid: 2015, comm: "ssh", ip: 6, saddr: "fe80::2000:bff:fe82:3ac", daddr: "fe80::2000:bff:fe82:3ac", lport: 52328, dport: 22}, 31_874_000},
		{row{uid: 65534, pid: 4194304, comm: "amazon-ssm-agent", ip: 4, saddr: "10.66.75.54", daddr: "176.32.119.67", lport: 65535, dport: 443}, 90_917_000},
		{row{uid: 12345, pid: 1, comm: "x", ip: 6, saddr: "::1", daddr: "::ffff:1.2.3.4", lport: 0, dport: 65535}, 90_917_001},
	}
	for _, f := range allFlags {
		t.Run(f.name(), func(t *testing.T) {
			pkg := builtin(t)
			values := pkg.NewValues()
			for name, on := range map[string]bool{"targ_timestamp": f.ts, "targ_print_uid": f.uid, "targ_lport": f.lport} {
				if err := values.Set(name, strconv.FormatBool(on)); err != nil {
					t.Fatal(err)
				}
			}
			plans, err := tooltest.Plans(pkg, values)
			if err != nil {
				t.Fatal(err)
			}
			p := plans["events"]
			if got, want := p.Header(), bccHeader(f); got != want {
				t.Errorf("header:\n got %q\nwant %q", got, want)
			}
			for _, ev := range events {
				r := ev.r
				r.ts = float64(ev.tsUS-events[0].tsUS) / 1e6
				got, err := p.AppendText(nil, mkEvent(t, ev.r, ev.tsUS))
				if err != nil {
					t.Fatal(err)
				}
				if want := bccLine(f, r); string(got) != want {
					t.Errorf("row:\n got %q\nwant %q", got, want)
				}
			}
		})
	}
}

func TestJSONFields(t *testing.T) {
	plans, err := tooltest.Plans(builtin(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := row{uid: 1000, pid: 42, comm: "curl", ip: 4, saddr: "10.0.0.1", daddr: "10.0.0.2", lport: 1234, dport: 443}
	js, err := plans["events"].AppendJSON(nil, mkEvent(t, r, 99))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(js, &got); err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	checkJSON(t, got, r)
}

func checkJSON(t *testing.T, got map[string]any, r row) {
	t.Helper()
	af := float64(unix.AF_INET)
	if r.ip == 6 {
		af = unix.AF_INET6
	}
	want := map[string]any{
		"pid": float64(r.pid), "uid": float64(r.uid), "task": r.comm, "af": af, "saddr": r.saddr, "daddr": r.daddr,
		"sport": float64(r.lport), "dport": float64(r.dport),
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("JSON %s = %#v, want %#v (event %v)", k, got[k], v, got)
		}
	}
	if _, ok := got["ts_us"].(float64); !ok {
		t.Errorf("JSON ts_us = %#v, want a number", got["ts_us"])
	}
}

// --- privileged end-to-end tests ------------------------------------------------------------

// tool is a running `ecli run tcpconnect ARGS...`.
type tool struct{ *tooltest.Tool }

func startTool(t *testing.T, args ...string) *tool {
	t.Helper()
	return &tool{tooltest.Start(t, "tcpconnect", args...)}
}

// waitHeader reads the header (printed once the programs are attached).
func (tl *tool) waitHeader(f flags) {
	tl.T.Helper()
	tl.WaitHeader(bccHeader(f))
}

// collect returns the parsed lines of pid until one satisfies stop.
func (tl *tool) collect(f flags, pid uint32, timeout time.Duration, stop func(row) bool) []row {
	tl.T.Helper()
	parse := tooltest.Exact(tl.T, func(l string) (row, error) { return parseLine(f, l) }, func(r row) string { return bccLine(f, r) })
	return tooltest.Collect(tl.Tool, timeout, parse, func(r row) bool { return r.pid == pid }, stop)
}

// dialMapped connects an AF_INET6 socket to ::ffff:127.0.0.1:port (Go's net package
// refuses mapped addresses on tcp6, so use the socket API).
func dialMapped(t *testing.T, p uint16) (lport uint16) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	to := &unix.SockaddrInet6{Port: int(p), Addr: netip.MustParseAddr("::ffff:127.0.0.1").As16()}
	if err := unix.Connect(fd, to); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return uint16(sa.(*unix.SockaddrInet6).Port)
}

func TestLoopback(t *testing.T) {
	for _, f := range []flags{{}, {lport: true, uid: true}} {
		t.Run(f.name(), func(t *testing.T) {
			tl := startTool(t, f.args()...)
			tl.waitHeader(f)
			pid, comm := tooltest.Self(t)
			ln4 := tooltest.Listener(t, "tcp4", "127.0.0.1:0")
			ln6 := tooltest.Listener(t, "tcp6", "[::1]:0")
			for _, tc := range []struct {
				name, ip string
				ipv      int
				dport    uint16
				connect  func() uint16
			}{
				{"ipv4", "127.0.0.1", 4, tooltest.Port(ln4.Addr()), func() uint16 { return tooltest.Dial(t, "tcp4", ln4.Addr()) }},
				{"ipv6", "::1", 6, tooltest.Port(ln6.Addr()), func() uint16 { return tooltest.Dial(t, "tcp6", ln6.Addr()) }},
				// bcc hooks tcp_v4_connect, which shows an IPv4-mapped connect as IPv4.
				{"mapped", "127.0.0.1", 4, tooltest.Port(ln4.Addr()), func() uint16 { return dialMapped(t, tooltest.Port(ln4.Addr())) }},
			} {
				lport := tc.connect()
				rows := tl.collect(f, pid, 10*time.Second, func(r row) bool { return r.dport == tc.dport })
				if len(rows) != 1 {
					t.Errorf("%s: %d lines of ours, want 1: %v", tc.name, len(rows), rows)
				}
				want := row{pid: pid, comm: tooltest.TextComm(comm), ip: tc.ipv, saddr: tc.ip, daddr: tc.ip, dport: tc.dport}
				if f.lport {
					want.lport = lport
				}
				if got := rows[len(rows)-1]; got != want {
					t.Errorf("%s:\n got %+v\nwant %+v", tc.name, got, want)
				}
			}
			tl.Stop()
		})
	}
}

// TestFailedConnects: bcc traces every connect whose tcp_v[46]_connect succeeded, "even if
// they ultimately fail": refused (RST) and timed-out connects are shown.
func TestFailedConnects(t *testing.T) {
	for _, f := range []flags{{}, {lport: true}} {
		t.Run(f.name(), func(t *testing.T) {
			tl := startTool(t, f.args()...)
			tl.waitHeader(f)
			pid, _ := tooltest.Self(t)

			closed := tooltest.Port(tooltest.ClosedPort(t, "tcp4", "127.0.0.1:0"))
			_, refused, err := tooltest.RawConnect(t, closed, 0)
			if !errors.Is(err, syscall.ECONNREFUSED) {
				t.Fatalf("connect to a closed port: %v, want ECONNREFUSED", err)
			}
			rows := tl.collect(f, pid, 10*time.Second, func(r row) bool { return r.dport == closed })
			if r := rows[len(rows)-1]; f.lport && r.lport != refused {
				t.Errorf("refused connect: %+v, want LPORT %d", r, refused)
			}

			_, full := tooltest.RawListen(t, 0)
			if _, _, err := tooltest.RawConnect(t, full, 0); err != nil { // fills the accept queue
				t.Fatal(err)
			}
			_, timedOut, err := tooltest.RawConnect(t, full, 1) // SYN + 1 retry, ETIMEDOUT after ~3 s
			if !errors.Is(err, unix.ETIMEDOUT) {
				t.Fatalf("connect to a full queue with TCP_SYNCNT=1: %v, want ETIMEDOUT", err)
			}
			seen := 0
			rows = tl.collect(f, pid, 10*time.Second, func(r row) bool {
				if r.dport == full {
					seen++
				}
				return seen == 2
			})
			if len(rows) != 2 || (f.lport && rows[1].lport != timedOut) {
				t.Errorf("lines for the two connects to the full listener (the second timed out from lport %d): %+v", timedOut, rows)
			}
			tl.Stop()
		})
	}
}

func TestPIDFilter(t *testing.T) {
	ln := tooltest.Listener(t, "tcp4", "127.0.0.1:0")
	child := tooltest.StartHelper(t, ln.Addr().String())

	f := flags{lport: true}
	tl := startTool(t, append(f.args(), "-p", strconv.Itoa(child.Pid()))...)
	tl.waitHeader(f)
	tooltest.Dial(t, "tcp4", ln.Addr()) // not the child: filtered out
	childPort := child.Connect()
	r, err := parseLine(f, tl.Next(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	want := row{pid: uint32(child.Pid()), comm: tooltest.TextComm(filepath.Base(child.Exe)), ip: 4, saddr: "127.0.0.1", daddr: "127.0.0.1",
		lport: childPort, dport: tooltest.Port(ln.Addr())}
	if r != want {
		t.Errorf("with -p:\n got %+v\nwant %+v", r, want)
	}
	tl.Stop()
	if all := tl.All(); len(all) != 2 {
		t.Errorf("-p %d printed %q, want the header and one line", child.Pid(), all)
	}
}

// TestUIDFilter connects from a copy of the test binary running as nobody: -u shows only
// it, -U prints its UID.
func TestUIDFilter(t *testing.T) {
	const nobody = 65534
	ln := tooltest.Listener(t, "tcp4", "127.0.0.1:0")
	f := flags{uid: true}
	tl := startTool(t, append(f.args(), "-u", strconv.Itoa(nobody))...)
	tl.waitHeader(f)
	tooltest.Dial(t, "tcp4", ln.Addr()) // uid 0: filtered out

	// go test's build directory is private to root: copy the binary where nobody can run it.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "tcpconnect-uid-") // t.TempDir's parent is private
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	helper := filepath.Join(dir, "tcpconnect.test")
	if err := os.WriteFile(helper, data, 0o755); err != nil {
		t.Fatal(err)
	}
	child := tooltest.HelperCommand(helper, ln.Addr().String())
	child.Dir = dir
	child.Stdin = strings.NewReader("go\n")
	child.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := child.CombinedOutput()
	if err != nil {
		t.Fatalf("helper as uid %d: %v: %s", nobody, err, out)
	}
	childPort, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("helper output %q: %v", out, err)
	}
	var r row
	for r.pid != uint32(child.Process.Pid) {
		if r, err = parseLine(f, tl.Next(10*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	want := row{uid: nobody, pid: uint32(child.Process.Pid), comm: tooltest.TextComm("tcpconnect.test"), ip: 4, saddr: "127.0.0.1", daddr: "127.0.0.1", dport: tooltest.Port(ln.Addr())}
	if r != want {
		t.Errorf("with -u %d:\n got %+v\nwant %+v (helper's local port %d)", nobody, r, want, childPort)
	}
	tl.Stop()
	for _, l := range tl.All()[1:] { // other processes may run as nobody too
		if r, err := parseLine(f, l); err != nil || r.uid != nobody {
			t.Errorf("-u %d printed %q", nobody, l)
		}
	}
}

func TestPortFilter(t *testing.T) {
	var lns []*net.TCPListener
	for range 3 {
		lns = append(lns, tooltest.Listener(t, "tcp4", "127.0.0.1:0"))
	}
	f := flags{}
	tl := startTool(t, "-P", fmt.Sprintf("%d,%d", tooltest.Port(lns[0].Addr()), tooltest.Port(lns[2].Addr())))
	tl.waitHeader(f)
	pid, _ := tooltest.Self(t)
	for _, ln := range lns {
		tooltest.Dial(t, "tcp4", ln.Addr())
	}
	rows := tl.collect(f, pid, 10*time.Second, func(r row) bool { return r.dport == tooltest.Port(lns[2].Addr()) })
	if len(rows) != 2 || rows[0].dport != tooltest.Port(lns[0].Addr()) {
		t.Errorf("-P %d,%d printed %+v", tooltest.Port(lns[0].Addr()), tooltest.Port(lns[2].Addr()), rows)
	}
	tl.Stop()
}

func TestFamilyFilter(t *testing.T) {
	for _, tc := range []struct {
		flag string
		ipv  int
	}{{"-4", 4}, {"-6", 6}} {
		t.Run(tc.flag, func(t *testing.T) {
			ln4 := tooltest.Listener(t, "tcp4", "127.0.0.1:0")
			ln6 := tooltest.Listener(t, "tcp6", "[::1]:0")
			f := flags{}
			tl := startTool(t, tc.flag)
			tl.waitHeader(f)
			pid, _ := tooltest.Self(t)
			// Twice, so that a line of the other family would show before the last one.
			for range 2 {
				tooltest.Dial(t, "tcp4", ln4.Addr())
				tooltest.Dial(t, "tcp6", ln6.Addr())
			}
			last := tooltest.Port(ln4.Addr())
			if tc.ipv == 6 {
				last = tooltest.Port(ln6.Addr())
			}
			n := 0
			rows := tl.collect(f, pid, 10*time.Second, func(r row) bool {
				if r.dport == last {
					n++
				}
				return n == 2
			})
			for _, r := range rows {
				if r.ip != tc.ipv {
					t.Errorf("%s printed %+v", tc.flag, r)
				}
			}
			tl.Stop()
		})
	}
}

func TestTimestamp(t *testing.T) {
	f := flags{ts: true}
	tl := startTool(t, f.args()...)
	tl.waitHeader(f)
	pid, _ := tooltest.Self(t)
	ln := tooltest.Listener(t, "tcp4", "127.0.0.1:0")
	const n = 5
	for range n {
		tooltest.Dial(t, "tcp4", ln.Addr())
		time.Sleep(50 * time.Millisecond) // the gap TIME(s) must show: a stimulus, not a wait
	}
	var rows []row
	prev, first := -1.0, true
	for len(rows) < n {
		l := tl.Next(10 * time.Second)
		r, err := parseLine(f, l)
		if err != nil {
			t.Fatal(err)
		}
		if want := bccLine(f, r); l != want {
			t.Errorf("line not in bcc's format:\n got %q\nwant %q", l, want)
		}
		if first && r.ts != 0 {
			t.Errorf("first event at TIME(s) %.3f, want 0.000", r.ts)
		}
		first = false
		if r.ts < prev {
			t.Errorf("TIME(s) went back: %.3f after %.3f", r.ts, prev)
		}
		prev = r.ts
		if r.pid == pid && r.dport == tooltest.Port(ln.Addr()) {
			rows = append(rows, r)
		}
	}
	for i := 1; i < len(rows); i++ {
		if d := rows[i].ts - rows[i-1].ts; d < 0.040 {
			t.Errorf("connects 50 ms apart are %.3f s apart in TIME(s)", d)
		}
	}
	tl.Stop()
}

func TestBurst(t *testing.T) {
	for _, f := range []flags{{}, {lport: true}} {
		t.Run(f.name(), func(t *testing.T) {
			tl := startTool(t, f.args()...)
			tl.waitHeader(f)
			pid, _ := tooltest.Self(t)
			ln := tooltest.Listener(t, "tcp4", "127.0.0.1:0")
			const n = 1000
			start := time.Now()
			for range n {
				tooltest.Dial(t, "tcp4", ln.Addr())
			}
			t.Logf("%d connects in %v", n, time.Since(start))
			sentinel := tooltest.Listener(t, "tcp4", "127.0.0.1:0")
			tooltest.Dial(t, "tcp4", sentinel.Addr())
			rows := tl.collect(f, pid, 30*time.Second, func(r row) bool { return r.dport == tooltest.Port(sentinel.Addr()) })
			got := 0
			for _, r := range rows {
				if r.dport == tooltest.Port(ln.Addr()) {
					got++
				}
			}
			if got != n {
				t.Errorf("%d connects, %d lines", n, got)
			}
			tl.Stop()
		})
	}
}

func TestJSONRun(t *testing.T) {
	tl := startTool(t, "--json", "-L")
	pid, comm := tooltest.Self(t)
	ln := tooltest.Listener(t, "tcp6", "[::1]:0")
	// No header in JSON mode: connect until an event shows that ecli is attached.
	var lport uint16
	var got map[string]any
	deadline := time.Now().Add(60 * time.Second)
	dialed := map[uint16]bool{} // every connect of ours: an event may arrive a pass late
	for got == nil {
		dialed[tooltest.Dial(t, "tcp6", ln.Addr())] = true
		for l, ok := tl.Poll(100 * time.Millisecond); ok && got == nil; l, ok = tl.Poll(10 * time.Millisecond) {
			var ev map[string]any
			if err := json.Unmarshal([]byte(l), &ev); err != nil {
				t.Fatalf("%q: %v", l, err)
			}
			if p, _ := ev["sport"].(float64); ev["pid"] == float64(pid) && ev["dport"] == float64(tooltest.Port(ln.Addr())) && dialed[uint16(p)] {
				got, lport = ev, uint16(p)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no event within 60 s\nstderr: %s", tl.Stderr)
		}
	}
	checkJSON(t, got, row{pid: pid, comm: comm, ip: 6, saddr: "::1", daddr: "::1", lport: lport, dport: tooltest.Port(ln.Addr())})
	tl.Stop()
}

func TestNoLeaks(t *testing.T) {
	testutils.RequirePrivileged(t)
	before := testutils.Snapshot(t)
	tl := startTool(t, "-L")
	tl.waitHeader(flags{lport: true})
	tl.Stop()
	testutils.WaitNoLeaks(t, before, "handle_set_state", "handle_destroy_sock", "start", "events", "counts", "cgroupset", "mount_ns_set")
}

// --- -c/--count -----------------------------------------------------------------------------

// bcc python tcpconnect's count-mode format strings: the header follows an empty line, a row
// is the flow then " %-10d" of the count.
const (
	pyCountHeader = "\n%-25s %-25s %-20s %-10s"
	pyCountFlow   = "%-25s %-25s %-20s"
	pyCountN      = " %-10d"
)

// flow is one row of the count table.
type flow struct {
	saddr, daddr string
	dport        uint16
	n            uint64
}

// bccCountHeader is the header line (after the empty line), trailing blanks trimmed.
func bccCountHeader() string {
	return trim(strings.TrimPrefix(fmt.Sprintf(pyCountHeader, "LADDR", "RADDR", "RPORT", "CONNECTS"), "\n"))
}

func bccCountLine(f flow) string {
	return trim(fmt.Sprintf(pyCountFlow, f.saddr, f.daddr, strconv.Itoa(int(f.dport))) + fmt.Sprintf(pyCountN, f.n))
}

// mkFlow is the counts map's key (struct flow_key) followed by its value (struct flow_count).
func mkFlow(t *testing.T, f flow) []byte {
	t.Helper()
	var key struct {
		Saddr, Daddr [16]byte
		Af           uint32
		Dport        uint16
		_            uint16
	}
	sa, da := netip.MustParseAddr(f.saddr), netip.MustParseAddr(f.daddr)
	if sa.Is4() {
		key.Af = unix.AF_INET
		s4, d4 := sa.As4(), da.As4()
		copy(key.Saddr[:], s4[:])
		copy(key.Daddr[:], d4[:])
	} else {
		key.Af = unix.AF_INET6
		key.Saddr, key.Daddr = sa.As16(), da.As16()
	}
	key.Dport = f.dport
	b, err := binary.Append(nil, binary.NativeEndian, key)
	if err != nil {
		t.Fatal(err)
	}
	return binary.NativeEndian.AppendUint64(b, f.n)
}

func parseCountLine(line string) (flow, error) {
	fs := strings.Fields(line)
	if len(fs) != 4 {
		return flow{}, fmt.Errorf("count line %q: %d fields, want 4", line, len(fs))
	}
	p, err1 := strconv.ParseUint(fs[2], 10, 16)
	n, err2 := strconv.ParseUint(fs[3], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return flow{}, fmt.Errorf("count line %q: %v", line, err)
	}
	return flow{fs[0], fs[1], uint16(p), n}, nil
}

func TestCountGolden(t *testing.T) {
	pkg := builtin(t)
	values := pkg.NewValues()
	if err := values.Set("targ_count", "true"); err != nil {
		t.Fatal(err)
	}
	plans, err := tooltest.Plans(pkg, values)
	if err != nil {
		t.Fatal(err)
	}
	p := plans["counts"]
	if p == nil {
		t.Fatalf("no plan for map counts: %v", plans)
	}
	if got, want := p.Header(), bccCountHeader(); got != want {
		t.Errorf("header:\n got %q\nwant %q", got, want)
	}
	for _, f := range []flow{
		{"192.168.10.50", "172.217.21.194", 443, 70},
		{"127.0.0.1", "127.0.0.1", 65535, 1},
		{"fe80::2000:bff:fe82:3ac", "fe80::2000:bff:fe82:3ac", 22, 18446744073709551615},
		{"::ffff:1.2.3.4", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff", 0, 12345678901},
	} {
		got, err := p.AppendText(nil, mkFlow(t, f))
		if err != nil {
			t.Fatal(err)
		}
		if want := bccCountLine(f); string(got) != want {
			t.Errorf("row:\n got %q\nwant %q", got, want)
		}
	}
}

// waitCounting connects to ln until the new counts map (of the ecli started after before)
// holds an entry: from then on the program is attached and counting.
func waitCounting(t *testing.T, before testutils.Objects, ln *net.TCPListener) {
	t.Helper()
	counting := func() bool {
		m := newMapNamed(t, before, "counts")
		if m == nil {
			return false
		}
		defer m.Close()
		tooltest.Dial(t, "tcp4", ln.Addr())
		var k, v []byte
		return m.Iterate().Next(&k, &v)
	}
	testutils.WaitFor(t, 60*time.Second, "ecli -c to start counting", counting)
}

// newMapNamed opens a map called name that was not in before, or returns nil.
func newMapNamed(t *testing.T, before testutils.Objects, name string) *ebpf.Map {
	for id := range testutils.Snapshot(t).Maps {
		if before.Maps[id] {
			continue
		}
		m, err := ebpf.NewMapFromID(id)
		if err != nil {
			continue
		}
		if info, err := m.Info(); err == nil && info.Name == name {
			return m
		}
		m.Close()
	}
	return nil
}

var jsonUnmarshal = json.Unmarshal

func TestCount(t *testing.T) {
	testutils.RequirePrivileged(t)
	warm := tooltest.Listener(t, "tcp4", "127.0.0.1:0")
	ln4 := tooltest.Listener(t, "tcp4", "127.0.0.1:0")
	ln6 := tooltest.Listener(t, "tcp6", "[::1]:0")
	closed := tooltest.Port(tooltest.ClosedPort(t, "tcp4", "127.0.0.1:0"))
	for _, json := range []bool{false, true} {
		t.Run(fmt.Sprintf("json=%v", json), func(t *testing.T) {
			before := testutils.Snapshot(t)
			args := []string{"-c"}
			if json {
				args = append(args, "--json")
			}
			tl := startTool(t, args...)
			waitCounting(t, before, warm)
			for range 3 {
				tooltest.Dial(t, "tcp4", ln4.Addr())
			}
			dialMapped(t, tooltest.Port(ln4.Addr())) // counted as IPv4, as in bcc
			for range 2 {
				tooltest.Dial(t, "tcp6", ln6.Addr())
			}
			if _, _, err := tooltest.RawConnect(t, closed, 0); !errors.Is(err, syscall.ECONNREFUSED) {
				t.Fatalf("connect to a closed port: %v, want ECONNREFUSED", err)
			}
			tl.Stop()
			lines := tl.All()
			want := map[uint16]flow{
				tooltest.Port(ln4.Addr()): {"127.0.0.1", "127.0.0.1", tooltest.Port(ln4.Addr()), 4},
				tooltest.Port(ln6.Addr()): {"::1", "::1", tooltest.Port(ln6.Addr()), 2},
				closed:                    {"127.0.0.1", "127.0.0.1", closed, 1},
			}
			var rows []flow
			if json {
				for _, l := range lines {
					var e struct {
						Key struct {
							Laddr, Raddr string
							Af           uint32
							Dport        uint16 // JSON keys: the member names
						}
						Value struct{ Connects uint64 }
					}
					if err := jsonUnmarshal([]byte(l), &e); err != nil || e.Key.Laddr == "" {
						t.Fatalf("%q is not a count entry (%v)", l, err)
					}
					rows = append(rows, flow{e.Key.Laddr, e.Key.Raddr, e.Key.Dport, e.Value.Connects})
				}
			} else {
				if len(lines) < 2 || lines[0] != "" || lines[1] != bccCountHeader() {
					t.Fatalf("output does not start with an empty line and the header %q:\n%s", bccCountHeader(), strings.Join(lines, "\n"))
				}
				for _, l := range lines[2:] {
					f, err := parseCountLine(l)
					if err != nil {
						t.Fatal(err)
					}
					if l != bccCountLine(f) {
						t.Errorf("line not in bcc's format:\n got %q\nwant %q", l, bccCountLine(f))
					}
					rows = append(rows, f)
				}
				// bcc: IPv4 rows, then IPv6 rows, each by count, descending.
				for i := 1; i < len(rows); i++ {
					a, b := rows[i-1], rows[i]
					v4a, v4b := netip.MustParseAddr(a.saddr).Is4(), netip.MustParseAddr(b.saddr).Is4()
					if (!v4a && v4b) || (v4a == v4b && a.n < b.n) {
						t.Errorf("rows out of order: %+v before %+v", a, b)
					}
				}
			}
			for _, r := range rows {
				if w, ok := want[r.dport]; ok {
					if r != w {
						t.Errorf("row %+v, want %+v", r, w)
					}
					delete(want, r.dport)
				}
			}
			for _, w := range want {
				t.Errorf("no row for %+v in:\n%s", w, strings.Join(lines, "\n"))
			}
		})
	}
}

// --- -d/--dns, --cgroupmap, --mntnsmap ------------------------------------------------------

// TestDNSWithCount: -d and -c together are refused as bcc refuses them, before loading.
func TestDNSWithCount(t *testing.T) {
	pkg := builtin(t)
	o := pkg.OptionByFlag("dns")
	if o == nil || o.Short != "d" || o.Unsupported != "" {
		t.Fatalf("option --dns: %+v", o)
	}
	v := pkg.NewValues()
	if err := v.Set("targ_count", "true"); err != nil {
		t.Fatal(err)
	}
	if err := v.Set(o.Name, "true"); !errors.Is(err, runner.ErrBadOption) {
		t.Errorf("setting --dns after --count: %v, want ErrBadOption", err)
	}
	testutils.RequirePrivileged(t)
	for _, args := range [][]string{{"-d", "-c"}, {"--count", "--dns"}} {
		cmd := exec.Command(tooltest.Ecli(t), append([]string{"run", "tcpconnect"}, args...)...)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 {
			t.Errorf("%v: %v, want exit status 2", args, err)
		}
		if want := "ecli: tcpconnect: you may not specify -d/--dns with -c/--count\n"; stderr.String() != want || stdout.Len() != 0 {
			t.Errorf("%v: stderr %q, stdout %q; want stderr %q", args, stderr.String(), stdout.String(), want)
		}
	}
}

// cgroupID is the cgroup v2 id of this process: the inode of its cgroup's directory under
// the cgroup2 mount (what bpf_get_current_cgroup_id returns).
func cgroupID(t *testing.T) uint64 {
	t.Helper()
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	mnt := ""
	for _, l := range strings.Split(string(mi), "\n") {
		pre, post, ok := strings.Cut(l, " - ")
		if f := strings.Fields(pre); ok && len(f) >= 5 && strings.HasPrefix(post, "cgroup2 ") {
			mnt = f[4]
			break
		}
	}
	testutils.SkipUnless(t, mnt != "", "no cgroup v2 mount (bpf_get_current_cgroup_id needs one)")
	cg, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	path := ""
	for _, l := range strings.Split(string(cg), "\n") {
		if p, ok := strings.CutPrefix(l, "0::"); ok {
			path = p
		}
	}
	if path == "" {
		t.Fatalf("no cgroup v2 line in /proc/self/cgroup: %q", cg)
	}
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(mnt, path), &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

func mntnsID(t *testing.T) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/ns/mnt", &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// TestContainerMaps: bcc's --cgroupmap / --mntnsmap with real pinned maps. A map without
// this process's id hides its connects; once the id is added (while ecli runs, as bcc's
// docs/special_filtering.md allows) they show.
func TestContainerMaps(t *testing.T) {
	testutils.RequirePrivileged(t)
	for _, tc := range []struct {
		flag      string
		valueSize uint32
		id        func(*testing.T) uint64
	}{
		{"--cgroupmap", 8, cgroupID},
		{"--mntnsmap", 4, mntnsID},
	} {
		t.Run(tc.flag, func(t *testing.T) {
			id := tc.id(t)
			path := filepath.Join(testutils.BPFFSDir(t), "set")
			m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Hash, KeySize: 8, ValueSize: tc.valueSize, MaxEntries: 128})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			zero := make([]byte, tc.valueSize)
			if err := m.Put(id+1000003, zero); err != nil { // somebody else
				t.Fatal(err)
			}
			if err := m.Pin(path); err != nil {
				t.Fatal(err)
			}
			hidden := tooltest.Listener(t, "tcp4", "127.0.0.1:0")
			shown := tooltest.Listener(t, "tcp4", "127.0.0.1:0")
			f := flags{}
			tl := startTool(t, tc.flag, path)
			tl.waitHeader(f)
			pid, _ := tooltest.Self(t)
			tooltest.Dial(t, "tcp4", hidden.Addr())
			if err := m.Put(id, zero); err != nil {
				t.Fatal(err)
			}
			tooltest.Dial(t, "tcp4", shown.Addr())
			rows := tl.collect(f, pid, 10*time.Second, func(r row) bool { return r.dport == tooltest.Port(shown.Addr()) })
			for _, r := range rows {
				if r.dport == tooltest.Port(hidden.Addr()) {
					t.Errorf("%s without our id showed %+v", tc.flag, r)
				}
			}
			tl.Stop()
		})
	}
}

func TestContainerMapErrors(t *testing.T) {
	testutils.RequirePrivileged(t)
	dir := testutils.BPFFSDir(t)
	wrong := filepath.Join(dir, "wrong")
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Hash, KeySize: 8, ValueSize: 8, MaxEntries: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Pin(wrong); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ flag, path, want string }{
		{"--cgroupmap", filepath.Join(dir, "missing"), "opening the pinned map: no such file"},
		{"--mntnsmap", wrong, "the pinned map is a Hash with 8-byte keys and 8-byte values, want a Hash with 8-byte keys and 4-byte values"},
	} {
		cmd := exec.Command(tooltest.Ecli(t), "run", "tcpconnect", tc.flag, tc.path)
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Errorf("%s %s: ran", tc.flag, tc.path)
			continue
		}
		want := "ecli: bad option: " + tc.flag + " " + tc.path + ": " + tc.want + "\n"
		if string(out) != want {
			t.Errorf("%s %s: output %q, want %q", tc.flag, tc.path, out, want)
		}
	}
}
