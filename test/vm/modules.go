package main

import (
	"debug/elf"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// moduleName is a module's name as the kernel sees it: file name without .ko, '-' as '_'.
func moduleName(path string) string {
	return strings.ReplaceAll(strings.TrimSuffix(filepath.Base(path), ".ko"), "-", "_")
}

// moduleDeps reads the depends= entry of a module's .modinfo section.
func moduleDeps(path string) ([]string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading module %s: %w", path, err)
	}
	defer f.Close()
	sec := f.Section(".modinfo")
	if sec == nil {
		return nil, nil
	}
	data, err := sec.Data()
	if err != nil {
		return nil, fmt.Errorf("reading .modinfo of %s: %w", path, err)
	}
	for _, kv := range strings.Split(string(data), "\x00") {
		if d, ok := strings.CutPrefix(kv, "depends="); ok && d != "" {
			return strings.Split(d, ","), nil
		}
	}
	return nil, nil
}

// moduleArchive stages the wanted modules of one kernel (with their dependencies, from the
// cached kernel/net and kernel/drivers/block trees next to vmlinuz) as /lib/modules/<release>/*.ko plus a load order
// in /lib/modules/<release>/vmtest.load, and returns a gzip'd newc cpio of it. Modules not in
// the tree are reported and skipped: the kernel may have them built in.
func moduleArchive(k, vmlinuz, out string, wanted []string) (string, error) {
	cache := filepath.Dir(vmlinuz)
	rel, err := os.ReadFile(filepath.Join(cache, "version"))
	if err != nil {
		return "", fmt.Errorf("kernel %s: %w", k, err)
	}
	release := strings.TrimSpace(string(rel))
	index := map[string]string{}
	filepath.WalkDir(filepath.Join(cache, "modules"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".ko") {
			index[moduleName(p)] = p
		}
		return nil
	})

	var order []string
	seen := map[string]bool{}
	var visit func(name string) error
	visit = func(name string) error {
		name = strings.ReplaceAll(name, "-", "_")
		if seen[name] {
			return nil
		}
		seen[name] = true
		p, ok := index[name]
		if !ok {
			fmt.Printf("vmtest: kernel %s: module %s not in its kernel/net or drivers/block tree (built in?)\n", k, name)
			return nil
		}
		deps, err := moduleDeps(p)
		if err != nil {
			return err
		}
		for _, d := range deps {
			if err := visit(d); err != nil {
				return err
			}
		}
		order = append(order, p)
		return nil
	}
	for _, m := range wanted {
		if err := visit(m); err != nil {
			return "", err
		}
	}

	root := filepath.Join(out, "modules-"+k)
	if err := os.RemoveAll(root); err != nil {
		return "", err
	}
	dir := filepath.Join(root, "lib", "modules", release)
	var load []string
	for _, p := range order {
		dst := filepath.Join(dir, filepath.Base(p))
		if err := copyFile(p, dst, 0o644); err != nil {
			return "", err
		}
		load = append(load, "/lib/modules/"+release+"/"+filepath.Base(p)+"\n")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "vmtest.load"), []byte(strings.Join(load, "")), 0o644); err != nil {
		return "", err
	}
	archive, err := filepath.Abs(filepath.Join(out, "modules-"+k+".cpio.gz"))
	if err != nil {
		return "", err
	}
	sh := exec.Command("sh", "-c", "find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 | gzip -1 > "+archive)
	sh.Dir = root
	sh.Stderr = os.Stderr
	if err := sh.Run(); err != nil {
		return "", fmt.Errorf("packing modules of kernel %s: %w", k, err)
	}
	return archive, nil
}

// concat writes the concatenation of files to dst (the kernel unpacks concatenated
// compressed cpio archives in order).
func concat(dst string, files ...string) error {
	var all []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		all = append(all, b...)
	}
	return os.WriteFile(dst, all, 0o644)
}
