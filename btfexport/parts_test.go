package btfexport

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// TestSkelType: ecc's `type` strings are decode.CTypeName except for composites and enums
// (decode's tests cover the C spelling itself).
func TestSkelType(t *testing.T) {
	u32 := &btf.Int{Name: "unsigned int", Size: 4}
	char := &btf.Int{Name: "char", Size: 1, Encoding: btf.Signed | btf.Char}
	pid := &btf.Typedef{Name: "pid_t", Type: &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}}
	ev := &btf.Struct{Name: "event", Size: 8}
	for _, tc := range []struct {
		typ  btf.Type
		want string
	}{
		{u32, "unsigned int"},
		{&btf.Const{Type: &btf.Volatile{Type: pid}}, "pid_t"},
		{&btf.Array{Type: &btf.Const{Type: &btf.Volatile{Type: char}}, Nelems: 16}, "char[16]"},
		{&btf.Array{Type: &btf.Array{Type: u32, Nelems: 3}, Nelems: 2}, "unsigned int[2][3]"},
		{&btf.Pointer{Target: ev}, "struct event *"},
		{&btf.Pointer{Target: &btf.Pointer{Target: char}}, "char **"},
		{&btf.Pointer{Target: &btf.FuncProto{Return: u32, Params: []btf.FuncParam{{Type: char}}}}, "unsigned int (*)(char)"},
		{ev, "composite"},
		{&btf.Const{Type: &btf.Union{Size: 4}}, "composite"},
		{&btf.Enum{Name: "event_type", Size: 4}, "enum"},
		{&btf.Typedef{Name: "ev_t", Type: ev}, "ev_t"},
	} {
		if got := skelType(tc.typ); got != tc.want {
			t.Errorf("skelType(%v) = %q, want %q", tc.typ, got, tc.want)
		}
	}
}

func TestLibbpfInternalName(t *testing.T) {
	for _, tc := range []struct{ obj, sec, want string }{
		{"client_bpf", ".rodata", "client_b.rodata"},
		{"runqlat_bpf", ".bss", "runqlat_.bss"},
		{"tcpconnlat_bpf", ".data", "tcpconnl.data"},
		{"a_bpf", ".rodata", "a_bpf.rodata"},
		{"client_bpf", ".rodata.str1.1", ".rodata.str1.1"},
		{"client_bpf", ".data.very_long_section", ".data.very_long"},
	} {
		if got := libbpfInternalName(tc.obj, tc.sec); got != tc.want {
			t.Errorf("libbpfInternalName(%q, %q) = %q, want %q", tc.obj, tc.sec, got, tc.want)
		}
	}
	if got := skelIdent(".rodata.str1.1"); got != "rodata_str1_1" {
		t.Errorf("skelIdent = %q", got)
	}
}

func TestHeaderStructs(t *testing.T) {
	h := `/* struct commented { */
// struct also_commented {
struct event {
	struct inner in;   /* a use, not a definition */
};
typedef struct
	named_td
{ int x; } td_t;
struct event { int again; };
struct fwd;
`
	got := HeaderStructs([]byte(h))
	if want := []string{"event", "named_td"}; !reflect.DeepEqual(got, want) {
		t.Errorf("HeaderStructs = %q, want %q", got, want)
	}
}

func TestParseDocText(t *testing.T) {
	for _, tc := range []struct {
		name string
		text []string
		want string
	}{
		{"cmdarg and description", []string{`@cmdarg {"short": "p"}`, "@description trace a pid"},
			`{"cmdarg":{"short":"p"},"description":"trace a pid"}`},
		{"plain text is the description", []string{"first line", "second line"}, `{"description":"first line second line"}`},
		{"JSON description", []string{"42"}, `{"description":42}`},
		{"multi-line JSON", []string{`@sample {"interval": 1000,`, `  "type": "log2_hist"}`},
			`{"sample":{"interval":1000,"type":"log2_hist"}}`},
		{"bare command", []string{"@positional"}, `{"positional":true}`},
		{"block commands stay strings", []string{"@brief 12", "@version 1.0"}, `{"brief":"12","version":"1.0"}`},
		{"blank line ends a value", []string{"@help one", "", "desc"}, `{"description":"desc","help":"one"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseDocText(tc.text)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(got)
			if string(b) != tc.want {
				t.Errorf("got %s, want %s", b, tc.want)
			}
		})
	}
	if _, err := parseDocText([]string{"@a 1", "@a 2"}); err == nil {
		t.Error("duplicate command accepted")
	}
}

func TestScanDocComments(t *testing.T) {
	src := `#include "x.h"
/// @cmdarg {"short": "p"}
const volatile pid_t targ_pid ECLI("help=a; b = c") = 0;

/// @sample {"interval": 1}
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, u32);
} hists SEC(".maps");

/// @ifindex 2
SEC("xdp")
int BPF_PROG(xdp_prog, struct xdp_md *ctx)
{
	return 0;
}
`
	blocks, err := scanDocComments("x.bpf.c", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 3 {
		t.Fatalf("%d blocks, want 3", len(blocks))
	}
	known := func(names ...string) func(string) bool {
		return func(s string) bool {
			for _, n := range names {
				if s == n {
					return true
				}
			}
			return false
		}
	}
	if got := blocks[0].target(known("targ_pid", "pid_t", "b", "c"), true); got != "targ_pid" {
		t.Errorf("variable target %q", got)
	}
	if !blocks[1].mapDef || blocks[1].target(known("hists", "type"), false) != "hists" {
		t.Errorf("map block %+v", blocks[1])
	}
	if got := blocks[2].target(known("xdp_prog"), false); got != "xdp_prog" || blocks[2].line != 11 {
		t.Errorf("prog target %q at line %d", got, blocks[2].line)
	}
}

func TestVarTags(t *testing.T) {
	intT := &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}
	for _, tc := range []struct {
		tags []string
		want string // cmdarg JSON, or an error substring after "!"
	}{
		{[]string{"ecli:short=p", "ecli:long=pid", "other:ignored"}, `{"long":"pid","short":"p"}`},
		{[]string{"ecli:positional=false", "ecli:scale=0.5", "ecli:default=abc"}, `{"default":"abc","positional":false,"scale":0.5}`},
		{[]string{"ecli:default=[1,2]"}, `{"default":[1,2]}`},
		{[]string{"ecli:help=a=b, c"}, `{"help":"a=b, c"}`},
		{[]string{"ecli:short=pp"}, "!want one character"},
		{[]string{"ecli:scale=x"}, "!want a non-zero number"},
		{[]string{"ecli:shrot=p"}, "!unknown key"},
		{[]string{"ecli:long"}, "!want a value"},
	} {
		v := &btf.Var{Name: "targ", Type: intT, Tags: tc.tags}
		extra := fields{}
		err := applyVarTags(v, extra)
		if msg, isErr := strings.CutPrefix(tc.want, "!"); isErr {
			if err == nil || !errors.Is(err, ErrBadHint) || !strings.Contains(err.Error(), msg) || !strings.Contains(err.Error(), "global targ") {
				t.Errorf("tags %q: error %v, want %q", tc.tags, err, msg)
			}
			continue
		}
		if err != nil {
			t.Errorf("tags %q: %v", tc.tags, err)
			continue
		}
		if got := string(extra["cmdarg"]); got != tc.want {
			t.Errorf("tags %q: cmdarg %s, want %s", tc.tags, got, tc.want)
		}
	}
	// Tags override a doc comment's keys and keep the others.
	extra := fields{"cmdarg": json.RawMessage(`{"short":"x","help":"from comment"}`)}
	if err := applyVarTags(&btf.Var{Name: "v", Type: intT, Tags: []string{"ecli:short=p"}}, extra); err != nil {
		t.Fatal(err)
	}
	if got := string(extra["cmdarg"]); got != `{"help":"from comment","short":"p"}` {
		t.Errorf("merged cmdarg %s", got)
	}
}
