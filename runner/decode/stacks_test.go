package decode

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// stackKey is bcc profile's key: pid (task=pid), user and kernel stack ids, comm (task=comm),
// with the stack_* layout hints tags.
func stackKey(t testing.TB, tags ...string) *Plan {
	t.Helper()
	key := &btf.Struct{Name: "key_t", Size: 28, Tags: tags, Members: []btf.Member{
		mem("pid", tU32, 0, "ecli:task=pid"),
		mem("user_stack_id", tS32, 4, "ecli:stack=stack_traces,user,pid"),
		mem("kernel_stack_id", tS32, 8, "ecli:stack=stack_traces,kernel"),
		mem("name", arr(tChar, 16), 12, "ecli:task=comm"),
	}}
	p, err := Compile(roundTrip(t, key), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func countValue(t testing.TB) *Plan {
	t.Helper()
	p, err := Compile(roundTrip(t, &btf.Typedef{Name: "u64", Type: tU64}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func stackKeySample(pid uint32, ustack, kstack int32, comm string) []byte {
	return sample(make([]byte, 28)).u32(0, pid).u32(4, uint32(ustack)).u32(8, uint32(kstack)).str(12, comm)
}

func countSample(n uint64) []byte { return sample(make([]byte, 8)).u64(0, n) }

// stackMaps is a StackLookup over fixed stacks.
type stackMaps map[string]map[uint32][]uint64

func (m stackMaps) Stack(name string, id uint32) ([]uint64, bool) {
	a, ok := m[name][id]
	return a, ok
}

// frameTable is a Symbolizer over fixed frames, kernel and per pid.
type frameTable struct {
	kernel map[uint64]Frame
	user   map[uint32]map[uint64]Frame
}

func (ft frameTable) Symbolize(addr uint64, pid uint32, kernel bool) Frame {
	if kernel {
		return ft.kernel[addr]
	}
	return ft.user[pid][addr]
}

var (
	testStacks = stackMaps{"stack_traces": {
		1: {0xffffffff81000010, 0xffffffff81000220, 0xffffffffc0001000}, // kernel: innermost first
		2: {0x401136, 0x401160, 0x7f0000002000},                         // user
	}}
	testFrames = frameTable{
		kernel: map[uint64]Frame{
			0xffffffff81000010: {Name: "clear_page_erms", Offset: 0x10},
			0xffffffff81000220: {Name: "do_syscall_64", Offset: 0x20},
			0xffffffffc0001000: {Name: "xfs_read", Offset: 0x8, Module: "xfs"},
		},
		user: map[uint32]map[uint64]Frame{42: {
			0x401136: {Name: "spin", Offset: 0x6, Module: "spinner", File: "spin.c", Line: 7},
			0x401160: {Name: "main", Offset: 0x10, Module: "spinner"},
			// 0x7f0000002000: in libc, no symbol: the module only.
			0x7f0000002000: {Module: "libc.so.6"},
		}},
	}
)

// bcc's profile.py output, built with its own format strings.
func bccBlock(kernel, user []string, delim bool, comm string, pid int, count uint64) string {
	var b strings.Builder
	for _, s := range kernel {
		fmt.Fprintf(&b, "    %s\n", s)
	}
	if delim {
		b.WriteString("    --\n")
	}
	for _, s := range user {
		fmt.Fprintf(&b, "    %s\n", s)
	}
	fmt.Fprintf(&b, "    %-16s %s (%d)\n", "-", comm, pid)
	fmt.Fprintf(&b, "        %d\n", count)
	return b.String()
}

func TestStackCountsText(t *testing.T) {
	flags := func(on ...string) func(string) bool {
		return func(n string) bool {
			for _, o := range on {
				if o == n {
					return true
				}
			}
			return false
		}
	}
	tags := []string{"ecli:stack_folded=folded", "ecli:stack_delim=delimited", "ecli:stack_annotate=annotate",
		"ecli:stack_offset=on", "ecli:stack_module=on", "ecli:stack_addr=address"}
	kernelFull := []string{"clear_page_erms+0x10 [kernel]", "do_syscall_64+0x20 [kernel]", "xfs_read+0x8 [xfs]"}
	userFull := []string{"spin+0x6 [spinner]", "main+0x10 [spinner]", "[unknown] [libc.so.6]"}
	for _, tc := range []struct {
		name   string
		tags   []string
		flags  []string
		key    []byte
		want   string
		missed int
		full   bool
	}{
		{name: "both", tags: tags, key: stackKeySample(42, 2, 1, "spinner"),
			want: bccBlock(kernelFull, userFull, false, "spinner", 42, 7)},
		{name: "delimited", tags: tags, flags: []string{"delimited"}, key: stackKeySample(42, 2, 1, "spinner"),
			want: bccBlock(kernelFull, userFull, true, "spinner", 42, 7)},
		{name: "address", tags: tags, flags: []string{"address"}, key: stackKeySample(42, 2, -14, "spinner"),
			want: bccBlock(nil, []string{"0x0000000000401136 spin+0x6 [spinner]", "0x0000000000401160 main+0x10 [spinner]",
				"0x00007f0000002000 [unknown] [libc.so.6]"}, false, "spinner", 42, 7)},
		{name: "bare names", key: stackKeySample(42, 2, 1, "spinner"),
			want: bccBlock([]string{"clear_page_erms", "do_syscall_64", "xfs_read"}, []string{"spin", "main", "[unknown]"}, false, "spinner", 42, 7)},
		// -EFAULT: no such stack (kernel thread, or -U/-K): nothing printed, not missed.
		{name: "no user stack", tags: tags, key: stackKeySample(0, -14, 1, "swapper/0"),
			want: bccBlock(kernelFull, nil, false, "swapper/0", 0, 7)},
		{name: "lost stacks", tags: tags, key: stackKeySample(42, -17, -12, "spinner"), missed: 2, full: true,
			want: bccBlock([]string{"[Missed Kernel Stack]"}, []string{"[Missed User Stack]"}, false, "spinner", 42, 7)},
		{name: "id not in the map", tags: tags, key: stackKeySample(42, 9, -1, "spinner"), missed: 1,
			want: bccBlock([]string{"[Missed Kernel Stack]"}, []string{"[Missed User Stack]"}, false, "spinner", 42, 7)},
		{name: "folded", tags: tags, flags: []string{"folded"}, key: stackKeySample(42, 2, 1, "spinner"),
			want: "spinner;[unknown];main;spin;xfs_read;do_syscall_64;clear_page_erms 7"},
		{name: "folded delimited annotated", tags: tags, flags: []string{"folded", "delimited", "annotate"}, key: stackKeySample(42, 2, 1, "spinner"),
			want: "spinner;[unknown];main;spin;-;xfs_read_[k];do_syscall_64_[k];clear_page_erms_[k] 7"},
		{name: "folded user only", tags: tags, flags: []string{"folded", "delimited"}, key: stackKeySample(42, 2, -14, "spinner"),
			want: "spinner;[unknown];main;spin 7"},
		{name: "folded lost", tags: tags, flags: []string{"folded"}, key: stackKeySample(42, -12, -17, "x"), missed: 2, full: true,
			want: "x;[Missed User Stack];[Missed Kernel Stack] 7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc, err := NewStackCounts(stackKey(t, tc.tags...), countValue(t), StackCountsOptions{Flag: flags(tc.flags...), Symbolizer: testFrames})
			if err != nil {
				t.Fatal(err)
			}
			got, err := sc.AppendText(nil, tc.key, countSample(7), testStacks)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
			if n, full := sc.Missed(tc.key); n != tc.missed || full != tc.full {
				t.Errorf("Missed = %d, %v; want %d, %v", n, full, tc.missed, tc.full)
			}
		})
	}
}

func TestStackCountsJSON(t *testing.T) {
	sc, err := NewStackCounts(stackKey(t), countValue(t), StackCountsOptions{Symbolizer: testFrames})
	if err != nil {
		t.Fatal(err)
	}
	got, err := sc.AppendJSON(nil, stackKeySample(42, 2, -17, "spinner"), countSample(3), testStacks)
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Key    map[string]any
		Value  map[string]uint64
		Stacks map[string][]map[string]any
	}
	if err := json.Unmarshal(got, &v); err != nil {
		t.Fatalf("%s: %v", got, err)
	}
	if v.Value["u64"] != 3 || v.Key["name"] != "spinner" || v.Key["pid"] != float64(42) {
		t.Errorf("key/value: %s", got)
	}
	if s, ok := v.Stacks["kernel_stack_id"]; !ok || s != nil {
		t.Errorf("lost kernel stack: want null: %s", got)
	}
	u := v.Stacks["user_stack_id"]
	if len(u) != 3 || u[0]["symbol"] != "spin" || u[0]["file"] != "spin.c" || u[0]["line"] != float64(7) ||
		u[0]["address"] != float64(0x401136) || u[2]["symbol"] != nil || u[2]["module"] != "libc.so.6" {
		t.Errorf("user stack: %s", got)
	}
}

func TestStackCountsBadHints(t *testing.T) {
	k := func(members ...btf.Member) *btf.Struct {
		return &btf.Struct{Name: "k", Size: 32, Members: members}
	}
	for _, tc := range []struct {
		name string
		key  *btf.Struct
		want string
	}{
		{"no stack field", k(mem("pid", tU32, 0)), "no stack= field"},
		{"user without pid field", k(mem("u", tS32, 0, "ecli:stack=st,user,tgid")), "no pid field tgid"},
		{"two kernel stacks", k(mem("a", tS32, 0, "ecli:stack=st,kernel"), mem("b", tS32, 4, "ecli:stack=st,kernel")), "both kernel stacks"},
		{"stack id not an integer", k(mem("a", arr(tChar, 4), 0, "ecli:stack=st,kernel")), "not a 4- or 8-byte integer"},
		{"comm not chars", k(mem("a", tS32, 0, "ecli:stack=st,kernel"), mem("c", tU32, 4, "ecli:task=comm")), "not a char array"},
		{"bad layout value", &btf.Struct{Name: "k", Size: 4, Tags: []string{"ecli:stack_folded=1x"}, Members: []btf.Member{mem("a", tS32, 0, "ecli:stack=st,kernel")}}, "want on, off"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Compile(roundTrip(t, tc.key), Options{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = NewStackCounts(p, countValue(t), StackCountsOptions{})
			if !errors.Is(err, ErrBadHint) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
	// Malformed hints are refused by Compile.
	for _, tags := range [][]string{{"ecli:stack=st"}, {"ecli:stack=st,user"}, {"ecli:stack=st,both"}, {"ecli:task=tid"}} {
		if _, err := Compile(roundTrip(t, k(mem("a", tS32, 0, tags...))), Options{}); !errors.Is(err, ErrBadHint) {
			t.Errorf("%v: %v, want ErrBadHint", tags, err)
		}
	}
	if _, err := Compile(roundTrip(t, &btf.Struct{Name: "k", Size: 4, Tags: []string{"ecli:stack_flded=on"}, Members: []btf.Member{mem("a", tS32, 0)}}), Options{}); !errors.Is(err, ErrBadHint) {
		t.Errorf("unknown stack layout hint: %v", err)
	}
}

func TestEunomiaStackSymbols(t *testing.T) {
	st, err := NewStackTrace(stackEvent(t, nil), StackOptions{Symbolizer: fakeSymbols{}})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := st.AppendText(nil, stackSample(32, 0))
	want := "COMM: stress (pid=4242) @ CPU 1\nKernel:\n" +
		"  0 [<ffffffff81000000>] f0/4242/true+0x0\n" +
		"  1 [<ffffffff81000001>]\n" +
		"  2 [<ffffffff81000002>] f2/4242/true+0x2 [mod] a.c:7\n" +
		"  3 [<ffffffff81000003>]\n" +
		"No Userspace Stack"
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
