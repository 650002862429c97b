// Command vm is the stock-kernel lane (issue 7, `make vmtest`): it builds the privileged test
// binaries statically, packs them with busybox and test/vm/init into an initramfs, boots each
// Debian stock kernel under qemu TCG, and reports per kernel which tests passed.
//
// Kernels come from test/vm/fetch-kernel.sh (a private apt configuration; cached outside the
// repository). With -docs it also rewrites the kernel × feature table in docs/kernels.md.
package main

import (
	"bufio"
	"context"
	"ecli/internal/testutils/tooltest"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

func main() {
	kernels := flag.String("kernels", "5.10 6.1 6.12", "kernels to boot (5.10, 6.1, 6.12)")
	pkgs := flag.String("pkgs", "./test/attach", "test packages to run in each VM")
	out := flag.String("out", "test/vm/out", "build and log directory")
	timeout := flag.Duration("timeout", 15*time.Minute, "per-kernel timeout")
	jobs := flag.Int("jobs", 2, "kernels booted at once")
	docs := flag.String("docs", "", "rewrite this kernels.md from the results")
	modules := flag.String("modules", "sch_ingress cls_bpf sch_netem", "kernel modules (and their dependencies) to load in each VM")
	flag.StringVar(&reuseInitrd, "initrd", "", "boot this initramfs instead of building one (for measuring boots)")
	flag.Parse()

	if err := lane(strings.Fields(*kernels), strings.Fields(*pkgs), strings.Fields(*modules), *out, *timeout, *jobs, *docs); err != nil {
		fmt.Fprintln(os.Stderr, "vmtest:", err)
		os.Exit(1)
	}
}

var reuseInitrd string

func lane(kernels, pkgs, modules []string, out string, timeout time.Duration, jobs int, docs string) error {
	if len(kernels) == 0 {
		return errors.New("no kernels given")
	}
	start := time.Now()
	vmlinuz := map[string]string{}
	for _, k := range kernels {
		p, err := fetchKernel(k)
		if err != nil {
			return err
		}
		vmlinuz[k] = p
	}
	fmt.Printf("vmtest: kernels ready (%.1fs)\n", time.Since(start).Seconds())

	t := time.Now()
	initrd := reuseInitrd
	if initrd == "" {
		var err error
		if initrd, err = buildInitramfs(pkgs, out); err != nil {
			return err
		}
	}
	fmt.Printf("vmtest: initramfs %s built (%.1fs)\n", initrd, time.Since(t).Seconds())

	// Per kernel: the common initramfs followed by an archive of that kernel's modules.
	initrds := map[string]string{}
	for _, k := range kernels {
		mods, err := moduleArchive(k, vmlinuz[k], out, modules)
		if err != nil {
			return err
		}
		initrds[k] = filepath.Join(out, "initrd-"+k+".gz")
		if err := concat(initrds[k], initrd, mods); err != nil {
			return err
		}
	}

	results := make([]*result, len(kernels))
	sem := make(chan struct{}, max(jobs, 1))
	var wg sync.WaitGroup
	for i, k := range kernels {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			fmt.Printf("vmtest: %s boots with %q\n", k, cmdline(vmlinuz[k]))
			results[i] = boot(k, vmlinuz[k], initrds[k], filepath.Join(out, "serial-"+k+".log"), timeout)
		}()
	}
	wg.Wait()

	fmt.Println()
	fmt.Println("vmtest summary:")
	failed := 0
	for _, r := range results {
		fmt.Println("  " + r.summary())
		if !r.ok() {
			failed++
		}
	}
	fmt.Printf("vmtest: total %.1fs\n", time.Since(start).Seconds())
	laneJobs, laneElapsed = jobs, time.Since(start)
	if docs != "" {
		if err := writeDocs(docs, results, kernels, pkgs); err != nil {
			return err
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d kernels failed (serial logs in %s)", failed, len(results), out)
	}
	return nil
}

// fetchKernel returns the cached vmlinuz of a kernel, downloading it first if needed.
func fetchKernel(k string) (string, error) {
	cmd := exec.Command("test/vm/fetch-kernel.sh", k)
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("fetching kernel %s: %w", k, err)
	}
	return strings.TrimSpace(string(b)), nil
}

type testPkg struct {
	ImportPath, Dir string
	Tests           bool
}

// buildInitramfs compiles the test binaries and init, and packs them with busybox, the
// packages' testdata and the prebuilt packages into out/initrd.gz.
func buildInitramfs(pkgs []string, out string) (string, error) {
	root := filepath.Join(out, "root")
	if err := os.RemoveAll(root); err != nil {
		return "", err
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	listed, err := listPkgs(pkgs)
	if err != nil {
		return "", err
	}
	env := append(os.Environ(), "CGO_ENABLED=0")
	goBin := os.Getenv("GO")
	if goBin == "" {
		goBin = "go"
	}
	var lines []string
	for _, p := range listed {
		if !p.Tests {
			fmt.Printf("vmtest: %s has no tests\n", p.ImportPath)
			continue
		}
		rel, err := filepath.Rel(wd, p.Dir)
		if err != nil || strings.HasPrefix(rel, "..") {
			return "", fmt.Errorf("package %s is outside the module", p.ImportPath)
		}
		dir := filepath.Join(root, "src", rel)
		bin := filepath.Join(dir, filepath.Base(rel)+".test")
		// Not stripped: tests may uprobe their own binary.
		cmd := exec.Command(goBin, "test", "-c", "-vet=off", "-o", bin, p.ImportPath)
		cmd.Env = env
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("building test binary of %s: %w", p.ImportPath, err)
		}
		if err := copyTree(filepath.Join(p.Dir, "testdata"), filepath.Join(dir, "testdata")); err != nil {
			return "", err
		}
		if err := buildTestPrograms(filepath.Join(dir, "testdata")); err != nil {
			return "", fmt.Errorf("%s: %w", p.ImportPath, err)
		}
		lines = append(lines, fmt.Sprintf("%s /src/%s /src/%s/%s\n", p.ImportPath, rel, rel, filepath.Base(bin)))
	}
	// Files tests reach by relative path from their package: repository-level testdata and
	// the prebuilt packages.
	for _, d := range []string{"testdata", "packages"} {
		if err := copyTree(d, filepath.Join(root, "src", d)); err != nil {
			return "", err
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "vmtest"), 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(root, "vmtest", "tests"), []byte(strings.Join(lines, "")), 0o644); err != nil {
		return "", err
	}
	cmd := exec.Command(goBin, "build", "-trimpath", "-o", filepath.Join(root, "init"), "./test/vm/init")
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building init: %w", err)
	}
	// The CLI, for tests that run it (tools' tests): /bin/ecli, named by ECLI_BIN in the VM.
	if _, err := os.Stat("ecli"); err == nil {
		cmd := exec.Command(goBin, "build", "-trimpath", "-o", filepath.Join(root, "bin", "ecli"), "./ecli")
		cmd.Env = env
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("building ecli: %w", err)
		}
	}
	if err := installBusybox(root); err != nil {
		return "", err
	}
	for _, d := range []string{"proc", "sys", "dev", "tmp", "etc", "root"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return "", err
		}
	}
	initrd, err := filepath.Abs(filepath.Join(out, "initrd.gz"))
	if err != nil {
		return "", err
	}
	// newc cpio, files in sorted order, gzip'd.
	sh := exec.Command("sh", "-c", "find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 | gzip -1 > "+initrd)
	sh.Dir = root
	sh.Stderr = os.Stderr
	if err := sh.Run(); err != nil {
		return "", fmt.Errorf("packing initramfs: %w", err)
	}
	return initrd, nil
}

// buildTestPrograms compiles each C program of a test package's testdata (NAME.c) into a
// static executable NAME beside it, with tooltest.VMCFlags: the VMs have no compiler, and
// tooltest.CompileC takes these binaries there.
func buildTestPrograms(testdata string) error {
	srcs, _ := filepath.Glob(filepath.Join(testdata, "*.c"))
	for _, src := range srcs {
		args := append(append([]string{"-static"}, tooltest.VMCFlags...), "-o", strings.TrimSuffix(src, ".c"), src)
		if out, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("gcc %s: %v: %s", src, err, out)
		}
	}
	return nil
}

func listPkgs(pkgs []string) ([]testPkg, error) {
	args := append([]string{"list", "-e", "-f", "{{.ImportPath}}\t{{.Dir}}\t{{len .TestGoFiles}}\t{{len .XTestGoFiles}}"}, pkgs...)
	cmd := exec.Command("go", args...)
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("listing test packages %v: %w", pkgs, err)
	}
	var out []testPkg
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Split(l, "\t")
		if len(f) != 4 || f[1] == "" {
			continue // pattern that matched nothing
		}
		out = append(out, testPkg{ImportPath: f[0], Dir: f[1], Tests: f[2] != "0" || f[3] != "0"})
	}
	return out, nil
}

// installBusybox copies the static busybox and links its applets into /bin.
func installBusybox(root string) error {
	bb := "/bin/busybox"
	if _, err := os.Stat(bb); err != nil {
		return fmt.Errorf("busybox: %w (install busybox-static)", err)
	}
	bin := filepath.Join(root, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return err
	}
	if err := copyFile(bb, filepath.Join(bin, "busybox"), 0o755); err != nil {
		return err
	}
	list, err := exec.Command(bb, "--list").Output()
	if err != nil {
		return fmt.Errorf("listing busybox applets: %w", err)
	}
	for _, a := range strings.Fields(string(list)) {
		if a == "busybox" || strings.Contains(a, "/") {
			continue
		}
		if err := os.Symlink("busybox", filepath.Join(bin, a)); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
	}
	// bash for tests that need it (e.g. /dev/tcp connects as another user), from bash-static.
	if _, err := os.Stat("/bin/bash-static"); err == nil {
		os.Remove(filepath.Join(bin, "bash"))
		if err := copyFile("/bin/bash-static", filepath.Join(bin, "bash"), 0o755); err != nil {
			return err
		}
	}
	for _, d := range []string{"sbin", "usr"} {
		if err := os.Symlink("bin", filepath.Join(root, d)); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
	}
	return nil
}

func copyTree(src, dst string) error {
	if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return copyFile(p, target, info.Mode().Perm())
	})
}

func copyFile(src, dst string, mode fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// cmdline is the kernel command line of a VM: the serial console and, where the kernel does
// not enable BPF LSM by default, lsm= with the LSMs it does enable (CONFIG_LSM of the config
// that fetch-kernel.sh keeps next to vmlinuz) followed by bpf. Debian builds BPF LSM in
// everywhere (CONFIG_BPF_LSM=y), but bullseye's 5.10 leaves bpf out of CONFIG_LSM, so lsm/
// programs would load and attach there yet never run. bookworm and trixie list bpf already.
func cmdline(vmlinuz string) string {
	c := "console=ttyS0 quiet panic=-1"
	if lsms := defaultLSMs(filepath.Join(filepath.Dir(vmlinuz), "config")); len(lsms) > 0 && !slices.Contains(lsms, "bpf") {
		c += " lsm=" + strings.Join(append(lsms, "bpf"), ",")
	}
	return c
}

// defaultLSMs reads CONFIG_LSM from a kernel config file; nil if there is none.
func defaultLSMs(config string) []string {
	b, err := os.ReadFile(config)
	if err != nil {
		return nil
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "CONFIG_LSM="); ok {
			v = strings.Trim(v, `"`)
			if v == "" {
				return nil
			}
			return strings.Split(v, ",")
		}
	}
	return nil
}

// boot runs one kernel and parses its serial console.
func boot(k, vmlinuz, initrd, logPath string, timeout time.Duration) *result {
	r := &result{kernel: k, tests: map[string]string{}, features: map[string]feature{}, pkgs: map[string]string{}}
	start := time.Now()
	defer func() { r.elapsed = time.Since(start) }()

	logf, err := os.Create(logPath)
	if err != nil {
		r.err = err
		return r
	}
	defer logf.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "qemu-system-x86_64",
		"-accel", "tcg", "-cpu", "max", "-m", "1G", "-smp", "1",
		"-nographic", "-no-reboot", "-monitor", "none", "-serial", "stdio",
		"-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
		"-kernel", vmlinuz, "-initrd", initrd,
		"-append", cmdline(vmlinuz))
	cmd.Stdin = nil
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		r.err = err
		return r
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		r.err = fmt.Errorf("starting qemu: %w", err)
		return r
	}
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	prefix := fmt.Sprintf("[%s] ", k)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		fmt.Fprintln(logf, line)
		fmt.Println(prefix + line)
		r.parse(line)
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		r.err = fmt.Errorf("timed out after %s", timeout)
	case errors.As(err, &ee) && ee.ExitCode() == 1:
		// isa-debug-exit with byte 0: init reported success.
	case errors.As(err, &ee) && ee.ExitCode() == 3:
		r.err = errors.New("tests failed")
	case err != nil:
		r.err = fmt.Errorf("qemu: %w", err)
	default:
		r.err = errors.New("VM powered off without reporting a result (init crashed or kernel panicked)")
	}
	if r.err == nil && r.done != "PASS" {
		r.err = fmt.Errorf("no %q line on the console", "ECLI-VMTEST DONE PASS")
	}
	return r
}
