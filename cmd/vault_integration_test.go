//go:build integration

package cmd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/ssoctl/ssoctl/inspect"
	"github.com/ssoctl/ssoctl/internal/httpclient"
	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/testbed"
	"github.com/ssoctl/ssoctl/vault"
)

// e2eFile is the end-to-end setup, with names made unique per run:
// client vault with two roles, an audience mapper and client roles in the
// ID token; kv-managers bound to secret_manager; policies reader and
// manager; mounts oidc (type oidc) and jwt (type jwt) with discovery on the
// realm; role default with groups_claim /resource_access/vault/roles; an
// external group with alias secret_manager on each mount. Extra jwt roles
// and a client without an audience mapper serve the negative twins.
const e2eFile = `
keycloak:
  realm: REALM
  create_realm: true
  clients:
    - client_id: vault
      redirect_uris: [http://localhost:8250/oidc/callback]
      userinfo_signed: false
      direct_access_grants: true
      roles: [secret_reader, secret_manager]
      mappers:
        - audience: vault
        - client_roles: {client: vault, id_token: true, access_token: true, userinfo: true}
    - client_id: noaud-app
      direct_access_grants: true
  groups:
    - {name: kv-readers, client_roles: {vault: [secret_reader]}}
    - {name: kv-managers, client_roles: {vault: [secret_manager]}}
  users:
    - {username: alice, password_env: ALICE_PASSWORD, groups: [kv-managers]}
    - {username: bob, password_env: BOB_PASSWORD, groups: [kv-readers]}
vault:
  policies:
    reader: {template: vault/reader.hcl}
    manager: {template: vault/manager.hcl}
  auth:
    - path: OIDCMOUNT
      type: oidc
      client_id: vault
      default_role: default
      roles:
        default:
          groups_claim: /resource_access/vault/roles
          bound_audiences: [vault]
          allowed_redirect_uris: [http://localhost:8250/oidc/callback]
          policies: [reader]
      groups:
        - {name: GROUP-oidc, policies: [manager], alias: secret_manager}
    - path: JWTMOUNT
      type: jwt
      default_role: default
      roles:
        default:
          groups_claim: /resource_access/vault/roles
          bound_audiences: [vault]
          policies: [reader]
        plainroles:
          groups_claim: roles
          bound_audiences: [vault]
          policies: [reader]
        wrongaud:
          groups_claim: /resource_access/vault/roles
          bound_audiences: [not-vault]
          policies: [reader]
        noaud:
          bound_audiences: [noaud-app]
          policies: [reader]
      groups:
        - {name: GROUP-jwt, policies: [manager], alias: secret_manager}
`

type e2e struct {
	flavor                 string // vault.FlavorVault or vault.FlavorOpenBao
	tb                     testbed.Env
	env                    map[string]string
	path                   string
	realm, oidcMnt, jwtMnt string
	kc                     *keycloak.Admin
	vc                     *vault.Conn
}

func newE2E(t *testing.T) *e2e { return newE2EOn(t, vault.FlavorVault) }

// newE2EOn is the end-to-end setup against Vault or OpenBao. Against
// OpenBao the CLI gets only OpenBao's own variables (BAO_ADDR, BAO_TOKEN).
func newE2EOn(t *testing.T, flavor string) *e2e {
	t.Helper()
	tb := testbed.Load(t)
	env := testEnv(tb)
	if flavor == vault.FlavorOpenBao {
		tb.NeedOpenBao(t)
		tb.VaultAddr, tb.VaultToken = tb.BaoAddr, tb.BaoToken
		delete(env, "VAULT_ADDR")
		delete(env, "VAULT_TOKEN")
		env["BAO_ADDR"], env["BAO_TOKEN"] = tb.BaoAddr, tb.BaoToken
	}
	id := fmt.Sprintf("%d", time.Now().UnixNano()%1e9)
	e := &e2e{flavor: flavor, tb: tb, env: env, realm: "e2e-" + id, oidcMnt: "oidc-" + id, jwtMnt: "jwt-" + id}
	text := strings.NewReplacer("REALM", e.realm, "OIDCMOUNT", e.oidcMnt, "JWTMOUNT", e.jwtMnt, "GROUP", "manager-"+id).Replace(e2eFile)
	e.path = filepath.Join(t.TempDir(), "sso.yaml")
	os.WriteFile(e.path, []byte(text), 0o600)
	e.kc = keycloak.NewAdmin(tb.KeycloakURL, http.DefaultClient, keycloak.Credentials{Username: tb.KeycloakAdmin, Password: tb.KeycloakAdminPassword})
	var err error
	e.vc, err = vault.Connect(vault.Config{Addr: tb.VaultAddr, Token: tb.VaultToken})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		tb.DeleteRealm(ctx, e.realm)
		for _, m := range []string{e.oidcMnt, e.jwtMnt} {
			e.tb.Vault().Sys().DisableAuthWithContext(ctx, m)
		}
		for _, g := range []string{"manager-" + id + "-oidc", "manager-" + id + "-jwt"} {
			e.tb.Vault().Logical().DeleteWithContext(ctx, "identity/group/name/"+g)
		}
	})
	return e
}

func (e *e2e) apply(t *testing.T) {
	t.Helper()
	code, stdout, stderr := runEnv(t, e.env, "", "apply", "-f", e.path)
	if code != 0 {
		t.Fatalf("apply: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

func (e *e2e) tokens(t *testing.T, client, user string) *keycloak.TokenResponse {
	t.Helper()
	ctx := context.Background()
	secret, err := e.kc.ClientSecret(ctx, e.realm, client)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := keycloak.RequestToken(ctx, http.DefaultClient, e.tb.KeycloakURL, keycloak.TokenRequest{Realm: e.realm, ClientID: client, ClientSecret: secret, Username: user, Password: e.env[strings.ToUpper(user)+"_PASSWORD"]})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestIntegrationVaultEndToEnd(t *testing.T) { endToEnd(t, newE2E(t)) }

// TestIntegrationOpenBaoEndToEnd runs the same file and logins against
// OpenBao, with only BAO_* variables set.
func TestIntegrationOpenBaoEndToEnd(t *testing.T) {
	e := newE2EOn(t, vault.FlavorOpenBao)
	endToEnd(t, e)
	code, stdout, stderr := runEnv(t, e.env, "", "plan", "-f", e.path)
	if code != 0 || !strings.Contains(stdout, "OpenBao 2.7.2 at "+e.tb.BaoAddr) {
		t.Fatalf("plan against OpenBao: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

func endToEnd(t *testing.T, e *e2e) {
	ctx := context.Background()
	e.apply(t)

	// 2. JWT path: alice's real ID token logs in to the jwt mount with reader
	// from the role and manager through the group alias.
	alice := e.tokens(t, "vault", "alice")
	res, err := e.vc.Login(ctx, e.jwtMnt, "default", alice.IDToken)
	if err != nil {
		t.Fatalf("jwt login: %v", err)
	}
	if !slices.Contains(res.TokenPolicies, "reader") || !slices.Contains(res.IdentityPolicies, "manager") {
		t.Fatalf("jwt login policies: token %v identity %v; want reader and manager", res.TokenPolicies, res.IdentityPolicies)
	}

	// The CLI says the same, and never prints the Vault token.
	code, stdout, stderr := runEnv(t, e.env, alice.IDToken, "vault", "login", "--mount", e.jwtMnt, "--role", "default")
	if code != 0 || !strings.Contains(stdout, "identity policies: manager") || !strings.Contains(stdout, "reader") {
		t.Fatalf("vault login: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if regexp.MustCompile(`\b(hvs|s)\.[A-Za-z0-9]{20,}`).MatchString(stdout) {
		t.Fatalf("vault login printed a Vault token:\n%s", stdout)
	}

	// Without --role the mount's default role is used, and said so.
	code, stdout, _ = runEnv(t, e.env, alice.IDToken, "vault", "login", "--mount", e.jwtMnt)
	if code != 0 || !strings.Contains(stdout, "as the mount's default role") || !strings.Contains(stdout, "identity policies: manager") {
		t.Fatalf("vault login without --role: exit %d\n%s", code, stdout)
	}

	// A rejected login prints Vault's own message and exits 1.
	code, stdout, stderr = runEnv(t, e.env, alice.IDToken, "vault", "login", "--mount", e.jwtMnt, "--role", "plainroles")
	if code != ExitFailure || stdout != "" || !strings.Contains(stderr, `failed to fetch groups: "roles" claim not found in token`) {
		t.Fatalf("rejected vault login: exit %d\n%s\n%s", code, stdout, stderr)
	}

	// 3. OIDC path: the real authorization-code flow, headless.
	tok := oidcLogin(t, e, "alice")
	if !slices.Contains(tok.TokenPolicies, "reader") || !slices.Contains(tok.IdentityPolicies, "manager") {
		t.Fatalf("oidc login policies: token %v identity %v", tok.TokenPolicies, tok.IdentityPolicies)
	}

	// 4. Negative twins: the real Vault and ssoctl's prediction agree.
	bob := e.tokens(t, "vault", "bob")
	noaud := e.tokens(t, "noaud-app", "alice")
	twins := []struct {
		name, role, jwt string
		accept          bool
		wantMsg         string
	}{
		{"no audience mapper", "noaud", noaud.AccessToken, false, "invalid audience (aud) claim"},
		{"groups_claim not a pointer", "plainroles", alice.IDToken, false, `failed to fetch groups: "roles" claim not found in token`},
		{"user outside the group", "default", bob.IDToken, true, ""},
		{"wrong bound_audiences", "wrongaud", alice.IDToken, false, "audience claim does not match any expected audience"},
	}
	hc, _ := httpclient.New(httpclient.Options{})
	for _, tw := range twins {
		res, loginErr := e.vc.Login(ctx, e.jwtMnt, tw.role, tw.jwt)
		verdict := predict(t, e, hc, tw.role, tw.jwt)
		var apiErr *vault.APIError
		switch {
		case tw.accept:
			if loginErr != nil || !verdict.Accepted {
				t.Errorf("%s: Vault err %v, ssoctl accepted %v", tw.name, loginErr, verdict.Accepted)
				continue
			}
			if slices.Contains(res.IdentityPolicies, "manager") || !slices.Contains(res.TokenPolicies, "reader") {
				t.Errorf("%s: policies token %v identity %v, want reader only", tw.name, res.TokenPolicies, res.IdentityPolicies)
			}
		case !errors.As(loginErr, &apiErr):
			t.Errorf("%s: Vault accepted the login (err %v)", tw.name, loginErr)
		default:
			got := strings.Join(apiErr.Errors, "; ")
			if !strings.Contains(got, tw.wantMsg) {
				t.Errorf("%s: Vault said %q, want it to contain %q", tw.name, got, tw.wantMsg)
			}
			if verdict.Accepted || verdict.Message != got {
				t.Errorf("%s: ssoctl predicted %q (accepted %v), Vault said %q", tw.name, verdict.Message, verdict.Accepted, got)
			}
			if len(verdict.Findings) == 0 || verdict.Findings[0].Fix == "" {
				t.Errorf("%s: no finding with a fix: %+v", tw.name, verdict.Findings)
			}
		}
	}

	// The CLI: inspect the real token against the real role; then a twin.
	issuer := e.tb.KeycloakURL + "/realms/" + e.realm
	code, stdout, stderr = runEnv(t, e.env, alice.IDToken, "inspect", "token", "--issuer", issuer, "--audience", "vault", "--vault-role", "default", "--vault-mount", e.jwtMnt)
	if code != 0 || !strings.Contains(stdout, "Vault would accept it") || !strings.Contains(stdout, "group aliases: secret_manager") {
		t.Fatalf("inspect token --vault-role: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, _ = runEnv(t, e.env, alice.IDToken, "inspect", "token", "--vault-role", "plainroles", "--vault-mount", e.jwtMnt)
	if code != ExitFindings || !strings.Contains(stdout, `Vault says: failed to fetch groups: "roles" claim not found in token`) || !strings.Contains(stdout, "/resource_access/vault/roles") {
		t.Fatalf("inspect token, plainroles: exit %d\n%s", code, stdout)
	}
	if code, stdout, _ = runEnv(t, e.env, "", "inspect", "discovery", issuer); code != 0 || !strings.Contains(stdout, "RS256") {
		t.Fatalf("inspect discovery: exit %d\n%s", code, stdout)
	}
	if code, stdout, _ = runEnv(t, e.env, "", "inspect", "discovery", issuer+"/"); code != ExitFindings || !strings.Contains(stdout, "trailing slash") {
		t.Fatalf("inspect discovery with a trailing slash: exit %d\n%s", code, stdout)
	}

	// 5. Re-apply makes zero writes.
	writes := countWrites(t, e, context.Background())
	if writes != 0 {
		t.Fatalf("second apply wrote %d times", writes)
	}
}

// predict reads the role and config from the real Vault and runs ssoctl's
// model of the login.
func predict(t *testing.T, e *e2e, hc *http.Client, role, jwt string) inspect.VaultVerdict {
	t.Helper()
	ctx := context.Background()
	rm, err := e.vc.ReadRole(ctx, e.jwtMnt, role)
	if err != nil || rm == nil {
		t.Fatalf("reading role %s: %v", role, err)
	}
	cm, err := e.vc.ReadAuthConfig(ctx, e.jwtMnt)
	if err != nil {
		t.Fatal(err)
	}
	r, err := inspect.VaultRoleFromMap(rm)
	if err != nil {
		t.Fatal(err)
	}
	r.Name = role
	c, err := inspect.VaultConfigFromMap(cm)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := inspect.ParseInput([]byte(jwt), inspect.PickDefault)
	if err != nil {
		t.Fatal(err)
	}
	d, err := inspect.Discover(ctx, hc, c.OIDCDiscoveryURL)
	if err != nil {
		t.Fatal(err)
	}
	v, err := inspect.EvaluateVault(ctx, tok, r, c, inspect.NewRemoteJWKS(hc, d.JWKSURI), inspect.VaultOptions{Login: inspect.VaultLoginJWT, RoleName: role, Mount: e.jwtMnt, Flavor: e.flavor})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

var formAction = regexp.MustCompile(`(?s)<form[^>]*id="kc-form-login"[^>]*>`)
var actionAttr = regexp.MustCompile(`action="([^"]+)"`)

// oidcLogin drives Vault's OIDC flow like a browser would: auth_url from
// Vault, Keycloak's login form, the redirect to the CLI callback, and
// Vault's callback with the code and state.
func oidcLogin(t *testing.T, e *e2e, user string) *vaultapi.SecretAuth {
	t.Helper()
	ctx := context.Background()
	const redirect = "http://localhost:8250/oidc/callback"
	s, err := e.tb.Vault().Logical().WriteWithContext(ctx, "auth/"+e.oidcMnt+"/oidc/auth_url", map[string]any{"role": "default", "redirect_uri": redirect})
	if err != nil {
		t.Fatalf("auth_url: %v", err)
	}
	authURL, _ := s.Data["auth_url"].(string)
	if authURL == "" {
		t.Fatalf("Vault returned an empty auth_url (redirect not allowed?): %v", s.Data)
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Host == "localhost:8250" {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := browser.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	form := formAction.Find(page)
	m := actionAttr.FindSubmatch(form)
	if m == nil {
		t.Fatalf("no login form on Keycloak's page (status %d): %.500s", resp.StatusCode, page)
	}
	action := html.UnescapeString(string(m[1]))
	resp, err = browser.PostForm(action, url.Values{"username": {user}, "password": {e.env[strings.ToUpper(user)+"_PASSWORD"]}, "credentialId": {""}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil || !strings.HasPrefix(loc.String(), redirect) {
		t.Fatalf("after the login form: status %d, location %v (%v)", resp.StatusCode, loc, err)
	}
	q := loc.Query()
	cb, err := e.tb.Vault().Logical().ReadWithDataWithContext(ctx, "auth/"+e.oidcMnt+"/oidc/callback", map[string][]string{"state": {q.Get("state")}, "code": {q.Get("code")}})
	if err != nil {
		t.Fatalf("oidc callback: %v", err)
	}
	if cb == nil || cb.Auth == nil {
		t.Fatalf("oidc callback without auth: %+v", cb)
	}
	return cb.Auth
}

func countWrites(t *testing.T, e *e2e, ctx context.Context) int64 {
	var rc requestCounter
	code, out := runApply(ctx, e.env, e.path, &rc)
	if code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, out)
	}
	return rc.writes.Load()
}

func TestIntegrationVaultInterruptedApplyConverges(t *testing.T) {
	e := newE2E(t)
	// The Keycloak part takes about 15 writes: the first cut falls into the
	// Vault part, the second two writes into what remains.
	for _, n := range []int64{17, 2} {
		ctx, cancel := context.WithCancel(context.Background())
		rc := &requestCounter{cancelAfter: n, cancel: cancel}
		code, out := runApply(ctx, e.env, e.path, rc)
		cancel()
		if code == 0 {
			t.Fatalf("apply cancelled after %d writes exited 0:\n%s", n, out)
		}
	}
	e.apply(t)
	if w := countWrites(t, e, context.Background()); w != 0 {
		t.Fatalf("after convergence a re-apply wrote %d times", w)
	}
	alice := e.tokens(t, "vault", "alice")
	res, err := e.vc.Login(context.Background(), e.jwtMnt, "default", alice.IDToken)
	if err != nil || !slices.Contains(res.IdentityPolicies, "manager") {
		t.Fatalf("login after convergence: %v %+v", err, res)
	}
}

func TestIntegrationVaultFaults(t *testing.T) {
	tb := testbed.Load(t)
	dir := t.TempDir()
	id := fmt.Sprintf("%d", time.Now().UnixNano()%1e9)
	write := func(text string) string {
		p := filepath.Join(dir, fmt.Sprintf("f%d.yaml", time.Now().UnixNano()))
		os.WriteFile(p, []byte(strings.ReplaceAll(text, "ID", id)), 0o600)
		return p
	}
	env := testEnv(tb)
	vc, _ := vault.Connect(vault.Config{Addr: tb.VaultAddr, Token: tb.VaultToken})
	t.Cleanup(func() {
		for _, m := range []string{"taken-" + id, "ok-" + id} {
			tb.Vault().Sys().DisableAuthWithContext(context.Background(), m)
		}
		tb.Vault().Sys().DeletePolicy("bad-" + id)
	})

	// A wrong token: 403, exit 1, with a hint and no token in the output.
	bad := testEnv(tb)
	bad["VAULT_TOKEN"] = "hvs.not-a-real-token-123456"
	simple := write("vault:\n  policies:\n    p-ID: {hcl: 'path \"secret/*\" { capabilities = [\"read\"] }'}\n")
	code, _, stderr := runEnv(t, bad, "", "plan", "-f", simple)
	if code != ExitFailure || !strings.Contains(stderr, "403") || !strings.Contains(stderr, "$VAULT_TOKEN") || strings.Contains(stderr, "not-a-real-token") {
		t.Errorf("wrong token: exit %d, %q", code, stderr)
	}

	// A path collision: userpass at the path the file wants for jwt.
	if err := tb.Vault().Sys().EnableAuthWithOptions("taken-"+id, &vaultapi.EnableAuthOptions{Type: "userpass"}); err != nil {
		t.Fatal(err)
	}
	coll := write("vault:\n  auth:\n    - path: taken-ID\n      type: jwt\n      jwks_url: " + tb.KeycloakURL + "/realms/master/protocol/openid-connect/certs\n")
	code, _, stderr = runEnv(t, env, "", "apply", "-f", coll)
	if code != ExitUsage || !strings.Contains(stderr, `"userpass"`) || !strings.Contains(stderr, "drop every role") {
		t.Errorf("path collision: exit %d, %q", code, stderr)
	}

	// An unreachable discovery URL: explained before Vault's vague message.
	unreach := write("vault:\n  auth:\n    - path: ok-ID\n      type: jwt\n      discovery_url: http://127.0.0.1:1/realms/nope\n      roles:\n        r: {bound_audiences: [x]}\n")
	code, _, stderr = runEnv(t, env, "", "apply", "-f", unreach)
	if code != ExitFailure || !strings.Contains(stderr, "127.0.0.1:1") || !strings.Contains(stderr, "error checking oidc discovery URL") {
		t.Errorf("unreachable discovery: exit %d, %q", code, stderr)
	}
	if m, _ := vc.AuthType(context.Background(), "ok-"+id); m != "" {
		t.Errorf("a failed plan enabled mount ok-%s", id)
	}
	// An issuer mismatch (trailing slash): exit 2 with the fix.
	slash := write("vault:\n  auth:\n    - path: ok-ID\n      type: jwt\n      discovery_url: " + tb.KeycloakURL + "/realms/master/\n      roles:\n        r: {bound_audiences: [x]}\n")
	code, _, stderr = runEnv(t, env, "", "apply", "-f", slash)
	if code != ExitUsage || !strings.Contains(stderr, "trailing slash") {
		t.Errorf("issuer mismatch: exit %d, %q", code, stderr)
	}

	// HCL that Vault refuses: exit 2, and fixing the file converges.
	badHCL := write("vault:\n  policies:\n    bad-ID: {hcl: 'path \"secret/*\" { capabilities = [\"fly\"] }'}\n    good-ID: {hcl: 'path \"secret/*\" { capabilities = [\"read\"] }'}\n")
	code, _, stderr = runEnv(t, env, "", "apply", "-f", badHCL)
	if code != ExitUsage || !strings.Contains(stderr, "Vault refused the policy") {
		t.Errorf("bad HCL: exit %d, %q", code, stderr)
	}
	fixed := write("vault:\n  policies:\n    bad-ID: {hcl: 'path \"secret/*\" { capabilities = [\"list\"] }'}\n    good-ID: {hcl: 'path \"secret/*\" { capabilities = [\"read\"] }'}\n")
	if code, stdout, stderr := runEnv(t, env, "", "apply", "-f", fixed); code != 0 {
		t.Errorf("after fixing the HCL: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if code, stdout, _ := runEnv(t, env, "", "plan", "-f", fixed, "--detailed-exitcode"); code != 0 {
		t.Errorf("not converged:\n%s", stdout)
	}
	tb.Vault().Sys().DeletePolicy("good-" + id)
}

// privateVault starts a dev Vault of this test's own (args are extra flags)
// and returns its address; it is killed when the test ends.
func privateVault(t *testing.T, args ...string) string {
	t.Helper()
	tb := testbed.Load(t)
	if tb.VaultBin == "" {
		t.Fatal("testbed/.env lacks VAULT_BIN")
	}
	port := freePort(t)
	scheme := "http"
	if slices.Contains(args, "-dev-tls") {
		scheme = "https"
	}
	addr := scheme + "://127.0.0.1:" + port
	cmd := exec.Command(tb.VaultBin, append([]string{"server", "-dev", "-dev-listen-address=127.0.0.1:" + port, "-dev-root-token-id=private", "-dev-no-store-token"}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	probe := &http.Client{Timeout: time.Second, Transport: &http.Transport{TLSClientConfig: insecureTLS()}}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if resp, err := probe.Get(addr + "/v1/sys/health"); err == nil {
			resp.Body.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatal("private Vault did not start")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// A sealed Vault: a private dev server is sealed for this test.
func TestIntegrationVaultSealed(t *testing.T) {
	addr := privateVault(t)
	private := testbed.Env{VaultAddr: addr, VaultToken: "private"}
	if err := private.Vault().Sys().Seal(); err != nil {
		t.Fatal(err)
	}
	env := testEnv(testbed.Load(t))
	env["VAULT_ADDR"], env["VAULT_TOKEN"] = addr, "private"
	p := filepath.Join(t.TempDir(), "sso.yaml")
	os.WriteFile(p, []byte("vault:\n  policies:\n    p: {hcl: 'path \"x\" { capabilities = [\"read\"] }'}\n"), 0o600)
	code, _, stderr := runEnv(t, env, "", "plan", "-f", p)
	if code != ExitFailure || !strings.Contains(stderr, "sealed") || !strings.Contains(stderr, "unseal") {
		t.Fatalf("sealed: exit %d, %q", code, stderr)
	}
}

// TLS is verified by default: a Vault with its own CA is refused until
// VAULT_CACERT names that CA (or VAULT_SKIP_VERIFY says not to verify).
func TestIntegrationVaultTLS(t *testing.T) {
	certDir := t.TempDir()
	addr := privateVault(t, "-dev-tls", "-dev-tls-cert-dir="+certDir)
	env := testEnv(testbed.Load(t))
	env["VAULT_ADDR"], env["VAULT_TOKEN"] = addr, "private"
	p := filepath.Join(t.TempDir(), "sso.yaml")
	os.WriteFile(p, []byte("vault:\n  policies:\n    p: {hcl: 'path \"x\" { capabilities = [\"read\"] }'}\n"), 0o600)
	code, _, stderr := runEnv(t, env, "", "plan", "-f", p)
	if code != ExitFailure || !strings.Contains(stderr, "certificate") {
		t.Fatalf("unknown CA: exit %d, %q", code, stderr)
	}
	env["VAULT_CACERT"] = filepath.Join(certDir, "vault-ca.pem")
	if code, stdout, stderr := runEnv(t, env, "", "plan", "-f", p); code != 0 || !strings.Contains(stdout, "+ vault policy p") {
		t.Fatalf("with VAULT_CACERT: exit %d\n%s\n%s", code, stdout, stderr)
	}
	delete(env, "VAULT_CACERT")
	env["VAULT_SKIP_VERIFY"] = "true"
	if code, _, stderr := runEnv(t, env, "", "plan", "-f", p); code != 0 {
		t.Fatalf("with VAULT_SKIP_VERIFY: exit %d %s", code, stderr)
	}
}

func insecureTLS() *tls.Config { return &tls.Config{InsecureSkipVerify: true} }

// freePort finds a port whose successor is free too: a dev Vault puts its
// cluster listener on port+1.
func freePort(t *testing.T) string {
	t.Helper()
	for i := 0; i < 50; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			continue
		}
		port := l.Addr().(*net.TCPAddr).Port
		l2, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port+1))
		l.Close()
		if err != nil {
			continue
		}
		l2.Close()
		return fmt.Sprint(port)
	}
	t.Fatal("no free port")
	return ""
}

func TestIntegrationVaultPrune(t *testing.T) {
	e := newE2E(t)
	e.apply(t)
	data, _ := os.ReadFile(e.path)
	text := strings.Replace(string(data), "        wrongaud:\n          groups_claim: /resource_access/vault/roles\n          bound_audiences: [not-vault]\n          policies: [reader]\n", "", 1)
	text = regexp.MustCompile(`(?m)^      groups:\n        - \{name: manager-\d+-jwt.*\n`).ReplaceAllString(text, "")
	if text == string(data) {
		t.Fatal("test file edit failed")
	}
	os.WriteFile(e.path, []byte(text), 0o600)
	code, stdout, stderr := runEnv(t, e.env, "", "plan", "-f", e.path, "--only", "vault", "--detailed-exitcode")
	if code != 0 || !strings.Contains(stdout, "apply --prune would delete") || !strings.Contains(stdout, "- vault role "+e.jwtMnt+"/wrongaud") || !strings.Contains(stdout, `alias "secret_manager" on `+e.jwtMnt) {
		t.Fatalf("plan: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if code, stdout, stderr := runEnv(t, e.env, "", "apply", "-f", e.path, "--only", "vault", "--prune"); code != 0 {
		t.Fatalf("apply --prune: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if r, _ := e.vc.ReadRole(context.Background(), e.jwtMnt, "wrongaud"); r != nil {
		t.Fatal("role wrongaud survived --prune")
	}
	code, stdout, _ = runEnv(t, e.env, "", "plan", "-f", e.path, "--only", "vault")
	if code != 0 || strings.Contains(stdout, "would delete") || !strings.Contains(stdout, "0 to create, 0 to update") {
		t.Fatalf("after prune:\n%s", stdout)
	}
}
