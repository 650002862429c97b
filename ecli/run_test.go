package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"ecli/internal/testutils"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// ecliBinary builds bin/ecli once per test run into a world-readable temp dir.
func ecliBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ecli-bin-")
		if err != nil {
			buildErr = err
			return
		}
		os.Chmod(dir, 0o755)
		builtBin = filepath.Join(dir, "ecli")
		out, err := exec.Command("go", "build", "-o", builtBin, ".").CombinedOutput()
		if err != nil {
			buildErr = err
			builtBin = string(out)
		}
	})
	if buildErr != nil {
		t.Fatalf("building ecli: %v\n%s", buildErr, builtBin)
	}
	return builtBin
}

const typesPackage = "../runner/testdata/types/types.json"

func TestRunStdinJSONAndSigint(t *testing.T) {
	testutils.RequirePrivileged(t)
	pkg, err := os.ReadFile(typesPackage)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(ecliBinary(t), "run", "-", "-j")
	cmd.Stdin = bytes.NewReader(pkg)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string, 1024)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	// Exec /bin/true until its event shows up (the tool may still be attaching).
	deadline := time.After(15 * time.Second)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	pids := map[int]bool{}
	found := false
	for !found {
		select {
		case <-deadline:
			t.Fatalf("no event for our /bin/true; stderr: %s", stderr.String())
		case <-tick.C:
			c := exec.Command("/bin/true")
			if err := c.Run(); err != nil {
				t.Fatal(err)
			}
			pids[c.Process.Pid] = true
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("ecli exited early; stderr: %s", stderr.String())
			}
			var ev struct {
				Pid  int    `json:"pid"`
				Comm string `json:"comm"`
				Big  string `json:"big"`
			}
			if json.Unmarshal([]byte(l), &ev) != nil {
				t.Fatalf("not a JSON line: %q", l)
			}
			if pids[ev.Pid] {
				found = true
				if ev.Comm != "true" || ev.Big != "-1237940039285380274899124224" {
					t.Errorf("event %s", l)
				}
			}
		}
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		for range lines {
		}
		done <- cmd.Wait()
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ecli after SIGINT: %v (want exit 0); stderr: %s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ecli did not exit within 10s of SIGINT")
	}
}

func runECLI(t *testing.T, cred *syscall.Credential, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(ecliBinary(t), args...)
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

func TestRunNotRoot(t *testing.T) {
	testutils.RequirePrivileged(t) // to switch to an unprivileged user
	dir, err := os.MkdirTemp("", "ecli-pkg-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	data, err := os.ReadFile(typesPackage)
	if err != nil {
		t.Fatal(err)
	}
	pkg := filepath.Join(dir, "types.json")
	if err := os.WriteFile(pkg, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runECLI(t, &syscall.Credential{Uid: 65534, Gid: 65534}, "run", pkg)
	if code != 1 || !strings.Contains(stderr, "needs root or CAP_BPF+CAP_PERFMON") {
		t.Errorf("as nobody: exit %d, stderr %q", code, stderr)
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"bpf_object":"eJwDAAAAAAE=","bpf_object_size":3,"meta":{}}`), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"run"}, 2, "missing PROG"},
		{[]string{"run", bad}, 2, "bad.json: bad package: bpf_object_size: is 3 but the object inflates to 0 bytes"},
		{[]string{"run", "./nope.json"}, 1, "./nope.json: no such file, built-in tool or OCI reference"},
		{[]string{"run", typesPackage, "--no-such-flag"}, 2, "unknown flag: --no-such-flag"},
		{[]string{"run", typesPackage, "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"run", typesPackage, "--targ_pid", "x"}, 2, `--targ_pid: "x" is not an integer`},
		{[]string{"run", dir}, 1, "is a directory, not a package file"},
		{[]string{"run", "tcpconnlat", "-1"}, 2, "argument duration_ms: -1 must not be negative"},
		{[]string{"run", "tcpconnlat", "abc"}, 2, `argument duration_ms: "abc" is not a number`},
		{[]string{"run", "tcpconnlat", "--min-ms", "2", "5"}, 2, "duration_ms given both as --min-ms and as an argument"},
		{[]string{"run", "-t", "tcpconnlat"}, 2, "the tool's own flags go after PROG"},
		{[]string{"run", "--ifindex", "-3", "tcpconnlat"}, 2, "--ifindex -3: interface indexes are positive"},
		{[]string{"run", "--ifindex", "9999", "tcpconnlat"}, 2, "--ifindex 9999: no such network interface"},
		{[]string{"run", "--btf", "/etc/hostname", "tcpconnlat"}, 1, "kernel BTF file /etc/hostname"},
	} {
		_, stderr, code := runECLI(t, nil, tc.args...)
		first, _, _ := strings.Cut(stderr, "\n")
		if code != tc.code || !strings.HasPrefix(first, "ecli: ") || !strings.Contains(first, tc.want) {
			t.Errorf("ecli %v: exit %d, stderr %q; want exit %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
}

func TestRunToolHelp(t *testing.T) {
	out, stderr, code := runECLI(t, nil, "run", typesPackage, "--help")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"Tool flags:", "--opt_switch", "--disable-opt_on", "--opt_off", "--targ_pid", "ecli flags:", "--json"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q:\n%s", want, out)
		}
	}
}
