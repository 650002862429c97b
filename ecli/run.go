package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"ecli/packages"
	"ecli/runner"
)

// runFlags are ecli's own flags for `run`; they may appear before or after PROG.
type runFlags struct {
	json     bool
	verbose  bool
	btf      string
	object   string
	ifindex  int
	cgroup   string
	perfFreq uint64
	oci      ociFlags
}

func (f *runFlags) register(fs *pflag.FlagSet) {
	fs.BoolVarP(&f.json, "json", "j", false, "print one JSON object per event instead of text columns")
	fs.BoolVar(&f.verbose, "verbose", false, "print the full verifier log when loading fails")
	fs.StringVar(&f.btf, "btf", "", "BTF `FILE` for the running kernel (default "+runner.DefaultKernelBTF+")")
	fs.StringVar(&f.object, "object", "", "BPF object `FILE` for a bare *.skel.json (default: NAME.bpf.o beside it)")
	fs.IntVar(&f.ifindex, "ifindex", 0, "interface index for xdp, tc and socket filter programs (default: the package's, else 1)")
	fs.StringVar(&f.cgroup, "cgroup", "", "cgroup v2 `PATH` for cgroup programs (default: the cgroup v2 root)")
	fs.Uint64Var(&f.perfFreq, "perf-freq", 0, "sampling frequency in Hz for perf_event programs (default 1, as eunomia)")
	f.oci.register(fs)
}

var runCmd = &cobra.Command{
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
	DisableFlagParsing: true,
	RunE:               runRun,
}

func init() { rootCmd.AddCommand(runCmd) }

func runRun(cmd *cobra.Command, args []string) error {
	var rf runFlags
	pre := pflag.NewFlagSet("run", pflag.ContinueOnError)
	pre.SetOutput(io.Discard)
	pre.SetInterspersed(false)
	rf.register(pre)
	help := pre.BoolP("help", "h", false, "help")
	if err := pre.Parse(args); err != nil {
		return usageError{fmt.Errorf("run: %w (the tool's own flags go after PROG: ecli run PROG FLAGS)", err)}
	}
	rest := pre.Args()
	if *help || len(rest) == 0 {
		if len(rest) == 0 && !*help {
			return usageError{errors.New("run: missing PROG (a package file, -, a URL, a built-in tool or an OCI reference); see ecli run --help")}
		}
		cmd.SetArgs(nil)
		fmt.Fprintln(cmd.OutOrStdout(), cmd.Long)
		fmt.Fprintf(cmd.OutOrStdout(), "\nUsage:\n  ecli run [flags] PROG [tool flags] [tool argument]\n\nFlags:\n%s", pre.FlagUsages())
		return nil
	}
	prog, toolArgs := rest[0], rest[1:]

	pkg, err := loadPackage(cmd.Context(), prog, &rf, pre)
	if err != nil {
		return err
	}
	fs, positional, err := toolFlags(pkg, &rf, pre)
	if err != nil {
		return err
	}
	err = fs.Parse(negativesAsArgs(fs, toolArgs, positional))
	if errors.Is(err, pflag.ErrHelp) || fs.Lookup("help").Changed {
		printToolHelp(cmd.OutOrStdout(), prog, pkg, fs, positional)
		return nil
	}
	if err != nil {
		return usageError{fmt.Errorf("%s: %w", prog, err)}
	}
	values, err := applyToolFlags(pkg, fs, positional)
	if err != nil {
		return usageError{fmt.Errorf("%s: %w", prog, err)}
	}
	return execute(cmd.Context(), pkg, values, &rf)
}

// execute loads pkg with the values, attaches and runs until ctx is done.
func execute(ctx context.Context, pkg *runner.Package, values *runner.Values, rf *runFlags) error {
	if rf.ifindex < 0 {
		return usageError{fmt.Errorf("--ifindex %d: interface indexes are positive", rf.ifindex)}
	}
	if rf.ifindex > 0 {
		if _, err := net.InterfaceByIndex(rf.ifindex); err != nil {
			return usageError{fmt.Errorf("--ifindex %d: no such network interface", rf.ifindex)}
		}
	}
	inst, err := runner.Load(pkg, runner.LoadOptions{Values: values, KernelBTF: rf.btf, Verbose: rf.verbose})
	if err != nil {
		return err
	}
	defer inst.Close()
	if err := inst.Attach(runner.AttachOptions{Ifindex: rf.ifindex, CgroupPath: rf.cgroup, PerfFreq: rf.perfFreq}); err != nil {
		return err
	}
	format := runner.Text
	if rf.json {
		format = runner.JSON
	}
	err = inst.Run(ctx, runner.RunOptions{
		Out:          os.Stdout,
		Format:       format,
		Diag:         func(msg string) { fmt.Fprintf(os.Stderr, "ecli: %s\n", msg) },
		LineBuffered: isTerminal(os.Stdout),
	})
	if err != nil {
		return err
	}
	return inst.Close()
}

// loadPackage resolves PROG: -, file, URL, built-in, OCI reference.
func loadPackage(ctx context.Context, prog string, rf *runFlags, fs *pflag.FlagSet) (*runner.Package, error) {
	parse := func(src string, data []byte) (*runner.Package, error) {
		p, err := runner.Parse(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", src, err)
		}
		return p, nil
	}
	switch {
	case prog == "-":
		data, err := io.ReadAll(io.LimitReader(os.Stdin, runner.MaxPackageSize+1))
		if err != nil {
			return nil, fmt.Errorf("reading package from stdin: %w", err)
		}
		if len(data) > runner.MaxPackageSize {
			return nil, fmt.Errorf("stdin: package larger than %d bytes", runner.MaxPackageSize)
		}
		return parse("stdin", data)
	case isFile(prog):
		return loadFile(prog, rf.object)
	case isDir(prog):
		return nil, fmt.Errorf("%s is a directory, not a package file", prog)
	case strings.HasPrefix(prog, "http://") || strings.HasPrefix(prog, "https://"):
		data, err := httpGet(ctx, prog)
		if err != nil {
			return nil, err
		}
		return parse(prog, data)
	}
	if data, ok := packages.Lookup(prog); ok {
		return parse("built-in "+prog, data)
	}
	if looksLikePath(prog) {
		return nil, fmt.Errorf("%s: no such file, built-in tool or OCI reference (see ecli list)", prog)
	}
	data, err := rf.oci.fetch(ctx, prog)
	if err != nil {
		return nil, err
	}
	return parse(prog, data)
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// looksLikePath reports whether s can only be meant as a local file or a tool name.
func looksLikePath(s string) bool {
	return strings.HasPrefix(s, "/") || strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../") ||
		strings.HasSuffix(s, ".json") || !strings.ContainsAny(s, "/:")
}

func loadFile(path, object string) (*runner.Package, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading package: %w", err)
	}
	p, err := runner.Parse(data)
	if err == nil || object == "" && !strings.HasSuffix(path, ".skel.json") {
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return p, nil
	}
	// A bare *.skel.json: its object is given, or sits beside it.
	if object == "" {
		object = strings.TrimSuffix(path, ".skel.json") + ".bpf.o"
	}
	elf, err := os.ReadFile(object)
	if err != nil {
		return nil, fmt.Errorf("%s is metadata only; reading its object: %w (give --object FILE)", path, err)
	}
	p, err = runner.ParseSplit(data, elf)
	if err != nil {
		return nil, fmt.Errorf("%s + %s: %w", path, filepath.Base(object), err)
	}
	return p, nil
}

func httpGet(ctx context.Context, url string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching %s: %s", url, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, runner.MaxPackageSize+1))
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", url, err)
	}
	if len(data) > runner.MaxPackageSize {
		return nil, fmt.Errorf("fetching %s: package larger than %d bytes", url, runner.MaxPackageSize)
	}
	return data, nil
}

// toolFlags builds the flag set of a package: its options plus ecli's run flags (unless a
// tool flag already uses the name).
func toolFlags(pkg *runner.Package, rf *runFlags, pre *pflag.FlagSet) (*pflag.FlagSet, *runner.Option, error) {
	fs := pflag.NewFlagSet(pkg.Name(), pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	var positional *runner.Option
	if ps := pkg.Positionals(); len(ps) > 0 {
		positional = ps[0] // TODO(lead): several positionals
	}
	for _, o := range pkg.Options() {
		name := o.FlagName()
		help := o.Help
		if o.Kind == runner.KindBool {
			fs.BoolP(name, o.Short, false, help)
			continue
		}
		f := fs.VarPF(&optValue{o: o}, name, o.Short, help)
		if o.Default != "" {
			f.DefValue = o.Default
		}
	}
	fs.BoolP("help", "h", false, "show this help")
	pre.VisitAll(func(f *pflag.Flag) {
		if f.Name == "help" || fs.Lookup(f.Name) != nil {
			return
		}
		if f.Shorthand != "" && fs.ShorthandLookup(f.Shorthand) != nil {
			fs.AddFlag(&pflag.Flag{Name: f.Name, Usage: f.Usage, Value: f.Value, DefValue: f.DefValue, NoOptDefVal: f.NoOptDefVal})
			return
		}
		fs.AddFlag(f)
	})
	return fs, positional, nil
}

// negativesAsArgs makes a lone negative number an argument rather than a flag (pflag
// would read "-1" as the shorthand -1) when the tool takes a positional argument, so that
// it is refused with the argument's own error, as bcc's tools do.
func negativesAsArgs(fs *pflag.FlagSet, args []string, positional *runner.Option) []string {
	if positional == nil {
		return args
	}
	for i, a := range args {
		if a == "--" {
			break
		}
		if i > 0 && takesValue(fs, args[i-1]) {
			continue // the value of the flag before it, e.g. -u -1
		}
		if len(a) == 2 && fs.ShorthandLookup(a[1:]) != nil {
			continue // a real flag, such as tcpconnlat's -4 and -6
		}
		if _, err := strconv.ParseFloat(a, 64); err == nil && strings.HasPrefix(a, "-") {
			return append(append(append([]string{}, args[:i]...), args[i+1:]...), "--", a)
		}
	}
	return args
}

// takesValue reports whether arg is a flag that takes its value from the next argument.
func takesValue(fs *pflag.FlagSet, arg string) bool {
	var f *pflag.Flag
	switch {
	case strings.HasPrefix(arg, "--") && !strings.Contains(arg, "="):
		f = fs.Lookup(arg[2:])
	case len(arg) == 2 && arg[0] == '-':
		f = fs.ShorthandLookup(arg[1:])
	}
	return f != nil && f.NoOptDefVal == ""
}

// optValue is a pflag.Value that validates a tool option as it is parsed.
type optValue struct {
	o   *runner.Option
	val string
	set bool
}

func (v *optValue) String() string { return v.val }
func (v *optValue) Type() string {
	if v.o.Metavar != "" {
		return v.o.Metavar
	}
	switch v.o.Kind {
	case runner.KindInt:
		return "int"
	case runner.KindUint:
		return "uint"
	case runner.KindFloat:
		return "float"
	}
	return "string"
}
func (v *optValue) Set(s string) error { v.val, v.set = s, true; return nil }

// applyToolFlags turns the parsed flags and the positional argument into the package's
// option values.
func applyToolFlags(pkg *runner.Package, fs *pflag.FlagSet, positional *runner.Option) (*runner.Values, error) {
	values := pkg.NewValues()
	var err error
	for _, o := range pkg.Options() {
		f := fs.Lookup(o.FlagName())
		if f == nil || !f.Changed {
			continue
		}
		val := f.Value.String()
		if o.Kind == runner.KindBool {
			b, _ := strconv.ParseBool(val)
			if o.BoolMode == runner.BoolDisable {
				b = !b
			}
			val = strconv.FormatBool(b)
		}
		if e := values.Set(o.Name, val); e != nil && err == nil {
			err = e
		}
	}
	if err != nil {
		return nil, err
	}
	args := fs.Args()
	switch {
	case len(args) == 0:
	case positional == nil:
		return nil, fmt.Errorf("unexpected argument %q (this tool takes no positional argument)", args[0])
	case len(args) > 1:
		return nil, fmt.Errorf("unexpected argument %q", args[1])
	default:
		name := positional.Metavar
		if name == "" {
			name = positional.Name
		}
		if f := fs.Lookup(positional.FlagName()); f != nil && f.Changed {
			return nil, fmt.Errorf("%s given both as --%s and as an argument", name, positional.FlagName())
		}
		if err := values.Set(positional.Name, args[0]); err != nil {
			var ve *runner.ValueError
			if errors.As(err, &ve) {
				return nil, fmt.Errorf("argument %s: %w", name, ve.Err)
			}
			return nil, err
		}
	}
	return values, nil
}

func printToolHelp(w io.Writer, prog string, pkg *runner.Package, fs *pflag.FlagSet, positional *runner.Option) {
	m := pkg.Meta
	about := m.Doc.Brief
	if about == "" {
		about = m.Doc.Description
	}
	usage := fmt.Sprintf("Usage: ecli run %s [flags]", prog)
	if positional != nil {
		mv := positional.Metavar
		if mv == "" {
			mv = positional.Name
		}
		usage += " [" + mv + "]"
	}
	fmt.Fprintln(w, usage)
	if about != "" {
		fmt.Fprintf(w, "\n%s\n", about)
	}
	if positional != nil {
		mv := positional.Metavar
		if mv == "" {
			mv = positional.Name
		}
		fmt.Fprintf(w, "\nArguments:\n  %-20s %s\n", mv, positional.Help)
	}
	tool, own := pflag.NewFlagSet("tool", pflag.ContinueOnError), pflag.NewFlagSet("ecli", pflag.ContinueOnError)
	tool.SortFlags, own.SortFlags = false, true
	fs.VisitAll(func(f *pflag.Flag) {
		if pkg.OptionByFlag(f.Name) != nil {
			tool.AddFlag(f)
		} else if f.Name != "help" {
			own.AddFlag(f)
		}
	})
	if tool.HasFlags() {
		fmt.Fprintf(w, "\nTool flags:\n%s", tool.FlagUsages())
	} else {
		fmt.Fprintf(w, "\nThis tool has no flags of its own.\n")
	}
	fmt.Fprintf(w, "\necli flags:\n%s", own.FlagUsages())
	if m.Doc.Details != "" {
		fmt.Fprintf(w, "\n%s\n", m.Doc.Details)
	}
	if m.Doc.Version != "" {
		fmt.Fprintf(w, "\nVersion %s\n", m.Doc.Version)
	}
}
