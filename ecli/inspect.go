package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"ecli/runner"
	"ecli/runner/decode"
)

// inspectOptions are the flags of `ecli inspect`: where the package comes from.
type inspectOptions struct {
	source sourceOptions
}

func (o *inspectOptions) ApplyFlags(fs *pflag.FlagSet) {
	o.source.ApplyFlags(fs)
}

func newInspectCmd() *cobra.Command {
	var opts inspectOptions
	cmd := &cobra.Command{
		Use:   "inspect [flags] PROG",
		Short: "Show what a package contains: programs, maps, flags, exported fields, digest",
		Long: `Show what a package contains before running it: its programs and their attach
points, its maps, the tool's flags, the exported event fields, its digest and,
for an OCI package, the manifest digest and annotations. Nothing is loaded into
the kernel.

PROG is resolved as by "ecli run": - (stdin), a file, an http(s) URL, a built-in
tool, else an OCI reference (REGISTRY/REPOSITORY[:TAG|@sha256:DIGEST]).`,
		Example: `  ecli inspect packages/tcpconnlat.json
  ecli inspect localhost:5000/tools/tcpconnlat:v1`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pkg, in, err := resolvePackage(cmd, args[0], &opts.source)
			if err != nil {
				return err
			}
			return printInspect(cmd.OutOrStdout(), in, pkg)
		},
	}
	opts.ApplyFlags(cmd.Flags())
	return cmd
}

// exportPlans returns the decode plan of every map whose events the package prints, by
// map name: the one place inspect asks the runner what gets printed.
func exportPlans(pkg *runner.Package) (map[string]*decode.Plan, error) {
	outputs, err := pkg.Outputs(nil)
	if err != nil {
		return nil, err
	}
	plans := make(map[string]*decode.Plan, len(outputs))
	for _, o := range outputs {
		plans[o.Map] = o.Plan
	}
	return plans, nil
}

// printInspect prints what inspect shows of pkg, section by section.
func printInspect(w io.Writer, in *origin, pkg *runner.Package) error {
	plans, err := exportPlans(pkg)
	if err != nil {
		return fmt.Errorf("%s: %w", in.name, err)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	printSummary(tw, in, pkg)
	printAnnotations(w, tw, in.manifest)
	m := pkg.Meta
	section(w, "Programs", len(m.Progs) == 0)
	printPrograms(tw, m.Progs)
	section(w, "Maps", len(m.Maps) == 0)
	printMaps(tw, m.Maps, plans)
	section(w, "Flags", len(pkg.Options()) == 0)
	printFlags(tw, pkg.Options())
	section(w, "Exported fields", len(plans) == 0 && len(m.ExportTypes) == 0)
	if len(plans) == 0 {
		printExportTypes(w, tw, m.ExportTypes)
	}
	printPlans(w, tw, plans)
	return nil
}

// section starts a section of inspect's output: a blank line, its title and, when it
// has nothing to list, "(none)".
func section(w io.Writer, title string, empty bool) {
	fmt.Fprintf(w, "\n%s:\n", title)
	if empty {
		fmt.Fprintf(w, "  (none)\n")
	}
}

// printSummary prints the package's name, source, documentation, sizes and digests.
func printSummary(tw *tabwriter.Writer, in *origin, pkg *runner.Package) {
	m := pkg.Meta
	fmt.Fprintf(tw, "Package:\t%s\n", pkg.Name())
	fmt.Fprintf(tw, "Source:\t%s\n", in.name)
	if about := firstNonEmpty(m.Doc.Brief, m.Doc.Description); about != "" {
		fmt.Fprintf(tw, "About:\t%s\n", strings.SplitN(about, "\n", 2)[0])
	}
	if m.Doc.Version != "" {
		fmt.Fprintf(tw, "Version:\t%s\n", m.Doc.Version)
	}
	if m.Version != "" {
		fmt.Fprintf(tw, "eunomia version:\t%s\n", m.Version)
	}
	fmt.Fprintf(tw, "Package digest:\t%s (%d bytes)\n", digest.FromBytes(in.data), len(in.data))
	fmt.Fprintf(tw, "BPF object:\t%d bytes\n", len(pkg.ELF))
	if d := in.manifest; d != nil {
		fmt.Fprintf(tw, "Manifest digest:\t%s\n", d.Digest)
		fmt.Fprintf(tw, "Artifact type:\t%s\n", d.ArtifactType)
	}
	tw.Flush()
}

// printAnnotations lists an OCI manifest's annotations, sorted by key; nothing for other
// packages.
func printAnnotations(w io.Writer, tw *tabwriter.Writer, d *ocispec.Descriptor) {
	if d == nil || len(d.Annotations) == 0 {
		return
	}
	fmt.Fprintf(w, "\nAnnotations:\n")
	keys := make([]string, 0, len(d.Annotations))
	for k := range d.Annotations {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(tw, "  %s\t%s\n", k, oneLine(d.Annotations[k]))
	}
	tw.Flush()
}

// printPrograms lists the programs and their attach points.
func printPrograms(tw *tabwriter.Writer, progs []runner.ProgMeta) {
	if len(progs) == 0 {
		return
	}
	fmt.Fprintf(tw, "  NAME\tATTACH\n")
	for _, p := range progs {
		fmt.Fprintf(tw, "  %s\t%s\n", p.Name, p.Attach)
	}
	tw.Flush()
}

// printMaps lists the maps and what the runner does with each.
func printMaps(tw *tabwriter.Writer, maps []runner.MapMeta, plans map[string]*decode.Plan) {
	if len(maps) == 0 {
		return
	}
	fmt.Fprintf(tw, "  NAME\tIDENT\tUSE\n")
	for _, mm := range maps {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", mm.Name, mm.Ident, mapUse(mm, plans))
	}
	tw.Flush()
}

// mapUse says how a map is read: sampled, streamed as events, or not at all ("").
func mapUse(mm runner.MapMeta, plans map[string]*decode.Plan) string {
	if s := mm.Sample; s != nil {
		use := fmt.Sprintf("sampled: %s every %s", s.Type, s.Interval)
		if s.Unit != "" {
			use += ", unit " + s.Unit
		}
		return use
	}
	if _, ok := plans[mm.Name]; ok {
		return "events (decoded below)"
	}
	if _, ok := plans[mm.Ident]; ok {
		return "events (decoded below)"
	}
	return ""
}

// printFlags lists the tool's flags.
func printFlags(tw *tabwriter.Writer, opts []*runner.Option) {
	if len(opts) == 0 {
		return
	}
	fmt.Fprintf(tw, "  FLAG\tTYPE\tVARIABLE\tHELP\n")
	for _, o := range opts {
		name := "--" + o.FlagName()
		if o.Short != "" {
			name = "-" + o.Short + ", " + name
		}
		typ := o.Type
		if o.Metavar != "" {
			typ = o.Metavar
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s%s\n", name, typ, o.Name, oneLine(o.Help), flagNotes(o))
	}
	tw.Flush()
}

// flagNotes is the parenthesised remark after a flag's help: default, positional, role, scale.
func flagNotes(o *runner.Option) string {
	var notes []string
	if o.Default != "" {
		notes = append(notes, "default "+o.Default)
	}
	if o.Positional > 0 {
		notes = append(notes, fmt.Sprintf("positional %d", o.Positional))
	}
	if o.Role != "" {
		notes = append(notes, "role "+o.Role)
	}
	if o.Scale != 0 && o.Scale != 1 {
		notes = append(notes, fmt.Sprintf("scaled ×%g", o.Scale))
	}
	if len(notes) == 0 {
		return ""
	}
	return " (" + strings.Join(notes, ", ") + ")"
}

// printExportTypes lists exported types that no ring or perf buffer is read for, from
// the metadata.
func printExportTypes(w io.Writer, tw *tabwriter.Writer, types []runner.ExportType) {
	for _, et := range types {
		fmt.Fprintf(w, "  type %s (%d bytes, not read from any map)\n", et.Name, et.Size)
		for _, mem := range et.Members {
			fmt.Fprintf(tw, "    %s\t%s\n", mem.Name, mem.Type)
		}
		tw.Flush()
	}
}

// printPlans lists, per event map sorted by name, the fields it decodes.
func printPlans(w io.Writer, tw *tabwriter.Writer, plans map[string]*decode.Plan) {
	names := make([]string, 0, len(plans))
	for n := range plans {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := plans[n]
		fmt.Fprintf(w, "  map %s: %s (%d bytes)\n", n, p.Name(), p.Size())
		fmt.Fprintf(tw, "    FIELD\tCOLUMN\tOFFSET\tSIZE\tTYPE\tHINTS\n")
		for _, f := range p.Fields() {
			fmt.Fprintf(tw, "    %s\t%s\t%d\t%d\t%s\t%s\n", f.Name, f.Column, f.Offset, f.Size, decode.CTypeName(f.Type), fieldHints(f))
		}
		tw.Flush()
	}
}

// fieldHints are a field's display hints as inspect shows them.
func fieldHints(f decode.Field) string {
	hints := strings.Join(f.Hints, " ")
	if f.Hidden && !strings.Contains(hints, "hide") {
		hints = strings.TrimSpace("(shown only with its flag) " + hints)
	}
	return hints
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}
