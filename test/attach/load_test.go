package attach

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"ecli/runner"
)

// errHookMissing is what attaching must fail with where the kernel lacks a hook.
var errHookMissing = runner.ErrHookMissing

func objPath(name string) string {
	return filepath.Join("..", "..", "testdata", "attach", name+".bpf.o")
}

func pkgPath(name string) string {
	return filepath.Join("..", "..", "testdata", "attach", name+".json")
}

// loadAndAttach goes through the runner as `ecli run` does: Parse the package
// testdata/attach/<name>.json, set options from globals (values as a user types them),
// Load, Attach. Network programs attach to lo; perf_event programs sample at 1 kHz.
func loadAndAttach(t *testing.T, name string, globals map[string]string) (*runner.Instance, error) {
	t.Helper()
	data, err := os.ReadFile(pkgPath(name))
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := runner.Parse(data)
	if err != nil {
		t.Fatalf("parsing %s: %v", pkgPath(name), err)
	}
	for k, v := range globals {
		if err := pkg.SetOption(k, v); err != nil {
			t.Fatalf("%s: %v", pkgPath(name), err)
		}
	}
	inst, err := runner.Load(pkg, runner.LoadOptions{})
	if err != nil {
		return nil, err
	}
	if err := inst.Attach(runner.AttachOptions{Ifindex: loIndex(t), PerfFreq: 1000}); err != nil {
		inst.Close()
		return nil, err
	}
	return inst, nil
}

func loIndex(t *testing.T) int {
	ifc, err := net.InterfaceByName("lo")
	if err != nil {
		t.Fatalf("finding lo: %v", err)
	}
	return ifc.Index
}
