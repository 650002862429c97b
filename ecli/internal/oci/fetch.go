package oci

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/errdef"
)

// PullPolicy says when Fetch may use the network. It implements pflag.Value, so a CLI can
// bind it directly: flags.Var(&policy, "pull", "...").
type PullPolicy string

// Pull policies.
const (
	// PullAlways resolves the reference at the registry every time; blobs already in the
	// cache (verified) are not downloaded again.
	PullAlways PullPolicy = "always"
	// PullMissing uses the cache when it holds the reference (for a tag: what the tag
	// resolved to when last pulled), else pulls. The zero PullPolicy means PullMissing.
	PullMissing PullPolicy = "missing"
	// PullNever uses only the cache and fails with ErrNotCached when it lacks the reference.
	PullNever PullPolicy = "never"
)

// ParsePullPolicy parses "always", "missing" or "never".
func ParsePullPolicy(s string) (PullPolicy, error) {
	switch p := PullPolicy(s); p {
	case PullAlways, PullMissing, PullNever:
		return p, nil
	}
	return "", fmt.Errorf("pull policy %q: want always, missing or never", s)
}

// String implements pflag.Value.
func (p *PullPolicy) String() string {
	if *p == "" {
		return string(PullMissing)
	}
	return string(*p)
}

// Set implements pflag.Value.
func (p *PullPolicy) Set(s string) error {
	v, err := ParsePullPolicy(s)
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// Type implements pflag.Value.
func (p *PullPolicy) Type() string { return "always|missing|never" }

// Fetch returns the package bytes (package.json) that ref names, obeying policy, and the
// manifest's descriptor: its digest and size, ArtifactType, and the manifest's annotations
// in Annotations. Every byte returned or cached has been checked against its digest; sizes
// are checked against MaxManifestSize and MaxPackageSize before downloading. What a tag
// resolved to is cached too, so Fetch works offline for a reference pulled once.
func (c *Client) Fetch(ctx context.Context, ref string, policy PullPolicy) (data []byte, desc ocispec.Descriptor, err error) {
	r, err := ParseReference(ref)
	if err != nil {
		return nil, ocispec.Descriptor{}, fmt.Errorf("pulling: %w", err)
	}
	if policy == "" {
		policy = PullMissing
	}
	if _, err := ParsePullPolicy(string(policy)); err != nil {
		return nil, ocispec.Descriptor{}, fmt.Errorf("pulling %s: %w", r, err)
	}
	data, desc, err = c.fetch(ctx, r, policy)
	if err != nil {
		return nil, ocispec.Descriptor{}, fmt.Errorf("pulling %s: %w", r, err)
	}
	return data, desc, nil
}

// Resolve asks the registry which manifest ref names, without downloading it.
func (c *Client) Resolve(ctx context.Context, ref string) (ocispec.Descriptor, error) {
	r, err := ParseReference(ref)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("resolving: %w", err)
	}
	desc, err := c.resolve(ctx, r)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("resolving %s: %w", r, err)
	}
	return desc, nil
}

func (c *Client) resolve(ctx context.Context, ref Reference) (ocispec.Descriptor, error) {
	repo, err := c.repository(ctx, ref)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	desc, err := repo.Resolve(ctx, ref.reference())
	if err != nil {
		if errors.Is(err, errdef.ErrSizeExceedsLimit) {
			return ocispec.Descriptor{}, fmt.Errorf("manifest: %w: the limit is %d bytes", ErrTooLarge, MaxManifestSize)
		}
		err = classify(ref.Registry, err)
		if errors.Is(err, ErrNotFound) {
			what := "tag " + ref.Tag
			if ref.Digest != "" {
				what = "manifest " + ref.Digest.String()
			}
			return ocispec.Descriptor{}, fmt.Errorf("%w: %s in %s/%s", ErrNotFound, what, ref.Registry, ref.Repository)
		}
		return ocispec.Descriptor{}, err
	}
	if ref.Digest != "" && desc.Digest != ref.Digest {
		return ocispec.Descriptor{}, fmt.Errorf("manifest: %w: registry answered %s", ErrDigestMismatch, desc.Digest)
	}
	return desc, nil
}

func (c *Client) fetch(ctx context.Context, ref Reference, policy PullPolicy) ([]byte, ocispec.Descriptor, error) {
	if policy != PullAlways {
		data, desc, ok, err := c.fromCache(ref)
		if err != nil {
			return nil, ocispec.Descriptor{}, err
		}
		if ok {
			return data, desc, nil
		}
		if policy == PullNever {
			return nil, ocispec.Descriptor{}, fmt.Errorf("%w (pull it first, or use --pull missing)", ErrNotCached)
		}
	}

	mdesc, err := c.resolve(ctx, ref)
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	switch mdesc.MediaType {
	case ocispec.MediaTypeImageManifest:
	case ocispec.MediaTypeImageIndex, "application/vnd.docker.distribution.manifest.list.v2+json":
		return nil, ocispec.Descriptor{}, fmt.Errorf("%w: %s is an image index (a multi-platform image?), want an %s artifact", ErrWrongMediaType, ref, ArtifactType)
	default:
		return nil, ocispec.Descriptor{}, fmt.Errorf("%w: manifest media type %q, want %q", ErrWrongMediaType, mdesc.MediaType, ocispec.MediaTypeImageManifest)
	}
	if mdesc.Size > MaxManifestSize {
		return nil, ocispec.Descriptor{}, fmt.Errorf("manifest: %w: %d bytes, the limit is %d", ErrTooLarge, mdesc.Size, MaxManifestSize)
	}
	repo, err := c.repository(ctx, ref)
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}

	mb, ok, _ := c.cache.blob(mdesc.Digest, MaxManifestSize)
	if !ok {
		rc, err := repo.Manifests().Fetch(ctx, mdesc)
		if err != nil {
			return nil, ocispec.Descriptor{}, fmt.Errorf("manifest: %w", classify(ref.Registry, err))
		}
		mb, err = readVerified(rc, mdesc, ref.Registry, nil, "")
		rc.Close()
		if err != nil {
			return nil, ocispec.Descriptor{}, fmt.Errorf("manifest %s: %w", mdesc.Digest, err)
		}
	}
	m, layer, err := parseManifest(mb)
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}

	data, ok, _ := c.cache.blob(layer.Digest, MaxPackageSize)
	if !ok {
		rc, err := repo.Blobs().Fetch(ctx, layer)
		if err != nil {
			return nil, ocispec.Descriptor{}, fmt.Errorf("package layer: %w", classify(ref.Registry, err))
		}
		data, err = readVerified(rc, layer, ref.Registry, c.opts.Progress, ref.String())
		rc.Close()
		if err != nil {
			return nil, ocispec.Descriptor{}, fmt.Errorf("package layer %s: %w", layer.Digest, err)
		}
	}

	// Everything is verified: cache the layer, then the manifest, then the tag, so that the
	// cache never names content it lacks.
	if err := c.cache.putBlob(layer.Digest, data); err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	if err := c.cache.putBlob(mdesc.Digest, mb); err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	if ref.Tag != "" {
		if err := c.cache.putTag(ref, mdesc.Digest); err != nil {
			return nil, ocispec.Descriptor{}, err
		}
	}
	return data, manifestDescriptor(mdesc.Digest, mb, m), nil
}

// fromCache returns the cached package of ref. A miss, including content that failed
// verification (it is removed), is ok=false.
func (c *Client) fromCache(ref Reference) ([]byte, ocispec.Descriptor, bool, error) {
	d := ref.Digest
	if d == "" {
		var (
			ok  bool
			err error
		)
		d, ok, err = c.cache.tag(ref)
		if err != nil || !ok {
			return nil, ocispec.Descriptor{}, false, err
		}
	}
	mb, ok, err := c.cache.blob(d, MaxManifestSize)
	if err != nil && !errors.Is(err, ErrDigestMismatch) {
		return nil, ocispec.Descriptor{}, false, err
	}
	if !ok {
		return nil, ocispec.Descriptor{}, false, nil
	}
	m, layer, err := parseManifest(mb)
	if err != nil {
		return nil, ocispec.Descriptor{}, false, nil
	}
	data, ok, err := c.cache.blob(layer.Digest, MaxPackageSize)
	if err != nil && !errors.Is(err, ErrDigestMismatch) {
		return nil, ocispec.Descriptor{}, false, err
	}
	if !ok {
		return nil, ocispec.Descriptor{}, false, nil
	}
	return data, manifestDescriptor(d, mb, m), true, nil
}

func manifestDescriptor(d digest.Digest, mb []byte, m *ocispec.Manifest) ocispec.Descriptor {
	mt := m.MediaType
	if mt == "" {
		mt = ocispec.MediaTypeImageManifest
	}
	return ocispec.Descriptor{
		MediaType:    mt,
		Digest:       d,
		Size:         int64(len(mb)),
		ArtifactType: m.ArtifactType,
		Annotations:  m.Annotations,
	}
}

// parseManifest checks that mb is an ecli package manifest and returns its package layer,
// after checking the layer's size against MaxPackageSize.
func parseManifest(mb []byte) (*ocispec.Manifest, ocispec.Descriptor, error) {
	var m ocispec.Manifest
	if err := json.Unmarshal(mb, &m); err != nil {
		return nil, ocispec.Descriptor{}, fmt.Errorf("%w: manifest is not valid JSON: %v", ErrWrongMediaType, err)
	}
	if m.MediaType != "" && m.MediaType != ocispec.MediaTypeImageManifest {
		return nil, ocispec.Descriptor{}, fmt.Errorf("%w: manifest media type %q, want %q", ErrWrongMediaType, m.MediaType, ocispec.MediaTypeImageManifest)
	}
	if isWasm(&m) {
		return nil, ocispec.Descriptor{}, fmt.Errorf("%w: this is an eunomia-bpf WASM module (%s); ecli runs JSON packages only", ErrWasmNotSupported, WasmLayerMediaType)
	}
	if m.ArtifactType != ArtifactType && m.Config.MediaType != ArtifactType {
		what := m.ArtifactType
		if what == "" {
			what = m.Config.MediaType
		}
		return nil, ocispec.Descriptor{}, fmt.Errorf("%w: artifact type %q, want %q", ErrWrongMediaType, what, ArtifactType)
	}
	var layers []ocispec.Descriptor
	for _, l := range m.Layers {
		if l.MediaType == LayerMediaType {
			layers = append(layers, l)
		}
	}
	if len(layers) != 1 {
		return nil, ocispec.Descriptor{}, fmt.Errorf("%w: manifest has %d layers of type %q, want exactly 1", ErrWrongMediaType, len(layers), LayerMediaType)
	}
	layer := layers[0]
	if err := layer.Digest.Validate(); err != nil {
		return nil, ocispec.Descriptor{}, fmt.Errorf("%w: layer digest %q: %v", ErrWrongMediaType, layer.Digest, err)
	}
	if layer.Digest.Algorithm() != digest.SHA256 {
		return nil, ocispec.Descriptor{}, fmt.Errorf("%w: layer digest %s: only sha256 is supported", ErrWrongMediaType, layer.Digest)
	}
	if layer.Size < 0 || layer.Size > MaxPackageSize {
		return nil, ocispec.Descriptor{}, fmt.Errorf("package layer: %w: %d bytes, the limit is %d", ErrTooLarge, layer.Size, MaxPackageSize)
	}
	return &m, layer, nil
}

// readVerified reads exactly desc.Size bytes from r and checks them against desc.Digest.
func readVerified(r io.Reader, desc ocispec.Descriptor, host string, pw io.Writer, label string) ([]byte, error) {
	if !desc.Digest.Algorithm().Available() {
		return nil, fmt.Errorf("%w: unsupported digest algorithm %q", ErrDigestMismatch, desc.Digest.Algorithm())
	}
	buf, err := io.ReadAll(io.LimitReader(withProgress(pw, r, label, desc.Size), desc.Size+1))
	if err != nil {
		return nil, classify(host, err)
	}
	if n := int64(len(buf)); n > desc.Size {
		return nil, fmt.Errorf("%w: more than the %d bytes the descriptor says", ErrDigestMismatch, desc.Size)
	} else if n < desc.Size {
		return nil, fmt.Errorf("%w: got %d bytes, descriptor says %d", ErrDigestMismatch, n, desc.Size)
	}
	if got := desc.Digest.Algorithm().FromBytes(buf); got != desc.Digest {
		return nil, fmt.Errorf("%w: content hashes to %s", ErrDigestMismatch, got)
	}
	return buf, nil
}
