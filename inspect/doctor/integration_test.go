//go:build integration

package doctor

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ssoctl/ssoctl/testbed"
)

// redirectAllowed agrees with the real Keycloak on every case: each URI is
// sent to the realm's authorization endpoint, and Keycloak either shows its
// login form or "Invalid parameter: redirect_uri".
func TestIntegrationRedirectRulesAgreeWithKeycloak(t *testing.T) {
	tb := testbed.Load(t)
	ctx := context.Background()
	realm := fmt.Sprintf("redirects-%d", time.Now().UnixNano()%1e9)
	if err := tb.KeycloakAdminRequest(ctx, http.MethodPost, "", map[string]any{"realm": realm, "enabled": true}, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tb.DeleteRealm(ctx, realm) })
	const root = "https://root.example"
	registered := []string{"http://exact/cb", "http://wild/*", "http://pre/app*", "/rel/cb", "http://q/cb?x=1", "http://localhost:*/mid",
		"http://Upper/cb", "http://q2/*?y", "http://localhost:8250/oidc/callback"}
	if err := tb.KeycloakAdminRequest(ctx, http.MethodPost, "/"+realm+"/clients",
		map[string]any{"clientId": "r", "publicClient": true, "rootUrl": root, "redirectUris": registered}, nil); err != nil {
		t.Fatal(err)
	}
	for _, uri := range []string{
		"http://exact/cb", "http://exact/cb/", "http://exact/cb?z=1", "http://exact/CB", "http://EXACT/cb",
		"http://wild", "http://wild/", "http://wild/a/b", "http://wild/a?b=1", "http://wild?b=1", "http://wil",
		"http://pre/app", "http://pre/apple", "http://pre/ap", "http://pre/app?x=1",
		root + "/rel/cb", "https://other/rel/cb", root + "/rel/cb/x",
		"http://q/cb?x=1", "http://q/cb", "http://q/cb?x=2",
		"http://localhost:1234/mid", "http://localhost:*/mid",
		"http://upper/cb", "http://Upper/cb",
		"http://q2/a", "http://q2/*?y",
		"http://localhost:8250/oidc/callback", "http://localhost:8251/oidc/callback", "http://127.0.0.1:8250/oidc/callback",
	} {
		q := url.Values{"client_id": {"r"}, "response_type": {"code"}, "scope": {"openid"}, "redirect_uri": {uri}}
		resp, err := http.Get(tb.KeycloakURL + "/realms/" + realm + "/protocol/openid-connect/auth?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		refused := strings.Contains(string(body), "Invalid parameter: redirect_uri")
		if !refused && resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d, neither the form nor the refusal", uri, resp.StatusCode)
		}
		if got := redirectAllowed(registered, root, uri); got == refused {
			t.Errorf("%s: Keycloak allows it: %v; redirectAllowed: %v", uri, !refused, got)
		}
	}
}
