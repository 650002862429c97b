package oci

import (
	"context"
	"errors"
	"fmt"

	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
)

// credentialStore opens the docker credential store: config.json, its credsStore and
// credHelpers. Credentials are written in plain text into config.json (as docker does) only
// when no credential helper is configured.
func credentialStore(configPath string) (credentials.Store, error) {
	opts := credentials.StoreOptions{AllowPlaintextPut: true}
	var (
		s   *credentials.DynamicStore
		err error
	)
	if configPath == "" {
		s, err = credentials.NewStoreFromDocker(opts)
	} else {
		s, err = credentials.NewStore(configPath, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("reading docker credentials config: %w", err)
	}
	return s, nil
}

// Login checks user and password against registry (HOST[:PORT]) and, when the registry
// accepts them, stores them in the docker credential store. A refused password wraps
// ErrUnauthorized. The password never appears in an error.
func (c *Client) Login(ctx context.Context, registry, user, password string) error {
	if user == "" || password == "" {
		return fmt.Errorf("logging in to %s: user name and password must not be empty", registry)
	}
	if !plausibleRegistry(registry) {
		return fmt.Errorf("logging in: %w: %q is not a registry host (HOST[:PORT])", ErrBadReference, registry)
	}
	reg, err := c.registry(ctx, registry)
	if err != nil {
		return fmt.Errorf("logging in to %s: %w", registry, err)
	}
	// Check the credentials with a client of our own, so nothing else sees them.
	ac := *c.auth
	ac.Cache = auth.NewCache()
	ac.Credential = auth.StaticCredential(reg.Reference.Registry, auth.Credential{Username: user, Password: password})
	reg.Client = &ac
	if err := reg.Ping(ctx); err != nil {
		err = classify(registry, err)
		if errors.Is(err, ErrUnauthorized) {
			return fmt.Errorf("logging in to %s: %w: wrong user name or password", registry, ErrUnauthorized)
		}
		return fmt.Errorf("logging in to %s: %w", registry, err)
	}
	key := credentials.ServerAddressFromRegistry(registry)
	if err := c.store.Put(ctx, key, auth.Credential{Username: user, Password: password}); err != nil {
		return fmt.Errorf("logging in to %s: storing credentials: %w", registry, err)
	}
	return nil
}

// Logout removes the stored credentials of registry. Removing credentials that are not there
// is not an error.
func (c *Client) Logout(ctx context.Context, registry string) error {
	if err := credentials.Logout(ctx, c.store, registry); err != nil {
		return fmt.Errorf("logging out of %s: %w", registry, err)
	}
	return nil
}

// LoggedIn reports whether credentials for registry are stored.
func (c *Client) LoggedIn(ctx context.Context, registry string) (bool, error) {
	cred, err := c.store.Get(ctx, credentials.ServerAddressFromRegistry(registry))
	if err != nil {
		return false, fmt.Errorf("reading credentials for %s: %w", registry, err)
	}
	return cred != auth.EmptyCredential, nil
}
