package tooltest

import (
	"testing"

	"ecli/packages"
	"ecli/runner"
	"ecli/runner/decode"
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

// Plans compiles what pkg prints with the values v (nil: the defaults), keyed by map name.
func Plans(pkg *runner.Package, v *runner.Values) (map[string]*decode.Plan, error) {
	outs, err := pkg.Outputs(v)
	if err != nil {
		return nil, err
	}
	plans := make(map[string]*decode.Plan, len(outs))
	for _, o := range outs {
		plans[o.Map] = o.Plan
	}
	return plans, nil
}
