package decode

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// fileEvent is an oomkill-like event whose last member shows a /proc file (file=).
func fileEvent(fileTags ...string) *btf.Struct {
	return &btf.Struct{Name: "file_event", Size: 8, Tags: tag("time=off"), Members: []btf.Member{
		mem("pid", tU32, 0, tag("fmt=PID %d,")...),
		mem("loadavg", arr(tChar, 4), 4, tag(fileTags...)...),
	}}
}

func TestFileHint(t *testing.T) {
	files := map[string]string{"/proc/loadavg": "0.50 0.40 0.30 2/100 42\n", "/proc/two": "a\tb \nsecond line\n"}
	read := func(path string) ([]byte, error) {
		if s, ok := files[path]; ok {
			return []byte(s), nil
		}
		return nil, os.ErrNotExist
	}
	sample := []byte{7, 0, 0, 0, 'x', 'y', 'z', 0}
	for _, tc := range []struct {
		name       string
		tags       []string
		read       func(string) ([]byte, error)
		text, json string
	}{
		{"first-line", []string{"fmt=loadavg: %s", "file=/proc/loadavg"}, read,
			"PID 7, loadavg: 0.50 0.40 0.30 2/100 42", `{"pid":7,"loadavg":"0.50 0.40 0.30 2/100 42"}`},
		{"escaped-trimmed", []string{"file=/proc/two"}, read, `PID 7, a\tb`, `{"pid":7,"loadavg":"a\tb"}`},
		{"unreadable", []string{"file=/proc/none"}, read, "PID 7, ", `{"pid":7,"loadavg":""}`},
		{"no-reader", []string{"file=/proc/loadavg"}, nil, "PID 7, ", `{"pid":7,"loadavg":""}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Compile(fileEvent(tc.tags...), Options{ReadFile: tc.read})
			if err != nil {
				t.Fatal(err)
			}
			if got, err := p.AppendText(nil, sample); err != nil || string(got) != tc.text {
				t.Errorf("text %q (%v), want %q", got, err, tc.text)
			}
			if got, err := p.AppendJSON(nil, sample); err != nil || string(got) != tc.json {
				t.Errorf("JSON %s (%v), want %s", got, err, tc.json)
			}
		})
	}
}

func TestFileHintErrors(t *testing.T) {
	for _, tc := range []struct {
		t       *btf.Struct
		wantErr string
	}{
		{fileEvent("file=/etc/shadow"), "want a path under /proc/"},
		{fileEvent("file=/proc/../etc/shadow"), "want a path under /proc/"},
		{fileEvent("file=/proc/loadavg", "format=cstring"), "cannot be combined"},
		{fileEvent("format=hex", "file=/proc/loadavg"), "cannot be combined"},
		{&btf.Struct{Name: "e", Size: 4, Members: []btf.Member{mem("n", tU32, 0, tag("file=/proc/loadavg")...)}}, "needs a char array"},
	} {
		_, err := Compile(tc.t, Options{})
		if !errors.Is(err, ErrBadHint) || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%v: error %v, want %q", tc.t.Members[len(tc.t.Members)-1].Tags, err, tc.wantErr)
		}
	}
}
