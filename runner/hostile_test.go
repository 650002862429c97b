package runner

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/tidwall/gjson"
)

// hostileCase is a package Parse must refuse: want is a substring of the error, starting
// with the JSON path at fault (none for faults of the whole document).
type hostileCase struct {
	name string
	in   []byte
	want string
}

// hostileAlsoIs are the sentinels some hostile cases must match besides ErrBadPackage.
var hostileAlsoIs = map[string]error{"unknown section": ErrUnsupportedAttach}

// setJSON returns doc with the value at path (keys and indexes separated by dots, e.g.
// "bpf_skel.progs.0.name") replaced by the raw JSON value, which is spliced in as text so
// that it may be anything, even nested deeper than encoding/json accepts.
func setJSON(tb testing.TB, doc, path, value string) string {
	tb.Helper()
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		tb.Fatal(err)
	}
	const mark = "\x00hostile\x00"
	keys := strings.Split(path, ".")
	cur := v
	for i, k := range keys {
		last := i == len(keys)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				c[k] = mark
			}
			cur = c[k]
		case []any:
			n, err := strconv.Atoi(k)
			if err != nil || n >= len(c) {
				tb.Fatalf("setJSON: no %s in %s", path, doc)
			}
			if last {
				c[n] = mark
			}
			cur = c[n]
		default:
			tb.Fatalf("setJSON: %s: %T has no key %s", path, cur, k)
		}
	}
	out, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return strings.Replace(string(out), `"\u0000hostile\u0000"`, value, 1)
}

// firstTypeID returns the id of the first type of the object's BTF that match accepts.
func firstTypeID(tb testing.TB, spec *btf.Spec, match func(btf.Type) bool) btf.TypeID {
	tb.Helper()
	for id := btf.TypeID(1); ; id++ {
		t, err := spec.TypeByID(id)
		if err != nil {
			tb.Fatal("no such type in the BTF")
		}
		if match(t) {
			return id
		}
	}
}

// deep is n nested JSON arrays.
func deep(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }

// deepObject is n nested JSON objects.
func deepObject(n int) string { return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) }

func zlibOf(b []byte) []byte {
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	w.Write(b)
	w.Close()
	return z.Bytes()
}

// zlibBomb is base64(zlib(MaxObjectSize+1 zero bytes)): about 90 KiB that inflate past the cap.
var zlibBomb = sync.OnceValue(func() string {
	var z bytes.Buffer
	w, _ := zlib.NewWriterLevel(&z, zlib.BestSpeed)
	w.Write(make([]byte, MaxObjectSize+1))
	w.Close()
	return base64.StdEncoding.EncodeToString(z.Bytes())
})

// hostileCases builds the hostile packages around the types test package (one ring buffer,
// export types kitchen and point, bool and integer globals), the multi-export eunomia
// vector and the stack-trace (profile) vector.
func hostileCases(tb testing.TB) []hostileCase {
	tb.Helper()
	typesPkg := readTypesPackage(tb)
	good, err := Parse(typesPkg)
	if err != nil {
		tb.Fatal(err)
	}
	elf, meta := good.ELF, gjson.GetBytes(typesPkg, "meta").Raw
	pkg := func(path, value string) []byte { return envelope(elf, len(elf), setJSON(tb, meta, path, value)) }
	intID := firstTypeID(tb, good.BTF(), func(t btf.Type) bool { _, ok := t.(*btf.Int); return ok })
	intName := func() string { t, _ := good.BTF().TypeByID(intID); return t.TypeName() }()

	multiELF := readVector(tb, "multiple_export_ringbuf/multiple.bpf.o")
	multiMeta := string(readVector(tb, "multiple_export_ringbuf/multiple-custom-struct.json"))
	multi := func(path, value string) []byte {
		return envelope(multiELF, len(multiELF), setJSON(tb, multiMeta, path, value))
	}
	multiSpec, err := ParseSplit([]byte(multiMeta), multiELF)
	if err != nil {
		tb.Fatal(err)
	}
	funcID := firstTypeID(tb, multiSpec.BTF(), func(t btf.Type) bool { _, ok := t.(*btf.Func); return ok })
	bigID := firstTypeID(tb, multiSpec.BTF(), func(t btf.Type) bool { s, ok := t.(*btf.Struct); return ok && s.Size > 8 && s.Name != "" })
	bigName := func() string { t, _ := multiSpec.BTF().TypeByID(bigID); return t.TypeName() }()

	profELF := readVector(tb, "profile_test/profile.bpf.o")
	profMeta := string(readVector(tb, "profile_test/profile.skel.json"))
	prof := func(path, value string) []byte {
		return envelope(profELF, len(profELF), setJSON(tb, profMeta, path, value))
	}

	// The same object with its program's section renamed to one no runner attaches.
	odd := bytes.ReplaceAll(elf, []byte("tp/sched/sched_process_exec"), []byte("zz/sched/sched_process_exec"))
	oddMeta := setJSON(tb, meta, "bpf_skel.progs.0.attach", `"zz/sched/sched_process_exec"`)

	z := zlibOf(elf)
	b64 := base64.StdEncoding.EncodeToString(z)
	truncZ := base64.StdEncoding.EncodeToString(z[:len(z)/2])
	bomb := zlibBomb()
	env := func(object, size string) []byte {
		return []byte(`{"bpf_object":` + object + `,"bpf_object_size":` + size + `,"meta":` + meta + `}`)
	}
	n := strconv.Itoa(len(elf))

	return []hostileCase{
		// The envelope.
		{"truncated JSON", typesPkg[:len(typesPkg)/2], "not valid JSON: unexpected end of JSON input"},
		{"truncated after the object", typesPkg[:bytes.Index(typesPkg, []byte(`"meta"`))], "not valid JSON"},
		{"bad base64", env(`"`+b64[:40]+"!"+b64[41:]+`"`, n), "bpf_object: invalid base64"},
		{"truncated zlib stream", env(`"`+truncZ+`"`, n), "bpf_object: inflating: unexpected EOF"},
		{"zlib bomb", env(`"`+bomb+`"`, n), fmt.Sprintf("bpf_object: inflates to more than %d bytes", MaxObjectSize)},
		{"object size lies", env(`"`+b64+`"`, strconv.Itoa(len(elf)+1)), fmt.Sprintf("bpf_object_size: is %d but the object inflates to %d bytes", len(elf)+1, len(elf))},
		{"object size a string", env(`"`+b64+`"`, `"`+n+`"`), `bpf_object_size: is "` + n + `", want a number of bytes`},
		{"object size huge", env(`"`+b64+`"`, "1e400"), "bpf_object_size: is 1e400, want a number of bytes"},
		{"object size negative", env(`"`+b64+`"`, "-1"), "bpf_object_size: is -1, want a number of bytes"},
		{"object null", env("null", n), "bpf_object: is null, want a base64 string"},
		{"object an array", env("[]", n), "bpf_object: is an array, want a base64 string"},
		{"all null", []byte(`{"bpf_object":null,"bpf_object_size":null,"meta":null}`), "bpf_object: is null"},
		{"meta null", envelope(elf, len(elf), "null"), "meta: is null, want an object"},
		{"meta an array", envelope(elf, len(elf), "[]"), "meta: is an array, want an object"},

		// Sizes and layouts that contradict the BTF.
		{"event size 1 TiB", pkg("export_types.0.size", "1099511627776"), "meta.export_types[0].size: is 1099511627776 but BTF struct kitchen is 128 bytes"},
		{"event size off by one", pkg("export_types.1.size", "5"), "meta.export_types[1].size: is 5 but BTF struct point is 4 bytes"},
		{"event size negative", pkg("export_types.0.size", "-128"), "meta.export_types[0].size: is -128, want a number of bytes"},
		{"event size a string", pkg("export_types.0.size", `"128"`), `meta.export_types[0].size: is "128", want a number of bytes`},
		{"event member renamed", pkg("export_types.0.members.0.name", `"tid"`), `meta.export_types[0].members[0].name: is "tid" but member 0 of BTF struct kitchen is "pid"`},
		{"event members missing", pkg("export_types.0.members", `[{"name":"pid","type":"u32"}]`), "meta.export_types[0].members: lists 1 members but BTF struct kitchen has 12"},
		{"event name lies", pkg("export_types.0.name", `"point"`), `meta.export_types[0].name: "point" does not match BTF type`},
		{"variable offset lies", pkg("bpf_skel.data_sections.0.variables.2.offset", "999"), "meta.bpf_skel.data_sections[0].variables[2].offset: is 999 but variable targ_pid is at offset"},
		{"variable size lies", pkg("bpf_skel.data_sections.0.variables.2.size", "8"), "meta.bpf_skel.data_sections[0].variables[2].size: is 8 but variable targ_pid is 4 bytes in the BPF object"},
		{"variable in the wrong section", pkg("bpf_skel.data_sections.1.name", `".rodata"`), "meta.bpf_skel.data_sections[1].variables[0].name: variable __eunomia_dummy_kitchen_ptr is in section .bss of the BPF object, not .rodata"},
		{"unknown data section", pkg("bpf_skel.data_sections.0.name", `".rodata.nope"`), `meta.bpf_skel.data_sections[0].name: section ".rodata.nope" is not a data section of the BPF object`},
		{"sampled map value type lies", multi("bpf_skel.maps.0", `{"name":"exec_start","ident":"exec_start","sample":{"interval":1000},"export_config":{"btf_type_id":`+strconv.Itoa(int(bigID))+`}}`),
			fmt.Sprintf("bpf_skel.maps[0].export_config.btf_type_id: is type %d (struct %q", bigID, bigName)},
		{"sampled map custom member past the value", multi("bpf_skel.maps.0", `{"name":"exec_start","ident":"exec_start","sample":{"interval":1000},"export_config":{"custom_members":[{"name":"x","offset":6,"btf_type_id":2}]}}`),
			"bpf_skel.maps[0].export_config.custom_members[0].offset: member x ends at byte 10 but map exec_start holds 8-byte values"},

		// Type ids out of range or of the wrong kind.
		{"type id not in BTF", pkg("export_types.0.type_id", "99999"), "meta.export_types[0].type_id: type 99999 is not in the object's BTF"},
		{"type id past 32 bits", pkg("export_types.0.type_id", "4294967327"), "meta.export_types[0].type_id: is 4294967327, want a positive BTF type id"},
		{"type id fractional", pkg("export_types.0.type_id", "31.5"), "meta.export_types[0].type_id: is 31.5, want a positive BTF type id"},
		{"type id zero", pkg("export_types.0.type_id", "0"), "meta.export_types[0].type_id: is 0, want a positive BTF type id"},
		{"type id a string", pkg("export_types.0.type_id", `"31"`), `meta.export_types[0].type_id: is "31", want a positive BTF type id`},
		{"type id null", pkg("export_types.0.type_id", "null"), "meta.export_types[0].type_id: is null, want a positive BTF type id"},
		{"type id of an int", pkg("export_types.0.type_id", strconv.Itoa(int(intID))), fmt.Sprintf("meta.export_types[0].type_id: type %d is int %q, want a struct", intID, intName)},
		{"export type id not in BTF", multi("bpf_skel.maps.2.export_config.btf_type_id", "99999"), "bpf_skel.maps[2].export_config.btf_type_id: type 99999 is not in the object's BTF"},
		{"custom member of a function", multi("bpf_skel.maps.1.export_config.custom_members.0.btf_type_id", strconv.Itoa(int(funcID))),
			fmt.Sprintf("bpf_skel.maps[1].export_config.custom_members[0].btf_type_id: type %d is func", funcID)},
		{"custom member offset negative", multi("bpf_skel.maps.1.export_config.custom_members.0.offset", "-8"), "bpf_skel.maps[1].export_config.custom_members[0].offset: is -8, want a byte offset"},
		{"custom member offset huge", multi("bpf_skel.maps.1.export_config.custom_members.0.offset", "1e12"), "bpf_skel.maps[1].export_config.custom_members[0].offset: is 1e12, want a byte offset"},
		{"custom member offset null", multi("bpf_skel.maps.1.export_config.custom_members.0.offset", "null"), "bpf_skel.maps[1].export_config.custom_members[0].offset: missing"},
		{"custom member name a number", multi("bpf_skel.maps.1.export_config.custom_members.0.name", "1"), "bpf_skel.maps[1].export_config.custom_members[0].name: is 1, want a string"},
		{"custom members an object", multi("bpf_skel.maps.1.export_config.custom_members", "{}"), "bpf_skel.maps[1].export_config.custom_members: is an object, want an array"},
		{"stack trace counter of the wrong type", prof("bpf_skel.maps.0.intepreter.stack_trace", `{"field_map":{"pid":"comm"}}`),
			"bpf_skel.maps[0].intepreter.stack_trace.field_map.pid: field comm of stacktrace_event is array char[16], want a 4-byte integer"},
		{"stack trace field missing", prof("bpf_skel.maps.0.intepreter.stack_trace", `{"field_map":{"kstack":"nope"}}`),
			"bpf_skel.maps[0].intepreter.stack_trace.field_map.kstack: event type stacktrace_event has no field nope"},
		{"stack trace field_map value a number", prof("bpf_skel.maps.0.intepreter.stack_trace", `{"field_map":{"pid":1}}`),
			"bpf_skel.maps[0].intepreter.stack_trace.field_map.pid: is 1, want a string"},
		{"interpreter a number", prof("bpf_skel.maps.0.intepreter", "5"), "bpf_skel.maps[0].intepreter: is a number, want a string or an object"},

		// Programs and maps the object does not have; sections nobody attaches.
		{"program not in the object", pkg("bpf_skel.progs.0.name", `"handle_exit"`), `meta.bpf_skel.progs[0].name: program "handle_exit" is not in the BPF object`},
		{"program listed twice", pkg("bpf_skel.progs", `[{"name":"handle_exec"},{"name":"handle_exec"}]`), "meta.bpf_skel.progs[1].name: program handle_exec is already listed as progs[0]"},
		{"program attach lies", pkg("bpf_skel.progs.0.attach", `"xdp"`), `meta.bpf_skel.progs[0].attach: "xdp" does not match the ELF section "tp/sched/sched_process_exec"`},
		{"unknown section", envelope(odd, len(odd), oddMeta), `meta.bpf_skel.progs[0].attach: unsupported attach type: section "zz/sched/sched_process_exec" of program handle_exec`},
		{"map not in the object", pkg("bpf_skel.maps.0", `{"name":"nope","ident":"nope"}`), `meta.bpf_skel.maps[0]: map "nope" (ident "nope") is not in the BPF object`},
		{"map listed twice", pkg("bpf_skel.maps.1", `{"name":"events","ident":"events"}`), "meta.bpf_skel.maps[1]: map events is already listed as maps[0]"},
		{"map ident lies", pkg("bpf_skel.maps.0.ident", `"rb"`), `meta.bpf_skel.maps[0].ident: is "rb" but map events of the BPF object is "events" in the skeleton`},
		{"tc attach point unknown", pkg("bpf_skel.progs.0.tchook", `{"attach_point":"BPF_TC_SIDEWAYS"}`), `meta.bpf_skel.progs[0].tchook.attach_point: "BPF_TC_SIDEWAYS" is not BPF_TC_INGRESS or BPF_TC_EGRESS`},

		// Wrong JSON types.
		{"obj_name a number", pkg("bpf_skel.obj_name", "5"), "meta.bpf_skel.obj_name: is 5, want a string"},
		{"doc a string", pkg("bpf_skel.doc", `"x"`), "meta.bpf_skel.doc: is a string, want an object"},
		{"doc.brief an array", pkg("bpf_skel.doc", `{"brief":[]}`), "meta.bpf_skel.doc.brief: is an array, want a string"},
		{"eunomia_version a number", pkg("eunomia_version", "3"), "meta.eunomia_version: is 3, want a string"},
		{"progs an object", pkg("bpf_skel.progs", "{}"), "meta.bpf_skel.progs: is an object, want an array"},
		{"prog a string", pkg("bpf_skel.progs.0", `"handle_exec"`), "meta.bpf_skel.progs[0]: is a string, want an object"},
		{"prog name a number", pkg("bpf_skel.progs.0.name", "7"), "meta.bpf_skel.progs[0].name: is 7, want a string"},
		{"prog attach an object", pkg("bpf_skel.progs.0.attach", "{}"), "meta.bpf_skel.progs[0].attach: is an object, want a string"},
		{"prog link a string", pkg("bpf_skel.progs.0.link", `"yes"`), `meta.bpf_skel.progs[0].link: is "yes", want true or false`},
		{"prog ifindex a string", pkg("bpf_skel.progs.0", `{"name":"handle_exec","ifindex":"1"}`), `meta.bpf_skel.progs[0].ifindex: is "1", want an interface index`},
		{"prog ifindex huge", pkg("bpf_skel.progs.0", `{"name":"handle_exec","ifindex":1e20}`), "meta.bpf_skel.progs[0].ifindex: is 1e20, want an interface index"},
		{"prog tchook an array", pkg("bpf_skel.progs.0", `{"name":"handle_exec","tchook":[]}`), "meta.bpf_skel.progs[0].tchook: is an array, want an object"},
		{"prog tc priority too big", pkg("bpf_skel.progs.0", `{"name":"handle_exec","tcopts":{"priority":65536}}`), "meta.bpf_skel.progs[0].tcopts.priority: is 65536, want a tc priority"},
		{"map name a bool", pkg("bpf_skel.maps.0.name", "true"), "meta.bpf_skel.maps[0].name: is a bool, want a string"},
		{"map mmaped a number", pkg("bpf_skel.maps.1.mmaped", "1"), "meta.bpf_skel.maps[1].mmaped: is 1, want true or false"},
		{"sample a string", pkg("bpf_skel.maps.0.sample", `"1s"`), "meta.bpf_skel.maps[0].sample: is a string, want an object"},
		{"sample interval a string", pkg("bpf_skel.maps.0.sample", `{"interval":"1000"}`), `meta.bpf_skel.maps[0].sample.interval: is "1000", want a number of milliseconds`},
		{"sample interval overflows", pkg("bpf_skel.maps.0.sample", `{"interval":1e15}`), "meta.bpf_skel.maps[0].sample.interval: is 1e15, want a number of milliseconds"},
		{"sample type a number", pkg("bpf_skel.maps.0.sample", `{"interval":1,"type":3}`), "meta.bpf_skel.maps[0].sample.type: 3 is not one of"},
		{"sample clear_map a string", pkg("bpf_skel.maps.0.sample", `{"interval":1,"clear_map":"true"}`), `meta.bpf_skel.maps[0].sample.clear_map: is "true", want true or false`},
		{"export_config an array", pkg("bpf_skel.maps.0.export_config", "[1]"), "meta.bpf_skel.maps[0].export_config: unrecognised value an array"},
		{"export_config unknown string", pkg("bpf_skel.maps.0.export_config", `"all"`), `meta.bpf_skel.maps[0].export_config: unrecognised value "all"`},
		{"data section name a number", pkg("bpf_skel.data_sections.0.name", "1"), "meta.bpf_skel.data_sections[0].name: is 1, want a string"},
		{"variables a string", pkg("bpf_skel.data_sections.0.variables", `"x"`), "meta.bpf_skel.data_sections[0].variables: is a string, want an array"},
		{"variable type a number", pkg("bpf_skel.data_sections.0.variables.0.type", "1"), "meta.bpf_skel.data_sections[0].variables[0].type: is 1, want a string"},
		{"variable value an object", pkg("bpf_skel.data_sections.0.variables.0.value", "{}"), "meta.bpf_skel.data_sections[0].variables[0].value: is an object, want a bool, number or string"},
		{"variable size a string", pkg("bpf_skel.data_sections.0.variables.0.size", `"1"`), `meta.bpf_skel.data_sections[0].variables[0].size: is "1", want a number of bytes`},
		{"cmdarg an array", pkg("bpf_skel.data_sections.0.variables.0.cmdarg", "[]"), "meta.bpf_skel.data_sections[0].variables[0].cmdarg: is an array, want an object"},
		{"cmdarg default an object", pkg("bpf_skel.data_sections.0.variables.0.cmdarg", `{"default":{}}`), "meta.bpf_skel.data_sections[0].variables[0].cmdarg.default: is an object, want a bool, number or string"},
		{"cmdarg positional a string", pkg("bpf_skel.data_sections.0.variables.0.cmdarg", `{"positional":"true"}`), `meta.bpf_skel.data_sections[0].variables[0].cmdarg.positional: is "true", want true or a position from 1 to 16`},
		{"cmdarg long a number", pkg("bpf_skel.data_sections.0.variables.0.cmdarg", `{"long":5}`), "meta.bpf_skel.data_sections[0].variables[0].cmdarg.long: is 5, want a string"},
		{"cmdarg scale infinite", pkg("bpf_skel.data_sections.0.variables.2.cmdarg", `{"scale":1e400}`), "meta.bpf_skel.data_sections[0].variables[2].cmdarg.scale: is 1e400, want a positive number"},
		{"multiple export a string", pkg("enable_multiple_export_types", `"yes"`), `meta.enable_multiple_export_types: is "yes", want true or false`},
		{"export types an object", pkg("export_types", "{}"), "meta.export_types: is an object, want an array"},
		{"export type a number", pkg("export_types.0", "1"), "meta.export_types[0]: is a number, want an object"},
		{"export members an object", pkg("export_types.0.members", "{}"), "meta.export_types[0].members: is an object, want an array"},
		{"export member type a number", pkg("export_types.0.members.0.type", "1"), "meta.export_types[0].members[0].type: is 1, want a string"},
		{"poll timeout a string", pkg("poll_timeout_ms", `"100"`), `meta.poll_timeout_ms: is "100", want a positive number of milliseconds`},

		// Nulls where values are required.
		{"prog null", pkg("bpf_skel.progs.0", "null"), "meta.bpf_skel.progs[0]: is null, want an object"},
		{"prog name null", pkg("bpf_skel.progs.0.name", "null"), "meta.bpf_skel.progs[0].name: missing"},
		{"map null", pkg("bpf_skel.maps.0", "null"), "meta.bpf_skel.maps[0]: is null, want an object"},
		{"map name and ident null", pkg("bpf_skel.maps.0", `{"name":null,"ident":null}`), "meta.bpf_skel.maps[0]: map has neither name nor ident"},
		{"data section name null", pkg("bpf_skel.data_sections.0.name", "null"), "meta.bpf_skel.data_sections[0].name: missing"},
		{"variable null", pkg("bpf_skel.data_sections.0.variables.0", "null"), "meta.bpf_skel.data_sections[0].variables[0]: is null, want an object"},
		{"variable name null", pkg("bpf_skel.data_sections.0.variables.0.name", "null"), "meta.bpf_skel.data_sections[0].variables[0].name: missing"},
		{"export type null", pkg("export_types.0", "null"), "meta.export_types[0]: is null, want an object"},
		{"bpf_skel null", pkg("bpf_skel", "null"), "meta.bpf_skel: is null, want an object"},
		{"legacy export_btf null", pkg("export_types", `{"export_btf":null}`), "meta.export_types.export_btf: invalid BTF"},

		// 10,000-deep nesting.
		{"deep top level", []byte(deep(10000)), "top level is an array"},
		{"deep and unclosed", []byte(strings.Repeat("[", 10000)), "not valid JSON"},
		{"deep meta", envelope(elf, len(elf), deep(10000)), "meta: is an array, want an object"},
		{"deep doc", pkg("bpf_skel.doc", deep(10000)), "meta.bpf_skel.doc: is an array, want an object"},
		{"deep link", pkg("bpf_skel.progs.0.link", deep(10000)), "meta.bpf_skel.progs[0].link: is an array, want true or false"},
		{"deep value", pkg("bpf_skel.data_sections.0.variables.0.value", deep(10000)), "meta.bpf_skel.data_sections[0].variables[0].value: is an array, want a bool, number or string"},
		{"deep members", pkg("export_types.0.members", deep(10000)), "meta.export_types[0].members[0]: is an array, want an object"},
		{"deep export_config", pkg("bpf_skel.maps.0.export_config", deepObject(10000)), "meta.bpf_skel.maps[0].export_config: unrecognised value an object"},
		{"deep field_map", prof("bpf_skel.maps.0.intepreter.stack_trace.field_map", deepObject(10000)), "bpf_skel.maps[0].intepreter.stack_trace.field_map.a: is an object, want a string"},
	}
}

func TestParseHostile(t *testing.T) {
	for _, tc := range hostileCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse(tc.in)
			if err == nil {
				t.Fatalf("parsed (%d programs), want an error containing %q", len(p.Meta.Progs), tc.want)
			}
			msg := err.Error()
			if !errors.Is(err, ErrBadPackage) {
				t.Errorf("error %q is not ErrBadPackage", msg)
			}
			if is := hostileAlsoIs[tc.name]; is != nil && !errors.Is(err, is) {
				t.Errorf("error %q is not %v", msg, is)
			}
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error %q does not contain %q", msg, tc.want)
			}
			if strings.ContainsAny(msg, "\n\r") || len(msg) > 300 {
				t.Errorf("error is not one short line (%d bytes): %q", len(msg), msg)
			}
		})
	}
}

// Nesting in keys the runner does not read, and the bare size being absent, are fine.
func TestParseHostileAccepted(t *testing.T) {
	typesPkg := readTypesPackage(t)
	good, err := Parse(typesPkg)
	if err != nil {
		t.Fatal(err)
	}
	meta := gjson.GetBytes(typesPkg, "meta").Raw
	for _, tc := range []struct{ name, path, value string }{
		{"deep unknown key", "bpf_skel.progs.0", `{"name":"handle_exec","x":` + deep(10000) + `}`},
		{"no event size", "export_types.0", `{"name":"kitchen","type_id":31}`},
		{"no members", "export_types.0", `{"name":"kitchen","type_id":31,"size":128,"members":null}`},
		{"interpreter a string", "bpf_skel.maps.0", `{"name":"events","ident":"events","intepreter":"default_struct"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse(envelope(good.ELF, len(good.ELF), setJSON(t, meta, tc.path, tc.value)))
			if err != nil {
				t.Fatal(err)
			}
			if et := p.Meta.ExportTypes[0]; et.Size != 128 {
				t.Errorf("export type size = %d, want 128 (from the BTF)", et.Size)
			}
		})
	}
}

// Every package in the repository passes the checks against its object.
func TestParseRepoPackages(t *testing.T) {
	var full []string
	for _, g := range []string{"../packages/*.json", "testdata/*/*.json", "testdata/eunomia/*/package.json", "../testdata/attach/*.json"} {
		m, err := filepath.Glob(g)
		if err != nil {
			t.Fatal(err)
		}
		full = append(full, m...)
	}
	if len(full) < 10 {
		t.Fatalf("found only %d packages: %v", len(full), full)
	}
	for _, f := range full {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(b); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	for _, pair := range [][2]string{
		{"multiple_export_ringbuf/multiple.skel.json", "multiple_export_ringbuf/multiple.bpf.o"},
		{"multiple_export_ringbuf/multiple-custom-struct.json", "multiple_export_ringbuf/multiple.bpf.o"},
		{"profile_test/profile.skel.json", "profile_test/profile.bpf.o"},
		{"simple_prog/simple_prog.skel.json", "simple_prog/simple_prog.bpf.o"},
	} {
		if _, err := ParseSplit(readVector(t, pair[0]), readVector(t, pair[1])); err != nil {
			t.Errorf("%s: %v", pair[0], err)
		}
	}
}

func TestSpecMapNameIdent(t *testing.T) {
	spec := &ebpf.CollectionSpec{Maps: map[string]*ebpf.MapSpec{
		"events": {}, ".rodata": {}, ".data.my_var": {}, ".rodata.str1.1": {},
	}}
	for _, tc := range []struct {
		mm   MapMeta
		want string
	}{
		{MapMeta{Name: "events", Ident: "events"}, "events"},
		{MapMeta{Name: "client_b.rodata", Ident: "rodata"}, ".rodata"},
		{MapMeta{Name: "client_b.data.m", Ident: "data_my_var"}, ".data.my_var"},
		{MapMeta{Ident: "rodata_str1_1"}, ".rodata.str1.1"},
		{MapMeta{Name: "nope", Ident: "data_nope"}, ""},
	} {
		if got, _ := specMapName(spec, tc.mm); got != tc.want {
			t.Errorf("specMapName(%+v) = %q, want %q", tc.mm, got, tc.want)
		}
	}
}
