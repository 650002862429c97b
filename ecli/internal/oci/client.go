package oci

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
	"oras.land/oras-go/v2/registry/remote/errcode"
)

// Options configure a Client. The zero value is ready to use: TLS with the system roots,
// docker credentials, cache under os.UserCacheDir()/ecli, no progress output.
type Options struct {
	// PlainHTTP talks plain HTTP to every registry (the --plain-http flag). Without it,
	// loopback registries (localhost, 127.0.0.0/8, ::1) are tried with TLS first and fall
	// back to plain HTTP only when the server answers a TLS handshake in plain HTTP; every
	// other registry gets TLS.
	PlainHTTP bool
	// CAFile is a PEM file of extra certificate authorities, trusted in addition to the
	// system roots (the --ca-file flag).
	CAFile string
	// CacheDir is the content-addressed cache; empty means DefaultCacheDir().
	CacheDir string
	// DockerConfig is the docker config.json holding credentials (and naming credential
	// helpers); empty means $DOCKER_CONFIG/config.json, else ~/.docker/config.json.
	DockerConfig string
	// Progress receives a progress bar for uploads and downloads; nil means silent.
	// Use TerminalProgress(os.Stderr) to draw only on a terminal.
	Progress io.Writer
	// Timeout bounds connecting to a registry (dial + TLS handshake); zero means 30s.
	Timeout time.Duration
}

// Client pushes and pulls ecli packages. It is safe for concurrent use.
type Client struct {
	opts  Options
	cache cache
	http  *http.Client
	store credentials.Store
	auth  *auth.Client

	mu    sync.Mutex
	plain map[string]bool // registry host → plain HTTP, decided once per host
}

// New returns a Client. It fails when the CA file or the docker config cannot be read.
func New(opts Options) (*Client, error) {
	dir := opts.CacheDir
	if dir == "" {
		d, err := DefaultCacheDir()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	tr, err := transport(opts)
	if err != nil {
		return nil, err
	}
	store, err := credentialStore(opts.DockerConfig)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Transport: tr}
	c := &Client{
		opts:  opts,
		cache: cache{dir: dir},
		http:  hc,
		store: store,
		plain: map[string]bool{},
	}
	c.auth = &auth.Client{
		Client:     hc,
		Header:     http.Header{"User-Agent": {"ecli"}},
		Credential: credentials.Credential(store),
		Cache:      auth.NewCache(),
	}
	return c, nil
}

// CacheDir returns the directory of the content-addressed cache.
func (c *Client) CacheDir() string { return c.cache.dir }

func transport(opts Options) (*http.Transport, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if opts.CAFile != "" {
		pem, err := os.ReadFile(opts.CAFile)
		if err != nil {
			return nil, fmt.Errorf("reading CA file: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("reading CA file %s: no PEM certificate in it", opts.CAFile)
		}
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = timeout
	tr.ResponseHeaderTimeout = 2 * timeout
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return tr, nil
}

// repository returns an oras repository for ref, with plain HTTP decided per host.
func (c *Client) repository(ctx context.Context, ref Reference) (*remote.Repository, error) {
	plain, err := c.plainHTTP(ctx, ref.Registry)
	if err != nil {
		return nil, err
	}
	return &remote.Repository{
		Client:           c.auth,
		Reference:        ref.orasReference(),
		PlainHTTP:        plain,
		MaxMetadataBytes: MaxManifestSize,
		SkipReferrersGC:  true,
	}, nil
}

func (c *Client) registry(ctx context.Context, host string) (*remote.Registry, error) {
	reg, err := remote.NewRegistry(host)
	if err != nil {
		return nil, fmt.Errorf("%w: registry %q: %v", ErrBadReference, host, err)
	}
	plain, err := c.plainHTTP(ctx, host)
	if err != nil {
		return nil, err
	}
	reg.PlainHTTP = plain
	reg.Client = c.auth
	return reg, nil
}

// plainHTTP decides whether host is spoken to in plain HTTP. Only loopback hosts are probed:
// a TLS handshake answered in plain HTTP means the registry has no TLS.
func (c *Client) plainHTTP(ctx context.Context, host string) (bool, error) {
	if c.opts.PlainHTTP {
		return true, nil
	}
	if !IsLoopback(host) {
		return false, nil
	}
	c.mu.Lock()
	plain, ok := c.plain[host]
	c.mu.Unlock()
	if ok {
		return plain, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+host+"/v2/", nil)
	if err != nil {
		return false, fmt.Errorf("%w: registry %q: %v", ErrBadReference, host, err)
	}
	resp, err := c.http.Do(req)
	if err == nil {
		resp.Body.Close()
	} else {
		var rhe tls.RecordHeaderError
		if !errors.As(err, &rhe) && !errors.Is(err, http.ErrSchemeMismatch) {
			// Unreachable, or a TLS problem: report it as it is.
			return false, classify(host, err)
		}
		plain = true
	}
	c.mu.Lock()
	c.plain[host] = plain
	c.mu.Unlock()
	return plain, nil
}

// classify turns an oras or transport error into one line wrapping one of our sentinels.
// host names the registry, for the login hint.
func classify(host string, err error) error {
	if err == nil {
		return nil
	}
	var (
		resp     *errcode.ErrorResponse
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		verify   *tls.CertificateVerificationError
		record   tls.RecordHeaderError
		netErr   net.Error
		opErr    *net.OpError
		dnsErr   *net.DNSError
	)
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded) && !errors.As(err, &netErr):
		return err
	case errors.As(err, &resp):
		switch resp.StatusCode {
		case http.StatusUnauthorized:
			return fmt.Errorf("%s: %w: authentication required or credentials rejected; log in with \"ecli login %s\"", host, ErrUnauthorized, host)
		case http.StatusForbidden:
			return fmt.Errorf("%s: %w: access denied for these credentials; log in with \"ecli login %s\"", host, ErrUnauthorized, host)
		case http.StatusNotFound:
			return fmt.Errorf("%w: %s", ErrNotFound, registryMessage(resp))
		}
		return fmt.Errorf("%s: registry error: %s %s: status %d: %s", host, resp.Method, resp.URL.Path, resp.StatusCode, registryMessage(resp))
	case errors.Is(err, auth.ErrBasicCredentialNotFound):
		return fmt.Errorf("%s: %w: the registry wants credentials; log in with \"ecli login %s\"", host, ErrUnauthorized, host)
	case errors.Is(err, errdef.ErrNotFound):
		return ErrNotFound
	case errors.As(err, &unknown), errors.As(err, &hostname), errors.As(err, &invalid), errors.As(err, &verify):
		return fmt.Errorf("%s: %w: certificate not trusted (%v); pass its CA with --ca-file", host, ErrTLS, certReason(err))
	case errors.As(err, &record), errors.Is(err, http.ErrSchemeMismatch):
		return fmt.Errorf("%s: %w: the registry does not speak TLS; use --plain-http if that is intended", host, ErrTLS)
	case errors.As(err, &dnsErr):
		return fmt.Errorf("%s: %w: cannot resolve %s", host, ErrUnreachable, dnsErr.Name)
	case errors.As(err, &opErr):
		return fmt.Errorf("%s: %w: %v", host, ErrUnreachable, opErr)
	case errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Errorf("%s: %w: timeout", host, ErrUnreachable)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fmt.Errorf("%s: %w: connection closed early", host, ErrUnreachable)
	}
	return fmt.Errorf("%s: %w", host, err)
}

func registryMessage(resp *errcode.ErrorResponse) string {
	if len(resp.Errors) > 0 {
		return resp.Errors.Error()
	}
	return http.StatusText(resp.StatusCode)
}

func certReason(err error) string {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	switch {
	case errors.As(err, &unknown):
		return "signed by an unknown authority"
	case errors.As(err, &hostname):
		return hostname.Error()
	case errors.As(err, &invalid):
		return invalid.Error()
	}
	return "verification failed"
}
