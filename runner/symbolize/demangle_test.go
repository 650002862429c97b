package symbolize

import (
	"os/exec"
	"strings"
	"testing"
)

func TestDemangle(t *testing.T) {
	cases := []struct {
		in, want string
		cxx      bool // c++filt agrees, when installed
	}{
		{"_ZN2ns5twiceEiPKc", "ns::twice(int, char const*)", true},
		{"_ZNSt6vectorIiSaIiEE9push_backERKi", "std::vector<int, std::allocator<int> >::push_back(int const&)", true},
		{"_ZNK3Foo3barEv", "Foo::bar() const", true},
		{"_Z3foov.cold", "foo() [clone .cold]", true},
		{"_ZN4core3fmt5write17h0123456789abcdefE", "core::fmt::write", false},
		{"_ZN3std2rt10lang_start28_$u7b$$u7b$closure$u7d$$u7d$17h5c9dbd4c3e0e3b2fE", "std::rt::lang_start::{{closure}}", false},
		{"_RNvC7mycrate3foo", "mycrate::foo", false},
		{"_RNvNtC7mycrate3sub3bar", "mycrate::sub::bar", false},
		{"main", "main", true},
		{"_Znot_mangled", "_Znot_mangled", true},
		{"ecli/runner.(*Instance).Run", "ecli/runner.(*Instance).Run", false},
	}
	_, err := exec.LookPath("c++filt")
	filt := err == nil
	for _, c := range cases {
		if got := Demangle(c.in); got != c.want {
			t.Errorf("Demangle(%q) = %q, want %q", c.in, got, c.want)
		}
		if c.cxx && filt {
			out, err := exec.Command("c++filt", c.in).Output()
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSpace(string(out)); got != c.want {
				t.Errorf("c++filt %s = %q, the table says %q", c.in, got, c.want)
			}
		}
	}
}
