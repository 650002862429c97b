package main

// The tool's own flags: a pflag set built from the package's options, the parsing quirks
// bcc's tools need, the values handed to the runner and the tool's --help.

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"ecli/runner"
)

// toolFlags builds the flag set of a package: its options plus ecli's run flags from pre
// (unless a tool flag already uses the name). It returns the options that take the
// positional arguments, in order.
func toolFlags(pkg *runner.Package, pre *pflag.FlagSet) (*pflag.FlagSet, []*runner.Option) {
	fs := pflag.NewFlagSet(pkg.Name(), pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
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
	return fs, pkg.Positionals()
}

// negativesAsArgs makes a lone negative number an argument rather than a flag (pflag
// would read "-1" as the shorthand -1) when the tool takes a positional argument, so that
// it is refused with the argument's own error, as bcc's tools do.
func negativesAsArgs(fs *pflag.FlagSet, args []string, positionals []*runner.Option) []string {
	if len(positionals) == 0 {
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

// toolValues turns the parsed tool flags and the positional arguments into the option
// values of the package, and returns the load options that carry them. It is the one place
// that hands option values to the runner.
func toolValues(pkg *runner.Package, fs *pflag.FlagSet, positionals []*runner.Option) (runner.LoadOptions, error) {
	values := pkg.NewValues()
	set := values.Set
	load := runner.LoadOptions{Values: values}
	var err error
	for _, o := range pkg.Options() {
		f := fs.Lookup(o.FlagName())
		if f == nil || !f.Changed {
			continue
		}
		if e := set(o.Name, flagValue(o, f)); e != nil && err == nil {
			err = e
		}
	}
	if err != nil {
		return load, err
	}
	args, err := positionalArgs(fs, positionals)
	if err != nil {
		return load, err
	}
	for i, arg := range args {
		if err := set(positionals[i].Name, arg); err != nil {
			var ve *runner.ValueError
			if errors.As(err, &ve) {
				return load, fmt.Errorf("argument %s: %w", argName(positionals[i]), ve.Err)
			}
			return load, err
		}
	}
	return load, nil
}

// flagValue is the text value of the tool flag f for option o; a --disable-X flag gives
// the negation of what was parsed.
func flagValue(o *runner.Option, f *pflag.Flag) string {
	val := f.Value.String()
	if o.Kind == runner.KindBool {
		b, _ := strconv.ParseBool(val)
		if o.BoolMode == runner.BoolDisable {
			b = !b
		}
		val = strconv.FormatBool(b)
	}
	return val
}

// positionalArgs returns the tool's positional arguments (the first len(result) of
// positionals take them), refusing arguments the tool does not take.
func positionalArgs(fs *pflag.FlagSet, positionals []*runner.Option) ([]string, error) {
	args := fs.Args()
	switch {
	case len(args) == 0:
		return nil, nil
	case len(positionals) == 0:
		return nil, fmt.Errorf("unexpected argument %q (this tool takes no positional argument)", args[0])
	case len(args) > len(positionals):
		return nil, fmt.Errorf("unexpected argument %q", args[len(positionals)])
	}
	for i := range args {
		o := positionals[i]
		if f := fs.Lookup(o.FlagName()); f != nil && f.Changed {
			return nil, fmt.Errorf("%s given both as --%s and as an argument", argName(o), o.FlagName())
		}
	}
	return args, nil
}

// argName is how help and errors call the positional argument of o.
func argName(o *runner.Option) string {
	if o.Metavar != "" {
		return o.Metavar
	}
	return o.Name
}

// positionalUsage is the usage text of the positional arguments: " [interval [count]]".
func positionalUsage(positionals []*runner.Option) string {
	var b strings.Builder
	for _, o := range positionals {
		b.WriteString(" [" + argName(o))
	}
	b.WriteString(strings.Repeat("]", len(positionals)))
	return b.String()
}

func printToolHelp(w io.Writer, prog string, pkg *runner.Package, fs *pflag.FlagSet, positionals []*runner.Option) {
	m := pkg.Meta
	about := m.Doc.Brief
	if about == "" {
		about = m.Doc.Description
	}
	fmt.Fprintf(w, "Usage: ecli run %s [flags]%s\n", prog, positionalUsage(positionals))
	if about != "" {
		fmt.Fprintf(w, "\n%s\n", about)
	}
	if len(positionals) > 0 {
		fmt.Fprintf(w, "\nArguments:\n")
		for _, o := range positionals {
			fmt.Fprintf(w, "  %-20s %s\n", argName(o), o.Help)
		}
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
