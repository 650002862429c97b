package symbolize

import (
	"bufio"
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// The fixtures are built once per test binary run, in fixtureDir (removed by TestMain).
var fixtureDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "symbolize-fixtures-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fixtureDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// fixtures are the C programs and libraries of testdata/, built several ways.
type fixtures struct {
	dir string

	libDebug    string // directory with libfix.so built with -g
	libStripped string // directory with libfix.so stripped of .symtab and DWARF

	pieDebug     string // PIE, -g, build id
	exeNoDebug   string // non-PIE, no -g, .symtab kept
	pieStripped  string // pieDebug stripped; its debug file is under debugRoot by build id
	debugRoot    string
	pieBuildID   string
	pieDebugFile string

	cxx string // C++ PIE with -g
}

var (
	cOnce  sync.Once
	cFix   *fixtures
	cFixEr error
)

// run runs a build command in dir and returns its error with the command and its output.
func run(dir string, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

// needTool skips the test when a build tool is missing.
func needTool(t testing.TB, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			t.Skipf("fixture build tool %s is not installed: %v", n, err)
		}
	}
}

// cFixtures builds the C and C++ fixtures (once).
func cFixtures(t testing.TB) *fixtures {
	t.Helper()
	needTool(t, "gcc", "g++", "objcopy", "strip")
	cOnce.Do(func() { cFix, cFixEr = buildC() })
	if cFixEr != nil {
		t.Fatal(cFixEr)
	}
	return cFix
}

func buildC() (*fixtures, error) {
	src, err := filepath.Abs("testdata")
	if err != nil {
		return nil, err
	}
	d := filepath.Join(fixtureDir, "c")
	f := &fixtures{
		dir:         d,
		libDebug:    filepath.Join(d, "lib"),
		libStripped: filepath.Join(d, "libstripped"),
		pieDebug:    filepath.Join(d, "pie-debug"),
		exeNoDebug:  filepath.Join(d, "exe-nodebug"),
		pieStripped: filepath.Join(d, "pie-stripped"),
		debugRoot:   filepath.Join(d, "debug"),
		cxx:         filepath.Join(d, "cxx"),
	}
	for _, p := range []string{f.libDebug, f.libStripped} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			return nil, err
		}
	}
	prog, lib := filepath.Join(src, "prog.c"), filepath.Join(src, "lib.c")
	steps := [][]string{
		{"gcc", "-O0", "-g", "-fPIC", "-shared", "-fno-omit-frame-pointer", "-o", filepath.Join(f.libDebug, "libfix.so"), lib},
		{"strip", "-s", "-o", filepath.Join(f.libStripped, "libfix.so"), filepath.Join(f.libDebug, "libfix.so")},
		{"gcc", "-O0", "-g", "-fPIE", "-pie", "-fno-omit-frame-pointer", "-Wl,--build-id=sha1", "-o", f.pieDebug, prog, "-L" + f.libDebug, "-lfix"},
		{"gcc", "-O0", "-fno-pie", "-no-pie", "-o", f.exeNoDebug, prog, "-L" + f.libDebug, "-lfix"},
		{"objcopy", "--only-keep-debug", f.pieDebug, f.pieDebug + ".debug"},
		{"strip", "-s", "-o", f.pieStripped, f.pieDebug},
		{"g++", "-O0", "-g", "-fPIE", "-pie", "-o", f.cxx, filepath.Join(src, "cxx.cc")},
	}
	for _, s := range steps {
		if err := run(d, s[0], s[1:]...); err != nil {
			return nil, err
		}
	}
	ef, err := elf.Open(f.pieDebug)
	if err != nil {
		return nil, err
	}
	f.pieBuildID = buildID(ef)
	ef.Close()
	if len(f.pieBuildID) < 4 {
		return nil, fmt.Errorf("%s has no build id", f.pieDebug)
	}
	f.pieDebugFile = filepath.Join(f.debugRoot, ".build-id", f.pieBuildID[:2], f.pieBuildID[2:]+".debug")
	if err := os.MkdirAll(filepath.Dir(f.pieDebugFile), 0o755); err != nil {
		return nil, err
	}
	if err := os.Rename(f.pieDebug+".debug", f.pieDebugFile); err != nil {
		return nil, err
	}
	return f, nil
}

var (
	rustOnce sync.Once
	rustFix  map[string]string // mangling version → binary
	rustErr  error
)

// rustFixtures builds testdata/fx.rs with the default (legacy) and v0 manglings.
func rustFixtures(t testing.TB) map[string]string {
	t.Helper()
	needTool(t, "rustc")
	rustOnce.Do(func() {
		d := filepath.Join(fixtureDir, "rust")
		if rustErr = os.MkdirAll(d, 0o755); rustErr != nil {
			return
		}
		src, err := filepath.Abs("testdata/fx.rs")
		if err != nil {
			rustErr = err
			return
		}
		rustFix = map[string]string{"legacy": filepath.Join(d, "fx-legacy"), "v0": filepath.Join(d, "fx-v0")}
		if rustErr = run(d, "rustc", "-g", "-o", rustFix["legacy"], src); rustErr != nil {
			return
		}
		rustErr = run(d, "rustc", "-g", "-C", "symbol-mangling-version=v0", "-o", rustFix["v0"], src)
	})
	if rustErr != nil {
		t.Fatal(rustErr)
	}
	return rustFix
}

// proc is a running fixture that printed "name=0xADDR ..." and waits for its stdin to close.
type proc struct {
	pid   uint32
	addrs map[string]uint64
	stdin io.WriteCloser
	cmd   *exec.Cmd
}

func startProc(t testing.TB, path string, env ...string) *proc {
	t.Helper()
	cmd := exec.Command(path)
	cmd.Env = append(os.Environ(), env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{pid: uint32(cmd.Process.Pid), addrs: map[string]uint64{}, stdin: stdin, cmd: cmd}
	t.Cleanup(func() { p.exit(t) })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("%s printed no addresses: %v; stderr: %s", path, err, stderr.String())
	}
	for _, kv := range strings.Fields(line) {
		k, v, ok := strings.Cut(kv, "=")
		a, err := strconv.ParseUint(strings.TrimPrefix(v, "0x"), 16, 64)
		if !ok || err != nil {
			t.Fatalf("%s printed %q, want name=0xADDR", path, line)
		}
		p.addrs[k] = a
	}
	return p
}

// exit closes the fixture's stdin and waits for it to exit.
func (p *proc) exit(t testing.TB) {
	if p.cmd.ProcessState != nil {
		return
	}
	p.stdin.Close()
	if err := p.cmd.Wait(); err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Errorf("waiting for fixture %d: %v", p.pid, err)
		}
	}
}

// markerLine returns the 1-based line of testdata/file holding "LINE:name".
func markerLine(t testing.TB, file, name string) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, "LINE:"+name+" ") {
			return i + 1
		}
	}
	t.Fatalf("testdata/%s has no LINE:%s marker", file, name)
	return 0
}

// nmSymbols returns name → (value, size) from `nm -S` of path (an oracle independent of this
// package's ELF reading).
func nmSymbols(t testing.TB, path string, dynamic bool) map[string][2]uint64 {
	t.Helper()
	args := []string{"-S", "--defined-only"}
	if dynamic {
		args = append(args, "-D")
	}
	out, err := exec.Command("nm", append(args, path)...).Output()
	if err != nil {
		t.Fatalf("nm %s: %v", path, err)
	}
	syms := map[string][2]uint64{}
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) != 4 {
			continue
		}
		v, err1 := strconv.ParseUint(f[0], 16, 64)
		sz, err2 := strconv.ParseUint(f[1], 16, 64)
		if err1 == nil && err2 == nil {
			syms[f[3]] = [2]uint64{v, sz}
		}
	}
	return syms
}
