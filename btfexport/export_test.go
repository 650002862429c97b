package btfexport

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// EnvUpdateGolden rewrites golden files instead of comparing against them.
const EnvUpdateGolden = "ECLI_UPDATE_GOLDEN"

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func goldenOptions(t *testing.T) ([]byte, Options) {
	t.Helper()
	dir := filepath.Join("testdata", "golden")
	return readFile(t, filepath.Join(dir, "golden.bpf.o")), Options{
		Name:       "golden",
		Header:     readFile(t, filepath.Join(dir, "golden.h")),
		HeaderName: "golden.h",
		Source:     readFile(t, filepath.Join(dir, "golden.bpf.c")),
		SourceName: "golden.bpf.c",
	}
}

// TestGolden compares the package built from the checked-in object with golden.json, byte
// for byte. ECLI_UPDATE_GOLDEN=1 rewrites it.
func TestGolden(t *testing.T) {
	obj, opts := goldenOptions(t)
	pkg, err := Export(obj, opts)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pkg.JSON()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "golden", "golden.json")
	if os.Getenv(EnvUpdateGolden) == "1" {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := readFile(t, path)
	if !bytes.Equal(got, want) {
		t.Fatalf("package differs from %s (rerun with %s=1 to update):\n got: %.400s\nwant: %.400s", path, EnvUpdateGolden, got, want)
	}

	again, err := Export(obj, opts)
	if err != nil {
		t.Fatal(err)
	}
	gotAgain, _ := again.JSON()
	if !bytes.Equal(got, gotAgain) {
		t.Fatal("two exports of the same object differ")
	}
}

// TestGoldenContent checks the golden package's meaning independently of its bytes: the
// object round-trips, every type_id resolves in the object's own BTF, and the hints are where
// they belong.
func TestGoldenContent(t *testing.T) {
	obj, opts := goldenOptions(t)
	pkg, err := Export(obj, opts)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := pkg.JSON()

	var raw struct {
		BPFObject     string          `json:"bpf_object"`
		BPFObjectSize int             `json:"bpf_object_size"`
		Meta          json.RawMessage `json:"meta"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	z, err := base64.StdEncoding.DecodeString(raw.BPFObject)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(z, []byte{0x78, 0xda}) {
		t.Errorf("bpf_object is not zlib at best compression: starts % x", z[:2])
	}
	zr, err := zlib.NewReader(bytes.NewReader(z))
	if err != nil {
		t.Fatal(err)
	}
	elfBytes, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(elfBytes, obj) || raw.BPFObjectSize != len(obj) {
		t.Fatalf("bpf_object does not round-trip (size %d, object %d)", raw.BPFObjectSize, len(obj))
	}

	spec, err := btf.LoadSpecFromReader(bytes.NewReader(elfBytes))
	if err != nil {
		t.Fatal(err)
	}
	if len(pkg.Meta.ExportTypes) != 2 || pkg.Meta.ExportTypes[0].Name != "event" || pkg.Meta.ExportTypes[1].Name != "hist" {
		t.Fatalf("export types: %+v, want event (the ring buffer's value) then hist", pkg.Meta.ExportTypes)
	}
	for _, et := range pkg.Meta.ExportTypes {
		typ, err := spec.TypeByID(et.TypeID)
		if err != nil {
			t.Fatalf("type_id %d: %v", et.TypeID, err)
		}
		s, ok := typ.(*btf.Struct)
		if !ok || s.Name != et.Name || s.Size != et.Size || len(s.Members) != len(et.Members) {
			t.Fatalf("type_id %d is %v, want struct %s of %d bytes", et.TypeID, typ, et.Name, et.Size)
		}
		for i, m := range s.Members {
			if m.Name != et.Members[i].Name {
				t.Errorf("struct %s member %d: %q, want %q", et.Name, i, et.Members[i].Name, m.Name)
			}
		}
	}
	// Display hints survive llvm-strip -g as decl tags on members and on the struct.
	var ev *btf.Struct
	if err := spec.TypeByName("event", &ev); err != nil {
		t.Fatal(err)
	}
	if len(ev.Tags) == 0 || ev.Tags[0] != "ecli:time=off" {
		t.Errorf("struct event tags %q, want ecli:time=off", ev.Tags)
	}
	if got := strings.Join(ev.Members[1].Tags, " "); got != "ecli:name=LAT(ms) ecli:div=1000 ecli:fmt=%.2f" {
		t.Errorf("delta_us tags %q", got)
	}

	vars := map[string]Variable{}
	for _, ds := range pkg.Meta.BPFSkel.DataSections {
		for _, v := range ds.Variables {
			vars[v.Name] = v
		}
	}
	if _, ok := vars["hidden_static"]; ok {
		t.Error("static variable listed")
	}
	for name, want := range map[string]string{
		"targ_pid":  `{"help":"trace this PID only","long":"pid","short":"p"}`,
		"min_us":    `{"default":0,"help":"minimum latency in ms","metavar":"MS","positional":true,"scale":1000}`,
		"targ_v6":   `{"short":"6"}`,
		"targ_comm": `{"help":"only this command","long":"comm","short":"c"}`,
	} {
		if got := string(vars[name].Extra["cmdarg"]); got != want {
			t.Errorf("%s cmdarg = %s, want %s", name, got, want)
		}
	}
	for name, want := range map[string]string{"targ_pid": "pid_t", "targ_v6": "bool", "targ_comm": "char[16]",
		"min_us": "unsigned long long", "events_seen": "__u64", "__eunomia_dummy_event_ptr": "struct event *"} {
		if vars[name].Type != want {
			t.Errorf("%s type %q, want %q", name, vars[name].Type, want)
		}
	}
	if got := string(vars["threshold"].Extra["description"]); got != `"A plain description only."` {
		t.Errorf("threshold description %s", got)
	}
}

func TestExportErrors(t *testing.T) {
	obj, opts := goldenOptions(t)
	for _, tc := range []struct {
		name   string
		obj    []byte
		mod    func(*Options)
		target error
		msg    string
	}{
		{"not an ELF", []byte("hello"), nil, ErrBadObject, "reading object"},
		{"header struct missing", obj, func(o *Options) { o.Header = []byte("struct nothere { int x; };") }, ErrMissingType, "struct nothere from golden.h"},
		{"bad sample", obj, func(o *Options) {
			o.Source = bytes.Replace(o.Source, []byte(`/// @sample {"interval": 1000, "type": "log2_hist", "unit": "us"}`), []byte(`/// @sample 1000`), 1)
		}, ErrBadHint, "map hists"},
		{"bad cmdarg", obj, func(o *Options) {
			o.Source = bytes.Replace(o.Source, []byte(`/// @cmdarg {"short": "c", "long": "comm", "help": "only this command"}`), []byte(`/// @cmdarg -c`), 1)
		}, ErrBadHint, "global targ_comm"},
		{"duplicate key", obj, func(o *Options) {
			o.Source = bytes.Replace(o.Source, []byte("/// @flags 2"), []byte("/// @flags 2\n/// @flags 3"), 1)
		}, ErrBadHint, "golden.bpf.c:"},
		{"no name", obj, func(o *Options) { o.Name = "" }, nil, "no object name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := opts
			if tc.mod != nil {
				tc.mod(&o)
			}
			_, err := Export(tc.obj, o)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.target != nil && !errors.Is(err, tc.target) {
				t.Errorf("error %q is not %v", err, tc.target)
			}
			if !strings.Contains(err.Error(), tc.msg) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q: want one line containing %q", err, tc.msg)
			}
		})
	}
}
