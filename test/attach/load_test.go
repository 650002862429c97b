package attach

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/cilium/ebpf"

	"ecli/internal/testutils"
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
	values := pkg.NewValues()
	for k, v := range globals {
		if err := values.Set(k, v); err != nil {
			t.Fatalf("%s: %v", pkgPath(name), err)
		}
	}
	inst, err := runner.Load(pkg, runner.LoadOptions{Values: values})
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

// closeAndCheck closes inst and checks that its programs and maps left the kernel (links,
// perf events and sockets hold their program, so a gone program means they are gone too).
func closeAndCheck(t *testing.T, inst *runner.Instance) {
	t.Helper()
	var progs []ebpf.ProgramID
	var maps []ebpf.MapID
	for _, pm := range inst.Package().Meta.Progs {
		if p := inst.Program(pm.Name); p != nil {
			if info, err := p.Info(); err == nil {
				if id, ok := info.ID(); ok {
					progs = append(progs, id)
				}
			}
		}
	}
	for _, name := range []string{"hits", "events"} {
		if m := inst.Map(name); m != nil {
			if info, err := m.Info(); err == nil {
				if id, ok := info.ID(); ok {
					maps = append(maps, id)
				}
			}
		}
	}
	if len(progs) == 0 {
		t.Fatal("no program ids to check")
	}
	if err := inst.Close(); err != nil {
		t.Fatalf("closing: %v", err)
	}
	testutils.CheckGone(t, progs, maps)
}
