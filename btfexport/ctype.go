package btfexport

import (
	"fmt"
	"strings"

	"github.com/cilium/ebpf/btf"
)

// cType renders t as a C type string the way libbpf's btf_dump__emit_type_decl does with
// modifiers stripped, which is what ecc writes into `type`: "int", "pid_t", "bool",
// "unsigned long long", "char[16]", "struct event *". Typedefs keep their name. Anonymous
// composites render as "struct {...}" / "union {...}" / "enum {...}".
func cType(t btf.Type) string {
	t = stripQualifiers(t)
	switch t := t.(type) {
	case *btf.Array:
		var dims strings.Builder
		var inner btf.Type = t
		for {
			arr, ok := stripQualifiers(inner).(*btf.Array)
			if !ok {
				break
			}
			fmt.Fprintf(&dims, "[%d]", arr.Nelems)
			inner = arr.Type
		}
		return cType(inner) + dims.String()
	case *btf.Pointer:
		target := stripQualifiers(t.Target)
		if fp, ok := target.(*btf.FuncProto); ok {
			return funcPointer(fp)
		}
		s := cType(target)
		if strings.HasSuffix(s, "*") {
			return s + "*"
		}
		return s + " *"
	case *btf.Void:
		return "void"
	case *btf.Int:
		return t.Name
	case *btf.Float:
		return t.Name
	case *btf.Typedef:
		return t.Name
	case *btf.Struct:
		return named("struct", t.Name)
	case *btf.Union:
		return named("union", t.Name)
	case *btf.Enum:
		return named("enum", t.Name)
	case *btf.Fwd:
		return named(t.Kind.String(), t.Name)
	case *btf.FuncProto:
		return funcPointer(t)
	case nil:
		return "void"
	default:
		return t.TypeName()
	}
}

func named(kind, name string) string {
	if name == "" {
		return kind + " {...}"
	}
	return kind + " " + name
}

func funcPointer(fp *btf.FuncProto) string {
	params := make([]string, 0, len(fp.Params))
	for _, p := range fp.Params {
		params = append(params, cType(p.Type))
	}
	if len(params) == 0 {
		params = append(params, "void")
	}
	return cType(fp.Return) + " (*)(" + strings.Join(params, ", ") + ")"
}

// skelType is the `type` string of a variable or an exported struct member, as ecc's bpftool
// fork writes it: cType, except that a struct or union is "composite" and an enum is "enum".
func skelType(t btf.Type) string {
	switch stripQualifiers(t).(type) {
	case *btf.Struct, *btf.Union:
		return "composite"
	case *btf.Enum:
		return "enum"
	}
	return cType(t)
}

// stripQualifiers drops const, volatile, restrict and type tags.
func stripQualifiers(t btf.Type) btf.Type {
	for {
		switch q := t.(type) {
		case *btf.Const:
			t = q.Type
		case *btf.Volatile:
			t = q.Type
		case *btf.Restrict:
			t = q.Type
		case *btf.TypeTag:
			t = q.Type
		default:
			return t
		}
	}
}

// underlying strips qualifiers and typedefs.
func underlying(t btf.Type) btf.Type {
	for {
		t = stripQualifiers(t)
		td, ok := t.(*btf.Typedef)
		if !ok {
			return t
		}
		t = td.Type
	}
}
