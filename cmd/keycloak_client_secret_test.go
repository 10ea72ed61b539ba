package cmd

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestNewCmdClientSecret(t *testing.T) {
	env := map[string]string{"KEYCLOAK_URL": "http://kc", "KEYCLOAK_REALM": "shop"}
	got, err := parse(t, newKeycloakClientSecretCmd, env, "--client", "web")
	if err != nil || got.ClientID != "web" || got.Realm != "shop" || got.URL != "http://kc" {
		t.Errorf("defaults from the environment: %+v %v", got, err)
	}
	if _, err := parse(t, newKeycloakClientSecretCmd, env); err == nil || exitCode(err) != ExitUsage || !strings.Contains(err.Error(), "--client is required") {
		t.Errorf("without --client: %v", err)
	}
	if _, err := parse(t, newKeycloakClientSecretCmd, nil, "--realm", "shop", "--client", "web"); err == nil || exitCode(err) != ExitUsage {
		t.Errorf("without a server: %v", err)
	}
}

// stubSecretKeycloak answers the admin login and the client lookups of
// realm shop: web (confidential), spa (public), api (bearer-only) and jwt
// (signed-JWT authentication).
func stubSecretKeycloak(t *testing.T, secret string) *httptest.Server {
	t.Helper()
	clients := map[string]map[string]any{
		"web": {"id": "id-web", "clientId": "web", "clientAuthenticatorType": "client-secret"},
		"spa": {"id": "id-spa", "clientId": "spa", "publicClient": true},
		"api": {"id": "id-api", "clientId": "api", "bearerOnly": true},
		"jwt": {"id": "id-jwt", "clientId": "jwt", "clientAuthenticatorType": "client-jwt"},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/realms/master/protocol/openid-connect/token":
			json.NewEncoder(w).Encode(map[string]any{"access_token": "admin-token", "token_type": "Bearer", "expires_in": 60})
		case r.URL.Path == "/admin/realms/shop/clients":
			var out []map[string]any
			if c, ok := clients[r.URL.Query().Get("clientId")]; ok {
				out = append(out, c)
			}
			json.NewEncoder(w).Encode(out)
		case r.URL.Path == "/admin/realms/shop/clients/id-web/client-secret":
			json.NewEncoder(w).Encode(map[string]any{"type": "secret", "value": secret})
		default:
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"error":"not found"}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestClientSecretRun(t *testing.T) {
	const secret = "s3cr3t-0123456789-abcdefghijkl"
	srv := stubSecretKeycloak(t, secret)
	env := map[string]string{"KEYCLOAK_URL": srv.URL, "KEYCLOAK_ADMIN": "admin", "KEYCLOAK_ADMIN_PASSWORD": "pw"}
	run := func(args ...string) (int, string, string) {
		return runWith(t, env, "", append([]string{"keycloak", "client-secret", "--realm", "shop"}, args...)...)
	}

	code, out, errOut := run("--client", "web", "--show-secrets")
	if code != 0 || out != secret+"\n" || errOut != "" {
		t.Errorf("--show-secrets: exit %d %q %q", code, out, errOut)
	}
	code, out, errOut = runWith(t, env, "", "--show-secrets", "keycloak", "client-secret", "--realm", "shop", "--client", "web", "-o", "json")
	var doc map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || len(doc) != 4 || doc["client"] != "web" || doc["realm"] != "shop" || doc["secret"] != secret || doc["masked"] != false {
		t.Errorf("-o json --show-secrets: exit %d %s %s", code, out, errOut)
	}

	// Masked without the flag, on stdout or not, with the way out on stderr.
	code, out, errOut = run("--client", "web")
	if code != 0 || out != "s3cr…ijkl\n" || !strings.Contains(errOut, "--show-secrets") || strings.Contains(out+errOut, secret) {
		t.Errorf("masked: exit %d %q %q", code, out, errOut)
	}
	code, out, errOut = run("--client", "web", "-o", "json")
	doc = nil
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || doc["secret"] != "s3cr…ijkl" || doc["masked"] != true || !strings.Contains(errOut, "--show-secrets") {
		t.Errorf("-o json masked: exit %d %s %s", code, out, errOut)
	}

	for _, tt := range []struct {
		client string
		code   int
		want   string
	}{
		{"spa", ExitUsage, `client "spa" in realm "shop" has no secret: it is a public client`},
		{"api", ExitUsage, `client "api" in realm "shop" has no secret: it is a bearer-only client`},
		{"jwt", ExitUsage, `has no secret: it authenticates with "client-jwt"`},
		{"nope", ExitFailure, `client "nope" in realm "shop" on ` + srv.URL + ` not found`},
	} {
		code, out, errOut := run("--client", tt.client, "--show-secrets")
		if code != tt.code || out != "" || !strings.Contains(errOut, tt.want) {
			t.Errorf("client %s: exit %d (want %d) %q %q", tt.client, code, tt.code, out, errOut)
		}
	}
}
