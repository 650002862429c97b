package runner

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cilium/ebpf"

	"ecli/internal/testutils"
)

func loadPinnedPkg(t *testing.T) *Package {
	t.Helper()
	data, err := os.ReadFile("testdata/pinned/pinned.json")
	if err != nil {
		t.Fatalf("%v (run make packages)", err)
	}
	p, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestUnsupportedOption: a cmdarg "unsupported" option is listed with its reason and
// refused when given.
func TestUnsupportedOption(t *testing.T) {
	p := loadPinnedPkg(t)
	o := p.Option("dns")
	if o == nil || o.Unsupported != "this test cannot do it" || !strings.HasSuffix(o.Help, "(not supported: this test cannot do it)") {
		t.Fatalf("option dns: %+v", o)
	}
	err := p.NewValues().Set("dns", "true")
	if !errors.Is(err, ErrUnsupportedOption) || err.Error() != "--dns is not supported: this test cannot do it" {
		t.Errorf("Set: %v", err)
	}
	if o := p.Option("allow_path"); o == nil || o.PinnedMap != "allowed" || o.FlagName() != "allow" {
		t.Errorf("option allow_path: %+v", o)
	}
}

// TestPinnedMapMetadataErrors: pinned_map must name a map of the object and sit on a char[N].
func TestPinnedMapMetadataErrors(t *testing.T) {
	data, err := os.ReadFile("testdata/pinned/pinned.json")
	if err != nil {
		t.Fatalf("%v (run make packages)", err)
	}
	for _, tc := range []struct{ from, to, wantErr string }{
		{`"pinned_map":"allowed"`, `"pinned_map":"nope"`, `cmdarg.pinned_map: map "nope" is not in the BPF object`},
		{`"name":"targ_tgid"`, `"cmdarg":{"pinned_map":"allowed"},"name":"targ_tgid"`, "variable targ_tgid is a __u32, want a char[N]"},
		{`"pinned_map":"allowed"`, `"pinned_map":3`, "cmdarg.pinned_map: is a number, want a non-empty string"},
		{`"unsupported":"this test cannot do it"`, `"unsupported":""`, "cmdarg.unsupported: is a string, want a non-empty string"},
	} {
		mod := strings.Replace(string(data), tc.from, tc.to, 1)
		if mod == string(data) {
			t.Fatalf("%s not in the package", tc.from)
		}
		_, err := Parse([]byte(mod))
		if !errors.Is(err, ErrBadPackage) || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: error %v, want %q", tc.to, err, tc.wantErr)
		}
	}
}

func pinMap(t *testing.T, path string, spec *ebpf.MapSpec, keys ...uint64) {
	t.Helper()
	m, err := ebpf.NewMap(spec)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for _, k := range keys {
		if err := m.Put(k, make([]byte, spec.ValueSize)); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Pin(path); err != nil {
		t.Fatal(err)
	}
}

// countGetppid loads the package with the values v (targ_tgid is set to ours), calls
// getppid n times and returns the number of calls the program counted.
func countGetppid(t *testing.T, p *Package, v *Values, n int) uint64 {
	t.Helper()
	if err := v.Set("targ_tgid", fmt.Sprint(os.Getpid())); err != nil {
		t.Fatal(err)
	}
	inst, err := Load(p, LoadOptions{Values: v})
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close()
	if err := inst.Attach(AttachOptions{}); err != nil {
		t.Fatal(err)
	}
	for range n {
		syscall.Getppid()
	}
	val := make([]byte, inst.Map(".bss").ValueSize())
	if err := inst.Map(".bss").Lookup(uint32(0), &val); err != nil {
		t.Fatal(err)
	}
	return binary.NativeEndian.Uint64(val)
}

// TestPinnedMapReplacement: the map pinned at the path given to a pinned_map option is the
// one the program reads; the object's own map is used without the option.
func TestPinnedMapReplacement(t *testing.T) {
	testutils.RequirePrivileged(t)
	dir := testutils.BPFFSDir(t)
	hash := &ebpf.MapSpec{Type: ebpf.Hash, KeySize: 8, ValueSize: 8, MaxEntries: 128}
	mine, other := filepath.Join(dir, "mine"), filepath.Join(dir, "other")
	pinMap(t, mine, hash, 1, uint64(os.Getpid()))
	pinMap(t, other, hash, uint64(os.Getpid())+1)

	p := loadPinnedPkg(t)
	if got := countGetppid(t, p, p.NewValues(), 5); got != 5 {
		t.Errorf("without --allow: %d calls counted, want 5", got)
	}
	v := p.NewValues()
	if err := v.Set("allow_path", mine); err != nil {
		t.Fatal(err)
	}
	if got := countGetppid(t, p, v, 7); got != 7 {
		t.Errorf("--allow with our tgid: %d calls counted, want 7", got)
	}
	v = p.NewValues()
	if err := v.Set("allow_path", other); err != nil {
		t.Fatal(err)
	}
	if got := countGetppid(t, p, v, 7); got != 0 {
		t.Errorf("--allow without our tgid: %d calls counted, want 0", got)
	}
	// The pinned map stays and keeps its entries after the run.
	m, err := ebpf.LoadPinnedMap(mine, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var count uint64
	if err := m.Lookup(uint64(os.Getpid()), &count); err != nil {
		t.Errorf("pinned map after the run: %v", err)
	}
}

func TestPinnedMapErrors(t *testing.T) {
	testutils.RequirePrivileged(t)
	dir := testutils.BPFFSDir(t)
	array := filepath.Join(dir, "array")
	pinMap(t, array, &ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 4})
	small := filepath.Join(dir, "small")
	pinMap(t, small, &ebpf.MapSpec{Type: ebpf.Hash, KeySize: 8, ValueSize: 4, MaxEntries: 4})
	notMap := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notMap, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, wantErr string }{
		{filepath.Join(dir, "missing"), "opening the pinned map: no such file"},
		{notMap, "opening the pinned map: "},
		{array, "the pinned map is a Array with 4-byte keys and 8-byte values, want a Hash with 8-byte keys and 8-byte values"},
		{small, "the pinned map is a Hash with 8-byte keys and 4-byte values, want a Hash with 8-byte keys and 8-byte values"},
	} {
		p := loadPinnedPkg(t)
		v := p.NewValues()
		if err := v.Set("allow_path", tc.path); err != nil {
			t.Fatal(err)
		}
		inst, err := Load(p, LoadOptions{Values: v})
		if err == nil {
			inst.Close()
			t.Errorf("%s: loaded", tc.path)
			continue
		}
		want := "bad option: --allow " + tc.path + ": " + tc.wantErr
		if !errors.Is(err, ErrBadOption) || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %q, want %q", tc.path, err, want)
		}
	}
}
