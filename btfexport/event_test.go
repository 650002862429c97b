package btfexport

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
)

// specOf marshals types with btf.Builder and reads them back, as an object's .BTF would be.
func specOf(t *testing.T, types ...btf.Type) *btf.Spec {
	t.Helper()
	b, err := btf.NewBuilder(types, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := b.Marshal(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := btf.LoadSpecFromReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// TestExportTypesEvent: with a ring buffer that names no value type and a header defining
// several structs, export_types[0] is the header struct no other header struct contains.
func TestExportTypesEvent(t *testing.T) {
	u32 := &btf.Int{Name: "unsigned int", Size: 4}
	inner := &btf.Struct{Name: "inner", Size: 8, Members: []btf.Member{
		{Name: "k", Type: u32}, {Name: "v", Type: u32, Offset: 32}}}
	pairT := &btf.Typedef{Name: "pair_t", Type: inner}
	// event holds inner three times, through a typedef and an array; other is unrelated but
	// points at event (a pointer does not contain).
	event := &btf.Struct{Name: "event", Size: 28, Members: []btf.Member{
		{Name: "pid", Type: u32},
		{Name: "pairs", Type: &btf.Array{Index: u32, Type: &btf.Const{Type: pairT}, Nelems: 3}, Offset: 32}}}
	inUnion := &btf.Struct{Name: "wrapped", Size: 8, Members: []btf.Member{
		{Name: "u", Type: &btf.Union{Size: 8, Members: []btf.Member{{Name: "in", Type: inner}}}}}}
	loose := &btf.Struct{Name: "loose", Size: 8, Members: []btf.Member{
		{Name: "ev", Type: &btf.Pointer{Target: event}}}}

	ringbuf := map[string]*ebpf.MapSpec{"events": {Name: "events", Type: ebpf.RingBuf}}
	for _, tc := range []struct {
		name   string
		types  []btf.Type // BTF id order
		header string
		maps   map[string]*ebpf.MapSpec
		want   []string // export_types names, in order
		err    string   // else: the one-line error wanted
	}{
		{"inner first in BTF", []btf.Type{inner, event}, "struct inner { };\nstruct event { };", ringbuf,
			[]string{"event", "inner"}, ""},
		{"event first in BTF", []btf.Type{event, inner}, "struct inner { };\nstruct event { };", ringbuf,
			[]string{"event", "inner"}, ""},
		{"through a union", []btf.Type{inner, inUnion}, "struct inner { };\nstruct wrapped { };", ringbuf,
			[]string{"wrapped", "inner"}, ""},
		{"no buffer: ecc's order", []btf.Type{inner, event}, "struct inner { };\nstruct event { };", nil,
			[]string{"inner", "event"}, ""},
		{"one struct", []btf.Type{inner}, "struct inner { };", ringbuf, []string{"inner"}, ""},
		{"pointer does not contain", []btf.Type{inner, event, loose}, "struct event { };\nstruct loose { };", ringbuf,
			nil, "events.h: ambiguous event struct: no struct in it contains the others (event, loose)"},
		{"unrelated", []btf.Type{inner, inUnion, event}, "struct wrapped { }; struct event { }; struct inner { };", ringbuf,
			nil, "(wrapped, event)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := &ebpf.CollectionSpec{Maps: tc.maps, Types: specOf(t, tc.types...)}
			var maps []string
			for n := range tc.maps {
				maps = append(maps, n)
			}
			got, err := exportTypes(cs, maps, Options{Header: []byte(tc.header), HeaderName: "events.h"})
			if tc.err != "" {
				if err == nil || !errors.Is(err, ErrAmbiguousEvent) || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("error %v: want one line with %q, wrapping ErrAmbiguousEvent", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, s := range got {
				names = append(names, s.Name)
			}
			if strings.Join(names, " ") != strings.Join(tc.want, " ") {
				t.Errorf("export_types %q, want %q", names, tc.want)
			}
		})
	}
}

// TestExportTypesDeclaredValue: a buffer's declared value type comes first whatever the
// header holds, and is not repeated.
func TestExportTypesDeclaredValue(t *testing.T) {
	u32 := &btf.Int{Name: "unsigned int", Size: 4}
	a := &btf.Struct{Name: "a", Size: 4, Members: []btf.Member{{Name: "x", Type: u32}}}
	b := &btf.Struct{Name: "b", Size: 4, Members: []btf.Member{{Name: "y", Type: u32}}}
	spec := specOf(t, a, b)
	var bt *btf.Struct
	if err := spec.TypeByName("b", &bt); err != nil {
		t.Fatal(err)
	}
	cs := &ebpf.CollectionSpec{Types: spec, Maps: map[string]*ebpf.MapSpec{
		"events": {Name: "events", Type: ebpf.PerfEventArray, Value: bt}}}
	got, err := exportTypes(cs, []string{"events"}, Options{Header: []byte("struct a {}; struct b {};")})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "b" || got[1].Name != "a" {
		t.Errorf("export_types %v, want b then a", got)
	}
}
