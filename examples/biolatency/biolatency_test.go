package biolatency_test

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"ecli/internal/testutils"
	"ecli/internal/testutils/tooltest"
)

func TestMain(m *testing.M) { tooltest.Main(m) }

const writes = 5

// run traces while dd makes `writes` direct 4 KiB writes to a new loop device, and
// returns the output and the device.
// banner is bcc's first line.
const banner = "Tracing block device I/O... Hit Ctrl-C to end."

func run(t *testing.T, args ...string) ([]string, *testutils.LoopDevice) {
	t.Helper()
	dev := testutils.NewLoopDevice(t, 1<<20)
	for i, a := range args {
		args[i] = strings.ReplaceAll(a, "LOOP", dev.Name)
	}
	tl := tooltest.Start(t, "biolatency", args...)
	tl.WaitAttached(3)
	dev.WriteDirect(t, 4096, writes)
	tl.Stop()
	return tl.All(), dev
}

func TestPerDiskExtended(t *testing.T) {
	t.Parallel()
	out, dev := run(t, "-D", "-e", "-d", "LOOP")
	out = tooltest.Banner(t, out, banner)
	hists := tooltest.ParseHists(t, out)
	tooltest.CheckLines(t, out, hists)
	if len(hists) != 1 {
		t.Fatalf("%d histograms, want the one of %s (-d):\n%s", len(hists), dev.Name, strings.Join(out, "\n"))
	}
	h := hists[0]
	if h.Labels["disk"] != dev.Name || h.Unit != "usecs" || h.Total() != writes {
		t.Errorf("disk %q, unit %q, %d I/Os; want %s, usecs, %d", h.Labels["disk"], h.Unit, h.Total(), dev.Name, writes)
	}
	// bcc: "\navg = %ld %s, total: %ld %s, count: %ld\n"
	var avg, total, count uint64
	_, err := fmt.Sscanf(h.Ext, "avg = %d usecs, total: %d usecs, count: %d", &avg, &total, &count)
	if err != nil || count != writes || avg != total/count {
		t.Errorf("extended line %q (%v)", h.Ext, err)
	}
}

func TestQueuedMilliseconds(t *testing.T) {
	t.Parallel()
	out, dev := run(t, "-D", "-Q", "-m")
	out = tooltest.Banner(t, out, banner)
	hists := tooltest.ParseHists(t, out)
	tooltest.CheckLines(t, out, hists)
	var found bool
	for _, h := range hists {
		if h.Labels["disk"] == dev.Name {
			found = true
			if h.Total() != writes || h.Unit != "msecs" {
				t.Errorf("%s: %d I/Os in %s, want %d in msecs", dev.Name, h.Total(), h.Unit, writes)
			}
		}
	}
	if !found {
		t.Errorf("no histogram for %s:\n%s", dev.Name, strings.Join(out, "\n"))
	}
}

func TestJSON(t *testing.T) {
	t.Parallel()
	out, dev := run(t, "-j", "-D", "-d", "LOOP")
	if len(out) != 1 {
		t.Fatalf("want one JSON line, got %q", out)
	}
	var h struct {
		ValType string `json:"val_type"`
		Disk    string `json:"disk"`
		Data    []struct {
			Count uint64 `json:"count"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(out[0]), &h); err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, d := range h.Data {
		n += d.Count
	}
	if h.Disk != dev.Name || h.ValType != "usecs" || n != writes {
		t.Errorf("%s: want disk %s, usecs, %d I/Os", out[0], dev.Name, writes)
	}
}

func TestFlagsRefused(t *testing.T) {
	t.Parallel()
	testutils.RequirePrivileged(t)
	out, err := exec.Command(tooltest.Ecli(t), "run", "biolatency", "-F").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "--flags is not supported") {
		t.Errorf("-F: %v: %s", err, out)
	}
}
