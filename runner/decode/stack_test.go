package decode

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// stackEvent is eunomia's profile event: pid, cpu_id, comm, kstack_sz, ustack_sz and two
// stacks of 4 addresses.
func stackEvent(t testing.TB, rename map[string]string) *Plan {
	t.Helper()
	n := func(s string) string {
		if r, ok := rename[s]; ok {
			return r
		}
		return s
	}
	ev := &btf.Struct{Name: "stacktrace_event", Size: 96, Members: []btf.Member{
		mem(n("pid"), tU32, 0), mem(n("cpu_id"), tU32, 4), mem(n("comm"), arr(tChar, 16), 8),
		mem(n("kstack_sz"), tS32, 24), mem(n("ustack_sz"), tS32, 28),
		mem(n("kstack"), arr(tU64, 4), 32), mem(n("ustack"), arr(tU64, 4), 64)}}
	p, err := Compile(roundTrip(t, ev), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func stackSample(ksz, usz int32) sample {
	s := sample(make([]byte, 96)).u32(0, 4242).u32(4, 1).str(8, "stress").u32(24, uint32(ksz)).u32(28, uint32(usz))
	for i := range 4 {
		s.u64(32+8*i, 0xffffffff81000000+uint64(i)).u64(64+8*i, 0x7f0000001000+uint64(i))
	}
	return s
}

type fakeSymbols struct{}

func (fakeSymbols) Symbolize(addr uint64, pid uint32, kernel bool) Frame {
	if addr&1 != 0 {
		return Frame{}
	}
	f := Frame{Name: fmt.Sprintf("f%x/%d/%v", addr&0xff, pid, kernel), Offset: addr & 0xf}
	if addr&2 != 0 {
		f.Module, f.File, f.Line = "mod", "a.c", 7
	}
	return f
}

func TestStackTrace(t *testing.T) {
	st, err := NewStackTrace(stackEvent(t, nil), StackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ksz, usz int32
		want     string
	}{
		{16, 8, "COMM: stress (pid=4242) @ CPU 1\nKernel:\n  0 [<ffffffff81000000>]\n  1 [<ffffffff81000001>]\nUserspace:\n  0 [<00007f0000001000>]"},
		{-14, 8, "COMM: stress (pid=4242) @ CPU 1\nNo Kernel Stack\nUserspace:\n  0 [<00007f0000001000>]"},
		{8, 0, "COMM: stress (pid=4242) @ CPU 1\nKernel:\n  0 [<ffffffff81000000>]\nNo Userspace Stack"},
		// A size beyond the array prints the array; a size under one address prints none.
		{800, 4, "COMM: stress (pid=4242) @ CPU 1\nKernel:\n  0 [<ffffffff81000000>]\n  1 [<ffffffff81000001>]\n  2 [<ffffffff81000002>]\n  3 [<ffffffff81000003>]\nUserspace:"},
		{0, -1, ""},
	} {
		got, err := st.AppendText(nil, stackSample(tc.ksz, tc.usz))
		if err != nil || string(got) != tc.want {
			t.Errorf("kstack_sz %d ustack_sz %d:\n%s\n(%v), want\n%s", tc.ksz, tc.usz, got, err, tc.want)
		}
	}
	if _, err := st.AppendText(nil, stackSample(8, 8)[:95]); !errors.Is(err, ErrShortSample) {
		t.Errorf("short: %v", err)
	}
}

func TestStackTraceFieldMapAndSymbols(t *testing.T) {
	rename := map[string]string{"pid": "tgid", "kstack": "kern", "comm": "task"}
	p := stackEvent(t, rename)
	if _, err := NewStackTrace(p, StackOptions{}); !errors.Is(err, ErrUnsupportedType) || !strings.Contains(err.Error(), "no pid field") {
		t.Errorf("without the field map: %v", err)
	}
	st, err := NewStackTrace(p, StackOptions{Fields: map[string]string{"pid": "tgid", "kstack": "kern", "comm": "task", "cpu_id": ""}, Symbolizer: fakeSymbols{}})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := st.AppendText(nil, stackSample(16, 16))
	want := "COMM: stress (pid=4242) @ CPU 1\nKernel:\n  0 [<ffffffff81000000>] f0/4242/true+0x0\n  1 [<ffffffff81000001>]\n" +
		"Userspace:\n  0 [<00007f0000001000>] f0/4242/false+0x0\n  1 [<00007f0000001001>]"
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// comm is optional.
	noComm, err := Compile(roundTrip(t, &btf.Struct{Name: "e", Size: 32, Members: []btf.Member{
		mem("pid", tU32, 0), mem("cpu_id", tU32, 4), mem("kstack_sz", tS32, 8), mem("ustack_sz", tS32, 12),
		mem("kstack", arr(tU64, 1), 16), mem("ustack", arr(tU64, 1), 24)}}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if st, err = NewStackTrace(noComm, StackOptions{}); err != nil {
		t.Fatal(err)
	}
	s := sample(make([]byte, 32)).u32(0, 7).u32(8, 8).u64(16, 0xabc)
	if got, _ := st.AppendText(nil, s); string(got) != "COMM:  (pid=7) @ CPU 0\nKernel:\n  0 [<0000000000000abc>]\nNo Userspace Stack" {
		t.Errorf("without comm: %q", got)
	}
	// The counters must be integers.
	bad := stackEvent(t, map[string]string{"cpu_id": "cpu"})
	if _, err := NewStackTrace(bad, StackOptions{Fields: map[string]string{"cpu_id": "comm"}}); !errors.Is(err, ErrUnsupportedType) || !strings.Contains(err.Error(), "comm is not an integer") {
		t.Errorf("char array as cpu_id: %v", err)
	}
}
