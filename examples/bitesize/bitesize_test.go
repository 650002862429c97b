package bitesize_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"ecli/internal/testutils"
	"ecli/internal/testutils/tooltest"
)

func TestMain(m *testing.M) { tooltest.Main(m) }

func TestSizes(t *testing.T) {
	dev := testutils.NewLoopDevice(t, 4<<20)
	comm := fmt.Sprintf("ddbite%d", os.Getpid()%100000) // other tests run dd too
	tl := tooltest.Start(t, "bitesize")
	tl.WaitAttached(1)
	dev.WriteDirectAs(t, comm, 4096, 5)  // 4 KiB: the 4 -> 7 Kbytes bucket
	dev.WriteDirectAs(t, comm, 65536, 3) // 64 KiB: 64 -> 127
	tl.Stop()
	out := tooltest.Banner(t, tl.All(), "Tracing block I/O... Hit Ctrl-C to end.")
	hists := tooltest.ParseHists(t, out)
	tooltest.CheckLines(t, out, hists)
	var found bool
	for _, h := range hists {
		if h.Labels["Process Name"] != comm {
			continue
		}
		found = true
		if h.Unit != "Kbytes" || h.Count(4) != 5 || h.Count(64) != 3 || h.Total() != 8 {
			t.Errorf("%s: %+v, want 5 in 4 -> 7 and 3 in 64 -> 127 Kbytes", comm, h)
		}
	}
	if !found {
		t.Errorf("no \"Process Name = %s\" histogram:\n%s", comm, strings.Join(out, "\n"))
	}
}
