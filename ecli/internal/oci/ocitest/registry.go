// Package ocitest runs a real OCI registry for tests: Debian's docker-registry
// (distribution v2) on 127.0.0.1 with a random port and a temporary storage directory,
// optionally with htpasswd basic auth and TLS from a CA the test generates.
package ocitest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"ecli/internal/testutils"
)

// Registry is a real Debian docker-registry (distribution v2) process on 127.0.0.1.
type Registry struct {
	Host    string // 127.0.0.1:PORT
	Storage string // the filesystem storage root
	CAFile  string // PEM of the CA that signed the TLS certificate ("" without TLS)
	User    string // the htpasswd user ("" without auth)
	Pass    string // its password
	cmd     *exec.Cmd
	exited  chan struct{} // closed once the process has been reaped
	logFile string
}

// Options choose the registry's security.
type Options struct {
	TLS  bool // serve HTTPS with a certificate for 127.0.0.1 from a fresh CA (Registry.CAFile)
	Auth bool // htpasswd basic auth (user "ecli", password "s3cret-pw")
}

// RequireBinary returns the path of docker-registry. Without it the test skips, or
// fails when ECLI_TEST_PRIVILEGED=1 (CI), where nothing may be skipped silently.
func RequireBinary(t testing.TB) string {
	t.Helper()
	return requireBinary(t, "docker-registry", "docker-registry")
}

func requireBinary(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	testutils.SkipUnless(t, err == nil, fmt.Sprintf("needs the %s binary (Debian package %s; .ci/setup.d/registry.sh installs it)", name, pkg))
	return p
}

// Start starts docker-registry with a fresh storage directory and stops it when the
// test ends.
func Start(t *testing.T, opts Options) *Registry {
	t.Helper()
	bin := RequireBinary(t)
	dir := t.TempDir()
	r := &Registry{Storage: filepath.Join(dir, "storage"), logFile: filepath.Join(dir, "registry.log")}

	port := freePort(t)
	r.Host = fmt.Sprintf("127.0.0.1:%d", port)

	cfg := fmt.Sprintf(`version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
  secret: ecli-test-secret
`, r.Storage, r.Host)
	if opts.TLS {
		cert, key, ca := makeCert(t, dir)
		r.CAFile = ca
		cfg += fmt.Sprintf("  tls:\n    certificate: %s\n    key: %s\n", cert, key)
	}
	if opts.Auth {
		htpasswd := requireBinary(t, "htpasswd", "apache2-utils")
		r.User, r.Pass = "ecli", "s3cret-pw"
		out, err := exec.Command(htpasswd, "-Bbn", r.User, r.Pass).Output()
		if err != nil {
			t.Fatalf("htpasswd: %v", err)
		}
		pwfile := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(pwfile, bytes.TrimSpace(out), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg += fmt.Sprintf("auth:\n  htpasswd:\n    realm: ecli-test\n    path: %s\n", pwfile)
	}
	cfgFile := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	r.cmd = exec.Command(bin, "serve", cfgFile)
	logf, err := os.Create(r.logFile)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	r.cmd.Stdout = logf
	r.cmd.Stderr = logf
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("starting docker-registry: %v", err)
	}
	r.exited = make(chan struct{})
	go func() { r.cmd.Wait(); close(r.exited) }()
	t.Cleanup(func() {
		r.cmd.Process.Kill()
		<-r.exited
		if t.Failed() {
			t.Logf("docker-registry log:\n%s", r.logText())
		}
	})

	// Wait until it answers on /v2/.
	scheme := "http"
	client := &http.Client{Timeout: time.Second}
	if opts.TLS {
		scheme = "https"
		pool := x509.NewCertPool()
		pemBytes, err := os.ReadFile(r.CAFile)
		if err != nil || !pool.AppendCertsFromPEM(pemBytes) {
			t.Fatalf("reading test CA: %v", err)
		}
		client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	}
	if err := r.waitReady(client, scheme+"://"+r.Host+"/v2/", 15*time.Second); err != nil {
		t.Fatalf("%v\n%s", err, r.logText())
	}
	return r
}

// waitReady polls url until the registry answers, it exits, or timeout passes.
func (r *Registry) waitReady(client *http.Client, url string, timeout time.Duration) error {
	deadline := time.After(timeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-r.exited:
			return fmt.Errorf("docker-registry exited early")
		case <-deadline:
			return fmt.Errorf("docker-registry did not answer on %s: %v", r.Host, err)
		case <-tick.C:
		}
	}
}

func (r *Registry) logText() string {
	b, _ := os.ReadFile(r.logFile)
	return string(b)
}

// Stop kills the registry (for "registry down" tests) and waits until the process is
// gone, which closes its port; Cleanup copes with a stopped one.
func (r *Registry) Stop(t *testing.T) {
	t.Helper()
	r.cmd.Process.Kill()
	select {
	case <-r.exited:
	case <-time.After(10 * time.Second):
		t.Fatalf("registry on %s still running 10s after kill", r.Host)
	}
}

// BlobFile is where the registry keeps a blob on disk.
func (r *Registry) BlobFile(hex string) string {
	return filepath.Join(r.Storage, "docker", "registry", "v2", "blobs", "sha256", hex[:2], hex, "data")
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// makeCert writes a CA and a server certificate for 127.0.0.1 signed by it; it returns the
// server certificate, its key and the CA certificate file names.
func makeCert(t *testing.T, dir string) (certFile, keyFile, caFile string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "ecli test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, typ string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return write("server.crt", "CERTIFICATE", der), write("server.key", "EC PRIVATE KEY", keyDER), write("ca.crt", "CERTIFICATE", caDER)
}
