package decode

import (
	"errors"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// affixEvent: a name column with a fallback for the empty string and a delay appended when
// it passes a threshold, a hidden delay, and a plain port column before them.
func affixEvent(nameTags ...string) *btf.Struct {
	return &btf.Struct{Name: "ev", Size: 32, Tags: tag("time=off"), Members: []btf.Member{
		mem("port", tU16, 0, tag("name=PORT", "fmt=%-6d")...),
		mem("delay_us", tS64, 8, tag("hide", "above=100000", "div=1000")...),
		mem("name", arr(tChar, 16), 16, tag(nameTags...)...),
	}}
}

func TestAffixText(t *testing.T) {
	full := []string{"name=QUERY", "empty=No DNS Query", "suffix=delay_us", "suffix_fmt= (%.3fms)"}
	cases := []struct {
		name  string
		tags  []string
		query string
		delay int64
		want  string
	}{
		{"name, no delay", full, "example.com", 0, "80     example.com"},
		{"at the threshold: no suffix", full, "example.com", 100000, "80     example.com"},
		{"above the threshold", full, "example.com", 123342, "80     example.com (123.342ms)"},
		{"negative delay", full, "example.com", -5, "80     example.com"},
		{"empty name", full, "", 0, "80     No DNS Query"},
		{"empty name with delay", full, "", 200000, "80     No DNS Query (200.000ms)"},
		{"no suffix_fmt: default rendering", []string{"name=QUERY", "suffix=delay_us"}, "a", 150000, "80     a150.00"},
		{"padded cell holds the suffix", []string{"name=QUERY", "fmt=%-22s", "suffix=delay_us", "suffix_fmt=+%d"}, "a", 150001, "80     a+150"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Compile(affixEvent(c.tags...), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := p.Header(), "PORT   QUERY"; got != want {
				t.Errorf("header %q, want %q", got, want)
			}
			s := sample(make([]byte, 32)).u16(0, 80).u64(8, uint64(c.delay)).str(16, c.query)
			got, err := p.AppendText(nil, s)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
			// JSON keeps the plain values.
			js, err := p.AppendJSON(nil, s)
			if err != nil {
				t.Fatal(err)
			}
			wantJSON := `{"port":80,"delay_us":` + itoa(c.delay) + `,"name":"` + c.query + `"}`
			if string(js) != wantJSON {
				t.Errorf("json %s, want %s", js, wantJSON)
			}
		})
	}
}

func itoa(v int64) string {
	return string(appendIntValue(nil, &node{signed: true}, uint64(v)))
}

// TestAboveColumn: above= on an ordinary column leaves the cell empty (padded) up to N.
func TestAboveColumn(t *testing.T) {
	s := &btf.Struct{Name: "ev", Size: 8, Tags: tag("time=off"), Members: []btf.Member{
		mem("n", tU32, 0, tag("name=N", "fmt=%-5d", "above=9")...),
		mem("m", tU32, 4, tag("name=M")...),
	}}
	p, err := Compile(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for v, want := range map[uint32]string{9: "      1", 10: "10    1", 0: "      1"} {
		got, err := p.AppendText(nil, sample(make([]byte, 8)).u32(0, v).u32(4, 1))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("n=%d: got %q, want %q", v, got, want)
		}
	}
}

func TestAffixBadHints(t *testing.T) {
	str := arr(tChar, 8)
	cases := map[string][]btf.Member{
		"empty on a number":         {mem("a", tU32, 0, tag("empty=x")...)},
		"above on a string":         {mem("a", str, 0, tag("above=1")...)},
		"above not a number":        {mem("a", tU32, 0, tag("above=many")...)},
		"suffix without sibling":    {mem("a", str, 0, tag("suffix=nope")...)},
		"suffix on itself":          {mem("a", str, 0, tag("suffix=a")...)},
		"suffix_fmt without suffix": {mem("a", str, 0, tag("suffix_fmt=%d")...)},
		"suffix_fmt two verbs":      {mem("a", str, 0, tag("suffix=b", "suffix_fmt=%d%d")...), mem("b", tU32, 8)},
		"suffix_fmt no verb":        {mem("a", str, 0, tag("suffix=b", "suffix_fmt= ms")...), mem("b", tU32, 8)},
		"suffix_fmt %f of a string": {mem("a", str, 0, tag("suffix=b", "suffix_fmt=%f")...), mem("b", str, 8)},
		"suffix of a struct":        {mem("a", str, 0, tag("suffix=b")...), mem("b", &btf.Struct{Name: "s", Size: 4, Members: []btf.Member{mem("x", tU32, 0)}}, 8)},
	}
	for name, ms := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Compile(&btf.Struct{Name: "ev", Size: 16, Members: ms}, Options{})
			t.Log(err)
			if !errors.Is(err, ErrBadHint) {
				t.Fatalf("got %v, want ErrBadHint", err)
			}
		})
	}
}

// TestAffixNoAllocs: the affixes allocate nothing per event.
func TestAffixNoAllocs(t *testing.T) {
	p, err := Compile(affixEvent("name=QUERY", "empty=No DNS Query", "suffix=delay_us", "suffix_fmt= (%.3fms)"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := sample(make([]byte, 32)).u16(0, 80).u64(8, 123456)
	buf := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(100, func() { buf, _ = p.AppendText(buf[:0], s) }); n != 0 {
		t.Errorf("%v allocations per event", n)
	}
}
