package decode

import (
	"errors"
	"fmt"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// csvEvent is a bcc tcplife-like event: -T (TIME), -t (TIME(s)), -w (wide cells and the IP
// column), -s (CSV, which also shows IP and drops the "~" column).
func csvEvent() *btf.Struct {
	return &btf.Struct{Name: "ev", Size: 48, Tags: tag("time=t_time", "csv=t_csv"), Members: []btf.Member{
		mem("ts", tU64, 0, tag("name=TIME(s)", "rel", "div=1000000", "fmt=%-9.6f", "show=t_ts")...),
		mem("pid", tU32, 8, tag("name=PID", "fmt=%-5d")...),
		mem("comm", arr(tChar, 16), 12, tag("name=COMM", "fmt=%-10.10s", "fmt_if=t_wide:%-16.16s")...),
		mem("af", tU32, 28, tag("name=IP", "map=2:4,10:6", "fmt=%-2s", "show=t_wide|t_csv")...),
		mem("addr", tU32, 32, tag("name=LADDR", "format=ipv4", "fmt=%-15s", "fmt_if=t_wide:%-26s")...),
		mem("tilde", arr(tChar, 2), 36, tag("name=~", "fmt=%-2s", "show=!t_csv")...),
		mem("tx", tU64, 40, tag("name=TX_KB", "div=1024", "fmt=%5d", "fmt_if=t_wide:%6d")...),
	}}
}

func TestCSVAndAlternateFormats(t *testing.T) {
	type row struct {
		ts   float64
		pid  int
		comm string
		tx   int
	}
	s1 := sample(make([]byte, 48)).u64(0, 5_000_000).u32(8, 4242).str(12, "a,\"quoted\" name").u32(28, 2).u32(32, 0x0100007f).str(36, "~").u64(40, 10*1024+1000)
	s2 := sample(make([]byte, 48)).u64(0, 6_250_000).u32(8, 1).str(12, "curl").u32(28, 2).u32(32, 0x0100007f).str(36, "~").u64(40, 1023)
	rows := []row{{0, 4242, "a,\"quoted\" name", 10}, {1.25, 1, "curl", 0}}
	for _, tc := range []struct {
		flags        map[string]bool
		header       string
		line         func(row) string
		headerOfTime string
	}{
		{nil, fmt.Sprintf("%-5s %-10.10s %s%-15s %-2s %5s", "PID", "COMM", "", "LADDR", "~", "TX_KB"),
			func(r row) string {
				return fmt.Sprintf("%-5d %-10.10s %s%-15s %-2s %5d", r.pid, r.comm, "", "127.0.0.1", "~", r.tx)
			}, ""},
		{map[string]bool{"t_wide": true}, fmt.Sprintf("%-5s %-16.16s %-2s %-26s %-2s %6s", "PID", "COMM", "IP", "LADDR", "~", "TX_KB"),
			func(r row) string {
				return fmt.Sprintf("%-5d %-16.16s %-2s %-26s %-2s %6d", r.pid, r.comm, "4", "127.0.0.1", "~", r.tx)
			}, ""},
		{map[string]bool{"t_ts": true, "t_time": true}, fmt.Sprintf("%-8s %-9s %-5s %-10.10s %s%-15s %-2s %5s", "TIME", "TIME(s)", "PID", "COMM", "", "LADDR", "~", "TX_KB"),
			func(r row) string {
				return fmt.Sprintf("%-8s %-9.6f %-5d %-10.10s %s%-15s %-2s %5d", "03:04:05", r.ts, r.pid, r.comm, "", "127.0.0.1", "~", r.tx)
			}, ""},
		{map[string]bool{"t_csv": true, "t_ts": true, "t_time": true}, "TIME,TIME(s),PID,COMM,IP,LADDR,TX_KB",
			func(r row) string {
				comm := r.comm
				if r.pid == 4242 {
					comm = `"a,""quoted"" name"` // RFC 4180
				}
				return fmt.Sprintf("%s,%.6f,%d,%s,%s,%s,%d", "03:04:05", r.ts, r.pid, comm, "4", "127.0.0.1", r.tx)
			}, ""},
		{map[string]bool{"t_csv": true, "t_wide": true}, "PID,COMM,IP,LADDR,TX_KB",
			func(r row) string {
				comm := r.comm
				if r.pid == 4242 {
					comm = `"a,""quoted"" name"`
				}
				return fmt.Sprintf("%d,%s,%s,%s,%d", r.pid, comm, "4", "127.0.0.1", r.tx)
			}, ""},
	} {
		t.Run(fmt.Sprint(tc.flags), func(t *testing.T) {
			p, err := Compile(roundTrip(t, csvEvent()), Options{Flag: func(n string) bool { return tc.flags[n] }, Time: fixedClock})
			if err != nil {
				t.Fatal(err)
			}
			if p.Header() != tc.header {
				t.Errorf("header:\n got %q\nwant %q", p.Header(), tc.header)
			}
			for i, s := range []sample{s1, s2} {
				got, err := p.AppendText(nil, s)
				if err != nil {
					t.Fatal(err)
				}
				if want := tc.line(rows[i]); string(got) != want {
					t.Errorf("row %d:\n got %q\nwant %q", i, got, want)
				}
			}
			if a := testing.AllocsPerRun(100, func() { p.AppendText(make([]byte, 0, 256), s1) }); a > 1 {
				t.Errorf("AppendText allocates %v times per row", a)
			}
		})
	}
}

func TestQuoteCSV(t *testing.T) {
	for in, want := range map[string]string{
		"":        "",
		"plain":   "plain",
		"a,b":     `"a,b"`,
		`"`:       `""""`,
		`x"y"z`:   `"x""y""z"`,
		"l\nr":    "\"l\nr\"",
		`,"",`:    `","""","`,
		"no \\n":  "no \\n",
		"é,ü":     `"é,ü"`,
		"tab\tin": "tab\tin",
	} {
		got := quoteCSV([]byte("pre"+in), 3)
		if string(got) != "pre"+want {
			t.Errorf("quoteCSV(%q) = %q, want %q", in, got[3:], want)
		}
	}
}

func TestCSVHintErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		st   []string
		mt   []string
	}{
		{"csv-empty", tag("csv="), nil},
		{"csv-not-ident", tag("csv=a b"), nil},
		{"fmt_if-no-colon", nil, tag("fmt_if=wide")},
		{"fmt_if-bad-global", nil, tag("fmt_if=1x:%d")},
		{"fmt_if-bad-fmt", nil, tag("fmt_if=wide:%q")},
		{"fmt_if-verb", nil, tag("fmt_if=wide:%f", "format=ipv4")},
		{"show-empty-term", nil, tag("show=a|")},
		{"show-double-neg", nil, tag("show=!!a")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			typ := &btf.Struct{Name: "ev", Size: 4, Tags: tc.st, Members: []btf.Member{mem("pid", tU32, 0, append(tag("name=PID"), tc.mt...)...)}}
			if _, err := Compile(roundTrip(t, typ), Options{}); !errors.Is(err, ErrBadHint) {
				t.Errorf("got %v, want ErrBadHint", err)
			}
		})
	}
}
