package decode

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf/btf"
)

// fixedClock is a clock for deterministic TIME columns.
func fixedClock() time.Time { return time.Date(2024, 1, 2, 3, 4, 5, 0, time.Local) }

func loadSimpleProg(t testing.TB) (btf.Type, []byte) {
	t.Helper()
	spec, err := btf.LoadSpec("testdata/simple_prog.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	typ, err := spec.TypeByID(2)
	if err != nil {
		t.Fatal(err)
	}
	sample, err := os.ReadFile("testdata/dumper_test.bin")
	if err != nil {
		t.Fatal(err)
	}
	return typ, sample
}

// TestEunomiaSimpleProg checks the header and row against eunomia's own test expectations.
func TestEunomiaSimpleProg(t *testing.T) {
	typ, sample := loadSimpleProg(t)
	p, err := Compile(typ, Options{Time: fixedClock})
	if err != nil {
		t.Fatal(err)
	}
	const header = "TIME     ARR1   STR    STR_ARR FT     DBL    U8V    I8V    U16V   I16V   U32V   I32V   U64V   I64V   E      "
	const row = `[[[0,1,2,3],[256,257,258,259],[512,513,514,515]],[[65536,65537,65538,65539],[65792,65793,65794,65795],[66048,66049,66050,66051]]] A-String ["hello 0","hello 1","hello 2","hello 3","hello 4","hello 5","hello 6","hello 7","hello 8","hello 9"] 1.2300000190734863 4.56 18 -18 4660 -4660 305419896 -305419896 1311768467463790320 -1311768467463790320 E_A(0)`
	if got := p.Header(); got != header {
		t.Errorf("header:\n got %q\nwant %q", got, header)
	}
	if p.Size() != 368 {
		t.Errorf("size %d, want 368", p.Size())
	}
	line, err := p.AppendText(nil, sample)
	if err != nil {
		t.Fatal(err)
	}
	if want := "03:04:05  " + row; string(line) != want {
		t.Errorf("row:\n got %q\nwant %q", line, want)
	}
	js, err := p.AppendJSON(nil, sample)
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "simple_prog.json.golden", js)
	var v map[string]any
	if err := json.Unmarshal(js, &v); err != nil {
		t.Fatalf("invalid JSON %s: %v", js, err)
	}
	if v["str"] != "A-String" || v["e"] != "E_A(0)" || v["ft"] != 1.2300000190734863 {
		t.Errorf("unexpected values %v", v)
	}
	if _, err := p.AppendText(nil, sample[:367]); !errorsIs(err, ErrShortSample) {
		t.Errorf("short sample: got %v", err)
	}
	if !strings.Contains(errString(p.AppendJSON(nil, sample[:10])), "S") {
		t.Error("short sample error does not name the type")
	}
}

func errString(_ []byte, err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestEunomiaInt128 decodes the int128 vector's ELF (base64 of zlib) like the runner does.
func TestEunomiaInt128(t *testing.T) {
	raw, err := os.ReadFile("testdata/int128_package.json")
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct {
		BPFObject string `json:"bpf_object"`
	}
	if err := json.Unmarshal(raw, &pkg); err != nil {
		t.Fatal(err)
	}
	z, err := base64.StdEncoding.DecodeString(pkg.BPFObject)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zlib.NewReader(bytes.NewReader(z))
	if err != nil {
		t.Fatal(err)
	}
	elf, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := btf.LoadSpecFromReader(bytes.NewReader(elf))
	if err != nil {
		t.Fatal(err)
	}
	typ, err := spec.TypeByID(4)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Compile(typ, Options{Time: fixedClock})
	if err != nil {
		t.Fatal(err)
	}
	// a = -(1<<90), b = (1<<127)+10, little endian.
	sample := make([]byte, 32)
	a := sample[:16]
	a[11] = 0xfc // -(1<<90): bits 90..127 set
	for i := 12; i < 16; i++ {
		a[i] = 0xff
	}
	b := sample[16:]
	b[0] = 10
	b[15] = 0x80
	js, err := p.AppendJSON(nil, sample)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"a":"-1237940039285380274899124224","b":"170141183460469231731687303715884105738"}`; string(js) != want {
		t.Errorf("JSON:\n got %s\nwant %s", js, want)
	}
	line, err := p.AppendText(nil, sample)
	if err != nil {
		t.Fatal(err)
	}
	if want := "03:04:05  -1237940039285380274899124224 170141183460469231731687303715884105738"; string(line) != want {
		t.Errorf("text:\n got %q\nwant %q", line, want)
	}
}
