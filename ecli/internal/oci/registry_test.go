package oci

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// newTestClient returns a Client with its own cache and docker config in temp dirs.
func newTestClient(t *testing.T, opts Options) *Client {
	t.Helper()
	if opts.CacheDir == "" {
		opts.CacheDir = filepath.Join(t.TempDir(), "cache")
	}
	if opts.DockerConfig == "" {
		opts.DockerConfig = filepath.Join(t.TempDir(), "docker", "config.json")
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}
