package tooltest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// WaitAttached waits until ecli holds at least n attachments (its programs are attached),
// failing the test after a minute or when ecli exits. Tools that print nothing before
// Ctrl-C (histograms, count tables, JSON) have no header line to wait for. An attachment is
// a BPF link, or a perf event: kernels before 5.15 attach tracepoint programs through a perf
// event without a link (cilium/ebpf then holds the perf event's fd).
func (tl *Tool) WaitAttached(n int) {
	tl.T.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", tl.Cmd.Process.Pid)
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		select {
		case <-tl.done:
			tl.exitedEarly()
		default:
		}
		links := 0
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if l, err := os.Readlink(filepath.Join(dir, e.Name())); err == nil && (l == "anon_inode:bpf_link" || l == "anon_inode:[perf_event]") {
				links++
			}
		}
		if links >= n {
			return
		}
		if time.Now().After(deadline) {
			tl.T.Fatalf("ecli attached %d of %d programs within a minute\nstderr: %s", links, n, tl.Stderr)
		}
	}
}

// Hist is one histogram of bcc's print_log2_hist output.
type Hist struct {
	// Labels are the "label = value" lines above the bars (bcc's section header, the
	// value's other fields), by label.
	Labels map[string]string
	// Unit is the bucket unit of the header ("usecs").
	Unit string
	// Rows are the buckets, from 0 -> 1 up to the last non-zero one.
	Rows []HistRow
	// Ext is bcc's extended line ("avg = 12 usecs, total: 40 usecs, count: 3"), if any.
	Ext string
}

// HistRow is one bucket line.
type HistRow struct{ Low, High, Count uint64 }

// Total is the sum of the counts.
func (h Hist) Total() uint64 {
	var n uint64
	for _, r := range h.Rows {
		n += r.Count
	}
	return n
}

// Count is the count of the bucket holding v (0 when no row holds it).
func (h Hist) Count(v uint64) uint64 {
	for _, r := range h.Rows {
		if r.Low <= v && v <= r.High {
			return r.Count
		}
	}
	return 0
}

// pyStars is bcc's python _stars (table.py), float arithmetic and all.
func pyStars(val, valMax uint64, width int) string {
	text := ""
	for i := 0; ; i++ {
		if float64(i) > float64(width)*float64(val)/float64(valMax)-1 || i > width-1 {
			break
		}
		text += "*"
	}
	return text
}

// ParseHists reads bcc's histogram output: "label = value" lines, the header, the bucket
// rows, the extended line, the -T clock line and empty lines between. CheckLines compares
// the text with bcc's format strings.
func ParseHists(tb testing.TB, lines []string) []Hist {
	tb.Helper()
	var hists []Hist
	cur := Hist{Labels: map[string]string{}}
	inBars := false
	flush := func() {
		if cur.Unit != "" {
			checkBCC(tb, cur)
			hists = append(hists, cur)
		}
		cur, inBars = Hist{Labels: map[string]string{}}, false
	}
	for _, l := range lines {
		switch {
		case l == "":
			if inBars {
				inBars = false
			}
		case strings.HasPrefix(l, "avg = "):
			cur.Ext = l
		case strings.Contains(l, " : count     distribution"):
			if cur.Unit != "" {
				tb.Errorf("a second header in one histogram: %q", l)
			}
			cur.Unit, inBars = strings.TrimSpace(strings.SplitN(l, " : ", 2)[0]), true
		case inBars:
			var r HistRow
			f := strings.Fields(strings.NewReplacer("->", " ", ":", " ", "|", " ").Replace(l))
			if len(f) < 3 {
				tb.Fatalf("bucket line %q", l)
			}
			var err error
			for i, dst := range []*uint64{&r.Low, &r.High, &r.Count} {
				if *dst, err = strconv.ParseUint(f[i], 10, 64); err != nil {
					tb.Fatalf("bucket line %q: %v", l, err)
				}
			}
			cur.Rows = append(cur.Rows, r)
		case strings.Contains(l, " = "):
			if cur.Unit != "" {
				flush()
			}
			k, v, _ := strings.Cut(l, " = ")
			cur.Labels[k] = v
		case isClock(l):
			// -T: the round's HH:MM:SS line
		default:
			tb.Fatalf("unexpected line %q", l)
		}
	}
	flush()
	return hists
}

func isClock(l string) bool {
	_, err := time.Parse("15:04:05", l)
	return err == nil
}

// checkBCC checks the buckets are bcc's power-of-two rows, from 0 -> 1 on.
func checkBCC(tb testing.TB, h Hist) {
	tb.Helper()
	for i, r := range h.Rows {
		low, high := uint64(1)<<i, uint64(1)<<(i+1)-1
		if i == 0 {
			low = 0
		}
		if r.Low != low || r.High != high {
			tb.Errorf("bucket %d is %d -> %d, want %d -> %d", i, r.Low, r.High, low, high)
		}
	}
}

// CheckLines fails the test unless every bucket and header line of out is exactly as
// bcc prints it: ParseHists recomputes the numbers, this compares the raw text.
func CheckLines(tb testing.TB, out []string, hists []Hist) {
	tb.Helper()
	var want []string
	for _, h := range hists {
		var valMax uint64
		for _, r := range h.Rows {
			valMax = max(valMax, r.Count)
		}
		want = append(want, fmt.Sprintf("     %-19s : count     distribution", h.Unit))
		for _, r := range h.Rows {
			want = append(want, fmt.Sprintf("%10d -> %-10d : %-8d |%-*s|", r.Low, r.High, r.Count, 40, pyStars(r.Count, valMax, 40)))
		}
	}
	var got []string
	for _, l := range out {
		if strings.Contains(l, " : count") || strings.Contains(l, " -> ") {
			got = append(got, l)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		tb.Errorf("bars:\n%s\nwant (bcc's format strings):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Banner checks that a tool's text output starts with the line bcc prints before tracing
// ("Tracing ... Hit Ctrl-C to end.") and returns the lines after it.
func Banner(tb testing.TB, out []string, want string) []string {
	tb.Helper()
	if len(out) == 0 || out[0] != want {
		tb.Fatalf("output does not start with %q: %q", want, out[:min(3, len(out))])
	}
	return out[1:]
}
