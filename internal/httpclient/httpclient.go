// Package httpclient builds the *http.Client every ssoctl command hands to the
// domain packages: TLS verified by default (with an optional extra CA), a
// bounded, jittered retry for idempotent requests that meet a transient
// failure, a size cap on every response body, and an opt-in request log with
// secrets masked.
package httpclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
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
	// Timeout bounds each whole request: its retries and the reading of
	// the answer's body included. Default 30s. A server that accepts the
	// connection and never answers fails the request after it.
	Timeout time.Duration
	// Retries is how many times a transient failure is retried. Default 3;
	// a negative value disables retries.
	Retries int
	// MaxResponseBytes caps the body of every answer. Default
	// DefaultMaxResponseBytes (16 MiB); a negative value disables the cap.
	// Reading past it fails with *ResponseTooLargeError. A request can ask
	// for another cap with WithResponseLimit.
	MaxResponseBytes int64
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
	limit := opts.MaxResponseBytes
	if limit == 0 {
		limit = DefaultMaxResponseBytes
	}
	rt = &limitTransport{next: rt, limit: limit}
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

// retryTransport retries idempotent requests (GET, HEAD, OPTIONS, PUT,
// DELETE) on connection failures and on 502, 503 and 504, with exponential
// backoff and jitter, and Retry-After honoured; no wait is longer than
// maxWait, and after retries attempts the last answer or error is returned.
//
// Non-idempotent requests (POST, PATCH) are retried only when the request
// provably never reached the server (the connection could not be opened): a
// create whose answer was lost may have been committed, and sending it again
// could make a second object. Callers find such an object on their next read.
type retryTransport struct {
	next    http.RoundTripper
	retries int
	backoff time.Duration
	// jitter returns a number in [0, 1); rand.Float64 unless a test sets it.
	jitter func() float64
}

// maxWait bounds one wait between attempts, Retry-After included.
const maxWait = 5 * time.Second

// delay is the wait before attempt+1: backoff·2^attempt, capped at maxWait,
// of which a random part of up to one half is taken off ("equal jitter"), so
// that clients failing together do not come back together.
func (t *retryTransport) delay(attempt int) time.Duration {
	d := maxWait
	if attempt < 30 {
		d = min(t.backoff<<attempt, maxWait)
	}
	j := rand.Float64
	if t.jitter != nil {
		j = t.jitter
	}
	return d - time.Duration(j()*float64(d/2))
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return t.next.RoundTrip(req) // the body cannot be sent twice
	}
	safe := idempotent(req.Method) || req.Context().Value(readOnlyKey{}) != nil
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
		wait := t.delay(attempt)
		switch {
		case err != nil:
			if attempt >= t.retries || req.Context().Err() != nil || !(notSent(err) || safe && transientNetError(err)) {
				return nil, err
			}
		case safe && retryableStatus(resp.StatusCode):
			if attempt >= t.retries {
				return resp, nil
			}
			if ra := retryAfter(resp.Header.Get("Retry-After")); ra > 0 {
				wait = min(ra, maxWait)
			}
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		default:
			return resp, nil
		}
		timer := time.NewTimer(wait)
		select {
		case <-req.Context().Done():
			timer.Stop()
			if err != nil {
				return nil, err
			}
			return nil, req.Context().Err()
		case <-timer.C:
		}
	}
}

func retryableStatus(code int) bool {
	return code == http.StatusBadGateway || code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout
}

// notSent reports a failure to open the connection (refused, no route): the
// request never left, so even a POST may be sent again.
func notSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

type readOnlyKey struct{}

// ReadOnly marks the requests made with ctx as reads that change nothing on
// the server whatever their method (Keycloak's partial export is a POST):
// they are retried like GETs.
func ReadOnly(ctx context.Context) context.Context {
	return context.WithValue(ctx, readOnlyKey{}, true)
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
