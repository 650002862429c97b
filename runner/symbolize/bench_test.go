package symbolize

import (
	"bytes"
	"errors"
	"os"
	"runtime"
	"testing"
	"unsafe"
)

// heapInUse returns the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func thisKallsyms(b *testing.B) []byte {
	data, err := os.ReadFile("/proc/kallsyms")
	if err != nil {
		b.Skipf("no /proc/kallsyms: %v", err)
	}
	if _, err := ParseKallsyms(bytes.NewReader(data)); errors.Is(err, ErrKernelRestricted) {
		b.Skip("kernel symbol addresses are hidden from this user")
	}
	return data
}

// BenchmarkSymbolizeParseKallsyms parses this machine's /proc/kallsyms (read beforehand).
func BenchmarkSymbolizeParseKallsyms(b *testing.B) {
	data := thisKallsyms(b)
	b.SetBytes(int64(len(data)))
	var k *KernelSymbols
	for b.Loop() {
		var err error
		if k, err = ParseKallsyms(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(k.Len()), "syms")
	b.ReportMetric(float64(uintptr(cap(k.meta))*unsafe.Sizeof(kmeta{})+uintptr(cap(k.addrs))*8+uintptr(len(k.names))), "table-B")
}

// BenchmarkSymbolizeKernel looks up addresses spread over the kernel's text.
func BenchmarkSymbolizeKernel(b *testing.B) {
	k, err := ParseKallsyms(bytes.NewReader(thisKallsyms(b)))
	if err != nil {
		b.Fatal(err)
	}
	s := New(Options{Kernel: k})
	addrs := make([]uint64, 1024)
	for i := range addrs {
		addrs[i] = k.addrs[i*(k.Len()/len(addrs))] + 0x10
	}
	var buf []byte
	i := 0
	for b.Loop() {
		fr, err := s.Kernel(addrs[i%len(addrs)])
		if err != nil {
			b.Fatal(err)
		}
		buf = fr.AppendText(buf[:0])
		i++
	}
}

//go:noinline
func benchStack(depth int, pcs []uintptr) int {
	if depth > 0 {
		return benchStack(depth-1, pcs)
	}
	return runtime.Callers(0, pcs)
}

// selfStack returns the return addresses of a real stack of this process, 16+ frames deep.
func selfStack() []uint64 {
	pcs := make([]uintptr, 64)
	n := benchStack(16, pcs)
	out := make([]uint64, n)
	for i, pc := range pcs[:n] {
		out[i] = uint64(pc)
	}
	return out
}

// BenchmarkSymbolizeUserStack resolves a whole stack of this Go process with a warm cache
// (names and file:line from .gopclntab or DWARF). ns/op is per stack; ns/frame per address.
func BenchmarkSymbolizeUserStack(b *testing.B) {
	stack := selfStack()
	pid := uint32(os.Getpid())
	before := heapInUse()
	s := New(Options{})
	for _, a := range stack {
		if _, err := s.User(pid, a); err != nil {
			b.Fatalf("%#x: %v", a, err)
		}
	}
	after := heapInUse()
	var buf []byte
	for b.Loop() {
		for _, a := range stack {
			fr, _ := s.User(pid, a)
			buf = fr.AppendText(buf[:0])
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(stack)), "ns/frame")
	b.ReportMetric(float64(after-before), "heap-B")
	runtime.KeepAlive(s)
}

// BenchmarkSymbolizeUserDWARF resolves addresses of the C fixture (PIE + shared library, DWARF)
// with a warm cache: per address, one symbol search and a memoized line.
func BenchmarkSymbolizeUserDWARF(b *testing.B) {
	f := cFixtures(b)
	p := startProc(b, f.pieDebug, "LD_LIBRARY_PATH="+f.libDebug)
	s := New(Options{DebugRoot: b.TempDir()})
	addrs := []uint64{p.addrs["leaf"], p.addrs["leaf"] + 4, p.addrs["hidden"] + 2, p.addrs["lib"] + 1}
	for _, a := range addrs {
		if fr, err := s.User(p.pid, a); err != nil || fr.File == "" {
			b.Fatalf("%#x: %+v %v", a, fr, err)
		}
	}
	var buf []byte
	i := 0
	for b.Loop() {
		fr, _ := s.User(p.pid, addrs[i%len(addrs)])
		buf = fr.AppendText(buf[:0])
		i++
	}
}

// BenchmarkSymbolizeUserDWARFLineMiss is the cost of an address not seen before in a file
// with DWARF: the compile unit's line table is read again.
func BenchmarkSymbolizeUserDWARFLineMiss(b *testing.B) {
	f := cFixtures(b)
	p := startProc(b, f.pieDebug, "LD_LIBRARY_PATH="+f.libDebug)
	s := New(Options{DebugRoot: b.TempDir()})
	if _, err := s.User(p.pid, p.addrs["leaf"]); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		for _, o := range s.files.items {
			o.Value.(*lruEntry[fileKey, *object]).val.line = nil
		}
		if _, err := s.User(p.pid, p.addrs["leaf"]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSymbolizeLoadELF parses one file the first time one of its addresses is seen:
// this test binary (Go) and the C fixture's libc. obj-B is the memory the cache charges for it.
func BenchmarkSymbolizeLoadELF(b *testing.B) {
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	f := cFixtures(b)
	p := startProc(b, f.pieDebug, "LD_LIBRARY_PATH="+f.libDebug)
	s := New(Options{})
	pr := s.process(p.pid)
	libc := ""
	for _, m := range pr.maps {
		if bytes.Contains([]byte(m.path), []byte("/libc.so")) || bytes.Contains([]byte(m.path), []byte("/libc-")) {
			libc = m.path
		}
	}
	for _, file := range []struct{ name, path string }{{"go-test-binary", self}, {"libc", libc}, {"fixture-pie-dwarf", f.pieDebug}} {
		b.Run(file.name, func(b *testing.B) {
			if file.path == "" {
				b.Skip("not mapped")
			}
			var o *object
			for b.Loop() {
				if o = loadObject(file.path, b.TempDir()); o.err != nil {
					b.Fatal(o.err)
				}
			}
			b.ReportMetric(float64(o.bytes), "obj-B")
			b.ReportMetric(float64(len(o.syms)), "syms")
		})
	}
}
