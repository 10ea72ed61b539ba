package httpclient

import (
	"context"
	"fmt"
	"io"
	"net/http"
)

// DefaultMaxResponseBytes is the cap on one answer's body when
// Options.MaxResponseBytes is zero: 16 MiB, far above any discovery
// document, JWKS or Vault answer ssoctl reads, and small enough that a
// broken or hostile server cannot fill the memory.
const DefaultMaxResponseBytes = 16 << 20

// ResponseTooLargeError means a server's answer was longer than the cap on
// one response body. It is bad input (exit 2): the server at URL is not one
// ssoctl can work with as configured.
type ResponseTooLargeError struct {
	Method string
	// URL is the request's URL, credential-bearing query parameters masked.
	URL string
	// Limit is the cap in bytes.
	Limit int64
}

func (e *ResponseTooLargeError) Error() string {
	return fmt.Sprintf("the answer to %s %s is larger than %s, the limit for one server response", e.Method, e.URL, sizeOf(e.Limit))
}

// BadInput marks the error as the caller's input: the CLI exits 2.
func (e *ResponseTooLargeError) BadInput() bool { return true }

func sizeOf(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d bytes (%d MiB)", n, n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d bytes (%d KiB)", n, n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

type limitKey struct{}

// WithResponseLimit returns a context under which requests read at most n
// bytes of an answer's body instead of the client's cap (n <= 0: no cap).
// It is for callers that know an answer can be larger, such as a Keycloak
// listing of every client of a big realm.
func WithResponseLimit(ctx context.Context, n int64) context.Context {
	return context.WithValue(ctx, limitKey{}, n)
}

// limitTransport caps every response body at limit bytes, or at the
// request's WithResponseLimit.
type limitTransport struct {
	next  http.RoundTripper
	limit int64
}

func (t *limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	limit := t.limit
	if n, ok := req.Context().Value(limitKey{}).(int64); ok {
		limit = n
	}
	if limit <= 0 || resp.Body == nil || resp.Body == http.NoBody {
		return resp, nil
	}
	resp.Body = &limitedBody{rc: resp.Body, left: limit, tooLarge: &ResponseTooLargeError{Method: req.Method, URL: MaskURL(req.URL), Limit: limit}, over: resp.ContentLength > limit}
	return resp, nil
}

// limitedBody reads up to left bytes, then fails with tooLarge if the body
// goes on. A Content-Length beyond the cap fails on the first read.
type limitedBody struct {
	rc       io.ReadCloser
	left     int64
	over     bool // the declared Content-Length is beyond the cap
	tooLarge error
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.over {
		return 0, b.tooLarge
	}
	if b.left <= 0 {
		// At the cap: the body may end here, or be too large.
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, b.tooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }
