package oci

import (
	"fmt"
	"net"
	"strings"

	"github.com/opencontainers/go-digest"
	"oras.land/oras-go/v2/registry"
)

// DefaultTag is used when a reference names neither a tag nor a digest.
const DefaultTag = "latest"

// Reference is a parsed artifact reference: REGISTRY/REPOSITORY[:TAG][@DIGEST].
type Reference struct {
	// Registry is the host, with an optional port ("localhost:5000", "[::1]:5000").
	Registry string
	// Repository is the path inside the registry ("tools/tcpconnlat").
	Repository string
	// Tag is the tag; DefaultTag when the reference had neither tag nor digest,
	// empty when it pins a digest.
	Tag string
	// Digest pins the manifest; empty for a tag reference.
	Digest digest.Digest
}

// ParseReference parses REGISTRY/REPOSITORY[:TAG][@DIGEST]. The registry must be given
// explicitly (there is no default registry). REPO:TAG@DIGEST keeps only the digest.
func ParseReference(s string) (Reference, error) {
	r, err := registry.ParseReference(s)
	if err != nil {
		return Reference{}, fmt.Errorf("%w %q: %s", ErrBadReference, s, strings.TrimPrefix(err.Error(), "invalid reference: "))
	}
	if !plausibleRegistry(r.Registry) {
		return Reference{}, fmt.Errorf("%w %q: %q is not a registry host (write it as HOST[:PORT]/REPOSITORY[:TAG])", ErrBadReference, s, r.Registry)
	}
	ref := Reference{Registry: r.Registry, Repository: r.Repository}
	switch {
	case r.Reference == "":
		ref.Tag = DefaultTag
	case r.ValidateReferenceAsDigest() == nil:
		ref.Digest = digest.Digest(r.Reference)
		if ref.Digest.Algorithm() != digest.SHA256 {
			return Reference{}, fmt.Errorf("%w %q: only sha256 digests are supported", ErrBadReference, s)
		}
	default:
		ref.Tag = r.Reference
	}
	return ref, nil
}

// LooksLikeReference reports whether s parses as an OCI reference with an explicit registry
// host: the first path component is "localhost" or contains a "." or a ":" (a port).
// Paths starting with "." or "/" and URLs are never references. It does not look at the
// file system: callers check for an existing file first.
func LooksLikeReference(s string) bool {
	if s == "" || strings.HasPrefix(s, ".") || strings.HasPrefix(s, "/") || strings.Contains(s, "://") {
		return false
	}
	_, err := ParseReference(s)
	return err == nil
}

// String formats the reference; a digest wins over a tag.
func (r Reference) String() string {
	s := r.Registry + "/" + r.Repository
	if r.Digest != "" {
		return s + "@" + r.Digest.String()
	}
	return s + ":" + r.Tag
}

// reference returns what the registry API is asked for: the digest, else the tag.
func (r Reference) reference() string {
	if r.Digest != "" {
		return r.Digest.String()
	}
	return r.Tag
}

func (r Reference) orasReference() registry.Reference {
	return registry.Reference{Registry: r.Registry, Repository: r.Repository, Reference: r.reference()}
}

// plausibleRegistry reports whether host reads as a registry host rather than the first
// component of a repository name.
func plausibleRegistry(host string) bool {
	return host == "localhost" || strings.ContainsAny(host, ".:") || strings.HasPrefix(host, "localhost:")
}

// IsLoopback reports whether a registry host (with optional port) is localhost, 127.0.0.0/8
// or ::1.
func IsLoopback(registryHost string) bool {
	h := registryHost
	if host, _, err := net.SplitHostPort(registryHost); err == nil {
		h = host
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
