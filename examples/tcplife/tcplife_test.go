package tcplife_test

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/netip"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"ecli/internal/testutils/tooltest"
)

func TestMain(m *testing.M) { tooltest.Main(m) }

// flags are the output-shaping flags of one run: -T, -t, -w, -s.
type flags struct{ time, ts, wide, csv bool }

func (f flags) args() []string {
	var a []string
	for _, x := range []struct {
		on   bool
		flag string
	}{{f.time, "-T"}, {f.ts, "-t"}, {f.wide, "-w"}, {f.csv, "-s"}} {
		if x.on {
			a = append(a, x.flag)
		}
	}
	return a
}

func (f flags) name() string { return strings.Join(append([]string{"flags"}, f.args()...), "") }

// bcc python tcplife's format strings (tools/tcplife.py).
func (f flags) formats() (header, row string) {
	switch {
	case f.csv:
		return "%s,%s,%s,%s,%s,%s,%s,%s,%s,%s", "%d,%s,%s,%s,%s,%s,%d,%d,%d,%.2f"
	case f.wide:
		return "%-5s %-16.16s %-2s %-26s %-5s %-26s %-5s %6s %6s %s", "%-5d %-16.16s %-2s %-26s %-5s %-26s %-5d %6d %6d %.2f"
	}
	return "%-5s %-10.10s %s%-15s %-5s %-15s %-5s %5s %5s %s", "%-5d %-10.10s %s%-15s %-5d %-15s %-5d %5d %5d %.2f"
}

func (f flags) prefix(clock string, ts float64, header bool) string {
	s := ""
	if f.time {
		if header {
			clock = "TIME"
		}
		if f.csv {
			s += fmt.Sprintf("%s,", clock)
		} else {
			s += fmt.Sprintf("%-8s ", clock)
		}
	}
	if f.ts {
		switch {
		case header && f.csv:
			s += "TIME(s),"
		case header:
			s += fmt.Sprintf("%-9s ", "TIME(s)")
		case f.csv:
			s += fmt.Sprintf("%.6f,", ts)
		default:
			s += fmt.Sprintf("%-9.6f ", ts)
		}
	}
	return s
}

func (f flags) ip(v string) string {
	if f.wide || f.csv {
		return v
	}
	return ""
}

func bccHeader(f flags) string {
	h, _ := f.formats()
	return f.prefix("", 0, true) + fmt.Sprintf(h, "PID", "COMM", f.ip("IP"), "LADDR", "LPORT", "RADDR", "RPORT", "TX_KB", "RX_KB", "MS")
}

// row is one session as bcc prints it.
type row struct {
	clock          string
	ts             float64
	pid            uint32
	comm           string
	ip             int
	laddr, raddr   string
	lport, rport   uint16
	txKB, rxKB, ms float64 // ms: only compared when not zero-negative (the lifespan varies)
}

func bccLine(f flags, r row) string {
	_, format := f.formats()
	ip := f.ip(strconv.Itoa(r.ip))
	var lport any = r.lport
	if f.wide || f.csv {
		lport = strconv.Itoa(int(r.lport)) // bcc: %-5s (-w) or %s (-s) of the int
	}
	return f.prefix(r.clock, r.ts, false) + fmt.Sprintf(format, r.pid, r.comm, ip, r.laddr, lport, r.raddr, r.rport, int(r.txKB), int(r.rxKB), r.ms)
}

var clockRE = regexp.MustCompile(`^[0-2][0-9]:[0-5][0-9]:[0-6][0-9]$`)

// parseLine reads a line printed with flags f (COMM must have no blanks or commas).
func parseLine(f flags, line string) (row, error) {
	var fs []string
	if f.csv {
		fs = strings.Split(line, ",")
	} else {
		fs = strings.Fields(line)
	}
	want := 9
	if f.wide || f.csv {
		want++
	}
	if f.time {
		want++
	}
	if f.ts {
		want++
	}
	if len(fs) != want {
		return row{}, fmt.Errorf("line %q: %d fields, want %d", line, len(fs), want)
	}
	var r row
	var err error
	num := func(s string) float64 {
		n, e := strconv.ParseFloat(s, 64)
		if e != nil && err == nil {
			err = fmt.Errorf("line %q: %q: %v", line, s, e)
		}
		return n
	}
	if f.time {
		if r.clock, fs = fs[0], fs[1:]; !clockRE.MatchString(r.clock) {
			return r, fmt.Errorf("line %q: TIME %q", line, r.clock)
		}
	}
	if f.ts {
		r.ts, fs = num(fs[0]), fs[1:]
	}
	r.pid, r.comm, fs = uint32(num(fs[0])), fs[1], fs[2:]
	r.ip = 4
	if f.wide || f.csv {
		r.ip, fs = int(num(fs[0])), fs[1:]
	}
	r.laddr, r.lport, r.raddr, r.rport = fs[0], uint16(num(fs[1])), fs[2], uint16(num(fs[3]))
	r.txKB, r.rxKB, r.ms = num(fs[4]), num(fs[5]), num(fs[6])
	if a, e := netip.ParseAddr(r.laddr); e == nil && a.Is6() && !(f.wide || f.csv) {
		r.ip = 6
	}
	return r, err
}

// --- tests without privileges ---------------------------------------------------------------

func TestPackageOptions(t *testing.T) {
	pkg := tooltest.Builtin(t, "tcplife")
	for _, tc := range []struct{ global, long, short string }{
		{"targ_time", "time", "T"},
		{"targ_timestamp", "timestamp", "t"},
		{"targ_wide", "wide", "w"},
		{"targ_csv", "csv", "s"},
		{"targ_pid", "pid", "p"},
		{"targ_lports", "localport", "L"},
		{"targ_dports", "remoteport", "D"},
		{"targ_ipv4", "ipv4", "4"},
		{"targ_ipv6", "ipv6", "6"},
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
	if o := pkg.OptionByFlag("cgroupmap"); o != nil {
		t.Errorf("--cgroupmap is an option, bcc's tcplife has none")
	}
}

// event is struct event of tcplife.h.
type event struct {
	TsUS         uint64
	Pid          uint32
	Comm         [16]byte
	Af           uint32
	Laddr        [16]byte
	Lport        uint16
	_            [2]byte
	Raddr        [16]byte
	Rport        uint16
	_            [2]byte
	TxB, RxB, US uint64
}

func mkEvent(t *testing.T, r row, tsUS, txB, rxB, spanUS uint64) []byte {
	t.Helper()
	e := event{TsUS: tsUS, Pid: r.pid, Lport: r.lport, Rport: r.rport, TxB: txB, RxB: rxB, US: spanUS}
	copy(e.Comm[:15], r.comm)
	la, ra := netip.MustParseAddr(r.laddr), netip.MustParseAddr(r.raddr)
	if r.ip == 4 {
		e.Af = unix.AF_INET
		l4, r4 := la.As4(), ra.As4()
		copy(e.Laddr[:], l4[:])
		copy(e.Raddr[:], r4[:])
	} else {
		e.Af = unix.AF_INET6
		e.Laddr, e.Raddr = la.As16(), ra.As16()
	}
	b, err := binary.Append(nil, binary.NativeEndian, e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEventLayout(t *testing.T) {
	plans, err := tooltest.Plans(tooltest.Builtin(t, "tcplife"), nil)
	if err != nil {
		t.Fatal(err)
	}
	p := plans["events"]
	if p == nil {
		t.Fatalf("no plan for map events: %v", plans)
	}
	if got, want := p.Size(), uint32(binary.Size(event{})); got != want {
		t.Fatalf("event size %d, want %d", got, want)
	}
	want := map[string]uint32{"ts_us": 0, "pid": 8, "comm": 12, "af": 28, "laddr": 32, "lport": 48, "raddr": 52, "rport": 68, "tx_b": 72, "rx_b": 80, "span_us": 88}
	got := map[string]uint32{}
	for _, f := range p.Fields() {
		got[f.Name] = f.Offset
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fields (name: offset):\n got %v\nwant %v", got, want)
	}
}

func allFlags() []flags {
	var out []flags
	for i := 0; i < 16; i++ {
		out = append(out, flags{time: i&1 != 0, ts: i&2 != 0, wide: i&4 != 0, csv: i&8 != 0})
	}
	return out
}

func TestGoldenFormat(t *testing.T) {
	type ev struct {
		r                      row
		tsUS, txB, rxB, spanUS uint64
	}
	events := []ev{
		// bcc's tcplife_example.txt
		{row{pid: 22597, comm: "recordProgra", ip: 4, laddr: "127.0.0.1", lport: 46644, raddr: "127.0.0.1", rport: 28527}, 1_000_000, 0, 0, 230},
		{row{pid: 3277, comm: "redis-server", ip: 4, laddr: "127.0.0.1", lport: 28527, raddr: "127.0.0.1", rport: 46644}, 1_000_250, 0, 0, 240},
		{row{pid: 30525, comm: "mysqld-a-very-long", ip: 6, laddr: "fe80::2000:bff:fe82:3ac", lport: 3306, raddr: "2001:db8:85a3:8d3:1319:8a2e:370:7348", rport: 65535}, 2_500_000, 1048575, 1024, 1_005_004},
		{row{pid: 4194304, comm: "x", ip: 6, laddr: "::1", lport: 1, raddr: "::ffff:1.2.3.4", rport: 80}, 3_000_001, 5 << 30, 123456789, 7},
	}
	for _, f := range allFlags() {
		t.Run(f.name(), func(t *testing.T) {
			pkg := tooltest.Builtin(t, "tcplife")
			values := pkg.NewValues()
			for name, on := range map[string]bool{"targ_time": f.time, "targ_timestamp": f.ts, "targ_wide": f.wide, "targ_csv": f.csv} {
				if err := values.Set(name, strconv.FormatBool(on)); err != nil {
					t.Fatal(err)
				}
			}
			plans, err := tooltest.Plans(pkg, values)
			if err != nil {
				t.Fatal(err)
			}
			p := plans["events"]
			if got, want := p.Header(), strings.TrimRight(bccHeader(f), " "); got != want {
				t.Errorf("header:\n got %q\nwant %q", got, want)
			}
			for _, e := range events {
				got, err := p.AppendText(nil, mkEvent(t, e.r, e.tsUS, e.txB, e.rxB, e.spanUS))
				if err != nil {
					t.Fatal(err)
				}
				r := e.r
				r.comm = r.comm[:min(len(r.comm), 15)] // TASK_COMM_LEN
				r.ts = float64(e.tsUS-events[0].tsUS) / 1e6
				r.txKB, r.rxKB, r.ms = float64(e.txB/1024), float64(e.rxB/1024), float64(e.spanUS)/1000
				if f.time {
					r.clock = string(got[:8])
					if !clockRE.MatchString(r.clock) {
						t.Errorf("TIME %q", r.clock)
					}
				}
				if want := bccLine(f, r); string(got) != want {
					t.Errorf("row:\n got %q\nwant %q", got, want)
				}
			}
		})
	}
}

func TestJSONFields(t *testing.T) {
	plans, err := tooltest.Plans(tooltest.Builtin(t, "tcplife"), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := row{pid: 42, comm: "curl", ip: 6, laddr: "::1", lport: 1234, raddr: "::1", rport: 443}
	js, err := plans["events"].AppendJSON(nil, mkEvent(t, r, 99, 5000, 7000, 1500))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(js, &got); err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	want := map[string]any{"ts_us": 99.0, "pid": 42.0, "comm": "curl", "af": 10.0, "laddr": "::1", "lport": 1234.0, "raddr": "::1", "rport": 443.0, "tx_b": 5000.0, "rx_b": 7000.0, "span_us": 1500.0}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("JSON:\n got %v\nwant %v", got, want)
	}
}

// --- privileged end-to-end tests ------------------------------------------------------------

// listen is a TCP listener whose connections the test accepts itself (tooltest.Listener
// accepts and closes them); a cleanup closes it.
func listen(t *testing.T, network, addr string) *net.TCPListener {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.(*net.TCPListener)
}

// session runs one loopback TCP session in this process: the client sends up bytes, the
// server answers with down bytes, then the client closes first and the server after it. It
// returns the client's and the server's local ports.
func session(t *testing.T, network, addr string, up, down int) (client, server uint16) {
	t.Helper()
	ln := listen(t, network, addr)
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		if _, err := io.CopyN(io.Discard, c, int64(up)); err != nil {
			done <- err
			return
		}
		if _, err := c.Write(make([]byte, down)); err != nil {
			done <- err
			return
		}
		_, err = io.Copy(io.Discard, c) // until the client's FIN
		done <- err
	}()
	c, err := net.Dial(network, ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(make([]byte, up)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(io.Discard, c, int64(down)); err != nil {
		t.Fatal(err)
	}
	client = tooltest.Port(c.LocalAddr())
	c.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return client, tooltest.Port(ln.Addr())
}

// collect reads lines until both ports were seen as LPORT, keeping only those two.
func collect(t *testing.T, tl *tooltest.Tool, f flags, ports ...uint16) map[uint16]row {
	t.Helper()
	want := map[uint16]bool{}
	for _, p := range ports {
		want[p] = true
	}
	got := map[uint16]row{}
	parse := tooltest.Exact(t, func(l string) (row, error) { return parseLine(f, l) }, func(r row) string { return bccLine(f, r) })
	tooltest.Collect(tl, 10*time.Second, parse, func(r row) bool { return want[r.lport] }, func(r row) bool {
		got[r.lport] = r
		return len(got) == len(want)
	})
	return got
}

// TestSession: a session of known byte counts; TX_KB and RX_KB are the socket's own
// counters (bytes_acked, bytes_received: the data plus the FIN, plus the SYN on the
// connecting side), in KiB.
func TestSession(t *testing.T) {
	const up, down = 300*1024 + 100, 70*1024 + 7
	pid, comm := tooltest.Self(t)
	for _, tc := range []struct {
		network, addr, ip string
		f                 flags
	}{
		{"tcp4", "127.0.0.1:0", "127.0.0.1", flags{}},
		{"tcp6", "[::1]:0", "::1", flags{wide: true, time: true}},
		{"tcp4", "127.0.0.1:0", "127.0.0.1", flags{csv: true, ts: true}},
	} {
		t.Run(tc.network+tc.f.name(), func(t *testing.T) {
			tl := tooltest.Start(t, "tcplife", tc.f.args()...)
			tl.WaitHeader(strings.TrimRight(bccHeader(tc.f), " "))
			start := time.Now()
			client, server := session(t, tc.network, tc.addr, up, down)
			span := time.Since(start)
			rows := collect(t, tl, tc.f, client, server)
			ipv := 4
			if tc.network == "tcp6" {
				ipv = 6
			}
			for _, w := range []row{
				{pid: pid, comm: comm, ip: ipv, laddr: tc.ip, lport: client, raddr: tc.ip, rport: server, txKB: up / 1024, rxKB: down / 1024},
				{pid: pid, comm: comm, ip: ipv, laddr: tc.ip, lport: server, raddr: tc.ip, rport: client, txKB: down / 1024, rxKB: up / 1024},
			} {
				g := rows[w.lport]
				if g.ms <= 0 || g.ms > float64(span.Milliseconds()+1) {
					t.Errorf("LPORT %d: MS %.2f, want in (0, %d]", w.lport, g.ms, span.Milliseconds()+1)
				}
				w.ms, w.clock, w.ts = g.ms, g.clock, g.ts
				if !tc.f.wide && !tc.f.csv {
					w.comm = comm[:min(len(comm), 10)] // bcc's %-10.10s
				}
				if g != w {
					t.Errorf("session line:\n got %+v\nwant %+v", g, w)
				}
			}
			tl.Stop()
		})
	}
}

// TestSessionJSON: the byte counters exactly, from --json.
func TestSessionJSON(t *testing.T) {
	const up, down = 5000, 123457
	tl := tooltest.Start(t, "tcplife", "--json")
	pid, _ := tooltest.Self(t)
	type rec struct {
		Pid                uint32
		Lport, Rport       uint16
		TxB                uint64 `json:"tx_b"`
		RxB                uint64 `json:"rx_b"`
		SpanUS             uint64 `json:"span_us"`
		Laddr, Raddr, Comm string
	}
	var client, server uint16
	// --json prints no header: the first session may run before the programs are attached,
	// so repeat until both of its ends are printed.
	got := map[uint16]rec{}
	deadline := time.Now().Add(60 * time.Second)
	for len(got) < 2 && time.Now().Before(deadline) {
		client, server = session(t, "tcp4", "127.0.0.1:0", up, down)
		got = map[uint16]rec{}
		for len(got) < 2 {
			l, ok := tl.Poll(2 * time.Second)
			if !ok {
				break
			}
			var r rec
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatalf("%q: %v", l, err)
			}
			if r.Pid == pid && (r.Lport == client || r.Lport == server) {
				got[r.Lport] = r
			}
		}
	}
	// the connecting side's SYN and each side's FIN count as one byte each
	if c := got[client]; c.TxB != up+2 || c.RxB != down+1 || c.Rport != server || c.Laddr != "127.0.0.1" {
		t.Errorf("client: %+v, want tx_b %d rx_b %d", c, up+2, down+1)
	}
	if s := got[server]; s.TxB != down+1 || s.RxB != up+1 || s.Rport != client {
		t.Errorf("server: %+v, want tx_b %d rx_b %d", s, down+1, up+1)
	}
	tl.Stop()
}

// TestOwner: the client is another process that connects and closes at once; its socket's
// last transition happens in this process's context (the server's close sends the final
// FIN), yet its line names the client, which owned the socket at SYN_SENT.
func TestOwner(t *testing.T) {
	f := flags{}
	tl := tooltest.Start(t, "tcplife")
	tl.WaitHeader(strings.TrimRight(bccHeader(f), " "))
	ln := listen(t, "tcp4", "127.0.0.1:0")
	child := tooltest.StartHelper(t, ln.Addr().String())
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
		close(accepted)
	}()
	clientPort := child.Connect() // connected and closed: our side is in CLOSE_WAIT
	c, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	c.Close() // LAST_ACK, then CLOSE for both sockets
	rows := collect(t, tl, f, clientPort, tooltest.Port(ln.Addr()))
	pid, _ := tooltest.Self(t)
	if r := rows[clientPort]; r.pid != uint32(child.Pid()) {
		t.Errorf("client line %+v: PID %d, want the helper's %d", r, r.pid, child.Pid())
	}
	if r := rows[tooltest.Port(ln.Addr())]; r.pid != pid {
		t.Errorf("server line %+v: PID %d, want ours %d", r, r.pid, pid)
	}
	tl.Stop()
}

// TestFilters: -L, -D, -p and -4/-6 keep the matching sessions and drop the others.
func TestFilters(t *testing.T) {
	f := flags{}
	keepLn := listen(t, "tcp4", "127.0.0.1:0")
	keep := tooltest.Port(keepLn.Addr())
	for _, tc := range []struct {
		name string
		args []string
		// run makes the sessions: the one to keep last, so that its line ends the wait
		run func(t *testing.T) (dropped []uint16, kept uint16)
	}{
		{"localport", []string{"-L", "1," + strconv.Itoa(int(keep))}, func(t *testing.T) ([]uint16, uint16) {
			c, s := session(t, "tcp4", "127.0.0.1:0", 10, 10)
			acceptOnce(t, keepLn)
			return []uint16{c, s}, keep // the server's end: LPORT keep
		}},
		{"remoteport", []string{"-D", strconv.Itoa(int(keep))}, func(t *testing.T) ([]uint16, uint16) {
			c, s := session(t, "tcp4", "127.0.0.1:0", 10, 10)
			return []uint16{c, s, keep}, acceptOnce(t, keepLn)
		}},
		{"ipv6", []string{"-6"}, func(t *testing.T) ([]uint16, uint16) {
			c, s := session(t, "tcp4", "127.0.0.1:0", 10, 10)
			c6, _ := session(t, "tcp6", "[::1]:0", 10, 10)
			return []uint16{c, s}, c6
		}},
		{"pid", []string{"-p", "1"}, func(t *testing.T) ([]uint16, uint16) {
			c, s := session(t, "tcp4", "127.0.0.1:0", 10, 10)
			return []uint16{c, s}, 0
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tl := tooltest.Start(t, "tcplife", tc.args...)
			tl.WaitHeader(strings.TrimRight(bccHeader(f), " "))
			dropped, kept := tc.run(t)
			if kept != 0 {
				collect(t, tl, f, kept)
			}
			tl.Stop()
			for _, l := range tl.All()[1:] {
				r, err := parseLine(f, l)
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range dropped {
					if r.lport == d {
						t.Errorf("%v printed %q", tc.args, l)
					}
				}
			}
		})
	}
}

// acceptOnce connects to ln from this process, the server closing first, and returns the
// client's local port.
func acceptOnce(t *testing.T, ln *net.TCPListener) uint16 {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if c, err := ln.Accept(); err == nil {
			c.Close()
		}
	}()
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	<-done
	io.Copy(io.Discard, c)
	c.Close()
	return tooltest.Port(c.LocalAddr())
}
