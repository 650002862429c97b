// Package packages holds ecli's built-in tools: prebuilt package JSON files embedded in
// the binary, so `ecli run NAME` works offline. `make packages` regenerates them from
// examples/<tool>/.
package packages

import (
	"embed"
	"io/fs"
	"sort"
	"strings"
)

// The pattern also matches this file, so the package builds before any tool exists.
//
//go:embed *
var files embed.FS

// Names lists the built-in tools, sorted.
func Names() []string {
	ents, _ := fs.ReadDir(files, ".")
	var out []string
	for _, e := range ents {
		if n, ok := strings.CutSuffix(e.Name(), ".json"); ok && !e.IsDir() {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// Lookup returns the package JSON of a built-in tool.
func Lookup(name string) ([]byte, bool) {
	if name == "" || strings.ContainsAny(name, "/.") {
		return nil, false
	}
	b, err := files.ReadFile(name + ".json")
	return b, err == nil
}
