package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/cobra"

	"ecli/ecli/internal/oci"
	"ecli/packages"
	"ecli/runner"
	"ecli/runner/decode"
)

var inspectOpts ociFlags

var inspectCmd = &cobra.Command{
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
	RunE: runInspect,
}

func init() {
	inspectOpts.register(inspectCmd.Flags())
	inspectCmd.Flags().StringVar(&inspectObject, "object", "", "BPF object `FILE` for a bare *.skel.json (default: NAME.bpf.o beside it)")
	rootCmd.AddCommand(inspectCmd)
}

// inspectObject is inspect's --object flag.
var inspectObject string

// inspected is a package and where it came from.
type inspected struct {
	source   string
	data     []byte
	manifest *ocispec.Descriptor // OCI packages only
}

func runInspect(cmd *cobra.Command, args []string) error {
	in, err := inspectSource(cmd, args[0])
	if err != nil {
		return err
	}
	var pkg *runner.Package
	if isFile(args[0]) {
		// Files go through run's loader: a bare *.skel.json finds its object the same way.
		pkg, err = loadFile(args[0], inspectObject)
	} else if pkg, err = runner.Parse(in.data); err != nil {
		err = fmt.Errorf("%s: %w", in.source, err)
	}
	if err != nil {
		return err
	}
	return printInspect(cmd.OutOrStdout(), in, pkg)
}

func inspectSource(cmd *cobra.Command, prog string) (*inspected, error) {
	ctx := cmd.Context()
	switch {
	case prog == "-":
		data, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), runner.MaxPackageSize))
		if err != nil {
			return nil, fmt.Errorf("reading package from stdin: %w", err)
		}
		return &inspected{source: "stdin", data: data}, nil
	case isFile(prog):
		data, err := os.ReadFile(prog)
		if err != nil {
			return nil, fmt.Errorf("reading package: %w", err)
		}
		return &inspected{source: prog, data: data}, nil
	case strings.HasPrefix(prog, "http://") || strings.HasPrefix(prog, "https://"):
		data, err := httpGet(ctx, prog)
		if err != nil {
			return nil, err
		}
		return &inspected{source: prog, data: data}, nil
	}
	if data, ok := packages.Lookup(prog); ok {
		return &inspected{source: "built-in " + prog, data: data}, nil
	}
	if !oci.LooksLikeReference(prog) {
		return nil, fmt.Errorf("%s: no such file, built-in tool or OCI reference (see ecli list)", prog)
	}
	c, err := inspectOpts.client()
	if err != nil {
		return nil, err
	}
	data, desc, err := c.Fetch(ctx, prog, inspectOpts.pull)
	if err != nil {
		return nil, err
	}
	return &inspected{source: prog, data: data, manifest: &desc}, nil
}

func printInspect(w io.Writer, in *inspected, pkg *runner.Package) error {
	m := pkg.Meta
	outputs, err := pkg.Outputs(nil)
	if err != nil {
		return fmt.Errorf("%s: %w", in.source, err)
	}
	plans := make(map[string]*decode.Plan, len(outputs))
	for _, o := range outputs {
		plans[o.Map] = o.Plan
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Package:\t%s\n", pkg.Name())
	fmt.Fprintf(tw, "Source:\t%s\n", in.source)
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

	if d := in.manifest; d != nil && len(d.Annotations) > 0 {
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

	fmt.Fprintf(w, "\nPrograms:\n")
	if len(m.Progs) == 0 {
		fmt.Fprintf(w, "  (none)\n")
	} else {
		fmt.Fprintf(tw, "  NAME\tATTACH\n")
		for _, p := range m.Progs {
			fmt.Fprintf(tw, "  %s\t%s\n", p.Name, p.Attach)
		}
		tw.Flush()
	}

	fmt.Fprintf(w, "\nMaps:\n")
	if len(m.Maps) == 0 {
		fmt.Fprintf(w, "  (none)\n")
	} else {
		fmt.Fprintf(tw, "  NAME\tIDENT\tUSE\n")
		for _, mm := range m.Maps {
			use := ""
			if _, ok := plans[mm.Name]; ok {
				use = "events (decoded below)"
			} else if _, ok := plans[mm.Ident]; ok {
				use = "events (decoded below)"
			}
			if s := mm.Sample; s != nil {
				use = fmt.Sprintf("sampled: %s every %s", s.Type, s.Interval)
				if s.Unit != "" {
					use += ", unit " + s.Unit
				}
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", mm.Name, mm.Ident, use)
		}
		tw.Flush()
	}

	fmt.Fprintf(w, "\nFlags:\n")
	if opts := pkg.Options(); len(opts) == 0 {
		fmt.Fprintf(w, "  (none)\n")
	} else {
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
			extra := []string{}
			if o.Default != "" {
				extra = append(extra, "default "+o.Default)
			}
			if o.Positional > 0 {
				extra = append(extra, fmt.Sprintf("positional %d", o.Positional))
			}
			if o.Role != "" {
				extra = append(extra, "role "+o.Role)
			}
			if o.Scale != 0 && o.Scale != 1 {
				extra = append(extra, fmt.Sprintf("scaled ×%g", o.Scale))
			}
			ex := ""
			if len(extra) > 0 {
				ex = " (" + strings.Join(extra, ", ") + ")"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s%s\n", name, typ, o.Name, oneLine(o.Help), ex)
		}
		tw.Flush()
	}

	fmt.Fprintf(w, "\nExported fields:\n")
	if len(plans) == 0 && len(m.ExportTypes) > 0 {
		// Exported types without a ring or perf buffer to read them from: list the metadata.
		for _, et := range m.ExportTypes {
			fmt.Fprintf(w, "  type %s (%d bytes, not read from any map)\n", et.Name, et.Size)
			for _, mem := range et.Members {
				fmt.Fprintf(tw, "    %s\t%s\n", mem.Name, mem.Type)
			}
			tw.Flush()
		}
	} else if len(plans) == 0 {
		fmt.Fprintf(w, "  (none)\n")
	}
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
			hints := strings.Join(f.Hints, " ")
			if f.Hidden && !strings.Contains(hints, "hide") {
				hints = strings.TrimSpace("(shown only with its flag) " + hints)
			}
			fmt.Fprintf(tw, "    %s\t%s\t%d\t%d\t%s\t%s\n", f.Name, f.Column, f.Offset, f.Size, decode.CTypeName(f.Type), hints)
		}
		tw.Flush()
	}
	return nil
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}
