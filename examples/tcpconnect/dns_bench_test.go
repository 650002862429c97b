package tcpconnect_test

import (
	"fmt"
	"net"
	"net/netip"
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"ecli/internal/testutils"
	"ecli/internal/testutils/tooltest"
)

// BenchmarkDNSProgram measures what -d adds to every packet delivered to a local socket:
// the run time per packet of the cgroup_skb program (kernel BPF stats), for a packet that
// is not a DNS answer (the early exit), a one-record answer and a sixteen-record CNAME
// chain. It reports ns/packet; the Go loop's own ns/op is the cost of sending.
//
//	sudo go test -run '^$' -bench DNSProgram -benchtime 20000x ./examples/tcpconnect/
func BenchmarkDNSProgram(b *testing.B) {
	testutils.RequirePrivileged(b)
	stats, err := ebpf.EnableStats(unix.BPF_STATS_RUN_TIME)
	if err != nil {
		b.Fatalf("enabling BPF stats: %v", err)
	}
	defer stats.Close()
	before := testutils.Snapshot(b)
	tl := tooltest.Start(b, "tcpconnect", "-d")
	tl.WaitHeader(bccDNSHeader(flags{}))
	prog := newProgNamed(b, before, "dns_answer")
	defer prog.Close()

	chain := []rr{recCNAME(ptrQ, "edge.cdn.test")}
	for i := range 15 {
		chain = append(chain, recA(wireName("edge.cdn.test"), fmt.Sprintf("127.4.0.%d", i+1)))
	}
	for _, c := range []struct {
		name string
		from string // the sender's address: port 53 makes it a DNS answer
		msg  []byte
	}{
		{"other-udp", "127.0.0.1:0", []byte("not dns")},
		{"answer-1-A", "127.0.0.53:53", dnsAnswer("one.bench.test", recA(ptrQ, "127.4.1.1"))},
		{"answer-CNAME-15-A", "127.0.0.53:53", dnsAnswer("chain.bench.test", chain...)},
	} {
		b.Run(c.name, func(b *testing.B) {
			src, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(mustAddrPort(c.from)))
			if err != nil {
				b.Fatal(err)
			}
			defer src.Close()
			dst, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				b.Fatal(err)
			}
			defer dst.Close()
			buf := make([]byte, 2048)
			s0, err := prog.Stats()
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := src.WriteToUDP(c.msg, dst.LocalAddr().(*net.UDPAddr)); err != nil {
					b.Fatal(err)
				}
				if _, err := dst.Read(buf); err != nil {
					b.Fatal(err)
				}
			}
			s1, err := prog.Stats()
			if err != nil {
				b.Fatal(err)
			}
			if runs := s1.RunCount - s0.RunCount; runs > 0 {
				b.ReportMetric(float64(s1.Runtime-s0.Runtime)/float64(runs), "ns/packet")
				b.ReportMetric(float64(runs)/float64(b.N), "runs/op")
			}
		})
	}
	tl.Stop()
}

func newProgNamed(tb testing.TB, before testutils.Objects, name string) *ebpf.Program {
	tb.Helper()
	for id := range testutils.Snapshot(tb).Progs {
		if before.Progs[id] {
			continue
		}
		p, err := ebpf.NewProgramFromID(id)
		if err != nil {
			continue
		}
		if info, err := p.Info(); err == nil && info.Name == name {
			return p
		}
		p.Close()
	}
	tb.Fatalf("no new program %s", name)
	return nil
}

func mustAddrPort(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
