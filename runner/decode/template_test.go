package decode

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// mountFlags is a bit-flag enum in the style of <sys/mount.h>, MS_MGC_VAL (a multi-bit
// value) first as bcc's decode_mount_flags tests it first.
var mountFlags = &btf.Enum{Name: "mount_flags", Size: 4, Values: []btf.EnumValue{
	{Name: "MS_MGC_VAL", Value: 0xc0ed0000},
	{Name: "MS_RDONLY", Value: 1},
	{Name: "MS_NOSUID", Value: 2},
	{Name: "MS_NODEV", Value: 4},
	{Name: "MS_BIND", Value: 4096},
}}

var umountFlags = &btf.Enum{Name: "umount_flags", Size: 4, Values: []btf.EnumValue{
	{Name: "MNT_FORCE", Value: 1},
	{Name: "MNT_DETACH", Value: 2},
}}

// mountEvent is a mountsnoop-like event: the CALL column is a union whose arms are structs
// rendered as templates (fmt with literal text, sep=, format=cstring and format=flags).
func mountEvent() *btf.Struct {
	str := arr(tChar, 16)
	mount := &btf.Struct{Name: "mount_args", Size: 80, Members: []btf.Member{
		mem("source", str, 0, tag("format=cstring", "fmt=mount(%s", "sep=, ")...),
		mem("target", str, 16, tag("format=cstring", "sep=, ")...),
		mem("type", str, 32, tag("format=cstring", "sep=, ")...),
		mem("flags", mountFlags, 48, tag("format=flags", "sep=, ")...),
		mem("data", str, 52, tag("format=cstring", "fmt=%s)", "sep= = ")...),
		mem("ret", tS32, 68, tag("map=-2:-ENOENT,-1:-EPERM")...),
		mem("pad", tU32, 72, tag("hide")...),
	}}
	umount := &btf.Struct{Name: "umount_args", Size: 24, Members: []btf.Member{
		mem("target", str, 0, tag("format=cstring", "fmt=umount(%s", "sep=, ")...),
		mem("flags", umountFlags, 16, tag("format=flags", "fmt=%s)", "sep= = ")...),
		mem("ret", tS32, 20, tag("map=-2:-ENOENT,-1:-EPERM")...),
	}}
	call := &btf.Union{Name: "call", Size: 80, Members: []btf.Member{
		mem("mount", mount, 0, tag("case=0")...),
		mem("umount", umount, 0, tag("case=1")...),
	}}
	return &btf.Struct{Name: "mount_event", Size: 112, Tags: tag("time=off"), Members: []btf.Member{
		mem("comm", arr(tChar, 16), 0, tag("name=COMM", "fmt=%-16s")...),
		mem("pid", tU32, 16, tag("name=PID", "fmt=%-7d")...),
		mem("tid", tU32, 20, tag("name=TID", "fmt=%-7d")...),
		mem("mnt_ns", tU32, 24, tag("name=MNT_NS", "fmt=%-11d")...),
		mem("op", tU32, 28, tag("hide")...),
		mem("call", call, 32, tag("name=CALL", "select=op")...),
	}}
}

func TestTemplates(t *testing.T) {
	p, err := Compile(roundTrip(t, mountEvent()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	// bcc mountsnoop: '{:16} {:<7} {:<7} {:<11} {}'
	if want := fmt.Sprintf("%-16s %-7s %-7s %-11s %s", "COMM", "PID", "TID", "MNT_NS", "CALL"); p.Header() != want {
		t.Errorf("header:\n got %q\nwant %q", p.Header(), want)
	}
	mount := sample(make([]byte, 112)).str(0, "mount").u32(16, 10).u32(20, 11).u32(24, 4026531841).u32(28, 0).
		str(32, "none").str(48, "/tmp/x").str(64, "tmpfs").u32(80, 2|4).str(84, "").u32(100, 0)
	umount := sample(make([]byte, 112)).str(0, "umount").u32(16, 12).u32(20, 12).u32(24, 4026531841).u32(28, 1).
		str(32, "/tmp/x").u32(48, 2).u32(52, uint32(0xfffffffe))
	odd := sample(make([]byte, 112)).str(0, "m").u32(28, 0).
		str(32, "a\"b\\c\n\x01\xff").u32(80, 0xc0ed0000|4096|0x100).u32(100, uint32(0xffffffff))
	zero := sample(make([]byte, 112)).str(0, "m").u32(28, 0).u32(100, uint32(0xffffffe4)) // -28: unmapped
	for _, tc := range []struct {
		name   string
		sample []byte
		call   string
		json   string
	}{
		{"mount", mount, `mount("none", "/tmp/x", "tmpfs", MS_NOSUID|MS_NODEV, "") = 0`,
			`{"comm":"mount","pid":10,"tid":11,"mnt_ns":4026531841,"op":0,"call":{"source":"none","target":"/tmp/x","type":"tmpfs","flags":"MS_NOSUID|MS_NODEV","data":"","ret":0,"pad":0}}`},
		{"umount", umount, `umount("/tmp/x", MNT_DETACH) = -ENOENT`,
			`{"comm":"umount","pid":12,"tid":12,"mnt_ns":4026531841,"op":1,"call":{"target":"/tmp/x","flags":"MNT_DETACH","ret":-2}}`},
		{"escapes-and-unknown-bits", odd, `mount("a\"b\\c\n\x01\xff", "", "", MS_MGC_VAL|MS_BIND|0x100, "") = -EPERM`, ""},
		{"no-flags", zero, `mount("", "", "", 0x0, "") = -28`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			line, err := p.AppendText(nil, tc.sample)
			if err != nil {
				t.Fatal(err)
			}
			s := tc.sample
			head := fmt.Sprintf("%-16s %-7d %-7d %-11d ", cstr(s[0:16]), le(s[16:], 4), le(s[20:], 4), le(s[24:], 4))
			if want := head + tc.call; string(line) != want {
				t.Errorf("line:\n got %q\nwant %q", line, want)
			}
			js, err := p.AppendJSON(nil, tc.sample)
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(js) {
				t.Errorf("invalid JSON %s", js)
			}
			if tc.json != "" && string(js) != tc.json {
				t.Errorf("JSON:\n got %s\nwant %s", js, tc.json)
			}
		})
	}
}

// retransEvent is a tcpretrans-like event: addr:port cells from a nested struct (a hidden
// family, the address union, the port with literal text), padded as one cell, and bcc's
// "%1s>" column whose header is "T>".
func retransEvent() *btf.Struct {
	addr := &btf.Union{Size: 16, Members: []btf.Member{
		mem("v4", tU32, 0, tag("case=2", "format=ipv4")...),
		mem("v6", arr(tU8, 16), 0, tag("case=10", "format=ipv6")...),
	}}
	ep := &btf.Struct{Name: "endpoint", Size: 20, Members: []btf.Member{
		mem("addr", addr, 0, tag("select=af", "sep=")...),
		mem("port", tU16, 16, tag("fmt=:%d")...),
		mem("af", tU16, 18, tag("hide")...),
	}}
	kind := &btf.Enum{Name: "kind", Size: 4, Values: []btf.EnumValue{{Name: "R", Value: 1}, {Name: "L", Value: 2}}}
	return &btf.Struct{Name: "retrans", Size: 48, Tags: tag("time=off"), Members: []btf.Member{
		mem("pid", tU32, 0, tag("name=PID", "fmt=%-6d", "order=0")...),
		mem("laddr", ep, 4, tag("name=LADDR:LPORT", "fmt=%-20s", "order=1")...),
		mem("type", kind, 24, tag("name=T", "format=enum", "fmt=%1s>", "order=2")...),
		mem("raddr", ep, 28, tag("name=RADDR:RPORT", "fmt=%-20s", "order=3")...),
	}}
}

func TestTemplateColumns(t *testing.T) {
	p, err := Compile(roundTrip(t, retransEvent()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	// bcc tcpretrans: "%-6s %-20s %1s> %-20s" (the TIME, IP and STATE columns left out)
	if want := strings.TrimRight(fmt.Sprintf("%-6s %-20s %1s> %-20s", "PID", "LADDR:LPORT", "T", "RADDR:RPORT"), " "); p.Header() != want {
		t.Errorf("header:\n got %q\nwant %q", p.Header(), want)
	}
	s := sample(make([]byte, 48)).u32(0, 77).
		str(4, "\x7f\x00\x00\x01").u16(20, 5000).u16(22, 2).
		u32(24, 1).
		u8(28+15, 1).u16(28+16, 22).u16(28+18, 10)
	line, err := p.AppendText(nil, s)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%-6d %-20s %1s> %s", 77, "127.0.0.1:5000", "R", "::1:22")
	if string(line) != want {
		t.Errorf("line:\n got %q\nwant %q", line, want)
	}
	js, _ := p.AppendJSON(nil, s)
	if wantJS := `{"pid":77,"laddr":{"addr":"127.0.0.1","port":5000,"af":2},"type":"R","raddr":{"addr":"::1","port":22,"af":10}}`; string(js) != wantJS {
		t.Errorf("JSON:\n got %s\nwant %s", js, wantJS)
	}
}

func TestFlagsAndEnumNames(t *testing.T) {
	withZero := &btf.Enum{Name: "f", Size: 1, Values: []btf.EnumValue{{Name: "NONE", Value: 0}, {Name: "A", Value: 1}, {Name: "AB", Value: 3}, {Name: "C", Value: 4}}}
	typ := &btf.Struct{Name: "ev", Size: 2, Tags: tag("time=off"), Members: []btf.Member{
		mem("f", withZero, 0, tag("format=flags", "sep=|")...),
		mem("e", withZero, 1, tag("format=enum")...),
	}}
	p, err := Compile(roundTrip(t, typ), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		f, e uint8
		want string
	}{
		{0, 0, "NONE|NONE"},
		{1, 1, "A|A"},
		{3, 3, "A|0x2|AB"}, // declaration order: A takes bit 0 first, so AB no longer matches
		{7, 4, "A|C|0x2|C"},
		{0x80, 9, "0x80|9"},
	} {
		line, err := p.AppendText(nil, []byte{tc.f, tc.e})
		if err != nil {
			t.Fatal(err)
		}
		if string(line) != tc.want {
			t.Errorf("f=%#x e=%d: got %q, want %q", tc.f, tc.e, line, tc.want)
		}
	}
	js, _ := p.AppendJSON(nil, []byte{5, 9})
	if want := `{"f":"A|C","e":"9"}`; string(js) != want {
		t.Errorf("JSON %s, want %s", js, want)
	}
}

func TestSepShowHeader(t *testing.T) {
	typ := &btf.Struct{Name: "ev", Size: 12, Tags: tag("time=off", "header=Tracing... Ctrl-C to end."), Members: []btf.Member{
		mem("a", tU32, 0, tag("name=A", "fmt=%d", "sep=")...),
		mem("b", tU32, 4, tag("name=B", "fmt=(%d%%)", "sep=, ", "show=on&!off")...),
		mem("c", tU32, 8, tag("name=C", "fmt=%-4d", "show=on&off")...),
	}}
	flags := map[string]bool{"on": true}
	p, err := Compile(roundTrip(t, typ), Options{Flag: func(n string) bool { return flags[n] }})
	if err != nil {
		t.Fatal(err)
	}
	if h := p.Header(); h != "Tracing... Ctrl-C to end." {
		t.Errorf("header %q", h)
	}
	line, _ := p.AppendText(nil, sample(make([]byte, 12)).u32(0, 1).u32(4, 50).u32(8, 3))
	if string(line) != "1(50%)" {
		t.Errorf("line %q, want %q", line, "1(50%)")
	}
	flags["off"] = true
	p, err = Compile(roundTrip(t, typ), Options{Flag: func(n string) bool { return flags[n] }})
	if err != nil {
		t.Fatal(err)
	}
	line, _ = p.AppendText(nil, sample(make([]byte, 12)).u32(0, 1).u32(4, 50).u32(8, 3))
	if string(line) != "13" {
		t.Errorf("line %q, want %q", line, "13")
	}
}

func TestTemplateHintErrors(t *testing.T) {
	one := func(typ btf.Type, tags ...string) *btf.Struct {
		return &btf.Struct{Name: "ev", Size: 16, Members: []btf.Member{mem("x", typ, 0, tags...)}}
	}
	arm := &btf.Union{Size: 4, Members: []btf.Member{mem("a", tU32, 0, tag("case=1", "fmt=%d")...)}}
	for _, tc := range []struct {
		name string
		typ  *btf.Struct
		want string
	}{
		{"cstring-on-int", one(tU32, tag("format=cstring")...), "format=cstring"},
		{"flags-on-int", one(tU32, tag("format=flags")...), "format=flags"},
		{"enum-on-string", one(arr(tChar, 8), tag("format=enum")...), "format=enum"},
		{"two-conversions", one(tU32, tag("fmt=%d:%d")...), "fmt"},
		{"no-conversion", one(tU32, tag("fmt=abc")...), "fmt"},
		{"sep-without-value", one(tU32, tag("sep")...), "sep"},
		{"show-bad", one(tU32, tag("show=a&&b")...), "show"},
		{"fmt-on-arm", &btf.Struct{Name: "ev", Size: 8, Members: []btf.Member{mem("u", arm, 0, tag("select=s")...), mem("s", tU32, 4)}}, "union arm"},
		{"time-fmt-literal", &btf.Struct{Name: "ev", Size: 4, Tags: tag("time_fmt=[%s]"), Members: []btf.Member{mem("x", tU32, 0)}}, "time_fmt"},
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
