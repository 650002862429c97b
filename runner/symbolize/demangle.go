package symbolize

import (
	"strings"

	"github.com/ianlancetaylor/demangle"
)

// Demangle returns the readable form of a C++ (Itanium ABI) or Rust (legacy _ZN…17h…E, with
// the hash dropped, or v0 _R…) symbol name, as c++filt and rustc-demangle print them. Other
// names, and names that fail to demangle, are returned unchanged.
func Demangle(name string) string {
	if !isMangled(name) {
		return name
	}
	return demangle.Filter(name)
}

func isMangled(name string) bool {
	return strings.HasPrefix(name, "_Z") || strings.HasPrefix(name, "_R")
}
