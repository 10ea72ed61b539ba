//go:build integration

package cmd

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/testbed"
)

// scopesRig is examples/client-scopes.yaml applied to a realm of its own.
type scopesRig struct {
	t           *testing.T
	tb          testbed.Env
	env         map[string]string
	path, realm string
	admin       *keycloak.Admin
}

func newScopesRig(t *testing.T) *scopesRig {
	tb := testbed.Load(t)
	path, realm := demoFile(t, tb, "client-scopes.yaml")
	r := &scopesRig{t: t, tb: tb, env: testEnv(tb), path: path, realm: realm,
		admin: keycloak.NewAdmin(tb.KeycloakURL, http.DefaultClient, keycloak.Credentials{Username: tb.KeycloakAdmin, Password: tb.KeycloakAdminPassword})}
	// demoFile renames "realm: demo"; this example's realm is "scopes".
	data, _ := os.ReadFile(path)
	os.WriteFile(path, []byte(strings.Replace(string(data), "realm: scopes\n", "realm: "+realm+"\n", 1)), 0o600)
	r.apply()
	return r
}

func (r *scopesRig) apply(args ...string) {
	r.t.Helper()
	if code, stdout, stderr := runEnv(r.t, r.env, "", append([]string{"apply", "-f", r.path}, args...)...); code != 0 {
		r.t.Fatalf("apply: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// tokens logs alice in to client with the password grant, asking for scope
// (besides openid), and returns the ID token's and access token's claims.
func (r *scopesRig) tokens(client, scope string) (id, access map[string]any, raw *keycloak.TokenResponse) {
	r.t.Helper()
	secret, err := r.admin.ClientSecret(context.Background(), r.realm, client)
	if err != nil {
		r.t.Fatal(err)
	}
	raw, err = keycloak.RequestToken(context.Background(), http.DefaultClient, r.tb.KeycloakURL,
		keycloak.TokenRequest{Realm: r.realm, ClientID: client, ClientSecret: secret, Username: "alice", Password: r.env["ALICE_PASSWORD"], Scope: scope})
	if err != nil {
		r.t.Fatalf("token for %s: %v", client, err)
	}
	return testbed.Claims(r.t, raw.IDToken), testbed.Claims(r.t, raw.AccessToken), raw
}

func (r *scopesRig) userinfo(access string) map[string]any {
	r.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, r.tb.KeycloakURL+"/realms/"+r.realm+"/protocol/openid-connect/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		r.t.Fatalf("userinfo: %d %s", resp.StatusCode, body)
	}
	return out
}

// roles reads claims[/resource_access/client/roles] or
// claims[/realm_access/roles] (client "").
func roles(c map[string]any, client string) []string {
	var list any
	if client == "" {
		ra, _ := c["realm_access"].(map[string]any)
		list = ra["roles"]
	} else {
		ra, _ := c["resource_access"].(map[string]any)
		cr, _ := ra[client].(map[string]any)
		list = cr["roles"]
	}
	var out []string
	for _, v := range asList(list) {
		out = append(out, v.(string))
	}
	slices.Sort(out)
	return out
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// The tokens that the scopes shape, read from the real Keycloak.
func TestIntegrationClientScopesShapeTokens(t *testing.T) {
	r := newScopesRig(t)

	// vault-groups, a default scope of vault: groups in the ID token and in
	// userinfo; portal, without the scope, has none.
	id, access, raw := r.tokens("vault", "")
	if g := asList(id["groups"]); len(g) != 1 || g[0] != "kv-managers" {
		t.Errorf("vault's ID token groups: %v", id["groups"])
	}
	if g := asList(r.userinfo(raw.AccessToken)["groups"]); len(g) != 1 || g[0] != "kv-managers" {
		t.Errorf("vault's userinfo groups: %v", g)
	}
	pid, paccess, _ := r.tokens("portal", "")
	if _, ok := pid["groups"]; ok {
		t.Errorf("portal's ID token has groups without the scope: %v", pid["groups"])
	}

	// full_scope_allowed: false with scope mappings: auditor and vault's
	// roles, not support, not portal's viewer that alice also holds.
	if got := roles(access, ""); !slices.Equal(got, []string{"auditor"}) {
		t.Errorf("vault's realm roles: %v", got)
	}
	if got := roles(access, "vault"); !slices.Equal(got, []string{"secret_manager"}) {
		t.Errorf("vault's client roles: %v", got)
	}
	if got := roles(access, "portal"); len(got) != 0 {
		t.Errorf("portal's roles reached vault's token: %v", got)
	}
	// portal has full scope: everything alice holds.
	if got := roles(paccess, ""); !slices.Contains(got, "support") || !slices.Contains(got, "auditor") {
		t.Errorf("portal's realm roles: %v", got)
	}

	// The built-in roles scope, changed in the file, puts client roles into
	// the ID token of every client that has it.
	if got := roles(id, "vault"); !slices.Equal(got, []string{"secret_manager"}) {
		t.Errorf("vault's ID token client roles: %v", got)
	}
	if got := roles(pid, "portal"); !slices.Equal(got, []string{"viewer"}) {
		t.Errorf("portal's ID token client roles: %v", got)
	}

	// An optional scope only when the request asks for it.
	if _, ok := id["upn"]; ok {
		t.Error("upn without asking for microprofile-jwt")
	}
	if mid, _, _ := r.tokens("vault", "microprofile-jwt"); mid["upn"] != "alice" {
		t.Errorf("upn with scope=openid microprofile-jwt: %v", mid["upn"])
	}

	// api has no roles scope: no resource_access or realm_access at all.
	_, aaccess, _ := r.tokens("api", "")
	if _, ok := aaccess["resource_access"]; ok {
		t.Errorf("api's access token has resource_access: %v", aaccess["resource_access"])
	}
	if _, ok := aaccess["realm_access"]; ok {
		t.Errorf("api's access token has realm_access: %v", aaccess["realm_access"])
	}

	// Taking roles from portal's default scopes takes them out of its tokens.
	data, _ := os.ReadFile(r.path)
	os.WriteFile(r.path, []byte(strings.Replace(string(data), "default_scopes: [profile, email, roles, basic]\n", "default_scopes: [profile, email, basic]\n", 1)), 0o600)
	code, stdout, _ := runEnv(t, r.env, "", "plan", "-f", r.path)
	if code != 0 || !strings.Contains(stdout, "~ keycloak client-scopes "+r.realm+"/portal") || !strings.Contains(stdout, `default_scopes: ["basic","email","profile","roles"] -> ["basic","email","profile"]`) {
		t.Errorf("plan without roles for portal: exit %d\n%s", code, stdout)
	}
	r.apply()
	if _, paccess, _ := r.tokens("portal", ""); paccess["resource_access"] != nil || paccess["realm_access"] != nil {
		t.Errorf("portal without roles: resource_access %v realm_access %v", paccess["resource_access"], paccess["realm_access"])
	}
}

// A second apply writes nothing; an interrupted apply converges; an export
// applied to an empty realm reproduces the scopes and their assignments.
func TestIntegrationClientScopesConvergeAndRoundTrip(t *testing.T) {
	tb := testbed.Load(t)
	r := &scopesRig{t: t, tb: tb, env: testEnv(tb),
		admin: keycloak.NewAdmin(tb.KeycloakURL, http.DefaultClient, keycloak.Credentials{Username: tb.KeycloakAdmin, Password: tb.KeycloakAdminPassword})}
	r.path, r.realm = demoFile(t, tb, "client-scopes.yaml")
	data, _ := os.ReadFile(r.path)
	os.WriteFile(r.path, []byte(strings.Replace(string(data), "realm: scopes\n", "realm: "+r.realm+"\n", 1)), 0o600)
	// Cut the first apply after 3 and then 6 more writes: into the scopes,
	// then into the clients' assignments.
	for _, n := range []int64{3, 6} {
		ctx, cancel := context.WithCancel(context.Background())
		rc := &requestCounter{cancelAfter: n, cancel: cancel}
		code, out := runApply(ctx, r.env, r.path, rc)
		cancel()
		if code == 0 {
			t.Fatalf("apply cancelled after %d writes exited 0:\n%s", n, out)
		}
	}
	r.apply()
	var rc requestCounter
	if code, out := runApply(context.Background(), r.env, r.path, &rc); code != 0 || rc.writes.Load() != 0 {
		t.Fatalf("re-apply: exit %d, %d writes\n%s", code, rc.writes.Load(), out)
	}
	t.Logf("no-op apply of examples/client-scopes.yaml: %d reads, 0 writes", rc.reads.Load())
	if id, _, _ := r.tokens("vault", ""); len(asList(id["groups"])) != 1 {
		t.Errorf("after convergence vault's ID token groups: %v", id["groups"])
	}

	code, exported, stderr := runEnv(t, r.env, "", "export", "keycloak", "--realm", r.realm)
	if code != 0 {
		t.Fatalf("export: exit %d %s", code, stderr)
	}
	for _, want := range []string{"name: vault-groups", "name: roles", "full_scope_allowed: false", "scope_mappings:", "- vault-groups", "default_client_scopes:"} {
		if !strings.Contains(exported, want) {
			t.Errorf("the export lacks %q:\n%s", want, exported)
		}
	}
	copyRealm := r.realm + "-copy"
	t.Cleanup(func() { tb.DeleteRealm(context.Background(), copyRealm) })
	copyPath := filepath.Join(t.TempDir(), "copy.yaml")
	os.WriteFile(copyPath, []byte(strings.Replace(exported, "realm: "+r.realm+"\n", "realm: "+copyRealm+"\n  create_realm: true\n", 1)), 0o600)
	if code, stdout, stderr := runEnv(t, r.env, "", "apply", "-f", copyPath); code != 0 {
		t.Fatalf("apply the export: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, again, _ := runEnv(t, r.env, "", "export", "keycloak", "--realm", copyRealm)
	strip := func(s, realm string) string {
		s = strings.ReplaceAll(s, realm, "REALM")
		return s[strings.Index(s, "\n")+1:] // the header names the realm's server and time
	}
	if code != 0 || strip(again, copyRealm) != strip(exported, r.realm) {
		t.Errorf("the copy's export differs:\n%s\n---\n%s", exported, again)
	}
	if code, stdout, _ := runEnv(t, r.env, "", "plan", "-f", copyPath, "--detailed-exitcode"); code != 0 {
		t.Errorf("plan of the copy: exit %d\n%s", code, stdout)
	}
}

// An unknown scope name is bad input with the file's line, before any write.
func TestIntegrationClientScopesUnknownName(t *testing.T) {
	tb := testbed.Load(t)
	env := testEnv(tb)
	path, realm := demoFile(t, tb, "client-scopes.yaml")
	data, _ := os.ReadFile(path)
	text := strings.Replace(string(data), "realm: scopes\n", "realm: "+realm+"\n", 1)
	text = strings.Replace(text, "default_scopes: [profile, basic]\n", "default_scopes: [profile, basci]\n", 1)
	os.WriteFile(path, []byte(text), 0o600)
	code, _, stderr := runEnv(t, env, "", "apply", "-f", path)
	line := 1 + strings.Count(text[:strings.Index(text, "[profile, basci]")], "\n")
	if code != ExitUsage || !strings.Contains(stderr, "sso.yaml:"+strconv.Itoa(line)+":") || !strings.Contains(stderr, `no client scope "basci"`) {
		t.Errorf("exit %d, want 2 naming line %d:\n%s", code, line, stderr)
	}
	if err := tb.KeycloakAdminRequest(context.Background(), http.MethodGet, "/"+realm, nil, nil); err == nil {
		t.Error("the realm was created although the file was refused")
	}
}
