package main

import (
	"bufio"
	"bytes"
	"ecli/packages"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"ecli/internal/testutils"
	"ecli/internal/testutils/tooltest"
)

const typesPackage = "../runner/testdata/types/types.json"

func TestRunStdinJSONAndSigint(t *testing.T) {
	testutils.RequirePrivileged(t)
	pkg, err := os.ReadFile(typesPackage)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(tooltest.Ecli(t), "run", "-", "-j")
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

// runAs runs the ecli binary bin as another user.
func runAs(t *testing.T, cred *syscall.Credential, bin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
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
	// The built binary sits in a directory only root may enter: give nobody a copy.
	bin, err := os.ReadFile(tooltest.Ecli(t))
	if err != nil {
		t.Fatal(err)
	}
	ecli := filepath.Join(dir, "ecli")
	if err := os.WriteFile(ecli, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runAs(t, &syscall.Credential{Uid: 65534, Gid: 65534}, ecli, "run", pkg)
	if code != 1 || !strings.Contains(stderr, "needs root or CAP_BPF+CAP_PERFMON") {
		t.Errorf("as nobody: exit %d, stderr %q", code, stderr)
	}
}

func TestRunErrors(t *testing.T) {
	e := newCLIEnv(t)
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
		e.failsWith(tc.code, tc.want, tc.args...)
	}
}

// TestResolveRunInspect: run and inspect find (or refuse) a package the same way.
func TestResolveRunInspect(t *testing.T) {
	e := newCLIEnv(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"bpf_object":"eJwDAAAAAAE=","bpf_object_size":3,"meta":{}}`), 0o644)
	badData, _ := os.ReadFile(bad)
	skel := filepath.Join(dir, "lonely.skel.json")
	os.WriteFile(skel, []byte(`{}`), 0o644)
	for _, tc := range []struct {
		name  string
		stdin string
		src   string
		extra []string
		want  string
		code  int
	}{
		{"directory", "", dir, nil, dir + " is a directory, not a package file", 1},
		{"missing file", "", "./nope.json", nil, "./nope.json: no such file, built-in tool or OCI reference (see ecli list)", 1},
		{"bare name", "", "nope", nil, "nope: no such file, built-in tool or OCI reference", 1},
		{"bad file", "", bad, nil, bad + ": bad package: bpf_object_size", 2},
		{"bad stdin", string(badData), "-", nil, "stdin: bad package: bpf_object_size", 2},
		{"skel without object", "", skel, nil, skel + " is metadata only; reading its object: ", 1},
		{"missing --object", "", skel, []string{"--object", filepath.Join(dir, "none.bpf.o")}, "none.bpf.o: no such file or directory (give --object FILE)", 1},
		{"not a registry", "", "nohost/tool:v1", nil, `"nohost" is not a registry host`, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			for _, cmd := range []string{"run", "inspect"} {
				args := append(append([]string{cmd}, tc.extra...), tc.src)
				e.failsWithInput(tc.code, tc.want, tc.stdin, args...)
			}
		})
	}
}

func TestInspectSources(t *testing.T) {
	e := newCLIEnv(t)
	types, err := os.ReadFile(typesPackage)
	if err != nil {
		t.Fatal(err)
	}
	fromFile, _ := e.ok("", "inspect", typesPackage)
	fromStdin, _ := e.ok(string(types), "inspect", "-")
	if want := strings.Replace(fromFile, "Source:           "+typesPackage, "Source:           stdin", 1); fromStdin != want {
		t.Errorf("inspect - and inspect FILE differ beyond the source:\n%s\n---\n%s", fromStdin, fromFile)
	}
	for _, re := range []string{
		`(?m)^Package: +types$`,
		`(?m)^Package digest: +sha256:[0-9a-f]{64} \(\d+ bytes\)$`,
		`(?m)^  --targ_pid +`,
		`(?m)^Exported fields:\n  map `,
	} {
		if !regexp.MustCompile(re).MatchString(fromFile) {
			t.Errorf("inspect output does not match %q:\n%s", re, fromFile)
		}
	}
	// A bare skel.json finds its object beside it, as for run.
	skel, _ := e.ok("", "inspect", "../runner/testdata/eunomia/simple_prog/simple_prog.skel.json")
	if !regexp.MustCompile(`(?m)^BPF object: +[1-9]\d* bytes$`).MatchString(skel) {
		t.Errorf("inspect of a bare skel.json:\n%s", skel)
	}
	builtin, _ := e.ok("", "inspect", "tcpconnlat")
	if !strings.Contains(builtin, "Source:           built-in tcpconnlat") {
		t.Errorf("inspect of a built-in:\n%s", builtin)
	}
}

func TestRunToolHelp(t *testing.T) {
	e := newCLIEnv(t)
	out, _ := e.ok("", "run", typesPackage, "--help")
	for _, want := range []string{"Tool flags:", "--opt_switch", "--disable-opt_on", "--opt_off", "--targ_pid", "ecli flags:", "--json"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q:\n%s", want, out)
		}
	}
}

func TestRunHelp(t *testing.T) {
	e := newCLIEnv(t)
	out, _ := e.ok("", "run", "--help")
	for _, want := range []string{"PROG is resolved in this order", "Usage:\n  ecli run [flags] PROG", "--json", "--pull", "--object", "--plain-http"} {
		if !strings.Contains(out, want) {
			t.Errorf("ecli run --help lacks %q:\n%s", want, out)
		}
	}
}

func TestList(t *testing.T) {
	e := newCLIEnv(t)
	out, _ := e.ok("", "list")
	if !regexp.MustCompile(`(?m)^tcpconnlat +\S`).MatchString(out) || strings.Contains(out, "broken package") {
		t.Errorf("ecli list:\n%s", out)
	}
	// Every built-in says what it is (its /// @brief): a bare name in ecli list helps no one.
	for _, name := range packages.Names() {
		if !regexp.MustCompile(`(?m)^` + name + ` +\S`).MatchString(out) {
			t.Errorf("ecli list shows no description for %s (add a /// @brief to its .bpf.c):\n%s", name, out)
		}
	}
}

// TestRunPositionals: a package with several positional options (cmdarg positional=N, as
// bcc's "interval [count]") lists them in order and refuses one too many.
func TestRunPositionals(t *testing.T) {
	e := newCLIEnv(t)
	pkg := filepath.Join("..", "runner", "testdata", "hist", "hist.json")
	out, _ := e.ok("", "run", pkg, "--help")
	if !strings.Contains(out, "Usage: ecli run "+pkg+" [flags] [interval_s [rounds]]\n") {
		t.Errorf("help lacks the positional usage:\n%s", out)
	}
	if i, j := strings.Index(out, "  interval_s "), strings.Index(out, "  rounds "); i < 0 || j < i {
		t.Errorf("help does not list interval_s then rounds under Arguments:\n%s", out)
	}
	e.failsWith(2, `unexpected argument "3"`, "run", pkg, "1", "2", "3")
	e.failsWith(2, "argument rounds: ", "run", pkg, "1", "x")
}
