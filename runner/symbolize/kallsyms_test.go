package symbolize

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A kallsyms fixture: vmlinux text, data (ignored), aliases, modules, and lines out of order
// as module symbols appear in the real file.
const kallsymsFixture = `ffffffff81000000 T _stext
ffffffff81000000 T _text
ffffffff81001000 t do_one_initcall
ffffffff81002000 D some_data
ffffffff81003000 T schedule
ffffffff81003400 W weak_fn
ffffffffc0a02000 t mod_b_func	[modb]
ffffffffc0a01000 t mod_a_init	[moda]
ffffffffc0a01100 T mod_a_xmit	[moda]
ffffffff81004000 T __schedule
`

func TestKallsymsLookup(t *testing.T) {
	k, err := ParseKallsyms(strings.NewReader(kallsymsFixture))
	if err != nil {
		t.Fatal(err)
	}
	if k.Len() != 9 {
		t.Errorf("%d text symbols, want 9", k.Len())
	}
	for _, c := range []struct {
		addr uint64
		want string
	}{
		{0xffffffff81000000, "_stext+0x0"},             // first alias in file order
		{0xffffffff81000010, "_stext+0x10"},            //
		{0xffffffff81002010, "do_one_initcall+0x1010"}, // data symbols do not split text
		{0xffffffff81003000, "schedule+0x0"},
		{0xffffffff810033ff, "schedule+0x3ff"},
		{0xffffffff81003400, "weak_fn+0x0"},
		{0xffffffff81004abc, "__schedule+0xabc"},
		{0xffffffffc0a01000, "mod_a_init+0x0 [moda]"},
		{0xffffffffc0a01180, "mod_a_xmit+0x80 [moda]"},
		{0xffffffffc0a02004, "mod_b_func+0x4 [modb]"},
	} {
		fr, err := k.Lookup(c.addr)
		if err != nil || fr.String() != c.want || fr.Addr != c.addr {
			t.Errorf("%#x = %q (%+v), %v; want %q", c.addr, fr.String(), fr, err, c.want)
		}
	}
	if fr, err := k.Lookup(0xffffffff80000000); !errors.Is(err, ErrNoSymbol) || fr.String() != "" {
		t.Errorf("below every symbol: %+v, %v", fr, err)
	}
}

func TestKallsymsErrors(t *testing.T) {
	zeros := "0000000000000000 T _stext\n0000000000000000 t do_one_initcall\n0000000000000000 t mod_a_init\t[moda]\n"
	if _, err := ParseKallsyms(strings.NewReader(zeros)); !errors.Is(err, ErrKernelRestricted) {
		t.Errorf("all zeros: %v, want ErrKernelRestricted", err)
	}
	_, err := ParseKallsyms(strings.NewReader("ffffffff81000000 T _stext\nnonsense\n"))
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad line: %v, want an error naming line 2", err)
	}
	if _, err := ParseKallsyms(strings.NewReader("ffffffff81002000 D some_data\n")); err == nil {
		t.Error("no text symbols: no error")
	}
}

func TestSymbolizerKernel(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var warnings []error
	warn := func(err error) { warnings = append(warnings, err) }

	s := New(Options{Kallsyms: write("kallsyms", kallsymsFixture), Warn: warn})
	if fr, err := s.Kernel(0xffffffffc0a01104); err != nil || fr.String() != "mod_a_xmit+0x4 [moda]" {
		t.Errorf("Kernel = %+v, %v", fr, err)
	}

	// kptr_restrict: every lookup says why, Warn hears it once.
	s = New(Options{Kallsyms: write("zeros", "0000000000000000 T _stext\n"), Warn: warn})
	for range 3 {
		if fr, err := s.Kernel(0xffffffff81000010); !errors.Is(err, ErrKernelRestricted) || fr != (Frame{Addr: 0xffffffff81000010}) {
			t.Errorf("restricted: %+v, %v", fr, err)
		}
	}
	s = New(Options{Kallsyms: filepath.Join(dir, "missing"), Warn: warn})
	if _, err := s.Kernel(1); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing kallsyms: %v", err)
	}
	if len(warnings) != 2 || !errors.Is(warnings[0], ErrKernelRestricted) {
		t.Errorf("warnings %v, want ErrKernelRestricted then the missing file", warnings)
	}

	// A table given directly is used as is.
	k, err := ParseKallsyms(strings.NewReader(kallsymsFixture))
	if err != nil {
		t.Fatal(err)
	}
	s = New(Options{Kernel: k, Kallsyms: filepath.Join(dir, "missing")})
	if fr, err := s.Kernel(0xffffffff81003001); err != nil || fr.Name != "schedule" {
		t.Errorf("Options.Kernel: %+v, %v", fr, err)
	}
}

// TestKallsymsThisKernel checks the real table when this user may read it.
func TestKallsymsThisKernel(t *testing.T) {
	data, err := os.ReadFile("/proc/kallsyms")
	if err != nil {
		t.Skipf("no /proc/kallsyms: %v", err)
	}
	k, err := ParseKallsyms(bytes.NewReader(data))
	if errors.Is(err, ErrKernelRestricted) {
		t.Skip("kernel symbol addresses are hidden from this user")
	}
	if err != nil {
		t.Fatal(err)
	}
	// Every text symbol of the file resolves to itself (or an alias at its address).
	n := 0
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) < 3 || (f[1] != "T" && f[1] != "t") {
			continue
		}
		addr, _, _ := parseHex([]byte(f[0]))
		fr, err := k.Lookup(addr)
		if err != nil || fr.Offset != 0 {
			t.Fatalf("%s at %#x = %+v, %v", f[2], addr, fr, err)
		}
		if n++; n == 2000 {
			break
		}
	}
}
