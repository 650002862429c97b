package runner

import (
	"errors"
	"testing"

	"github.com/tidwall/gjson"
)

// conflictPackage is the types test package with cmdarg "conflicts" on opt_switch (a bool
// with short flag s) naming targ_pid, or value if given.
func conflictPackage(t *testing.T, value string) []byte {
	t.Helper()
	typesPkg := readTypesPackage(t)
	good, err := Parse(typesPkg)
	if err != nil {
		t.Fatal(err)
	}
	meta := gjson.GetBytes(typesPkg, "meta").Raw
	meta = setJSON(t, meta, "bpf_skel.data_sections.0.variables.3.cmdarg", `{"short":"s","long":"switch","conflicts":`+value+`}`)
	return envelope(good.ELF, len(good.ELF), meta)
}

func TestConflicts(t *testing.T) {
	data := conflictPackage(t, `"targ_pid"`)
	p, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	const want = "you may not specify -s/--switch with --targ_pid"
	for _, tc := range []struct {
		name string
		set  [][2]string
		err  bool
	}{
		{"switch then pid", [][2]string{{"opt_switch", "true"}, {"targ_pid", "1"}}, true},
		{"pid then switch", [][2]string{{"targ_pid", "1"}, {"opt_switch", "true"}}, true},
		{"switch given false", [][2]string{{"opt_switch", "false"}, {"targ_pid", "1"}}, false},
		{"switch alone", [][2]string{{"opt_switch", "true"}}, false},
		{"pid alone", [][2]string{{"targ_pid", "7"}}, false},
		{"unrelated options", [][2]string{{"opt_switch", "true"}, {"opt_on", "false"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := p.NewValues()
			var err error
			for _, s := range tc.set {
				if err = v.Set(s[0], s[1]); err != nil {
					break
				}
			}
			if !tc.err {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ce *ConflictError
			if !errors.As(err, &ce) || !errors.Is(err, ErrBadOption) || err.Error() != want {
				t.Fatalf("got %v, want %q (a *ConflictError matching ErrBadOption)", err, want)
			}
		})
	}
}

func TestConflictsBadPackage(t *testing.T) {
	for name, value := range map[string]string{
		"no such option": `"targ_nope"`,
		"itself":         `"opt_switch"`,
		"not a string":   `3`,
		"empty":          `""`,
	} {
		t.Run(name, func(t *testing.T) {
			data := conflictPackage(t, value)
			_, err := Parse(data)
			if !errors.Is(err, ErrBadPackage) {
				t.Fatalf("got %v, want ErrBadPackage", err)
			}
			t.Log(err)
		})
	}
}
