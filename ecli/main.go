// Command ecli runs packaged eBPF programs (eunomia-bpf compatible JSON packages).
//
// Each command lives in its own file as a constructor (newRunCmd, newPullCmd, …) that
// returns a *cobra.Command with its own local options; flag groups shared by several
// commands are in flags.go, error hints and exit codes in errors.go.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=..." (make build does);
// otherwise the VCS revision Go recorded, if any.
var version = "dev"

// buildVersion is version, or "dev-REVISION" for a build from a VCS checkout.
func buildVersion() string {
	if version != "dev" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "dev-" + s.Value[:12]
			}
		}
	}
	return version
}

// newRootCmd returns the ecli command with all its subcommands.
func newRootCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ecli",
		Short: "Run packaged eBPF programs: one static binary, no compiler on the box",
		Long: `ecli runs eBPF tools packaged as JSON (eunomia-bpf's package format):
it loads the CO-RE object inside the package, turns the program's const volatile
globals into flags, attaches every program and prints each event from BTF.

  sudo ecli run tcpconnlat            run a built-in tool (see "ecli list")
  sudo ecli run ./package.json -j     run a package file, JSON lines
  sudo ecli run REGISTRY/REPO:TAG     run a package from an OCI registry`,
		Version:       buildVersion(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	cmd.AddCommand(
		newRunCmd(),
		newInspectCmd(),
		newListCmd(),
		newPullCmd(),
		newPushCmd(),
		newLoginCmd(),
		newLogoutCmd(),
	)
	return cmd
}

// execute runs ecli with args (without the program name) until ctx is done and returns
// the exit status; errors go to stderr. main and the in-process tests both call it.
func execute(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := newRootCmd()
	cmd.SetArgs(args)
	cmd.SetIn(stdin)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	return exitCode(stderr, cmd.ExecuteContext(ctx))
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	code := execute(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
