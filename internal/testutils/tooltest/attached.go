package tooltest

import (
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"ecli/internal/testutils"
)

// WaitAttached waits (up to 60 s) until a BPF link that was not in before attaches a
// program named prog (its BTF name, as cilium/ebpf reports it), for runs that print
// nothing until they exit (count tables, JSON). Start the tool after taking before; tests
// that use it must not start the same tool concurrently.
func WaitAttached(tb testing.TB, before testutils.Objects, prog string) {
	tb.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if attached(before, prog) {
			return
		}
	}
	tb.Fatalf("no link attaches program %s within 60 s", prog)
}

func attached(before testutils.Objects, prog string) bool {
	it := new(link.Iterator)
	defer it.Close()
	for it.Next() {
		if before.Links[it.ID] {
			continue
		}
		info, err := it.Take().Info()
		if err != nil {
			continue
		}
		p, err := ebpf.NewProgramFromID(info.Program)
		if err != nil {
			continue
		}
		pi, err := p.Info()
		p.Close()
		if err == nil && pi.Name == prog {
			return true
		}
	}
	return false
}
