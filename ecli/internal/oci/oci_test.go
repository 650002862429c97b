package oci

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"

	"ecli/ecli/internal/oci/ocitest"
	"oras.land/oras-go/v2/registry/remote"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseReference(t *testing.T) {
	const d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, tt := range []struct {
		in   string
		want Reference
		err  bool
	}{
		{in: "localhost:5000/tools/tcpconnlat:v1", want: Reference{Registry: "localhost:5000", Repository: "tools/tcpconnlat", Tag: "v1"}},
		{in: "localhost/x", want: Reference{Registry: "localhost", Repository: "x", Tag: "latest"}},
		{in: "127.0.0.1:5000/x@" + d, want: Reference{Registry: "127.0.0.1:5000", Repository: "x", Digest: d}},
		{in: "example.test/a/b:v1@" + d, want: Reference{Registry: "example.test", Repository: "a/b", Digest: d}},
		{in: "[::1]:5000/x:1", want: Reference{Registry: "[::1]:5000", Repository: "x", Tag: "1"}},
		{in: "tcpconnlat", err: true},
		{in: "library/ubuntu:22.04", err: true},
		{in: "localhost:5000/UPPER:v1", err: true},
		{in: "localhost:5000/x:bad tag", err: true},
		{in: "localhost:5000/x@sha256:short", err: true},
		{in: "localhost:5000/x@md5:d41d8cd98f00b204e9800998ecf8427e", err: true},
	} {
		got, err := ParseReference(tt.in)
		if tt.err {
			if !errors.Is(err, ErrBadReference) {
				t.Errorf("ParseReference(%q) = %+v, %v; want ErrBadReference", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseReference(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestLooksLikeReference(t *testing.T) {
	for s, want := range map[string]bool{
		"localhost:5000/tools/tcpconnlat:v1": true,
		"registry.example.test/x":            true,
		"tcpconnlat":                         false,
		"package.json":                       false,
		"./dir.d/package.json":               false,
		"/abs/path.json":                     false,
		"https://example.test/package.json":  false,
		"-":                                  false,
		"":                                   false,
		"tools/tcpconnlat":                   false,
	} {
		if got := LooksLikeReference(s); got != want {
			t.Errorf("LooksLikeReference(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	for s, want := range map[string]bool{
		"localhost": true, "localhost:5000": true, "127.0.0.1:1": true, "127.1.2.3": true,
		"[::1]:5000": true, "::1": true, "example.test:5000": false, "10.0.0.1:5000": false,
	} {
		if got := IsLoopback(s); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestPullPolicy(t *testing.T) {
	var p PullPolicy
	if p.String() != "missing" {
		t.Errorf("zero policy = %q, want missing", p.String())
	}
	for _, s := range []string{"always", "missing", "never"} {
		if err := p.Set(s); err != nil || string(p) != s {
			t.Errorf("Set(%q): %v, policy %q", s, err, p)
		}
	}
	if err := p.Set("sometimes"); err == nil {
		t.Error("Set(sometimes) succeeded")
	}
}

func TestManifest(t *testing.T) {
	data := readTestdata(t, "int128.json")
	opts := PushOptions{Title: "int128", Version: "1.0", Description: "test"}
	a, err := Manifest(data, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Manifest(data, opts)
	if !bytes.Equal(a, b) {
		t.Fatal("Manifest is not deterministic")
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(a, &m); err != nil {
		t.Fatal(err)
	}
	if m.SchemaVersion != 2 || m.MediaType != ocispec.MediaTypeImageManifest || m.ArtifactType != ArtifactType {
		t.Errorf("manifest header = %d %q %q", m.SchemaVersion, m.MediaType, m.ArtifactType)
	}
	if m.Config.MediaType != ocispec.MediaTypeEmptyJSON || m.Config.Digest != ocispec.DescriptorEmptyJSON.Digest || m.Config.Size != 2 {
		t.Errorf("config = %+v, want the empty descriptor", m.Config)
	}
	if len(m.Layers) != 1 || m.Layers[0].MediaType != LayerMediaType || m.Layers[0].Digest != digest.FromBytes(data) || m.Layers[0].Size != int64(len(data)) {
		t.Errorf("layers = %+v", m.Layers)
	}
	want := map[string]string{ocispec.AnnotationTitle: "int128", ocispec.AnnotationVersion: "1.0", ocispec.AnnotationDescription: "test"}
	if !equalMaps(m.Annotations, want) {
		t.Errorf("annotations = %v, want %v", m.Annotations, want)
	}
	if _, ok := m.Annotations[ocispec.AnnotationCreated]; ok {
		t.Error("created annotation present without being asked for")
	}

	opts.Created = time.Date(2024, 5, 6, 7, 8, 9, 0, time.FixedZone("x", 3600))
	c, _ := Manifest(data, opts)
	json.Unmarshal(c, &m)
	if got := m.Annotations[ocispec.AnnotationCreated]; got != "2024-05-06T06:08:09Z" {
		t.Errorf("created = %q", got)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

func TestParseManifestRejects(t *testing.T) {
	data := []byte(`{}`)
	good := func() ocispec.Manifest {
		var m ocispec.Manifest
		b, _ := Manifest(data, PushOptions{})
		json.Unmarshal(b, &m)
		return m
	}
	for _, tt := range []struct {
		name   string
		modify func(*ocispec.Manifest)
		want   error
	}{
		{"good", func(*ocispec.Manifest) {}, nil},
		{"wasm layer", func(m *ocispec.Manifest) {
			m.ArtifactType = ""
			m.Layers[0].MediaType = WasmLayerMediaType
		}, ErrWasmNotSupported},
		{"wasm config", func(m *ocispec.Manifest) {
			m.ArtifactType = ""
			m.Config.MediaType = WasmConfigMediaType
		}, ErrWasmNotSupported},
		{"other artifact", func(m *ocispec.Manifest) { m.ArtifactType = "application/vnd.example.thing" }, ErrWrongMediaType},
		{"no layer", func(m *ocispec.Manifest) { m.Layers = nil }, ErrWrongMediaType},
		{"two layers", func(m *ocispec.Manifest) { m.Layers = append(m.Layers, m.Layers[0]) }, ErrWrongMediaType},
		{"index", func(m *ocispec.Manifest) { m.MediaType = ocispec.MediaTypeImageIndex }, ErrWrongMediaType},
		{"huge layer", func(m *ocispec.Manifest) { m.Layers[0].Size = MaxPackageSize + 1 }, ErrTooLarge},
		{"negative size", func(m *ocispec.Manifest) { m.Layers[0].Size = -1 }, ErrTooLarge},
		{"bad digest", func(m *ocispec.Manifest) { m.Layers[0].Digest = "sha256:zz" }, ErrWrongMediaType},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := good()
			tt.modify(&m)
			b, _ := json.Marshal(m)
			_, _, err := parseManifest(b)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("parseManifest: %v, want %v", err, tt.want)
			}
		})
	}
}

// TestRoundTrip pushes to a real registry (plain HTTP on loopback, no auth) and pulls back by
// tag and by digest, then works offline from the cache.
func TestRoundTrip(t *testing.T) {
	reg := ocitest.Start(t, ocitest.Options{})
	ctx := testContext(t)
	data := readTestdata(t, "int128.json")
	var progress bytes.Buffer
	c := newTestClient(t, Options{Progress: &progress})
	ref := reg.Host + "/tools/int128:v1"

	desc, err := c.Push(ctx, ref, data, PushOptions{Title: "int128", Version: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(progress.String(), "100%") {
		t.Errorf("push progress output = %q, want a finished bar", progress.String())
	}
	again, err := c.Push(ctx, ref, data, PushOptions{Title: "int128", Version: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	if again.Digest != desc.Digest {
		t.Errorf("pushing twice gave %s then %s", desc.Digest, again.Digest)
	}
	resolved, err := c.Resolve(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if resolved.Digest != desc.Digest {
		t.Errorf("Resolve = %s, pushed %s", resolved.Digest, desc.Digest)
	}

	got, gdesc, err := c.Fetch(ctx, ref, PullAlways)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("pulled bytes differ from pushed bytes")
	}
	if gdesc.Digest != desc.Digest || gdesc.ArtifactType != ArtifactType {
		t.Errorf("Fetch descriptor = %+v, want digest %s and artifactType %s", gdesc, desc.Digest, ArtifactType)
	}
	if gdesc.Annotations[ocispec.AnnotationTitle] != "int128" || gdesc.Annotations[ocispec.AnnotationVersion] != "v1" {
		t.Errorf("annotations = %v", gdesc.Annotations)
	}

	// By digest, into a second, empty cache.
	c2 := newTestClient(t, Options{})
	byDigest := reg.Host + "/tools/int128@" + desc.Digest.String()
	got2, d2, err := c2.Fetch(ctx, byDigest, PullMissing)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got2, data) || d2.Digest != desc.Digest {
		t.Fatal("pull by digest returned other content")
	}
	// A different package under another tag does not disturb the first.
	other := readTestdata(t, "simple_prog_5.json")
	if _, err := c.Push(ctx, reg.Host+"/tools/int128:v2", other, PushOptions{}); err != nil {
		t.Fatal(err)
	}

	// Registry gone: cached tag and digest still resolve, "always" fails, "never" on an
	// empty cache fails.
	reg.Stop(t)
	for _, r := range []string{ref, byDigest} {
		got, d, err := c.Fetch(ctx, r, PullMissing)
		if err != nil {
			t.Fatalf("offline Fetch(%s): %v", r, err)
		}
		if !bytes.Equal(got, data) || d.Digest != desc.Digest {
			t.Errorf("offline Fetch(%s) returned other content", r)
		}
		if _, _, err := c.Fetch(ctx, r, PullNever); err != nil {
			t.Errorf("Fetch(%s, never): %v", r, err)
		}
	}
	if _, _, err := c.Fetch(ctx, ref, PullAlways); !errors.Is(err, ErrUnreachable) {
		t.Errorf("Fetch(always) with the registry down: %v, want ErrUnreachable", err)
	}
	c3 := newTestClient(t, Options{})
	if _, _, err := c3.Fetch(ctx, ref, PullNever); !errors.Is(err, ErrNotCached) {
		t.Errorf("Fetch(never) on an empty cache: %v, want ErrNotCached", err)
	}
	if _, _, err := c3.Fetch(ctx, ref, PullMissing); !errors.Is(err, ErrUnreachable) {
		t.Errorf("Fetch(missing) on an empty cache, registry down: %v, want ErrUnreachable", err)
	}
}

// TestCacheCorruption: a cached blob that no longer matches its digest is never returned.
func TestCacheCorruption(t *testing.T) {
	reg := ocitest.Start(t, ocitest.Options{})
	ctx := testContext(t)
	data := readTestdata(t, "int128.json")
	c := newTestClient(t, Options{})
	ref := reg.Host + "/tools/int128:v1"
	if _, err := c.Push(ctx, ref, data, PushOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Fetch(ctx, ref, PullMissing); err != nil {
		t.Fatal(err)
	}
	p := c.cache.blobPath(digest.FromBytes(data))
	if err := os.WriteFile(p, bytes.Replace(data, []byte("bpf"), []byte("BPF"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Fetch(ctx, ref, PullNever); !errors.Is(err, ErrNotCached) {
		t.Errorf("Fetch(never) with a corrupted cache: %v, want ErrNotCached", err)
	}
	got, _, err := c.Fetch(ctx, ref, PullMissing)
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("Fetch(missing) after corruption: %v, equal=%v", err, bytes.Equal(got, data))
	}
}

func TestErrors(t *testing.T) {
	reg := ocitest.Start(t, ocitest.Options{})
	ctx := testContext(t)
	c := newTestClient(t, Options{})
	data := readTestdata(t, "int128.json")
	if _, err := c.Push(ctx, reg.Host+"/tools/int128:v1", data, PushOptions{}); err != nil {
		t.Fatal(err)
	}

	// An eunomia WASM module and some other artifact, pushed with oras-go directly the way
	// eunomia's tooling lays them out.
	repo, err := remote.NewRepository(reg.Host + "/tools/wasm")
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	pushArtifact := func(tag, configType, layerType string) {
		t.Helper()
		cfg := []byte("{}")
		cdesc := ocispec.Descriptor{MediaType: configType, Digest: digest.FromBytes(cfg), Size: int64(len(cfg))}
		layer := []byte("\x00asm\x01\x00\x00\x00")
		ldesc := ocispec.Descriptor{MediaType: layerType, Digest: digest.FromBytes(layer), Size: int64(len(layer))}
		for _, b := range []struct {
			d ocispec.Descriptor
			b []byte
		}{{cdesc, cfg}, {ldesc, layer}} {
			if err := repo.Push(ctx, b.d, bytes.NewReader(b.b)); err != nil {
				t.Fatal(err)
			}
		}
		mdesc, err := oras.PackManifest(ctx, repo, oras.PackManifestVersion1_1, "", oras.PackManifestOptions{
			ConfigDescriptor: &cdesc, Layers: []ocispec.Descriptor{ldesc},
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := repo.Tag(ctx, mdesc, tag); err != nil {
			t.Fatal(err)
		}
	}
	pushArtifact("wasm", WasmConfigMediaType, WasmLayerMediaType)
	pushArtifact("other", "application/vnd.example.config.v1+json", "application/vnd.example.layer.v1")

	for _, tt := range []struct {
		ref  string
		want error
		text string
	}{
		{reg.Host + "/tools/int128:nope", ErrNotFound, "tag nope"},
		{reg.Host + "/tools/nothing:v1", ErrNotFound, "not found"},
		{reg.Host + "/tools/int128@sha256:" + strings.Repeat("ab", 32), ErrNotFound, "manifest sha256:abab"},
		{reg.Host + "/tools/wasm:wasm", ErrWasmNotSupported, "WASM modules are not supported"},
		{reg.Host + "/tools/wasm:other", ErrWrongMediaType, "application/vnd.example.config.v1+json"},
		{"tcpconnlat", ErrBadReference, "invalid reference"},
		{"library/ubuntu:22.04", ErrBadReference, "not a registry host"},
	} {
		_, _, err := c.Fetch(ctx, tt.ref, PullAlways)
		t.Logf("%s: %v", tt.ref, err)
		if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Fetch(%s) = %v; want %v containing %q, one line", tt.ref, err, tt.want, tt.text)
		}
	}
	// Nothing from the failed pulls is cached.
	if _, _, err := c.Fetch(ctx, reg.Host+"/tools/wasm:wasm", PullNever); !errors.Is(err, ErrNotCached) {
		t.Errorf("wasm artifact got cached: %v", err)
	}

	// A registry that is not there at all.
	down := newTestClient(t, Options{Timeout: 2 * time.Second})
	_, _, err = down.Fetch(ctx, "127.0.0.1:1/tools/x:v1", PullAlways)
	if !errors.Is(err, ErrUnreachable) {
		t.Errorf("Fetch from a closed port: %v, want ErrUnreachable", err)
	}
	_, err = down.Push(ctx, "127.0.0.1:1/tools/x:v1", data, PushOptions{})
	if !errors.Is(err, ErrUnreachable) {
		t.Errorf("Push to a closed port: %v, want ErrUnreachable", err)
	}
}

// TestTamperedBlob corrupts the package blob on the registry's disk: the pull must fail with a
// digest mismatch and leave nothing in the cache.
func TestTamperedBlob(t *testing.T) {
	reg := ocitest.Start(t, ocitest.Options{})
	ctx := testContext(t)
	data := readTestdata(t, "int128.json")
	c := newTestClient(t, Options{})
	ref := reg.Host + "/tools/int128:v1"
	if _, err := c.Push(ctx, ref, data, PushOptions{}); err != nil {
		t.Fatal(err)
	}
	blob := reg.BlobFile(digest.FromBytes(data).Encoded())
	stored, err := os.ReadFile(blob)
	if err != nil {
		t.Fatalf("reading the registry's blob: %v", err)
	}
	if !bytes.Equal(stored, data) {
		t.Fatal("registry blob file does not hold the package")
	}
	tampered := bytes.Clone(stored)
	tampered[len(tampered)/2] ^= 0x20
	if err := os.WriteFile(blob, tampered, 0o644); err != nil {
		t.Fatal(err)
	}

	_, _, err = c.Fetch(ctx, ref, PullAlways)
	if !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("Fetch of a tampered blob: %v, want ErrDigestMismatch", err)
	}
	t.Logf("error: %v", err)
	var files []string
	filepath.WalkDir(c.CacheDir(), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if len(files) != 0 {
		t.Errorf("cache holds %v after a failed pull", files)
	}
	if _, _, err := c.Fetch(ctx, ref, PullNever); !errors.Is(err, ErrNotCached) {
		t.Errorf("Fetch(never) after the failed pull: %v, want ErrNotCached", err)
	}
}

// TestAuthTLS: a registry with htpasswd basic auth and a certificate from a test CA.
func TestAuthTLS(t *testing.T) {
	reg := ocitest.Start(t, ocitest.Options{TLS: true, Auth: true})
	ctx := testContext(t)
	data := readTestdata(t, "int128.json")
	ref := reg.Host + "/tools/int128:v1"
	dockerConfig := filepath.Join(t.TempDir(), "config.json")

	// Without the CA: a TLS error that names --ca-file.
	noCA := newTestClient(t, Options{DockerConfig: dockerConfig})
	if _, err := noCA.Push(ctx, ref, data, PushOptions{}); !errors.Is(err, ErrTLS) || !strings.Contains(err.Error(), "--ca-file") {
		t.Errorf("Push without the CA: %v, want ErrTLS naming --ca-file", err)
	}

	c := newTestClient(t, Options{CAFile: reg.CAFile, DockerConfig: dockerConfig})
	// Not logged in: unauthorized, and the error says how to log in.
	_, err := c.Push(ctx, ref, data, PushOptions{})
	t.Logf("no login: %v", err)
	if !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), "ecli login "+reg.Host) {
		t.Errorf("Push without login: %v, want ErrUnauthorized saying to run ecli login %s", err, reg.Host)
	}
	if _, _, err := c.Fetch(ctx, ref, PullAlways); !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), "ecli login") {
		t.Errorf("Fetch without login: %v, want ErrUnauthorized saying to log in", err)
	}

	// Wrong password: unauthorized, nothing stored, password not echoed.
	err = c.Login(ctx, reg.Host, reg.User, "wrong-password")
	t.Logf("wrong password: %v", err)
	if !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), "unauthorized") {
		t.Errorf("Login with a wrong password: %v, want ErrUnauthorized", err)
	}
	if err != nil && strings.Contains(err.Error(), "wrong-password") {
		t.Errorf("error shows the password: %v", err)
	}
	if ok, _ := c.LoggedIn(ctx, reg.Host); ok {
		t.Error("a refused login was stored")
	}

	if err := c.Login(ctx, reg.Host, reg.User, reg.Pass); err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile(dockerConfig)
	if err != nil {
		t.Fatalf("docker config not written: %v", err)
	}
	var dc struct {
		Auths map[string]struct{ Auth string } `json:"auths"`
	}
	if err := json.Unmarshal(cfg, &dc); err != nil || dc.Auths[reg.Host].Auth == "" {
		t.Errorf("docker config has no auths entry for %s: %s", reg.Host, cfg)
	}

	desc, err := c.Push(ctx, ref, data, PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// A fresh client reading the same docker config: existing logins just work.
	c2 := newTestClient(t, Options{CAFile: reg.CAFile, DockerConfig: dockerConfig})
	got, d, err := c2.Fetch(ctx, ref, PullAlways)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) || d.Digest != desc.Digest {
		t.Error("pulled other content")
	}

	if err := c2.Logout(ctx, reg.Host); err != nil {
		t.Fatal(err)
	}
	c3 := newTestClient(t, Options{CAFile: reg.CAFile, DockerConfig: dockerConfig})
	if _, _, err := c3.Fetch(ctx, ref, PullAlways); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("Fetch after logout: %v, want ErrUnauthorized", err)
	}
	// --plain-http against a TLS registry fails clearly rather than hanging.
	plain := newTestClient(t, Options{PlainHTTP: true, Timeout: 5 * time.Second})
	if _, _, err := plain.Fetch(ctx, ref, PullAlways); err == nil {
		t.Error("plain HTTP to a TLS registry succeeded")
	}
}

// TestCredentialHelper: credentials kept by a docker credential helper (credHelpers in
// config.json) are used for pulls and written by Login.
func TestCredentialHelper(t *testing.T) {
	reg := ocitest.Start(t, ocitest.Options{TLS: true, Auth: true})
	ctx := testContext(t)
	dir := t.TempDir()
	store := filepath.Join(dir, "helper-store")
	// A credential helper implementing the docker protocol (get/store/erase on stdin) over a
	// file of "SERVER USER SECRET" lines.
	helper := `#!/bin/sh
set -e
store='` + store + `'
touch "$store"
case "$1" in
store)
  in=$(cat)
  server=$(printf '%s' "$in" | sed -n 's/.*"ServerURL":"\([^"]*\)".*/\1/p')
  user=$(printf '%s' "$in" | sed -n 's/.*"Username":"\([^"]*\)".*/\1/p')
  secret=$(printf '%s' "$in" | sed -n 's/.*"Secret":"\([^"]*\)".*/\1/p')
  grep -v "^$server " "$store" > "$store.new" || true
  echo "$server $user $secret" >> "$store.new"
  mv "$store.new" "$store" ;;
get)
  server=$(cat)
  line=$(grep "^$server " "$store" || true)
  if [ -z "$line" ]; then echo "credentials not found in native keychain"; exit 1; fi
  set -- $line
  printf '{"ServerURL":"%s","Username":"%s","Secret":"%s"}\n' "$1" "$2" "$3" ;;
erase)
  server=$(cat)
  grep -v "^$server " "$store" > "$store.new" || true
  mv "$store.new" "$store" ;;
esac
`
	bin := filepath.Join(dir, "bin")
	os.MkdirAll(bin, 0o755)
	if err := os.WriteFile(filepath.Join(bin, "docker-credential-ecli-test"), []byte(helper), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	dockerConfig := filepath.Join(dir, "config.json")
	if err := os.WriteFile(dockerConfig, []byte(`{"credHelpers":{"`+reg.Host+`":"ecli-test"}}`), 0o600); err != nil {
		t.Fatal(err)
	}

	c := newTestClient(t, Options{CAFile: reg.CAFile, DockerConfig: dockerConfig})
	if err := c.Login(ctx, reg.Host, reg.User, reg.Pass); err != nil {
		t.Fatal(err)
	}
	cfg, _ := os.ReadFile(dockerConfig)
	if strings.Contains(string(cfg), "auths") {
		t.Errorf("Login wrote credentials into config.json despite a helper: %s", cfg)
	}
	kept, _ := os.ReadFile(store)
	if !strings.Contains(string(kept), reg.Host+" "+reg.User+" ") {
		t.Fatalf("helper store = %q, want an entry for %s", kept, reg.Host)
	}
	data := readTestdata(t, "int128.json")
	if _, err := c.Push(ctx, reg.Host+"/tools/int128:v1", data, PushOptions{}); err != nil {
		t.Fatal(err)
	}
	c2 := newTestClient(t, Options{CAFile: reg.CAFile, DockerConfig: dockerConfig})
	if got, _, err := c2.Fetch(ctx, reg.Host+"/tools/int128:v1", PullAlways); err != nil || !bytes.Equal(got, data) {
		t.Errorf("Fetch with helper credentials: %v", err)
	}
}
