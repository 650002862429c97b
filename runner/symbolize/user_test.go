package symbolize

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// lookupWant is what one address must resolve to.
type lookupWant struct {
	fn     string // key in proc.addrs
	plus   uint64 // added to the address
	name   string
	object string // suffix of Frame.Object
	file   string // suffix of Frame.File; "" means no file:line
	line   int
}

func checkUser(t *testing.T, s *Symbolizer, p *proc, cases []lookupWant) {
	t.Helper()
	for _, c := range cases {
		addr, ok := p.addrs[c.fn]
		if !ok {
			t.Fatalf("fixture printed no %s address", c.fn)
		}
		addr += c.plus
		fr, err := s.User(p.pid, addr)
		if err != nil {
			t.Errorf("%s+%d: %v", c.fn, c.plus, err)
			continue
		}
		if fr.Addr != addr || fr.Name != c.name || fr.Offset != c.plus || !strings.HasSuffix(fr.Object, c.object) {
			t.Errorf("%s+%d = %+v, want name %s offset %#x object *%s", c.fn, c.plus, fr, c.name, c.plus, c.object)
		}
		if c.file == "" {
			if fr.File != "" || fr.Line != 0 {
				t.Errorf("%s+%d: file:line %s:%d, want none", c.fn, c.plus, fr.File, fr.Line)
			}
		} else if !strings.HasSuffix(fr.File, c.file) || fr.Line != c.line {
			t.Errorf("%s+%d: file:line %s:%d, want *%s:%d", c.fn, c.plus, fr.File, fr.Line, c.file, c.line)
		}
		want := fmt.Sprintf("%s+%#x", c.name, c.plus)
		if fr.File != "" {
			want += fmt.Sprintf(" %s:%d", fr.File, fr.Line)
		}
		if fr.String() != want {
			t.Errorf("%s+%d: String() = %q, want %q", c.fn, c.plus, fr.String(), want)
		}
	}
}

func TestUserPIEAndSharedLibraryWithDWARF(t *testing.T) {
	f := cFixtures(t)
	p := startProc(t, f.pieDebug, "LD_LIBRARY_PATH="+f.libDebug)
	nm := nmSymbols(t, f.pieDebug, false)
	if p.addrs["leaf"] == nm["leaf"][0] {
		t.Fatalf("leaf runs at its link address %#x: the fixture is not position independent", nm["leaf"][0])
	}
	if nm["leaf"][1] <= 4 {
		t.Fatalf("nm gives leaf size %d, want > 4", nm["leaf"][1])
	}
	s := New(Options{DebugRoot: t.TempDir()})
	checkUser(t, s, p, []lookupWant{
		{fn: "leaf", name: "leaf", object: "pie-debug", file: "testdata/prog.c", line: markerLine(t, "prog.c", "leaf")},
		{fn: "leaf", plus: nm["leaf"][1] - 1, name: "leaf", object: "pie-debug", file: "testdata/prog.c"},
		{fn: "hidden", name: "hidden_helper", object: "pie-debug", file: "testdata/prog.c", line: markerLine(t, "prog.c", "hidden")},
		{fn: "lib", name: "lib_func", object: "lib/libfix.so", file: "testdata/lib.c", line: markerLine(t, "lib.c", "lib")},
	}[:1])
	// The last byte of leaf: same symbol, a line inside its body.
	last := p.addrs["leaf"] + nm["leaf"][1] - 1
	fr, err := s.User(p.pid, last)
	if err != nil || fr.Name != "leaf" || fr.Offset != nm["leaf"][1]-1 {
		t.Errorf("last byte of leaf = %+v, %v", fr, err)
	}
	if l := markerLine(t, "prog.c", "leaf"); fr.Line <= l || fr.Line > l+2 {
		t.Errorf("last byte of leaf at line %d, want in (%d, %d]", fr.Line, l, l+2)
	}
	checkUser(t, s, p, []lookupWant{
		{fn: "hidden", name: "hidden_helper", object: "pie-debug", file: "testdata/prog.c", line: markerLine(t, "prog.c", "hidden")},
		{fn: "lib", name: "lib_func", object: "lib/libfix.so", file: "testdata/lib.c", line: markerLine(t, "lib.c", "lib")},
	})
	// One byte past leaf's end is not leaf.
	if fr, err := s.User(p.pid, p.addrs["leaf"]+nm["leaf"][1]); err == nil && fr.Name == "leaf" {
		t.Errorf("byte past leaf resolved to %+v", fr)
	}
}

func TestUserNonPIEWithoutDWARF(t *testing.T) {
	f := cFixtures(t)
	p := startProc(t, f.exeNoDebug, "LD_LIBRARY_PATH="+f.libDebug)
	nm := nmSymbols(t, f.exeNoDebug, false)
	if p.addrs["leaf"] != nm["leaf"][0] {
		t.Fatalf("non-PIE leaf at %#x, nm says %#x", p.addrs["leaf"], nm["leaf"][0])
	}
	s := New(Options{DebugRoot: t.TempDir()})
	checkUser(t, s, p, []lookupWant{
		{fn: "leaf", name: "leaf", object: "exe-nodebug"},
		{fn: "leaf", plus: 3, name: "leaf", object: "exe-nodebug"},
		{fn: "hidden", name: "hidden_helper", object: "exe-nodebug"},
	})
	// In a non-PIE executable &lib_func is its PLT entry: no symbol of the executable covers it
	// (not even the unsized _init before it, which ends with .init).
	if fr, err := s.User(p.pid, p.addrs["lib"]); !errors.Is(err, ErrNoSymbol) || !strings.HasSuffix(fr.Object, "exe-nodebug") {
		t.Errorf("PLT entry of lib_func = %+v, %v; want ErrNoSymbol in the executable", fr, err)
	}
}

func TestUserDebugFileByBuildID(t *testing.T) {
	f := cFixtures(t)
	if syms := nmSymbols(t, f.pieStripped, false); len(syms) != 0 {
		t.Fatalf("stripped fixture still has %d symbols", len(syms))
	}
	p := startProc(t, f.pieStripped, "LD_LIBRARY_PATH="+f.libStripped)

	s := New(Options{DebugRoot: f.debugRoot})
	checkUser(t, s, p, []lookupWant{
		{fn: "hidden", name: "hidden_helper", object: "pie-stripped", file: "testdata/prog.c", line: markerLine(t, "prog.c", "hidden")},
		{fn: "leaf", plus: 1, name: "leaf", object: "pie-stripped", file: "testdata/prog.c", line: markerLine(t, "prog.c", "leaf")},
		// the stripped library keeps lib_func in .dynsym, without file:line
		{fn: "lib", name: "lib_func", object: "libstripped/libfix.so"},
	})

	// Without the debug file the executable has no symbols at all.
	s = New(Options{DebugRoot: t.TempDir()})
	if fr, err := s.User(p.pid, p.addrs["leaf"]); !errors.Is(err, ErrNoSymbol) || fr.Name != "" {
		t.Errorf("leaf without debug file = %+v, %v; want ErrNoSymbol", fr, err)
	}
	checkUser(t, s, p, []lookupWant{{fn: "lib", name: "lib_func", object: "libstripped/libfix.so"}})
}

func TestUserCxxDemangled(t *testing.T) {
	f := cFixtures(t)
	needTool(t, "c++filt")
	p := startProc(t, f.cxx)
	mangled := map[string]string{}
	for name := range nmSymbols(t, f.cxx, false) {
		for _, fn := range []string{"twice", "ident"} {
			if strings.HasPrefix(name, "_Z") && strings.Contains(name, "5"+fn) {
				mangled[fn] = name
			}
		}
	}
	s := New(Options{DebugRoot: t.TempDir()})
	raw := New(Options{DebugRoot: t.TempDir(), NoDemangle: true})
	for _, fn := range []string{"twice", "ident"} {
		m := mangled[fn]
		if m == "" {
			t.Fatalf("no mangled %s in the C++ fixture", fn)
		}
		out, err := exec.Command("c++filt", m).Output()
		if err != nil {
			t.Fatal(err)
		}
		want := strings.TrimSpace(string(out))
		fr, err := s.User(p.pid, p.addrs[fn])
		if err != nil || fr.Name != want || fr.Name == m {
			t.Errorf("%s = %+v, %v; want %q (c++filt %s)", fn, fr, err, want, m)
		}
		if !strings.HasSuffix(fr.File, "testdata/cxx.cc") {
			t.Errorf("%s: file %q, want *testdata/cxx.cc", fn, fr.File)
		}
		if fr, err := raw.User(p.pid, p.addrs[fn]); err != nil || fr.Name != m {
			t.Errorf("NoDemangle %s = %+v, %v; want %q", fn, fr, err, m)
		}
	}
}

func TestUserRustDemangled(t *testing.T) {
	bins := rustFixtures(t)
	for version, prefix := range map[string]string{"legacy": "_ZN", "v0": "_R"} {
		t.Run(version, func(t *testing.T) {
			var raw string
			for name := range nmSymbols(t, bins[version], false) {
				if strings.Contains(name, "spin_here") {
					raw = name
				}
			}
			if !strings.HasPrefix(raw, prefix) {
				t.Fatalf("spin_here is mangled as %q, want a %s… name", raw, prefix)
			}
			p := startProc(t, bins[version])
			s := New(Options{DebugRoot: t.TempDir()})
			fr, err := s.User(p.pid, p.addrs["spin"])
			if err != nil || fr.Name != "fx::spin_here" || fr.Offset != 0 {
				t.Errorf("spin_here (%s) = %+v, %v; want fx::spin_here+0x0", raw, fr, err)
			}
			if !strings.HasSuffix(fr.File, "testdata/fx.rs") || fr.Line != 3 {
				t.Errorf("spin_here at %s:%d, want *testdata/fx.rs:3", fr.File, fr.Line)
			}
		})
	}
}

func TestUserExitedProcess(t *testing.T) {
	f := cFixtures(t)
	var warnings []error
	s := New(Options{DebugRoot: t.TempDir(), Warn: func(err error) { warnings = append(warnings, err) }})

	// Snapshot taken while it ran: it still resolves after exit.
	p := startProc(t, f.pieDebug, "LD_LIBRARY_PATH="+f.libDebug)
	if err := s.Observe(p.pid); err != nil {
		t.Fatal(err)
	}
	p.exit(t)
	if _, err := os.Stat(fmt.Sprintf("/proc/%d/maps", p.pid)); err == nil {
		t.Skipf("pid %d was reused before the test could look", p.pid)
	}
	checkUser(t, s, p, []lookupWant{
		{fn: "leaf", name: "leaf", object: "pie-debug", file: "testdata/prog.c", line: markerLine(t, "prog.c", "leaf")},
		{fn: "lib", name: "lib_func", object: "libfix.so", file: "testdata/lib.c", line: markerLine(t, "lib.c", "lib")},
	})
	if len(warnings) != 0 {
		t.Errorf("warnings %v", warnings)
	}

	// No snapshot: addresses only, and the reason reported once.
	s = New(Options{DebugRoot: t.TempDir(), Warn: func(err error) { warnings = append(warnings, err) }})
	for range 3 {
		fr, err := s.User(p.pid, p.addrs["leaf"])
		if !errors.Is(err, ErrNoProcess) || fr != (Frame{Addr: p.addrs["leaf"]}) {
			t.Errorf("exited pid = %+v, %v; want ErrNoProcess", fr, err)
		}
	}
	if len(warnings) != 1 || !errors.Is(warnings[0], ErrNoProcess) || !strings.Contains(warnings[0].Error(), fmt.Sprint(p.pid)) {
		t.Errorf("warnings %v, want one ErrNoProcess naming pid %d", warnings, p.pid)
	}
}

// TestUserMapsFixture resolves through a maps file under Options.ProcRoot: the maps of a real
// run of the fixture plus synthetic anonymous and [vdso] lines.
func TestUserMapsFixture(t *testing.T) {
	f := cFixtures(t)
	p := startProc(t, f.pieDebug, "LD_LIBRARY_PATH="+f.libDebug)
	maps, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", p.pid))
	if err != nil {
		t.Fatal(err)
	}
	p.exit(t)
	root := t.TempDir()
	const pid = 4242
	extra := "7f1000000000-7f1000001000 r-xp 00000000 00:00 0 \n7f1000002000-7f1000003000 r-xp 00000000 00:00 0                          [vdso]\n"
	var noLib []string
	for _, l := range strings.Split(string(maps), "\n") {
		if !strings.Contains(l, "libfix.so") && l != "" {
			noLib = append(noLib, l)
		}
	}
	write := func(text string) {
		if err := os.MkdirAll(filepath.Join(root, "4242"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, "4242", "maps"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(strings.Join(noLib, "\n") + "\n" + extra)

	s := New(Options{ProcRoot: root, DebugRoot: t.TempDir(), MapsMaxAge: -1})
	fix := &proc{pid: pid, addrs: p.addrs}
	checkUser(t, s, fix, []lookupWant{
		{fn: "leaf", name: "leaf", object: "pie-debug", file: "testdata/prog.c", line: markerLine(t, "prog.c", "leaf")},
	})
	for _, c := range []struct {
		addr   uint64
		err    error
		object string
	}{
		{0x7f1000000010, ErrNoFile, ""},
		{0x7f1000002010, ErrNoFile, "[vdso]"},
		{0x10, ErrNoMapping, ""},
		{p.addrs["lib"], ErrNoMapping, ""}, // not in this snapshot
	} {
		fr, err := s.User(pid, c.addr)
		if !errors.Is(err, c.err) || fr.Name != "" || fr.Object != c.object {
			t.Errorf("%#x = %+v, %v; want object %q, %v", c.addr, fr, err, c.object, c.err)
		}
	}

	// The library appears (dlopen): a miss rereads maps when the snapshot is old enough.
	write(string(maps) + extra)
	if _, err := s.User(pid, p.addrs["lib"]); !errors.Is(err, ErrNoMapping) {
		t.Errorf("MapsMaxAge < 0 reread the maps: %v", err)
	}
	s.opts.MapsMaxAge = 1 // nanosecond: every snapshot is old
	checkUser(t, s, fix, []lookupWant{
		{fn: "lib", name: "lib_func", object: "libfix.so", file: "testdata/lib.c", line: markerLine(t, "lib.c", "lib")},
	})

	// A maps file that is not one names its line.
	write("not a maps line\n")
	s = New(Options{ProcRoot: root})
	if _, err := s.User(pid, 0x1000); !errors.Is(err, ErrNoProcess) || !strings.Contains(err.Error(), "maps line 1") {
		t.Errorf("bad maps: %v", err)
	}
}

func TestUserFileCacheBoundsAndSharing(t *testing.T) {
	f := cFixtures(t)
	p1 := startProc(t, f.pieDebug, "LD_LIBRARY_PATH="+f.libDebug)
	p2 := startProc(t, f.pieDebug, "LD_LIBRARY_PATH="+f.libDebug)
	cases := []lookupWant{
		{fn: "leaf", name: "leaf", object: "pie-debug", file: "testdata/prog.c", line: markerLine(t, "prog.c", "leaf")},
		{fn: "lib", name: "lib_func", object: "libfix.so", file: "testdata/lib.c", line: markerLine(t, "lib.c", "lib")},
	}

	// Two processes of one program share the parsed files.
	s := New(Options{DebugRoot: t.TempDir()})
	checkUser(t, s, p1, cases)
	checkUser(t, s, p2, cases)
	if n := s.files.len(); n != 2 {
		t.Errorf("%d files cached for two processes of one program and one library, want 2", n)
	}

	// One entry: alternating files evict each other, results stay right.
	for _, o := range []Options{{MaxFiles: 1}, {MaxFileBytes: 1}} {
		o.DebugRoot = t.TempDir()
		s := New(o)
		for range 5 {
			checkUser(t, s, p1, cases)
		}
		if s.files.len() != 1 || s.files.evicted != 9 {
			t.Errorf("%+v: %d files kept, %d evicted; want 1 and 9", o, s.files.len(), s.files.evicted)
		}
	}
}

func TestLRU(t *testing.T) {
	c := newLRU[int, string](3, 10, func(v string) int64 { return int64(len(v)) })
	c.add(1, "a")
	c.add(2, "b")
	c.add(3, "c")
	c.get(1) // 2 is now the oldest
	c.add(4, "d")
	if _, ok := c.get(2); ok || c.len() != 3 {
		t.Errorf("entry bound: 2 kept or len %d", c.len())
	}
	c.add(5, "eeeeeeee") // cost 8: total 11 > 10, evicts the oldest (3), then fits
	if _, ok := c.get(3); ok {
		t.Error("cost bound: 3 kept")
	}
	if c.total > 10 {
		t.Errorf("total cost %d > 10", c.total)
	}
	c.add(6, "ffffffffffffffff") // alone over the bound: stays, everything else goes
	if v, ok := c.get(6); !ok || c.len() != 1 || v != "ffffffffffffffff" {
		t.Errorf("oversized entry: ok %v len %d", ok, c.len())
	}
	c.remove(6)
	if c.len() != 0 || c.total != 0 {
		t.Errorf("after remove: len %d total %d", c.len(), c.total)
	}
}

//go:noinline
func selfTarget(n int) int {
	s := 0
	for i := range n {
		s += i * i
	}
	return s
}

// TestUserSelf symbolizes a function of this test binary in its own running process.
func TestUserSelf(t *testing.T) {
	selfTarget(3)
	pc := uint64(reflect.ValueOf(selfTarget).Pointer())
	s := New(Options{})
	for _, plus := range []uint64{0, 8} {
		fr, err := s.User(uint32(os.Getpid()), pc+plus)
		if err != nil {
			t.Fatal(err)
		}
		if fr.Name != "ecli/runner/symbolize.selfTarget" || fr.Offset != plus {
			t.Errorf("selfTarget+%d = %+v", plus, fr)
		}
		// from DWARF, or from .gopclntab when go test stripped the binary; the runtime agrees
		file, line := runtime.FuncForPC(uintptr(pc + plus)).FileLine(uintptr(pc + plus))
		if fr.File != file || fr.Line != line || !strings.HasSuffix(file, "runner/symbolize/user_test.go") {
			t.Errorf("selfTarget+%d at %s:%d, runtime says %s:%d", plus, fr.File, fr.Line, file, line)
		}
	}
}

// TestConcurrent shares one Symbolizer between goroutines (run with -race).
func TestConcurrent(t *testing.T) {
	k, err := ParseKallsyms(strings.NewReader(kallsymsFixture))
	if err != nil {
		t.Fatal(err)
	}
	s := New(Options{Kernel: k, MaxFiles: 1})
	pc := uint64(reflect.ValueOf(selfTarget).Pointer())
	pid := uint32(os.Getpid())
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			for range 200 {
				if fr, err := s.User(pid, pc); err != nil || fr.Name != "ecli/runner/symbolize.selfTarget" {
					errs <- fmt.Errorf("User = %+v, %v", fr, err)
					return
				}
				if fr, err := s.Kernel(0xffffffff81003001); err != nil || fr.Name != "schedule" {
					errs <- fmt.Errorf("Kernel = %+v, %v", fr, err)
					return
				}
				s.Forget(pid)
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
