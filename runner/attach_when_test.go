package runner

import (
	"errors"
	"testing"

	"github.com/tidwall/gjson"
)

// TestProgConditions: progs[].when/unless must name a bool option; they are read into
// ProgMeta (Attach skips the program when the condition fails: examples/tcpconnect tests
// that for real).
func TestProgConditions(t *testing.T) {
	typesPkg := readTypesPackage(t)
	good, err := Parse(typesPkg)
	if err != nil {
		t.Fatal(err)
	}
	meta := gjson.GetBytes(typesPkg, "meta").Raw
	prog := func(extra string) []byte {
		return envelope(good.ELF, len(good.ELF), setJSON(t, meta, "bpf_skel.progs.0",
			`{"attach":"tp/sched/sched_process_exec","link":true,"name":"handle_exec"`+extra+`}`))
	}
	p, err := Parse(prog(`,"when":"opt_switch","unless":"opt_on"`))
	if err != nil {
		t.Fatal(err)
	}
	if pm := p.Meta.Progs[0]; pm.When != "opt_switch" || pm.Unless != "opt_on" {
		t.Errorf("when %q unless %q", pm.When, pm.Unless)
	}
	for name, extra := range map[string]string{
		"no such global": `,"when":"nope"`,
		"not a bool":     `,"unless":"targ_pid"`,
		"not a string":   `,"when":true`,
		"empty":          `,"when":""`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(prog(extra))
			if !errors.Is(err, ErrBadPackage) {
				t.Fatalf("got %v, want ErrBadPackage", err)
			}
			t.Log(err)
		})
	}
}
