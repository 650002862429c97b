package decode

import (
	"errors"
	"testing"
	"time"

	"github.com/cilium/ebpf/btf"
)

func TestKV(t *testing.T) {
	key, err := Compile(roundTrip(t, tU32), Options{})
	if err != nil {
		t.Fatal(err)
	}
	val, err := Compile(roundTrip(t, &btf.Struct{Name: "v", Size: 12, Members: []btf.Member{
		mem("count", tU64, 0), mem("longer_name", tS32, 8)}}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	kv := KV{Key: key, Value: val}
	if got, want := kv.Header(), "TIME     UNSIGNED INT COUNT  LONGER_NAME "; got != want {
		t.Errorf("header %q, want %q", got, want)
	}
	k := sample(make([]byte, 4)).u32(0, 7)
	v := sample(make([]byte, 12)).u64(0, 3).u32(8, 0xffffffff)
	now := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	line, err := kv.AppendText([]byte("> "), now, k, v)
	if want := `> 03:04:05 {"unsigned int":7} {"count":3,"longer_name":-1}`; err != nil || string(line) != want {
		t.Errorf("text %q (%v), want %q", line, err, want)
	}
	js, err := kv.AppendJSON(nil, k, v)
	if want := `{"key":{"unsigned int":7},"value":{"count":3,"longer_name":-1}}`; err != nil || string(js) != want {
		t.Errorf("JSON %s (%v), want %s", js, err, want)
	}
	if _, err := kv.AppendText(nil, now, k[:3], v); !errors.Is(err, ErrShortSample) {
		t.Errorf("short key: %v", err)
	}
	if _, err := kv.AppendJSON(nil, k, v[:11]); !errors.Is(err, ErrShortSample) {
		t.Errorf("short value: %v", err)
	}
}

func TestAppendEntryText(t *testing.T) {
	table, err := Compile(roundTrip(t, &btf.Struct{Name: "t", Size: 12, Tags: []string{"ecli:time=off"}, Members: []btf.Member{
		mem("port", tU16, 0, "ecli:fmt=%-5d"), mem("n", tU64, 4, "ecli:fmt=%4d")}}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	k, v := sample(make([]byte, 4)).u16(0, 80), sample(make([]byte, 8)).u64(0, 12)
	whole, _ := table.AppendText(nil, append(append([]byte{}, k...), v...))
	got, err := table.AppendEntryText(nil, k, v)
	if err != nil || string(got) != string(whole) || string(got) != "80      12" {
		t.Errorf("row %q (%v), want %q from the joined bytes", got, err, whole)
	}
	if _, err := table.AppendEntryText(nil, k, v[:7]); !errors.Is(err, ErrShortSample) {
		t.Errorf("short entry: %v", err)
	}
	// Entries larger than the stack buffer work too.
	big, err := Compile(roundTrip(t, &btf.Struct{Name: "big", Size: 400, Tags: []string{"ecli:time=off"}, Members: []btf.Member{
		mem("a", tU32, 0, "ecli:fmt=%d"), mem("z", tU32, 396, "ecli:fmt=%d")}}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	kb, vb := sample(make([]byte, 300)).u32(0, 1), sample(make([]byte, 100)).u32(96, 2)
	if got, err := big.AppendEntryText(nil, kb, vb); err != nil || string(got) != "1 2" {
		t.Errorf("big row %q (%v)", got, err)
	}
}
