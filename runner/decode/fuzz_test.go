package decode

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// fuzzPlans compiles a fixed set of plans covering every node kind and the hint renderers.
func fuzzPlans(t testing.TB) []*Plan {
	var plans []*Plan
	add := func(p *Plan, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		plans = append(plans, p)
	}
	simple, _ := loadSimpleProg(t)
	add(Compile(simple, Options{}))
	for _, tc := range typeCases() {
		add(Compile(roundTrip(t, tc.typ), Options{}))
	}
	conn := roundTrip(t, tcpconnlatEvent())
	add(Compile(conn, Options{}))
	add(Compile(conn, Options{Flag: func(string) bool { return true }}))
	return plans
}

func FuzzDecode(f *testing.F) {
	_, dump := loadSimpleProg(f)
	f.Add(dump)
	for _, tc := range typeCases() {
		f.Add(tc.sample)
	}
	for _, ev := range connEvents {
		f.Add(ev.bytes())
	}
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0xff}, 400))
	plans := fuzzPlans(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, p := range plans {
			js, err := p.AppendJSON(nil, data)
			line, terr := p.AppendText(nil, data)
			if len(data) < int(p.Size()) {
				if !errors.Is(err, ErrShortSample) || !errors.Is(terr, ErrShortSample) {
					t.Fatalf("%s: %d-byte sample: got %v / %v, want ErrShortSample", p.Name(), len(data), err, terr)
				}
				continue
			}
			if err != nil || terr != nil {
				t.Fatalf("%s: %v / %v", p.Name(), err, terr)
			}
			if !json.Valid(js) {
				t.Fatalf("%s: invalid JSON %q", p.Name(), js)
			}
			if bytes.ContainsAny(line, "\n\r") {
				t.Fatalf("%s: line break in text %q", p.Name(), line)
			}
			for i := range p.Fields() {
				v, err := p.AppendFieldJSON(nil, data, i)
				if err != nil || !json.Valid(v) {
					t.Fatalf("%s field %d: %v %q", p.Name(), i, err, v)
				}
			}
		}
	})
}
