package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A package that is not one is bad input: ecli run and ecli inspect say where in one line
// and exit with status 2, before anything is loaded.
func TestHostilePackageExit2(t *testing.T) {
	good, err := os.ReadFile(typesPackage)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	env := newCLIEnv(t)
	for _, tc := range []struct {
		name, data, want string
	}{
		{"truncated.json", string(good[:len(good)/2]), "truncated.json: bad package: not valid JSON"},
		{"size.json", strings.Replace(string(good), `"size":128`, `"size":1099511627776`, 1),
			"size.json: bad package: meta.export_types[0].size: is 1099511627776 but BTF struct kitchen is 128 bytes"},
		{"deep.json", strings.Repeat("[", 10000) + strings.Repeat("]", 10000), "deep.json: bad package: top level is an array"},
		{"nulls.json", `{"bpf_object":null,"bpf_object_size":null,"meta":null}`, "nulls.json: bad package: bpf_object: is null"},
	} {
		if tc.data == string(good) {
			t.Fatalf("%s: the mutation did not apply", tc.name)
		}
		file := filepath.Join(dir, tc.name)
		if err := os.WriteFile(file, []byte(tc.data), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, cmd := range []string{"run", "inspect"} {
			_, stderr, code := env.run("", cmd, file)
			lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			if code != 2 || len(lines) != 1 || !strings.HasPrefix(lines[0], "ecli: ") || !strings.Contains(lines[0], tc.want) {
				t.Errorf("ecli %s %s: exit %d, stderr %q; want exit 2 and one line with %q", cmd, tc.name, code, stderr, tc.want)
			}
		}
	}
}
