package decode

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cilium/ebpf/btf"
)

// fastEvent has a member for each case the fast paths take (and some they leave to the
// generic renderer): signed and unsigned widths, printf verbs with widths, precisions and
// alignment, char arrays, an address, bool, enum, pointer, map=, div=, rel and len=.
func fastEvent() *btf.Struct {
	e := &btf.Enum{Name: "state", Size: 4, Values: []btf.EnumValue{{Name: "ON", Value: 1}, {Name: "OFF", Value: 7}}}
	return &btf.Struct{Name: "fast", Size: 112, Members: []btf.Member{
		mem("a", tS8, 0, tag("fmt=%4d")...),
		mem("b", tS16, 2, tag("fmt=%-6x")...),
		mem("c", tS32, 4, tag("fmt=%u")...),
		mem("d", tS64, 8, tag("fmt=%.3d")...),
		mem("addr", tU32, 16, tag("format=ipv4", "fmt=%16s")...),
		mem("s", arr(tChar, 8), 20, tag("fmt=%-5.3s")...),
		mem("t", arr(tChar, 8), 28, tag("fmt=%6s", "sep=|")...),
		mem("ok", tBool, 36),
		mem("st", e, 40, tag("fmt=%-3d")...),
		mem("st2", e, 44),
		mem("lat", tU64, 48, tag("div=1000", "fmt=%.1f")...),
		mem("m", tU16, 56, tag("map=1:one,2:two")...),
		mem("p", &btf.Pointer{Target: tU32}, 64),
		mem("r", tU32, 72, tag("rel", "fmt=%d")...),
		mem("u", tU8, 76, tag("fmt=%x")...),
		mem("v", tS64, 80, tag("fmt=[%s]")...),
		mem("w", tU64, 88),
		mem("n", tU8, 96),
		mem("ls", arr(tChar, 8), 100, tag("len=n", "fmt=%-9s")...),
	}}
}

// generic returns p with every fast op replaced by the generic renderer.
func generic(p *Plan) *Plan {
	for i := range p.textOps {
		p.textOps[i].kind = vGeneric
	}
	p.jsonOps = nil
	return p
}

// TestFastMatchesGeneric renders random samples through the fast ops and through the
// generic renderer (two plans of the same type, so rel keeps a base in each) and wants the
// same bytes.
func TestFastMatchesGeneric(t *testing.T) {
	types := []btf.Type{fastEvent(), tcpconnlatEvent(), bootstrapEvent(), affixEvent(), mountEvent()}
	for _, tc := range typeCases() {
		types = append(types, tc.typ)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, typ := range types {
		for _, flags := range []bool{false, true} {
			// A fixed clock: the TIME column must not change between the two renderings.
			now := time.Date(2026, 12, 1, 23, 0, 0, 0, time.UTC)
			opts := Options{Flag: func(string) bool { return flags }, Time: func() time.Time { return now }}
			fast, err := Compile(roundTrip(t, typ), opts)
			if err != nil {
				t.Fatal(err)
			}
			slow, err := Compile(roundTrip(t, typ), opts)
			if err != nil {
				t.Fatal(err)
			}
			generic(slow)
			sample := make([]byte, fast.Size())
			for i := range 300 {
				for j := range sample {
					switch {
					case i%4 == 0:
						sample[j] = byte('a' + rng.IntN(26)) // ASCII strings
					case i%4 == 1 && j%4 != 0:
						sample[j] = 0 // small numbers, short strings
					case i%4 == 3:
						sample[j] = byte(rng.IntN(12)) * byte(1-min(j%4, 1)) // enum values, selectors
					default:
						sample[j] = byte(rng.Uint32())
					}
				}
				for _, f := range []func(*Plan, []byte, []byte) ([]byte, error){(*Plan).AppendText, (*Plan).AppendJSON} {
					got, err := f(fast, nil, sample)
					if err != nil {
						t.Fatal(err)
					}
					want, _ := f(slow, nil, sample)
					if string(got) != string(want) {
						t.Fatalf("%s (flags %v) sample %x:\nfast    %q\ngeneric %q", fast.Name(), flags, sample, got, want)
					}
				}
			}
		}
	}
}

// TestFastOpsChosen checks that the common cases do take a fast op.
func TestFastOpsChosen(t *testing.T) {
	for _, typ := range []btf.Type{tcpconnlatEvent(), bootstrapEvent()} {
		p, err := Compile(roundTrip(t, typ), Options{})
		if err != nil {
			t.Fatal(err)
		}
		for i, op := range p.textOps {
			if op.kind == vGeneric {
				t.Errorf("%s: text column %d is generic", p.Name(), i)
			}
		}
		for i, op := range p.jsonOps {
			if op.kind == vGeneric {
				t.Errorf("%s: JSON member %d is generic", p.Name(), i)
			}
		}
	}
}
