package httpclient

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ssoctl/ssoctl/internal/secret"
)

// A 503 burst is something a real Keycloak or Vault cannot be made to do on
// demand, so it is faked here.
func TestRetryOn503Burst(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		body, _ := io.ReadAll(r.Body)
		w.Write(body)
	}))
	defer srv.Close()

	c, err := New(Options{Retries: 3})
	if err != nil {
		t.Fatal(err)
	}
	c.Transport.(*retryTransport).backoff = time.Millisecond
	req, _ := http.NewRequest(http.MethodPut, srv.URL, strings.NewReader("payload"))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(got) != "payload" {
		t.Fatalf("status %d body %q, want 200 payload (body must be replayed)", resp.StatusCode, got)
	}
	if calls.Load() != 3 {
		t.Fatalf("server saw %d calls, want 3", calls.Load())
	}
}

func TestNoRetryForPOST(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	c, _ := New(Options{})
	resp, err := c.Post(srv.URL, "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || calls.Load() != 1 {
		t.Fatalf("POST: status %d after %d calls, want one 503", resp.StatusCode, calls.Load())
	}
}

// A POST marked read-only (Keycloak's partial export) is retried like a GET.
func TestRetryForReadOnlyPOST(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	c, _ := New(Options{})
	req, _ := http.NewRequestWithContext(ReadOnly(context.Background()), http.MethodPost, srv.URL, strings.NewReader("x"))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("x")), nil }
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || calls.Load() != 3 {
		t.Fatalf("read-only POST: status %d after %d calls, want 200 after 3", resp.StatusCode, calls.Load())
	}
}

func TestRetryGivesUpAndReturnsLast503(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	c, _ := New(Options{Retries: 2})
	c.Transport.(*retryTransport).backoff = time.Millisecond
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || calls.Load() != 3 {
		t.Fatalf("status %d after %d calls, want 503 after 3", resp.StatusCode, calls.Load())
	}
}

// A connection dropped mid-request is retried for GET.
func TestRetryOnDroppedConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for i := 0; ; i++ {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			if i == 0 {
				conn.Close() // drop the first connection without a response
				continue
			}
			buf := make([]byte, 4096)
			conn.Read(buf)
			conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"))
			conn.Close()
		}
	}()
	c, _ := New(Options{})
	c.Transport.(*retryTransport).backoff = time.Millisecond
	resp, err := c.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatalf("GET after a dropped connection: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "ok" {
		t.Fatalf("body %q", body)
	}
}

func TestDebugLogMasksSecrets(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	var log bytes.Buffer
	var red secret.Redactor
	red.Add("verysecretpathcomponent")
	c, _ := New(Options{Debug: &log, Redactor: &red})
	req, _ := http.NewRequest("GET", srv.URL+"/x/verysecretpathcomponent?client_secret=abcdefghijklmnop&realm=demo", nil)
	req.Header.Set("Authorization", "Bearer eyJhbGciOiJSUzI1NiJ9.payload.sig")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	out := log.String()
	for _, leak := range []string{"abcdefghijklmnop", "eyJhbGci", "verysecretpathcomponent"} {
		if strings.Contains(out, leak) {
			t.Errorf("debug log leaks %q: %s", leak, out)
		}
	}
	if !strings.Contains(out, "realm=demo") || !strings.Contains(out, "-> 200") || !strings.Contains(out, "Bearer ****") {
		t.Errorf("debug log lacks expected parts: %s", out)
	}
}

func TestMaskURLPassword(t *testing.T) {
	u, _ := url.Parse("https://user:hunter2hunter2@example.com/p?password=x")
	got := MaskURL(u)
	if strings.Contains(got, "hunter2") || !strings.Contains(got, "password=%2A%2A%2A%2A") {
		t.Fatalf("MaskURL = %s", got)
	}
}

func TestCACertErrors(t *testing.T) {
	if _, err := New(Options{CACertFile: "/nonexistent/ca.pem"}); err == nil {
		t.Fatal("want error for a missing CA file")
	}
}

// fakeTransport answers from a list of outcomes, one per attempt, and
// counts the attempts.
type fakeTransport struct {
	outcomes []func() (*http.Response, error)
	calls    int
}

func (f *fakeTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	o := f.outcomes[min(f.calls, len(f.outcomes)-1)]
	f.calls++
	return o()
}

func answer(code int) func() (*http.Response, error) {
	return func() (*http.Response, error) {
		return &http.Response{StatusCode: code, Body: io.NopCloser(strings.NewReader("")), Header: http.Header{}}, nil
	}
}

func fail(err error) func() (*http.Response, error) {
	return func() (*http.Response, error) { return nil, err }
}

var (
	refused = &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	reset   = &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
)

// Which failures are retried, for which methods: a POST only when the
// connection could not be opened, so a create that may have been committed
// is never sent twice.
func TestRetryPolicy(t *testing.T) {
	for _, tc := range []struct {
		name, method string
		outcomes     []func() (*http.Response, error)
		wantCalls    int
		wantStatus   int // 0: an error
	}{
		{"GET 503 burst", "GET", []func() (*http.Response, error){answer(503), answer(503), answer(200)}, 3, 200},
		{"PUT reset", "PUT", []func() (*http.Response, error){fail(reset), answer(204)}, 2, 204},
		{"DELETE 502 then 504", "DELETE", []func() (*http.Response, error){answer(502), answer(504), answer(204)}, 3, 204},
		{"GET gives up after 3 retries", "GET", []func() (*http.Response, error){answer(503)}, 4, 503},
		{"GET 500 is not transient", "GET", []func() (*http.Response, error){answer(500), answer(200)}, 1, 500},
		{"GET 401 is not transient", "GET", []func() (*http.Response, error){answer(401), answer(200)}, 1, 401},
		{"POST 503 is not retried", "POST", []func() (*http.Response, error){answer(503), answer(201)}, 1, 503},
		{"POST reset is not retried", "POST", []func() (*http.Response, error){fail(reset), answer(201)}, 1, 0},
		{"POST 502 is not retried", "POST", []func() (*http.Response, error){answer(502), answer(201)}, 1, 502},
		{"POST refused dial is retried", "POST", []func() (*http.Response, error){fail(refused), answer(201)}, 2, 201},
		{"PATCH EOF is not retried", "PATCH", []func() (*http.Response, error){fail(io.ErrUnexpectedEOF), answer(200)}, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ft := &fakeTransport{outcomes: tc.outcomes}
			rt := &retryTransport{next: ft, retries: 3, backoff: time.Microsecond}
			req, _ := http.NewRequest(tc.method, "http://example.invalid/x", strings.NewReader("{}"))
			resp, err := rt.RoundTrip(req)
			if ft.calls != tc.wantCalls {
				t.Errorf("%d attempts, want %d", ft.calls, tc.wantCalls)
			}
			switch {
			case tc.wantStatus == 0 && err == nil:
				t.Errorf("status %d, want an error", resp.StatusCode)
			case tc.wantStatus != 0 && (err != nil || resp.StatusCode != tc.wantStatus):
				t.Errorf("got %v %v, want %d", resp, err, tc.wantStatus)
			}
		})
	}
}

// The wait doubles from the base, never exceeds maxWait, and jitter takes
// up to half of it off.
func TestRetryDelayJitteredAndBounded(t *testing.T) {
	for _, j := range []float64{0, 0.5, 0.999999} {
		rt := &retryTransport{backoff: 200 * time.Millisecond, jitter: func() float64 { return j }}
		for attempt, full := range []time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, 1600 * time.Millisecond, 3200 * time.Millisecond, maxWait, maxWait} {
			d := rt.delay(attempt)
			if d > full || d < full/2 {
				t.Errorf("jitter %v attempt %d: delay %v, want within [%v, %v]", j, attempt, d, full/2, full)
			}
		}
		if d := rt.delay(70); d > maxWait || d < maxWait/2 {
			t.Errorf("attempt 70: delay %v", d)
		}
	}
	// Two clients failing together wait differently.
	rt := &retryTransport{backoff: time.Second}
	seen := map[time.Duration]bool{}
	for range 20 {
		seen[rt.delay(1)] = true
	}
	if len(seen) < 2 {
		t.Errorf("20 delays all equal: no jitter")
	}
}

// A Retry-After beyond maxWait is cut to it; the request's context ends the
// wait.
func TestRetryAfterCappedAndContextEndsWait(t *testing.T) {
	ft := &fakeTransport{outcomes: []func() (*http.Response, error){func() (*http.Response, error) {
		r, _ := answer(503)()
		r.Header.Set("Retry-After", "3600")
		return r, nil
	}}}
	rt := &retryTransport{next: ft, retries: 3, backoff: time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://example.invalid/", nil)
	start := time.Now()
	if _, err := rt.RoundTrip(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want the context's deadline", err)
	}
	if ft.calls != 1 || time.Since(start) > maxWait {
		t.Fatalf("%d calls; the wait was not ended by the context", ft.calls)
	}
}

func TestResponseSizeCap(t *testing.T) {
	const limit = 1 << 10
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		if r.URL.Query().Get("chunked") != "" {
			w.(http.Flusher).Flush() // no Content-Length
		}
		w.Write(bytes.Repeat([]byte("x"), n))
	}))
	defer srv.Close()
	c, err := New(Options{MaxResponseBytes: limit})
	if err != nil {
		t.Fatal(err)
	}
	get := func(ctx context.Context, query string) (int, error) {
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/doc?"+query, nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return len(b), err
	}
	ctx := context.Background()
	for _, q := range []string{"n=1024", "n=1024&chunked=1", "n=0"} {
		if n, err := get(ctx, q); err != nil || !strings.HasSuffix(q, "n=0") && n != limit {
			t.Errorf("%s: read %d bytes, %v; want the whole body", q, n, err)
		}
	}
	for _, q := range []string{"n=1025", "n=1025&chunked=1", "n=100000&token=s3cr3tvalue123456"} {
		_, err := get(ctx, q)
		var tl *ResponseTooLargeError
		if !errors.As(err, &tl) {
			t.Fatalf("%s: err %v, want *ResponseTooLargeError", q, err)
		}
		var bi interface{ BadInput() bool }
		if !errors.As(err, &bi) || !bi.BadInput() {
			t.Errorf("%s: the error is not marked as bad input", q)
		}
		msg := err.Error()
		if !strings.Contains(msg, srv.URL+"/doc") || !strings.Contains(msg, "1024 bytes (1 KiB)") || strings.Contains(msg, "s3cr3tvalue123456") {
			t.Errorf("%s: message %q should name the URL and the limit, and no secret", q, msg)
		}
	}
	// A request may ask for a larger cap.
	if n, err := get(WithResponseLimit(ctx, 4096), "n=4000"); err != nil || n != 4000 {
		t.Errorf("WithResponseLimit(4096): read %d, %v", n, err)
	}
	// The default cap is 16 MiB.
	d, _ := New(Options{})
	rt := d.Transport.(*retryTransport).next.(*limitTransport)
	if rt.limit != 16<<20 || DefaultMaxResponseBytes != 16<<20 {
		t.Errorf("default cap %d", rt.limit)
	}
}
