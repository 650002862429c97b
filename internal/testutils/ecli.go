package testutils

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// EnvBin names an ecli binary for tests to run instead of building one: the stock-kernel VM
// lane has no Go toolchain and sets it.
const EnvBin = "ECLI_BIN"

var ecli struct {
	sync.Once
	main bool   // Main is running the tests
	dir  string // temporary directory of the built binary, removed by Main
	path string
	err  error
}

// Main is TestMain for a test package that runs ecli as a separate process (see Ecli): it
// runs the tests, removes the binary Ecli built and exits with their status.
func Main(m *testing.M) {
	ecli.main = true
	code := m.Run()
	if ecli.dir != "" {
		os.RemoveAll(ecli.dir)
	}
	os.Exit(code)
}

// Ecli returns the path of an ecli binary: $ECLI_BIN when set, else `go build ecli/ecli`
// into a temporary directory, once per test binary. The package's TestMain must be Main (or
// call it), which removes the build; a build failure fails every test that asks.
func Ecli(tb testing.TB) string {
	tb.Helper()
	if bin := os.Getenv(EnvBin); bin != "" {
		return bin
	}
	if !ecli.main {
		tb.Fatal("testutils.Ecli needs testutils.Main as the package's TestMain")
	}
	ecli.Do(func() {
		ecli.dir, ecli.err = os.MkdirTemp("", "ecli-test-")
		if ecli.err != nil {
			return
		}
		ecli.path = filepath.Join(ecli.dir, "ecli")
		if out, err := exec.Command("go", "build", "-o", ecli.path, "ecli/ecli").CombinedOutput(); err != nil {
			ecli.err = fmt.Errorf("go build ecli/ecli: %w\n%s", err, out)
		}
	})
	if ecli.err != nil {
		tb.Fatal(ecli.err)
	}
	return ecli.path
}
