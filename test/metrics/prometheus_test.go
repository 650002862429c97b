// Package metrics_test scrapes `ecli run --metrics` with a real Prometheus server
// (Debian's prometheus, from .ci/setup.d/prometheus.sh) started on a free loopback port with
// a 1 s scrape interval, and asserts what Prometheus's HTTP API returns: a log2 histogram
// that is cleared every second keeps counting, tcpconnect -c counts the connects the test
// made, and the event and lost counters move.
//
// Needs root (the packages are loaded) and the prometheus binary; skips without them,
// fails when ECLI_TEST_PRIVILEGED=1.
package metrics_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"ecli/internal/testutils"
)

func TestMain(m *testing.M) { testutils.Main(m) }

const (
	// waitTimeout bounds every wait on Prometheus: a few scrape intervals, generously.
	waitTimeout = 30 * time.Second
	execs       = 5  // execs of /bin/true the test makes
	connects    = 3  // TCP connects to the test's listener
	lostBurst   = 64 // events the lost package emits per exec
)

// ecliProc is one `ecli run ... --metrics 127.0.0.1:0` process.
type ecliProc struct {
	cmd    *exec.Cmd
	addr   string // where it serves metrics
	mu     sync.Mutex
	stdout bytes.Buffer
	stderr *bytes.Buffer
	rounds chan string // the section headers ("key = ...", "COMM = ...") of histogram rounds
}

// startEcli runs ecli with args and waits until it serves metrics and is attached.
func startEcli(t *testing.T, bin string, args ...string) *ecliProc {
	t.Helper()
	p := &ecliProc{stderr: &bytes.Buffer{}, rounds: make(chan string, 256)}
	p.cmd = exec.Command(bin, append([]string{"run"}, args...)...)
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.cmd.Process.Kill(); p.cmd.Wait() })
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.mu.Lock()
			p.stdout.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			if f := strings.Fields(sc.Text()); len(f) == 3 && f[1] == "=" {
				select {
				case p.rounds <- sc.Text():
				default: // nobody waits for so many
				}
			}
		}
	}()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.stderr.WriteString(line + "\n")
			p.mu.Unlock()
			if a, ok := strings.CutPrefix(line, "ecli: serving metrics at http://"); ok {
				addr <- strings.TrimSuffix(a, "/metrics")
			}
		}
		close(addr)
	}()
	select {
	case a, ok := <-addr:
		if !ok {
			t.Fatalf("ecli %s exited: %s", strings.Join(args, " "), p.errors())
		}
		p.addr = a
	case <-time.After(waitTimeout):
		t.Fatalf("ecli %s: no metrics address; stderr: %s", strings.Join(args, " "), p.errors())
	}
	testutils.WaitFor(t, waitTimeout, "ecli "+args[0]+" /readyz", func() bool {
		resp, err := http.Get("http://" + p.addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return p
}

func (p *ecliProc) errors() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

func (p *ecliProc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stdout.String()
}

// stop ends ecli with SIGINT, as Ctrl-C, and checks it exits 0.
func (p *ecliProc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGINT)
	if err := p.cmd.Wait(); err != nil {
		t.Errorf("ecli %s: %v; stderr: %s", strings.Join(p.cmd.Args[2:], " "), err, p.errors())
	}
}

// freePort returns a loopback port nobody listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// prometheus is a Prometheus server the test started.
type prometheus struct {
	url string
	dir string
}

// jobs are the scrape jobs of the test, each with one target given later (setTargets).
var jobs = []string{"execlat", "runqlat", "tcpconnect", "lost"}

// startPrometheus runs prometheus scraping every second the targets setTargets gives it
// (file-based discovery: Prometheus is started first, so that it is not one of the execs
// the packages count).
func startPrometheus(t *testing.T, bin string) *prometheus {
	t.Helper()
	dir := t.TempDir()
	var cfg strings.Builder
	cfg.WriteString("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nscrape_configs:\n")
	for _, job := range jobs {
		fmt.Fprintf(&cfg, "  - job_name: %s\n    file_sd_configs:\n      - files: [%q]\n        refresh_interval: 1s\n", job, filepath.Join(dir, job+".json"))
	}
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	var log bytes.Buffer
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		<-exited
		if t.Failed() {
			t.Logf("prometheus log:\n%s", log.String())
		}
	})
	p := &prometheus{url: "http://" + addr, dir: dir}
	testutils.WaitFor(t, waitTimeout, "prometheus /-/ready", func() bool {
		select {
		case <-exited:
			t.Fatalf("prometheus exited: %s", log.String())
		default:
		}
		resp, err := http.Get(p.url + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return p
}

// setTargets gives each job its target (host:port), atomically.
func (p *prometheus) setTargets(t *testing.T, targets map[string]string) {
	t.Helper()
	for job, target := range targets {
		b, err := json.Marshal([]map[string][]string{{"targets": {target}}})
		if err != nil {
			t.Fatal(err)
		}
		tmp := filepath.Join(p.dir, job+".tmp")
		if err := os.WriteFile(tmp, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(p.dir, job+".json")); err != nil {
			t.Fatal(err)
		}
	}
}

// sample is one series of an instant query's result.
type sample struct {
	Metric map[string]string
	Value  float64
}

// query runs an instant PromQL query.
func (p *prometheus) query(t *testing.T, q string) []sample {
	t.Helper()
	resp, err := http.Get(p.url + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var r struct {
		Status string
		Error  string
		Data   struct {
			ResultType string
			Result     []struct {
				Metric map[string]string
				Value  [2]any
			}
		}
	}
	if err := json.Unmarshal(body, &r); err != nil || r.Status != "success" || r.Data.ResultType != "vector" {
		t.Fatalf("query %s: %v %s %s", q, err, r.Error, body)
	}
	var out []sample
	for _, s := range r.Data.Result {
		str, _ := s.Value[1].(string)
		v, err := strconv.ParseFloat(str, 64)
		if err != nil {
			t.Fatalf("query %s: value %v", q, s.Value)
		}
		out = append(out, sample{s.Metric, v})
	}
	return out
}

// waitValue waits until the query returns one series with value want.
func (p *prometheus) waitValue(t *testing.T, q string, want float64) {
	t.Helper()
	var last []sample
	if !testutils.Poll(waitTimeout, func() bool {
		last = p.query(t, q)
		return len(last) == 1 && last[0].Value == want
	}) {
		t.Fatalf("%s: %v, want one series = %v", q, last, want)
	}
}

func runTrue(t *testing.T, n int) {
	t.Helper()
	for range n {
		if err := exec.Command("/bin/true").Run(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPrometheusScrapesEcli(t *testing.T) {
	testutils.RequirePrivileged(t)
	promBin, err := exec.LookPath("prometheus")
	testutils.SkipUnless(t, err == nil, "needs Debian's prometheus (.ci/setup.d/prometheus.sh installs it)")
	bin := testutils.Ecli(t)
	pid := strconv.Itoa(os.Getpid())

	// The test process's children are what the exec packages count: whatever the test
	// starts besides its triggers is started before they attach.
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close()
	go func() {
		for {
			c, err := listener.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	port := listener.Addr().(*net.TCPAddr).Port

	prom := startPrometheus(t, promBin)
	hist := startEcli(t, bin, "../../test/metrics/testdata/execlat/execlat.json", "--ppid", pid, "--metrics", "127.0.0.1:0")
	runqlat := startEcli(t, bin, "runqlat", "--metrics", "127.0.0.1:0", "--quiet")
	tcp := startEcli(t, bin, "tcpconnect", "-c", "--metrics", "127.0.0.1:0", "--quiet")
	lost := startEcli(t, bin, "../../runner/testdata/lost/lost.json", "--targ_ppid", pid, "--metrics", "127.0.0.1:0", "-q")
	prom.setTargets(t, map[string]string{"execlat": hist.addr, "runqlat": runqlat.addr, "tcpconnect": tcp.addr, "lost": lost.addr})

	// Every target is up and exports the process's own metrics too.
	for _, job := range jobs {
		prom.waitValue(t, fmt.Sprintf(`up{job=%q}`, job), 1)
		prom.waitValue(t, fmt.Sprintf(`count(process_cpu_seconds_total{job=%q}) + count(go_goroutines{job=%q})`, job, job), 2)
	}

	// The histogram: some execs; a round prints and clears the map (clear_map); Prometheus
	// scrapes after that and still sees them, and more execs add to them: counts go on
	// from where they were, never back.
	const first = 3
	runTrue(t, first)
	for round := ""; !strings.HasSuffix(round, " = true"); {
		select {
		case round = <-hist.rounds:
		case <-time.After(waitTimeout):
			t.Fatalf("no histogram round for true printed; output:\n%s", hist.output())
		}
	}
	cleared := time.Now()
	count := `ecli_execlat_hists_usecs_count{job="execlat",comm="true"}`
	prom.waitValue(t, fmt.Sprintf("%s and timestamp(%s) > %d", count, count, cleared.Unix()+1), first)
	runTrue(t, execs-first)
	prom.waitValue(t, count, execs)
	prom.waitValue(t, `resets(`+count+`[1m])`, 0)
	prom.waitValue(t, `ecli_execlat_hists_usecs_bucket{job="execlat",comm="true",le="+Inf"}`, execs)
	checkBuckets(t, prom.query(t, `ecli_execlat_hists_usecs_bucket{job="execlat",comm="true"}`), 26, execs)
	// _sum is the package's hist=total field: microseconds, at least one per exec.
	if s := prom.query(t, `ecli_execlat_hists_usecs_sum{job="execlat",comm="true"}`); len(s) != 1 || s[0].Value < execs {
		t.Errorf("histogram sum: %v", s)
	}

	// runqlat (the built-in, a histogram without key labels, printed at exit): the run
	// queue latencies of the whole machine, in its 27 log2 slots.
	var n []sample
	testutils.WaitFor(t, waitTimeout, "runqlat's histogram", func() bool {
		n = prom.query(t, `ecli_runqlat_hists_usecs_count{job="runqlat"}`)
		return len(n) == 1 && n[0].Value > 0
	})
	checkBuckets(t, prom.query(t, `ecli_runqlat_hists_usecs_bucket{job="runqlat"}`), 27, -1)

	// tcpconnect -c: exactly the connects made to the listener's port.
	for range connects {
		c, err := net.Dial("tcp", listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	prom.waitValue(t, fmt.Sprintf(`ecli_tcpconnect_counts_connects_total{job="tcpconnect",raddr="127.0.0.1",dport="%d"}`, port), connects)

	// The lost package: every event of every burst is either read or counted lost.
	events := `ecli_events_total{job="lost",package="lost",map="events"}`
	dropped := `ecli_events_lost_total{job="lost",package="lost"}`
	prom.waitValue(t, events+" + ignoring(map) "+dropped, execs*lostBurst)
	if s := prom.query(t, dropped); len(s) != 1 || s[0].Value == 0 {
		t.Errorf("%s: %v, want some lost events (a 4 KiB ring buffer, 64 events of 512 bytes per exec)", dropped, s)
	}
	prom.waitValue(t, `ecli_decode_errors_total{job="lost",map="events"}`, 0)

	for _, p := range []*ecliProc{hist, runqlat, tcp, lost} {
		p.stop(t)
	}
	// --quiet printed nothing; without it the histograms were printed.
	if out := runqlat.output() + tcp.output() + lost.output(); out != "" {
		t.Errorf("--quiet printed %q", out)
	}
	if !strings.Contains(hist.output(), "usecs") {
		t.Errorf("execlat printed no histogram:\n%s", hist.output())
	}
}

// checkBuckets checks a histogram's buckets as Prometheus stores them: each of the slots
// has a numeric le (2^(i+1)-1 for log2 slots) plus +Inf, and the cumulative counts never
// decrease up to the total (any, when total is negative).
func checkBuckets(t *testing.T, buckets []sample, slots int, total float64) {
	t.Helper()
	type bucket struct{ le, n float64 }
	var bs []bucket
	for _, s := range buckets {
		le, err := strconv.ParseFloat(s.Metric["le"], 64)
		if err != nil {
			t.Fatalf("bucket with le %q", s.Metric["le"])
		}
		bs = append(bs, bucket{le, s.Value})
	}
	slices.SortFunc(bs, func(a, b bucket) int {
		switch {
		case a.le < b.le:
			return -1
		case a.le > b.le:
			return 1
		}
		return 0
	})
	if len(bs) != slots+1 {
		t.Fatalf("%d buckets, want %d and +Inf: %v", len(bs), slots, bs)
	}
	for i, b := range bs[:slots] {
		if want := float64(uint64(1)<<(i+1) - 1); b.le != want {
			t.Errorf("bucket %d: le %v, want %v", i, b.le, want)
		}
		if i > 0 && b.n < bs[i-1].n {
			t.Errorf("bucket le=%v: %v, less than le=%v's %v", b.le, b.n, bs[i-1].le, bs[i-1].n)
		}
	}
	if last := bs[slots]; !math.IsInf(last.le, 1) || last.n < bs[slots-1].n || total >= 0 && last.n != total {
		t.Errorf("bucket +Inf: %v, want le +Inf and %v", last, total)
	}
}
