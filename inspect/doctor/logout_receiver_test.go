package doctor

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// fakeLogoutToken is an unsigned compact JWT with the given claims: enough
// for the receiver's unverified session test.
func fakeLogoutToken(claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","typ":"logout+jwt"}`)) + "." + enc([]byte(claims)) + "." + enc([]byte("sig"))
}

func formPost(path, body string) string {
	return fmt.Sprintf("POST %s HTTP/1.1\r\nHost: r\r\nContent-Type: application/x-www-form-urlencoded; charset=UTF-8\r\nContent-Length: %d\r\n\r\n%s", path, len(body), body)
}

// Each request that is not a form POST to the path is answered at once
// (before its body was sent: the receiver reads none of it), counted by its
// reason, and not kept.
func TestReceiverRefusesAtOnce(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := NewReceiver(l)
	defer r.Close()
	r.Expect("/bc", sessionToken("sid-1", "user-1"))
	big := fmt.Sprintf("%d", 1<<30)
	tests := []struct {
		name, head, body string
		status           int
		reason           string
	}{
		{"GET", "GET /bc HTTP/1.1\r\nHost: r\r\n\r\n", "", 405, "not a POST"},
		{"another path, a 1 GiB body never sent", "POST /other HTTP/1.1\r\nHost: r\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " + big + "\r\n\r\n", "", 404, "to another path than /bc"},
		{"JSON, a 1 GiB body never sent", "POST /bc HTTP/1.1\r\nHost: r\r\nContent-Type: application/json\r\nContent-Length: " + big + "\r\n\r\n", "", 415, "not a form (application/x-www-form-urlencoded)"},
		{"no content type", "POST /bc HTTP/1.1\r\nHost: r\r\nContent-Length: " + big + "\r\n\r\n", "", 415, "not a form (application/x-www-form-urlencoded)"},
		{"a form of 1 GiB never sent", "POST /bc HTTP/1.1\r\nHost: r\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " + big + "\r\n\r\n", "", 413, "a body over 8192 bytes"},
		{"a chunked form over the limit", "POST /bc HTTP/1.1\r\nHost: r\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n",
			fmt.Sprintf("%x\r\n%s\r\n", maxLogoutPost+1, strings.Repeat("a", maxLogoutPost+1)), 413, "a body over 8192 bytes"},
		{"not a form", formPost("/bc", "logout_token=%zz"), "", 400, "a body that is not a form"},
		{"no logout_token", formPost("/bc", "token=a.b.c"), "", 400, "no logout_token field"},
		{"another session's token", formPost("/bc", "logout_token="+fakeLogoutToken(`{"sid":"sid-2","sub":"user-1"}`)), "", 200, "a logout token for another session, or not a JWT"},
		{"not a JWT", formPost("/bc", "logout_token=junk"), "", 200, "a logout token for another session, or not a JWT"},
	}
	for _, tt := range tests {
		c, err := net.Dial("tcp", r.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(receiverReadTimeout / 2)) // no hang: the receiver's own deadline is later
		io.WriteString(c, tt.head+tt.body)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		c.Close()
		if err != nil {
			t.Errorf("%s: no answer: %v", tt.name, err)
			continue
		}
		if resp.StatusCode != tt.status || !resp.Close {
			t.Errorf("%s: %d %v, want %d and Connection: close", tt.name, resp.StatusCode, resp.Header, tt.status)
		}
	}
	if got := r.Deliveries(); len(got) != 0 {
		t.Errorf("kept %+v", got)
	}
	counts := map[string]int{}
	for _, x := range r.Refusals() {
		counts[x.Reason] = x.Count
	}
	for _, tt := range tests {
		counts[tt.reason]--
	}
	for reason, n := range counts {
		if n != 0 {
			t.Errorf("reason %q counted %+d against the requests sent: %+v", reason, n, r.Refusals())
		}
	}

	// The probe's session's token is kept, with sid or (without sid) sub.
	for _, claims := range []string{`{"sid":"sid-1"}`, `{"sub":"user-1"}`} {
		since := time.Now()
		c, err := net.Dial("tcp", r.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, formPost("/bc", url.Values{"logout_token": {fakeLogoutToken(claims)}}.Encode()))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		c.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("%s: %v %v", claims, err, resp)
		}
		if d := r.Wait(context.Background(), since, time.Now().Add(5*time.Second)); d == nil || d.Token != fakeLogoutToken(claims) {
			t.Errorf("%s: not kept: %+v", claims, d)
		}
	}
	if got := r.Deliveries(); len(got) != 2 {
		t.Errorf("the session's tokens: kept %d, want 2", len(got))
	}
}

// The kept state is bounded: deliveries past maxKeptDeliveries and every
// refusal are counted; refusals take one entry per reason, each with a
// shortened first request.
func TestReceiverKeepsBounded(t *testing.T) {
	r := newReceiver()
	r.Expect("/bc", nil)
	for i := range 100 {
		req := httptest.NewRequest(http.MethodPost, "/bc", strings.NewReader(url.Values{"logout_token": {fmt.Sprintf("t%d", i)}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.serve(httptest.NewRecorder(), req)
		req = httptest.NewRequest(http.MethodPost, "/"+strings.Repeat("x", 10000)+fmt.Sprint(i), nil)
		r.serve(httptest.NewRecorder(), req)
	}
	if got := r.Deliveries(); len(got) != maxKeptDeliveries || got[0].Token != "t0" {
		t.Errorf("kept %d deliveries, want the first %d", len(got), maxKeptDeliveries)
	}
	refused := r.Refusals()
	counts := map[string]int{}
	for _, x := range refused {
		counts[x.Reason] = x.Count
	}
	if len(refused) != 2 || counts["a logout token past the 16 kept"] != 100-maxKeptDeliveries || counts["to another path than /bc"] != 100 {
		t.Errorf("refusals %+v", refused)
	}
	for _, x := range refused {
		if len(x.First) > 300 {
			t.Errorf("a refusal keeps %d bytes of its request", len(x.First))
		}
	}
}

func TestSessionToken(t *testing.T) {
	accept := sessionToken("sid-1", "user-1")
	for _, tt := range []struct {
		token string
		want  bool
	}{
		{fakeLogoutToken(`{"sid":"sid-1","sub":"user-1"}`), true},
		{fakeLogoutToken(`{"sid":"sid-1"}`), true},
		{fakeLogoutToken(`{"sub":"user-1"}`), true},
		{fakeLogoutToken(`{"sid":"sid-2","sub":"user-1"}`), false},
		{fakeLogoutToken(`{"sub":"user-2"}`), false},
		{fakeLogoutToken(`{}`), false},
		{"a.b", false},
		{"", false},
	} {
		if got := accept(tt.token); got != tt.want {
			t.Errorf("%q: %v", tt.token, got)
		}
	}
	// Without a sid of its own the probe goes by sub.
	if !sessionToken("", "user-1")(fakeLogoutToken(`{"sid":"x","sub":"user-1"}`)) {
		t.Error("no session sid: sub is not used")
	}
}

// dialAccept dials l and returns both ends.
func dialAccept(t *testing.T, l net.Listener) (client, server net.Conn) {
	t.Helper()
	client, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err = l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	return client, server
}

// closedByPeer reports whether the other end closed c within wait.
func closedByPeer(c net.Conn, wait time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(wait))
	_, err := c.Read(make([]byte, 1))
	return err != nil && !isTimeout(err)
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// At the cap a new connection closes the oldest one that has not sent its
// request once that one is older than the grace; one whose request was read
// is never closed, and with no connection to close Accept waits.
func TestConnLimit(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := newConnLimit(raw, 2, time.Hour)
	defer l.Close()
	now := time.Now()
	l.now = func() time.Time { return now }

	c1, s1 := dialAccept(t, l)
	c2, s2 := dialAccept(t, l)
	defer c1.Close()
	defer c2.Close()
	s1.(*limitedConn).requestRead()

	// Within the grace, the third waits.
	c3, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	got := make(chan net.Conn)
	go func() {
		c, err := l.Accept()
		if err != nil {
			t.Error(err)
		}
		got <- c
	}()
	select {
	case <-got:
		t.Fatal("a third connection was let in within the grace")
	case <-time.After(100 * time.Millisecond):
	}
	// Closing one lets it in.
	s2.Close()
	s3 := <-got
	if open, peak, evicted := l.counts(); open != 2 || peak != 2 || evicted != 0 {
		t.Errorf("counts %d %d %d", open, peak, evicted)
	}

	// Past the grace, a fourth closes the oldest unread one (s3), not s1.
	now = now.Add(2 * time.Hour)
	c4, s4 := dialAccept(t, l)
	defer c4.Close()
	defer s4.Close()
	if !closedByPeer(c3, 5*time.Second) {
		t.Error("the oldest unread connection is still open")
	}
	if closedByPeer(c1, 100*time.Millisecond) {
		t.Error("a connection whose request was read was closed")
	}
	if open, peak, evicted := l.counts(); open != 2 || peak != 2 || evicted != 1 {
		t.Errorf("counts %d %d %d", open, peak, evicted)
	}
	s3.Close()
	s1.Close()

	// Close wakes a waiting Accept.
	s4.(*limitedConn).requestRead()
	c5, _ := dialAccept(t, l)
	defer c5.Close()
	c6, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c6.Close()
	errc := make(chan error)
	go func() {
		_, err := l.Accept()
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond)
	l.Close()
	if err := <-errc; err == nil {
		t.Error("Accept after Close: no error")
	}
}

// FuzzReceiverServe drives the receiver's handler with raw requests (the
// request line, headers and body it parses): no panic, every answer one of
// the receiver's, and the kept state bounded across all inputs.
func FuzzReceiverServe(f *testing.F) {
	tok := fakeLogoutToken(`{"sid":"sid-1","sub":"user-1"}`)
	for _, seed := range []string{
		formPost(DefaultBackchannelPath, "logout_token="+tok),
		formPost(DefaultBackchannelPath, "logout_token="+fakeLogoutToken(`{"sid":"sid-2"}`)),
		formPost(DefaultBackchannelPath, "logout_token=a&logout_token=b&x=%41"),
		formPost(DefaultBackchannelPath, "logout_token=%zz"),
		formPost("/x", "logout_token="+tok),
		"GET " + DefaultBackchannelPath + " HTTP/1.1\r\nHost: r\r\n\r\n",
		"POST " + DefaultBackchannelPath + " HTTP/1.1\r\nHost: r\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nlogou\r\n0\r\n\r\n",
		"POST " + DefaultBackchannelPath + " HTTP/1.1\r\nHost: r\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 99999999\r\n\r\nlogout_token=a",
		"POST " + DefaultBackchannelPath + " HTTP/1.1\r\nHost: r\r\nContent-Type: Application/X-WWW-Form-Urlencoded ; charset=\"x\"\r\nContent-Length: 14\r\n\r\nlogout_token=a",
	} {
		f.Add([]byte(seed))
	}
	all, session := newReceiver(), newReceiver()
	session.Expect(DefaultBackchannelPath, sessionToken("sid-1", "user-1"))
	statuses := map[int]bool{200: true, 400: true, 404: true, 405: true, 413: true, 415: true}
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, r := range []*Receiver{all, session} {
			req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
			if err != nil {
				return // net/http answers 400 itself
			}
			req.RemoteAddr = "127.0.0.1:1"
			rec := httptest.NewRecorder()
			r.serve(rec, req)
			if !statuses[rec.Code] || rec.Header().Get("Connection") != "close" || rec.Header().Get("Cache-Control") != "no-store" {
				t.Fatalf("answer %d %v", rec.Code, rec.Header())
			}
			kept, refused := r.Deliveries(), r.Refusals()
			if len(kept) > maxKeptDeliveries || len(refused) > 9 {
				t.Fatalf("kept %d deliveries, %d refusals", len(kept), len(refused))
			}
			for _, d := range kept {
				if d.Token == "" || len(d.Token) > maxLogoutPost {
					t.Fatalf("kept a token of %d bytes", len(d.Token))
				}
			}
			for _, x := range refused {
				if len(x.First) > 800 || x.Count <= 0 {
					t.Fatalf("refusal %+v", x)
				}
			}
		}
	})
}

// Deliveries kept before Expect (a flood before the probe's logout) are
// tested again, so that they do not take the places of the session's.
func TestReceiverExpectDropsEarlierDeliveries(t *testing.T) {
	r := newReceiver()
	post := func(token string) {
		req := httptest.NewRequest(http.MethodPost, DefaultBackchannelPath, strings.NewReader(url.Values{"logout_token": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.serve(httptest.NewRecorder(), req)
	}
	mine := fakeLogoutToken(`{"sid":"sid-1"}`)
	post(mine)
	for range 2 * maxKeptDeliveries {
		post(fakeLogoutToken(`{"sid":"forged"}`))
	}
	r.Expect(DefaultBackchannelPath, sessionToken("sid-1", "user-1"))
	if got := r.Deliveries(); len(got) != 1 || got[0].Token != mine {
		t.Fatalf("kept %d deliveries after Expect, want the session's one", len(got))
	}
	post(mine)
	if got := r.Deliveries(); len(got) != 2 {
		t.Errorf("the session's token after Expect: kept %d, want 2", len(got))
	}
}
