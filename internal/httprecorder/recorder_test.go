package httprecorder

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// fakeT records what the recorder reports, and runs the cleanups when the
// test says so.
type fakeT struct {
	testing.TB
	errors   []string
	cleanups []func()
}

func (f *fakeT) Helper() {}
func (f *fakeT) Errorf(format string, args ...any) {
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}
func (f *fakeT) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }

func (f *fakeT) end() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

func get(t *testing.T, rec *Recorder, method, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, rec.URL()+path, nil)
	resp, err := rec.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestUnknownRequestFails(t *testing.T) {
	ft := &fakeT{TB: t}
	rec := New(ft, map[string]Reply{"GET /known": {Body: `{}`}})
	if st, _ := get(t, rec, http.MethodGet, "/known"); st != 200 {
		t.Errorf("a route: %d", st)
	}
	st, body := get(t, rec, http.MethodDelete, "/nope?x=1")
	if st != http.StatusNotImplemented || !strings.Contains(body, "DELETE /nope?x=1") {
		t.Errorf("an unknown request: %d %q", st, body)
	}
	ft.end()
	if len(ft.errors) != 1 || !strings.Contains(ft.errors[0], "no stub for DELETE /nope?x=1") {
		t.Errorf("errors %q", ft.errors)
	}
}

func TestUnusedRouteFailsAtCleanup(t *testing.T) {
	ft := &fakeT{TB: t}
	rec := New(ft, map[string]Reply{"GET /a": {}, "GET /b?q=1": {}, "PUT /c": {}})
	get(t, rec, http.MethodGet, "/b?q=1")
	rec.Set("PUT /c", Reply{Status: 204})
	if len(ft.errors) != 0 {
		t.Fatalf("errors before the end: %q", ft.errors)
	}
	ft.end()
	if len(ft.errors) != 1 || !strings.Contains(ft.errors[0], "2 stub(s) never requested:\n  GET /a\n  PUT /c") {
		t.Errorf("errors %q", ft.errors)
	}
}

// A route Set again must be used again.
func TestSetCountsTheRouteUnusedAgain(t *testing.T) {
	ft := &fakeT{TB: t}
	rec := New(ft, map[string]Reply{"GET /a": {}})
	get(t, rec, http.MethodGet, "/a")
	rec.Set("GET /a", Reply{Status: 404})
	ft.end()
	if len(ft.errors) != 1 || !strings.Contains(ft.errors[0], "GET /a") {
		t.Errorf("errors %q", ft.errors)
	}
}

// Default is the explicit catch-all: unknown requests go to it without a
// failure, and the table's routes must still be used.
func TestDefaultIsTheOptIn(t *testing.T) {
	ft := &fakeT{TB: t}
	rec := New(ft, map[string]Reply{"GET /a": {}})
	rec.Default = func(r *http.Request) Reply { return Reply{Status: 418, Body: `{"x":1}`} }
	if st, body := get(t, rec, http.MethodPost, "/anything"); st != 418 || body != `{"x":1}` {
		t.Errorf("default: %d %q", st, body)
	}
	ft.end()
	if len(ft.errors) != 1 || !strings.Contains(ft.errors[0], "GET /a") {
		t.Errorf("errors %q", ft.errors)
	}
	if got := rec.Requests(); len(got) != 1 || got[0] != "POST /anything" {
		t.Errorf("log %v", got)
	}
}

func TestLocationAndSkip(t *testing.T) {
	ft := &fakeT{TB: t}
	rec := New(ft, map[string]Reply{"POST /items": {Status: 201, Location: "/items/1"}, "POST /token": {Body: `{}`}})
	rec.Skip = func(r *http.Request) bool { return r.URL.Path == "/token" }
	resp, err := rec.Client().Post(rec.URL()+"/token", "application/x-www-form-urlencoded", strings.NewReader("grant_type=password"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = rec.Client().Post(rec.URL()+"/items", "application/json", strings.NewReader(`{"n":1}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 || resp.Header.Get("Location") != rec.URL()+"/items/1" {
		t.Errorf("create: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if string(rec.Body("POST /items")) != `{"n":1}` || len(rec.Requests()) != 1 {
		t.Errorf("log %v body %q", rec.Requests(), rec.Body("POST /items"))
	}
	if s := rec.Skipped(); len(s) != 1 || s[0].PostForm.Get("grant_type") != "password" {
		t.Errorf("skipped %v", s)
	}
	ft.end()
	if len(ft.errors) != 0 {
		t.Errorf("errors %q", ft.errors)
	}
}

// A Func route answers from the request.
func TestFuncEchoes(t *testing.T) {
	ft := &fakeT{TB: t}
	rec := New(ft, map[string]Reply{"POST /echo": {Func: func(r *http.Request) Reply {
		b, _ := io.ReadAll(r.Body)
		return Reply{Status: 302, Location: "http://elsewhere/cb?state=" + r.URL.Query().Get("state") + "&body=" + string(b)}
	}}})
	c := rec.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Post(rec.URL()+"/echo?state=s1", "text/plain", strings.NewReader("hi"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 302 || resp.Header.Get("Location") != "http://elsewhere/cb?state=s1&body=hi" {
		t.Errorf("%d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if string(rec.Body("POST /echo")) != "hi" {
		t.Errorf("body %q", rec.Body("POST /echo"))
	}
	ft.end()
	if len(ft.errors) != 0 {
		t.Errorf("errors %q", ft.errors)
	}
}
