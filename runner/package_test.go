package runner

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"
)

func readVector(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "eunomia", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestParseVectors(t *testing.T) {
	for _, tc := range []struct {
		name, meta, obj string
		progs           []string // name=section
		exportName      string
	}{
		{name: "legacy v1 export_btf", meta: "internal-docs-spec/package.json",
			progs: []string{"handle_exec=tp/sched/sched_process_exec", "handle_exit=tp/sched/sched_process_exit"}, exportName: "event"},
		{name: "int128, progs null", meta: "int128_test/package.json", exportName: "S"},
		{name: "xdp with extra prog keys", meta: "simple_prog_5/package.json", progs: []string{"xdp_pass=xdp"}},
		{name: "multi export", meta: "multiple_export_ringbuf/multiple.skel.json", obj: "multiple_export_ringbuf/multiple.bpf.o",
			progs: []string{"handle_exec=tp/sched/sched_process_exec", "handle_exit=tp/sched/sched_process_exit"}},
		{name: "multi export custom members", meta: "multiple_export_ringbuf/multiple-custom-struct.json", obj: "multiple_export_ringbuf/multiple.bpf.o"},
		{name: "perf_event + stack_trace", meta: "profile_test/profile.skel.json", obj: "profile_test/profile.bpf.o",
			progs: []string{"profile=perf_event"}, exportName: "stacktrace_event"},
		{name: "BTF only, maps and progs null", meta: "simple_prog/simple_prog.skel.json", obj: "simple_prog/simple_prog.bpf.o", exportName: "S"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p *Package
			var err error
			if tc.obj == "" {
				p, err = Parse(readVector(t, tc.meta))
			} else {
				p, err = ParseSplit(readVector(t, tc.meta), readVector(t, tc.obj))
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, pm := range p.Meta.Progs {
				got = append(got, pm.Name+"="+pm.Attach)
			}
			if tc.progs != nil && strings.Join(got, " ") != strings.Join(tc.progs, " ") {
				t.Errorf("progs = %v, want %v", got, tc.progs)
			}
			if tc.exportName != "" && (len(p.Meta.ExportTypes) == 0 || p.Meta.ExportTypes[0].Name != tc.exportName) {
				t.Errorf("export types = %+v, want first %q", p.Meta.ExportTypes, tc.exportName)
			}
			if _, err := p.Outputs(nil); err != nil {
				t.Errorf("Outputs: %v", err)
			}
		})
	}
}

func TestParseXDPMeta(t *testing.T) {
	p, err := Parse(readVector(t, "simple_prog_5/package.json"))
	if err != nil {
		t.Fatal(err)
	}
	if pm := p.Meta.Progs[0]; pm.Ifindex != 1 || pm.XDPFlags != 0 {
		t.Errorf("xdp prog meta = %+v", pm)
	}
}

// envelope builds a package around meta with the given object.
func envelope(elf []byte, size int, meta string) []byte {
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	w.Write(elf)
	w.Close()
	s := `{"bpf_object":"` + base64.StdEncoding.EncodeToString(z.Bytes()) + `"`
	if size >= 0 {
		s += `,"bpf_object_size":` + strconv.Itoa(size)
	}
	return []byte(s + `,"meta":` + meta + `}`)
}

func TestParseErrors(t *testing.T) {
	elf := readVector(t, "multiple_export_ringbuf/multiple.bpf.o")
	good := `{"bpf_skel":{"obj_name":"m","maps":null,"progs":[{"name":"handle_exec","attach":"tp/sched/sched_process_exec","link":true}]}}`
	for _, tc := range []struct {
		name string
		in   []byte
		want string // substring of the error, which must name the JSON path
	}{
		{"empty", nil, "empty input"},
		{"not json", []byte("{"), "not valid JSON"},
		{"wasm", []byte("\x00asm\x01\x00\x00\x00"), "WASM modules are not supported"},
		{"array", []byte("[]"), "top level is an array"},
		{"no object", []byte(`{"meta":{}}`), "bpf_object: missing"},
		{"bare skel", []byte(`{"bpf_skel":{}}`), "bare *.skel.json"},
		{"object not string", []byte(`{"bpf_object":1,"meta":{}}`), "bpf_object: is a number"},
		{"bad base64", []byte(`{"bpf_object":"!!!","bpf_object_size":1,"meta":{}}`), "bpf_object: invalid base64"},
		{"not zlib", []byte(`{"bpf_object":"aGVsbG8=","bpf_object_size":5,"meta":{}}`), "bpf_object: not a zlib stream"},
		{"size mismatch", envelope(elf, 7, good), "bpf_object_size: is 7 but the object inflates to"},
		{"not elf", envelope([]byte("hello"), 5, good), "does not hold an ELF"},
		{"no meta", envelope(elf, len(elf), `null`)[:0], "empty input"},
		{"meta missing", []byte(strings.Replace(string(envelope(elf, len(elf), `1`)), `,"meta":1`, ``, 1)), "meta: missing"},
		{"no bpf_skel", envelope(elf, len(elf), `{}`), "meta.bpf_skel: is missing"},
		{"maps not list", envelope(elf, len(elf), `{"bpf_skel":{"maps":{},"progs":[]}}`), "meta.bpf_skel.maps: is an object, want an array"},
		{"prog without name", envelope(elf, len(elf), `{"bpf_skel":{"progs":[{"attach":"x"}]}}`), "meta.bpf_skel.progs[0].name: missing"},
		{"prog not in object", envelope(elf, len(elf), `{"bpf_skel":{"progs":[{"name":"nope","attach":"xdp"}]}}`), "meta.bpf_skel.progs[0].name: program \"nope\" is not in the BPF object"},
		{"sample without interval", envelope(elf, len(elf), `{"bpf_skel":{"maps":[{"name":"rb","ident":"rb","sample":{"type":"log2_hist"}}]}}`), "meta.bpf_skel.maps[0].sample.interval"},
		{"bad sample type", envelope(elf, len(elf), `{"bpf_skel":{"maps":[{"name":"rb","ident":"rb","sample":{"interval":1,"type":"pie"}}]}}`), "meta.bpf_skel.maps[0].sample.type"},
		{"bad export_config", envelope(elf, len(elf), `{"bpf_skel":{"maps":[{"name":"rb","export_config":{"x":1}}]}}`), "meta.bpf_skel.maps[0].export_config: unrecognised"},
		{"export type id missing", envelope(elf, len(elf), `{"bpf_skel":{},"export_types":[{"name":"event","type_id":99999}]}`), "meta.export_types[0].type_id: type 99999 is not in"},
		{"export types not list", envelope(elf, len(elf), `{"bpf_skel":{},"export_types":7}`), "meta.export_types: is a number"},
		{"bad short", envelope(elf, len(elf), `{"bpf_skel":{"data_sections":[{"name":".rodata","variables":[{"name":"x","cmdarg":{"short":"ab"}}]}]}}`), "variables[0].cmdarg.short"},
		{"variable not in object", envelope(elf, len(elf), `{"bpf_skel":{"data_sections":[{"name":".rodata","variables":[{"name":"nope","type":"int"}]}]}}`), "data_sections[0].variables[0].name: variable \"nope\" is not in the BPF object"},
		{"bad default", envelope(elf, len(elf), `{"bpf_skel":{"data_sections":[{"name":".rodata","variables":[{"name":"min_duration_ns","type":"unsigned long long","cmdarg":{"default":"abc"}}]}]}}`), "cmdarg.default: \"abc\" is not an integer"},
		{"legacy bad btf", []byte(`{"bpf_object":"` + string(mustField(envelope(elf, -1, `1`), "bpf_object")) + `","meta":{"bpf_skel":{},"export_types":{"export_btf":"AAAA","structs":[]}}}`), "meta.export_types.export_btf: invalid BTF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.in)
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if !errors.Is(err, ErrBadPackage) {
				t.Errorf("error %v is not ErrBadPackage", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func mustField(pkg []byte, key string) []byte {
	s := string(pkg)
	i := strings.Index(s, `"`+key+`":"`)
	s = s[i+len(key)+4:]
	return []byte(s[:strings.IndexByte(s, '"')])
}

func TestOptions(t *testing.T) {
	elf := readVector(t, "multiple_export_ringbuf/multiple.bpf.o")
	meta := `{"bpf_skel":{"obj_name":"m_bpf","data_sections":[{"name":".rodata","variables":[
		{"name":"min_duration_ns","type":"unsigned long long","description":"minimum duration","cmdarg":{"long":"min","short":"m","default":5,"scale":1000,"positional":true}}]}]}}`
	p, err := Parse(envelope(elf, len(elf), meta))
	if err != nil {
		t.Fatal(err)
	}
	o := p.Option("min_duration_ns")
	if o == nil {
		t.Fatal("no option")
	}
	if o.Long != "min" || o.Short != "m" || o.Kind != KindUint || o.Size != 8 || o.Default != "5" || o.Positional != 1 || o.Help != "minimum duration" {
		t.Errorf("option = %+v", o)
	}
	for _, tc := range []struct {
		in   string
		want uint64
		err  string
	}{
		{"1.5", 1500, ""}, {"0", 0, ""}, {"-1", 0, "must not be negative"}, {"x", 0, "not a number"},
	} {
		b, err := o.encode(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("encode(%q) error = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("encode(%q): %v", tc.in, err)
			continue
		}
		var got uint64
		for i := 7; i >= 0; i-- {
			got = got<<8 | uint64(b[i])
		}
		if got != tc.want {
			t.Errorf("encode(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
	v := p.NewValues()
	if err := v.Set("min_duration_ns", "oops"); !errors.Is(err, ErrBadOption) {
		t.Errorf("Set(oops) = %v, want ErrBadOption", err)
	}
	if err := v.Set("min_duration_ns", "2"); err != nil {
		t.Fatal(err)
	}
	spec := p.CollectionSpec()
	if err := p.applyValues(spec, v); err != nil {
		t.Fatal(err)
	}
	var got uint64
	if err := spec.Variables["min_duration_ns"].Get(&got); err != nil || got != 2000 {
		t.Errorf("min_duration_ns = %d (%v), want 2000", got, err)
	}
}

func TestBoolModes(t *testing.T) {
	p, err := Parse(readTypesPackage(t))
	if err != nil {
		t.Fatal(err)
	}
	elf := p.ELF
	meta := `{"bpf_skel":{"obj_name":"types_bpf","data_sections":[{"name":".rodata","variables":[
		{"name":"opt_switch","type":"bool"},
		{"name":"opt_on","type":"bool","value":true},
		{"name":"opt_off","type":"bool","cmdarg":{"default":false}},
		{"name":"opt_short","type":"bool","cmdarg":{"short":"t","long":"timestamp"}}]}]}}`
	p, err = Parse(envelope(elf, len(elf), meta))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		mode BoolMode
		flag string
		def  bool
	}{
		{"opt_switch", BoolSwitch, "opt_switch", false},
		{"opt_on", BoolDisable, "disable-opt_on", true},
		{"opt_off", BoolEnable, "enable-opt_off", false},
		{"opt_short", BoolSwitch, "timestamp", false},
	} {
		o := p.Option(tc.name)
		if o == nil {
			t.Errorf("no option %s", tc.name)
			continue
		}
		if v := p.NewValues(); o.BoolMode != tc.mode || o.FlagName() != tc.flag || v.Bool(tc.name) != tc.def {
			t.Errorf("%s: mode %v flag %q value %v, want %v %q %v", tc.name, o.BoolMode, o.FlagName(), v.Bool(tc.name), tc.mode, tc.flag, tc.def)
		}
	}
	v := p.NewValues()
	if err := v.Set("opt_on", "false"); err != nil || v.Bool("opt_on") {
		t.Errorf("Set(opt_on, false): %v, value %v", err, v.Bool("opt_on"))
	}
	if !p.NewValues().Bool("opt_on") {
		t.Error("Set on one Values changed another: opt_on is false in fresh Values")
	}
}

func readTypesPackage(tb testing.TB) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "types", "types.json"))
	if err != nil {
		tb.Fatalf("%v (run make packages)", err)
	}
	return b
}

func TestTypeString(t *testing.T) {
	u64 := &btf.Int{Name: "unsigned long long", Size: 8}
	for _, tc := range []struct {
		t    btf.Type
		want string
	}{
		{&btf.Const{Type: &btf.Volatile{Type: u64}}, "unsigned long long"},
		{&btf.Typedef{Name: "pid_t", Type: u64}, "pid_t"},
		{&btf.Array{Type: &btf.Int{Name: "char", Size: 1}, Nelems: 16}, "char[16]"},
		{&btf.Pointer{Target: &btf.Struct{Name: "event"}}, "struct event *"},
	} {
		if got := typeString(tc.t); got != tc.want {
			t.Errorf("typeString = %q, want %q", got, tc.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, v := range []string{"internal-docs-spec/package.json", "int128_test/package.json", "simple_prog_5/package.json"} {
		f.Add(readVector(f, v))
	}
	f.Add([]byte(`{"bpf_object":"","meta":{"bpf_skel":{"maps":null}}}`))
	for _, tc := range hostileCases(f) {
		if tc.name != "zlib bomb" { // 64 MiB to inflate per run: tested once, in TestParseHostile
			f.Add(tc.in)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrBadPackage) {
				t.Fatalf("error %v is not ErrBadPackage", err)
			}
			return
		}
		v := p.NewValues()
		for _, o := range p.Options() {
			_ = v.Set(o.Name, "1")
		}
		_, _ = p.Outputs(v)
	})
}

func TestParseAttachMismatch(t *testing.T) {
	p, err := Parse(readTypesPackage(t))
	if err != nil {
		t.Fatal(err)
	}
	meta := `{"bpf_skel":{"obj_name":"types_bpf","progs":[{"name":"handle_exec","attach":"tp/sched/sched_process_exit","link":true}]}}`
	_, err = Parse(envelope(p.ELF, len(p.ELF), meta))
	if !errors.Is(err, ErrBadPackage) || !strings.Contains(err.Error(), `meta.bpf_skel.progs[0].attach: "tp/sched/sched_process_exit" does not match the ELF section "tp/sched/sched_process_exec"`) {
		t.Errorf("err = %v", err)
	}
}

func TestParseExportChecked(t *testing.T) {
	p, err := Parse(readTypesPackage(t))
	if err != nil {
		t.Fatal(err)
	}
	// A ring buffer but no export type: refused at Parse, before anything is loaded.
	meta := `{"bpf_skel":{"obj_name":"types_bpf","maps":[{"name":"events","ident":"events"}]}}`
	_, err = Parse(envelope(p.ELF, len(p.ELF), meta))
	if !errors.Is(err, ErrBadPackage) || !strings.Contains(err.Error(), "map events exports events but no export type is given") {
		t.Errorf("err = %v", err)
	}
}

func TestJSONPath(t *testing.T) {
	for _, tc := range []struct {
		parent string
		elems  []any
		want   string
	}{
		{"meta", []any{"bpf_skel", "progs", 0, "name"}, "meta.bpf_skel.progs[0].name"},
		{"", []any{"bpf_skel", "maps", 12}, "bpf_skel.maps[12]"},
		{"", []any{"export_types"}, "export_types"},
		{"a.b[1]", []any{"c"}, "a.b[1].c"},
		{"", []any{""}, ""},
		{"meta", []any{"", "doc"}, "meta.doc"},
	} {
		if got := jsonPath(tc.parent, tc.elems...); got != tc.want {
			t.Errorf("jsonPath(%q, %v) = %q, want %q", tc.parent, tc.elems, got, tc.want)
		}
	}
}

// TestBareSkelErrorPaths: errors in a bare *.skel.json name paths from its root, with no
// leading dot.
func TestBareSkelErrorPaths(t *testing.T) {
	elf := readVector(t, "multiple_export_ringbuf/multiple.bpf.o")
	for _, tc := range []struct{ meta, want string }{
		{`{"bpf_skel":{"progs":[{"name":"nope","attach":"xdp"}]}}`, `bad package: bpf_skel.progs[0].name: program "nope" is not in the BPF object`},
		{`{"bpf_skel":{"progs":[{"name":"handle_exec","attach":"xdp"}]}}`, `bad package: bpf_skel.progs[0].attach: "xdp" does not match`},
		{`{"bpf_skel":{"maps":[{"name":"nope","sample":{"interval":1}}]}}`, `bad package: bpf_skel.maps[0]: map "nope"`},
		{`{"bpf_skel":{"data_sections":[{"name":".rodata","variables":[{"name":"nope"}]}]}}`, `bad package: bpf_skel.data_sections[0].variables[0].name: variable "nope"`},
		{`{"bpf_skel":{},"export_types":[{"type_id":99999}]}`, `bad package: export_types[0].type_id: type 99999`},
	} {
		_, err := ParseSplit([]byte(tc.meta), elf)
		if !errors.Is(err, ErrBadPackage) || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want prefix %q", tc.meta, err, tc.want)
		}
	}
}
