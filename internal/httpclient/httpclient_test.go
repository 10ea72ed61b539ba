package httpclient

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
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
