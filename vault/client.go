// Package vault configures HashiCorp Vault's JWT/OIDC auth from sso.yaml:
// auth mounts, their config, roles, ACL policies, and external groups with
// their aliases. It reads the current state, computes the change set, and
// applies it; it also logs in with a JWT to show what Vault grants.
package vault

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/ssoctl/ssoctl/internal/httpclient"
)

// Config says how to reach Vault. It mirrors the vault CLI's environment:
// VAULT_ADDR, VAULT_TOKEN, VAULT_NAMESPACE (VAULT_CACERT and
// VAULT_SKIP_VERIFY are applied to HTTPClient by the caller).
type Config struct {
	Addr      string
	Token     string
	Namespace string
	// TokenSource names where the token came from, for messages.
	TokenSource string
	HTTPClient  *http.Client
}

// Conn is a connection to one Vault server.
type Conn struct {
	api  *vaultapi.Client
	addr string
	src  string
	// server is what Server read, nil before.
	server *Server
}

// Connect builds a client for cfg. It makes no request.
func Connect(cfg Config) (*Conn, error) {
	if cfg.Addr == "" {
		return nil, errors.New("no Vault address: set vault.addr or $VAULT_ADDR")
	}
	c := &vaultapi.Config{Address: strings.TrimRight(cfg.Addr, "/"), HttpClient: cfg.HTTPClient, MaxRetries: 0}
	if c.HttpClient == nil {
		c.HttpClient = http.DefaultClient
	}
	api, err := vaultapi.NewClient(c)
	if err != nil {
		return nil, fmt.Errorf("configuring the Vault client for %s: %w", cfg.Addr, err)
	}
	// NewClient reads $VAULT_TOKEN from the process environment; use only
	// what the caller passed.
	api.ClearToken()
	if cfg.Token != "" {
		api.SetToken(cfg.Token)
	}
	api.SetNamespace(cfg.Namespace)
	src := cfg.TokenSource
	if src == "" {
		src = "$VAULT_TOKEN"
	}
	return &Conn{api: api, addr: c.Address, src: src}, nil
}

// Addr is the server address.
func (c *Conn) Addr() string { return c.addr }

// APIError is an error answer from Vault, with Vault's own messages.
type APIError struct {
	Method string
	Path   string
	Status int
	Errors []string
	Addr   string
	// Server is "Vault" or "OpenBao" ("" is Vault).
	Server string
	// Hint explains the usual cause, when there is one.
	Hint string
}

func (e *APIError) Error() string {
	msg := strings.Join(e.Errors, "; ")
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	name := e.Server
	if name == "" {
		name = "Vault"
	}
	s := fmt.Sprintf("%s at %s answered %d to %s %s: %s", name, e.Addr, e.Status, e.Method, e.Path, msg)
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// UnreachableError means Vault could not be reached at all; it names the
// address and the network cause.
type UnreachableError = httpclient.UnreachableError

// InputError is a problem with the file's vault: section that only the
// server could reveal (Vault refused the HCL, a mount path is taken by another
// auth type). It is the file's fault: exit code 2.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

// BadInput marks the error as the caller's input.
func (e *InputError) BadInput() bool { return true }

// wrap turns an api error into APIError or UnreachableError, with a hint for
// the common cases (sealed, bad token); a cancelled context and an answer
// over the size cap are returned as they are.
func (c *Conn) wrap(method, path string, err error) error {
	if err == nil {
		return nil
	}
	var re *vaultapi.ResponseError
	if errors.As(err, &re) {
		e := &APIError{Method: method, Path: path, Status: re.StatusCode, Errors: re.Errors, Addr: c.addr, Server: c.name()}
		switch {
		case re.StatusCode == http.StatusServiceUnavailable && strings.Contains(strings.Join(re.Errors, " "), "sealed"):
			e.Hint = "Vault is sealed: unseal it (vault operator unseal) and run again"
		case re.StatusCode == http.StatusForbidden:
			e.Hint = "the token from " + c.src + " is invalid or lacks the policy for this path"
		}
		return e
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	// An answer over the HTTP client's size cap: the error names the URL
	// and the limit, and is bad input.
	var tooLarge *httpclient.ResponseTooLargeError
	if errors.As(err, &tooLarge) {
		return tooLarge
	}
	// A deadline (the HTTP client's timeout, a server that accepts and
	// never answers) is an unreachable server, named with its address; it
	// still unwraps to context.DeadlineExceeded.
	ue := &UnreachableError{Server: c.name(), URL: c.addr, Err: err}
	if c.src != "" {
		ue.Context = "token from " + c.src
	}
	return ue
}

// read reads path; a 404 gives nil data and no error.
func (c *Conn) read(ctx context.Context, path string) (map[string]any, error) {
	s, err := c.api.Logical().ReadWithContext(ctx, path)
	if err != nil {
		return nil, c.wrap("GET", path, err)
	}
	if s == nil {
		return nil, nil
	}
	return s.Data, nil
}

// write writes data to path and returns the response data, if any.
func (c *Conn) write(ctx context.Context, path string, data map[string]any) (map[string]any, error) {
	s, err := c.api.Logical().WriteWithContext(ctx, path, data)
	if err != nil {
		return nil, c.wrap("PUT", path, err)
	}
	if s == nil {
		return nil, nil
	}
	return s.Data, nil
}

// list lists path's keys; a 404 gives none.
func (c *Conn) list(ctx context.Context, path string) (map[string]any, error) {
	s, err := c.api.Logical().ListWithContext(ctx, path)
	if err != nil {
		return nil, c.wrap("LIST", path, err)
	}
	if s == nil {
		return nil, nil
	}
	return s.Data, nil
}

func (c *Conn) delete(ctx context.Context, path string) error {
	_, err := c.api.Logical().DeleteWithContext(ctx, path)
	return c.wrap("DELETE", path, err)
}
