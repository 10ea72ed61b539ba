package inspect

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// fakeProvider serves a discovery document whose issuer is docIssuer(base URL).
func fakeProvider(t *testing.T, docIssuer func(base string) string, jwks []byte, jwksCode int) (*httptest.Server, *atomic.Int32) {
	var discoveryHits atomic.Int32
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/realms/demo/.well-known/openid-configuration":
			discoveryHits.Add(1)
			json.NewEncoder(w).Encode(map[string]any{
				"issuer":                                docIssuer(srv.URL),
				"jwks_uri":                              srv.URL + "/realms/demo/protocol/openid-connect/certs",
				"authorization_endpoint":                srv.URL + "/realms/demo/protocol/openid-connect/auth",
				"token_endpoint":                        srv.URL + "/realms/demo/protocol/openid-connect/token",
				"id_token_signing_alg_values_supported": []string{"PS384", "RS256", "HS256", "ES256"},
			})
		case "/realms/demo/protocol/openid-connect/certs":
			w.WriteHeader(jwksCode)
			w.Write(jwks)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &discoveryHits
}

func TestCheckDiscovery(t *testing.T) {
	k := testKeys(t)
	jwks := jwksJSON(t, jwkOf(t, &k.rsaA.PublicKey, map[string]any{"kid": "a", "alg": "RS256", "use": "sig"}))
	exact := func(base string) string { return base + "/realms/demo" }

	t.Run("matching issuer", func(t *testing.T) {
		srv, hits := fakeProvider(t, exact, jwks, 200)
		rep, err := CheckDiscovery(bg, srv.Client(), srv.URL+"/realms/demo")
		if err != nil {
			t.Fatal(err)
		}
		if HasErrors(rep.Findings) {
			t.Fatalf("unexpected errors: %+v", rep.Findings)
		}
		if len(rep.Keys) != 1 || rep.Keys[0].ID != "a" || strings.Join(rep.SigningAlgs, ",") != "PS384,RS256,HS256,ES256" {
			t.Errorf("report %+v", rep)
		}
		if f := hasFinding(rep.Findings, FindingDiscoveryAlgs); f == nil || !strings.Contains(f.Message, "PS384, RS256, HS256, ES256") {
			t.Errorf("signing algs not listed: %+v", rep.Findings)
		}
		var warned bool
		for _, f := range rep.Findings {
			warned = warned || (f.ID == FindingDiscoveryAlgs && f.Severity == SeverityWarning && strings.Contains(f.Message, "HS256"))
		}
		if !warned {
			t.Errorf("HS256 offered without a warning: %+v", rep.Findings)
		}
		if hits.Load() != 1 {
			t.Errorf("discovery hits = %d", hits.Load())
		}
	})
	t.Run("asked issuer has a trailing slash", func(t *testing.T) {
		srv, hits := fakeProvider(t, exact, jwks, 200)
		rep, err := CheckDiscovery(bg, srv.Client(), srv.URL+"/realms/demo/")
		if err != nil {
			t.Fatal(err) // the document URL must not get a double slash
		}
		if hits.Load() != 1 {
			t.Fatalf("document not fetched at the right URL")
		}
		f := hasFinding(rep.Findings, FindingDiscoveryIssuer)
		if f == nil || f.Severity != SeverityError || !strings.Contains(f.Message, "trailing slash") || f.VaultMessage != "error checking oidc discovery URL" {
			t.Fatalf("want issuer mismatch on the trailing slash, got %+v", rep.Findings)
		}
		if !strings.Contains(f.Fix, "`discovery_url: "+srv.URL+"/realms/demo`") {
			t.Errorf("fix %q does not give the exact issuer", f.Fix)
		}
	})
	t.Run("document issuer has a trailing slash", func(t *testing.T) {
		srv, _ := fakeProvider(t, func(b string) string { return b + "/realms/demo/" }, jwks, 200)
		rep, err := CheckDiscovery(bg, srv.Client(), srv.URL+"/realms/demo")
		if err != nil {
			t.Fatal(err)
		}
		if f := hasFinding(rep.Findings, FindingDiscoveryIssuer); f == nil || !strings.Contains(f.Message, "trailing slash") {
			t.Fatalf("findings %+v", rep.Findings)
		}
	})
	t.Run("document names another host", func(t *testing.T) {
		srv, _ := fakeProvider(t, func(string) string { return "https://sso.example.com/realms/demo" }, jwks, 200)
		rep, err := CheckDiscovery(bg, srv.Client(), srv.URL+"/realms/demo")
		if err != nil {
			t.Fatal(err)
		}
		f := hasFinding(rep.Findings, FindingDiscoveryIssuer)
		if f == nil || !strings.Contains(f.Message, `expected "`+srv.URL+`/realms/demo" got "https://sso.example.com/realms/demo"`) {
			t.Fatalf("findings %+v", rep.Findings)
		}
	})
	t.Run("well-known URL given", func(t *testing.T) {
		srv, _ := fakeProvider(t, exact, jwks, 200)
		rep, err := CheckDiscovery(bg, srv.Client(), srv.URL+"/realms/demo/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		if hasFinding(rep.Findings, FindingDiscoveryWellKnown) == nil {
			t.Fatalf("findings %+v", rep.Findings)
		}
	})
	t.Run("JWKS unreachable", func(t *testing.T) {
		srv, _ := fakeProvider(t, exact, []byte("nope"), 500)
		rep, err := CheckDiscovery(bg, srv.Client(), srv.URL+"/realms/demo")
		if err != nil {
			t.Fatal(err)
		}
		if f := hasFinding(rep.Findings, FindingDiscoveryJWKS); f == nil || !strings.Contains(f.Message, "HTTP 500") {
			t.Fatalf("findings %+v", rep.Findings)
		}
	})
	t.Run("JWKS without signature keys", func(t *testing.T) {
		srv, _ := fakeProvider(t, exact, []byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`), 200)
		rep, err := CheckDiscovery(bg, srv.Client(), srv.URL+"/realms/demo")
		if err != nil {
			t.Fatal(err)
		}
		if hasFinding(rep.Findings, FindingDiscoveryJWKSEmpty) == nil {
			t.Fatalf("findings %+v", rep.Findings)
		}
	})
	t.Run("no discovery document", func(t *testing.T) {
		srv, _ := fakeProvider(t, exact, jwks, 200)
		_, err := CheckDiscovery(bg, srv.Client(), srv.URL+"/realms/other")
		var fe *FetchError
		if !errors.As(err, &fe) || fe.StatusCode != 404 {
			t.Fatalf("err = %v, want *FetchError 404", err)
		}
	})
}

func TestDiscoveryURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://kc/realms/demo":                                  "http://kc/realms/demo/.well-known/openid-configuration",
		"http://kc/realms/demo/":                                 "http://kc/realms/demo/.well-known/openid-configuration",
		"http://kc/realms/demo/.well-known/openid-configuration": "http://kc/realms/demo/.well-known/openid-configuration",
	} {
		if got := DiscoveryURL(in); got != want {
			t.Errorf("DiscoveryURL(%q) = %q, want %q", in, got, want)
		}
	}
}
