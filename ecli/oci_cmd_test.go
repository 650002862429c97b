package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"ecli/ecli/internal/oci/ocitest"
)

var digestLine = regexp.MustCompile(`^sha256:[0-9a-f]{64}\n$`)

const cliPackage = "internal/oci/testdata/simple_prog_5.json"

func TestCLIPushPullInspect(t *testing.T) {
	reg := ocitest.Start(t, ocitest.Options{})
	e := newCLIEnv(t)
	ref := reg.Host + "/tools/simple:v1"
	want, err := os.ReadFile(cliPackage)
	if err != nil {
		t.Fatal(err)
	}

	d1, _ := e.ok("", "push", ref, cliPackage, "--description", "an xdp test program")
	if !digestLine.MatchString(d1) {
		t.Fatalf("push printed %q, want a digest line", d1)
	}
	d2, _ := e.ok("", "push", ref, cliPackage, "--description", "an xdp test program")
	if d1 != d2 {
		t.Errorf("pushing twice: %s then %s", d1, d2)
	}
	dc, _ := e.ok("", "push", reg.Host+"/tools/simple:created", cliPackage, "--created")
	if dc == d1 {
		t.Error("--created did not change the digest")
	}
	digest := strings.TrimSpace(d1)

	outFile := filepath.Join(t.TempDir(), "pulled.json")
	p, _ := e.ok("", "pull", ref, "-o", outFile)
	if p != d1 {
		t.Errorf("pull printed %q, want %q", p, d1)
	}
	got, err := os.ReadFile(outFile)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("pull -o wrote other bytes (%v)", err)
	}
	stdout, _ := e.ok("", "pull", reg.Host+"/tools/simple@"+digest, "-o", "-")
	if stdout != string(want) {
		t.Error("pull by digest -o - printed other bytes")
	}

	insp, _ := e.ok("", "inspect", ref)
	for _, s := range []string{
		"Manifest digest:  " + digest,
		"Artifact type:    application/vnd.ecli.package.v1+json",
		"org.opencontainers.image.title        test",
		"org.opencontainers.image.description  an xdp test program",
		"xdp_pass  xdp",
		"test_bpf.rodata",
	} {
		if !strings.Contains(insp, s) {
			t.Errorf("inspect output lacks %q:\n%s", s, insp)
		}
	}
	if strings.Contains(insp, "org.opencontainers.image.created") {
		t.Errorf("created annotation without --created:\n%s", insp)
	}
	// A package with programs, a ring buffer and a flag, inspected through the registry.
	bref := reg.Host + "/tools/bootstrap:v1"
	e.ok("", "push", bref, "internal/oci/testdata/bootstrap_v1.json")
	binsp, _ := e.ok("", "inspect", bref)
	for _, re := range []string{
		`handle_exec +tp/sched/sched_process_exec`,
		`handle_exit +tp/sched/sched_process_exit`,
		`(?m)^  rb +rb`,
		`--min_duration_ns +long long unsigned int +min_duration_ns`,
		`map rb: event \(168 bytes\)`,
		`pid +PID +0 +4 +int`,
		`filename +FILENAME +40 +127 +char\[127\]`,
		`org.opencontainers.image.title +client\n`,
	} {
		if !regexp.MustCompile(re).MatchString(binsp) {
			t.Errorf("inspect output does not match %q:\n%s", re, binsp)
		}
	}

	fileInsp, _ := e.ok("", "inspect", cliPackage)
	pkgDigest := regexp.MustCompile(`Package digest: +(sha256:[0-9a-f]{64})`)
	a, b := pkgDigest.FindStringSubmatch(insp), pkgDigest.FindStringSubmatch(fileInsp)
	if a == nil || b == nil || a[1] != b[1] {
		t.Errorf("package digest of the file and of the pulled package differ: %v %v", a, b)
	}

	e.fails("not found: tag nope", "pull", reg.Host+"/tools/simple:nope")
	e.failsWith(2, "invalid reference", "push", "not a ref", cliPackage)

	// Offline: run resolves the cached reference without the registry.
	reg.Stop(t)
	help, _ := e.ok("", "run", "--pull", "never", ref, "--help")
	if !strings.Contains(help, "Usage: ecli run "+ref) {
		t.Errorf("offline ecli run --help:\n%s", help)
	}
	e.fails("registry unreachable", "pull", ref)
	e.fails("not in the cache", "run", "--pull", "never", reg.Host+"/tools/other:v1")
}

func TestCLILogin(t *testing.T) {
	reg := ocitest.Start(t, ocitest.Options{TLS: true, Auth: true})
	e := newCLIEnv(t)
	ref := reg.Host + "/tools/simple:v1"
	ca := "--ca-file=" + reg.CAFile

	e.fails("ecli login "+reg.Host, "push", ca, ref, cliPackage)
	e.fails("--ca-file", "pull", ref)

	_, errs, code := e.run("not-the-password\n", "login", ca, reg.Host, "-u", reg.User, "--password-stdin")
	if code != 1 || !strings.Contains(errs, "unauthorized") || strings.Contains(errs, "not-the-password") {
		t.Errorf("login with a wrong password: exit %d, stderr %q", code, errs)
	}
	out, errs := e.ok("", "login", ca, reg.Host, "-u", reg.User, "-p", reg.Pass)
	if !strings.Contains(errs, "insecure") || !strings.Contains(out, "Login Succeeded") {
		t.Errorf("login -p: stdout %q, stderr %q; want success and a warning", out, errs)
	}
	if strings.Contains(out+errs, reg.Pass) {
		t.Error("login printed the password")
	}
	if _, err := os.Stat(filepath.Join(e.docker, "config.json")); err != nil {
		t.Errorf("no docker config.json written: %v", err)
	}
	e.ok(reg.Pass+"\n", "login", ca, "https://"+reg.Host+"/", "-u", reg.User, "--password-stdin")

	d, _ := e.ok("", "push", ca, ref, cliPackage)
	p, _ := e.ok("", "pull", ca, ref)
	if d != p {
		t.Errorf("push printed %q, pull %q", d, p)
	}
	if out, _ := e.ok("", "logout", reg.Host); !strings.Contains(out, "Removed") {
		t.Errorf("logout printed %q", out)
	}
	e.fails("unauthorized", "pull", ca, ref)
}
