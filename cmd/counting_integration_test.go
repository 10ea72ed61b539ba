//go:build integration

package cmd

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/ssoctl/ssoctl/internal/httpclient"
)

// requestCounter counts the requests of one or more commands: reads (GET,
// LIST, and Keycloak's partial export, a POST that writes nothing), writes
// (everything else) and logins (Keycloak's token endpoint, Vault's login
// and auth_url). With
// cancelAfter set it cancels a context once that many writes were sent.
type requestCounter struct {
	reads, writes, logins atomic.Int64
	// logouts end the sessions the run's own logins opened (the logout
	// endpoint, the admin API's delete of one session): not writes to the
	// configuration.
	logouts     atomic.Int64
	cancelAfter int64
	cancel      context.CancelFunc
}

// countedTransport sends through base and counts into c; each HTTP client
// the factory builds gets its own, so every client keeps its own TLS setup.
type countedTransport struct {
	base http.RoundTripper
	c    *requestCounter
}

func (t *countedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	c := t.c
	switch {
	case strings.Contains(r.URL.Path, "openid-connect/token"), strings.HasSuffix(r.URL.Path, "/login"), strings.HasSuffix(r.URL.Path, "/oidc/auth_url"),
		strings.Contains(r.URL.Path, "/login-actions/"): // a login form submitted
		c.logins.Add(1)
	case strings.HasSuffix(r.URL.Path, "/protocol/openid-connect/logout"),
		r.Method == http.MethodDelete && strings.Contains(r.URL.Path, "/sessions/"):
		c.logouts.Add(1)
	case r.Method == http.MethodGet || r.Method == "LIST",
		strings.HasSuffix(r.URL.Path, "/partial-export"):
		c.reads.Add(1)
	default:
		if n := c.writes.Add(1); c.cancelAfter > 0 && n >= c.cancelAfter && c.cancel != nil {
			c.cancel()
		}
	}
	return resp, err
}

// runApply runs `apply -f path` with env, counting every request into rc
// (when non-nil); it returns the exit code and everything printed.
func runApply(ctx context.Context, env map[string]string, path string, rc *requestCounter) (int, string) {
	return runCounted(ctx, env, rc, "apply", "-f", path)
}

// runCounted runs ssoctl with args and env, counting every request into rc
// (when non-nil); it returns the exit code and everything printed.
func runCounted(ctx context.Context, env map[string]string, rc *requestCounter, args ...string) (int, string) {
	ios, _, out, errOut := TestIO()
	f := NewFactory(ios)
	f.Getenv = func(k string) string { return env[k] }
	f.Context = ctx
	if rc != nil {
		f.HTTPClient = func(o httpclient.Options) (*http.Client, error) {
			hc, err := httpclient.New(o)
			if err != nil {
				return nil, err
			}
			hc.Transport = &countedTransport{base: hc.Transport, c: rc}
			return hc, nil
		}
	}
	code := Run(f, args)
	return code, out.String() + errOut.String()
}
