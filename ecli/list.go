package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"ecli/packages"
	"ecli/runner"
)

func newListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the built-in tools (run them with: ecli run NAME)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return printList(cmd.OutOrStdout())
		},
	}
}

// printList prints one line per built-in tool: its name and what it does.
func printList(out io.Writer) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	for _, name := range packages.Names() {
		data, _ := packages.Lookup(name)
		about := ""
		p, err := runner.Parse(data)
		switch {
		case err != nil:
			about = fmt.Sprintf("(broken package: %v)", err)
		case p.Meta.Doc.Brief != "":
			about = p.Meta.Doc.Brief
		default:
			about = p.Meta.Doc.Description
		}
		fmt.Fprintf(w, "%s\t%s\n", name, about)
	}
	return w.Flush()
}
