package btfexport

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
)

var headerStructRE = regexp.MustCompile(`struct\s+(\w+)\s*\{`)
var cCommentRE = regexp.MustCompile(`(?s)/\*.*?\*/|//[^\n]*`)

// HeaderStructs returns the names of the structs a header defines, in order, found with ecc's
// regex `struct\s+(\w+)\s*\{` (comments are removed first).
func HeaderStructs(header []byte) []string {
	text := cCommentRE.ReplaceAll(header, nil)
	var names []string
	seen := map[string]bool{}
	for _, m := range headerStructRE.FindAllSubmatch(text, -1) {
		n := string(m[1])
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	return names
}

// exportTypes picks the exported structs: first the value types of ring buffer / perf buffer
// maps (in map order), then the header's structs in BTF id order (ecc's rule). When no buffer
// declares its value type, export_types[0] is the event its records are decoded with: the
// header struct no other header struct contains comes first (see eventFirst).
func exportTypes(cs *ebpf.CollectionSpec, maps []string, opts Options) ([]*btf.Struct, error) {
	out := bufferValueStructs(cs, maps)
	if opts.Header == nil {
		return out, nil
	}
	header, err := headerStructsInBTF(cs.Types, opts)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 && hasEventBuffer(cs, maps) && len(header) > 1 {
		if header, err = eventFirst(header, nameOr(opts.HeaderName, "header")); err != nil {
			return nil, err
		}
	}
	for _, s := range header {
		if !containsStruct(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// bufferValueStructs lists the distinct value structs of ring / perf buffers, in map order.
func bufferValueStructs(cs *ebpf.CollectionSpec, maps []string) []*btf.Struct {
	var out []*btf.Struct
	for _, n := range maps {
		m := cs.Maps[n]
		if !isBuffer(m) || m.Value == nil {
			continue
		}
		if s, ok := btf.UnderlyingType(m.Value).(*btf.Struct); ok && !containsStruct(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func isBuffer(m *ebpf.MapSpec) bool { return m.Type == ebpf.RingBuf || m.Type == ebpf.PerfEventArray }

// hasEventBuffer reports whether the object has a ring or perf buffer.
func hasEventBuffer(cs *ebpf.CollectionSpec, maps []string) bool {
	for _, n := range maps {
		if isBuffer(cs.Maps[n]) {
			return true
		}
	}
	return false
}

func containsStruct(list []*btf.Struct, s *btf.Struct) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// headerStructsInBTF finds each struct the header defines in the object's BTF (the first of
// that name), in BTF id order; one the BTF lacks is ErrMissingType.
func headerStructsInBTF(spec *btf.Spec, opts Options) ([]*btf.Struct, error) {
	names := HeaderStructs(opts.Header)
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []*btf.Struct
	found := map[string]bool{}
	for typ, err := range spec.All() {
		if err != nil {
			return nil, fmt.Errorf("reading object BTF: %w: %w", ErrBadObject, err)
		}
		s, ok := typ.(*btf.Struct)
		if !ok || !want[s.Name] || found[s.Name] {
			continue
		}
		found[s.Name] = true
		out = append(out, s)
	}
	for _, n := range names {
		if !found[n] {
			return nil, fmt.Errorf("struct %s from %s: %w (anchor it as ecc does, see docs/compile.md)",
				n, nameOr(opts.HeaderName, "header"), ErrMissingType)
		}
	}
	return out, nil
}

// eventFirst moves the event to the front of the header's structs: the one struct that no
// other header struct contains (by value, through arrays, typedefs and nested unions), as in
// `struct inner {...}; struct event { struct inner pairs[3]; };`. The others keep their order.
// Containment is acyclic, so there is at least one such struct; several is ErrAmbiguousEvent.
func eventFirst(header []*btf.Struct, headerName string) ([]*btf.Struct, error) {
	var tops []string
	event := -1
	for i, s := range header {
		if !containedByAnother(header, s) {
			tops = append(tops, s.Name)
			event = i
		}
	}
	if len(tops) > 1 {
		return nil, fmt.Errorf("%s: %w: no struct in it contains the others (%s); keep one top-level struct in the header or declare the buffer's __type(value, struct X)",
			headerName, ErrAmbiguousEvent, strings.Join(tops, ", "))
	}
	out := append([]*btf.Struct{header[event]}, header[:event]...)
	return append(out, header[event+1:]...), nil
}

// containedByAnother reports whether a struct of list other than s holds s by value.
func containedByAnother(list []*btf.Struct, s *btf.Struct) bool {
	for _, t := range list {
		if t != s && embeds(t, s, map[btf.Type]bool{}) {
			return true
		}
	}
	return false
}

// embeds reports whether a value of type outer holds a target struct: as a member, an array
// element or inside a nested struct or union (not behind a pointer).
func embeds(outer btf.Type, target *btf.Struct, seen map[btf.Type]bool) bool {
	t := element(outer)
	if seen[t] {
		return false
	}
	seen[t] = true
	var members []btf.Member
	switch c := t.(type) {
	case *btf.Struct:
		members = c.Members
	case *btf.Union:
		members = c.Members
	}
	for _, m := range members {
		if mt := element(m.Type); mt == target || embeds(mt, target, seen) {
			return true
		}
	}
	return false
}

// element strips typedefs, qualifiers and array dimensions: the type a value is made of.
func element(t btf.Type) btf.Type {
	t = btf.UnderlyingType(t)
	for {
		a, ok := t.(*btf.Array)
		if !ok {
			return t
		}
		t = btf.UnderlyingType(a.Type)
	}
}
