package doctor

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ssoctl/ssoctl/keycloak"
)

func TestUsableRedirect(t *testing.T) {
	tests := []struct {
		root string
		uris []string
		want string
	}{
		{"", []string{"http://127.0.0.1:1/cb"}, "http://127.0.0.1:1/cb"},
		{"", []string{"http://app/*", "http://app/exact"}, "http://app/exact"},
		{"", []string{"http://app/*"}, "http://app/ssoctl-doctor-logout"},
		{"", []string{"http://app/cb*"}, "http://app/cb"},
		{"", []string{"*", "/relative"}, ""},
		{"http://app:8000/", []string{"/relative/cb"}, "http://app:8000/relative/cb"},
		{"", []string{"http://*.example.com/cb", "myapp://cb"}, ""},
		{"", []string{"http://a/*/b*"}, ""},
		{"", nil, ""},
	}
	for _, tt := range tests {
		got, ok := UsableRedirect(tt.root, tt.uris)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("UsableRedirect(%q, %q) = %q, %v; want %q", tt.root, tt.uris, got, ok, tt.want)
		}
	}
}

func TestPostLogoutRedirect(t *testing.T) {
	s := &session{redirect: "http://app/cb", client: &keycloak.LogoutClient{RedirectURIs: []string{"http://app/*"}}}
	if got := postLogoutRedirect(s); got != "" {
		t.Errorf("no post-logout URIs: %q", got)
	}
	s.client.PostLogoutRedirectURIs = []string{"+"}
	if got := postLogoutRedirect(s); got != "http://app/cb" {
		t.Errorf("+: %q, want the login's redirect URI", got)
	}
	s.client.PostLogoutRedirectURIs = []string{"http://app/bye/*"}
	if got := postLogoutRedirect(s); got != "http://app/bye/ssoctl-doctor-logout" {
		t.Errorf("wildcard: %q", got)
	}
}

func TestTargetsReceiver(t *testing.T) {
	lo := &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 8790}
	all := &net.TCPAddr{IP: net.IPv4zero, Port: 8790}
	tests := []struct {
		url  string
		addr net.Addr
		want bool
	}{
		{"http://127.0.0.1:8790/backchannel", lo, true},
		{"http://localhost:8790/x", lo, true},
		{"http://127.0.0.1:8791/x", lo, false},
		{"https://127.0.0.1:8790/x", lo, false},
		{"http://app.example:8790/x", lo, false},
		{"http://app.example:8790/x", all, true},
		{"http://127.0.0.1/x", &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 80}, true},
		{"not a url", lo, false},
	}
	for _, tt := range tests {
		if got := TargetsReceiver(tt.url, tt.addr); got != tt.want {
			t.Errorf("TargetsReceiver(%q, %s) = %v", tt.url, tt.addr, got)
		}
	}
}

func TestReceiver(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := NewReceiver(l)
	defer r.Close()
	r.Expect("/bc", nil)
	base := "http://" + r.Addr().String()
	start := time.Now()

	// Not a logout: counted, not kept, not returned by Wait.
	resp, err := http.Get(base + "/bc")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", resp.StatusCode)
	}
	if d := r.Wait(context.Background(), start, time.Now().Add(50*time.Millisecond)); d != nil {
		t.Errorf("a GET counts as a delivery: %+v", d)
	}

	go func() {
		time.Sleep(20 * time.Millisecond)
		resp, err := http.PostForm(base+"/bc", url.Values{"logout_token": {"a.b.c"}})
		if err != nil {
			t.Error(err)
			return
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" || !resp.Close {
			t.Errorf("answer: %d %v close=%v", resp.StatusCode, resp.Header, resp.Close)
		}
	}()
	d := r.Wait(context.Background(), start, time.Now().Add(5*time.Second))
	if d == nil || d.Token != "a.b.c" || d.Path != "/bc" || !strings.HasPrefix(d.ContentType, "application/x-www-form-urlencoded") || d.Answered.Before(d.At) {
		t.Fatalf("delivery: %+v", d)
	}
	if got := r.Deliveries(); len(got) != 1 {
		t.Errorf("deliveries: %+v", got)
	}
	if got := r.Refusals(); len(got) != 1 || got[0].Reason != "not a POST" || got[0].Count != 1 || !strings.Contains(got[0].First, `"GET" "/bc"`) {
		t.Errorf("refusals: %+v", got)
	}
	// A delivery before since does not count.
	if d := r.Wait(context.Background(), time.Now(), time.Now().Add(20*time.Millisecond)); d != nil {
		t.Errorf("an old delivery counts: %+v", d)
	}
}
