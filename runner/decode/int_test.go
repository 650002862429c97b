package decode

import (
	"errors"
	"testing"

	"github.com/cilium/ebpf/btf"
)

func TestIntOfAndRead(t *testing.T) {
	enum := &btf.Enum{Name: "e", Size: 2, Signed: true}
	typ := &btf.Struct{Name: "s", Size: 32, Members: []btf.Member{
		mem("u8", tU8, 0), mem("s16", tS16, 2), mem("u32", &btf.Typedef{Name: "u32", Type: tU32}, 4),
		mem("s64", &btf.Const{Type: tS64}, 8), mem("en", enum, 16), mem("ptr", &btf.Pointer{Target: &btf.Void{}}, 24),
	}}
	p, err := Compile(roundTrip(t, typ), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := sample(make([]byte, 32)).u8(0, 0xfe).u16(2, 0xfffe).u32(4, 0xfffffffe).u64(8, ^uint64(1)).u16(16, 0x8000).u64(24, 0xdead)
	for i, want := range []struct {
		at Int
		v  uint64
	}{
		{Int{0, 1, false}, 0xfe},
		{Int{2, 2, true}, ^uint64(1)},
		{Int{4, 4, false}, 0xfffffffe},
		{Int{8, 8, true}, ^uint64(1)},
		{Int{16, 2, true}, ^uint64(0x7fff)},
		{Int{24, 8, false}, 0xdead},
	} {
		at, err := IntOf(p.Fields()[i])
		if err != nil || at != want.at {
			t.Errorf("IntOf(%s) = %+v (%v), want %+v", p.Fields()[i].Name, at, err, want.at)
			continue
		}
		if v, err := at.Read(s); err != nil || v != want.v {
			t.Errorf("%s: Read = %#x (%v), want %#x", p.Fields()[i].Name, v, err, want.v)
		}
	}
	if _, err := (Int{Offset: 30, Size: 4}).Read(s); !errors.Is(err, ErrShortSample) {
		t.Errorf("past the end: %v", err)
	}
	if _, err := (Int{Offset: 0, Size: 3}).Read(s); !errors.Is(err, ErrUnsupportedType) {
		t.Errorf("3 bytes: %v", err)
	}
	if _, err := (Int{Offset: ^uint32(0), Size: 8}).Read(s); !errors.Is(err, ErrShortSample) {
		t.Errorf("offset overflow: %v", err)
	}
}

func TestIntOfRejects(t *testing.T) {
	typ := &btf.Struct{Name: "s", Size: 40, Members: []btf.Member{
		mem("name", arr(tChar, 8), 0), bitfield("flags", tU32, 64, 3), mem("big", tU128, 16), mem("f", tF64, 32),
	}}
	p, err := Compile(roundTrip(t, typ), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range p.Fields() {
		if _, err := IntOf(f); !errors.Is(err, ErrUnsupportedType) {
			t.Errorf("IntOf(%s): %v, want ErrUnsupportedType", f.Name, err)
		}
	}
}
