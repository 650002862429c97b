package decode

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf/btf"
)

// bar is a libbpf-tools star bar: n stars in width columns.
func bar(n, width int) string {
	return "|" + strings.Repeat("*", n) + strings.Repeat(" ", width-n) + "|"
}

func TestAppendLog2Hist(t *testing.T) {
	got := string(AppendLog2Hist([]byte("x\n"), []uint64{0, 1, 0, 4, 0, 0}, "usecs"))
	want := "x\n" +
		"     usecs               : count    distribution\n" +
		"         0 -> 1          : 0        " + bar(0, 40) + "\n" +
		"         2 -> 3          : 1        " + bar(10, 40) + "\n" +
		"         4 -> 7          : 0        " + bar(0, 40) + "\n" +
		"         8 -> 15         : 4        " + bar(40, 40) + "\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// Past slot 32 the columns widen and the bars halve, as in print_log2_hist.
	slots := make([]uint64, 40)
	slots[0], slots[33] = 2, 1
	lines := strings.Split(string(AppendLog2Hist(nil, slots, "nsecs")), "\n")
	if want := fmt.Sprintf("%15s%-29s : count    distribution", "", "nsecs"); lines[0] != want {
		t.Errorf("wide header %q, want %q", lines[0], want)
	}
	if want := fmt.Sprintf("%20d -> %-20d : %-8d %s", 1<<33, 1<<34-1, 1, bar(10, 20)); lines[34] != want {
		t.Errorf("slot 33 %q, want %q", lines[34], want)
	}
	if len(lines) != 36 || lines[35] != "" {
		t.Errorf("%d lines, want header, 34 slots and a final newline", len(lines))
	}
	// The last slot of 64 spans to the top of uint64.
	slots = make([]uint64, 64)
	slots[63] = 1
	if out := string(AppendLog2Hist(nil, slots, "u")); !strings.Contains(out, fmt.Sprintf("%20d -> %-20d", uint64(1)<<63, ^uint64(0))) {
		t.Errorf("slot 63:\n%s", out)
	}
	if out := AppendLog2Hist(nil, make([]uint64, 8), "usecs"); len(out) != 0 {
		t.Errorf("all-zero slots drew %q", out)
	}
}

func TestAppendLinearHist(t *testing.T) {
	got := string(AppendLinearHist(nil, []uint64{0, 0, 3, 0, 6, 0}, "msecs"))
	want := "     msecs         : count     distribution\n" +
		"        2          : 3        " + bar(20, 40) + "\n" +
		"        3          : 0        " + bar(0, 40) + "\n" +
		"        4          : 6        " + bar(40, 40) + "\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if out := AppendLinearHist(nil, nil, "x"); len(out) != 0 {
		t.Errorf("no slots drew %q", out)
	}
}

func TestAppendStars(t *testing.T) {
	for _, tc := range []struct {
		val, max uint64
		want     string
	}{{0, 0, "    "}, {1, 4, "*   "}, {4, 4, "****"}, {9, 4, "***+"}} {
		if got := string(appendStars(nil, tc.val, tc.max, 4)); got != tc.want {
			t.Errorf("stars(%d, %d) = %q, want %q", tc.val, tc.max, got, tc.want)
		}
	}
}

func histPlans(t testing.TB, slots btf.Type) (key, val *Plan) {
	t.Helper()
	key, err := Compile(roundTrip(t, &btf.Struct{Name: "hkey", Size: 8, Members: []btf.Member{
		mem("pid", tU32, 0), mem("cpu", tU32, 4)}}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	sz, _ := btf.Sizeof(slots)
	val, err = Compile(roundTrip(t, &btf.Struct{Name: "hist", Size: uint32(sz) + 16, Members: []btf.Member{
		mem("slots", slots, 0), mem("comm", arr(tChar, 16), uint32(sz))}}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return key, val
}

func TestHistogram(t *testing.T) {
	for _, elem := range []*btf.Int{tU32, tU64} {
		key, val := histPlans(t, arr(elem, 4))
		h, err := NewHistogram(key, val, HistOptions{Unit: "usecs"})
		if err != nil {
			t.Fatal(err)
		}
		v := sample(make([]byte, val.Size()))
		for i, n := range []uint64{0, 2, 1, 0} {
			if elem.Size == 4 {
				v.u32(4*i, uint32(n))
			} else {
				v.u64(8*i, n)
			}
		}
		v.str(int(4*elem.Size), "bash")
		k := sample(make([]byte, 8)).u32(0, 42).u32(4, 1)
		slots, err := h.Slots(nil, v)
		if err != nil || fmt.Sprint(slots) != "[0 2 1 0]" {
			t.Errorf("%s slots %v (%v)", elem.Name, slots, err)
		}
		got, err := h.AppendText([]byte("> "), k, v)
		if err != nil {
			t.Fatal(err)
		}
		want := "> key =  42  1\ncomm = bash\n" + string(AppendLog2Hist(nil, slots, "usecs"))
		if string(got) != want {
			t.Errorf("%s:\n%q\nwant\n%q", elem.Name, got, want)
		}
		h, _ = NewHistogram(key, val, HistOptions{Kind: Linear, Unit: "slot"})
		got, _ = h.AppendText(nil, k, v)
		if want := "key =  42  1\ncomm = bash\n" + string(AppendLinearHist(nil, slots, "slot")); string(got) != want {
			t.Errorf("linear %s:\n%q\nwant\n%q", elem.Name, got, want)
		}
		if _, err := h.AppendText(nil, k, v[:len(v)-1]); !errors.Is(err, ErrShortSample) {
			t.Errorf("short value: %v", err)
		}
		if _, err := h.AppendText(nil, k[:7], v); !errors.Is(err, ErrShortSample) {
			t.Errorf("short key: %v", err)
		}
	}
}

func TestHistogramErrors(t *testing.T) {
	for _, tc := range []struct {
		slots btf.Type
		want  string
	}{
		{tU64, "slots is not an array"},
		{arr(tU16, 4), "slots elements must be 4 or 8 byte integers"},
		{arr(tF32, 4), "slots elements must be 4 or 8 byte integers"},
		{arr(&btf.Struct{Name: "s", Size: 4, Members: []btf.Member{mem("x", tU32, 0)}}, 2), "slots elements must be 4 or 8 byte integers"},
	} {
		key, val := histPlans(t, tc.slots)
		_, err := NewHistogram(key, val, HistOptions{})
		if !errors.Is(err, ErrUnsupportedType) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("slots %v: error %v, want %q", tc.slots, err, tc.want)
		}
	}
	key, _ := histPlans(t, arr(tU32, 2))
	if _, err := NewHistogram(key, key, HistOptions{}); !errors.Is(err, ErrUnsupportedType) || !strings.Contains(err.Error(), "no slots field") {
		t.Errorf("no slots: %v", err)
	}
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

// pyLog2Hist is bcc's python _print_log2_hist over bcc's slots (index i counts values of bit
// length i), with its format strings.
func pyLog2Hist(vals []uint64, unit string) string {
	idxMax, valMax := -1, uint64(0)
	for i, v := range vals {
		if v > 0 {
			idxMax = i
		}
		valMax = max(valMax, v)
	}
	header, body, stars := "     %-19s : count     distribution", "%10d -> %-10d : %-8d |%-*s|", 40
	if idxMax > 32 {
		header, body, stars = "               %-29s : count     distribution", "%20d -> %-20d : %-8d |%-*s|", 20
	}
	var out strings.Builder
	if idxMax > 0 {
		fmt.Fprintf(&out, header+"\n", unit)
	}
	for i := 1; i <= idxMax; i++ {
		low := uint64(1) << (i - 1) // python's (1 << i) >> 1, without overflow at 64
		high := low*2 - 1
		if low == high {
			low--
		}
		fmt.Fprintf(&out, body+"\n", low, high, vals[i], stars, pyStars(vals[i], valMax, stars))
	}
	return out.String()
}

func TestAppendBCCLog2Hist(t *testing.T) {
	for _, tc := range []struct {
		name  string
		slots map[int]uint64
		n     int
	}{
		{"small", map[int]uint64{1: 1, 3: 4}, 26},
		{"uneven", map[int]uint64{0: 233, 1: 742, 2: 5987, 3: 7, 5: 123456}, 26},
		{"last narrow slot", map[int]uint64{0: 1, 31: 3}, 64},
		{"first wide slot", map[int]uint64{0: 1, 32: 3}, 64},
		{"top slot", map[int]uint64{63: 1}, 64},
		{"empty", nil, 26},
	} {
		slots := make([]uint64, tc.n)
		py := make([]uint64, tc.n+1) // bcc's index is ours plus one
		for i, v := range tc.slots {
			slots[i], py[i+1] = v, v
		}
		got := string(AppendBCCLog2Hist(nil, slots, "usecs"))
		if want := pyLog2Hist(py, "usecs"); got != want {
			t.Errorf("%s:\n%s\nwant\n%s", tc.name, got, want)
		}
	}
}

func TestAppendBCCLinearHist(t *testing.T) {
	got := string(AppendBCCLinearHist(nil, []uint64{0, 0, 3, 0, 6, 0}, "msecs"))
	want := fmt.Sprintf("     %-13s : count     distribution\n", "msecs")
	for i, v := range []uint64{0, 0, 3, 0, 6} {
		want += fmt.Sprintf("        %-10d : %-8d |%-*s|\n", i, v, 40, pyStars(v, 6, 40))
	}
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// bccHistPlans are a hinted key (a disk name section and a hidden pid) and a value with
// slots and bcc's extended total/count, shown when ext is.
func bccHistPlans(t testing.TB, ext bool) (key, val *Plan) {
	t.Helper()
	flag := func(name string) bool { return ext && name == "ext" }
	key, err := Compile(roundTrip(t, &btf.Struct{Name: "disk_key", Size: 36, Members: []btf.Member{
		mem("disk", arr(tChar, 32), 0, tag("name=disk")...), mem("pid", tU32, 32, tag("show=per_pid")...)}}), Options{Flag: flag})
	if err != nil {
		t.Fatal(err)
	}
	val, err = Compile(roundTrip(t, &btf.Struct{Name: "hist", Size: 48, Members: []btf.Member{
		mem("slots", arr(tU32, 8), 0),
		mem("total", tU64, 32, tag("hist=total", "show=ext")...),
		mem("count", tU64, 40, tag("hist=count", "show=ext")...)}}), Options{Flag: flag})
	if err != nil {
		t.Fatal(err)
	}
	return key, val
}

func TestHistogramBCC(t *testing.T) {
	key, val := bccHistPlans(t, true)
	clock := func() time.Time { return time.Date(2024, 5, 6, 7, 8, 9, 0, time.Local) }
	h, err := NewHistogram(key, val, HistOptions{Unit: "usecs", Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if !h.BCC() {
		t.Fatal("hinted key and value: not bcc's layout")
	}
	k := sample(make([]byte, 36)).str(0, "loop0").u32(32, 7)
	v := sample(make([]byte, 48)).u32(0, 1).u32(8, 3).u64(32, 45).u64(40, 4)
	slots, _ := h.Slots(nil, v)
	got, err := h.AppendText(nil, k, v)
	if err != nil {
		t.Fatal(err)
	}
	// bcc: print("\n%s = %s" % (section_header, section_print_fn(bucket))), the bars, and
	// print("\navg = %ld %s, total: %ld %s, count: %ld\n" % ...), minus the last newline.
	want := "\ndisk = loop0\n" + AppendBCCLog2HistString(slots, "usecs") +
		fmt.Sprintf("\navg = %d %s, total: %d %s, count: %d\n", 45/4, "usecs", 45, "usecs", 4)
	if string(got) != want {
		t.Errorf("text:\n%q\nwant\n%q", got, want)
	}
	js, err := h.AppendJSON(nil, k, v)
	if err != nil {
		t.Fatal(err)
	}
	wantJS := `{"ts":"2024-05-06 07:08:09","val_type":"usecs","data":[` +
		`{"interval-start":0,"interval-end":1,"count":1},{"interval-start":2,"interval-end":3,"count":0},` +
		`{"interval-start":4,"interval-end":7,"count":3}],"disk":"loop0","total":45,"count":4}`
	if string(js) != wantJS || !json.Valid(js) {
		t.Errorf("json:\n%s\nwant\n%s", js, wantJS)
	}

	// Without the flag: no extended line, and a zero count never prints one.
	key, val = bccHistPlans(t, false)
	h, _ = NewHistogram(key, val, HistOptions{Unit: "msecs"})
	got, _ = h.AppendText(nil, k, v)
	if want := "\ndisk = loop0\n" + strings.TrimSuffix(AppendBCCLog2HistString(slots, "msecs"), "\n"); string(got) != want {
		t.Errorf("no ext:\n%q\nwant\n%q", got, want)
	}
	key, val = bccHistPlans(t, true)
	h, _ = NewHistogram(key, val, HistOptions{Unit: "usecs"})
	got, _ = h.AppendText(nil, k, sample(make([]byte, 48)).u32(0, 1))
	if want := "\ndisk = loop0\n" + strings.TrimSuffix(AppendBCCLog2HistString([]uint64{1}, "usecs"), "\n"); string(got) != want {
		t.Errorf("zero count:\n%q\nwant\n%q", got, want)
	}
}

// AppendBCCLog2HistString is AppendBCCLog2Hist as a string.
func AppendBCCLog2HistString(slots []uint64, unit string) string {
	return string(AppendBCCLog2Hist(nil, slots, unit))
}

func TestHistogramBCCErrors(t *testing.T) {
	key, _ := bccHistPlans(t, true)
	for _, tc := range []struct {
		name    string
		members []btf.Member
		want    string
	}{
		{"total alone", []btf.Member{mem("slots", arr(tU32, 2), 0), mem("sum", tU64, 8, tag("hist=total")...)}, "go together"},
		{"string total", []btf.Member{mem("slots", arr(tU32, 2), 0), mem("sum", arr(tChar, 8), 8, tag("hist=total")...), mem("n", tU64, 16, tag("hist=count")...)}, "needs an integer"},
	} {
		val, err := Compile(roundTrip(t, &btf.Struct{Name: "v", Size: 24, Members: tc.members}), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := NewHistogram(key, val, HistOptions{}); !errors.Is(err, ErrBadHint) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	_, err := Compile(roundTrip(t, &btf.Struct{Name: "v", Size: 8, Members: []btf.Member{mem("x", tU64, 0, tag("hist=avg")...)}}), Options{})
	if !errors.Is(err, ErrBadHint) {
		t.Errorf("hist=avg: %v", err)
	}
}
