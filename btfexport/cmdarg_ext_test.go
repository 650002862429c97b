package btfexport

import (
	"testing"

	"github.com/cilium/ebpf/btf"
)

// TestVarTagsRunnerExtensions: the unsupported and pinned_map tags become cmdarg keys.
func TestVarTagsRunnerExtensions(t *testing.T) {
	arr := &btf.Array{Type: &btf.Int{Name: "char", Size: 1, Encoding: btf.Char}, Nelems: 16}
	for _, tc := range []struct {
		tags []string
		want string
	}{
		{[]string{"ecli:long=dns", "ecli:unsupported=needs user-space DNS parsing, a, b"}, `{"long":"dns","unsupported":"needs user-space DNS parsing, a, b"}`},
		{[]string{"ecli:pinned_map=cgroupset", "ecli:metavar=PATH"}, `{"metavar":"PATH","pinned_map":"cgroupset"}`},
		{[]string{"ecli:short=d", "ecli:conflicts=targ_count"}, `{"conflicts":"targ_count","short":"d"}`},
	} {
		extra := fields{}
		if err := applyVarTags(&btf.Var{Name: "v", Type: arr, Tags: tc.tags}, extra); err != nil {
			t.Fatalf("tags %q: %v", tc.tags, err)
		}
		if got := string(extra["cmdarg"]); got != tc.want {
			t.Errorf("tags %q: cmdarg %s, want %s", tc.tags, got, tc.want)
		}
	}
	for _, tags := range [][]string{{"ecli:unsupported"}, {"ecli:pinned_map="}} {
		if err := applyVarTags(&btf.Var{Name: "v", Type: arr, Tags: tags}, fields{}); err == nil {
			t.Errorf("tags %q: no error", tags)
		}
	}
}
