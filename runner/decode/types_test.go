package decode

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// Base types as clang emits them.
var (
	tU8   = &btf.Int{Name: "unsigned char", Size: 1}
	tS8   = &btf.Int{Name: "signed char", Size: 1, Encoding: btf.Signed}
	tChar = &btf.Int{Name: "char", Size: 1, Encoding: btf.Signed}
	tU16  = &btf.Int{Name: "unsigned short", Size: 2}
	tS16  = &btf.Int{Name: "short", Size: 2, Encoding: btf.Signed}
	tU32  = &btf.Int{Name: "unsigned int", Size: 4}
	tS32  = &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}
	tU64  = &btf.Int{Name: "unsigned long long", Size: 8}
	tS64  = &btf.Int{Name: "long long", Size: 8, Encoding: btf.Signed}
	tI128 = &btf.Int{Name: "__int128", Size: 16, Encoding: btf.Signed}
	tU128 = &btf.Int{Name: "unsigned __int128", Size: 16}
	tBool = &btf.Int{Name: "_Bool", Size: 1, Encoding: btf.Bool}
	tF32  = &btf.Float{Name: "float", Size: 4}
	tF64  = &btf.Float{Name: "double", Size: 8}
	tIdx  = &btf.Int{Name: "__ARRAY_SIZE_TYPE__", Size: 4}
)

func arr(elem btf.Type, n uint32) *btf.Array { return &btf.Array{Index: tIdx, Type: elem, Nelems: n} }

// mem builds a byte-aligned member at byte offset off.
func mem(name string, typ btf.Type, off uint32, tags ...string) btf.Member {
	return btf.Member{Name: name, Type: typ, Offset: btf.Bits(off) * 8, Tags: tags}
}

// bitfield builds a bitfield member at bit offset off.
func bitfield(name string, typ btf.Type, off, size uint32) btf.Member {
	return btf.Member{Name: name, Type: typ, Offset: btf.Bits(off), BitfieldSize: btf.Bits(size)}
}

// roundTrip marshals typ with btf.Builder and loads it back, so that tests exercise BTF as
// it is on the wire (decl tags included).
func roundTrip(t testing.TB, typ btf.Type) btf.Type {
	t.Helper()
	b, err := btf.NewBuilder(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	id, err := b.Add(typ)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := b.Spec()
	if err != nil {
		t.Fatal(err)
	}
	got, err := spec.TypeByID(id)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// sample is a little-endian sample builder.
type sample []byte

func (s sample) u8(off int, v uint8) sample   { s[off] = v; return s }
func (s sample) u16(off int, v uint16) sample { binary.LittleEndian.PutUint16(s[off:], v); return s }
func (s sample) u32(off int, v uint32) sample { binary.LittleEndian.PutUint32(s[off:], v); return s }
func (s sample) u64(off int, v uint64) sample { binary.LittleEndian.PutUint64(s[off:], v); return s }
func (s sample) str(off int, v string) sample { copy(s[off:], v); return s }

// bits writes the low size bits of v at bit offset off, one bit at a time.
func (s sample) bits(off, size int, v uint64) sample {
	for i := range size {
		byteIdx, bit := (off+i)/8, uint((off+i)%8)
		if v>>uint(i)&1 == 1 {
			s[byteIdx] |= 1 << bit
		} else {
			s[byteIdx] &^= 1 << bit
		}
	}
	return s
}

var enumE = &btf.Enum{Name: "E", Size: 4, Values: []btf.EnumValue{{Name: "E_A", Value: 0}, {Name: "E_B", Value: 1}, {Name: "E_C", Value: 7}}}
var enumSigned = &btf.Enum{Name: "S", Size: 4, Signed: true, Values: []btf.EnumValue{{Name: "NEG", Value: uint64(math.MaxUint64)}, {Name: "POS", Value: 1}}}
var enum64 = &btf.Enum{Name: "E64", Size: 8, Values: []btf.EnumValue{{Name: "BIG", Value: 1 << 40}, {Name: "SMALL", Value: 2}}}
var enum8 = &btf.Enum{Name: "E8", Size: 1, Values: []btf.EnumValue{{Name: "ONE", Value: 1}}}

type typeCase struct {
	name   string
	typ    btf.Type
	sample []byte
	json   string // expected JSON, written by hand
	text   string // expected text after "HH:MM:SS" (eunomia layout), "" to skip
}

func typeCases() []typeCase {
	point := &btf.Struct{Name: "point", Size: 8, Members: []btf.Member{mem("x", tS32, 0), mem("y", tS32, 4)}}
	cvT := &btf.Typedef{Name: "u32_t", Type: &btf.Const{Type: &btf.Volatile{Type: &btf.Typedef{Name: "__u32", Type: &btf.Restrict{Type: tU32}}}}}
	tagged := &btf.TypeTag{Type: tU16, Value: "user"}
	ipUnion := &btf.Union{Size: 16, Members: []btf.Member{mem("v4", tU32, 0), mem("v6", arr(tU8, 16), 0)}}
	inner := &btf.Struct{Name: "inner", Size: 20, Members: []btf.Member{mem("p", point, 0), mem("tag", arr(tChar, 4), 8), mem("u", &btf.Union{Name: "num", Size: 8, Members: []btf.Member{mem("i", tS64, 0), mem("f", tF64, 0)}}, 12)}}

	return []typeCase{
		{
			name: "scalars",
			typ: &btf.Struct{Name: "scalars", Size: 56, Members: []btf.Member{
				mem("u8v", tU8, 0), mem("s8v", tS8, 1), mem("c", tChar, 2), mem("b", tBool, 3),
				mem("u16v", tU16, 4), mem("s16v", tS16, 6), mem("u32v", tU32, 8), mem("s32v", tS32, 12),
				mem("u64v", tU64, 16), mem("s64v", tS64, 24), mem("f", tF32, 32), mem("d", tF64, 40),
				mem("ptr", &btf.Pointer{Target: tS32}, 48)}},
			sample: sample(make([]byte, 56)).u8(0, 255).u8(1, 0x80).u8(2, 'A').u8(3, 2).
				u16(4, 65535).u16(6, 0x8000).u32(8, math.MaxUint32).u32(12, 0x80000000).
				u64(16, math.MaxUint64).u64(24, 1<<63).u32(32, math.Float32bits(1.23)).
				u64(40, math.Float64bits(-2.5e-7)).u64(48, 0xffff8880deadbeef),
			json: `{"u8v":255,"s8v":-128,"c":65,"b":true,"u16v":65535,"s16v":-32768,"u32v":4294967295,"s32v":-2147483648,"u64v":18446744073709551615,"s64v":-9223372036854775808,"f":1.2300000190734863,"d":-2.5e-7,"ptr":"0xffff8880deadbeef"}`,
			text: ` 255   -128   65     true   65535  -32768 4294967295 -2147483648 18446744073709551615 -9223372036854775808 1.2300000190734863 -2.5e-7 0xffff8880deadbeef`,
		},
		{
			name: "floats",
			typ: &btf.Struct{Name: "floats", Size: 40, Members: []btf.Member{
				mem("zero", tF64, 0), mem("one", tF64, 8), mem("big", tF64, 16), mem("nan", tF64, 24), mem("small", tF32, 32), mem("neg", tF32, 36)}},
			sample: sample(make([]byte, 40)).u64(8, math.Float64bits(1)).u64(16, math.Float64bits(1e20)).
				u64(24, math.Float64bits(math.NaN())).u32(32, math.Float32bits(0.001)).u32(36, math.Float32bits(-1e16)),
			json: `{"zero":0.0,"one":1.0,"big":1e20,"nan":null,"small":0.0010000000474974513,"neg":-1.0000000272564224e16}`,
		},
		{
			name: "int128",
			typ:  &btf.Struct{Name: "wide", Size: 64, Members: []btf.Member{mem("a", tI128, 0), mem("b", tU128, 16), mem("c", tI128, 32), mem("d", tU128, 48)}},
			// a = -1, b = 2^64, c = min int128, d = 12345
			sample: sample(make([]byte, 64)).u64(0, math.MaxUint64).u64(8, math.MaxUint64).u64(24, 1).u64(40, 1<<63).u64(48, 12345),
			json:   `{"a":"-1","b":"18446744073709551616","c":"-170141183460469231731687303715884105728","d":"12345"}`,
			text:   ` -1    18446744073709551616 -170141183460469231731687303715884105728 12345`,
		},
		{
			name: "strings",
			typ: &btf.Struct{Name: "strs", Size: 40, Members: []btf.Member{
				mem("nul", arr(tChar, 8), 0), mem("full", arr(tChar, 4), 8), mem("esc", arr(tChar, 12), 12),
				mem("bad", arr(tChar, 4), 24), mem("bytes", arr(tU8, 4), 28), mem("utf", arr(tChar, 8), 32)}},
			sample: sample(make([]byte, 40)).str(0, "ab\x00cd").str(8, "wxyz").str(12, "a\"b\\c\nd\x01").
				str(24, "\xff\xfeok").str(28, "\x01\x02\x03\x04").str(32, "h\u00e9\u4e16"),
			json: `{"nul":"ab","full":"wxyz","esc":"a\"b\\c\nd\u0001","bad":"\ufffd\ufffdok","bytes":[1,2,3,4],"utf":"hé世"}`,
			text: ` ab    wxyz   a"b\c\nd\x01 ` + "\xff\xfeok" + ` [1,2,3,4] hé世`,
		},
		{
			name: "arrays",
			typ: &btf.Struct{Name: "arrs", Size: 64, Members: []btf.Member{
				mem("m", arr(arr(tS16, 3), 2), 0), mem("names", arr(arr(tChar, 4), 3), 12),
				mem("pts", arr(point, 2), 24), mem("empty", arr(tU32, 0), 40), mem("es", arr(enumE, 2), 40), mem("tail", arr(tU64, 2), 48)}},
			sample: sample(make([]byte, 64)).u16(0, 1).u16(2, 0xffff).u16(4, 3).u16(6, 4).u16(8, 5).u16(10, 6).
				str(12, "abc").str(16, "defg").str(20, "h").u32(24, 1).u32(28, 2).u32(32, 0xfffffffd).u32(36, 4).
				u32(40, 7).u32(44, 9).u64(48, 10).u64(56, 11),
			json: `{"m":[[1,-1,3],[4,5,6]],"names":["abc","defg","h"],"pts":[{"x":1,"y":2},{"x":-3,"y":4}],"empty":[],"es":["E_C(7)","<UNKNOWN_VARIANT>(9)"],"tail":[10,11]}`,
			text: ` [[1,-1,3],[4,5,6]] ["abc","defg","h"] [{"x":1,"y":2},{"x":-3,"y":4}] [] ["E_C(7)","<UNKNOWN_VARIANT>(9)"] [10,11]`,
		},
		{
			name: "enums",
			typ: &btf.Struct{Name: "enums", Size: 24, Members: []btf.Member{
				mem("e", enumE, 0), mem("s", enumSigned, 4), mem("big", enum64, 8), mem("small", enum8, 16), mem("unk", enumE, 20)}},
			sample: sample(make([]byte, 24)).u32(0, 1).u32(4, 0xffffffff).u64(8, 1<<40).u8(16, 1).u32(20, 0xffffffff),
			json:   `{"e":"E_B(1)","s":"NEG(-1)","big":"BIG(1099511627776)","small":"ONE(1)","unk":"<UNKNOWN_VARIANT>(4294967295)"}`,
			text:   ` E_B(1) NEG(-1) BIG(1099511627776) ONE(1) <UNKNOWN_VARIANT>(4294967295)`,
		},
		{
			name: "bitfields",
			typ: &btf.Struct{Name: "bits", Size: 24, Members: []btf.Member{
				bitfield("a", tU32, 5, 3),      // 3 bits at offset 5
				bitfield("b", tU32, 11, 13),    // 13 bits crossing a byte boundary
				bitfield("c", tS32, 24, 5),     // signed
				bitfield("d", tS64, 29, 40),    // signed, 6 bytes
				bitfield("e", enumE, 69, 3),    // enum bitfield
				bitfield("f", tBool, 72, 1),    // bool bitfield
				bitfield("g", tU64, 76, 64),    // 64 bits over 9 bytes
				bitfield("h", tS16, 140, 1),    // 1-bit signed: -1
				bitfield("i", tU8, 141, 2),     // plain
				mem("j", tU16, 20),             // an ordinary member after them
				bitfield("k", tS32, 176, 16)}}, // byte aligned, short
			sample: sample(make([]byte, 24)).bits(5, 3, 5).bits(11, 13, 0x1abc).bits(24, 5, uint64(0x1d)).
				bits(29, 40, uint64(0xff_ffff_ffff-122)).bits(69, 3, 7).bits(72, 1, 1).bits(76, 64, 0xfedcba9876543210).
				bits(140, 1, 1).bits(141, 2, 2).u16(20, 777).u16(22, 0xfffe),
			json: `{"a":5,"b":6844,"c":-3,"d":-123,"e":"E_C(7)","f":true,"g":18364758544493064720,"h":-1,"i":2,"j":777,"k":-2}`,
			text: ` 5     6844   -3     -123   E_C(7) true   18364758544493064720 -1 2 777 -2`,
		},
		{
			name: "nested",
			typ: &btf.Struct{Name: "nested", Size: 48, Members: []btf.Member{
				mem("in", inner, 0), mem("", ipUnion, 20), mem("t", cvT, 36), mem("tt", tagged, 40), mem("", &btf.Struct{Size: 4, Members: []btf.Member{mem("q", tU32, 0)}}, 44)}},
			sample: sample(make([]byte, 48)).u32(0, 1).u32(4, 2).str(8, "tag").u64(12, math.Float64bits(1.5)).
				u32(20, 0x0100007f).u32(36, 42).u16(40, 7).u32(44, 9),
			json: `{"in":{"p":{"x":1,"y":2},"tag":"tag","u":{"i":4609434218613702656,"f":1.5}},"anon0":{"v4":16777343,"v6":[127,0,0,1,0,0,0,0,0,0,0,0,0,0,0,0]},"t":42,"tt":7,"anon1":{"q":9}}`,
			text: ` {"p":{"x":1,"y":2},"tag":"tag","u":{"i":4609434218613702656,"f":1.5}} {"v4":16777343,"v6":[127,0,0,1,0,0,0,0,0,0,0,0,0,0,0,0]} 42 7 {"q":9}`,
		},
		{
			name:   "scalar-root",
			typ:    &btf.Typedef{Name: "u32", Type: tU32},
			sample: sample(make([]byte, 4)).u32(0, 305419896),
			json:   `{"u32":305419896}`,
			text:   ` 305419896`,
		},
		{
			name: "runqlat-hist",
			typ: &btf.Struct{Name: "hist", Size: 24, Members: []btf.Member{
				mem("slots", arr(tU32, 2), 0), mem("comm", arr(tChar, 16), 8)}},
			sample: sample(make([]byte, 24)).u32(0, 1000).u32(4, 1001).str(8, "COMM-STR"),
			json:   `{"slots":[1000,1001],"comm":"COMM-STR"}`,
			text:   ` [1000,1001] COMM-STR`,
		},
	}
}

func TestTypes(t *testing.T) {
	var golden strings.Builder
	for _, tc := range typeCases() {
		t.Run(tc.name, func(t *testing.T) {
			typ := roundTrip(t, tc.typ)
			p, err := Compile(typ, Options{Time: fixedClock})
			if err != nil {
				t.Fatal(err)
			}
			if p.Hinted() {
				t.Error("plan without hints reports Hinted")
			}
			js, err := p.AppendJSON(nil, tc.sample)
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(js) {
				t.Errorf("invalid JSON: %s", js)
			}
			if string(js) != tc.json {
				t.Errorf("JSON:\n got %s\nwant %s", js, tc.json)
			}
			line, err := p.AppendText(nil, tc.sample)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(line), "03:04:05 ") {
				t.Errorf("text %q does not start with the time", line)
			}
			if tc.text != "" && string(line[9:]) != tc.text {
				t.Errorf("text:\n got %q\nwant %q", line[9:], tc.text)
			}
			if strings.ContainsAny(string(line), "\n\r") {
				t.Errorf("text contains a line break: %q", line)
			}
			fmt.Fprintf(&golden, "== %s\n%s\n%s\n%s\n", tc.name, p.Header(), line, js)
			// Every shorter sample is refused.
			for n := range len(tc.sample) {
				if _, err := p.AppendJSON(nil, tc.sample[:n]); !errors.Is(err, ErrShortSample) {
					t.Fatalf("sample of %d bytes: got %v, want ErrShortSample", n, err)
				}
			}
		})
	}
	if !t.Failed() {
		checkGolden(t, "types.golden", []byte(golden.String()))
	}
}

func TestCompileErrors(t *testing.T) {
	fn := &btf.Func{Name: "f", Type: &btf.FuncProto{Return: (*btf.Void)(nil)}}
	for _, tc := range []struct {
		name string
		typ  btf.Type
		want string
	}{
		{"datasec", &btf.Struct{Name: "s", Size: 8, Members: []btf.Member{mem("sec", &btf.Datasec{Name: ".bss", Size: 8}, 0)}}, "sec"},
		{"func", &btf.Struct{Name: "s", Size: 8, Members: []btf.Member{mem("fn", fn, 0)}}, "fn"},
		{"void", &btf.Struct{Name: "s", Size: 8, Members: []btf.Member{mem("v", &btf.Void{}, 0)}}, "v"},
		{"fwd", &btf.Struct{Name: "s", Size: 8, Members: []btf.Member{mem("fw", &btf.Fwd{Name: "x"}, 0)}}, "fw"},
		{"nested-void", &btf.Struct{Name: "s", Size: 8, Members: []btf.Member{mem("outer", &btf.Struct{Name: "o", Size: 8, Members: []btf.Member{mem("inner", &btf.Void{}, 0)}}, 0)}}, "inner"},
		{"odd-int", &btf.Struct{Name: "s", Size: 8, Members: []btf.Member{mem("i3", &btf.Int{Name: "i3", Size: 3}, 0)}}, "i3"},
		{"float-bitfield", &btf.Struct{Name: "s", Size: 8, Members: []btf.Member{{Name: "fb", Type: tF32, Offset: 3, BitfieldSize: 4}}}, "fb"},
		{"beyond", &btf.Struct{Name: "s", Size: 4, Members: []btf.Member{mem("far", tU64, 0)}}, "far"},
		{"datasec-root", &btf.Datasec{Name: ".data", Size: 4}, ".data"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile(tc.typ, Options{})
			if !errors.Is(err, ErrUnsupportedType) {
				t.Fatalf("got %v, want ErrUnsupportedType", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name %q", err, tc.want)
			}
		})
	}
}

func TestCompileMembers(t *testing.T) {
	// Like eunomia's multiple-custom-struct vector: members out of offset order, odd names.
	p, err := CompileMembers("event", 0, []Member{
		{Name: "comm?", Offset: 8, Type: arr(tChar, 8)},
		{Name: "ppid", Offset: 4, Type: tS32},
		{Name: "fname", Offset: 16, Type: arr(tChar, 4)},
		{Name: "pid", Offset: 0, Type: tS32},
	}, Options{Time: fixedClock})
	if err != nil {
		t.Fatal(err)
	}
	if p.Size() != 20 {
		t.Errorf("size %d, want 20", p.Size())
	}
	s := sample(make([]byte, 20)).u32(0, 10).u32(4, 1).str(8, "bash").str(16, "ls")
	js, err := p.AppendJSON(nil, s)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"comm?":"bash","ppid":1,"fname":"ls","pid":10}`; string(js) != want {
		t.Errorf("got %s, want %s", js, want)
	}
	if want := "TIME     COMM?  PPID   FNAME  PID    "; p.Header() != want {
		t.Errorf("header %q, want %q", p.Header(), want)
	}
	var names []string
	for _, f := range p.Fields() {
		names = append(names, fmt.Sprintf("%s@%d", f.Name, f.Offset))
	}
	if want := []string{"comm?@8", "ppid@4", "fname@16", "pid@0"}; !reflect.DeepEqual(names, want) {
		t.Errorf("fields %v, want %v", names, want)
	}
	if _, err := CompileMembers("bad", 0, []Member{{Name: "x", Type: &btf.Void{}}}, Options{}); !errors.Is(err, ErrUnsupportedType) {
		t.Errorf("void member: got %v", err)
	}
}

func TestEunomiaColumnOverflow(t *testing.T) {
	// A value wider than its column pushes the next one right, separated by one space.
	typ := &btf.Struct{Name: "s", Size: 24, Members: []btf.Member{mem("a", arr(tChar, 16), 0), mem("b", tU32, 16), mem("longname", tU32, 20)}}
	p, err := Compile(roundTrip(t, typ), Options{Time: fixedClock})
	if err != nil {
		t.Fatal(err)
	}
	if want := "TIME     A      B      LONGNAME "; p.Header() != want {
		t.Errorf("header %q, want %q", p.Header(), want)
	}
	line, _ := p.AppendText(nil, sample(make([]byte, 24)).str(0, "abcdefghij").u32(16, 1).u32(20, 2))
	if want := "03:04:05  abcdefghij 1 2"; string(line) != want {
		t.Errorf("row %q, want %q", line, want)
	}
	// Appending to a non-empty buffer measures columns from the line start.
	line, _ = p.AppendText([]byte("prefix"), sample(make([]byte, 24)).str(0, "x").u32(16, 1).u32(20, 2))
	if want := "prefix03:04:05  x     1      2"; string(line) != want {
		t.Errorf("row %q, want %q", line, want)
	}
}

func TestFieldAccessors(t *testing.T) {
	typ := &btf.Struct{Name: "hist", Size: 24, Members: []btf.Member{
		mem("slots", arr(tU32, 2), 0), mem("comm", arr(tChar, 16), 8)}}
	p, err := Compile(roundTrip(t, typ), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := sample(make([]byte, 24)).u32(0, 1000).u32(4, 1001).str(8, "COMM-STR")
	for i, want := range []struct{ text, json string }{{"[1000,1001]", "[1000,1001]"}, {"COMM-STR", `"COMM-STR"`}} {
		text, err := p.AppendFieldText(nil, s, i)
		if err != nil || string(text) != want.text {
			t.Errorf("field %d text %q (%v), want %q", i, text, err, want.text)
		}
		js, err := p.AppendFieldJSON(nil, s, i)
		if err != nil || string(js) != want.json {
			t.Errorf("field %d JSON %s (%v), want %s", i, js, err, want.json)
		}
	}
	if _, err := p.AppendFieldText(nil, s, 2); err == nil {
		t.Error("field 2 of 2: no error")
	}
	if _, err := p.AppendFieldJSON(nil, s[:23], 0); !errors.Is(err, ErrShortSample) {
		t.Errorf("short: %v", err)
	}
	f := p.Fields()[1]
	if f.Name != "comm" || f.Column != "COMM" || f.Offset != 8 || f.Size != 16 || f.BitOffset != 64 {
		t.Errorf("field: %+v", f)
	}
}

func TestZeroSizedElements(t *testing.T) {
	empty := &btf.Struct{Name: "empty", Size: 0}
	typ := &btf.Struct{Name: "s", Size: 4, Members: []btf.Member{mem("many", arr(empty, math.MaxUint32), 0), mem("x", tU32, 0)}}
	p, err := Compile(roundTrip(t, typ), Options{})
	if err != nil {
		t.Fatal(err)
	}
	js, err := p.AppendJSON(nil, []byte{1, 0, 0, 0})
	if err != nil || string(js) != `{"many":[],"x":1}` {
		t.Errorf("got %s (%v)", js, err)
	}
}
