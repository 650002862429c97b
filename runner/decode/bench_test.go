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

// handwrittenClock is what a careful hand-written formatter does for a HH:MM:SS column:
// read the clock per event, format it once per second.
type handwrittenClock struct {
	sec  int64
	text [8]byte
}

func (c *handwrittenClock) append(dst []byte) []byte {
	now := time.Now()
	if s := now.Unix(); s != c.sec {
		h, m, sec := now.Clock()
		c.sec = s
		c.text = [8]byte{byte('0' + h/10), byte('0' + h%10), ':', byte('0' + m/10), byte('0' + m%10), ':', byte('0' + sec/10), byte('0' + sec%10)}
	}
	return append(dst, c.text[:]...)
}

// handwrittenBootstrapText is eunomia's text line for bootstrapEvent (the TIME column, then
// each value at its header column's start, or after one space), written by hand.
func handwrittenBootstrapText(clock *handwrittenClock) func(dst, s []byte) []byte {
	starts := [...]int{9, 16, 23, 33, 45, 52, 61}
	return func(dst, s []byte) []byte {
		start := len(dst)
		dst = clock.append(dst)
		dst = append(dst, ' ')
		col := func(i int) {
			if n := len(dst) - start; n < starts[i] {
				for ; n < starts[i]; n++ {
					dst = append(dst, ' ')
				}
			} else {
				dst = append(dst, ' ')
			}
		}
		col(0)
		dst = strconv.AppendInt(dst, int64(int32(binary.LittleEndian.Uint32(s[0:]))), 10)
		col(1)
		dst = strconv.AppendInt(dst, int64(int32(binary.LittleEndian.Uint32(s[4:]))), 10)
		col(2)
		dst = strconv.AppendUint(dst, uint64(binary.LittleEndian.Uint32(s[8:])), 10)
		col(3)
		dst = strconv.AppendUint(dst, binary.LittleEndian.Uint64(s[16:]), 10)
		col(4)
		dst = appendTextString(dst, cstr(s[24:40]))
		col(5)
		dst = appendTextString(dst, cstr(s[40:167]))
		col(6)
		return strconv.AppendBool(dst, s[167] != 0)
	}
}

// handwrittenConnJSON is the tcpconnlat event's JSON line, written by hand.
func handwrittenConnJSON(dst, s []byte) []byte {
	af := int32(binary.LittleEndian.Uint32(s[68:]))
	addr := func(dst, b []byte) []byte {
		dst = append(dst, '"')
		if af == 10 {
			dst = netip.AddrFrom16([16]byte(b[:16])).AppendTo(dst)
		} else {
			dst = netip.AddrFrom4([4]byte(b[:4])).AppendTo(dst)
		}
		return append(dst, '"')
	}
	dst = append(dst, `{"saddr":`...)
	dst = addr(dst, s[0:16])
	dst = append(dst, `,"daddr":`...)
	dst = addr(dst, s[16:32])
	dst = append(dst, `,"comm":`...)
	dst = appendJSONString(dst, cstr(s[32:48]))
	dst = append(dst, `,"delta_us":`...)
	dst = strconv.AppendUint(dst, binary.LittleEndian.Uint64(s[48:]), 10)
	dst = append(dst, `,"ts_us":`...)
	dst = strconv.AppendUint(dst, binary.LittleEndian.Uint64(s[56:]), 10)
	dst = append(dst, `,"tgid":`...)
	dst = strconv.AppendUint(dst, uint64(binary.LittleEndian.Uint32(s[64:])), 10)
	dst = append(dst, `,"af":"`...)
	switch af {
	case 2:
		dst = append(dst, "AF_INET(2)"...)
	case 10:
		dst = append(dst, "AF_INET6(10)"...)
	default:
		dst = append(dst, "<UNKNOWN_VARIANT>("...)
		dst = strconv.AppendInt(dst, int64(af), 10)
		dst = append(dst, ')')
	}
	dst = append(dst, `","lport":`...)
	dst = strconv.AppendUint(dst, uint64(binary.LittleEndian.Uint16(s[72:])), 10)
	dst = append(dst, `,"dport":`...)
	dst = strconv.AppendUint(dst, uint64(binary.LittleEndian.Uint16(s[74:])), 10)
	return append(dst, '}')
}

type benchCase struct {
	name   string
	plan   *Plan
	sample []byte
	// handText and handJSON are hand-written formatters of the same line, or nil.
	handText, handJSON func(dst, s []byte) []byte
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
		{"simple_prog", sp, dump, nil, nil},
		{"bootstrap", bp, bootstrapSample(), handwrittenBootstrapText(&handwrittenClock{}), handwrittenBootstrapJSON},
		{"tcpconnlat", cp, connEvents[1].bytes(), handwrittenConnText, handwrittenConnJSON},
	}
}

// TestHandwrittenMatches keeps the benchmark anchors honest: they produce the same bytes.
func TestHandwrittenMatches(t *testing.T) {
	for _, bc := range benchCases(t) {
		for _, f := range []struct {
			kind   string
			hand   func(dst, s []byte) []byte
			decode func(dst, s []byte) ([]byte, error)
		}{{"text", bc.handText, bc.plan.AppendText}, {"json", bc.handJSON, bc.plan.AppendJSON}} {
			if f.hand == nil {
				continue
			}
			// Both may read the wall clock: a second may pass between them, not three.
			var got, want []byte
			for range 3 {
				want = f.hand(nil, bc.sample)
				var err error
				if got, err = f.decode(nil, bc.sample); err != nil {
					t.Fatalf("%s/%s: %v", bc.name, f.kind, err)
				}
				if string(got) == string(want) {
					break
				}
			}
			if string(got) != string(want) {
				t.Errorf("%s/%s: decoder %q, handwritten %q", bc.name, f.kind, got, want)
			}
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
		if bc.handText != nil {
			run("handwritten-text", bc.handText)
		}
		if bc.handJSON != nil {
			run("handwritten-json", bc.handJSON)
		}
	}
}
