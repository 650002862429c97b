package runner

import (
	"bufio"
	"encoding/binary"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"

	"ecli/runner/decode"
)

// fixedStacks is a decode.StackLookup over two stacks: id 1 kernel, id 2 user.
type fixedStacks map[uint32][]uint64

func (f fixedStacks) Stack(_ string, id uint32) ([]uint64, bool) { a, ok := f[id]; return a, ok }

// benchKernelStack returns n kernel text addresses from /proc/kallsyms (zeros when hidden).
func benchKernelStack(b *testing.B, n int) []uint64 {
	f, err := os.Open("/proc/kallsyms")
	if err != nil {
		b.Skip(err)
	}
	defer f.Close()
	var out []uint64
	sc := bufio.NewScanner(f)
	for sc.Scan() && len(out) < n {
		fs := strings.Fields(sc.Text())
		if len(fs) >= 3 && (fs[1] == "T" || fs[1] == "t") {
			a, _ := strconv.ParseUint(fs[0], 16, 64)
			out = append(out, a+0x10)
		}
		for i := 0; i < 500 && sc.Scan(); i++ { // spread the addresses over the table
		}
	}
	return out
}

// BenchmarkStackSample is the per-sample cost of printing one counted stack (a profile entry:
// 20 kernel frames and this process's user stack) with warm symbol caches, in bcc's block
// and folded layouts. Reproduce: go test -run '^$' -bench StackSample -benchmem ./runner
func BenchmarkStackSample(b *testing.B) {
	pcs := make([]uintptr, 32)
	n := runtime.Callers(0, pcs)
	user := make([]uint64, n)
	for i, pc := range pcs[:n] {
		user[i] = uint64(pc)
	}
	st := fixedStacks{1: benchKernelStack(b, 20), 2: user}
	u32, s32 := &btf.Int{Name: "u32", Size: 4}, &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}
	m := func(name string, t btf.Type, off uint32, tag string) btf.Member {
		return btf.Member{Name: name, Type: t, Offset: btf.Bits(off * 8), Tags: []string{tag}}
	}
	comm := &btf.Array{Index: u32, Type: &btf.Int{Name: "char", Size: 1, Encoding: btf.Signed}, Nelems: 16}
	for _, layout := range []string{"block", "folded"} {
		b.Run(layout, func(b *testing.B) {
			tags := []string{"ecli:stack_offset=on", "ecli:stack_module=on"}
			if layout == "folded" {
				tags = append(tags, "ecli:stack_folded=on")
			}
			kp, err := decode.Compile(&btf.Struct{Name: "key_t", Size: 28, Tags: tags, Members: []btf.Member{
				m("pid", u32, 0, "ecli:task=pid"), m("user_stack_id", s32, 4, "ecli:stack=st,user,pid"),
				m("kernel_stack_id", s32, 8, "ecli:stack=st,kernel"), m("name", comm, 12, "ecli:task=comm")}}, decode.Options{})
			if err != nil {
				b.Fatal(err)
			}
			vp, err := decode.Compile(&btf.Int{Name: "u64", Size: 8}, decode.Options{})
			if err != nil {
				b.Fatal(err)
			}
			sc, err := decode.NewStackCounts(kp, vp, decode.StackCountsOptions{Symbolizer: newSymbols(func(string) {})})
			if err != nil {
				b.Fatal(err)
			}
			key := binary.LittleEndian.AppendUint32(nil, uint32(os.Getpid()))
			key = binary.LittleEndian.AppendUint32(key, 2)
			key = binary.LittleEndian.AppendUint32(key, 1)
			key = append(key, "bench\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"...)
			val := binary.LittleEndian.AppendUint64(nil, 42)
			buf, err := sc.AppendText(nil, key, val, st) // warm the caches
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				buf, _ = sc.AppendText(buf[:0], key, val, st)
			}
			frames := len(st[1]) + len(st[2])
			b.ReportMetric(float64(frames), "frames/sample")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*frames), "ns/frame")
		})
	}
}
