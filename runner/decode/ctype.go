package decode

import (
	"strconv"
	"strings"

	"github.com/cilium/ebpf/btf"
)

// Unqualified skips const, volatile, restrict and type tags; typedefs are kept.
func Unqualified(t btf.Type) btf.Type {
	for range maxDepth {
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
	return t
}

// Underlying skips typedefs and qualifiers: the type a value is decoded as.
func Underlying(t btf.Type) btf.Type {
	for range maxDepth {
		next, ok := unqualify(t)
		if !ok {
			return t
		}
		t = next
	}
	return t
}

// unqualify steps through one typedef or qualifier; ok is false when t is neither.
func unqualify(t btf.Type) (btf.Type, bool) {
	switch v := t.(type) {
	case *btf.Typedef:
		return v.Type, true
	case *btf.Const:
		return v.Type, true
	case *btf.Volatile:
		return v.Type, true
	case *btf.Restrict:
		return v.Type, true
	case *btf.TypeTag:
		return v.Type, true
	}
	return t, false
}

// typeName is the first name found through typedefs and qualifiers ("" for none).
func typeName(t btf.Type) string {
	for range maxDepth {
		if n := t.TypeName(); n != "" {
			return n
		}
		var ok bool
		if t, ok = unqualify(t); !ok {
			return ""
		}
	}
	return ""
}

// CTypeName spells t as a C type the way libbpf's btf_dump__emit_type_decl does with
// modifiers stripped, which is what ecc writes into a package's `type` strings: "int",
// "pid_t", "unsigned long long", "char[16]", "unsigned int[2][3]", "struct event *",
// "char **", "int (*)(char)". Typedefs keep their name; anonymous composites are
// "struct {...}", "union {...}" and "enum {...}"; nil is "void".
func CTypeName(t btf.Type) string {
	var b strings.Builder
	appendCType(&b, t, 0)
	return b.String()
}

func appendCType(b *strings.Builder, t btf.Type, depth int) {
	if depth > maxDepth {
		b.WriteString("...")
		return
	}
	switch t := Unqualified(t).(type) {
	case *btf.Array:
		// C writes the outermost dimension first: int a[2][3] is an array of 2 int[3].
		var dims []uint32
		var inner btf.Type = t
		for range maxDepth {
			arr, ok := Unqualified(inner).(*btf.Array)
			if !ok {
				break
			}
			dims = append(dims, arr.Nelems)
			inner = arr.Type
		}
		appendCType(b, inner, depth+1)
		for _, n := range dims {
			b.WriteByte('[')
			b.WriteString(strconv.FormatUint(uint64(n), 10))
			b.WriteByte(']')
		}
	case *btf.Pointer:
		target := Unqualified(t.Target)
		if fp, ok := target.(*btf.FuncProto); ok {
			appendFuncPointer(b, fp, depth+1)
			return
		}
		start := b.Len()
		appendCType(b, target, depth+1)
		if !strings.HasSuffix(b.String()[start:], "*") {
			b.WriteByte(' ')
		}
		b.WriteByte('*')
	case *btf.Int:
		b.WriteString(t.Name)
	case *btf.Float:
		b.WriteString(t.Name)
	case *btf.Typedef:
		b.WriteString(t.Name)
	case *btf.Struct:
		appendNamed(b, "struct", t.Name)
	case *btf.Union:
		appendNamed(b, "union", t.Name)
	case *btf.Enum:
		appendNamed(b, "enum", t.Name)
	case *btf.Fwd:
		appendNamed(b, t.Kind.String(), t.Name)
	case *btf.FuncProto:
		appendFuncPointer(b, t, depth+1)
	case *btf.Void, nil:
		b.WriteString("void")
	default:
		b.WriteString(t.TypeName())
	}
}

func appendNamed(b *strings.Builder, kind, name string) {
	b.WriteString(kind)
	if name == "" {
		b.WriteString(" {...}")
		return
	}
	b.WriteByte(' ')
	b.WriteString(name)
}

func appendFuncPointer(b *strings.Builder, fp *btf.FuncProto, depth int) {
	appendCType(b, fp.Return, depth)
	b.WriteString(" (*)(")
	if len(fp.Params) == 0 {
		b.WriteString("void")
	}
	for i, p := range fp.Params {
		if i > 0 {
			b.WriteString(", ")
		}
		appendCType(b, p.Type, depth)
	}
	b.WriteByte(')')
}
