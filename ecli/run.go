package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"ecli/runner"
)

// runOptions are ecli's own flags for `run`; they may appear before or after PROG.
type runOptions struct {
	source   sourceOptions
	format   formatOptions
	verbose  bool
	btf      string
	ifindex  int
	cgroup   string
	perfFreq uint64
}

// ApplyFlags registers run's flags on fs.
func (o *runOptions) ApplyFlags(fs *pflag.FlagSet) {
	o.format.ApplyFlags(fs)
	fs.BoolVar(&o.verbose, "verbose", false, "print the full verifier log when loading fails")
	fs.StringVar(&o.btf, "btf", "", "BTF `FILE` for the running kernel (default "+runner.DefaultKernelBTF+")")
	fs.IntVar(&o.ifindex, "ifindex", 0, "interface index for xdp, tc and socket filter programs (default: the package's, else 1)")
	fs.StringVar(&o.cgroup, "cgroup", "", "cgroup v2 `PATH` for cgroup programs (default: the cgroup v2 root)")
	fs.Uint64Var(&o.perfFreq, "perf-freq", 0, "sampling frequency in Hz for perf_event programs (default 1, as eunomia)")
	o.source.ApplyFlags(fs)
}

// validate checks the flags that can be checked without the package.
func (o *runOptions) validate() error {
	if o.ifindex < 0 {
		return usagef("--ifindex %d: interface indexes are positive", o.ifindex)
	}
	if o.ifindex > 0 {
		if _, err := net.InterfaceByIndex(o.ifindex); err != nil {
			return usagef("--ifindex %d: no such network interface", o.ifindex)
		}
	}
	return nil
}

func newRunCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "run [flags] PROG [tool flags] [tool argument]",
		Short: "Run a package: a file, -, a URL, a built-in tool or an OCI reference",
		Long: `Run a package until Ctrl-C (or SIGTERM), printing its events.

PROG is resolved in this order:
  -                    the package JSON on standard input
  an existing file     package.json, or a bare NAME.skel.json (its NAME.bpf.o is taken
                       from beside it, or from --object)
  http(s)://...        downloaded
  a built-in tool      see "ecli list"
  anything else        an OCI reference, e.g. localhost:5000/tools/tcpconnlat:v1

Everything after PROG goes to the tool: its own flags come from the program's
const volatile globals. "ecli run PROG --help" lists them.`,
		// ecli's flags and the tool's share the command line: runRun parses both.
		DisableFlagParsing: true,
		RunE:               runRun,
	}
}

func runRun(cmd *cobra.Command, args []string) error {
	var opts runOptions
	pre := pflag.NewFlagSet("run", pflag.ContinueOnError)
	pre.SetOutput(io.Discard)
	pre.SetInterspersed(false)
	opts.ApplyFlags(pre)
	help := pre.BoolP("help", "h", false, "help")
	if err := pre.Parse(args); err != nil {
		return usagef("run: %w (the tool's own flags go after PROG: ecli run PROG FLAGS)", err)
	}
	rest := pre.Args()
	if len(rest) == 0 && !*help {
		return usagef("run: missing PROG (a package file, -, a URL, a built-in tool or an OCI reference); see ecli run --help")
	}
	if *help {
		fmt.Fprintf(cmd.OutOrStdout(), "%s\n\nUsage:\n  ecli %s\n\nFlags:\n%s", cmd.Long, cmd.Use, pre.FlagUsages())
		return nil
	}
	prog, toolArgs := rest[0], rest[1:]

	pkg, _, err := resolvePackage(cmd, prog, &opts.source)
	if err != nil {
		return err
	}
	fs, positionals := toolFlags(pkg, pre)
	err = fs.Parse(negativesAsArgs(fs, toolArgs, positionals))
	if errors.Is(err, pflag.ErrHelp) || fs.Lookup("help").Changed {
		printToolHelp(cmd.OutOrStdout(), prog, pkg, fs, positionals)
		return nil
	}
	if err != nil {
		return usagef("%s: %w", prog, err)
	}
	load, err := toolValues(pkg, fs, positionals)
	if err != nil {
		return usagef("%s: %w", prog, err)
	}
	if err := opts.validate(); err != nil {
		return err
	}
	load.KernelBTF, load.Verbose = opts.btf, opts.verbose
	return runPackage(cmd.Context(), pkg, load, &opts, cmd.OutOrStdout(), cmd.ErrOrStderr())
}

// runPackage loads, attaches and runs until ctx is done; events go to out, diagnostics
// to stderr.
func runPackage(ctx context.Context, pkg *runner.Package, load runner.LoadOptions, opts *runOptions, out, stderr io.Writer) error {
	inst, err := runner.Load(pkg, load)
	if err != nil {
		return err
	}
	defer inst.Close()
	if err := inst.Attach(runner.AttachOptions{Ifindex: opts.ifindex, CgroupPath: opts.cgroup, PerfFreq: opts.perfFreq}); err != nil {
		return err
	}
	err = inst.Run(ctx, runner.RunOptions{
		Out:    out,
		Format: opts.format.format(),
		Diag:   func(msg string) { fmt.Fprintf(stderr, "ecli: %s\n", msg) },
	})
	if err != nil {
		return err
	}
	return inst.Close()
}
