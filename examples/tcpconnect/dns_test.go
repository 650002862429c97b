package tcpconnect_test

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"ecli/internal/testutils/tooltest"
)

// bcc's print_dns (tools/tcpconnect.py): the name of the cached answer, else "No DNS
// Query", or "localhost" for 127.0.0.1 and ::1; " (%.3fms)" when the answer is older than
// DELAY_DNS (100 ms, strict).
const pyDelayDNS = 100

func bccQuery(name string, found bool, daddr string, delayMS float64) string {
	if !found {
		name = "No DNS Query"
		if daddr == "127.0.0.1" || daddr == "::1" {
			name = "localhost"
		}
		delayMS = 0
	}
	if delayMS > pyDelayDNS {
		name += fmt.Sprintf(" (%.3fms)", delayMS)
	}
	return name
}

// kernelQuery is what the BPF program stores in the event for the same situation: the
// answer's name, "localhost" for loopback without one, else nothing.
func kernelQuery(name string, found bool, daddr string) string {
	if found {
		return name
	}
	if daddr == "127.0.0.1" || daddr == "::1" {
		return "localhost"
	}
	return ""
}

func bccDNSHeader(f flags) string {
	return bccHeader(f) + fmt.Sprintf("%-*s", 6-len("DPORT"), "") + " QUERY"
}

// bccDNSLine is bcc's row with -d: the rows of bccLine with print_dns as the last %s.
func bccDNSLine(f flags, r row, query string) string {
	s := ""
	if f.ts {
		s += fmt.Sprintf(pyRowTS, r.ts)
	}
	if f.uid {
		s += fmt.Sprintf(pyRowUID, r.uid)
	}
	if f.lport {
		s += fmt.Sprintf(pyRowLport, r.pid, r.comm, r.ip, r.saddr, r.lport, r.daddr, r.dport, query)
	} else {
		s += fmt.Sprintf(pyRow, r.pid, r.comm, r.ip, r.saddr, r.daddr, r.dport, query)
	}
	return trim(s)
}

func dnsArgs(f flags) []string { return append([]string{"-d"}, f.args()...) }

// TestDNSGolden: the QUERY column against bcc's format strings and print_dns, for every
// combination of -t, -U, -L with -d.
func TestDNSGolden(t *testing.T) {
	base := row{uid: 1000, pid: 1469, comm: "curl", ip: 4, saddr: "10.201.219.236", lport: 40000, dport: 80}
	cases := []struct {
		daddr   string
		name    string
		found   bool
		delayUS uint64
	}{
		{"54.245.105.25", "www.domain.com", true, 123342},
		{"54.245.105.25", "www.domain.com", true, 100000}, // exactly 100 ms: no delay shown
		{"54.245.105.25", "www.domain.com", true, 100001},
		{"54.245.105.26", "ec2messages.us-west-1.amazonaws.com", true, 3},
		{"54.67.101.145", "", false, 0},
		{"127.0.0.1", "", false, 0},
		{"::1", "", false, 0},
		{"::1", "ip6-localhost", true, 250000000},
		{"2001:db8::1", "", false, 0},
	}
	for _, f := range allFlags {
		t.Run(f.name(), func(t *testing.T) {
			pkg := builtin(t)
			values := pkg.NewValues()
			for name, on := range map[string]bool{"targ_dns": true, "targ_timestamp": f.ts, "targ_print_uid": f.uid, "targ_lport": f.lport} {
				if err := values.Set(name, strconv.FormatBool(on)); err != nil {
					t.Fatal(err)
				}
			}
			plans, err := tooltest.Plans(pkg, values)
			if err != nil {
				t.Fatal(err)
			}
			p := plans["events"]
			if got, want := p.Header(), bccDNSHeader(f); got != want {
				t.Errorf("header:\n got %q\nwant %q", got, want)
			}
			for _, c := range cases {
				r := base
				r.daddr = c.daddr
				if strings.Contains(c.daddr, ":") {
					r.ip, r.saddr = 6, "::1"
				}
				ev := mkDNSEvent(t, r, 0, kernelQuery(c.name, c.found, c.daddr), c.delayUS)
				got, err := p.AppendText(nil, ev)
				if err != nil {
					t.Fatal(err)
				}
				want := bccDNSLine(f, r, bccQuery(c.name, c.found, c.daddr, float64(c.delayUS)/1000))
				if string(got) != want {
					t.Errorf("row:\n got %q\nwant %q", got, want)
				}
			}
		})
	}
}

func mkDNSEvent(t *testing.T, r row, tsUS uint64, query string, delayUS uint64) []byte {
	t.Helper()
	b := mkEvent(t, r, tsUS)
	binary.NativeEndian.PutUint64(b[72:], delayUS)
	copy(b[80:80+255], query)
	return b
}

// --- DNS messages, built by hand -------------------------------------------------------------

// wireName is a name in DNS label form.
func wireName(name string) []byte {
	var b []byte
	for _, l := range strings.Split(name, ".") {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	return append(b, 0)
}

// rr is one answer record: its name in wire form (ptrQ: a pointer to the question), type
// and data.
type rr struct {
	name  []byte
	typ   uint16
	rdata []byte
}

var ptrQ = []byte{0xC0, 12}

func recA(name []byte, addr string) rr {
	a := netip.MustParseAddr(addr).As4()
	return rr{name, 1, a[:]}
}

func recAAAA(name []byte, addr string) rr {
	a := netip.MustParseAddr(addr).As16()
	return rr{name, 28, a[:]}
}

func recCNAME(name []byte, target string) rr { return rr{name, 5, wireName(target)} }

// dnsAnswer is a response (QR=1, RD, RA) to one question for qname, type A, with the records.
func dnsAnswer(qname string, rrs ...rr) []byte {
	b := binary.BigEndian.AppendUint16(nil, 0x1234)
	b = binary.BigEndian.AppendUint16(b, 0x8180)
	b = binary.BigEndian.AppendUint16(b, 1)
	b = binary.BigEndian.AppendUint16(b, uint16(len(rrs)))
	b = append(b, 0, 0, 0, 0)
	b = append(b, wireName(qname)...)
	b = append(b, 0, 1, 0, 1)
	for _, r := range rrs {
		b = append(b, r.name...)
		b = binary.BigEndian.AppendUint16(b, r.typ)
		b = binary.BigEndian.AppendUint16(b, 1)
		b = binary.BigEndian.AppendUint32(b, 60)
		b = binary.BigEndian.AppendUint16(b, uint16(len(r.rdata)))
		b = append(b, r.rdata...)
	}
	return b
}

// resolver is the test's own DNS server on UDP port 53: each answer is sent in reply to a
// query from a fresh client socket, and read by that client, so the cgroup program has seen
// it when answer returns.
type resolver struct {
	t   *testing.T
	srv *net.UDPConn
}

func newResolver(t *testing.T, addr string) *resolver {
	t.Helper()
	srv, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(addr)))
	if err != nil {
		t.Fatalf("DNS responder on %s: %v (does something else listen there?)", addr, err)
	}
	t.Cleanup(func() { srv.Close() })
	return &resolver{t, srv}
}

func (r *resolver) answer(msg []byte) {
	r.t.Helper()
	cl, err := net.DialUDP("udp", nil, r.srv.LocalAddr().(*net.UDPAddr))
	if err != nil {
		r.t.Fatal(err)
	}
	defer cl.Close()
	deadline := time.Now().Add(5 * time.Second)
	cl.SetDeadline(deadline)
	r.srv.SetDeadline(deadline)
	if _, err := cl.Write([]byte{0x12, 0x34}); err != nil {
		r.t.Fatal(err)
	}
	buf := make([]byte, 2048)
	_, from, err := r.srv.ReadFromUDP(buf)
	if err != nil {
		r.t.Fatal(err)
	}
	if _, err := r.srv.WriteToUDP(msg, from); err != nil {
		r.t.Fatal(err)
	}
	if n, err := cl.Read(buf); err != nil || n != len(msg) {
		r.t.Fatalf("reading the answer: %d bytes, %v", n, err)
	}
}

// --- end to end ------------------------------------------------------------------------------

// dnsLineRE parses a -d line: PID COMM IP SADDR DADDR DPORT QUERY (QUERY may hold spaces).
var dnsLineRE = regexp.MustCompile(`^(\d+) +(\S+) +(\d) +(\S+) +(\S+) +(\d+) +(.+)$`)

type dnsRow struct {
	pid          uint32
	daddr, query string
	dport        uint16
}

func parseDNSLine(line string) (dnsRow, error) {
	m := dnsLineRE.FindStringSubmatch(line)
	if m == nil {
		return dnsRow{}, fmt.Errorf("line %q is not PID COMM IP SADDR DADDR DPORT QUERY", line)
	}
	pid, _ := strconv.ParseUint(m[1], 10, 32)
	port, _ := strconv.ParseUint(m[6], 10, 16)
	return dnsRow{uint32(pid), m[5], m[7], uint16(port)}, nil
}

// dnsRun is a running `ecli run tcpconnect -d` and the listeners its connects go to.
type dnsRun struct {
	t        *testing.T
	tl       *tooltest.Tool
	pid      uint32
	v4, v6   *net.TCPListener
	v4p, v6p uint16
}

func startDNS(t *testing.T, args ...string) *dnsRun {
	t.Helper()
	v4, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4zero})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v4.Close() })
	v6, err := net.ListenTCP("tcp6", &net.TCPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v6.Close() })
	tl := tooltest.Start(t, "tcpconnect", append([]string{"-d"}, args...)...)
	pid, _ := tooltest.Self(t)
	return &dnsRun{t: t, tl: tl, pid: pid, v4: v4, v6: v6,
		v4p: uint16(v4.Addr().(*net.TCPAddr).Port), v6p: uint16(v6.Addr().(*net.TCPAddr).Port)}
}

// connect connects to daddr (on the listener of its family) and returns the QUERY column of
// the connect's line.
func (d *dnsRun) connect(daddr string) string {
	d.t.Helper()
	port := d.v4p
	if strings.Contains(daddr, ":") {
		port = d.v6p
	}
	c, err := net.Dial("tcp", net.JoinHostPort(daddr, strconv.Itoa(int(port))))
	if err != nil {
		d.t.Fatal(err)
	}
	c.Close()
	rows := tooltest.Collect(d.tl, 10*time.Second, parseDNSLine,
		func(r dnsRow) bool { return r.pid == d.pid && r.daddr == daddr && r.dport == port },
		func(dnsRow) bool { return true })
	return rows[0].query
}

func (d *dnsRun) want(daddr, want string) {
	d.t.Helper()
	if got := d.connect(daddr); got != want {
		d.t.Errorf("connect to %s: QUERY %q, want %q", daddr, got, want)
	}
}

// delayRE is a QUERY with bcc's delay suffix.
var delayRE = regexp.MustCompile(`^(\S+) \((\d+\.\d{3})ms\)$`)

// TestDNS: real answers from the test's own responders on 127.0.0.53:53 and [::1]:53, then
// connects; the exact QUERY column of each. The cases share one ecli and run in order (each
// uses its own addresses; ::1's "localhost" is checked before an answer maps ::1).
func TestDNS(t *testing.T) {
	d := startDNS(t)
	d.tl.WaitHeader(bccDNSHeader(flags{}))
	r4 := newResolver(t, "127.0.0.53:53")
	r6 := newResolver(t, "[::1]:53")

	// no answer: loopback is localhost, anything else No DNS Query
	d.want("127.0.0.1", "localhost")
	d.want("::1", "localhost")
	d.want("127.0.1.99", "No DNS Query")

	// an A answer (compressed record name)
	r4.answer(dnsAnswer("a.example.test", recA(ptrQ, "127.0.1.1")))
	d.want("127.0.1.1", "a.example.test")

	// a CNAME chain: both A records (uncompressed names) map to the question
	r4.answer(dnsAnswer("www.chain.test",
		recCNAME(ptrQ, "edge.cdn.test"),
		recA(wireName("edge.cdn.test"), "127.0.1.2"),
		recA(wireName("edge.cdn.test"), "127.0.1.3")))
	d.want("127.0.1.3", "www.chain.test")
	d.want("127.0.1.2", "www.chain.test")

	// a newer answer replaces the older one
	r4.answer(dnsAnswer("b.example.test", recA(ptrQ, "127.0.1.1")))
	d.want("127.0.1.1", "b.example.test")

	// malformed answers change nothing and do not break the program
	good := dnsAnswer("bad.example.test", recA(ptrQ, "127.0.1.5"))
	r4.answer(good[:len(good)-2]) // truncated inside the record
	selfPtr := dnsAnswer("loop.example.test", recA([]byte{0xC0, 0}, "127.0.1.6"))
	off := len(dnsAnswer("loop.example.test")) // where the record's name starts
	selfPtr[off], selfPtr[off+1] = 0xC0|byte(off>>8), byte(off)
	r4.answer(selfPtr) // a pointer to itself
	long := dnsAnswer("x.example.test", recA(ptrQ, "127.0.1.7"))
	long[12] = 63 // first label runs past the message
	r4.answer(long[:40])
	r4.answer(dnsAnswer("noans.example.test")) // no answer records
	q := dnsAnswer("query.example.test", recA(ptrQ, "127.0.1.9"))
	q[2] &^= 0x80 // QR=0: a query, not a response
	r4.answer(q)
	for _, a := range []string{"127.0.1.5", "127.0.1.6", "127.0.1.7", "127.0.1.9"} {
		d.want(a, "No DNS Query")
	}
	r4.answer(dnsAnswer("after.example.test", recA(ptrQ, "127.0.1.8")))
	d.want("127.0.1.8", "after.example.test")

	// AAAA over IPv6 transport
	r6.answer(dnsAnswer("v6.example.test", recAAAA(ptrQ, "::1")))
	d.want("::1", "v6.example.test")

	// an answer more than 100 ms before the connect: the delay, with three decimals
	r4.answer(dnsAnswer("slow.example.test", recA(ptrQ, "127.0.1.4")))
	start := time.Now()
	<-time.After(150 * time.Millisecond) // the case is about time passing
	got := d.connect("127.0.1.4")
	elapsed := time.Since(start)
	m := delayRE.FindStringSubmatch(got)
	if m == nil || m[1] != "slow.example.test" {
		t.Fatalf("QUERY %q, want slow.example.test (N.NNNms)", got)
	}
	if ms, _ := strconv.ParseFloat(m[2], 64); ms <= 100 || ms > float64(elapsed.Milliseconds())+1 {
		t.Errorf("delay %v ms, want over 100 and at most the %v the test waited", ms, elapsed)
	}

	// 1,000 distinct answers, then a connect to each: the LRU holds them all (the first
	// answers may be over 100 ms old by their connect: then the delay follows the name)
	const n = 1000
	addr := func(i int) string { return fmt.Sprintf("127.2.%d.%d", i/250, 1+i%250) }
	for i := range n {
		r4.answer(dnsAnswer(fmt.Sprintf("h%d.bulk.test", i), recA(ptrQ, addr(i))))
	}
	for i := range n {
		want, got := fmt.Sprintf("h%d.bulk.test", i), d.connect(addr(i))
		if m := delayRE.FindStringSubmatch(got); m != nil {
			if ms, _ := strconv.ParseFloat(m[2], 64); ms > 100 {
				got = m[1]
			}
		}
		if got != want {
			t.Fatalf("connect %d to %s: QUERY %q, want %q (with a delay over 100 ms or none)", i, addr(i), got, want)
		}
	}
	d.tl.Stop()
}

// TestDNSFlags: -d with -t -U -L (the -L line waits for the answer; the delay is still
// measured from the connect) and with --json (query and dns_delay_us fields).
func TestDNSFlags(t *testing.T) {
	f := flags{ts: true, uid: true, lport: true}
	d := startDNS(t, f.args()...)
	d.tl.WaitHeader(bccDNSHeader(f))
	r4 := newResolver(t, "127.0.0.53:53")
	r4.answer(dnsAnswer("flags.example.test", recA(ptrQ, "127.0.3.1")))
	c, err := net.Dial("tcp", net.JoinHostPort("127.0.3.1", strconv.Itoa(int(d.v4p))))
	if err != nil {
		t.Fatal(err)
	}
	lport := uint16(c.LocalAddr().(*net.TCPAddr).Port)
	c.Close()
	line := d.tl.Next(10 * time.Second)
	for !strings.Contains(line, " 127.0.3.1 ") {
		line = d.tl.Next(10 * time.Second)
	}
	fs := strings.Fields(line)
	r := row{uid: 0, pid: d.pid, comm: fs[3], ip: 4, saddr: "127.0.0.1", lport: lport, daddr: "127.0.3.1", dport: d.v4p}
	r.ts, _ = strconv.ParseFloat(fs[0], 64)
	if want := bccDNSLine(f, r, "flags.example.test"); line != want {
		t.Errorf("line:\n got %q\nwant %q", line, want)
	}
	d.tl.Stop()

	// No header in JSON mode: connect until an event shows that ecli is attached (the
	// cgroup program is attached before the tracepoints), then answer and connect once more.
	j := startDNS(t, "--json")
	dial := func() {
		c, err := net.Dial("tcp", net.JoinHostPort("127.0.3.2", strconv.Itoa(int(j.v4p))))
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	next := func(timeout time.Duration) (map[string]any, bool) {
		for {
			l, ok := j.tl.Poll(timeout)
			if !ok {
				return nil, false
			}
			var ev map[string]any
			if err := json.Unmarshal([]byte(l), &ev); err != nil {
				t.Fatalf("%q: %v", l, err)
			}
			if ev["daddr"] == "127.0.3.2" && ev["pid"] == float64(j.pid) {
				return ev, true
			}
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for attached := false; !attached; {
		dial()
		_, attached = next(100 * time.Millisecond)
		if time.Now().After(deadline) {
			t.Fatalf("no event within 60 s\nstderr: %s", j.tl.Stderr)
		}
	}
	for _, ok := next(100 * time.Millisecond); ok; _, ok = next(100 * time.Millisecond) {
	}
	r4.answer(dnsAnswer("json.example.test", recA(ptrQ, "127.0.3.2")))
	dial()
	for {
		ev, ok := next(10 * time.Second)
		if !ok {
			t.Fatal("no event for the connect after the answer")
		}
		if ev["query"] != "json.example.test" {
			t.Errorf("query %#v, want json.example.test", ev["query"])
		}
		if us, ok := ev["dns_delay_us"].(float64); !ok || us < 0 || us > 10e6 {
			t.Errorf("dns_delay_us %#v, want µs since the answer", ev["dns_delay_us"])
		}
		break
	}
	j.tl.Stop()
}

// TestDNSAttachOnlyWithFlag: the cgroup program is attached only with -d (progs[].when), so
// tcpconnect without -d needs no cgroup v2 hierarchy: a cgroup path that does not exist
// stops only a -d run, with an error naming it.
func TestDNSAttachOnlyWithFlag(t *testing.T) {
	const bad = "/nonexistent-ecli-cgroup"
	tl := tooltest.Start(t, "tcpconnect", "--cgroup", bad)
	tl.WaitHeader(bccHeader(flags{}))
	tl.Stop()
	out, err := exec.Command(tooltest.Ecli(t), "run", "tcpconnect", "-d", "--cgroup", bad).CombinedOutput()
	if err == nil || !strings.Contains(string(out), bad) || strings.Count(strings.TrimSpace(string(out)), "\n") > 1 {
		t.Errorf("-d with cgroup %s: %v, output %q; want a failure naming the path", bad, err, out)
	}
}
