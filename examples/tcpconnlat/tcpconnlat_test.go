package tcpconnlat_test

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"reflect"
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

// bcc python tcpconnlat's format strings (tools/tcpconnlat.py).
const (
	pyHeaderTS    = "%-9s"
	pyHeader      = "%-7s %-12s %-2s %-16s %-16s %-5s %s"
	pyHeaderLport = "%-7s %-12s %-2s %-16s %-6s %-16s %-5s %s"
	pyRowTS       = "%-9.3f"
	pyRow         = "%-7d %-12.12s %-2d %-16s %-16s %-5d %.2f"
	pyRowLport    = "%-7d %-12.12s %-2d %-16s %-6d %-16s %-5d %.2f"
)

// flags are the output-shaping flags of one run.
type flags struct{ ts, lport bool }

func (f flags) args() []string {
	var a []string
	if f.ts {
		a = append(a, "-t")
	}
	if f.lport {
		a = append(a, "-L")
	}
	return a
}

func bccHeader(f flags) string {
	s := ""
	if f.ts {
		s = fmt.Sprintf(pyHeaderTS, "TIME(s)")
	}
	if f.lport {
		return s + fmt.Sprintf(pyHeaderLport, "PID", "COMM", "IP", "SADDR", "LPORT", "DADDR", "DPORT", "LAT(ms)")
	}
	return s + fmt.Sprintf(pyHeader, "PID", "COMM", "IP", "SADDR", "DADDR", "DPORT", "LAT(ms)")
}

// row is one decoded event, as bcc's python prints it.
type row struct {
	ts           float64 // seconds since the first event (-t)
	pid          uint32
	comm         string
	ip           int // 4 or 6
	saddr, daddr string
	lport, dport uint16
	latMS        float64
}

func bccLine(f flags, r row) string {
	s := ""
	if f.ts {
		s = fmt.Sprintf(pyRowTS, r.ts)
	}
	if f.lport {
		return s + fmt.Sprintf(pyRowLport, r.pid, r.comm, r.ip, r.saddr, r.lport, r.daddr, r.dport, r.latMS)
	}
	return s + fmt.Sprintf(pyRow, r.pid, r.comm, r.ip, r.saddr, r.daddr, r.dport, r.latMS)
}

// parseLine reads a text line of the tool back into a row (addresses must not overflow
// their column, which holds for loopback).
func parseLine(f flags, line string) (row, error) {
	fs := strings.Fields(line)
	want := 7
	if f.ts {
		want++
	}
	if f.lport {
		want++
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
	flt := func(s string) float64 {
		n, e := strconv.ParseFloat(s, 64)
		if e != nil && err == nil {
			err = fmt.Errorf("line %q: %q: %v", line, s, e)
		}
		return n
	}
	if f.ts {
		r.ts, fs = flt(fs[0]), fs[1:]
	}
	r.pid, r.comm, r.ip, r.saddr = uint32(num(fs[0])), fs[1], int(num(fs[2])), fs[3]
	fs = fs[4:]
	if f.lport {
		r.lport, fs = uint16(num(fs[0])), fs[1:]
	}
	r.daddr, r.dport, r.latMS = fs[0], uint16(num(fs[1])), flt(fs[2])
	return r, err
}

// --- tests without privileges: the package and its rendering -------------------------------

func builtin(t *testing.T) *runner.Package {
	t.Helper()
	return tooltest.Builtin(t, "tcpconnlat")
}

func TestPackageOptions(t *testing.T) {
	pkg := builtin(t)
	for _, tc := range []struct{ global, long, short string }{
		{"targ_tgid", "pid", "p"},
		{"targ_min_us", "min-ms", ""},
		{"targ_timestamp", "timestamp", "t"},
		{"targ_lport", "lport", "L"},
		{"targ_ipv4", "ipv4", "4"},
		{"targ_ipv6", "ipv6", "6"},
	} {
		o := pkg.OptionByFlag(tc.long)
		if o == nil {
			t.Errorf("no option --%s", tc.long)
			continue
		}
		if o.Name != tc.global {
			t.Errorf("--%s sets %s, want %s", tc.long, o.Name, tc.global)
		}
		if o.Short != tc.short {
			t.Errorf("--%s: short flag %q, want %q", tc.long, o.Short, tc.short)
		}
	}
	if o := pkg.Option("targ_min_us"); o == nil || o.Positional != 1 || o.Scale != 1000 || o.Metavar != "duration_ms" {
		t.Errorf("targ_min_us: %+v, want the positional duration_ms scaled by 1000", o)
	}
	// bcc's duration_ms is a float number of milliseconds; the global holds µs.
	for _, v := range []string{"0.5", "1", "1000"} {
		if err := pkg.NewValues().Set("targ_min_us", v); err != nil {
			t.Errorf("duration_ms %s: %v", v, err)
		}
	}
	for _, v := range []string{"abc", "-1"} {
		if err := pkg.NewValues().Set("targ_min_us", v); err == nil {
			t.Errorf("duration_ms %q accepted", v)
		}
	}
}

// event is libbpf-tools' struct event (tcpconnlat.h), which the BPF side writes.
type event struct {
	Saddr   [16]byte
	Daddr   [16]byte
	Comm    [16]byte
	DeltaUS uint64
	TsUS    uint64
	Tgid    uint32
	Af      int32
	Lport   uint16
	Dport   uint16
	_       [4]byte
}

func (e event) bytes(t *testing.T) []byte {
	t.Helper()
	b, err := binary.Append(nil, binary.NativeEndian, e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mkEvent(r row, tsUS uint64, deltaUS uint64) event {
	e := event{DeltaUS: deltaUS, TsUS: tsUS, Tgid: r.pid, Lport: r.lport, Dport: r.dport}
	copy(e.Comm[:15], r.comm)
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
	return e
}

func TestEventLayout(t *testing.T) {
	pkg := builtin(t)
	plans, err := tooltest.Plans(pkg, nil)
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
	want := map[string]uint32{"saddr": 0, "daddr": 16, "comm": 32, "delta_us": 48, "ts_us": 56, "tgid": 64, "af": 68, "lport": 72, "dport": 74}
	got := map[string]uint32{}
	for _, f := range p.Fields() {
		got[f.Name] = f.Offset
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fields (name: offset):\n got %v\nwant %v", got, want)
	}
}

// TestGoldenFormat renders events through the package's own display hints for every
// combination of -t and -L and compares with bcc's python format strings.
func TestGoldenFormat(t *testing.T) {
	events := []struct {
		r       row
		tsUS    uint64
		deltaUS uint64
	}{
		{row{pid: 1201, comm: "wget", ip: 4, saddr: "10.153.223.157", daddr: "23.23.100.231", lport: 40000, dport: 80}, 5_000_000, 1650},
		{row{pid: 20337, comm: "python2.7", ip: 6, saddr: "1234:ab12:2040:5020:2299:0:5:0", daddr: "1234:ab12:20:9f1d:2299:dde9:0:f5", lport: 40001, dport: 7001}, 5_500_000, 62200},
		{row{pid: 4194304, comm: "abcdefghijklmno", ip: 6, saddr: "::1", daddr: "::ffff:1.2.3.4", lport: 65535, dport: 65535}, 7_250_123, 0},
		{row{pid: 1, comm: "c", ip: 4, saddr: "0.0.0.0", daddr: "255.255.255.255", lport: 0, dport: 1}, 1_000_000_000 + 5_000_000, 123456789},
	}
	for _, f := range []flags{{}, {ts: true}, {lport: true}, {ts: true, lport: true}} {
		t.Run(strings.Join(append([]string{"flags"}, f.args()...), ""), func(t *testing.T) {
			pkg := builtin(t)
			values := pkg.NewValues()
			for name, on := range map[string]bool{"targ_timestamp": f.ts, "targ_lport": f.lport} {
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
			first := events[0].tsUS
			for _, ev := range events {
				r := ev.r
				r.ts = float64(ev.tsUS-first) / 1e6
				r.latMS = float64(ev.deltaUS) / 1000
				got, err := p.AppendText(nil, mkEvent(ev.r, ev.tsUS, ev.deltaUS).bytes(t))
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
	r := row{pid: 42, comm: "curl", ip: 6, saddr: "::1", daddr: "fe80::2000:bff:fe82:3ac", lport: 1234, dport: 443}
	js, err := plans["events"].AppendJSON(nil, mkEvent(r, 99, 1500).bytes(t))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(js, &got); err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	checkJSON(t, got, r, 1500)
}

// checkJSON checks the fields of one JSON event against r.
func checkJSON(t *testing.T, got map[string]any, r row, deltaUS float64) {
	t.Helper()
	af := float64(unix.AF_INET)
	if r.ip == 6 {
		af = unix.AF_INET6
	}
	want := map[string]any{
		"tgid": float64(r.pid), "comm": r.comm, "af": af, "saddr": r.saddr, "daddr": r.daddr,
		"lport": float64(r.lport), "dport": float64(r.dport),
	}
	if deltaUS >= 0 {
		want["delta_us"] = deltaUS
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("JSON %s = %#v, want %#v (event %v)", k, got[k], v, got)
		}
	}
	for _, k := range []string{"delta_us", "ts_us"} {
		if _, ok := got[k].(float64); !ok {
			t.Errorf("JSON %s = %#v, want a number", k, got[k])
		}
	}
}

// --- privileged end-to-end tests: ecli run tcpconnlat, real connects ----------------------

// tool is a running `ecli run tcpconnlat ARGS...`.
type tool struct{ *tooltest.Tool }

// startTool runs the built-in tcpconnlat; waitHeader (text mode) or a first event of the
// test's own (JSON mode) shows that it is attached.
func startTool(t *testing.T, args ...string) *tool {
	t.Helper()
	return &tool{tooltest.Start(t, "tcpconnlat", args...)}
}

// waitHeader reads the header line and checks it against bcc's.
func (tl *tool) waitHeader(f flags) {
	tl.T.Helper()
	tl.WaitHeader(bccHeader(f))
}

// collect returns the parsed lines of this process until one satisfies stop, checking
// every line against bcc's format.
func (tl *tool) collect(f flags, pid uint32, timeout time.Duration, stop func(row) bool) []row {
	tl.T.Helper()
	parse := tooltest.Exact(tl.T, func(l string) (row, error) { return parseLine(f, l) }, func(r row) string { return bccLine(f, r) })
	return tooltest.Collect(tl.Tool, timeout, parse, func(r row) bool { return r.pid == pid }, stop)
}

func TestLoopback(t *testing.T) {
	for _, f := range []flags{{}, {lport: true}} {
		t.Run(strings.Join(append([]string{"flags"}, f.args()...), ""), func(t *testing.T) {
			tl := startTool(t, f.args()...)
			tl.waitHeader(f)
			pid, comm := tooltest.Self(t)
			for _, tc := range []struct {
				network, addr, ip string
				ipv               int
			}{{"tcp4", "127.0.0.1:0", "127.0.0.1", 4}, {"tcp6", "[::1]:0", "::1", 6}} {
				ln := tooltest.Listener(t, tc.network, tc.addr)
				start := time.Now()
				lport := tooltest.Dial(t, tc.network, ln.Addr())
				wall := time.Since(start)
				rows := tl.collect(f, pid, 10*time.Second, func(r row) bool { return r.dport == tooltest.Port(ln.Addr()) })
				if len(rows) != 1 {
					t.Errorf("%s: %d lines of ours, want 1: %v", tc.network, len(rows), rows)
				}
				got := rows[len(rows)-1]
				want := row{pid: pid, comm: tooltest.TextComm(comm), ip: tc.ipv, saddr: tc.ip, daddr: tc.ip, dport: tooltest.Port(ln.Addr()), latMS: got.latMS}
				if f.lport {
					want.lport = lport
				}
				if got != want {
					t.Errorf("%s:\n got %+v\nwant %+v", tc.network, got, want)
				}
				checkFast(t, tc.network, got.latMS, wall)
			}
			tl.Stop()
		})
	}
}

func TestRefused(t *testing.T) {
	f := flags{lport: true}
	tl := startTool(t, f.args()...)
	tl.waitHeader(f)
	pid, _ := tooltest.Self(t)
	for _, tc := range []struct{ network, addr, ip string }{{"tcp4", "127.0.0.1:0", "127.0.0.1"}, {"tcp6", "[::1]:0", "::1"}} {
		to := tooltest.ClosedPort(t, tc.network, tc.addr)
		_, err := net.Dial(tc.network, to.String())
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("dial %s: %v, want ECONNREFUSED", to, err)
		}
		rows := tl.collect(f, pid, 10*time.Second, func(r row) bool { return r.dport == tooltest.Port(to) })
		if r := rows[len(rows)-1]; r.daddr != tc.ip || r.lport == 0 {
			t.Errorf("refused connect: %+v", r)
		}
	}
	tl.Stop()
}

// slowConnect makes a connect whose SYN is dropped once: a listen(0) listener whose one
// accept-queue slot is taken drops the SYN, the listener accepts 300 ms later, and the
// client's SYN retransmission (about 1 s after the first) completes the handshake.
// It returns the local ports of the fast connect that filled the queue and of the slow one,
// and how long each connect(2) took.
func slowConnect(t *testing.T) (fast, slow uint16, fastWall, slowWall time.Duration) {
	t.Helper()
	lfd, lport := tooltest.RawListen(t, 0)
	start := time.Now()
	_, fast, err := tooltest.RawConnect(t, lport, 0)
	if err != nil {
		t.Fatal(err)
	}
	fastWall = time.Since(start)
	overflows, err := tooltest.ListenOverflows()
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan error, 1)
	go func() {
		// Accept once the slow connect's first SYN was dropped (its retry then succeeds).
		if !tooltest.WaitListenOverflow(overflows, 5*time.Second) {
			accepted <- errors.New("the listener dropped no SYN within 5 s")
			return
		}
		nfd, _, err := unix.Accept(lfd)
		if err == nil {
			unix.Close(nfd)
		}
		accepted <- err
	}()
	start = time.Now()
	_, slow, err = tooltest.RawConnect(t, lport, 0)
	if err != nil {
		t.Fatal(err)
	}
	slowWall = time.Since(start)
	if err := <-accepted; err != nil {
		t.Fatal(err)
	}
	t.Logf("connect(2) took %v (fast) and %v (slow)", fastWall, slowWall)
	return fast, slow, fastWall, slowWall
}

// checkFast checks the latency of an ordinary loopback connect: under 10 ms, and never
// more than the connect(2) call took (SYN and SYN-ACK happen inside it). On a machine so
// slow (an emulated VM) that connect(2) itself took 10 ms or more, only the second holds.
func checkFast(t *testing.T, what string, latMS float64, wall time.Duration) {
	t.Helper()
	wallMS := float64(wall) / float64(time.Millisecond)
	if latMS > wallMS+0.01 {
		t.Errorf("%s: latency %.2f ms, but connect(2) took only %.3f ms", what, latMS, wallMS)
	}
	if latMS >= 10 && wallMS < 10 {
		t.Errorf("%s: loopback connect latency %.2f ms, want < 10", what, latMS)
	}
	if latMS >= 10 {
		t.Logf("%s: latency %.2f ms: connect(2) took %.3f ms on this machine", what, latMS, wallMS)
	}
}

func TestLatency(t *testing.T) {
	f := flags{lport: true}
	tl := startTool(t, f.args()...)
	tl.waitHeader(f)
	pid, _ := tooltest.Self(t)
	fast, slow, fastWall, slowWall := slowConnect(t)
	rows := tl.collect(f, pid, 10*time.Second, func(r row) bool { return r.lport == slow })
	lat := map[uint16]float64{}
	for _, r := range rows {
		lat[r.lport] = r.latMS
	}
	if l, ok := lat[fast]; !ok {
		t.Errorf("fast connect (lport %d) not shown", fast)
	} else {
		checkFast(t, "fast connect", l, fastWall)
	}
	if l := lat[slow]; l < 900 || l >= 3000 || l > float64(slowWall)/float64(time.Millisecond)+0.01 {
		t.Errorf("slow connect (lport %d): latency %.2f ms, want [900, 3000) and at most connect(2)'s %v", slow, l, slowWall)
	}
	t.Logf("fast %.2f ms, slow %.2f ms", lat[fast], lat[slow])
	tl.Stop()
}

// TestNotAnswered: a connect that times out, and one abandoned by close(2) while its SYN is
// unanswered, are not reported (bcc only sees connects the peer answers).
func TestNotAnswered(t *testing.T) {
	f := flags{lport: true}
	tl := startTool(t, f.args()...)
	tl.waitHeader(f)
	pid, _ := tooltest.Self(t)

	_, lport := tooltest.RawListen(t, 0)
	if _, _, err := tooltest.RawConnect(t, lport, 0); err != nil { // fills the accept queue
		t.Fatal(err)
	}
	start := time.Now()
	_, timedOut, err := tooltest.RawConnect(t, lport, 1) // SYN + 1 retry, then ETIMEDOUT (~3 s)
	if !errors.Is(err, unix.ETIMEDOUT) {
		t.Fatalf("connect to a full queue with TCP_SYNCNT=1: %v after %v, want ETIMEDOUT", err, time.Since(start))
	}
	overflows, err := tooltest.ListenOverflows()
	if err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Connect(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: int(lport)}); !errors.Is(err, unix.EINPROGRESS) {
		t.Fatalf("non-blocking connect: %v, want EINPROGRESS", err)
	}
	sa, _ := unix.Getsockname(fd)
	abandoned := uint16(sa.(*unix.SockaddrInet4).Port)
	// Abandon it once the full listener has dropped its SYN.
	if !tooltest.WaitListenOverflow(overflows, 5*time.Second) {
		t.Fatal("the full listener dropped no SYN of the non-blocking connect within 5 s")
	}
	unix.Close(fd)

	// Events arrive in order: once a later connect shows, the earlier ones would have.
	sentinel := tooltest.Listener(t, "tcp4", "127.0.0.1:0")
	tooltest.Dial(t, "tcp4", sentinel.Addr())
	rows := tl.collect(f, pid, 10*time.Second, func(r row) bool { return r.dport == tooltest.Port(sentinel.Addr()) })
	for _, r := range rows {
		if r.lport == timedOut || r.lport == abandoned {
			t.Errorf("unanswered connect reported: %+v", r)
		}
	}
	tl.Stop()
}

func TestPIDFilter(t *testing.T) {
	ln := tooltest.Listener(t, "tcp4", "127.0.0.1:0")
	child := tooltest.StartHelper(t, ln.Addr().String())

	f := flags{lport: true}
	tl := startTool(t, append(f.args(), "-p", strconv.Itoa(child.Pid()))...)
	tl.waitHeader(f)
	pid, _ := tooltest.Self(t)
	ownPort := tooltest.Dial(t, "tcp4", ln.Addr()) // filtered out: not the child's PID
	childPort := child.Connect()
	l := tl.Next(10 * time.Second)
	r, err := parseLine(f, l)
	if err != nil {
		t.Fatal(err)
	}
	want := row{pid: uint32(child.Pid()), comm: filepath.Base(child.Exe), ip: 4, saddr: "127.0.0.1", daddr: "127.0.0.1",
		lport: childPort, dport: tooltest.Port(ln.Addr()), latMS: r.latMS}
	want.comm = tooltest.TextComm(want.comm)
	if r != want {
		t.Errorf("with -p %d:\n got %+v\nwant %+v", child.Pid(), r, want)
	}
	tl.Stop()
	for _, l := range tl.All()[1:] {
		r, err := parseLine(f, l)
		if err != nil || r.pid != uint32(child.Pid()) || r.lport == ownPort || r.pid == pid {
			t.Errorf("-p %d printed %q", child.Pid(), l)
		}
	}
}

func TestMinLatency(t *testing.T) {
	f := flags{lport: true}
	// bcc's positional duration_ms, as a float.
	tl := startTool(t, append(f.args(), "499.5")...)
	tl.waitHeader(f)
	pid, _ := tooltest.Self(t)
	ln := tooltest.Listener(t, "tcp4", "127.0.0.1:0")
	var fastPorts []uint16
	for range 5 {
		fastPorts = append(fastPorts, tooltest.Dial(t, "tcp4", ln.Addr()))
	}
	fast, slow, _, _ := slowConnect(t)
	fastPorts = append(fastPorts, fast)
	rows := tl.collect(f, pid, 10*time.Second, func(r row) bool { return r.lport == slow })
	for _, r := range rows {
		if r.latMS < 499.5 {
			t.Errorf("connect faster than the minimum shown: %+v", r)
		}
		for _, p := range fastPorts {
			if r.lport == p {
				t.Errorf("fast connect shown: %+v", r)
			}
		}
	}
	tl.Stop()
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
	prev := -1.0
	first := true
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
	f := flags{}
	tl := startTool(t)
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
}

func TestJSONRun(t *testing.T) {
	tl := startTool(t, "--json", "-6")
	pid, comm := tooltest.Self(t)
	ln4 := tooltest.Listener(t, "tcp4", "127.0.0.1:0")
	ln := tooltest.Listener(t, "tcp6", "[::1]:0")
	// No header in JSON mode: connect until the first event shows that ecli is attached.
	var lport uint16
	var got map[string]any
	deadline := time.Now().Add(60 * time.Second)
	dialed := map[uint16]bool{} // every connect of ours: an event may arrive a pass late
	for got == nil {
		tooltest.Dial(t, "tcp4", ln4.Addr()) // -6: never shown
		dialed[tooltest.Dial(t, "tcp6", ln.Addr())] = true
		for l, ok := tl.Poll(100 * time.Millisecond); ok && got == nil; l, ok = tl.Poll(10 * time.Millisecond) {
			var ev map[string]any
			if err := json.Unmarshal([]byte(l), &ev); err != nil {
				t.Fatalf("%q: %v", l, err)
			}
			if ev["af"] != float64(unix.AF_INET6) {
				t.Errorf("-6 printed %s", l)
			}
			if p, _ := ev["lport"].(float64); ev["tgid"] == float64(pid) && ev["dport"] == float64(tooltest.Port(ln.Addr())) && dialed[uint16(p)] {
				got, lport = ev, uint16(p)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no event within 60 s\nstderr: %s", tl.Stderr)
		}
	}
	checkJSON(t, got, row{pid: pid, comm: comm, ip: 6, saddr: "::1", daddr: "::1", lport: lport, dport: tooltest.Port(ln.Addr())}, -1)
	tl.Stop()
}

func TestNoLeaks(t *testing.T) {
	testutils.RequirePrivileged(t)
	before := testutils.Snapshot(t)
	tl := startTool(t)
	tl.waitHeader(flags{})
	tl.Stop()
	// The kernel frees a dead process's maps and programs from a work queue: give it time.
	testutils.WaitNoLeaks(t, before, "handle_set_state", "handle_destroy_sock", "start", "events")
}
