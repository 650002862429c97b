package decode

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// procEvent has the members of the process hints: an argv buffer with its length, a comm
// filtered by match=, a signal, a wait status, octal flags and a mode with a sentinel.
func procEvent() *btf.Struct {
	return &btf.Struct{Name: "ev", Size: 64, Tags: tag("time=off"), Members: []btf.Member{
		mem("comm", arr(tChar, 8), 0, tag("fmt=%-8s", "match=targ_name")...),
		mem("args_size", tU32, 40, tag("hide")...),
		mem("sig", tS32, 44, tag("format=signal", "fmt=%-4s")...),
		mem("status", tS32, 48, tag("format=wstatus", "name=EXIT_CODE", "fmt=%-10s")...),
		mem("flags", tU32, 52, tag("fmt=%-8.8o")...),
		mem("mode", tU32, 56, tag("fmt=%-4.4o", "map=4294967295:n/a")...),
		mem("args", arr(tChar, 32), 8, tag("format=argv", "quote=targ_quote", "len=args_size", "match=targ_line", "name=ARGS")...),
	}}
}

func procSample(comm, args string, size uint32, sig, status int32, flags, mode uint32) []byte {
	return sample(make([]byte, 64)).str(0, comm).str(8, args).u32(40, size).u32(44, uint32(sig)).u32(48, uint32(status)).u32(52, flags).u32(56, mode)
}

func TestProcessFormats(t *testing.T) {
	typ := roundTrip(t, procEvent())
	argv := "/bin/ls\x00-l\x00\x00a \"b\"\x00"
	for _, tc := range []struct {
		name   string
		flags  map[string]bool
		text   map[string]string
		sample []byte
		row    string // "" when filtered out
		json   string
	}{
		{
			name:   "plain",
			sample: procSample("ls", argv, uint32(len(argv)), 9, 3<<8, 0o100101, 0o644),
			row:    "ls       KILL code 3     00100101 0644 /bin/ls -l  a \"b\"",
			json:   `{"comm":"ls","args_size":18,"sig":"KILL","status":"code 3","flags":32833,"mode":420,"args":["/bin/ls","-l","","a \"b\""]}`,
		},
		{
			name:   "quoted-signal-status-sentinel",
			flags:  map[string]bool{"targ_quote": true},
			sample: procSample("sh", argv, uint32(len(argv)), 10, 0x80|11, 0, 0xffffffff),
			row:    `sh       USR1 signal 11 (SEGV), core dumped 00000000 n/a  "/bin/ls" "-l" "" "a \"b\""`,
			json:   `{"comm":"sh","args_size":18,"sig":"USR1","status":"signal 11 (SEGV), core dumped","flags":0,"mode":4294967295,"args":["/bin/ls","-l","","a \"b\""]}`,
		},
		{
			name:   "len-cuts-unterminated-and-unknown-signals",
			sample: procSample("x", "abc\x00defgh", 6, 40, 33, 8, 0),
			row:    "x        40   signal 33 (unknown) 00000010 0000 abc de",
			json:   `{"comm":"x","args_size":6,"sig":"40","status":"signal 33 (unknown)","flags":8,"mode":0,"args":["abc","de"]}`,
		},
		{
			name:   "exit-zero-empty-args",
			sample: procSample("y", "", 0, 0, 0, 0, 0),
			row:    "y        0    0          00000000 0000 ",
			json:   `{"comm":"y","args_size":0,"sig":"0","status":"0","flags":0,"mode":0,"args":[]}`,
		},
		{
			name:   "match-keeps",
			text:   map[string]string{"targ_name": "^l", "targ_line": `-l +a "b"`},
			flags:  map[string]bool{"targ_quote": true}, // the filter sees the unquoted text
			sample: procSample("ls", argv, uint32(len(argv)), 9, 0, 0, 0),
			row:    `ls       KILL 0          00000000 0000 "/bin/ls" "-l" "" "a \"b\""`,
			json:   `{"comm":"ls","args_size":18,"sig":"KILL","status":"0","flags":0,"mode":0,"args":["/bin/ls","-l","","a \"b\""]}`,
		},
		{
			name:   "match-drops-comm",
			text:   map[string]string{"targ_name": "^s"},
			sample: procSample("ls", argv, uint32(len(argv)), 9, 0, 0, 0),
		},
		{
			name:   "match-drops-args",
			text:   map[string]string{"targ_line": "-x"},
			sample: procSample("ls", argv, uint32(len(argv)), 9, 0, 0, 0),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Compile(typ, Options{
				Flag: func(n string) bool { return tc.flags[n] },
				Text: func(n string) string { return tc.text[n] },
			})
			if err != nil {
				t.Fatal(err)
			}
			if want := "COMM     SIG  EXIT_CODE  FLAGS    MODE ARGS"; p.Header() != want {
				t.Errorf("header:\n got %q\nwant %q", p.Header(), want)
			}
			line, err := p.AppendText([]byte("kept:"), tc.sample)
			if err != nil {
				t.Fatal(err)
			}
			js, err := p.AppendJSON(nil, tc.sample)
			if err != nil {
				t.Fatal(err)
			}
			if tc.row == "" {
				if string(line) != "kept:" || len(js) != 0 || p.Match(tc.sample) {
					t.Fatalf("filtered sample printed: %q / %s", line, js)
				}
				return
			}
			if !p.Match(tc.sample) {
				t.Error("Match is false for a printed sample")
			}
			if string(line) != "kept:"+tc.row {
				t.Errorf("row:\n got %q\nwant %q", line, "kept:"+tc.row)
			}
			if !json.Valid(js) || string(js) != tc.json {
				t.Errorf("JSON:\n got %s\nwant %s", js, tc.json)
			}
		})
	}
}

func TestArgvWithoutLen(t *testing.T) {
	// Without len= the list ends at the first empty string or the end of the buffer.
	typ := roundTrip(t, &btf.Struct{Name: "ev", Size: 16, Members: []btf.Member{
		mem("args", arr(tChar, 16), 0, tag("format=argv")...),
	}})
	p, err := Compile(typ, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		"a\x00b\x00\x00junk\x00": "a b",
		"abcdefgh\x00ijklmno":    "abcdefgh ijklmno",
		"\x00x":                  "",
		"new\nline\x00":          `new\nline`,
	} {
		s := sample(make([]byte, 16)).str(0, in)
		got, err := p.AppendFieldText(nil, s, 0)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}

func TestWaitStatus(t *testing.T) {
	for ws, want := range map[uint64]string{
		0:              "0",
		1 << 8:         "code 1",
		255 << 8:       "code 255",
		9:              "signal 9 (KILL)",
		15:             "signal 15 (TERM)",
		6 | 0x80:       "signal 6 (ABRT), core dumped",
		64:             "signal 64 (RTMAX)",
		0x80:           ", core dumped",
		0x7f | 3<<8:    "signal 127 (unknown)",
		1<<32 | 2<<8:   "code 2",
		0xffff0000 | 1: "signal 1 (HUP)",
	} {
		if got := string(appendWaitStatus(nil, ws)); got != want {
			t.Errorf("%#x: got %q, want %q", ws, got, want)
		}
	}
}

func TestTimeAnyOf(t *testing.T) {
	typ := roundTrip(t, &btf.Struct{Name: "ev", Size: 4, Tags: tag("time=targ_t,targ_utc"), Members: []btf.Member{mem("pid", tU32, 0, tag("name=PID")...)}})
	for _, tc := range []struct {
		on   map[string]bool
		want string
	}{
		{nil, "PID"},
		{map[string]bool{"targ_t": true}, "TIME     PID"},
		{map[string]bool{"targ_utc": true}, "TIME     PID"},
	} {
		p, err := Compile(typ, Options{Flag: func(n string) bool { return tc.on[n] }})
		if err != nil {
			t.Fatal(err)
		}
		if p.Header() != tc.want {
			t.Errorf("flags %v: header %q, want %q", tc.on, p.Header(), tc.want)
		}
	}
}

func TestShowNegated(t *testing.T) {
	typ := roundTrip(t, &btf.Struct{Name: "ev", Size: 8, Tags: tag("time=off"), Members: []btf.Member{
		mem("pid", tU32, 0, tag("name=PID", "show=!targ_tid")...),
		mem("tid", tU32, 4, tag("name=TID", "show=targ_tid")...),
	}})
	for on, want := range map[bool]string{false: "PID", true: "TID"} {
		p, err := Compile(typ, Options{Flag: func(string) bool { return on }})
		if err != nil {
			t.Fatal(err)
		}
		if p.Header() != want {
			t.Errorf("targ_tid=%v: header %q, want %q", on, p.Header(), want)
		}
	}
}

func TestProcessHintErrors(t *testing.T) {
	one := func(m ...btf.Member) *btf.Struct {
		return &btf.Struct{Name: "ev", Size: 16, Members: append(m, mem("n", tU32, 12))}
	}
	str := func(tags ...string) btf.Member { return mem("s", arr(tChar, 8), 0, tags...) }
	num := func(tags ...string) btf.Member { return mem("v", tU32, 8, tags...) }
	for _, tc := range []struct {
		name string
		typ  *btf.Struct
		want string
	}{
		{"argv-on-int", one(num(tag("format=argv")...)), "format=argv"},
		{"signal-on-string", one(str(tag("format=signal")...)), "format=signal"},
		{"wstatus-on-string", one(str(tag("format=wstatus")...)), "format=wstatus"},
		{"quote-without-argv", one(str(tag("quote=targ_q")...)), "quote"},
		{"quote-not-ident", one(str(tag("format=argv", "quote=a-b")...)), "quote"},
		{"len-missing", one(str(tag("len=nope")...)), "nope"},
		{"len-on-int", one(num(tag("len=n")...)), "char array"},
		{"len-not-int", one(str(tag("len=s2")...), mem("s2", arr(tChar, 4), 8)), "not an integer"},
		{"match-not-ident", one(str(tag("match=x y")...)), "match"},
		{"match-nested", &btf.Struct{Name: "ev", Size: 8, Members: []btf.Member{mem("in", &btf.Struct{Name: "in", Size: 8, Members: []btf.Member{str(tag("match=g")...)}}, 0)}}, "match"},
		{"show-bad", one(num(tag("show=!")...)), "show"},
		{"octal-on-string", one(str(tag("fmt=%o")...)), "fmt"},
		{"time-list-bad", &btf.Struct{Name: "ev", Size: 4, Tags: tag("time=a,,b"), Members: []btf.Member{mem("pid", tU32, 0)}}, "time"},
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

func TestMatchBadRegexp(t *testing.T) {
	typ := roundTrip(t, procEvent())
	_, err := Compile(typ, Options{Text: func(n string) string {
		if n == "targ_line" {
			return "(unclosed"
		}
		return ""
	}})
	if !errors.Is(err, ErrBadFilter) || !strings.Contains(err.Error(), "match=targ_line") || !strings.Contains(err.Error(), "(unclosed") {
		t.Fatalf("got %v, want ErrBadFilter naming match=targ_line and the expression", err)
	}
}

func BenchmarkMatchArgv(b *testing.B) {
	typ := roundTrip(b, procEvent())
	p, err := Compile(typ, Options{Text: func(n string) string {
		if n == "targ_line" {
			return "-l"
		}
		return ""
	}})
	if err != nil {
		b.Fatal(err)
	}
	argv := "/bin/ls\x00-l\x00\x00a \"b\"\x00"
	s := procSample("ls", argv, uint32(len(argv)), 9, 3<<8, 0o100101, 0o644)
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = p.AppendText(buf[:0], s)
	}
}
