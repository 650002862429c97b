package runner

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"ecli/internal/testutils"
)

// loadHist parses the hist package, with values that count only our children.
func loadHist(t *testing.T) (*Package, *Values) {
	t.Helper()
	data, err := os.ReadFile("testdata/hist/hist.json")
	if err != nil {
		t.Fatalf("%v (run make packages)", err)
	}
	p, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	v := p.NewValues()
	if err := v.Set("targ_ppid", fmt.Sprint(os.Getpid())); err != nil {
		t.Fatal(err)
	}
	return p, v
}

func execN(t *testing.T, n int) {
	for i := 0; i < n; i++ {
		if err := exec.Command("/bin/true").Run(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSampleLog2Hist: the kernel counts our execs into slot 3; the sampler prints them as a
// bcc-style histogram every interval.
func TestSampleLog2Hist(t *testing.T) {
	testutils.RequirePrivileged(t)
	p, v := loadHist(t)
	s := start(t, p, v, Text, AttachOptions{})
	execN(t, 5)
	want := fmt.Sprintf("%10d -> %-10d : %-8d |%s|", 8, 15, 5, strings.Repeat("*", 40))
	s.waitFor(5*time.Second, func(l string) bool { return l == want })
	s.mu.Lock()
	text := strings.Join(s.lines, "\n")
	s.mu.Unlock()
	for _, w := range []string{"key =  7", "comm = true", "     usecs               : count    distribution"} {
		if !strings.Contains(text, w) {
			t.Errorf("output lacks %q:\n%s", w, text)
		}
	}
}

func TestSampleJSONAndDefaultKV(t *testing.T) {
	testutils.RequirePrivileged(t)
	p, v := loadHist(t)
	p.Meta.Maps[0].Sample.Type = "default_kv"
	t.Run("json", func(t *testing.T) {
		s := start(t, p, v, JSON, AttachOptions{})
		execN(t, 2)
		s.waitFor(5*time.Second, func(l string) bool {
			return strings.HasPrefix(l, `{"key":{"__u32":7},"value":{"slots":[0,0,0,2,0,`) && strings.HasSuffix(l, `,"comm":"true"}}`)
		})
	})
	t.Run("text", func(t *testing.T) {
		s := start(t, p, v, Text, AttachOptions{})
		execN(t, 1)
		s.waitFor(time.Second, func(l string) bool { return strings.HasPrefix(l, "TIME     ") && strings.Contains(l, "SLOTS") })
		s.waitFor(5*time.Second, func(l string) bool { return strings.Contains(l, ` {"__u32":7} {"slots":[0,0,0,1,`) })
	})
}
