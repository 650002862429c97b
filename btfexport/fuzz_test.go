package btfexport

import (
	"encoding/json"
	"os"
	"testing"
)

// FuzzDocComments: the doc-comment scanner takes any text without panicking, and what it
// returns for a block is a set of valid JSON values.
func FuzzDocComments(f *testing.F) {
	if src, err := os.ReadFile("testdata/golden/golden.bpf.c"); err == nil {
		f.Add(src)
	}
	f.Add([]byte("/// @cmdarg {\n/// \"a\": 1}\nconst volatile int x = 0;"))
	f.Add([]byte("/// @\n///\n/// text\nstruct { int a; } m SEC(\".maps\");"))
	f.Add([]byte("///"))
	f.Fuzz(func(t *testing.T, src []byte) {
		blocks, err := scanDocComments("fuzz.c", src)
		if err != nil {
			return
		}
		for _, b := range blocks {
			for k, v := range b.keys {
				if !json.Valid(v) {
					t.Fatalf("key %q: invalid JSON %q", k, v)
				}
			}
			b.target(func(string) bool { return true }, true)
			b.target(func(string) bool { return true }, false)
		}
	})
}
