// Package oci stores ecli packages in OCI registries as image-spec v1.1 artifacts.
//
// All registry traffic goes through oras-go v2; credentials come from the docker
// configuration (config.json and its credential helpers). Pulled packages are kept in a
// content-addressed cache, so a reference that was pulled once resolves offline.
//
// The artifact layout is documented in docs/package-format.md ("OCI artifact") and the
// behaviour (TLS, plain HTTP, cache, pull policies) in docs/oci.md.
package oci

import (
	"errors"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Media types of an ecli package artifact.
const (
	// ArtifactType is the manifest's artifactType.
	ArtifactType = "application/vnd.ecli.package.v1+json"
	// LayerMediaType is the media type of the single layer, which holds package.json.
	LayerMediaType = "application/vnd.ecli.package.layer.v1+json"
	// LayerTitle is the org.opencontainers.image.title annotation of the layer.
	LayerTitle = "package.json"

	// WasmLayerMediaType is the layer media type eunomia-bpf uses for WASM modules.
	WasmLayerMediaType = "application/vnd.wasm.content.layer.v1+wasm"
	// WasmConfigMediaType is the config media type eunomia-bpf uses for WASM modules.
	WasmConfigMediaType = "application/vnd.wasm.config.v1+json"
)

// Size limits, checked against descriptors before anything is downloaded.
const (
	// MaxManifestSize is the largest manifest ecli fetches.
	MaxManifestSize = 4 << 20
	// MaxPackageSize is the largest package layer ecli fetches or pushes.
	MaxPackageSize = 64 << 20
)

// Sentinel errors; every error returned by this package wraps at most one of them.
var (
	// ErrBadReference: the string is not a valid registry/repository[:tag][@digest].
	ErrBadReference = errors.New("invalid reference")
	// ErrUnauthorized: the registry refused the credentials, or asked for some.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrNotFound: the repository, tag, manifest or blob does not exist.
	ErrNotFound = errors.New("not found")
	// ErrUnreachable: the registry could not be reached (connection, DNS, timeout).
	ErrUnreachable = errors.New("registry unreachable")
	// ErrTLS: the TLS handshake failed (untrusted certificate, or a plain-HTTP registry).
	ErrTLS = errors.New("tls error")
	// ErrWrongMediaType: the artifact is not an ecli package.
	ErrWrongMediaType = errors.New("not an ecli package")
	// ErrWasmNotSupported: the artifact is an eunomia-bpf WASM module.
	ErrWasmNotSupported = errors.New("WASM modules are not supported")
	// ErrDigestMismatch: downloaded or cached content does not match its descriptor.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrTooLarge: a descriptor announces more bytes than the limit allows.
	ErrTooLarge = errors.New("too large")
	// ErrNotCached: the policy forbids the network and the cache lacks the reference.
	ErrNotCached = errors.New("not in the cache")
)

// isWasm reports whether a manifest is an eunomia-bpf WASM module.
func isWasm(m *ocispec.Manifest) bool {
	if m.Config.MediaType == WasmConfigMediaType {
		return true
	}
	for _, l := range m.Layers {
		if l.MediaType == WasmLayerMediaType {
			return true
		}
	}
	return false
}
