package decode

import (
	"errors"
	"testing"
	"time"

	"github.com/cilium/ebpf/btf"
)

// TestClockColumn: the struct hints that shape the wall-clock TIME column, against lines
// built with bcc's format strings ("%-9s" % strftime("%H:%M:%S"), exitsnoop's "%-13s" of
// "%H:%M:%S.%f"[:-3] under a "TIME-UTC" header).
func TestClockColumn(t *testing.T) {
	at := time.Date(2024, 1, 2, 3, 4, 5, 678_900_000, time.FixedZone("XST", 3600))
	clock := func() time.Time { return at }
	ev := func(tags ...string) *btf.Struct {
		return &btf.Struct{Name: "ev", Size: 8, Tags: tag(tags...), Members: []btf.Member{
			mem("pid", tU32, 0, tag("name=PID", "fmt=%-7d")...),
			mem("comm", arr(tChar, 4), 4, tag("name=COMM")...),
		}}
	}
	data := sample(make([]byte, 8)).u32(0, 42).str(4, "sh")
	for _, tc := range []struct {
		name         string
		typ          *btf.Struct
		flags        map[string]bool
		header, line string
	}{
		{"default", ev(), nil, "TIME     PID     COMM", "03:04:05 42      sh"},
		{"off", ev("time=off"), nil, "PID     COMM", "42      sh"},
		{"flag-false", ev("time=targ_time"), nil, "PID     COMM", "42      sh"},
		{"flag-true", ev("time=targ_time"), map[string]bool{"targ_time": true}, "TIME     PID     COMM", "03:04:05 42      sh"},
		{"bcc-9s", ev("time_fmt=%-9s"), nil, "TIME     PID     COMM", "03:04:05 42      sh"},
		{"wide", ev("time_fmt=%-10s"), nil, "TIME      PID     COMM", "03:04:05  42      sh"},
		{"ms-local", ev("time_fmt=%-13s", "time_prec=3", "time_name=TIME-%Z", "time_utc=targ_utc"), nil,
			"TIME-XST     PID     COMM", "03:04:05.678 42      sh"},
		{"ms-utc", ev("time_fmt=%-13s", "time_prec=3", "time_name=TIME-%Z", "time_utc=targ_utc"), map[string]bool{"targ_utc": true},
			"TIME-UTC     PID     COMM", "02:04:05.678 42      sh"},
		{"us", ev("time_prec=6", "time_fmt=%-16s"), nil, "TIME            PID     COMM", "03:04:05.678900 42      sh"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Compile(roundTrip(t, tc.typ), Options{Flag: func(n string) bool { return tc.flags[n] }, Time: clock})
			if err != nil {
				t.Fatal(err)
			}
			if p.Header() != tc.header {
				t.Errorf("header:\n got %q\nwant %q", p.Header(), tc.header)
			}
			line, err := p.AppendText(nil, data)
			if err != nil {
				t.Fatal(err)
			}
			if string(line) != tc.line {
				t.Errorf("line:\n got %q\nwant %q", line, tc.line)
			}
		})
	}
}

func TestClockColumnBadHints(t *testing.T) {
	for _, h := range []string{"time=1x", "time_fmt=%-9d", "time_fmt=9", "time_prec=10", "time_prec=x", "time_utc=", "time_utc=a b", "times=on", "time_name="} {
		typ := &btf.Struct{Name: "ev", Size: 4, Tags: tag(h), Members: []btf.Member{mem("pid", tU32, 0, tag("name=PID")...)}}
		if _, err := Compile(roundTrip(t, typ), Options{}); !errors.Is(err, ErrBadHint) {
			t.Errorf("%s: got %v, want ErrBadHint", h, err)
		}
	}
}

// TestClockColumnEverySecond: the TIME column's text is formatted once per second and
// follows the clock across seconds, hours, a zone change and a clock set back.
func TestClockColumnEverySecond(t *testing.T) {
	zone := time.FixedZone("XST", 3600)
	base := time.Date(2024, 1, 2, 3, 59, 59, 100_000_000, zone)
	times := []time.Time{
		base,
		base.Add(800 * time.Millisecond),
		base.Add(900 * time.Millisecond), // next second, next hour
		base.Add(900 * time.Millisecond).In(time.FixedZone("YST", 7200)),
		base.Add(-time.Hour),
	}
	want := []string{"03:59:59.100", "03:59:59.900", "04:00:00.000", "05:00:00.000", "02:59:59.100"}
	i := 0
	clock := func() time.Time { return times[i] }
	for _, hints := range [][]string{{"time_prec=3", "time_fmt=%-13s"}, nil} {
		typ := &btf.Struct{Name: "ev", Size: 4, Tags: tag(hints...), Members: []btf.Member{mem("pid", tU32, 0, tag("name=PID")...)}}
		if hints == nil {
			typ.Members[0].Tags = nil // eunomia's layout: TIME, then the fields
		}
		p, err := Compile(roundTrip(t, typ), Options{Time: clock})
		if err != nil {
			t.Fatal(err)
		}
		for i = range times {
			line, err := p.AppendText(nil, make([]byte, 4))
			if err != nil {
				t.Fatal(err)
			}
			w := want[i]
			if hints == nil {
				w = w[:8]
			}
			if string(line[:len(w)]) != w {
				t.Errorf("%v at %v: line %q, want it to start with %q", hints, times[i], line, w)
			}
		}
	}
}
