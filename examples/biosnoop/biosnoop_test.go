package biosnoop_test

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"ecli/internal/testutils"
	"ecli/internal/testutils/tooltest"
)

func TestMain(m *testing.M) { tooltest.Main(m) }

// flags are the output-shaping flags of one run: -Q, -P.
type flags struct{ queue, pattern bool }

func (f flags) args() []string {
	var a []string
	if f.queue {
		a = append(a, "-Q")
	}
	if f.pattern {
		a = append(a, "-P")
	}
	return a
}

func (f flags) name() string { return strings.Join(append([]string{"flags"}, f.args()...), "") }

// bcc python biosnoop's format strings (tools/biosnoop.py).
const (
	pyHeader     = "%-11s %-14s %-7s %-9s %-1s %-10s %-7s"
	pyHeaderP    = "%-1s "
	pyHeaderQ    = "%7s "
	pyHeaderLat  = "%7s"
	pyRow        = "%-11.6f %-14.14s %-7s %-9s %-1s %-10s %-7s"
	pyRowP       = "%-1s "
	pyRowQ       = "%7.2f "
	pyRowLat     = "%7.2f"
	sectorBytes  = 512
	patternNames = "?SR"
)

func bccHeader(f flags) string {
	s := fmt.Sprintf(pyHeader, "TIME(s)", "COMM", "PID", "DISK", "T", "SECTOR", "BYTES")
	if f.pattern {
		s += fmt.Sprintf(pyHeaderP, "P")
	}
	if f.queue {
		s += fmt.Sprintf(pyHeaderQ, "QUE(ms)")
	}
	return s + fmt.Sprintf(pyHeaderLat, "LAT(ms)")
}

// row is one I/O as bcc prints it.
type row struct {
	ts      float64
	comm    string
	pid     uint32
	disk    string
	t       string
	sector  uint64
	bytes   uint64
	pattern string
	que     float64
	lat     float64
}

func bccLine(f flags, r row) string {
	s := fmt.Sprintf(pyRow, r.ts, r.comm, strconv.Itoa(int(r.pid)), r.disk, r.t, strconv.FormatUint(r.sector, 10), strconv.FormatUint(r.bytes, 10))
	if f.pattern {
		s += fmt.Sprintf(pyRowP, r.pattern)
	}
	if f.queue {
		s += fmt.Sprintf(pyRowQ, r.que)
	}
	return s + fmt.Sprintf(pyRowLat, r.lat)
}

// parseLine reads a line printed with flags f (COMM without blanks, BYTES < 10^6 so that it
// is followed by a blank).
func parseLine(f flags, line string) (row, error) {
	fs := strings.Fields(line)
	want := 8
	if f.pattern {
		want++
	}
	if f.queue {
		want++
	}
	if len(fs) != want {
		return row{}, fmt.Errorf("line %q: %d fields, want %d", line, len(fs), want)
	}
	var r row
	var err error
	num := func(s string) float64 {
		n, e := strconv.ParseFloat(s, 64)
		if e != nil && err == nil {
			err = fmt.Errorf("line %q: %q: %v", line, s, e)
		}
		return n
	}
	r.ts, r.comm, r.pid, r.disk, r.t = num(fs[0]), fs[1], uint32(num(fs[2])), fs[3], fs[4]
	r.sector, r.bytes, fs = uint64(num(fs[5])), uint64(num(fs[6])), fs[7:]
	if f.pattern {
		r.pattern, fs = fs[0], fs[1:]
	}
	if f.queue {
		r.que, fs = num(fs[0]), fs[1:]
	}
	r.lat = num(fs[0])
	return r, err
}

// --- tests without privileges ---------------------------------------------------------------

func TestPackageOptions(t *testing.T) {
	pkg := tooltest.Builtin(t, "biosnoop")
	for _, tc := range []struct{ global, long, short string }{
		{"targ_queue", "queue", "Q"},
		{"targ_disk", "disk", "d"},
		{"targ_pattern", "pattern", "P"},
	} {
		o := pkg.OptionByFlag(tc.long)
		if o == nil {
			t.Errorf("no option --%s", tc.long)
			continue
		}
		if o.Name != tc.global || o.Short != tc.short {
			t.Errorf("--%s: %s -%s, want %s -%s", tc.long, o.Name, o.Short, tc.global, tc.short)
		}
	}
	if err := pkg.NewValues().Set("targ_disk", strings.Repeat("x", 40)); err == nil {
		t.Error("a -d name longer than DISK_NAME_LEN was accepted")
	}
}

// event is struct event of biosnoop.h.
type event struct {
	TsUS    uint64
	Comm    [16]byte
	Pid     uint32
	Disk    [32]byte
	Rwflag  uint32
	Sector  uint64
	Len     uint64
	Pattern uint32
	_       [4]byte
	QNS     uint64
	LatNS   uint64
}

func mkEvent(t *testing.T, r row, tsUS, qNS, latNS uint64) []byte {
	t.Helper()
	e := event{TsUS: tsUS, Pid: r.pid, Sector: r.sector, Len: r.bytes, QNS: qNS, LatNS: latNS,
		Pattern: uint32(strings.Index(patternNames, r.pattern))}
	copy(e.Comm[:15], r.comm)
	copy(e.Disk[:31], r.disk)
	if r.t == "W" {
		e.Rwflag = 1
	}
	b, err := binary.Append(nil, binary.NativeEndian, e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEventLayout(t *testing.T) {
	plans, err := tooltest.Plans(tooltest.Builtin(t, "biosnoop"), nil)
	if err != nil {
		t.Fatal(err)
	}
	p := plans["events"]
	if p == nil {
		t.Fatalf("no plan for map events: %v", plans)
	}
	if got, want := p.Size(), uint32(binary.Size(event{})); got != want {
		t.Fatalf("event size %d, want %d", got, want)
	}
	want := map[string]uint32{"ts_us": 0, "comm": 8, "pid": 24, "disk": 28, "rwflag": 60, "sector": 64, "len": 72, "pattern": 80, "qdelta_ns": 88, "delta_ns": 96}
	got := map[string]uint32{}
	for _, f := range p.Fields() {
		got[f.Name] = f.Offset
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fields (name: offset):\n got %v\nwant %v", got, want)
	}
}

func TestGoldenFormat(t *testing.T) {
	type ev struct {
		r                row
		tsUS, qNS, latNS uint64
	}
	// bcc's biosnoop_example.txt, plus a long comm and disk name and a 6-digit size
	events := []ev{
		{row{comm: "supervise", pid: 1950, disk: "xvda1", t: "W", sector: 13092560, bytes: 4096, pattern: "?"}, 10_000_004, 10_000, 740_000},
		{row{comm: "xfsaild/nvme1n1", pid: 1061, disk: "nvme1n1", t: "W", sector: 545728, bytes: 16384, pattern: "S"}, 15_333_002, 20_000, 650_000},
		{row{comm: "kworker/u72:1", pid: 4194304, disk: "nvme10n1p12", t: "R", sector: 1 << 40, bytes: 524288, pattern: "R"}, 25_333_002, 123_456_789, 9_876_543_210},
	}
	for _, f := range []flags{{}, {queue: true}, {pattern: true}, {queue: true, pattern: true}} {
		t.Run(f.name(), func(t *testing.T) {
			pkg := tooltest.Builtin(t, "biosnoop")
			values := pkg.NewValues()
			for name, on := range map[string]bool{"targ_queue": f.queue, "targ_pattern": f.pattern} {
				if err := values.Set(name, strconv.FormatBool(on)); err != nil {
					t.Fatal(err)
				}
			}
			plans, err := tooltest.Plans(pkg, values)
			if err != nil {
				t.Fatal(err)
			}
			p := plans["events"]
			if got, want := p.Header(), bccHeader(f); got != want {
				t.Errorf("header:\n got %q\nwant %q", got, want)
			}
			for _, e := range events {
				got, err := p.AppendText(nil, mkEvent(t, e.r, e.tsUS, e.qNS, e.latNS))
				if err != nil {
					t.Fatal(err)
				}
				r := e.r
				r.ts = float64(e.tsUS-events[0].tsUS) / 1e6
				r.que, r.lat = float64(e.qNS)/1e6, float64(e.latNS)/1e6
				if want := bccLine(f, r); string(got) != want {
					t.Errorf("row:\n got %q\nwant %q", got, want)
				}
			}
		})
	}
}

func TestJSONFields(t *testing.T) {
	plans, err := tooltest.Plans(tooltest.Builtin(t, "biosnoop"), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := row{comm: "dd", pid: 42, disk: "loop3", t: "W", sector: 8, bytes: 4096, pattern: "S"}
	js, err := plans["events"].AppendJSON(nil, mkEvent(t, r, 99, 1000, 2000))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(js, &got); err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	want := map[string]any{"ts_us": 99.0, "comm": "dd", "pid": 42.0, "disk": "loop3", "rwflag": 1.0, "sector": 8.0, "len": 4096.0, "pattern": 1.0, "qdelta_ns": 1000.0, "delta_ns": 2000.0}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("JSON:\n got %v\nwant %v", got, want)
	}
}

// --- privileged end-to-end tests ------------------------------------------------------------

// readDirect reads count blocks of bs bytes from the device at byte offset off with
// O_DIRECT, from this process.
func readDirect(t *testing.T, dev *testutils.LoopDevice, off int64, bs, count int) {
	t.Helper()
	fd, err := unix.Open(dev.Path, unix.O_RDONLY|unix.O_DIRECT|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	buf, err := unix.Mmap(-1, 0, bs, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE) // page-aligned
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(buf)
	for i := range count {
		if _, err := unix.Pread(fd, buf, off+int64(i*bs)); err != nil {
			t.Fatal(err)
		}
	}
}

// collect reads the lines of disk until n of them came.
func collect(t *testing.T, tl *tooltest.Tool, f flags, disk string, n int) []row {
	t.Helper()
	parse := tooltest.Exact(t, func(l string) (row, error) { return parseLine(f, l) }, func(r row) string { return bccLine(f, r) })
	seen := 0
	return tooltest.Collect(tl, 10*time.Second, parse, func(r row) bool { return r.disk == disk }, func(row) bool {
		seen++
		return seen == n
	})
}

// TestWritesAndReads: three 4 KiB direct writes by a dd named bsnoop-dd, then two 8 KiB
// direct reads by this process, on a loop device of the test's own: one line each, with
// the issuing process, the disk name from the kernel, the sectors and sizes.
func TestWritesAndReads(t *testing.T) {
	const comm = "bsnoop-dd"
	for _, f := range []flags{{}, {pattern: true, queue: true}} {
		t.Run(f.name(), func(t *testing.T) {
			dev := testutils.NewLoopDevice(t, 1<<20)
			tl := tooltest.Start(t, "biosnoop", f.args()...)
			tl.WaitHeader(bccHeader(f))
			ddPid := dev.WriteDirectAs(t, comm, 4096, 3)
			readDirect(t, dev, 64*1024, 8192, 2)
			rows := collect(t, tl, f, dev.Name, 5)
			pid, self := tooltest.Self(t)
			want := []row{
				{comm: comm, pid: uint32(ddPid), t: "W", sector: 0, bytes: 4096, pattern: "?"},
				{comm: comm, pid: uint32(ddPid), t: "W", sector: 8, bytes: 4096, pattern: "S"},
				{comm: comm, pid: uint32(ddPid), t: "W", sector: 16, bytes: 4096, pattern: "S"},
				{comm: self, pid: pid, t: "R", sector: 64 * 1024 / sectorBytes, bytes: 8192, pattern: "R"},
				{comm: self, pid: pid, t: "R", sector: 64*1024/sectorBytes + 16, bytes: 8192, pattern: "S"},
			}
			for i, r := range rows {
				w := want[i]
				w.ts, w.disk, w.que, w.lat = r.ts, dev.Name, r.que, r.lat
				if !f.pattern {
					w.pattern = ""
				}
				if i > 0 && r.ts < rows[i-1].ts {
					t.Errorf("TIME(s) goes back: %+v after %+v", r, rows[i-1])
				}
				if r != w {
					t.Errorf("line %d:\n got %+v\nwant %+v", i, r, w)
				}
			}
			tl.Stop()
		})
	}
}

// TestDiskFilter: -d shows the named disk's I/O and not another's.
func TestDiskFilter(t *testing.T) {
	f := flags{}
	shown, hidden := testutils.NewLoopDevice(t, 1<<20), testutils.NewLoopDevice(t, 1<<20)
	tl := tooltest.Start(t, "biosnoop", "-d", shown.Name)
	tl.WaitHeader(bccHeader(f))
	hidden.WriteDirect(t, 4096, 2)
	shown.WriteDirect(t, 4096, 1)
	collect(t, tl, f, shown.Name, 1)
	tl.Stop()
	for _, l := range tl.All()[1:] {
		if r, err := parseLine(f, l); err != nil || r.disk != shown.Name {
			t.Errorf("-d %s printed %q", shown.Name, l)
		}
	}
}

// TestQueued: with an I/O scheduler the request is inserted by dd and may be issued by a
// kworker; the line still names dd, and -Q's queued time is the insert-to-issue time.
func TestQueued(t *testing.T) {
	dev := testutils.NewLoopDevice(t, 1<<20)
	sched := "/sys/block/" + dev.Name + "/queue/scheduler"
	if err := os.WriteFile(sched, []byte("mq-deadline"), 0); err != nil {
		testutils.SkipUnless(t, false, fmt.Sprintf("no mq-deadline scheduler: %v", err))
	}
	tl := tooltest.Start(t, "biosnoop", "-Q", "--json", "-d", dev.Name)
	type rec struct {
		Comm    string
		Pid     uint32
		Disk    string
		Len     uint64
		QNS     uint64 `json:"qdelta_ns"`
		DeltaNS uint64 `json:"delta_ns"`
	}
	// --json prints no header: write until lines come.
	var got []rec
	var ddPid int
	for deadline := time.Now().Add(60 * time.Second); len(got) == 0 && time.Now().Before(deadline); {
		ddPid = dev.WriteDirectAs(t, "bsnoop-q", 4096, 2)
		for {
			l, ok := tl.Poll(2 * time.Second)
			if !ok {
				break
			}
			var r rec
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatalf("%q: %v", l, err)
			}
			if r.Pid == uint32(ddPid) {
				if got = append(got, r); len(got) == 2 {
					break
				}
			}
		}
	}
	if len(got) != 2 {
		t.Fatalf("lines of dd %d: %+v", ddPid, got)
	}
	for _, r := range got {
		if r.Comm != "bsnoop-q" || r.Disk != dev.Name || r.Len != 4096 || r.QNS == 0 || r.DeltaNS == 0 {
			t.Errorf("queued write: %+v, want comm bsnoop-q, disk %s, len 4096, queued and latency > 0", r, dev.Name)
		}
	}
	tl.Stop()
}
