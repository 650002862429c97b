// Package docker_test tests the compile image (Dockerfile, docker/entrypoint.sh) for real:
// it builds the image with `make docker-image`, compiles sources from temporary folders in a
// container, compares the bytes with a host build and runs the result with the runner.
//
// Needs a running docker daemon and the local base images ecli-base:bookworm and
// ecli-go:bookworm (all from .ci/setup.d/docker.sh); skips without them, fails when
// ECLI_TEST_PRIVILEGED=1.
package docker_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"ecli/internal/testutils"
	"ecli/runner"
)

const (
	baseImage = "ecli-base:bookworm"
	goImage   = "ecli-go:bookworm"
	testImage = "ecli-compile:test"
	nobody    = 65534
)

func TestMain(m *testing.M) { testutils.Main(m) }

var root = func() string {
	r, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		panic(err)
	}
	return r
}()

var (
	imageOnce sync.Once
	imageErr  error
)

// requireImage builds the compile image and bin/btfexport (for host builds) once per test
// binary (docker's layer cache makes rebuilds cheap) and returns the image's tag.
func requireImage(t *testing.T) string {
	t.Helper()
	testutils.SkipUnless(t, exec.Command("docker", "info").Run() == nil,
		"needs a running docker daemon: `docker info` failed (.ci/setup.d/docker.sh starts dockerd)")
	for _, img := range []string{baseImage, goImage} {
		testutils.SkipUnless(t, exec.Command("docker", "image", "inspect", img).Run() == nil,
			"needs the base image "+img+" (.ci/setup.d/docker.sh builds it without a registry)")
	}
	imageOnce.Do(func() {
		start := time.Now()
		cmd := exec.Command("make", "--no-print-directory", "-C", root, "docker-image", "btfexport",
			"DOCKER_IMAGE="+testImage, "DOCKER_BASE="+baseImage, "DOCKER_GO_BASE="+goImage)
		out, err := cmd.CombinedOutput()
		if err != nil {
			imageErr = fmt.Errorf("make docker-image btfexport: %w\n%s", err, out)
			return
		}
		t.Logf("make docker-image btfexport: %v", time.Since(start).Round(time.Millisecond))
	})
	if imageErr != nil {
		t.Fatal(imageErr)
	}
	return testImage
}

type result struct {
	stdout, stderr string
	code           int
}

// compile runs the image on dir as uid:gid.
func compile(t *testing.T, image, dir string, uid int) result {
	t.Helper()
	cmd := exec.Command("docker", "run", "--rm", "--network=none",
		"--user", fmt.Sprintf("%d:%d", uid, uid), "-v", dir+":/src", image)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("docker run: %v", err)
	}
	t.Logf("docker run: %v", time.Since(start).Round(time.Millisecond))
	return result{stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()}
}

// folder makes a temp folder owned by uid holding files (name → content).
func folder(t *testing.T, uid int, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(filepath.Join(dir, name), uid, uid); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(dir, uid, uid); err != nil {
		t.Fatal(err)
	}
	return dir
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func execsnoopFiles(t *testing.T) map[string][]byte {
	dir := filepath.Join(root, "btfexport", "testdata", "execsnoop")
	return map[string][]byte{
		"execsnoop.bpf.c": readFile(t, filepath.Join(dir, "execsnoop.bpf.c")),
		"execsnoop.h":     readFile(t, filepath.Join(dir, "execsnoop.h")),
	}
}

// hostBuild compiles src (+ header) on the host exactly as `make packages` does.
func hostBuild(t *testing.T, src string, header ...string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "host.json")
	args := append([]string{"-o", out, src}, header...)
	cmd := exec.Command(filepath.Join(root, "docker", "build-package.sh"), args...)
	cmd.Env = append(os.Environ(), "CLANG=clang-19", "STRIP=llvm-strip-19",
		"BTFEXPORT="+filepath.Join(root, "bin", "btfexport"))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("host build of %s: %v\n%s", src, err, b)
	}
	return readFile(t, out)
}

// TestRoundTrip compiles the exec tracer in the image as an unprivileged user, checks the
// package is byte-identical to a host build, then runs it with the runner and decodes a real
// exec event (bitfields and a union included).
func TestRoundTrip(t *testing.T) {
	image := requireImage(t)
	files := execsnoopFiles(t)
	dir := folder(t, nobody, files)
	res := compile(t, image, dir, nobody)
	if res.code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", res.code, res.stdout, res.stderr)
	}
	if !strings.Contains(res.stdout, "execsnoop.bpf.c + execsnoop.h -> package.json") {
		t.Errorf("stdout does not say what was built: %q", res.stdout)
	}
	for _, name := range []string{"package.json", "execsnoop.bpf.o"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if uid := fileUID(fi); uid != nobody {
			t.Errorf("%s owned by uid %d, want %d (--user)", name, uid, nobody)
		}
	}
	pkgJSON := readFile(t, filepath.Join(dir, "package.json"))

	host := hostBuild(t, filepath.Join(root, "btfexport", "testdata", "execsnoop", "execsnoop.bpf.c"),
		filepath.Join(root, "btfexport", "testdata", "execsnoop", "execsnoop.h"))
	if !bytes.Equal(host, pkgJSON) {
		t.Errorf("image and host builds differ (%d vs %d bytes)", len(pkgJSON), len(host))
	}
	obj := readFile(t, filepath.Join(dir, "execsnoop.bpf.o"))
	for _, path := range []string{"/src", "/tmp", "/work", root} {
		if bytes.Contains(obj, []byte(path+"/")) {
			t.Errorf("object contains the path %q: builds are not reproducible across folders", path)
		}
	}

	testutils.RequirePrivileged(t)
	t.Run("runner", func(t *testing.T) { runPackage(t, pkgJSON) })
	t.Run("ecli run", func(t *testing.T) { runCLI(t, filepath.Join(dir, "package.json")) })
}

// runCLI runs `ecli run package.json -j -p PID` (the -p flag is the package's @cmdarg) and
// execs /bin/true until its event shows up.
func runCLI(t *testing.T, pkgPath string) {
	cmd := exec.Command(testutils.Ecli(t), "run", pkgPath, "-j", "-p", fmt.Sprint(os.Getpid()))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		if err := cmd.Wait(); err != nil {
			t.Errorf("ecli run exited with %v after SIGINT; stderr:\n%s", err, stderr.String())
		}
	}()
	pids := make(chan int, 100)
	stop := make(chan struct{})
	defer close(stop)
	go func() { // the CLI has no ready signal: keep exec'ing until an event arrives
		for {
			c := exec.Command("/bin/true")
			if c.Run() == nil {
				pids <- c.Process.Pid
			}
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	seen := map[int]bool{}
	deadline := time.After(60 * time.Second) // generous: CI machines may be loaded
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	for {
		select {
		case pid := <-pids:
			seen[pid] = true
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("ecli run stopped; stderr:\n%s", stderr.String())
			}
			var e struct {
				PID  int    `json:"pid"`
				PPID int    `json:"ppid"`
				Comm string `json:"comm"`
			}
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				t.Fatalf("line %q: %v", line, err)
			}
			if e.PPID != os.Getpid() {
				t.Fatalf("event of another parent despite -p %d: %s", os.Getpid(), line)
			}
			for len(pids) > 0 {
				seen[<-pids] = true
			}
			if seen[e.PID] && e.Comm == "true" {
				return
			}
		case <-deadline:
			t.Fatalf("no event from ecli run within 60s; stderr:\n%s", stderr.String())
		}
	}
}

func runPackage(t *testing.T, pkgJSON []byte) {
	p, err := runner.Parse(pkgJSON)
	if err != nil {
		t.Fatal(err)
	}
	// Only exec events of this test's children (the ppid filter is the package's option).
	values := p.NewValues()
	if err := values.Set("targ_ppid", fmt.Sprint(os.Getpid())); err != nil {
		t.Fatal(err)
	}
	inst, err := runner.Load(p, runner.LoadOptions{Values: values})
	if err != nil {
		t.Fatal(err)
	}
	progs, maps := inst.ObjectIDs()
	defer testutils.CheckGone(t, progs, maps)
	defer inst.Close()
	if err := inst.Attach(runner.AttachOptions{}); err != nil {
		t.Fatal(err)
	}

	pr, pw := io.Pipe()
	ready := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- inst.Run(ctx, runner.RunOptions{Out: pw, Format: runner.JSON, Ready: func() { close(ready) }})
		pw.Close()
	}()
	defer func() {
		cancel()
		go io.Copy(io.Discard, pr)
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not get ready")
	}

	cmd := exec.Command("/bin/true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	wantPID := cmd.Process.Pid

	type event struct {
		PID   int    `json:"pid"`
		PPID  int    `json:"ppid"`
		UID   uint32 `json:"uid"`
		Small uint32 `json:"small"`
		Large uint32 `json:"large"`
		Flag  uint32 `json:"flag"`
		U     struct {
			Word  uint32  `json:"word"`
			Bytes []uint8 `json:"bytes"`
		} `json:"u"`
		Comm string `json:"comm"`
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatal("event stream ended before the exec event of /bin/true")
			}
			var e event
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				t.Fatalf("event %q: %v", line, err)
			}
			if e.PID != wantPID {
				continue
			}
			if e.PPID != os.Getpid() || e.Comm != "true" || e.UID != uint32(os.Getuid()) {
				t.Errorf("event %s: want ppid %d, comm true, uid %d", line, os.Getpid(), os.Getuid())
			}
			if e.Small != 5 || e.Large != 4097 || e.Flag != 1 {
				t.Errorf("bitfields decoded as %d/%d/%d, want 5/4097/1: %s", e.Small, e.Large, e.Flag, line)
			}
			if e.U.Word != 0x01020304 || !bytes.Equal(e.U.Bytes, []byte{4, 3, 2, 1}) {
				t.Errorf("union decoded as %#x %v, want 0x1020304 [4 3 2 1]: %s", e.U.Word, e.U.Bytes, line)
			}
			return
		case <-timeout:
			t.Fatalf("no exec event for pid %d within 10s", wantPID)
		}
	}
}

// TestSameAsHost compiles every examples/<tool>/ and the btfexport golden program in the
// image and compares the packages with host builds (what `make packages` runs), byte for byte.
func TestSameAsHost(t *testing.T) {
	image := requireImage(t)
	type src struct{ dir, name string }
	srcs := []src{{filepath.Join(root, "btfexport", "testdata", "golden"), "golden"}}
	tools, _ := filepath.Glob(filepath.Join(root, "examples", "*", "*.bpf.c"))
	for _, s := range tools {
		name := strings.TrimSuffix(filepath.Base(s), ".bpf.c")
		if filepath.Base(filepath.Dir(s)) == name {
			srcs = append(srcs, src{filepath.Dir(s), name})
		}
	}
	for _, s := range srcs {
		t.Run(s.name, func(t *testing.T) {
			files := map[string][]byte{s.name + ".bpf.c": readFile(t, filepath.Join(s.dir, s.name+".bpf.c"))}
			var header []string
			if h, err := os.ReadFile(filepath.Join(s.dir, s.name+".h")); err == nil {
				header = append(header, filepath.Join(s.dir, s.name+".h"))
				files[s.name+".h"] = h
			}
			// The folder a user mounts holds every header of the tool (tcpretrans has two);
			// the image takes NAME.h as the one that defines the event.
			others, _ := filepath.Glob(filepath.Join(s.dir, "*.h"))
			for _, h := range others {
				files[filepath.Base(h)] = readFile(t, h)
			}
			dir := folder(t, nobody, files)
			res := compile(t, image, dir, nobody)
			if res.code != 0 {
				t.Fatalf("exit %d\nstderr: %s", res.code, res.stderr)
			}
			host := hostBuild(t, filepath.Join(s.dir, s.name+".bpf.c"), header...)
			if got := readFile(t, filepath.Join(dir, "package.json")); !bytes.Equal(got, host) {
				t.Errorf("image and host builds of %s differ (%d vs %d bytes)", s.name, len(got), len(host))
			}
		})
	}
}

// TestSeveralSources: one <name>.json per source, each with its own header, named in the
// output.
func TestSeveralSources(t *testing.T) {
	image := requireImage(t)
	files := execsnoopFiles(t)
	files["second.bpf.c"] = bytes.ReplaceAll(files["execsnoop.bpf.c"], []byte(`"execsnoop.h"`), []byte(`"second.h"`))
	files["second.h"] = files["execsnoop.h"]
	dir := folder(t, nobody, files)
	res := compile(t, image, dir, nobody)
	if res.code != 0 {
		t.Fatalf("exit %d\nstderr: %s", res.code, res.stderr)
	}
	for _, want := range []string{"execsnoop.bpf.c + execsnoop.h -> execsnoop.json", "second.bpf.c + second.h -> second.json"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("stdout %q lacks %q", res.stdout, want)
		}
	}
	for _, name := range []string{"execsnoop.json", "second.json"} {
		p, err := runner.Parse(readFile(t, filepath.Join(dir, name)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if want := strings.TrimSuffix(name, ".json") + "_bpf"; p.Meta.ObjName != want {
			t.Errorf("%s: obj_name %q, want %q", name, p.Meta.ObjName, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "package.json")); err == nil {
		t.Error("package.json written although there are several sources")
	}
}

// TestBadInputs: each mistake gives a clear message on stderr and a non-zero exit.
func TestBadInputs(t *testing.T) {
	image := requireImage(t)
	good := execsnoopFiles(t)
	src := good["execsnoop.bpf.c"]
	lineOf := func(b []byte, s string) int {
		i := bytes.Index(b, []byte(s))
		if i < 0 {
			t.Fatalf("%q not in source", s)
		}
		return bytes.Count(b[:i], []byte("\n")) + 1
	}
	syntax := bytes.Replace(src, []byte("e->flag = 1;"), []byte("e->flag = ;"), 1)
	missing := bytes.Replace(src, []byte(`#include "execsnoop.h"`), []byte(`#include "nothere.h"`), 1)
	for _, tc := range []struct {
		name  string
		files map[string][]byte
		owner int // folder owner; the container runs as nobody
		want  []string
	}{
		{"syntax error", map[string][]byte{"execsnoop.bpf.c": syntax, "execsnoop.h": good["execsnoop.h"]}, nobody,
			[]string{fmt.Sprintf("execsnoop.bpf.c:%d:", lineOf(syntax, "e->flag = ;")), "error: expected expression", "execsnoop.bpf.c: compile failed"}},
		{"missing header", map[string][]byte{"execsnoop.bpf.c": missing}, nobody,
			[]string{fmt.Sprintf("execsnoop.bpf.c:%d:", lineOf(missing, "nothere.h")), "'nothere.h' file not found"}},
		{"no sources", map[string][]byte{"README.md": []byte("nothing to see")}, nobody,
			[]string{"/src: no *.bpf.c to compile"}},
		{"unwritable folder", good, 0,
			[]string{"/src: not writable by uid 65534", "--user"}},
		{"ambiguous headers", map[string][]byte{"execsnoop.bpf.c": src, "a.h": good["execsnoop.h"], "b.h": good["execsnoop.h"]}, nobody,
			[]string{"several headers (a.h b.h) and none named execsnoop.h"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := folder(t, tc.owner, tc.files)
			res := compile(t, image, dir, nobody)
			if res.code == 0 {
				t.Fatalf("exit 0, want an error\nstdout: %s\nstderr: %s", res.stdout, res.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(res.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, res.stderr)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "package.json")); err == nil {
				t.Error("package.json written despite the error")
			}
		})
	}
}
