package doctor

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ssoctl/ssoctl/internal/httprecorder"
	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/spec"
	"github.com/ssoctl/ssoctl/vault"
)

// These tests run doctor's entry points (Run, Logout) against strict stubs
// of Keycloak and Vault: every request doctor sends must be one the test
// expects, answered as the real servers answer it (shapes seen by the
// integration tests), and every expected request must be sent.

type stubReply = httprecorder.Reply

// realmKey signs the stub realm's tokens.
var realmKey = func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}()

// signed is a compact RS256 JWT of claims, signed with realmKey (kid k1).
func signed(t *testing.T, claims map[string]any) string {
	t.Helper()
	return signedWith(t, realmKey, claims)
}

// signedWith is a compact RS256 JWT of claims signed with key, under the
// realm key's kid k1 (a forgery, for any other key).
func signedWith(t *testing.T, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	in := enc(map[string]string{"alg": "RS256", "typ": "JWT", "kid": "k1"}) + "." + enc(claims)
	sum := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// realmJWKS is the realm's certs endpoint: the signing key and, as
// Keycloak also publishes, an encryption key.
func realmJWKS() string {
	n := base64.RawURLEncoding.EncodeToString(realmKey.N.Bytes())
	e := base64.RawURLEncoding.EncodeToString(big.NewInt(int64(realmKey.E)).Bytes())
	return fmt.Sprintf(`{"keys":[{"kid":"k1","kty":"RSA","alg":"RS256","use":"sig","n":%q,"e":%q},{"kid":"k2","kty":"RSA","alg":"RSA-OAEP","use":"enc","n":%q,"e":%q}]}`, n, e, n, e)
}

// discoveryDoc is Keycloak's discovery document for realm demo at base
// (the fields doctor reads, as Keycloak names them).
func discoveryDoc(base string) string {
	iss := base + "/realms/demo"
	return fmt.Sprintf(`{"issuer":%q,"authorization_endpoint":%q,"token_endpoint":%q,"userinfo_endpoint":%q,"end_session_endpoint":%q,"jwks_uri":%q,
"grant_types_supported":["authorization_code","implicit","refresh_token","password","client_credentials"],
"response_types_supported":["code","none","id_token","token","id_token token","code id_token","code token","code id_token token"],
"subject_types_supported":["public","pairwise"],"id_token_signing_alg_values_supported":["PS384","RS384","EdDSA","ES384","HS256","HS512","ES256","RS256","HS384","ES512","PS256","PS512","RS512"],
"code_challenge_methods_supported":["plain","S256"],"backchannel_logout_supported":true,"backchannel_logout_session_supported":true,"frontchannel_logout_supported":true}`,
		iss, iss+"/protocol/openid-connect/auth", iss+"/protocol/openid-connect/token", iss+"/protocol/openid-connect/userinfo",
		iss+"/protocol/openid-connect/logout", iss+"/protocol/openid-connect/certs")
}

// stubServers is a Keycloak and a Vault stand-in and the Systems over them.
type stubServers struct {
	kc, vault *httprecorder.Recorder
	sys       Systems
}

const (
	stubMasterToken = "POST /realms/master/protocol/openid-connect/token"
	stubDemoToken   = "POST /realms/demo/protocol/openid-connect/token"
)

// newStubServers starts the stubs with the routes kc and v give for
// Keycloak's base URL; the admin login is answered with a token whose iat
// is now (Keycloak's clock, as doctor reads it). v nil: no Vault.
func newStubServers(t *testing.T, kc, v func(base string) map[string]stubReply) *stubServers {
	t.Helper()
	s := &stubServers{kc: httprecorder.New(t, nil)}
	base := s.kc.URL()
	routes := kc(base)
	if _, ok := routes[stubMasterToken]; !ok {
		now := time.Now().Unix()
		admin := signed(t, map[string]any{"iat": now, "exp": now + 60, "iss": base + "/realms/master", "typ": "Bearer", "azp": "admin-cli"})
		routes[stubMasterToken] = stubReply{Body: `{"access_token":"` + admin + `","expires_in":60,"refresh_expires_in":1800,"refresh_token":"r","token_type":"Bearer","not-before-policy":0,"session_state":"s0","scope":"profile email"}`}
	}
	for k, r := range routes {
		s.kc.Set(k, r)
	}
	s.kc.Skip = func(r *http.Request) bool { return r.URL.Path == "/realms/master/protocol/openid-connect/token" }
	s.sys = Systems{Keycloak: keycloak.NewAdmin(base, s.kc.Client(), keycloak.Credentials{Username: "admin", Password: "pw", Source: "test"}),
		HTTP: s.kc.Client()}
	if v != nil {
		s.vault = httprecorder.New(t, v(base))
		s.vault.Key = func(r *http.Request) string {
			if r.URL.Query().Get("list") == "true" {
				return "LIST " + r.URL.Path
			}
			return r.Method + " " + r.URL.Path
		}
		conn, err := vault.Connect(vault.Config{Addr: s.vault.URL(), Token: "root-token", HTTPClient: s.vault.Client()})
		if err != nil {
			t.Fatal(err)
		}
		s.sys.Vault = conn
	}
	return s
}

// checkIDs lists a report's checks as "status id".
func checkIDs(cs []Check) []string {
	var out []string
	for _, c := range cs {
		out = append(out, string(c.Status)+" "+c.ID)
	}
	return out
}

func checkOf(cs []Check, id string) *Check {
	for i := range cs {
		if cs[i].ID == id {
			return &cs[i]
		}
	}
	return nil
}

// The vault client as Keycloak's admin API lists it, with its mappers.
const stubVaultClient = `[{"id":"u1","clientId":"vault","name":"","rootUrl":"","baseUrl":"","surrogateAuthRequired":false,"enabled":true,"alwaysDisplayInConsole":false,
"clientAuthenticatorType":"client-secret","redirectUris":["http://localhost:8250/oidc/callback"],"webOrigins":[],"notBefore":0,"bearerOnly":false,"consentRequired":false,
"standardFlowEnabled":true,"implicitFlowEnabled":false,"directAccessGrantsEnabled":true,"serviceAccountsEnabled":false,"publicClient":false,"frontchannelLogout":true,
"protocol":"openid-connect","attributes":{"post.logout.redirect.uris":"+"},"fullScopeAllowed":true,"nodeReRegistrationTimeout":-1,
"protocolMappers":[{"id":"m1","name":"audience vault","protocol":"openid-connect","protocolMapper":"oidc-audience-mapper","consentRequired":false,
  "config":{"included.client.audience":"vault","id.token.claim":"true","access.token.claim":"true"}},
 {"id":"m2","name":"client roles vault","protocol":"openid-connect","protocolMapper":"oidc-usermodel-client-role-mapper","consentRequired":false,
  "config":{"usermodel.clientRoleMapping.clientId":"vault","claim.name":"resource_access.${client_id}.roles","multivalued":"true","jsonType.label":"String","id.token.claim":"true","access.token.claim":"true","userinfo.token.claim":"true"}}],
"defaultClientScopes":["web-origins","acr","roles","profile","basic","email"],"optionalClientScopes":["address","phone","offline_access","microprofile-jwt"],
"access":{"view":true,"configure":true,"manage":true}}]`

// keycloakRoutes answers what Run reads of realm demo and client vault.
func keycloakRoutes(base string) map[string]stubReply {
	return map[string]stubReply{
		"GET /realms/demo/.well-known/openid-configuration": {Body: discoveryDoc(base)},
		"GET /realms/demo/protocol/openid-connect/certs":    {Body: realmJWKS()},
		"GET /admin/realms/demo/clients":                    {Body: stubVaultClient},
		"GET /admin/realms/demo/clients/u1/roles":           {Body: `[{"id":"r1","name":"secret_manager","composite":false,"clientRole":true,"containerId":"u1"}]`},
		"GET /admin/realms/demo":                            {Body: `{"id":"demo","realm":"demo","enabled":true,"attributes":{}}`},
		"GET /admin/realms/demo/client-scopes":              {Body: stubClientScopes},
		// The realm's roles and groups come from its partial export, the
		// client roles from the admin console's role picker.
		"POST /admin/realms/demo/partial-export?exportClients=false&exportGroupsAndRoles=true": {Body: `{"id":"demo","realm":"demo",
"roles":{"realm":[{"id":"rr-def","name":"default-roles-demo","description":"${role_default-roles}","composite":true,"composites":{"realm":["offline_access","uma_authorization"]},"clientRole":false,"containerId":"demo","attributes":{}},
 {"id":"rr-off","name":"offline_access","description":"${role_offline-access}","composite":false,"clientRole":false,"containerId":"demo","attributes":{}},
 {"id":"rr-uma","name":"uma_authorization","description":"${role_uma_authorization}","composite":false,"clientRole":false,"containerId":"demo","attributes":{}}]},
"groups":[{"id":"g-m","name":"kv-managers","path":"/kv-managers","subGroups":[],"attributes":{},"realmRoles":[],"clientRoles":{"vault":["secret_manager"]}}]}`},
		"GET /admin/realms/demo/ui-ext/available-roles/roles/rr-off?first=0&max=-1": {Body: `[{"id":"r1","role":"secret_manager","client":"vault","clientId":"u1","description":""}]`},
		"GET /admin/realms/demo/clients/u1/default-client-scopes":                   {Body: `[{"id":"cs-roles","name":"roles"},{"id":"cs-profile","name":"profile"},{"id":"cs-basic","name":"basic"}]`},
		"GET /admin/realms/demo/clients/u1/optional-client-scopes":                  {Body: `[{"id":"cs-offline","name":"offline_access"}]`},
	}
}

// stubClientScopes is part of a new realm's client scopes, as Keycloak 26
// lists them with their mappers.
const stubClientScopes = `[
{"id":"cs-roles","name":"roles","description":"OpenID Connect scope for add user roles to the access token","protocol":"openid-connect",
 "attributes":{"include.in.token.scope":"false","consent.screen.text":"${rolesScopeConsentText}","display.on.consent.screen":"true"},
 "protocolMappers":[
  {"id":"pm-cr","name":"client roles","protocol":"openid-connect","protocolMapper":"oidc-usermodel-client-role-mapper","consentRequired":false,
   "config":{"user.attribute":"foo","introspection.token.claim":"true","access.token.claim":"true","claim.name":"resource_access.${client_id}.roles","jsonType.label":"String","multivalued":"true"}},
  {"id":"pm-rr","name":"realm roles","protocol":"openid-connect","protocolMapper":"oidc-usermodel-realm-role-mapper","consentRequired":false,
   "config":{"user.attribute":"foo","introspection.token.claim":"true","access.token.claim":"true","claim.name":"realm_access.roles","jsonType.label":"String","multivalued":"true"}},
  {"id":"pm-ar","name":"audience resolve","protocol":"openid-connect","protocolMapper":"oidc-audience-resolve-mapper","consentRequired":false,
   "config":{"introspection.token.claim":"true","access.token.claim":"true"}}]},
{"id":"cs-profile","name":"profile","description":"OpenID Connect built-in scope: profile","protocol":"openid-connect",
 "attributes":{"include.in.token.scope":"true","consent.screen.text":"${profileScopeConsentText}","display.on.consent.screen":"true"},
 "protocolMappers":[
  {"id":"pm-un","name":"username","protocol":"openid-connect","protocolMapper":"oidc-usermodel-attribute-mapper","consentRequired":false,
   "config":{"introspection.token.claim":"true","userinfo.token.claim":"true","user.attribute":"username","id.token.claim":"true","access.token.claim":"true","claim.name":"preferred_username","jsonType.label":"String"}}]},
{"id":"cs-basic","name":"basic","description":"OpenID Connect scope for add all basic claims to the token","protocol":"openid-connect",
 "attributes":{"include.in.token.scope":"false","display.on.consent.screen":"false"},
 "protocolMappers":[
  {"id":"pm-sub","name":"sub","protocol":"openid-connect","protocolMapper":"oidc-sub-mapper","consentRequired":false,
   "config":{"introspection.token.claim":"true","access.token.claim":"true"}}]},
{"id":"cs-offline","name":"offline_access","description":"OpenID Connect built-in scope: offline_access","protocol":"openid-connect",
 "attributes":{"consent.screen.text":"${offlineAccessScopeConsentText}","display.on.consent.screen":"true"}}]`

// A sound Keycloak and Vault, logged in for real: each check passes and
// each login (the password grant, the JWT role with either token, the OIDC
// role through the browser flow) is reported with what it granted; the
// Django site's needs, which the client lacks, fail, and the site, not
// running, is not logged in to.
func TestRunWithLogins(t *testing.T) {
	now := time.Now().Unix()
	var idToken, accessToken string
	s := newStubServers(t, func(base string) map[string]stubReply {
		r := keycloakRoutes(base)
		claims := map[string]any{"iss": base + "/realms/demo", "aud": []string{"vault"}, "azp": "vault", "sub": "s-alice", "exp": now + 300, "iat": now,
			"typ": "ID", "sid": "sid-1", "preferred_username": "alice", "resource_access": map[string]any{"vault": map[string]any{"roles": []string{"secret_manager"}}}}
		idToken = signed(t, claims)
		claims["typ"] = "Bearer"
		accessToken = signed(t, claims)
		r[stubDemoToken] = stubReply{Body: fmt.Sprintf(`{"access_token":%q,"expires_in":300,"refresh_expires_in":1800,"refresh_token":"rt","token_type":"Bearer","id_token":%q,"not-before-policy":0,"session_state":"sid-1","scope":"openid profile email"}`, accessToken, idToken)}
		r["GET /admin/realms/demo/clients/u1/client-secret"] = stubReply{Body: `{"type":"secret","value":"vault-secret"}`}
		// The password grant's session is logged out once the JWT logins
		// are done.
		r["POST /realms/demo/protocol/openid-connect/logout"] = stubReply{Status: 204}
		// Vault's auth_url leads to Keycloak's login form; the form's
		// answer redirects to the CLI's listener with the code.
		r["GET /realms/demo/protocol/openid-connect/auth"] = stubReply{Body: `<!DOCTYPE html><html><body><form id="kc-form-login" onsubmit="login.disabled = true; return true;" action="` + base +
			`/realms/demo/login-actions/authenticate?session_code=sc1&amp;execution=ex1&amp;client_id=vault&amp;tab_id=tab1" method="post">
<input tabindex="1" id="username" name="username" value="" type="text" autofocus autocomplete="username"/>
<input tabindex="2" id="password" name="password" type="password" autocomplete="current-password"/>
<input type="hidden" id="id-hidden-input" name="credentialId"/>
<input tabindex="4" name="login" id="kc-login" type="submit" value="Sign In"/></form></body></html>`}
		r["POST /realms/demo/login-actions/authenticate"] = stubReply{Status: 302,
			Location: "http://localhost:8250/oidc/callback?state=st1&session_state=sid-1&iss=" + base + "%2Frealms%2Fdemo&code=code-1"}
		addLoginStatus(r, "")
		return r
	}, func(base string) map[string]stubReply {
		return map[string]stubReply{
			"GET /v1/sys/auth":               {Body: `{"data":{"jwt/":{"accessor":"auth_jwt_1","type":"jwt","options":{}},"oidc/":{"accessor":"auth_oidc_1","type":"oidc","options":{}},"token/":{"accessor":"auth_token_1","type":"token"}}}`},
			"GET /v1/auth/oidc/config":       {Body: fmt.Sprintf(`{"data":{"bound_issuer":"","default_role":"default","oidc_discovery_url":%q,"oidc_client_id":"vault","jwt_supported_algs":[]}}`, base+"/realms/demo")},
			"GET /v1/auth/oidc/role/default": {Body: `{"data":{"role_type":"oidc","user_claim":"sub","groups_claim":"/resource_access/vault/roles","bound_audiences":["vault"],"allowed_redirect_uris":["http://localhost:8250/oidc/callback"],"token_policies":["reader"],"token_ttl":3600}}`},
			"PUT /v1/auth/oidc/oidc/auth_url": {Body: `{"request_id":"q1","lease_id":"","renewable":false,"lease_duration":0,"data":{"auth_url":"` + base +
				`/realms/demo/protocol/openid-connect/auth?client_id=vault&nonce=n1&redirect_uri=http%3A%2F%2Flocalhost%3A8250%2Foidc%2Fcallback&response_type=code&scope=openid&state=st1"},"wrap_info":null,"warnings":null,"auth":null}`},
			"GET /v1/auth/oidc/oidc/callback":  {Body: `{"auth":{"client_token":"hvs.oidc","accessor":"acc2","policies":["default","reader"],"token_policies":["default","reader"],"identity_policies":["manager"],"metadata":{"role":"default"},"lease_duration":3600,"renewable":true,"entity_id":"e1","token_type":"service","orphan":true}}`},
			"GET /v1/auth/jwt/config":          {Body: fmt.Sprintf(`{"data":{"bound_issuer":"","default_role":"default","jwks_url":"","oidc_discovery_url":%q,"oidc_client_id":"","jwt_supported_algs":[]}}`, base+"/realms/demo")},
			"LIST /v1/auth/jwt/role":           {Body: `{"data":{"keys":["default"]}}`},
			"GET /v1/auth/jwt/role/default":    {Body: `{"data":{"role_type":"jwt","user_claim":"sub","groups_claim":"/resource_access/vault/roles","bound_audiences":["vault"],"token_policies":["reader"],"token_ttl":3600}}`},
			"LIST /v1/identity/group-alias/id": {Body: `{"data":{"keys":["al1"],"key_info":{"al1":{"name":"secret_manager","mount_accessor":"auth_jwt_1","canonical_id":"g1"}}}}`},
			"GET /v1/identity/group/id/g1":     {Body: `{"data":{"id":"g1","name":"manager","type":"external","policies":["manager"]}}`},
			"GET /v1/sys/health":               {Body: `{"initialized":true,"sealed":false,"standby":false,"performance_standby":false,"replication_performance_mode":"disabled","replication_dr_mode":"disabled","server_time_utc":1796126400,"version":"1.19.0","cluster_name":"vault-cluster-1","cluster_id":"c1"}`},
			"GET /v1/sys/seal-status":          {Body: `{"type":"shamir","initialized":true,"sealed":false,"t":1,"n":1,"progress":0,"nonce":"","version":"1.19.0","build_date":"2025-12-02T03:10:45Z","migration":false,"cluster_name":"vault-cluster-1","cluster_id":"c1","recovery_seal":false,"storage_type":"inmem"}`},
			"PUT /v1/auth/jwt/login":           {Body: `{"auth":{"client_token":"hvs.user","accessor":"acc","policies":["default","reader"],"token_policies":["default","reader"],"identity_policies":["manager"],"metadata":{"role":"default"},"lease_duration":3600,"renewable":true,"entity_id":"e1","token_type":"service","orphan":true}}`},
			"GET /v1/auth/token/lookup-self":   {Body: `{"data":{"display_name":"jwt-s-alice","entity_id":"e1","identity_policies":["manager"],"policies":["default","reader"]}}`},
			"GET /v1/identity/entity/id/e1":    {Body: `{"data":{"id":"e1","group_ids":["g1"]}}`},
		}
	})
	rep, err := Run(context.Background(), Target{KeycloakURL: s.kc.URL(), Realm: "demo", Client: "vault", Mounts: []Mount{{Path: "jwt"}, {Path: "oidc", Roles: []string{"default"}}},
		// A site that is not running: its login is not tried.
		Sites: []spec.DjangoSite{{Name: "shop", Client: "vault", Library: spec.LibMozilla, URL: "http://127.0.0.1:1", Logout: "local"}}},
		s.sys, Options{User: "alice", Password: "alice-pw"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ok discovery.fetch", "ok discovery.issuer", "ok discovery.jwks", "ok discovery.issuer", "ok discovery.jwks",
		"ok client.enabled", "ok client.confidential", "ok client.standard-flow", "warning client.direct-grants", "ok redirect.vault",
		"ok audience.jwt", "ok claims.user-claim", "ok claims.groups", "warning claims.empty-groups", "ok aliases.match",
		"ok audience.oidc", "ok claims.user-claim", "ok claims.groups", "warning claims.empty-groups",
		// The site's needs are not met by client vault.
		"fail redirect.django", "fail claims.django-groups",
		"ok clock.keycloak-vault", "ok clock.skew", "ok clock.skew",
		"ok login.keycloak", "ok login.vault-jwt", "ok login.vault-jwt", "ok login.vault-oidc", "warning login.django",
		// The stub realm stores no events.
		"warning login.events"}
	if got := checkIDs(rep.Checks); !slices.Equal(got, want) {
		t.Errorf("checks\n got %q\nwant %q", got, want)
	}
	if !rep.Failed() {
		t.Error("the site's failures do not fail the report")
	}
	var logins []string
	for _, l := range rep.Logins {
		logins = append(logins, fmt.Sprintf("%s %v %s", l.Path, l.OK, l.Granted))
	}
	if !slices.Equal(logins, []string{"keycloak true ID and access tokens from the password grant",
		"vault-jwt jwt/default true policies default, reader, manager", "vault-jwt jwt/default (access token) true policies default, reader, manager",
		"vault-oidc oidc/default true policies default, reader, manager"}) {
		t.Errorf("logins %q", logins)
	}
	// The password grant carried the client's secret, read through the
	// admin API; the JWT logins sent the ID token, then the access token.
	grant := string(s.kc.Body(stubDemoToken))
	for _, p := range []string{"grant_type=password", "username=alice", "password=alice-pw", "client_secret=vault-secret", "client_id=vault"} {
		if !strings.Contains(grant, p) {
			t.Errorf("password grant %q lacks %s", grant, p)
		}
	}
	var login struct{ JWT, Role string }
	if json.Unmarshal(s.vault.Body("PUT /v1/auth/jwt/login"), &login); login.JWT != accessToken || login.Role != "default" {
		t.Errorf("last JWT login %+v", login)
	}
	if n := strings.Count(strings.Join(s.vault.Requests(), "\n"), "PUT /v1/auth/jwt/login"); n != 2 {
		t.Errorf("%d JWT logins, want 2", n)
	}
	if form := string(s.kc.Body("POST /realms/demo/login-actions/authenticate")); !strings.Contains(form, "username=alice") || !strings.Contains(form, "password=alice-pw") {
		t.Errorf("login form %q", form)
	}
}

// What doctor was told to check and cannot find is bad input naming it; a
// client that is not there is Keycloak's not-found error.
func TestRunMissingObjects(t *testing.T) {
	ctx := context.Background()
	vaultWith := func(routes map[string]stubReply) func(string) map[string]stubReply {
		return func(string) map[string]stubReply {
			routes["GET /v1/sys/auth"] = stubReply{Body: `{"data":{"jwt/":{"accessor":"auth_jwt_1","type":"jwt","options":{}},"token/":{"accessor":"auth_token_1","type":"token"}}}`}
			return routes
		}
	}
	var bi interface{ BadInput() bool }
	s := newStubServers(t, keycloakRoutes, vaultWith(map[string]stubReply{}))
	_, err := Run(ctx, Target{KeycloakURL: s.kc.URL(), Realm: "demo", Client: "vault", Mounts: []Mount{{Path: "oidc"}}}, s.sys, Options{})
	var me *MissingError
	if !errors.As(err, &me) || !errors.As(err, &bi) || err.Error() != "auth mount oidc/ on Vault "+s.vault.URL()+" not found" {
		t.Errorf("a missing mount: %v", err)
	}
	s = newStubServers(t, keycloakRoutes, vaultWith(map[string]stubReply{
		"GET /v1/auth/jwt/config":          {Body: `{"data":{"oidc_discovery_url":"http://kc/realms/demo"}}`},
		"GET /v1/auth/jwt/role/nope":       {Status: 404, Body: `{"errors":[]}`},
		"LIST /v1/identity/group-alias/id": {Status: 404, Body: `{"errors":[]}`},
	}))
	_, err = Run(ctx, Target{KeycloakURL: s.kc.URL(), Realm: "demo", Client: "vault", Mounts: []Mount{{Path: "jwt", Roles: []string{"nope"}}}}, s.sys, Options{})
	if !errors.As(err, &me) || err.Error() != `role "nope" on auth mount jwt/ not found` {
		t.Errorf("a missing role: %v", err)
	}
	s = newStubServers(t, keycloakRoutes, nil)
	if _, err = Run(ctx, Target{KeycloakURL: s.kc.URL(), Realm: "demo", Client: "vault", Mounts: []Mount{{Path: "jwt"}}}, s.sys, Options{}); err == nil || err.Error() != "mount jwt: no Vault connection" {
		t.Errorf("no Vault: %v", err)
	}
	s = newStubServers(t, func(base string) map[string]stubReply {
		r := keycloakRoutes(base)
		return map[string]stubReply{
			"GET /realms/demo/.well-known/openid-configuration": r["GET /realms/demo/.well-known/openid-configuration"],
			"GET /realms/demo/protocol/openid-connect/certs":    r["GET /realms/demo/protocol/openid-connect/certs"],
			"GET /admin/realms/demo/clients":                    {Body: `[{"id":"u7","clientId":"vault-other"}]`},
		}
	}, nil)
	_, err = Run(ctx, Target{KeycloakURL: s.kc.URL(), Realm: "demo", Client: "vault"}, s.sys, Options{})
	if !errors.As(err, new(*keycloak.NotFoundError)) || !strings.Contains(err.Error(), `client "vault" in realm "demo"`) {
		t.Errorf("a missing client: %v", err)
	}
}

// A refused password is the password grant's failure, in Keycloak's words.
func TestRunPasswordRefused(t *testing.T) {
	s := newStubServers(t, func(base string) map[string]stubReply {
		r := keycloakRoutes(base)
		r["GET /admin/realms/demo/clients/u1/client-secret"] = stubReply{Body: `{"type":"secret","value":"vault-secret"}`}
		r[stubDemoToken] = stubReply{Status: 401, Body: `{"error":"invalid_grant","error_description":"Invalid user credentials"}`}
		addLoginStatus(r, "")
		return r
	}, nil)
	rep, err := Run(context.Background(), Target{KeycloakURL: s.kc.URL(), Realm: "demo", Client: "vault"}, s.sys, Options{User: "alice", Password: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	c := checkOf(rep.Checks, "login.keycloak")
	if c == nil || c.Status != Fail || c.Message != "keycloak as alice broke at the password grant" || !strings.Contains(c.Evidence, "Invalid user credentials") {
		t.Errorf("login check %+v", c)
	}
	if len(rep.Logins) != 1 || rep.Logins[0].OK || !rep.Failed() {
		t.Errorf("logins %+v", rep.Logins)
	}
}

// The logout probe's first login must come back with the state it sent: a
// redirect carrying another state fails that step, and the probe stops
// there, before any logout.
func TestLogoutStopsAtALoginWithAnotherState(t *testing.T) {
	s := newStubServers(t, func(base string) map[string]stubReply {
		return map[string]stubReply{
			"GET /realms/demo/.well-known/openid-configuration": {Body: discoveryDoc(base)},
			"GET /admin/realms/demo/clients": {Func: func(r *http.Request) stubReply {
				id := r.URL.Query().Get("clientId")
				return stubReply{Body: fmt.Sprintf(`[{"id":"u-%s","clientId":%q,"enabled":true,"publicClient":true,"bearerOnly":false,"standardFlowEnabled":true,"frontchannelLogout":false,"redirectUris":["http://127.0.0.1:9/%s/cb"],"attributes":{"post.logout.redirect.uris":"+"}}]`, id, id, id)}
			}},
			"GET /admin/realms/demo/users":                  {Body: `[{"id":"u-alice","username":"alice","enabled":true}]`},
			"GET /admin/realms/demo/users/u-alice/sessions": {Body: `[]`},
			"GET /realms/demo/protocol/openid-connect/auth": {Body: `<html><body><form id="kc-form-login" action="` + base +
				`/realms/demo/login-actions/authenticate?session_code=sc1&amp;execution=ex1&amp;client_id=app1&amp;tab_id=t1" method="post">
<input name="username" type="text"/><input name="password" type="password"/><input type="hidden" name="credentialId"/></form></body></html>`},
			"POST /realms/demo/login-actions/authenticate": {Status: 302, Location: "http://127.0.0.1:9/app1/cb?state=not-the-one&code=c1"},
		}
	}, nil)
	rep, err := Logout(context.Background(), LogoutTarget{KeycloakURL: s.kc.URL(), Realm: "demo", User: "alice", Password: "pw", First: "app1", Second: "app2"}, s.sys, LogoutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := checkIDs(rep.Checks); !slices.Equal(got, []string{"fail " + LogoutLoginFirst}) || !rep.Failed() {
		t.Errorf("checks %q", got)
	}
	if c := rep.Checks[0]; c.Message != "Keycloak's redirect to http://127.0.0.1:9/app1/cb carries no code or another state" || !strings.Contains(c.Evidence, "state=not-the-one") {
		t.Errorf("check %+v", c)
	}
	if rep.Logout != nil || !slices.Equal(rep.Clients, []string{"app1", "app2"}) {
		t.Errorf("report %+v", rep)
	}
}
