package decode

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"
)

func tag(s ...string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = hintPrefix + v
	}
	return out
}

// tcpconnlatEvent is libbpf-tools' tcpconnlat event with ecli display hints reproducing
// bcc's python output (formats "%-7d %-12.12s %-2d %-16s %-16s %-5d %.2f").
func tcpconnlatEvent() *btf.Struct {
	addr := func(prefix string) *btf.Union {
		return &btf.Union{Size: 16, Members: []btf.Member{
			{Name: prefix + "_v4", Type: &btf.Typedef{Name: "__u32", Type: tU32}, Tags: tag("case=2", "format=ipv4")},
			{Name: prefix + "_v6", Type: arr(&btf.Typedef{Name: "__u8", Type: tU8}, 16), Tags: tag("case=AF_INET6", "format=ipv6")},
		}}
	}
	u64 := &btf.Typedef{Name: "__u64", Type: tU64}
	u16 := &btf.Typedef{Name: "__u16", Type: tU16}
	af := &btf.Enum{Name: "af", Size: 4, Signed: true, Values: []btf.EnumValue{{Name: "AF_INET", Value: 2}, {Name: "AF_INET6", Value: 10}}}
	return &btf.Struct{Name: "event", Size: 80, Tags: append(tag("time=off"), "other-tool:ignored"), Members: []btf.Member{
		mem("", addr("saddr"), 0, tag("name=SADDR", "select=af", "fmt=%-16s", "order=4")...),
		mem("daddr", addr("daddr"), 16, tag("name=DADDR", "select=af", "fmt=%-16s", "order=6")...),
		mem("comm", arr(tChar, 16), 32, tag("name=COMM", "fmt=%-12.12s", "order=2")...),
		mem("delta_us", u64, 48, append(tag("name=LAT(ms)", "div=1000", "fmt=%.2f", "order=8", "unit=us"), "not-ecli")...),
		mem("ts_us", u64, 56, tag("name=TIME(s)", "rel", "div=1000000", "fmt=%-9.3f", "order=0", "show=targ_timestamp")...),
		mem("tgid", tU32, 64, tag("name=PID", "fmt=%-7d", "order=1")...),
		mem("af", af, 68, tag("name=IP", "fmt=%-2d", "order=3", "map=2:4,10:6")...),
		mem("lport", u16, 72, tag("name=LPORT", "fmt=%-6d", "order=5", "show=targ_lport")...),
		mem("dport", u16, 74, tag("name=DPORT", "fmt=%-5d", "order=7")...),
	}}
}

type connEvent struct {
	pid         uint32
	comm        string
	af          int32
	saddr       string // hex of 4 or 16 bytes
	daddr       string
	lport       uint16
	dport       uint16
	deltaUS, ts uint64
}

func (e connEvent) bytes() []byte {
	s := sample(make([]byte, 80))
	sa, _ := hex.DecodeString(e.saddr)
	da, _ := hex.DecodeString(e.daddr)
	copy(s[0:], sa)
	copy(s[16:], da)
	return s.str(32, e.comm).u64(48, e.deltaUS).u64(56, e.ts).u32(64, e.pid).u32(68, uint32(e.af)).u16(72, e.lport).u16(74, e.dport)
}

var connEvents = []connEvent{
	{1201, "wget", 2, "0a99df9d", "171764e7", 40000, 80, 1650, 1000000},
	{20337, "python2.7", 10, "1234ab12204050202299000000050000", "1234ab1200209f1d2299dde9000000f5", 40001, 7001, 62200, 1500000},
	{21588, "abcdefghijklmno", 10, "00000000000000000000000000000001", "00000000000000000000ffff01020304", 5, 80, 50, 3250000},
}

func TestTcpconnlatHints(t *testing.T) {
	typ := roundTrip(t, tcpconnlatEvent())

	// The Builder must have written the decl tags and the loader read them back.
	s := typ.(*btf.Struct)
	orig := tcpconnlatEvent()
	if !reflect.DeepEqual(s.Tags, orig.Tags) {
		t.Fatalf("struct tags after round trip: %q, want %q", s.Tags, orig.Tags)
	}
	for i := range orig.Members {
		if !reflect.DeepEqual(s.Members[i].Tags, orig.Members[i].Tags) {
			t.Fatalf("member %d tags after round trip: %q, want %q", i, s.Members[i].Tags, orig.Members[i].Tags)
		}
	}
	arm := btf.UnderlyingType(s.Members[0].Type).(*btf.Union).Members[1]
	if want := tag("case=AF_INET6", "format=ipv6"); !reflect.DeepEqual(arm.Tags, want) {
		t.Fatalf("union arm tags after round trip: %q, want %q", arm.Tags, want)
	}

	// Lines computed with python's % operator and bcc's format strings.
	for _, tc := range []struct {
		name  string
		flags map[string]bool
		lines []string
	}{
		{"default", nil, []string{
			"PID     COMM         IP SADDR            DADDR            DPORT LAT(ms)",
			"1201    wget         4  10.153.223.157   23.23.100.231    80    1.65",
			"20337   python2.7    6  1234:ab12:2040:5020:2299:0:5:0 1234:ab12:20:9f1d:2299:dde9:0:f5 7001  62.20",
			"21588   abcdefghijkl 6  ::1              ::ffff:1.2.3.4   80    0.05",
		}},
		{"timestamp+lport", map[string]bool{"targ_timestamp": true, "targ_lport": true}, []string{
			"TIME(s)   PID     COMM         IP SADDR            LPORT  DADDR            DPORT LAT(ms)",
			"0.000     1201    wget         4  10.153.223.157   40000  23.23.100.231    80    1.65",
			"0.500     20337   python2.7    6  1234:ab12:2040:5020:2299:0:5:0 40001  1234:ab12:20:9f1d:2299:dde9:0:f5 7001  62.20",
			"2.250     21588   abcdefghijkl 6  ::1              5      ::ffff:1.2.3.4   80    0.05",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Compile(typ, Options{Flag: func(name string) bool { return tc.flags[name] }, Time: fixedClock})
			if err != nil {
				t.Fatal(err)
			}
			if !p.Hinted() {
				t.Error("hinted plan reports !Hinted")
			}
			if p.Header() != tc.lines[0] {
				t.Errorf("header:\n got %q\nwant %q", p.Header(), tc.lines[0])
			}
			for i, ev := range connEvents {
				line, err := p.AppendText(nil, ev.bytes())
				if err != nil {
					t.Fatal(err)
				}
				if string(line) != tc.lines[i+1] {
					t.Errorf("row %d:\n got %q\nwant %q", i, line, tc.lines[i+1])
				}
			}
		})
	}

	p, err := Compile(typ, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var golden []byte
	for _, ev := range connEvents {
		js, err := p.AppendJSON(nil, ev.bytes())
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(js) {
			t.Fatalf("invalid JSON %s", js)
		}
		golden = append(append(golden, js...), '\n')
	}
	first := `{"saddr":"10.153.223.157","daddr":"23.23.100.231","comm":"wget","delta_us":1650,"ts_us":1000000,"tgid":1201,"af":"AF_INET(2)","lport":40000,"dport":80}`
	if got, _, _ := strings.Cut(string(golden), "\n"); got != first {
		t.Errorf("JSON:\n got %s\nwant %s", got, first)
	}
	checkGolden(t, "tcpconnlat.json.golden", golden)

	// An af without a case falls back to the first arm.
	odd := connEvent{1, "x", 0, "01020304", "05060708", 1, 2, 3, 4}
	line, _ := p.AppendText(nil, odd.bytes())
	if want := "1       x            0  1.2.3.4          5.6.7.8          2     0.00"; string(line) != want {
		t.Errorf("fallback row:\n got %q\nwant %q", line, want)
	}

	// Fields expose names, offsets, hints and visibility for the runner and inspect.
	f := p.Fields()
	if f[0].Name != "saddr" || f[0].Column != "SADDR" || f[4].Name != "ts_us" || !f[4].Hidden || f[3].Offset != 48 {
		t.Errorf("fields: %+v", f)
	}
	if want := []string{"name=LAT(ms)", "div=1000", "fmt=%.2f", "order=8", "unit=us"}; !reflect.DeepEqual(f[3].Hints, want) {
		t.Errorf("hints %q, want %q", f[3].Hints, want)
	}
}

func TestHintRendering(t *testing.T) {
	u32 := tU32
	for _, tc := range []struct {
		name   string
		typ    *btf.Struct
		sample []byte
		header string
		rows   []string // one per AppendText call on the same sample
		json   string
	}{
		{
			name: "formats",
			typ: &btf.Struct{Name: "s", Size: 32, Members: []btf.Member{
				mem("ip", u32, 0, tag("format=ipv4")...),
				mem("ip4b", arr(tU8, 4), 4, tag("format=ipv4", "fmt=%16s")...),
				mem("flags", u32, 8, tag("format=hex", "fmt=%-10s")...),
				mem("x", tS32, 12, tag("fmt=%x")...),
				mem("u", tS32, 12, tag("fmt=%u")...),
				mem("p", tU16, 16, tag("fmt=%.5d")...),
				mem("f", tS32, 12, tag("fmt=%8.1f")...),
				mem("fl", tF64, 24, tag("fmt=%-6d", "name=Fl")...),
				mem("e", enumE, 20, tag("fmt=%d")...),
			}},
			sample: sample(make([]byte, 32)).u32(0, 0x0100007f).str(4, "\xc0\xa8\x00\x01").u32(8, 0xbeef).u32(12, 0xfffffffe).u16(16, 42).u32(20, 7).u64(24, 0x400c000000000000),
			header: "TIME     IP             IP4B FLAGS      X U P        F Fl     E",
			rows:   []string{"03:04:05 127.0.0.1      192.168.0.1 0xbeef     fffffffe 4294967294 00042     -2.0 3      7"},
			json:   `{"ip":"127.0.0.1","ip4b":"192.168.0.1","flags":"0xbeef","x":-2,"u":-2,"p":42,"f":-2,"fl":3.5,"e":"E_C(7)"}`,
		},
		{
			name: "rel-map-default-widths",
			typ: &btf.Struct{Name: "s", Size: 16, Tags: tag("time=off"), Members: []btf.Member{
				mem("ts", tU64, 0, tag("rel", "name=T")...),
				mem("state", tU32, 8, tag("map=1:ESTABLISHED,2:SYN_SENT")...),
				mem("secret", tU32, 12, tag("hide")...),
			}},
			sample: sample(make([]byte, 16)).u64(0, 500).u32(8, 2).u32(12, 99),
			header: "T STATE",
			rows:   []string{"0 SYN_SENT", "0 SYN_SENT"},
			json:   `{"ts":500,"state":2,"secret":99}`,
		},
		{
			name: "right-aligned-last-and-utf8",
			typ: &btf.Struct{Name: "s", Size: 16, Tags: tag("time=off"), Members: []btf.Member{
				mem("comm", arr(tChar, 8), 0, tag("fmt=%-6.3s")...),
				mem("n", tU32, 8, tag("fmt=%6d", "name=N")...),
				mem("", &btf.Union{Size: 4, Members: []btf.Member{mem("a", tU32, 0), mem("b", arr(tU8, 4), 0)}}, 12, tag("name=Both")...),
			}},
			sample: sample(make([]byte, 16)).str(0, "héllo").u32(8, 42).u32(12, 1),
			header: "COMM        N Both",
			rows:   []string{"hél        42 {\"a\":1,\"b\":[1,0,0,0]}"},
			json:   `{"comm":"héllo","n":42,"both":{"a":1,"b":[1,0,0,0]}}`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Compile(roundTrip(t, tc.typ), Options{Time: fixedClock})
			if err != nil {
				t.Fatal(err)
			}
			if p.Header() != tc.header {
				t.Errorf("header:\n got %q\nwant %q", p.Header(), tc.header)
			}
			for i, want := range tc.rows {
				line, err := p.AppendText(nil, tc.sample)
				if err != nil {
					t.Fatal(err)
				}
				if string(line) != want {
					t.Errorf("row %d:\n got %q\nwant %q", i, line, want)
				}
			}
			js, err := p.AppendJSON(nil, tc.sample)
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(js) || string(js) != tc.json {
				t.Errorf("JSON:\n got %s\nwant %s", js, tc.json)
			}
		})
	}
}

func TestHintErrors(t *testing.T) {
	one := func(tags ...string) *btf.Struct {
		return &btf.Struct{Name: "ev", Size: 8, Members: []btf.Member{mem("pid", tU32, 0, tags...), mem("val", tU32, 4)}}
	}
	union := &btf.Union{Size: 4, Members: []btf.Member{mem("a", tU32, 0, tag("case=1")...), mem("b", tU32, 0)}}
	for _, tc := range []struct {
		name string
		typ  *btf.Struct
		want string // substring of the error
	}{
		{"unknown", one(tag("fomat=hex")...), `pid: hint "ecli:fomat=hex": unknown hint`},
		{"bad-fmt", one(tag("fmt=%q")...), "pid"},
		{"fmt-text", one(tag("fmt=%d %s")...), "fmt"},
		{"fmt-verb-on-string", &btf.Struct{Name: "ev", Size: 4, Members: []btf.Member{mem("comm", arr(tChar, 4), 0, tag("fmt=%d")...)}}, "comm"},
		{"ipv4-on-u64", &btf.Struct{Name: "ev", Size: 8, Members: []btf.Member{mem("addr", tU64, 0, tag("format=ipv4")...)}}, "addr"},
		{"ipv6-on-u32", one(tag("format=ipv6")...), "pid"},
		{"bad-format", one(tag("format=ipv5")...), "ipv5"},
		{"div-zero", one(tag("div=0")...), "div"},
		{"div-on-string", &btf.Struct{Name: "ev", Size: 4, Members: []btf.Member{mem("comm", arr(tChar, 4), 0, tag("div=10")...)}}, "comm"},
		{"bad-map", one(tag("map=1")...), "map"},
		{"bad-order", one(tag("order=x")...), "order"},
		{"hide-value", one(tag("hide=1")...), "hide"},
		{"twice", one(tag("name=A", "name=B")...), "twice"},
		{"time-on-member", one(tag("time=off")...), "time"},
		{"struct-hint", &btf.Struct{Name: "ev", Size: 4, Tags: tag("time=may be"), Members: []btf.Member{mem("pid", tU32, 0)}}, "ev"},
		{"select-missing", &btf.Struct{Name: "ev", Size: 8, Members: []btf.Member{mem("u", union, 0, tag("select=af")...), mem("x", tU32, 4)}}, "af"},
		{"select-not-union", one(tag("select=val")...), "pid"},
		{"select-string", &btf.Struct{Name: "ev", Size: 8, Members: []btf.Member{mem("u", union, 0, tag("select=c")...), mem("c", arr(tChar, 4), 4)}}, "select=c"},
		{"case-without-select", &btf.Struct{Name: "ev", Size: 4, Members: []btf.Member{mem("u", union, 0)}}, "case"},
		{"bad-case", &btf.Struct{Name: "ev", Size: 8, Members: []btf.Member{mem("u", &btf.Union{Size: 4, Members: []btf.Member{mem("a", tU32, 0, tag("case=two")...)}}, 0, tag("select=x")...), mem("x", tU32, 4)}}, "two"},
		{"order-nested", &btf.Struct{Name: "ev", Size: 4, Members: []btf.Member{mem("in", &btf.Struct{Name: "in", Size: 4, Members: []btf.Member{mem("deep", tU32, 0, tag("order=1")...)}}, 0)}}, "deep"},
		{"format-and-map", one(tag("format=hex", "map=1:a")...), "pid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile(roundTrip(t, tc.typ), Options{})
			if !errors.Is(err, ErrBadHint) {
				t.Fatalf("got %v, want ErrBadHint", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}
