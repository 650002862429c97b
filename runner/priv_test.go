package runner

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"ecli/internal/testutils"
)

// session loads, attaches and runs a package, collecting its output lines.
type session struct {
	t      *testing.T
	inst   *Instance
	cancel context.CancelFunc
	done   chan error
	mu     sync.Mutex
	lines  []string
	diag   []string
	progs  []ebpf.ProgramID
	maps   []ebpf.MapID
}

// start loads p with the values v (nil: defaults), attaches it and runs it.
func start(t *testing.T, p *Package, v *Values, format Format, ao AttachOptions) *session {
	t.Helper()
	testutils.RequirePrivileged(t)
	s := &session{t: t, done: make(chan error, 1)}
	inst, err := Load(p, LoadOptions{Values: v})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	s.inst = inst
	s.progs, s.maps = inst.ObjectIDs()
	if err := inst.Attach(ao); err != nil {
		inst.Close()
		t.Fatalf("Attach: %v", err)
	}
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	ready := make(chan struct{})
	go func() {
		err := inst.Run(ctx, RunOptions{Out: pw, Format: format, Ready: func() { close(ready) },
			Diag: func(m string) { s.mu.Lock(); s.diag = append(s.diag, m); s.mu.Unlock() }})
		pw.Close()
		s.done <- err
	}()
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			s.mu.Lock()
			s.lines = append(s.lines, sc.Text())
			s.mu.Unlock()
		}
	}()
	<-ready
	t.Cleanup(s.stop)
	return s
}

// stop cancels Run, closes the instance and checks nothing of ours is left in the kernel.
func (s *session) stop() {
	if s.inst == nil {
		return
	}
	s.cancel()
	if err := <-s.done; err != nil {
		s.t.Errorf("Run: %v", err)
	}
	if err := s.inst.Close(); err != nil {
		s.t.Errorf("Close: %v", err)
	}
	s.inst = nil
	testutils.CheckGone(s.t, s.progs, s.maps)
}

// waitFor returns the first line matching ok, failing after timeout.
func (s *session) waitFor(timeout time.Duration, ok func(string) bool) string {
	s.t.Helper()
	var found string
	if testutils.Poll(timeout, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, l := range s.lines {
			if ok(l) {
				found = l
				return true
			}
		}
		return false
	}) {
		return found
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.lines)
	s.t.Fatalf("no matching line within %v; %d lines, last: %q; diagnostics: %q", timeout, n, tail(s.lines, 3), s.diag)
	return ""
}

func tail(l []string, n int) []string {
	if len(l) > n {
		return l[len(l)-n:]
	}
	return l
}

// execTrue runs /bin/true and returns its pid.
func execTrue(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("/bin/true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func jsonWithPid(pid int) func(string) bool {
	return func(l string) bool {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) != nil {
			return false
		}
		for _, k := range []string{"pid", "tgid"} {
			if v, ok := m[k].(float64); ok && int(v) == pid {
				return true
			}
		}
		return false
	}
}

func TestRunLegacyExecTracer(t *testing.T) {
	testutils.RequirePrivileged(t)
	p, err := Parse(readVector(t, "internal-docs-spec/package.json"))
	if err != nil {
		t.Fatal(err)
	}
	s := start(t, p, nil, JSON, AttachOptions{})
	pid := execTrue(t)
	line := s.waitFor(5*time.Second, jsonWithPid(pid))
	var ev map[string]any
	json.Unmarshal([]byte(line), &ev)
	if ev["comm"] != "true" {
		t.Errorf("comm = %v, want true: %s", ev["comm"], line)
	}
	if fn, _ := ev["filename"].(string); !strings.HasSuffix(fn, "/true") && ev["exit_event"] != true {
		t.Errorf("filename = %v: %s", ev["filename"], line)
	}
}

func TestRunMultipleExport(t *testing.T) {
	testutils.RequirePrivileged(t)
	for _, meta := range []string{"multiple.skel.json", "multiple-custom-struct.json"} {
		t.Run(meta, func(t *testing.T) {
			p, err := ParseSplit(readVector(t, "multiple_export_ringbuf/"+meta), readVector(t, "multiple_export_ringbuf/multiple.bpf.o"))
			if err != nil {
				t.Fatal(err)
			}
			s := start(t, p, nil, JSON, AttachOptions{})
			pid := execTrue(t)
			// The exec ring buffer: its event carries the file name.
			line := s.waitFor(5*time.Second, func(l string) bool { return jsonWithPid(pid)(l) && strings.Contains(l, "/true") })
			if meta == "multiple-custom-struct.json" {
				// custom_members order follows the offsets, names are free text.
				if !strings.HasPrefix(line, `{"comm?":"true","ppid":`) || !strings.Contains(line, `"fname":"`) {
					t.Errorf("custom members line = %s", line)
				}
			}
			// The exit ring buffer: a second export type.
			s.waitFor(5*time.Second, func(l string) bool { return jsonWithPid(pid)(l) && strings.Contains(l, "exit_code") })
		})
	}
}

// TestRunTypesEndToEnd: the kernel fills every C type the decoder handles with known
// values; text and JSON decode them.
func TestRunTypesEndToEnd(t *testing.T) {
	testutils.RequirePrivileged(t)
	p, err := Parse(readTypesPackage(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("json", func(t *testing.T) {
		s := start(t, p, nil, JSON, AttachOptions{})
		pid := execTrue(t)
		line := s.waitFor(5*time.Second, jsonWithPid(pid))
		want := fmt.Sprintf(`{"pid":%d,"comm":"true","addr":{"v4":16777343,"v6":[127,0,0,1,0,0,0,0,0,0,0,0,0,0,0,0]},`+
			`"flag_a":5,"flag_b":4097,"sflag":-3,"tail":1234,"big":"-1237940039285380274899124224",`+
			`"ubig":"170141183460469231731687303715884105738",`+
			`"pts":[[{"x":0,"y":0},{"x":1,"y":-1},{"x":2,"y":-2}],[{"x":10,"y":-10},{"x":11,"y":-11},{"x":12,"y":-12}]],`+
			`"color":"BLUE(16)","magic":3735928559}`, pid)
		if line != want {
			t.Errorf("got  %s\nwant %s", line, want)
		}
	})
	t.Run("text", func(t *testing.T) {
		s := start(t, p, nil, Text, AttachOptions{})
		pid := execTrue(t)
		header := s.waitFor(time.Second, func(l string) bool { return strings.HasPrefix(l, "TIME ") })
		if want := "TIME     PID    COMM   ADDR   FLAG_A FLAG_B SFLAG  TAIL   BIG    UBIG   PTS    COLOR  MAGIC  "; header != want {
			t.Errorf("header %q, want %q", header, want)
		}
		line := s.waitFor(5*time.Second, func(l string) bool {
			f := strings.Fields(l)
			return len(f) > 2 && f[1] == fmt.Sprint(pid)
		})
		f := strings.Fields(line)
		want := []string{fmt.Sprint(pid), "true", `{"v4":16777343,"v6":[127,0,0,1,0,0,0,0,0,0,0,0,0,0,0,0]}`, "5", "4097", "-3", "1234",
			"-1237940039285380274899124224", "170141183460469231731687303715884105738",
			`[[{"x":0,"y":0},{"x":1,"y":-1},{"x":2,"y":-2}],[{"x":10,"y":-10},{"x":11,"y":-11},{"x":12,"y":-12}]]`, "BLUE(16)", "3735928559"}
		if strings.Join(f[1:], " ") != strings.Join(want, " ") {
			t.Errorf("line %q\nwant fields %q", line, want)
		}
		if _, err := time.Parse("15:04:05", f[0]); err != nil {
			t.Errorf("TIME column %q: %v", f[0], err)
		}
	})
}

func TestRunPerfEventStackTrace(t *testing.T) {
	testutils.RequirePrivileged(t)
	p, err := ParseSplit(readVector(t, "profile_test/profile.skel.json"), readVector(t, "profile_test/profile.bpf.o"))
	if err != nil {
		t.Fatal(err)
	}
	s := start(t, p, nil, Text, AttachOptions{PerfFreq: 499})
	stop := make(chan struct{})
	go func() { // keep a CPU busy so the sampler fires in our process too
		for {
			select {
			case <-stop:
				return
			default:
			}
		}
	}()
	defer close(stop)
	line := s.waitFor(10*time.Second, func(l string) bool { return strings.HasPrefix(l, "COMM: ") })
	if !strings.Contains(line, "(pid=") || !strings.Contains(line, "@ CPU ") {
		t.Errorf("stack header %q", line)
	}
	s.waitFor(5*time.Second, func(l string) bool { return strings.HasPrefix(l, "  0 [<") })
	// Frames are symbolized: kernel frames from /proc/kallsyms, ours from this test binary
	// (the busy loop above is this function's closure).
	kernel := regexp.MustCompile(`^  [0-9]+ \[<ffff[0-9a-f]{12}>\] [A-Za-z_][A-Za-z0-9_.]*\+0x[0-9a-f]+( \[[A-Za-z0-9_]+\])?$`)
	s.waitFor(10*time.Second, kernel.MatchString)
	user := regexp.MustCompile(`^  [0-9]+ \[<0000[0-9a-f]{12}>\] ecli/runner\.TestRunPerfEventStackTrace\.func1\+0x[0-9a-f]+ .*priv_test\.go:[0-9]+$`)
	s.waitFor(10*time.Second, user.MatchString)
}

func TestRunXDPOnLoopback(t *testing.T) {
	testutils.RequirePrivileged(t)
	p, err := Parse(readVector(t, "simple_prog_5/package.json"))
	if err != nil {
		t.Fatal(err)
	}
	s := start(t, p, nil, Text, AttachOptions{})
	// The program is attached to lo (ifindex 1 from the package) as an XDP link.
	found := false
	it := new(link.Iterator)
	for it.Next() {
		l := it.Take()
		info, err := l.Info()
		l.Close()
		if err == nil && info.Type == link.XDPType {
			if x := info.XDP(); x != nil && x.Ifindex == 1 {
				found = true
			}
		}
	}
	it.Close()
	if !found {
		t.Fatal("no XDP link on ifindex 1")
	}
	// Traffic on lo still flows through the XDP_PASS program.
	ln, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.DialUDP("udp4", nil, ln.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("ping"))
	ln.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 16)
	if n, _, err := ln.ReadFromUDP(buf); err != nil || string(buf[:n]) != "ping" {
		t.Errorf("udp over lo with xdp attached: %q %v", buf[:n], err)
	}
	s.stop()
}

func TestLoadNoProgs(t *testing.T) {
	testutils.RequirePrivileged(t)
	p, err := Parse(readVector(t, "int128_test/package.json"))
	if err != nil {
		t.Fatal(err)
	}
	inst, err := Load(p, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	progs, maps := inst.ObjectIDs()
	if len(maps) == 0 {
		t.Fatal("no maps loaded")
	}
	if err := inst.Attach(AttachOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := inst.Close(); err != nil {
		t.Fatal(err)
	}
	testutils.CheckGone(t, progs, maps)
}

func TestLoadErrors(t *testing.T) {
	testutils.RequirePrivileged(t)
	p, err := Parse(readTypesPackage(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("bad kernel BTF path", func(t *testing.T) {
		_, err := Load(p, LoadOptions{KernelBTF: "/nonexistent/vmlinux"})
		if err == nil || errors.Is(err, ErrNoKernelBTF) || !strings.Contains(err.Error(), "kernel BTF file /nonexistent/vmlinux") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("kernel BTF from a file", func(t *testing.T) {
		inst, err := Load(p, LoadOptions{KernelBTF: DefaultKernelBTF})
		if err != nil {
			t.Fatal(err)
		}
		inst.Close()
	})
	t.Run("unsupported section", func(t *testing.T) {
		q := *p
		q.Meta.Progs = append([]ProgMeta(nil), p.Meta.Progs...)
		inst, err := Load(&q, LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer inst.Close()
		inst.spec.Programs["handle_exec"].SectionName = "iter/task"
		err = inst.Attach(AttachOptions{})
		if !errors.Is(err, ErrUnsupportedAttach) || !strings.Contains(err.Error(), "handle_exec") || !strings.Contains(err.Error(), "iter/task") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestLoadVerifierError(t *testing.T) {
	testutils.RequirePrivileged(t)
	data, err := os.ReadFile("testdata/badprog/badprog.json")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	_, short := Load(p, LoadOptions{})
	_, full := Load(p, LoadOptions{Verbose: true})
	for _, err := range []error{short, full} {
		if !errors.Is(err, ErrVerifier) || !strings.Contains(err.Error(), "program unchecked (section tp/sched/sched_process_exec)") {
			t.Errorf("err = %v, want ErrVerifier naming program and section", err)
		}
	}
	if short == nil || full == nil {
		t.FailNow()
	}
	ns, nf := strings.Count(short.Error(), "\n"), strings.Count(full.Error(), "\n")
	if ns > 5 || nf <= ns {
		t.Errorf("short summary has %d lines, verbose log %d: want a short summary and a longer log", ns, nf)
	}
	if !strings.Contains(full.Error(), "invalid mem access") {
		t.Errorf("verbose log lacks the verifier's reason:\n%s", full)
	}
}

// TestLostEventsReported: events the program could not reserve are counted by a global
// tagged ecli:lost, and the runner reports them; every event is either printed or counted.
func TestLostEventsReported(t *testing.T) {
	testutils.RequirePrivileged(t)
	data, err := os.ReadFile("testdata/lost/lost.json")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	v := p.NewValues()
	if err := v.Set("targ_ppid", fmt.Sprint(os.Getpid())); err != nil {
		t.Fatal(err)
	}
	if o := p.Option("dropped"); o != nil {
		t.Errorf("the lost counter became an option: %+v", o)
	}
	s := start(t, p, v, JSON, AttachOptions{})
	execTrue(t)
	// The burst is over when exec returns; wait until every event is printed or reported lost
	// (the runner polls the counter every second), then stop, which reports the rest.
	count := func() (printed, lost int) {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, d := range s.diag {
			var n int
			if _, err := fmt.Sscanf(d, "lost %d events", &n); err == nil && strings.Contains(d, "counted them in dropped") {
				lost += n
			}
		}
		for _, l := range s.lines {
			if strings.Contains(l, `"seq":`) {
				printed++
			}
		}
		return printed, lost
	}
	testutils.Poll(10*time.Second, func() bool { p, l := count(); return p+l >= 64 })
	s.stop()
	printed, lost := count()
	if lost == 0 || printed+lost != 64 {
		t.Errorf("printed %d + lost %d events, want 64 with some lost; diagnostics %q", printed, lost, s.diag)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

// TestRunWriteError: when the output cannot be written, Run stops and says so.
func TestRunWriteError(t *testing.T) {
	testutils.RequirePrivileged(t)
	p, err := Parse(readTypesPackage(t))
	if err != nil {
		t.Fatal(err)
	}
	inst, err := Load(p, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close()
	if err := inst.Attach(AttachOptions{}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- inst.Run(context.Background(), RunOptions{Out: failingWriter{}, Format: Text}) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "writing output: no space left on device") {
			t.Errorf("Run = %v, want a write error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run kept going although nothing could be written")
	}
}
