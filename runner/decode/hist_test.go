package decode

import (
	"errors"
	"fmt"
	"strings"
	"testing"

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
