package decode

import (
	"testing"

	"github.com/cilium/ebpf/btf"
)

func TestCTypeName(t *testing.T) {
	u32 := &btf.Int{Name: "unsigned int", Size: 4}
	char := &btf.Int{Name: "char", Size: 1, Encoding: btf.Signed | btf.Char}
	boolT := &btf.Typedef{Name: "bool", Type: &btf.Int{Name: "_Bool", Size: 1, Encoding: btf.Bool}}
	pid := &btf.Typedef{Name: "pid_t", Type: &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}}
	ev := &btf.Struct{Name: "event", Size: 8}
	loop := &btf.Pointer{}
	loop.Target = loop
	for _, tc := range []struct {
		typ  btf.Type
		want string
	}{
		{u32, "unsigned int"},
		{&btf.Const{Type: &btf.Volatile{Type: pid}}, "pid_t"},
		{&btf.Volatile{Type: &btf.Const{Type: boolT}}, "bool"},
		{&btf.Restrict{Type: &btf.TypeTag{Value: "user", Type: u32}}, "unsigned int"},
		{&btf.Array{Type: &btf.Const{Type: &btf.Volatile{Type: char}}, Nelems: 16}, "char[16]"},
		{&btf.Array{Type: &btf.Array{Type: u32, Nelems: 3}, Nelems: 2}, "unsigned int[2][3]"},
		{&btf.Array{Type: &btf.Const{Type: &btf.Array{Type: u32, Nelems: 3}}, Nelems: 2}, "unsigned int[2][3]"},
		{&btf.Pointer{Target: ev}, "struct event *"},
		{&btf.Pointer{Target: &btf.Pointer{Target: char}}, "char **"},
		{&btf.Pointer{Target: &btf.Void{}}, "void *"},
		{&btf.Pointer{Target: &btf.Const{Type: char}}, "char *"},
		{&btf.Array{Type: &btf.Pointer{Target: char}, Nelems: 4}, "char *[4]"},
		{&btf.Union{Size: 4}, "union {...}"},
		{&btf.Struct{Size: 4}, "struct {...}"},
		{&btf.Enum{Size: 4}, "enum {...}"},
		{&btf.Enum{Name: "event_type", Size: 4}, "enum event_type"},
		{&btf.Fwd{Name: "task_struct", Kind: btf.FwdStruct}, "struct task_struct"},
		{&btf.Pointer{Target: &btf.FuncProto{Return: u32, Params: []btf.FuncParam{{Type: char}, {Type: ev}}}}, "unsigned int (*)(char, struct event)"},
		{&btf.Pointer{Target: &btf.FuncProto{Return: &btf.Void{}}}, "void (*)(void)"},
		{&btf.Float{Name: "double", Size: 8}, "double"},
		{&btf.Void{}, "void"},
		{nil, "void"},
		{&btf.Const{Type: &btf.Volatile{Type: &btf.Int{Name: "unsigned long long", Size: 8}}}, "unsigned long long"},
	} {
		if got := CTypeName(tc.typ); got != tc.want {
			t.Errorf("CTypeName(%v) = %q, want %q", tc.typ, got, tc.want)
		}
	}
	// A pointer cycle (only hostile BTF has one) ends instead of recursing forever.
	if got := CTypeName(loop); len(got) == 0 || len(got) > 4*maxDepth+8 {
		t.Errorf("CTypeName(pointer cycle) = %q", got)
	}
}

func TestUnderlyingAndUnqualified(t *testing.T) {
	u32 := &btf.Int{Name: "unsigned int", Size: 4}
	td := &btf.Typedef{Name: "u32", Type: &btf.Const{Type: u32}}
	q := &btf.Volatile{Type: &btf.Const{Type: td}}
	if got := Unqualified(q); got != td {
		t.Errorf("Unqualified = %v, want the typedef", got)
	}
	if got := Underlying(q); got != u32 {
		t.Errorf("Underlying = %v, want the int", got)
	}
	if got := Underlying(u32); got != u32 {
		t.Errorf("Underlying(int) = %v", got)
	}
	// A qualifier cycle ends after maxDepth steps.
	c := &btf.Const{}
	c.Type = &btf.Volatile{Type: c}
	_ = Underlying(c)
	_ = Unqualified(c)
}
