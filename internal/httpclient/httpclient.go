// Package httpclient builds the *http.Client every ssoctl command hands to the
// domain packages: TLS verified by default (with an optional extra CA), a
// bounded retry for idempotent requests that meet a transient failure, and an
// opt-in request log with secrets masked.
package httpclient

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ssoctl/ssoctl/internal/secret"
)

// Options configures New. The zero value gives a verifying client with
// retries and no logging.
type Options struct {
	// CACertFile is a PEM bundle trusted in addition to the system roots.
	CACertFile string
	// InsecureSkipVerify disables TLS verification. Only for explicit user
	// opt-in (e.g. VAULT_SKIP_VERIFY).
	InsecureSkipVerify bool
	// Timeout bounds each whole request, retries excluded. Default 30s.
	Timeout time.Duration
	// Retries is how many times a transient failure is retried. Default 3;
	// a negative value disables retries.
	Retries int
	// Debug, when set, receives one line per request and response.
	Debug io.Writer
	// Redactor masks known secret values in the debug log.
	Redactor *secret.Redactor
}

// New returns a client configured by opts.
func New(opts Options) (*http.Client, error) {
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if opts.CACertFile != "" {
		pem, err := os.ReadFile(opts.CACertFile)
		if err != nil {
			return nil, fmt.Errorf("reading CA certificate: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA certificate %s: no PEM certificate found", opts.CACertFile)
		}
		tlsConf.RootCAs = pool
	}
	if opts.InsecureSkipVerify {
		tlsConf.InsecureSkipVerify = true
	}
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.TLSClientConfig = tlsConf
	base.MaxIdleConnsPerHost = 16

	var rt http.RoundTripper = base
	retries := opts.Retries
	if retries == 0 {
		retries = 3
	}
	if retries > 0 {
		rt = &retryTransport{next: rt, retries: retries, backoff: 200 * time.Millisecond}
	}
	if opts.Debug != nil {
		rt = &debugTransport{next: rt, w: opts.Debug, redactor: opts.Redactor}
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	return &http.Client{Transport: rt, Timeout: timeout}, nil
}

// retryTransport retries idempotent requests on connection failures and on
// 502, 503 and 504, with exponential backoff and Retry-After honoured up to
// a cap. Non-idempotent requests (POST, PATCH) are never retried: a create
// that reached the server must not be sent twice.
type retryTransport struct {
	next    http.RoundTripper
	retries int
	backoff time.Duration
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !idempotent(req.Method) || (req.Body != nil && req.Body != http.NoBody && req.GetBody == nil) {
		return t.next.RoundTrip(req)
	}
	var lastErr error
	for attempt := 0; ; attempt++ {
		r := req
		if attempt > 0 && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			r = req.Clone(req.Context())
			r.Body = body
		}
		resp, err := t.next.RoundTrip(r)
		wait := t.backoff << attempt
		switch {
		case err != nil:
			if !transientNetError(err) || attempt >= t.retries {
				return nil, err
			}
			lastErr = err
		case resp.StatusCode == http.StatusBadGateway || resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusGatewayTimeout:
			if attempt >= t.retries {
				return resp, nil
			}
			if ra := retryAfter(resp.Header.Get("Retry-After")); ra > 0 {
				wait = ra
			}
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		default:
			return resp, nil
		}
		if wait > 5*time.Second {
			wait = 5 * time.Second
		}
		timer := time.NewTimer(wait)
		select {
		case <-req.Context().Done():
			timer.Stop()
			if lastErr != nil {
				return nil, lastErr
			}
			return nil, req.Context().Err()
		case <-timer.C:
		}
	}
}

func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// transientNetError reports failures worth one more try: a refused or reset
// connection, or a connection closed before the response.
func transientNetError(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	// net/http's own error for a connection closed before any response
	// (unexported, so matched by text).
	if strings.Contains(err.Error(), "server closed idle connection") {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t)
	}
	return 0
}

// debugTransport writes one line per request to w. Query parameters and
// headers that carry credentials are masked; bodies are never logged.
type debugTransport struct {
	next     http.RoundTripper
	w        io.Writer
	redactor *secret.Redactor
}

func (t *debugTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	u := t.redactor.Redact(MaskURL(req.URL))
	auth := ""
	if h := req.Header.Get("Authorization"); h != "" {
		scheme, _, _ := strings.Cut(h, " ")
		auth = " (authorization: " + scheme + " ****)"
	} else if req.Header.Get("X-Vault-Token") != "" {
		auth = " (X-Vault-Token: ****)"
	}
	if err != nil {
		fmt.Fprintf(t.w, "* %s %s%s -> error: %s (%s)\n", req.Method, u, auth, t.redactor.Redact(err.Error()), time.Since(start).Round(time.Millisecond))
		return nil, err
	}
	fmt.Fprintf(t.w, "* %s %s%s -> %d (%s)\n", req.Method, u, auth, resp.StatusCode, time.Since(start).Round(time.Millisecond))
	return resp, nil
}

// sensitiveParams are query parameters whose values are masked in logs.
var sensitiveParams = map[string]bool{
	"client_secret": true, "password": true, "token": true, "access_token": true,
	"id_token": true, "refresh_token": true, "code": true, "assertion": true,
}

// MaskURL renders u with credential-bearing query parameters and any
// userinfo password masked.
func MaskURL(u *url.URL) string {
	c := *u
	if c.User != nil {
		if _, ok := c.User.Password(); ok {
			c.User = url.UserPassword(c.User.Username(), "****")
		}
	}
	if c.RawQuery != "" {
		q := c.Query()
		for k, vs := range q {
			if sensitiveParams[strings.ToLower(k)] || sensitiveParams[k] {
				for i := range vs {
					vs[i] = secret.Mask(vs[i])
					if vs[i] == "" {
						vs[i] = "****"
					}
				}
			}
		}
		c.RawQuery = q.Encode()
	}
	return c.String()
}
