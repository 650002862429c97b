package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	golden := filepath.Join("..", "..", "testdata", "golden")
	out := filepath.Join(t.TempDir(), "package.json")
	err := run([]string{"-o", out, "-src", filepath.Join(golden, "golden.bpf.c"),
		filepath.Join(golden, "golden.bpf.o"), filepath.Join(golden, "golden.h")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(out)
	want, _ := os.ReadFile(filepath.Join(golden, "golden.json"))
	if len(want) == 0 || !bytes.Equal(got, want) {
		t.Errorf("btfexport output differs from golden.json (%d vs %d bytes)", len(got), len(want))
	}

	bad := filepath.Join(t.TempDir(), "bad.bpf.o")
	os.WriteFile(bad, []byte("not an ELF"), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{filepath.Join(golden, "nothere.bpf.o")}, "nothere.bpf.o: no such file"},
		{[]string{"-o", out, bad}, "bad.bpf.o: reading object: bad BPF object"},
		{[]string{filepath.Join(golden, "golden.bpf.o"), "missing.h"}, "missing.h: no such file"},
		{[]string{"-o", filepath.Join(t.TempDir(), "no", "dir", "x.json"), filepath.Join(golden, "golden.bpf.o")}, "writing"},
		{[]string{"a", "b", "c"}, "want an object and at most one header"},
	} {
		err := run(tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("run(%q) = %v, want one line containing %q", tc.args, err, tc.want)
		}
	}
}

func TestHeaderStructsFlag(t *testing.T) {
	h := filepath.Join(t.TempDir(), "x.h")
	os.WriteFile(h, []byte("struct a { int x; };\nstruct b {\n};\n"), 0o644)
	r, w, _ := os.Pipe()
	stdout := os.Stdout
	os.Stdout = w
	err := run([]string{"-header-structs", h})
	os.Stdout = stdout
	w.Close()
	var buf bytes.Buffer
	buf.ReadFrom(r)
	if err != nil || buf.String() != "a\nb\n" {
		t.Errorf("-header-structs: %q, %v", buf.String(), err)
	}
}
