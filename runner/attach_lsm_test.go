package runner

import (
	"slices"
	"testing"
)

func TestParseLSMs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"lockdown,capability,landlock,bpf", []string{"lockdown", "capability", "landlock", "bpf"}},
		{"capability,yama,apparmor\n", []string{"capability", "yama", "apparmor"}},
		{"capability,,bpf,", []string{"capability", "bpf"}},
		{"", nil},
	} {
		if got := parseLSMs(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("parseLSMs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
