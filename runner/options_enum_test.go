package runner

import (
	"bytes"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// TestEnumOptionNames: an enum global takes an enumerator's name as well as a number.
func TestEnumOptionNames(t *testing.T) {
	e := &btf.Enum{Name: "errno", Size: 4, Signed: true, Values: []btf.EnumValue{{Name: "EPERM", Value: 1}, {Name: "ENOENT", Value: 2}}}
	o := &Option{Name: "targ_errno", btfType: &btf.Typedef{Name: "errno_t", Type: e}}
	if err := o.classify(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		in   string
		want []byte
	}{
		{"ENOENT", []byte{2, 0, 0, 0}},
		{"EPERM", []byte{1, 0, 0, 0}},
		{"13", []byte{13, 0, 0, 0}},
	} {
		got, err := o.encode(tc.in)
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if !bytes.Equal(got, tc.want) {
			t.Errorf("%s: % x, want % x", tc.in, got, tc.want)
		}
	}
	if _, err := o.encode("EBOGUS"); err == nil {
		t.Error("an unknown name was accepted")
	}
}
