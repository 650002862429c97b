package oci

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"
)

// cache is a content-addressed store of verified blobs plus a tag → digest index:
//
//	DIR/blobs/sha256/HEX                      manifests and layers, named by their digest
//	DIR/refs/REGISTRY/REPOSITORY/_tags/TAG    "sha256:HEX\n": what TAG resolved to last
//
// Writes go to a temporary file in the same directory and are renamed into place, so readers
// never see a partial file. Blobs are verified again when read.
type cache struct {
	dir string
}

// DefaultCacheDir returns os.UserCacheDir()/ecli.
func DefaultCacheDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding the cache directory: %w", err)
	}
	return filepath.Join(d, "ecli"), nil
}

func (c *cache) blobPath(d digest.Digest) string {
	return filepath.Join(c.dir, "blobs", d.Algorithm().String(), d.Encoded())
}

func (c *cache) tagPath(ref Reference) string {
	return filepath.Join(c.dir, "refs", filepath.FromSlash(ref.Registry), filepath.FromSlash(ref.Repository), "_tags", ref.Tag)
}

// blob returns the cached content of d, or ok=false when it is absent. Content that does not
// match d (a corrupted cache) is removed and reported as ErrDigestMismatch.
func (c *cache) blob(d digest.Digest, limit int64) (data []byte, ok bool, err error) {
	if err := d.Validate(); err != nil {
		return nil, false, fmt.Errorf("cached digest %q: %w", d, err)
	}
	p := c.blobPath(d)
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading the cache: %w", err)
	}
	if fi.Size() > limit {
		return nil, false, fmt.Errorf("cached blob %s: %w: %d bytes", d, ErrTooLarge, fi.Size())
	}
	data, err = os.ReadFile(p)
	if err != nil {
		return nil, false, fmt.Errorf("reading the cache: %w", err)
	}
	if got := digest.SHA256.FromBytes(data); got != d {
		os.Remove(p)
		return nil, false, fmt.Errorf("cached blob %s: %w (got %s); removed it, pull again", d, ErrDigestMismatch, got)
	}
	return data, true, nil
}

// putBlob stores data, which the caller has verified to have digest d.
func (c *cache) putBlob(d digest.Digest, data []byte) error {
	if err := WriteFileAtomic(c.blobPath(d), data); err != nil {
		return fmt.Errorf("writing the cache: %w", err)
	}
	return nil
}

// tag returns the digest ref's tag resolved to when it was last pulled.
func (c *cache) tag(ref Reference) (digest.Digest, bool, error) {
	b, err := os.ReadFile(c.tagPath(ref))
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("reading the cache: %w", err)
	}
	d := digest.Digest(strings.TrimSpace(string(b)))
	if d.Validate() != nil {
		// A damaged index entry is as good as none: forget it.
		os.Remove(c.tagPath(ref))
		return "", false, nil
	}
	return d, true, nil
}

// putTag records that ref's tag resolved to d.
func (c *cache) putTag(ref Reference, d digest.Digest) error {
	if err := WriteFileAtomic(c.tagPath(ref), []byte(d.String()+"\n")); err != nil {
		return fmt.Errorf("writing the cache: %w", err)
	}
	return nil
}

// WriteFileAtomic writes data to a temporary file beside path (creating its directory)
// and renames it into place, so readers never see a partial file. An identical file is
// left alone.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
