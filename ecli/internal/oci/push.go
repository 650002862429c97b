package oci

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/registry/remote"
)

// PushOptions are the manifest annotations of a pushed package. Empty fields are left out, so
// pushing the same bytes with the same options always gives the same manifest digest.
type PushOptions struct {
	// Title is org.opencontainers.image.title.
	Title string
	// Version is org.opencontainers.image.version.
	Version string
	// Description is org.opencontainers.image.description.
	Description string
	// Created, when not zero, is org.opencontainers.image.created (RFC 3339, UTC).
	// Leave it zero for reproducible pushes.
	Created time.Time
	// Annotations are extra manifest annotations; the fields above win over them.
	Annotations map[string]string
}

// Manifest builds the artifact manifest for a package: artifactType ArtifactType, the empty
// config descriptor and one LayerMediaType layer holding data. It is deterministic.
func Manifest(data []byte, opts PushOptions) ([]byte, error) {
	ann := map[string]string{}
	maps.Copy(ann, opts.Annotations)
	for k, v := range map[string]string{
		ocispec.AnnotationTitle:       opts.Title,
		ocispec.AnnotationVersion:     opts.Version,
		ocispec.AnnotationDescription: opts.Description,
	} {
		if v != "" {
			ann[k] = v
		}
	}
	if !opts.Created.IsZero() {
		ann[ocispec.AnnotationCreated] = opts.Created.UTC().Format(time.RFC3339)
	}
	if len(ann) == 0 {
		ann = nil
	}
	m := ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: ArtifactType,
		Config:       ocispec.DescriptorEmptyJSON,
		Layers:       []ocispec.Descriptor{layerDescriptor(data)},
		Annotations:  ann,
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encoding manifest: %w", err)
	}
	return b, nil
}

func layerDescriptor(data []byte) ocispec.Descriptor {
	return ocispec.Descriptor{
		MediaType:   LayerMediaType,
		Digest:      digest.SHA256.FromBytes(data),
		Size:        int64(len(data)),
		Annotations: map[string]string{ocispec.AnnotationTitle: LayerTitle},
	}
}

// Push uploads package bytes (a package.json) to ref, which names a tag (REGISTRY/REPO[:TAG];
// the tag defaults to "latest"), and returns the manifest's descriptor. Blobs the registry
// already has are not uploaded again.
func (c *Client) Push(ctx context.Context, ref string, data []byte, opts PushOptions) (ocispec.Descriptor, error) {
	desc, err := c.push(ctx, ref, data, opts)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("pushing %s: %w", ref, err)
	}
	return desc, nil
}

func (c *Client) push(ctx context.Context, s string, data []byte, opts PushOptions) (ocispec.Descriptor, error) {
	ref, err := ParseReference(s)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if ref.Digest != "" {
		return ocispec.Descriptor{}, fmt.Errorf("%w: push to a tag, not a digest", ErrBadReference)
	}
	if len(data) > MaxPackageSize {
		return ocispec.Descriptor{}, fmt.Errorf("package: %w: %d bytes, the limit is %d", ErrTooLarge, len(data), MaxPackageSize)
	}
	if !json.Valid(data) {
		return ocispec.Descriptor{}, fmt.Errorf("package is not valid JSON")
	}
	mb, err := Manifest(data, opts)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	repo, err := c.repository(ctx, ref)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if err := c.pushBlob(ctx, repo, ocispec.DescriptorEmptyJSON, ocispec.DescriptorEmptyJSON.Data, ""); err != nil {
		return ocispec.Descriptor{}, classify(ref.Registry, err)
	}
	if err := c.pushBlob(ctx, repo, layerDescriptor(data), data, ref.String()); err != nil {
		return ocispec.Descriptor{}, classify(ref.Registry, err)
	}
	desc := ocispec.Descriptor{
		MediaType:    ocispec.MediaTypeImageManifest,
		Digest:       digest.SHA256.FromBytes(mb),
		Size:         int64(len(mb)),
		ArtifactType: ArtifactType,
	}
	if err := repo.PushReference(ctx, desc, bytes.NewReader(mb), ref.Tag); err != nil {
		return ocispec.Descriptor{}, classify(ref.Registry, err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(mb, &m); err == nil {
		desc.Annotations = m.Annotations
	}
	return desc, nil
}

// pushBlob uploads data unless the repository has it already. A non-empty label draws
// progress.
func (c *Client) pushBlob(ctx context.Context, repo *remote.Repository, desc ocispec.Descriptor, data []byte, label string) error {
	ok, err := repo.Exists(ctx, desc)
	if err != nil {
		return err
	}
	if ok {
		return nil
	}
	var pw = c.opts.Progress
	if label == "" {
		pw = nil
	}
	return repo.Push(ctx, desc, withProgress(pw, bytes.NewReader(data), label, desc.Size))
}
