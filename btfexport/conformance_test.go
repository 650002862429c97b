package btfexport

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestEunomiaConformance compares btfexport's metadata for objects ecc compiled with the
// metadata ecc itself wrote (testdata/eunomia).
func TestEunomiaConformance(t *testing.T) {
	for _, name := range []string{"multiple", "simple_prog", "profile"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("testdata", "eunomia")
			var theirs map[string]any
			if err := json.Unmarshal(readFile(t, filepath.Join(dir, name+".skel.json")), &theirs); err != nil {
				t.Fatal(err)
			}
			skel := theirs["bpf_skel"].(map[string]any)
			// The header ecc was given defined the exported structs: rebuild its names.
			var header strings.Builder
			if ets, ok := theirs["export_types"].([]any); ok {
				for _, et := range ets {
					header.WriteString("struct " + et.(map[string]any)["name"].(string) + " {};\n")
				}
			}
			opts := Options{Name: strings.TrimSuffix(skel["obj_name"].(string), "_bpf")}
			if header.Len() > 0 {
				opts.Header = []byte(header.String())
			}
			pkg, err := Export(readFile(t, filepath.Join(dir, name+".bpf.o")), opts)
			if err != nil {
				t.Fatal(err)
			}
			data, err := pkg.JSON()
			if err != nil {
				t.Fatal(err)
			}
			var mine map[string]any
			if err := json.Unmarshal(data, &mine); err != nil {
				t.Fatal(err)
			}
			mineMeta := mine["meta"].(map[string]any)
			mineSkel := mineMeta["bpf_skel"].(map[string]any)

			// Doc-comment keys need the source, which ecc had and this test has not.
			keep := func(list any, keys ...string) any {
				items, _ := list.([]any)
				out := []any{}
				for _, it := range items {
					m := map[string]any{}
					for _, k := range keys {
						if v, ok := it.(map[string]any)[k]; ok {
							m[k] = v
						}
					}
					out = append(out, m)
				}
				return out
			}
			for _, c := range []struct {
				what        string
				mine, their any
			}{
				{"obj_name", mineSkel["obj_name"], skel["obj_name"]},
				{"maps", keep(mineSkel["maps"], "name", "ident", "mmaped"), keep(skel["maps"], "name", "ident", "mmaped")},
				{"progs", keep(mineSkel["progs"], "name", "attach", "link"), keep(skel["progs"], "name", "attach", "link")},
				{"data_sections", mineSkel["data_sections"], skel["data_sections"]},
				{"export_types", mineMeta["export_types"], orEmpty(theirs["export_types"])},
			} {
				if !reflect.DeepEqual(c.mine, c.their) {
					a, _ := json.Marshal(c.mine)
					b, _ := json.Marshal(c.their)
					t.Errorf("%s differs from ecc's:\nbtfexport: %s\n      ecc: %s", c.what, a, b)
				}
			}
		})
	}
}

func orEmpty(v any) any {
	if v == nil {
		return []any{}
	}
	return v
}
