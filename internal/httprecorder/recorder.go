// Package httprecorder is an HTTP server for unit tests that answers from a
// table of replies and records every request, so a test can pin the
// requests a client sends (method, path, body) and feed it the answers it
// must handle. It models no server: what a real server does with those
// requests is for integration tests against the real one.
//
// It is strict, as a stub should be: a request the table lacks fails the
// test (naming its method and path) and is answered 501, and a route no
// request used fails the test when it ends. A test that truly wants a
// catch-all sets Default on purpose, and says why.
package httprecorder

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
)

// Reply is one canned answer. A zero Status is 200; Location, when set, is
// a path on the recorder and is sent as an absolute URL, or an absolute URL
// elsewhere (a redirect to a client's callback) sent as it is.
type Reply struct {
	Status   int
	Body     string
	Location string
	// Func, when set, makes the answer from the request (its body still
	// readable): for answers that echo what the client sent, as an OAuth
	// state or nonce, or that change from one request to the next.
	Func func(r *http.Request) Reply
}

// Recorder is the server and what it saw.
type Recorder struct {
	srv *httptest.Server
	// Key names a request in the table and the log; the default is
	// "METHOD /escaped/path".
	Key func(r *http.Request) string
	// Default, when set, answers requests the table lacks instead of
	// failing the test: the explicit opt-in for a catch-all. Routes the
	// table holds must still be used.
	Default func(r *http.Request) Reply
	// Skip keeps requests out of the log (logins, say); they are still
	// answered.
	Skip func(r *http.Request) bool

	t      testing.TB
	mu     sync.Mutex
	routes map[string]Reply
	used   map[string]bool
	log    []string
	bodies map[string][]byte
	forms  []*http.Request
}

// New starts a recorder with routes, stopped when the test ends; the test
// then fails for each route no request used. A route's key may end in
// "?QUERY" to match only that raw query.
func New(t testing.TB, routes map[string]Reply) *Recorder {
	if routes == nil {
		routes = map[string]Reply{}
	}
	rec := &Recorder{t: t, routes: routes, used: map[string]bool{}, bodies: map[string][]byte{}}
	rec.srv = httptest.NewServer(http.HandlerFunc(rec.serve))
	// Cleanups run last first: the server stops (in-flight requests end)
	// before the unused routes are counted.
	t.Cleanup(rec.checkUsed)
	t.Cleanup(rec.srv.Close)
	return rec
}

// checkUsed fails the test for each route no request used.
func (rec *Recorder) checkUsed() {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var unused []string
	for k := range rec.routes {
		if !rec.used[k] {
			unused = append(unused, k)
		}
	}
	if len(unused) > 0 {
		sort.Strings(unused)
		rec.t.Errorf("httprecorder: %d stub(s) never requested:\n  %s", len(unused), strings.Join(unused, "\n  "))
	}
}

// URL is the server's base URL.
func (rec *Recorder) URL() string { return rec.srv.URL }

// Client is an HTTP client for the server.
func (rec *Recorder) Client() *http.Client { return rec.srv.Client() }

// Set adds or replaces a route. The new reply must be used too: Set
// counts the route as unused again.
func (rec *Recorder) Set(key string, r Reply) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.routes[key] = r
	delete(rec.used, key)
}

func (rec *Recorder) key(r *http.Request) string {
	if rec.Key != nil {
		return rec.Key(r)
	}
	return r.Method + " " + r.URL.EscapedPath()
}

func (rec *Recorder) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	key := rec.key(r)
	rec.mu.Lock()
	if rec.Skip == nil || !rec.Skip(r) {
		rec.log = append(rec.log, key)
		rec.bodies[key] = body
	} else {
		f := r.Clone(r.Context())
		f.Body = io.NopCloser(strings.NewReader(string(body)))
		f.ParseForm()
		rec.forms = append(rec.forms, f)
	}
	matched := key
	rp, ok := rec.routes[key]
	if !ok && r.URL.RawQuery != "" {
		matched = key + "?" + r.URL.RawQuery
		rp, ok = rec.routes[matched]
	}
	if ok {
		rec.used[matched] = true
	}
	rec.mu.Unlock()
	if !ok {
		if rec.Default == nil {
			what := r.Method + " " + r.URL.RequestURI()
			rec.t.Errorf("httprecorder: no stub for %s (key %q)", what, key)
			http.Error(w, "httprecorder: no stub for "+what, http.StatusNotImplemented)
			return
		}
		rp = rec.Default(r)
	}
	if rp.Func != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
		rp = rp.Func(r)
	}
	if strings.HasPrefix(rp.Location, "/") {
		w.Header().Set("Location", rec.srv.URL+rp.Location)
	} else if rp.Location != "" {
		w.Header().Set("Location", rp.Location)
	}
	if rp.Body != "" {
		w.Header().Set("Content-Type", "application/json")
	}
	if rp.Status == 0 {
		rp.Status = http.StatusOK
	}
	w.WriteHeader(rp.Status)
	io.WriteString(w, rp.Body)
}

// Requests returns the logged requests' keys, in arrival order.
func (rec *Recorder) Requests() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return slices.Clone(rec.log)
}

// Body returns the body of the last request with key.
func (rec *Recorder) Body(key string) []byte {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.bodies[key]
}

// Skipped returns the requests Skip kept out of the log, forms parsed.
func (rec *Recorder) Skipped() []*http.Request {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return slices.Clone(rec.forms)
}

// Reset forgets what was logged.
func (rec *Recorder) Reset() {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.log, rec.forms = nil, nil
	rec.bodies = map[string][]byte{}
}

// Wants fails the test for each key no request had.
func (rec *Recorder) Wants(t testing.TB, keys ...string) {
	t.Helper()
	got := rec.Requests()
	for _, k := range keys {
		if !slices.Contains(got, k) {
			t.Errorf("no request %s; got:\n  %s", k, strings.Join(got, "\n  "))
		}
	}
}
