package tooltest

import (
	"testing"

	"ecli/packages"
	"ecli/runner"
)

// Builtin parses the built-in package of tool, failing the test when there is none.
func Builtin(tb testing.TB, tool string) *runner.Package {
	tb.Helper()
	data, ok := packages.Lookup(tool)
	if !ok {
		tb.Fatalf("%s is not a built-in package (run make packages)", tool)
	}
	pkg, err := runner.Parse(data)
	if err != nil {
		tb.Fatal(err)
	}
	return pkg
}
