package runner

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/cilium/ebpf"

	"ecli/internal/testutils"
)

// rodataU32 reads the __u32 global name from the first entry of a data section's contents.
func rodataU32(t *testing.T, p *Package, name string, data []byte) uint32 {
	t.Helper()
	vs := p.spec.Variables[name]
	if vs == nil || int(vs.Offset)+4 > len(data) {
		t.Fatalf("variable %s not in its section (%d bytes)", name, len(data))
	}
	return binary.NativeEndian.Uint32(data[vs.Offset:])
}

// TestValuesIndependent: Values given to one load do not leak into the Package or into
// other Values; the spec Load hands the kernel carries each load's own values. It runs
// the loads' preparation concurrently (go test -race checks the Package is only read).
func TestValuesIndependent(t *testing.T) {
	p, err := Parse(readTypesPackage(t))
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	got := make([]uint32, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			v := p.NewValues()
			if err := v.Set("targ_pid", fmt.Sprint(1000+i)); err != nil {
				errs[i] = err
				return
			}
			if i%2 == 0 {
				if err := v.Set("opt_on", "false"); err != nil {
					errs[i] = err
					return
				}
			}
			if _, err := p.Outputs(v); err != nil {
				errs[i] = err
				return
			}
			spec, err := p.loadSpec(v)
			if err != nil {
				errs[i] = err
				return
			}
			ms := spec.Maps[".rodata"]
			if ms == nil || len(ms.Contents) != 1 {
				errs[i] = errors.New("no .rodata contents")
				return
			}
			got[i] = rodataU32(t, p, "targ_pid", ms.Contents[0].Value.([]byte))
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("load %d: %v", i, errs[i])
		}
		if got[i] != uint32(1000+i) {
			t.Errorf("load %d: targ_pid = %d, want %d", i, got[i], 1000+i)
		}
	}
	if !p.NewValues().Bool("opt_on") {
		t.Error("opt_on is false in fresh Values: a load's values leaked into the Package")
	}
	if _, err := Load(p, LoadOptions{Values: (&Package{}).NewValues()}); err == nil {
		t.Error("Load accepted the values of another package")
	}
}

// TestLoadTwiceConcurrently loads one parsed package twice at the same time with different
// values, and reads each instance's .rodata back from the kernel.
func TestLoadTwiceConcurrently(t *testing.T) {
	testutils.RequirePrivileged(t)
	p, err := Parse(readTypesPackage(t))
	if err != nil {
		t.Fatal(err)
	}
	pids := []uint32{4242, 31337}
	insts := make([]*Instance, len(pids))
	errs := make([]error, len(pids))
	var wg sync.WaitGroup
	for i, pid := range pids {
		wg.Go(func() {
			v := p.NewValues()
			if errs[i] = v.Set("targ_pid", fmt.Sprint(pid)); errs[i] == nil {
				insts[i], errs[i] = Load(p, LoadOptions{Values: v})
			}
		})
	}
	wg.Wait()
	for _, inst := range insts {
		if inst != nil {
			defer inst.Close()
		}
	}
	for i, pid := range pids {
		if errs[i] != nil {
			t.Fatalf("load %d: %v", i, errs[i])
		}
		m := insts[i].Map(".rodata")
		if m == nil {
			t.Fatal("no .rodata map")
		}
		data := make([]byte, m.ValueSize())
		if err := m.Lookup(uint32(0), &data); err != nil {
			t.Fatal(err)
		}
		if got := rodataU32(t, p, "targ_pid", data); got != pid {
			t.Errorf("instance %d: targ_pid = %d in the kernel, want %d", i, got, pid)
		}
		if len(insts[i].outputs) != 1 || insts[i].outputs[0].specMap.Type != ebpf.RingBuf {
			t.Errorf("instance %d: outputs %+v, want the events ring buffer", i, insts[i].outputs)
		}
	}
	if insts[0].outputs[0].plan == insts[1].outputs[0].plan {
		t.Error("both instances decode with the same plan; each must compile its own")
	}
}

// TestValuesIsSetText: show=/time= hints see numbers as set when non-zero, bools by value;
// match= hints read an option's text.
func TestValuesIsSetText(t *testing.T) {
	p, err := Parse(readTypesPackage(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, value string
		set         bool
		text        string
	}{
		{"targ_pid", "", false, ""},
		{"targ_pid", "7", true, "7"},
		{"targ_pid", "0", false, "0"},
		{"opt_on", "", true, "true"}, // the default from cmdarg
		{"opt_on", "false", false, "false"},
		{"no_such_option", "", false, ""},
	} {
		v := p.NewValues()
		if tc.value != "" {
			if err := v.Set(tc.name, tc.value); err != nil {
				t.Fatal(err)
			}
		}
		if got := v.IsSet(tc.name); got != tc.set {
			t.Errorf("%s=%q: IsSet %v, want %v", tc.name, tc.value, got, tc.set)
		}
		if got := v.Text(tc.name); got != tc.text {
			t.Errorf("%s=%q: Text %q, want %q", tc.name, tc.value, got, tc.text)
		}
	}
}
