package decode

import (
	"encoding/binary"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/cilium/ebpf/btf"
)

// bootstrapEvent is libbpf-bootstrap's event (eunomia's bootstrap.json export type).
func bootstrapEvent() *btf.Struct {
	return &btf.Struct{Name: "event", Size: 168, Members: []btf.Member{
		mem("pid", tS32, 0), mem("ppid", tS32, 4), mem("exit_code", tU32, 8),
		mem("duration_ns", tU64, 16), mem("comm", arr(tChar, 16), 24), mem("filename", arr(tChar, 127), 40),
		mem("exit_event", tBool, 167)}}
}

func bootstrapSample() []byte {
	return sample(make([]byte, 168)).u32(0, 4242).u32(4, 1).u32(8, 0).u64(16, 123456789).
		str(24, "bash").str(40, "/usr/bin/ls").u8(167, 1)
}

// handwrittenBootstrapJSON is what one would write by hand for bootstrapEvent.
func handwrittenBootstrapJSON(dst, s []byte) []byte {
	dst = append(dst, `{"pid":`...)
	dst = strconv.AppendInt(dst, int64(int32(binary.LittleEndian.Uint32(s[0:]))), 10)
	dst = append(dst, `,"ppid":`...)
	dst = strconv.AppendInt(dst, int64(int32(binary.LittleEndian.Uint32(s[4:]))), 10)
	dst = append(dst, `,"exit_code":`...)
	dst = strconv.AppendUint(dst, uint64(binary.LittleEndian.Uint32(s[8:])), 10)
	dst = append(dst, `,"duration_ns":`...)
	dst = strconv.AppendUint(dst, binary.LittleEndian.Uint64(s[16:]), 10)
	dst = append(dst, `,"comm":`...)
	dst = appendJSONString(dst, cstr(s[24:40]))
	dst = append(dst, `,"filename":`...)
	dst = appendJSONString(dst, cstr(s[40:167]))
	dst = append(dst, `,"exit_event":`...)
	dst = strconv.AppendBool(dst, s[167] != 0)
	return append(dst, '}')
}

func padTo(dst []byte, start, width int) []byte {
	for len(dst)-start < width {
		dst = append(dst, ' ')
	}
	return dst
}

// handwrittenConnText is bcc's "%-7d %-12.12s %-2d %-16s %-16s %-5d %.2f" for the tcpconnlat
// event, written by hand.
func handwrittenConnText(dst, s []byte) []byte {
	af := binary.LittleEndian.Uint32(s[68:])
	addr := func(dst, b []byte) []byte {
		if af == 10 {
			return netip.AddrFrom16([16]byte(b[:16])).AppendTo(dst)
		}
		return netip.AddrFrom4([4]byte(b[:4])).AppendTo(dst)
	}
	start := len(dst)
	dst = strconv.AppendUint(dst, uint64(binary.LittleEndian.Uint32(s[64:])), 10)
	dst = padTo(dst, start, 7)
	dst = append(dst, ' ')
	start = len(dst)
	comm := cstr(s[32:48])
	if len(comm) > 12 {
		comm = comm[:12]
	}
	dst = append(dst, comm...)
	dst = padTo(dst, start, 12)
	dst = append(dst, ' ')
	start = len(dst)
	switch af {
	case 2:
		dst = append(dst, '4')
	case 10:
		dst = append(dst, '6')
	default:
		dst = strconv.AppendInt(dst, int64(int32(af)), 10)
	}
	dst = padTo(dst, start, 2)
	dst = append(dst, ' ')
	start = len(dst)
	dst = addr(dst, s[0:16])
	dst = padTo(dst, start, 16)
	dst = append(dst, ' ')
	start = len(dst)
	dst = addr(dst, s[16:32])
	dst = padTo(dst, start, 16)
	dst = append(dst, ' ')
	start = len(dst)
	dst = strconv.AppendUint(dst, uint64(binary.LittleEndian.Uint16(s[74:])), 10)
	dst = padTo(dst, start, 5)
	dst = append(dst, ' ')
	return strconv.AppendFloat(dst, float64(binary.LittleEndian.Uint64(s[48:]))/1000, 'f', 2, 64)
}

type benchCase struct {
	name        string
	plan        *Plan
	sample      []byte
	handwritten func(dst, s []byte) []byte
	handText    bool // handwritten renders text, else JSON
}

func benchCases(t testing.TB) []benchCase {
	simple, dump := loadSimpleProg(t)
	sp, err := Compile(simple, Options{})
	if err != nil {
		t.Fatal(err)
	}
	bp, err := Compile(roundTrip(t, bootstrapEvent()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	cp, err := Compile(roundTrip(t, tcpconnlatEvent()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return []benchCase{
		{"simple_prog", sp, dump, nil, false},
		{"bootstrap", bp, bootstrapSample(), handwrittenBootstrapJSON, false},
		{"tcpconnlat", cp, connEvents[1].bytes(), handwrittenConnText, true},
	}
}

// TestHandwrittenMatches keeps the benchmark anchors honest: they produce the same bytes.
func TestHandwrittenMatches(t *testing.T) {
	for _, bc := range benchCases(t) {
		if bc.handwritten == nil {
			continue
		}
		want := bc.handwritten(nil, bc.sample)
		var got []byte
		var err error
		if bc.handText {
			got, err = bc.plan.AppendText(nil, bc.sample)
		} else {
			got, err = bc.plan.AppendJSON(nil, bc.sample)
		}
		if err != nil || string(got) != string(want) {
			t.Errorf("%s: decoder %q (%v), handwritten %q", bc.name, got, err, want)
		}
	}
}

// TestZeroAllocs proves that a compiled plan renders events without allocating.
func TestZeroAllocs(t *testing.T) {
	type pc struct {
		name   string
		p      *Plan
		sample []byte
	}
	var cases []pc
	for _, bc := range benchCases(t) {
		cases = append(cases, pc{bc.name, bc.plan, bc.sample})
	}
	for _, tc := range typeCases() {
		p, err := Compile(roundTrip(t, tc.typ), Options{})
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, pc{tc.name, p, tc.sample})
	}
	flags, err := Compile(roundTrip(t, tcpconnlatEvent()), Options{Flag: func(string) bool { return true }})
	if err != nil {
		t.Fatal(err)
	}
	cases = append(cases, pc{"tcpconnlat-flags", flags, connEvents[1].bytes()})
	buf := make([]byte, 0, 4096)
	for _, c := range cases {
		if n := testing.AllocsPerRun(100, func() { buf, _ = c.p.AppendText(buf[:0], c.sample) }); n != 0 {
			t.Errorf("%s: AppendText allocates %v times per event", c.name, n)
		}
		if n := testing.AllocsPerRun(100, func() { buf, _ = c.p.AppendJSON(buf[:0], c.sample) }); n != 0 {
			t.Errorf("%s: AppendJSON allocates %v times per event", c.name, n)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, bc := range benchCases(b) {
		run := func(name string, f func(dst, s []byte) []byte) {
			b.Run(bc.name+"/"+name, func(b *testing.B) {
				buf := make([]byte, 0, 4096)
				b.ReportAllocs()
				b.SetBytes(int64(len(bc.sample)))
				start := time.Now()
				for b.Loop() {
					buf = f(buf[:0], bc.sample)
				}
				b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N), "ns/event")
			})
		}
		run("text", func(dst, s []byte) []byte { dst, _ = bc.plan.AppendText(dst, s); return dst })
		run("json", func(dst, s []byte) []byte { dst, _ = bc.plan.AppendJSON(dst, s); return dst })
		if bc.handwritten != nil {
			run("handwritten", bc.handwritten)
		}
	}
}
