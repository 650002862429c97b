package runqlat_test

import (
	"encoding/json"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"ecli/internal/testutils/tooltest"
)

func TestMain(m *testing.M) { tooltest.Main(m) }

// pingPong makes two OS threads of this process wake each other n times through blocking
// pipes (each read puts its thread to sleep; the other's write wakes it), and returns
// their thread ids: each gets at least n run-queue latencies.
func pingPong(t *testing.T, n int) [2]int {
	t.Helper()
	var ab, ba [2]int
	for _, p := range []*[2]int{&ab, &ba} {
		if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
			t.Fatal(err)
		}
		defer unix.Close(p[0])
		defer unix.Close(p[1])
	}
	tids := make(chan int, 2)
	done := make(chan error, 2)
	side := func(in, out int, first bool) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		tids <- unix.Gettid()
		b := []byte{1}
		for i := 0; i < n; i++ {
			if first {
				if _, err := unix.Write(out, b); err != nil {
					done <- err
					return
				}
			}
			if _, err := unix.Read(in, b); err != nil {
				done <- err
				return
			}
			if !first {
				if _, err := unix.Write(out, b); err != nil {
					done <- err
					return
				}
			}
		}
		done <- nil
	}
	go side(ba[0], ab[1], true)
	go side(ab[0], ba[1], false)
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	return [2]int{<-tids, <-tids}
}

const rounds = 200

func TestPerThread(t *testing.T) {
	pid := strconv.Itoa(os.Getpid())
	tl := tooltest.Start(t, "runqlat", "-L", "-p", pid)
	tl.WaitAttached(3)
	tids := pingPong(t, rounds)
	tl.Stop()
	out := tooltest.Banner(t, tl.All(), "Tracing run queue latency... Hit Ctrl-C to end.")
	if len(out) == 0 || out[0] != "" {
		t.Fatalf("output does not start with bcc's empty line: %q", out)
	}
	hists := tooltest.ParseHists(t, out)
	tooltest.CheckLines(t, out, hists)
	byTid := map[string]tooltest.Hist{}
	for _, h := range hists {
		if len(h.Labels) != 1 || h.Labels["tid"] == "" || h.Unit != "usecs" {
			t.Errorf("section %v unit %q, want one tid = N in usecs", h.Labels, h.Unit)
		}
		byTid[h.Labels["tid"]] = h
	}
	for _, tid := range tids {
		h, ok := byTid[strconv.Itoa(tid)]
		if !ok {
			t.Errorf("no histogram for thread %d in\n%s", tid, strings.Join(out, "\n"))
			continue
		}
		if h.Total() < rounds {
			t.Errorf("thread %d: %d latencies, want at least %d", tid, h.Total(), rounds)
		}
	}
}

func TestPerProcessMillisecondsTimestamp(t *testing.T) {
	pid := strconv.Itoa(os.Getpid())
	tl := tooltest.Start(t, "runqlat", "-P", "-m", "-T", "-p", pid)
	tl.WaitAttached(3)
	pingPong(t, rounds)
	tl.Stop()
	out := tooltest.Banner(t, tl.All(), "Tracing run queue latency... Hit Ctrl-C to end.")
	// bcc: print(), then print("%-8s\n" % strftime("%H:%M:%S"), end=""), then "\npid = N".
	if len(out) < 4 || out[0] != "" || len(out[1]) != 8 || out[2] != "" || out[3] != "pid = "+pid {
		t.Fatalf("round start %q, want \"\", HH:MM:SS, \"\", \"pid = %s\"", out[:min(4, len(out))], pid)
	}
	if _, err := time.Parse("15:04:05", out[1]); err != nil {
		t.Errorf("-T line %q: %v", out[1], err)
	}
	hists := tooltest.ParseHists(t, out)
	tooltest.CheckLines(t, out, hists)
	if len(hists) != 1 || hists[0].Unit != "msecs" || hists[0].Total() < 2*rounds {
		t.Fatalf("histograms %+v, want one in msecs with at least %d", hists, 2*rounds)
	}
	// ping-pong latencies are far below a millisecond
	if n := hists[0].Count(0); n*10 < hists[0].Total()*9 {
		t.Errorf("%d of %d latencies in 0 -> 1 msecs", n, hists[0].Total())
	}
}

func TestIntervalCount(t *testing.T) {
	t.Parallel()
	tl := tooltest.Start(t, "runqlat", "-T", "-p", strconv.Itoa(os.Getpid()), "--count", "2", "1")
	tl.WaitAttached(3)
	// It ends by itself after two rounds; each starts with an empty line and the time.
	var clocks int
	for l := range tl.Lines {
		if _, err := time.Parse("15:04:05", l); err == nil {
			clocks++
		}
	}
	if err := tl.Cmd.Wait(); err != nil {
		t.Fatalf("ecli: %v: %s", err, tl.Stderr)
	}
	if clocks != 2 {
		t.Errorf("%d rounds, want 2:\n%s", clocks, strings.Join(tl.All(), "\n"))
	}
}

func TestJSON(t *testing.T) {
	pid := os.Getpid()
	tl := tooltest.Start(t, "runqlat", "-j", "-P", "-p", strconv.Itoa(pid))
	tl.WaitAttached(3)
	pingPong(t, rounds)
	tl.Stop()
	var found bool
	for _, l := range tl.All() {
		var h struct {
			TS      string `json:"ts"`
			ValType string `json:"val_type"`
			Data    []struct {
				Start uint64 `json:"interval-start"`
				End   uint64 `json:"interval-end"`
				Count uint64 `json:"count"`
			} `json:"data"`
			Pid int `json:"pid"`
		}
		if err := json.Unmarshal([]byte(l), &h); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if _, err := time.Parse("2006-01-02 15:04:05", h.TS); err != nil || h.ValType != "usecs" || h.Pid != pid {
			t.Errorf("line %q: want ts, val_type usecs, pid %d", l, pid)
		}
		var n uint64
		for i, d := range h.Data {
			if d.End != 1<<(i+1)-1 {
				t.Errorf("bucket %d ends at %d", i, d.End)
			}
			n += d.Count
		}
		found = n >= 2*rounds
	}
	if !found {
		t.Errorf("no histogram with %d latencies in %q", 2*rounds, tl.All())
	}
}
