package runner

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/tidwall/gjson"

	"ecli/internal/testutils"
	"ecli/runner/decode"
)

func TestParseSampleExtensions(t *testing.T) {
	for _, tc := range []struct {
		json    string
		want    Sample
		wantErr string // substring of the error; "" means no error
	}{
		{json: `{"interval": 1000}`, want: Sample{Interval: time.Second, Type: "default_kv", Unit: "(unit)"}},
		{json: `{"interval": 0, "type": "table"}`, want: Sample{Type: "table", Unit: "(unit)", AtExit: true}},
		{json: `{"at_exit": true, "type": "table"}`, want: Sample{Type: "table", Unit: "(unit)", AtExit: true}},
		{json: `{"interval": 500, "at_exit": true}`, want: Sample{Interval: 500 * time.Millisecond, Type: "default_kv", Unit: "(unit)", AtExit: true}},
		{json: `{"interval": 0, "sort": "af, -connects"}`, want: Sample{Type: "default_kv", Unit: "(unit)", AtExit: true,
			Sort: []SortKey{{Field: "af"}, {Field: "connects", Desc: true}}}},
		{json: `{}`, wantErr: "sample.interval: is missing"},
		{json: `{"interval": -1}`, wantErr: "sample.interval: is -1"},
		{json: `{"interval": 0, "type": "tabel"}`, wantErr: `sample.type: "tabel" is not one of`},
		{json: `{"interval": 0, "sort": 3}`, wantErr: "sample.sort: is a number"},
		{json: `{"interval": 0, "sort": "a,,b"}`, wantErr: "empty field name"},
		{json: `{"interval": 0, "sort": "-"}`, wantErr: "empty field name"},
		{json: `{"interval": 0, "type": "log2_hist", "unit": "usecs", "unit_if": "targ_ms:msecs", "time": "targ_ts"}`,
			want: Sample{Type: "log2_hist", Unit: "usecs", AtExit: true, Time: "targ_ts", UnitIf: &UnitIf{Flag: "targ_ms", Unit: "msecs"}}},
		{json: `{"interval": 0, "unit_if": "targ_ms"}`, wantErr: `sample.unit_if: is "targ_ms", want "GLOBAL:UNIT"`},
		{json: `{"interval": 0, "unit_if": ":msecs"}`, wantErr: "sample.unit_if"},
		{json: `{"interval": 0, "time": true}`, wantErr: "sample.time: is a bool"},
	} {
		t.Run(tc.json, func(t *testing.T) {
			got, err := parseSample(gjson.Parse(tc.json), "m.sample")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, ErrBadPackage) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tc.want) {
				t.Errorf("got %+v\nwant %+v", *got, tc.want)
			}
		})
	}
}

func TestParseMapWhenUnless(t *testing.T) {
	mm, err := parseMap(gjson.Parse(`{"name": "m", "when": "a", "unless": "b"}`), "maps[0]")
	if err != nil {
		t.Fatal(err)
	}
	if mm.When != "a" || mm.Unless != "b" {
		t.Errorf("when %q unless %q, want a and b", mm.When, mm.Unless)
	}
	for _, bad := range []string{`{"name": "m", "when": true}`, `{"name": "m", "unless": ""}`} {
		if _, err := parseMap(gjson.Parse(bad), "maps[0]"); !errors.Is(err, ErrBadPackage) {
			t.Errorf("%s: error %v, want a bad package error", bad, err)
		}
	}
}

func TestExporterActive(t *testing.T) {
	flags := map[string]bool{"on": true}
	flag := func(n string) bool { return flags[n] }
	for _, tc := range []struct {
		when, unless string
		want         bool
	}{
		{"", "", true}, {"on", "", true}, {"off", "", false}, {"", "on", false}, {"", "off", true},
		{"on", "off", true}, {"on", "on", false}, {"off", "off", false},
	} {
		e := &exporter{meta: MapMeta{When: tc.when, Unless: tc.unless}}
		if got := e.active(flag); got != tc.want {
			t.Errorf("when %q unless %q: active %v, want %v", tc.when, tc.unless, got, tc.want)
		}
	}
}

// TestWhenValidation: when/unless must name a bool option of the program.
func TestWhenValidation(t *testing.T) {
	data, err := os.ReadFile("testdata/hist/hist.json")
	if err != nil {
		t.Fatalf("%v (run make packages)", err)
	}
	for _, tc := range []struct{ when, unless, wantErr string }{
		{when: "nope", wantErr: `maps[0].when: "nope" is not a bool global`},
		{unless: "targ_ppid", wantErr: `maps[0].unless: "targ_ppid" is not a bool global`},
	} {
		p, err := Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		p.Meta.Maps[0].When, p.Meta.Maps[0].Unless = tc.when, tc.unless
		_, err = p.Outputs(nil)
		if !errors.Is(err, ErrBadPackage) || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("when %q unless %q: error %v, want %q", tc.when, tc.unless, err, tc.wantErr)
		}
	}
}

var (
	u16 = &btf.Int{Name: "__u16", Size: 2}
	u32 = &btf.Int{Name: "__u32", Size: 4}
	s32 = &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}
	u64 = &btf.Int{Name: "__u64", Size: 8}
)

// tableExporter builds the exporter of a hash map sampled as a table.
func tableExporter(t *testing.T, key, value btf.Type, smp Sample) (*exporter, error) {
	t.Helper()
	ks, err := btf.Sizeof(key)
	if err != nil {
		t.Fatal(err)
	}
	vs, err := btf.Sizeof(value)
	if err != nil {
		t.Fatal(err)
	}
	ms := &ebpf.MapSpec{Name: "flows", Type: ebpf.Hash, KeySize: uint32(ks), ValueSize: uint32(vs), Key: key, Value: value}
	e := &exporter{meta: MapMeta{Name: "flows", Sample: &smp}, specMap: ms, name: "flows"}
	if e.plan, err = decode.Compile(value, decode.Options{}); err != nil {
		t.Fatal(err)
	}
	if e.keyPlan, err = decode.Compile(key, decode.Options{}); err != nil {
		t.Fatal(err)
	}
	return e, e.compileTable("maps[0]", decode.Options{})
}

// flowKey: a hinted key struct (addr as IPv4, a hidden signed class, port) and a value
// struct whose count is hinted.
var (
	flowKey = &btf.Struct{Name: "flow", Size: 12, Members: []btf.Member{
		{Name: "addr", Type: u32, Offset: 0, Tags: []string{"ecli:name=ADDR", "ecli:format=ipv4", "ecli:fmt=%-16s"}},
		{Name: "class", Type: s32, Offset: 32, Tags: []string{"ecli:hide"}},
		{Name: "port", Type: u16, Offset: 64, Tags: []string{"ecli:name=PORT", "ecli:fmt=%-6d"}},
	}}
	flowCount = &btf.Struct{Name: "count", Size: 8, Members: []btf.Member{
		{Name: "n", Type: u64, Tags: []string{"ecli:name=N", "ecli:fmt=%-5d"}},
	}}
)

type flowEntry struct {
	addr  [4]byte
	class int32
	port  uint16
	n     uint64
}

func (f flowEntry) kv() kv {
	k := make([]byte, 12)
	copy(k, f.addr[:])
	binary.LittleEndian.PutUint32(k[4:], uint32(f.class))
	binary.LittleEndian.PutUint16(k[8:], f.port)
	return kv{k, binary.LittleEndian.AppendUint64(nil, f.n)}
}

func (f flowEntry) text() string {
	return strings.TrimRight(fmt.Sprintf("%-16s %-6d %-5d", fmt.Sprintf("%d.%d.%d.%d", f.addr[0], f.addr[1], f.addr[2], f.addr[3]), f.port, f.n), " ")
}

func TestTableSample(t *testing.T) {
	e, err := tableExporter(t, flowKey, flowCount, Sample{Type: "table", AtExit: true,
		Sort: []SortKey{{Field: "class"}, {Field: "n", Desc: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := e.table.Header(), fmt.Sprintf("%-16s %-6s %s", "ADDR", "PORT", "N"); got != want {
		t.Errorf("header %q, want %q", got, want)
	}
	flows := []flowEntry{
		{[4]byte{10, 0, 0, 1}, 1, 80, 3},
		{[4]byte{10, 0, 0, 2}, -1, 443, 1},
		{[4]byte{10, 0, 0, 3}, 1, 22, 70},
		{[4]byte{10, 0, 0, 4}, 0, 8080, 2},
		{[4]byte{10, 0, 0, 5}, 1, 23, 3},
	}
	// class ascending (signed), then n descending, then key bytes (addr) ascending.
	want := []flowEntry{flows[1], flows[3], flows[2], flows[0], flows[4]}
	var entries []kv
	for _, f := range flows {
		entries = append(entries, f.kv())
	}
	sortEntries(entries, e.sort)
	s := &sampler{e: e, format: Text}
	var out bytes.Buffer
	for _, en := range entries {
		if err := s.entry(&out, en.key, en.val); err != nil {
			t.Fatal(err)
		}
	}
	var wantText strings.Builder
	for _, f := range want {
		wantText.WriteString(f.text() + "\n")
	}
	if out.String() != wantText.String() {
		t.Errorf("rows:\n%s\nwant:\n%s", out.String(), wantText.String())
	}

	// JSON keeps eunomia's key/value objects.
	s.format = JSON
	out.Reset()
	if err := s.entry(&out, entries[0].key, entries[0].val); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), `{"key":{"addr":"10.0.0.2","class":-1,"port":443},"value":{"n":1}}`+"\n"; got != want {
		t.Errorf("JSON %s, want %s", got, want)
	}
}

// TestTableScalarTypes: a key or value that is not a struct is one column named key or
// value; hints on a typedef apply to it.
func TestTableScalarTypes(t *testing.T) {
	cnt := &btf.Typedef{Name: "cnt_t", Type: u64, Tags: []string{"ecli:name=COUNT", "ecli:fmt=%6d"}}
	e, err := tableExporter(t, u32, cnt, Sample{Type: "table", AtExit: true, Sort: []SortKey{{Field: "value", Desc: true}}})
	if err != nil {
		t.Fatal(err)
	}
	// KEY has no fmt: it is as wide as its header.
	if got, want := e.table.Header(), fmt.Sprintf("%-3s %6s", "KEY", "COUNT"); got != want {
		t.Errorf("header %q, want %q", got, want)
	}
	entries := []kv{
		{binary.LittleEndian.AppendUint32(nil, 7), binary.LittleEndian.AppendUint64(nil, 1)},
		{binary.LittleEndian.AppendUint32(nil, 9), binary.LittleEndian.AppendUint64(nil, 12)},
	}
	sortEntries(entries, e.sort)
	var out bytes.Buffer
	s := &sampler{e: e, format: Text}
	for _, en := range entries {
		if err := s.entry(&out, en.key, en.val); err != nil {
			t.Fatal(err)
		}
	}
	if want := fmt.Sprintf("%-3d %6d\n%-3d %6d\n", 9, 12, 7, 1); out.String() != want {
		t.Errorf("rows %q, want %q", out.String(), want)
	}
}

func TestTableSortErrors(t *testing.T) {
	arr := &btf.Array{Index: u32, Type: &btf.Int{Name: "char", Size: 1, Encoding: btf.Char}, Nelems: 8}
	withName := &btf.Struct{Name: "k", Size: 12, Members: []btf.Member{
		{Name: "name", Type: arr}, {Name: "id", Type: u32, Offset: 64},
	}}
	for _, tc := range []struct {
		field, wantErr string
	}{
		{"nope", `maps[0].sample.sort: map flows has no key or value field "nope"`},
		{"name", `maps[0].sample.sort: field "name" of map flows is not an integer`},
	} {
		_, err := tableExporter(t, withName, u64, Sample{Type: "table", Sort: []SortKey{{Field: tc.field}}})
		if !errors.Is(err, ErrBadPackage) || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("sort %q: error %v, want %q", tc.field, err, tc.wantErr)
		}
	}
	// Sorting works for other sample types too (no table plan then).
	e, err := tableExporter(t, withName, u64, Sample{Type: "default_kv", Sort: []SortKey{{Field: "id"}}})
	if err != nil || e.table != nil || len(e.sort) != 1 {
		t.Errorf("default_kv with sort: %v, table %v, sort %v", err, e.table, e.sort)
	}
}

// TestTableRows: role rows keeps the first N entries of a round, after the sort.
func TestTableRows(t *testing.T) {
	testutils.RequirePrivileged(t)
	e, err := tableExporter(t, flowKey, flowCount, Sample{Type: "table", AtExit: true,
		Sort: []SortKey{{Field: "n", Desc: true}}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Hash, KeySize: 12, ValueSize: 8, MaxEntries: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	flows := []flowEntry{
		{[4]byte{10, 0, 0, 1}, 0, 80, 3},
		{[4]byte{10, 0, 0, 2}, 0, 443, 9},
		{[4]byte{10, 0, 0, 3}, 0, 22, 1},
		{[4]byte{10, 0, 0, 4}, 0, 8080, 5},
	}
	for _, f := range flows {
		en := f.kv()
		if err := m.Put(en.key, en.val); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	s := &sampler{e: e, m: m, w: &lockedWriter{w: &out, fail: func() {}}, format: Text, rows: 2,
		flag: func(string) bool { return false }, diag: func(d string) { t.Error(d) }}
	s.round()
	want := "\n" + e.table.Header() + "\n" + flows[1].text() + "\n" + flows[3].text() + "\n"
	if out.String() != want {
		t.Errorf("rows:\n%q\nwant\n%q", out.String(), want)
	}
}
