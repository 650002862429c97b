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

// FuzzMapsAndStacks feeds arbitrary bytes to the histogram and stack-trace renderings: no
// panic, and a short sample is ErrShortSample.
func FuzzMapsAndStacks(f *testing.F) {
	f.Add([]byte{}, []byte{})
	f.Add(bytes.Repeat([]byte{0xff}, 8), bytes.Repeat([]byte{0xff}, 96))
	f.Add([]byte{1, 0, 0, 0, 2, 0, 0, 0}, []byte(stackSample(16, 8)))
	key, val := histPlans(f, arr(tU64, 8))
	h, err := NewHistogram(key, val, HistOptions{Unit: "usecs"})
	if err != nil {
		f.Fatal(err)
	}
	lin, _ := NewHistogram(key, val, HistOptions{Kind: Linear})
	st, err := NewStackTrace(stackEvent(f, nil), StackOptions{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, k, v []byte) {
		for _, h := range []*Histogram{h, lin} {
			_, err := h.AppendText(nil, k, v)
			if short := len(k) < int(key.Size()) || len(v) < int(val.Size()); short != errors.Is(err, ErrShortSample) || (!short && err != nil) {
				t.Fatalf("histogram of %d+%d bytes: %v", len(k), len(v), err)
			}
		}
		_, err := st.AppendText(nil, v)
		if short := len(v) < 96; short != errors.Is(err, ErrShortSample) || (!short && err != nil) {
			t.Fatalf("stack trace of %d bytes: %v", len(v), err)
		}
	})
}
