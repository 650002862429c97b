// Command ecli runs packaged eBPF programs (eunomia-bpf compatible JSON packages).
//
// Each command lives in its own file and registers itself on rootCmd from init.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"syscall"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=..." (make build does);
// otherwise the VCS revision Go recorded, if any.
var version = "dev"

func init() {
	if version != "dev" {
		return
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				version = "dev-" + s.Value[:12]
			}
		}
	}
	rootCmd.Version = version
}

var rootCmd = &cobra.Command{
	Use:   "ecli",
	Short: "Run packaged eBPF programs: one static binary, no compiler on the box",
	Long: `ecli runs eBPF tools packaged as JSON (eunomia-bpf's package format):
it loads the CO-RE object inside the package, turns the program's const volatile
globals into flags, attaches every program and prints each event from BTF.

  sudo ecli run tcpconnlat            run a built-in tool (see "ecli list")
  sudo ecli run ./package.json -j     run a package file, JSON lines
  sudo ecli run REGISTRY/REPO:TAG     run a package from an OCI registry`,
	Version:       version,
	SilenceUsage:  true,
	SilenceErrors: true,
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	stopProfile := cpuProfile(os.Getenv("ECLI_CPUPROFILE"))
	err := rootCmd.ExecuteContext(ctx)
	stopProfile()
	stop()
	os.Exit(exitCode(err))
}

// cpuProfile writes a pprof CPU profile of the whole command to path (the environment's
// ECLI_CPUPROFILE; `make bench PROFILE=1` sets it) until the returned func is called.
func cpuProfile(path string) func() {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ecli: ECLI_CPUPROFILE: %v\n", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(os.Stderr, "ecli: ECLI_CPUPROFILE: %v\n", err)
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
