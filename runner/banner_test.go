package runner

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func TestStrftime(t *testing.T) {
	at := time.Date(2024, 3, 7, 9, 5, 2, 0, time.UTC)
	for layout, want := range map[string]string{
		"[%H:%M:%S]":       "[09:05:02]",
		"%Y-%m-%d %H:%M":   "2024-03-07 09:05",
		"100%% at %S 2006": "100% at 02 2006",
	} {
		if err := checkStrftime(layout); err != nil {
			t.Errorf("%q: %v", layout, err)
		}
		if got := string(appendStrftime(nil, at, layout)); got != want {
			t.Errorf("%q: %q, want %q", layout, got, want)
		}
	}
	for _, bad := range []string{"%H:%q", "50%"} {
		if err := checkStrftime(bad); !errors.Is(err, errStrftime) {
			t.Errorf("%q: error %v, want errStrftime", bad, err)
		}
	}
}

// TestBanner renders sample.banner placeholders with the types test package's options
// (opt_switch: a bool, false; opt_on: a bool, true; targ_pid: a number).
func TestBanner(t *testing.T) {
	data, err := os.ReadFile("testdata/types/types.json")
	if err != nil {
		t.Fatalf("%v (run make packages)", err)
	}
	p, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	const text = "Tracing{opt_switch? in ms}{opt_switch! in us}{targ_pid?, pid {targ_pid}}{{x}}, {opt_on} {targ_pid}"
	b, names, err := parseBanner(text)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(names, ",") != "opt_switch,opt_switch,targ_pid,targ_pid,opt_on,targ_pid" {
		t.Errorf("names %q", names)
	}
	v := p.NewValues()
	if got, want := b.render(v), "Tracing in us{x}, true 0"; got != want {
		t.Errorf("defaults: %q, want %q", got, want)
	}
	for name, val := range map[string]string{"opt_switch": "true", "targ_pid": "12"} {
		if err := v.Set(name, val); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := b.render(v), "Tracing in ms, pid 12{x}, true 12"; got != want {
		t.Errorf("set: %q, want %q", got, want)
	}
	for _, bad := range []string{"{", "}", "{a", "{a?b", "{1x}", "{a b}"} {
		if _, _, err := parseBanner(bad); !errors.Is(err, errBanner) {
			t.Errorf("%q: error %v, want errBanner", bad, err)
		}
	}
}
