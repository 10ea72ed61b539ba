package doctor

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Nerzal/gocloak/v13"

	"github.com/ssoctl/ssoctl/inspect"
	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/spec"
	"github.com/ssoctl/ssoctl/vault"
)

// These tests run the checks on hand-built live states: no server. The
// integration tests break real setups by hand and see doctor name them.

func ptr[T any](v T) *T { return &v }

func mapperRep(name, kind string, cfg map[string]string) gocloak.ProtocolMapperRepresentation {
	return gocloak.ProtocolMapperRepresentation{Name: &name, ProtocolMapper: &kind, Protocol: ptr("openid-connect"), Config: &cfg}
}

// healthy is a live state where everything fits: client vault with an
// audience mapper and client roles in every token, the default roles scope,
// an OIDC and a JWT mount.
func healthy() *doc {
	client := &gocloak.Client{ClientID: ptr("vault"), ID: ptr("u1"), Enabled: ptr(true), PublicClient: ptr(false), BearerOnly: ptr(false),
		StandardFlowEnabled: ptr(true), DirectAccessGrantsEnabled: ptr(false), RedirectURIs: ptr([]string{"http://localhost:8250/*"}),
		Attributes: &map[string]string{}, ProtocolMappers: &[]gocloak.ProtocolMapperRepresentation{
			mapperRep("audience vault", "oidc-audience-mapper", map[string]string{"included.client.audience": "vault", "id.token.claim": "true", "access.token.claim": "true"}),
			mapperRep("client roles vault", "oidc-usermodel-client-role-mapper", map[string]string{"usermodel.clientRoleMapping.clientId": "vault",
				"claim.name": "resource_access.${client_id}.roles", "id.token.claim": "true", "access.token.claim": "true", "userinfo.token.claim": "true"}),
			mapperRep("groups", "oidc-group-membership-mapper", map[string]string{"claim.name": "groups", "full.path": "false",
				"id.token.claim": "true", "access.token.claim": "true", "userinfo.token.claim": "true"}),
		}}
	view := &keycloak.ClientView{Client: client, Roles: []string{"secret_manager", "secret_reader"}, DefaultScopes: []keycloak.ClientScope{
		{Name: "roles", Mappers: []gocloak.ProtocolMapperRepresentation{mapperRep("client roles", "oidc-usermodel-client-role-mapper",
			map[string]string{"claim.name": "resource_access.${client_id}.roles", "access.token.claim": "true"})}},
		{Name: "profile", Mappers: []gocloak.ProtocolMapperRepresentation{mapperRep("username", "oidc-usermodel-attribute-mapper",
			map[string]string{"claim.name": "preferred_username", "id.token.claim": "true", "access.token.claim": "true", "userinfo.token.claim": "true"})}},
	}}
	issuer := "http://kc/realms/demo"
	noon := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	role := func(typ, gc string) *inspect.VaultRole {
		return &inspect.VaultRole{RoleType: typ, UserClaim: "sub", GroupsClaim: gc, BoundAudiences: []string{"vault"}, AllowedRedirectURIs: []string{"http://localhost:8250/oidc/callback"}}
	}
	l := &live{
		disc:   &inspect.DiscoveryReport{DocumentIssuer: issuer, JWKSURI: issuer + "/certs", Keys: []*inspect.Key{{Alg: "RS256", Use: "sig"}, {Alg: "RSA-OAEP", Use: "enc"}}},
		client: view,
		state:  &keycloak.State{Groups: map[string]*keycloak.Group{"kv-managers": {Path: "kv-managers"}}, RealmRoles: map[string]*gocloak.Role{}},
		mounts: []*mount{
			{view: &vault.MountView{Path: "oidc", Aliases: []vault.MountAlias{{Name: "secret_manager", Group: "manager"}}},
				cfg: &inspect.VaultConfig{OIDCDiscoveryURL: issuer, OIDCClientID: "vault"}, roles: map[string]*inspect.VaultRole{"default": role("oidc", "/resource_access/vault/roles")}, names: []string{"default"}},
			{view: &vault.MountView{Path: "jwt", Aliases: []vault.MountAlias{{Name: "kv-managers", Group: "teams"}}},
				cfg: &inspect.VaultConfig{OIDCDiscoveryURL: issuer}, roles: map[string]*inspect.VaultRole{"bygroup": role("jwt", "groups")}, names: []string{"bygroup"}},
		},
		kcClock:    clockReading{server: noon, local: noon.Add(time.Second), source: "iat"},
		vaultClock: clockReading{server: noon, local: noon, source: "Date"},
	}
	l.tokens = model(view)
	return &doc{t: Target{KeycloakURL: "http://kc", Realm: "demo", Client: "vault",
		Sites: []spec.DjangoSite{{Name: "shop", Client: "vault", Library: spec.LibMozilla, URL: "http://localhost:8250", Logout: "local"}}},
		sys: Systems{Now: func() time.Time { return time.Date(2026, 12, 1, 12, 0, 1, 0, time.UTC) }}, live: l, rep: &Report{}}
}

// runChecks runs the checks that need no network.
func runChecks(d *doc) *Report {
	d.checkLive()
	return d.rep
}

func failures(r *Report) []string {
	var out []string
	for _, c := range r.Checks {
		if c.Status == Fail {
			out = append(out, c.ID)
		}
	}
	return out
}

func TestHealthyHasNoFailures(t *testing.T) {
	r := runChecks(healthy())
	if f := failures(r); len(f) != 0 {
		t.Fatalf("failures %v: %+v", f, r.Checks)
	}
	for _, id := range []string{"clock.skew", "clock.keycloak-vault"} {
		if !slices.ContainsFunc(r.Checks, func(c Check) bool { return c.ID == id && c.Status == OK }) {
			t.Errorf("no %s check", id)
		}
	}
}

// Each break names exactly its cause, and its fix_yaml parses.
func TestEachBreakNamesItsCause(t *testing.T) {
	for _, tt := range []struct {
		name   string
		break_ func(d *doc)
		want   string
	}{
		{"disabled client", func(d *doc) { d.live.client.Client.Enabled = ptr(false) }, "client.enabled"},
		{"public client", func(d *doc) { d.live.client.Client.PublicClient = ptr(true) }, "client.confidential"},
		{"standard flow off", func(d *doc) { d.live.client.Client.StandardFlowEnabled = ptr(false) }, "client.standard-flow"},
		{"issuer with a slash", func(d *doc) { d.live.mounts[0].cfg.OIDCDiscoveryURL += "/" }, "discovery.issuer"},
		{"no key of the allowed alg", func(d *doc) { d.live.mounts[1].cfg.JWTSupportedAlgs = []string{"ES256"} }, "discovery.jwks"},
		{"no discovery", func(d *doc) { d.live.disc, d.live.discErr = nil, errString("connection refused") }, "discovery.fetch"},
		{"redirect missing", func(d *doc) {
			d.live.client.Client.RedirectURIs = ptr([]string{"http://localhost:8250/oidc/callback/"})
		}, "redirect.vault"},
		{"oidc audience", func(d *doc) { d.live.mounts[0].roles["default"].BoundAudiences = []string{"other"} }, "audience.oidc"},
		{"user claim", func(d *doc) { d.live.mounts[1].roles["bygroup"].UserClaim = "email" }, "claims.user-claim"},
		{"groups claim nowhere", func(d *doc) { d.live.mounts[1].roles["bygroup"].GroupsClaim = "teams" }, "claims.groups"},
		{"full-path alias", func(d *doc) { d.live.mounts[1].view.Aliases[0].Name = "/kv-managers" }, "aliases.match"},
		{"clock", func(d *doc) { d.live.vaultClock.server = d.live.vaultClock.server.Add(2 * time.Minute) }, "clock.keycloak-vault"},
		{"clock, no leeway", func(d *doc) {
			d.live.mounts[1].roles["bygroup"].ClockSkewLeeway = -time.Second
			d.live.vaultClock.server = d.live.vaultClock.server.Add(4 * time.Second)
		}, "clock.keycloak-vault"},
		{"django callback", func(d *doc) { d.t.Sites[0].URL = "http://shop.example" }, "redirect.django"},
	} {
		d := healthy()
		tt.break_(d)
		d.live.tokens = model(d.live.client)
		r := runChecks(d)
		f := failures(r)
		slices.Sort(f)
		f = slices.Compact(f)
		if !slices.Equal(f, []string{tt.want}) {
			t.Errorf("%s: failures %v, want [%s]", tt.name, f, tt.want)
		}
		for _, c := range r.Checks {
			if c.FixYAML == "" {
				continue
			}
			if _, err := spec.ParseFragment("fix", []byte(c.FixYAML)); err != nil {
				t.Errorf("%s: %s's fix_yaml does not parse: %v\n%s", tt.name, c.ID, err, c.FixYAML)
			}
		}
	}
}

type errString string

func (e errString) Error() string { return string(e) }

// Every fix_yaml doctor can write parses as sso.yaml, and merges.
func TestEveryFixYAMLParses(t *testing.T) {
	fixes := []string{
		clientFix("https://rancher.example.com/v1-saml/keycloak/saml/metadata", "redirect_uris: "+yqList([]string{"https://x/acs", "http://a:8080/cb?x=1"})),
		mapperFix("vault", "audience: "+yq("vault")),
		mapperFix("vault", mapperLine(spec.Mapper{Groups: &spec.GroupsMapper{Claim: "groups"}})),
		mapperFix("vault", mapperLine(spec.Mapper{ClientRoles: &spec.ClientRolesMapper{Client: "vault", Claim: "roles", Prefix: "vault#"}})),
		mapperFix("vault", mapperLine(spec.Mapper{ClientRoles: &spec.ClientRolesMapper{Client: "a.b"}})),
		roleFix("jwt", "default", "groups_claim: "+yq("/resource_access/vault/roles"), "bound_audiences: "+yqList([]string{"vault", "true"})),
		mountFix("jwt", "discovery_url: "+yq("http://kc/realms/demo"), "groups:", "  - {name: "+yq("managers")+", alias: "+yq("/managers")+"}"),
		clientFix("vault", "userinfo_signed: false", "enabled: true", "access: confidential", "standard_flow: true", "backchannel_logout_url: \"\""),
	}
	d := healthy()
	for _, p := range []string{"/resource_access/vault/roles", "/realm_access/roles", "/groups"} {
		fixes = append(fixes, d.groupsMapperFix(p))
	}
	// The fixes that turn a mapper's tokens on, written from the live
	// mapper: a renamed one, and a raw one whose config holds YAML's own
	// characters.
	*d.live.client.Client.ProtocolMappers = append(*d.live.client.Client.ProtocolMappers,
		mapperRep("team: hard-coded, \"quoted\"", "oidc-hardcoded-claim-mapper", map[string]string{"claim.name": "team", "claim.value": "a \"b\"\nc: {d}, [e] #f ${client_id}", "id.token.claim": "false"}),
		mapperRep("my roles", "oidc-usermodel-client-role-mapper", map[string]string{"usermodel.clientRoleMapping.clientId": "a.b", "claim.name": "resource_access.${client_id}.roles", "access.token.claim": "true"}))
	d.live.tokens = model(d.live.client)
	for _, p := range []string{"/team", "/resource_access/a.b/roles", "/groups"} {
		_, fix, ok := d.claimMapperFix(p)
		if !ok || fix == "" {
			t.Fatalf("no mapper fix for %s", p)
		}
		f, err := spec.ParseFragment("fix", []byte(fix))
		if err != nil {
			t.Fatalf("%s: %v\n%s", p, err, fix)
		}
		km := keycloak.ExpandMapper(f.Keycloak.Clients[0].Mappers[0], "vault", spec.ProtocolOIDC)
		i := slices.IndexFunc(*d.live.client.Client.ProtocolMappers, func(m gocloak.ProtocolMapperRepresentation) bool { return deref(m.Name) == km.Name })
		if i < 0 {
			t.Fatalf("%s: the fix names mapper %q, which the client does not have, so it would add one:\n%s", p, km.Name, fix)
		}
		live := deref((*d.live.client.Client.ProtocolMappers)[i].Config)
		for k, v := range live {
			if want := map[bool]string{true: "true", false: v}[strings.HasSuffix(k, ".token.claim")]; km.Config[k] != want {
				t.Errorf("%s: the fix changes %s from %q to %q:\n%s", p, k, v, km.Config[k], fix)
			}
		}
		fixes = append(fixes, fix)
	}
	for _, fix := range fixes {
		if _, err := spec.ParseFragment("fix", []byte(fix)); err != nil {
			t.Errorf("does not parse: %v\n%s", err, fix)
		}
		if _, err := spec.MergeFragment([]byte("keycloak:\n  url: http://kc\n  realm: demo\n"), []byte(fix)); err != nil {
			t.Errorf("does not merge: %v\n%s", err, fix)
		}
	}
}

func TestRedirectRules(t *testing.T) {
	reg := []string{"http://localhost:8250/oidc/callback", "https://app/*", "/relative/cb", "http://q/cb?x=1", "http://q/*?y"}
	for uri, want := range map[string]bool{
		"http://localhost:8250/oidc/callback":  true,
		"http://localhost:8250/oidc/callback/": false,
		"https://app/anything/deep":            true,
		"https://root/relative/cb":             true,
		"https://other/relative/cb":            false,
		"https://app":                          true, // "x/*" matches "x"
		"https://app?x=1":                      true, // the query is not matched against a wildcard
		"https://ap":                           false,
		"http://q/cb?x=1":                      true, // a registered URI with ? is exact
		"http://q/cb?x=1&y":                    false,
		"HTTPS://app/x":                        false, // case counts
	} {
		if got := redirectAllowed(reg, "https://root/", uri); got != want {
			t.Errorf("%s: %v, want %v", uri, got, want)
		}
	}
}

func TestYAMLScalars(t *testing.T) {
	for in, want := range map[string]string{"vault": "vault", "/resource_access/vault/roles": "/resource_access/vault/roles",
		"true": `"true"`, "": `""`, "http://a:1/b": `"http://a:1/b"`, "resource_access.${client_id}.roles": `"resource_access.${client_id}.roles"`} {
		if got := yq(in); got != want {
			t.Errorf("yq(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestTokenModel(t *testing.T) {
	m := healthy().live.tokens
	roles := m.find("/resource_access/vault/roles")
	if len(roles) != 2 || !roles[0].id || roles[1].id || !roles[1].access {
		t.Errorf("client roles: the client's mapper in every token, the roles scope's in the access token only: %+v", roles)
	}
	if !slices.Equal(m.idAud, []string{"vault"}) || !slices.Equal(m.accessAud, []string{"vault"}) || len(m.find("/sub")) != 1 {
		t.Errorf("model %+v", m)
	}
}

func TestBackchannelLogoutUnreachable(t *testing.T) {
	d := healthy()
	(*d.live.client.Client.Attributes)[keycloak.AttrBackchannelLogoutURL] = "http://127.0.0.1:1/logout"
	runChecks(d)
	i := slices.IndexFunc(d.rep.Checks, func(c Check) bool { return c.ID == "logout.backchannel" })
	if i < 0 || d.rep.Checks[i].Status != Warn || !strings.Contains(d.rep.Checks[i].Message, "Keycloak's host is the one that must reach it") {
		t.Errorf("backchannel: %+v", d.rep.Checks)
	}
	// Without "session required" the logout token has no sid.
	i = slices.IndexFunc(d.rep.Checks, func(c Check) bool { return c.ID == "logout.sid" })
	if i < 0 || d.rep.Checks[i].Status != Warn || !strings.Contains(d.rep.Checks[i].FixYAML, "backchannel_logout_session_required: true") {
		t.Fatalf("sid: %+v", d.rep.Checks)
	}
	// The fix parses as sso.yaml.
	if _, err := spec.ParseFragment("fix.yaml", []byte(d.rep.Checks[i].FixYAML)); err != nil {
		t.Errorf("fix_yaml %q: %v", d.rep.Checks[i].FixYAML, err)
	}
	(*d.live.client.Client.Attributes)[keycloak.AttrBackchannelSessionRequired] = "true"
	d.rep.Checks = nil
	runChecks(d)
	if slices.ContainsFunc(d.rep.Checks, func(c Check) bool { return c.ID == "logout.sid" }) {
		t.Errorf("sid required, still warned: %+v", d.rep.Checks)
	}
}

// A groups mapper made in the admin console carries keys ssoctl does not
// write; it still puts groups into the token, so the Django site is fine.
func TestConsoleMadeGroupsMapperCounts(t *testing.T) {
	d := healthy()
	ms := *d.live.client.Client.ProtocolMappers
	(*ms[2].Config)["lightweight.claim"] = "false"
	(*ms[2].Config)["multivalued"] = "true"
	d.live.tokens = model(d.live.client)
	if f := failures(runChecks(d)); len(f) != 0 {
		t.Errorf("failures %v", f)
	}
	d = healthy()
	*d.live.client.Client.ProtocolMappers = ms[:2]
	d.live.tokens = model(d.live.client)
	if f := failures(runChecks(d)); !slices.Equal(f, []string{"claims.groups", "claims.django-groups"}) {
		t.Errorf("without the groups mapper: failures %v", f)
	}
}

// Keycloak reads "+" in the post-logout list as "the redirect URIs".
func TestPostLogoutPlusMeansRedirectURIs(t *testing.T) {
	for attr, want := range map[string][]string{"+": nil, "": {"logout.post-logout-uri"}, "http://other/": {"logout.post-logout-uri"}, "http://other/##+": nil} {
		d := healthy()
		d.t.Sites[0].Logout = "keycloak"
		(*d.live.client.Client.Attributes)[keycloak.AttrPostLogoutRedirectURIs] = attr
		if f := failures(runChecks(d)); !slices.Equal(f, want) {
			t.Errorf("post.logout.redirect.uris %q: failures %v, want %v", attr, f, want)
		}
	}
}

// The signing certificate in the metadata Rancher holds expires in 10 days:
// doctor warns, with the check's own finding.
func TestRancherCertificateExpiring(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "demo"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(10 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	meta := `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="http://kc/realms/demo">` +
		`<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>` +
		base64.StdEncoding.EncodeToString(der) + `</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>` +
		`<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="http://kc/realms/demo/protocol/saml"/>` +
		`</md:IDPSSODescriptor></md:EntityDescriptor>`
	const id = "https://r.example.com/v1-saml/keycloak/saml/metadata"
	d := &doc{t: Target{Realm: "demo", Client: id, Rancher: &spec.Rancher{URL: "https://r.example.com", SAMLClient: id}, RancherMetadata: []byte(meta)},
		sys: Systems{Now: func() time.Time { return now }}, rep: &Report{},
		live: &live{client: &keycloak.ClientView{Client: &gocloak.Client{ClientID: ptr(id), Protocol: ptr("saml"),
			RedirectURIs: ptr([]string{"https://r.example.com/v1-saml/keycloak/saml/acs"}), Attributes: &map[string]string{"saml.server.signature": "true"}}}}}
	d.rancher(context.Background())
	if !slices.ContainsFunc(d.rep.Checks, func(c Check) bool { return c.ID == "rancher.cert-expiring" && c.Status == Warn }) {
		t.Errorf("checks %+v", d.rep.Checks)
	}
	if f := failures(d.rep); len(f) != 0 {
		t.Errorf("failures %v", f)
	}
}

// Direct grants are a warning unless the file asks for them.
func TestDirectGrantsOnlyWhereAsked(t *testing.T) {
	status := func(f *spec.File) Status {
		d := healthy()
		d.live.client.Client.DirectAccessGrantsEnabled = ptr(true)
		d.t.File = f
		runChecks(d)
		i := slices.IndexFunc(d.rep.Checks, func(c Check) bool { return c.ID == "client.direct-grants" })
		if i < 0 {
			t.Fatal("no client.direct-grants check")
		}
		return d.rep.Checks[i].Status
	}
	if s := status(nil); s != Warn {
		t.Errorf("by hand: %s, want a warning", s)
	}
	asked := &spec.File{Keycloak: &spec.Keycloak{Clients: []spec.Client{{ClientID: "vault", DirectAccessGrants: ptr(true)}}}}
	if s := status(asked); s != OK {
		t.Errorf("asked for in the file: %s", s)
	}
}

// This machine's clock off both servers by the same minutes: Vault is fine
// (Keycloak and Vault agree), a Django site here is warned about.
func TestClockOffHereOnly(t *testing.T) {
	d := healthy()
	d.live.kcClock.local = d.live.kcClock.local.Add(3 * time.Minute)
	d.live.vaultClock.local = d.live.vaultClock.local.Add(3 * time.Minute)
	r := runChecks(d)
	var warned []string
	for _, c := range r.Checks {
		if c.ID == "clock.skew" && c.Status == Warn && strings.Contains(c.Evidence, "this machine 12:03") {
			warned = append(warned, c.System)
		}
	}
	if f := failures(r); len(f) != 0 || !slices.Equal(warned, []string{"keycloak", "vault"}) {
		t.Errorf("failures %v, warned %v", f, warned)
	}
}

// An OIDC role without the CLI's callback: a warning whose fix adds it to
// the role and, where no redirect URI covers it, to the client.
func TestVaultCLICallback(t *testing.T) {
	d := healthy()
	d.live.mounts[0].roles["default"].AllowedRedirectURIs = []string{"https://vault.example/ui/vault/auth/oidc/oidc/callback"}
	d.live.client.Client.RedirectURIs = ptr([]string{"https://vault.example/*"})
	r := runChecks(d)
	i := slices.IndexFunc(r.Checks, func(c Check) bool { return c.ID == "redirect.vault-cli" })
	if i < 0 || r.Checks[i].Status != Warn || !strings.Contains(r.Checks[i].FixYAML, "redirect_uris") || !strings.Contains(r.Checks[i].FixYAML, "allowed_redirect_uris") {
		t.Fatalf("checks %+v", r.Checks)
	}
	f, err := spec.ParseFragment("fix", []byte(r.Checks[i].FixYAML))
	if err != nil || f.Keycloak == nil || f.Vault == nil {
		t.Fatalf("fix_yaml %v:\n%s", err, r.Checks[i].FixYAML)
	}
	if d := healthy(); slices.ContainsFunc(runChecks(d).Checks, func(c Check) bool { return c.ID == "redirect.vault-cli" }) {
		t.Error("warned although the role allows the CLI's callback")
	}
}

// TestTemplatePastBudgetIsNotSent: on OpenBao, a JWT role whose policy
// template ssoctl cannot evaluate is a warning, and its login is not sent
// (OpenBao has no limit of its own on the template); an ordinary role's
// login is.
func TestTemplatePastBudgetIsNotSent(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	var logins atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var answer any
		switch r.URL.Path {
		case "/v1/sys/seal-status":
			answer = map[string]any{"type": "shamir", "initialized": true, "sealed": false, "version": "2.7.2", "commit_date": "2026-01-01T00:00:00Z"}
		case "/certs":
			answer = map[string]any{"keys": []any{map[string]any{"kty": "RSA", "kid": "k", "alg": "RS256", "use": "sig",
				"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()), "e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes())}}}
		case "/v1/auth/jwt/login":
			logins.Add(1)
			answer = map[string]any{"auth": map[string]any{"client_token": "s.x", "policies": []string{"reader"}, "token_policies": []string{"reader"}}}
		default:
			w.WriteHeader(http.StatusNotFound)
		}
		json.NewEncoder(w).Encode(answer)
	}))
	defer srv.Close()
	now := time.Now()
	h, _ := json.Marshal(map[string]any{"alg": "RS256", "typ": "JWT", "kid": "k"})
	c, _ := json.Marshal(map[string]any{"iss": "http://kc/realms/demo", "sub": "u1", "aud": "vault", "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()})
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	sum := sha256.Sum256([]byte(input))
	sig, _ := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	tok := &keycloak.TokenResponse{IDToken: input + "." + base64.RawURLEncoding.EncodeToString(sig)}
	tok.AccessToken = tok.IDToken

	for _, tt := range []struct {
		policy string
		sent   int32
	}{{"reader", 2}, {"{{range 1000000000}}{{end}}", 0}} {
		conn, err := vault.Connect(vault.Config{Addr: srv.URL, Token: "t"})
		if err != nil {
			t.Fatal(err)
		}
		role, err := inspect.VaultRoleFromMap(map[string]any{"role_type": "jwt", "user_claim": "sub", "bound_audiences": []any{"vault"},
			"token_policies_template_claims": true, "token_policies": []any{tt.policy}})
		if err != nil {
			t.Fatal(err)
		}
		d := healthy()
		d.sys.Vault, d.sys.HTTP, d.rep = conn, srv.Client(), &Report{}
		d.live.disc.JWKSURI = srv.URL + "/certs"
		m := &mount{view: &vault.MountView{Path: "jwt"}, cfg: &inspect.VaultConfig{OIDCDiscoveryURL: "http://kc/realms/demo"}, roles: map[string]*inspect.VaultRole{"r": role}, names: []string{"r"}}
		logins.Store(0)
		d.jwtLogin(context.Background(), m, "r", "alice", tok)
		warned := slices.ContainsFunc(d.rep.Checks, func(c Check) bool {
			return c.ID == "login.vault-jwt" && c.Status == Warn && strings.Contains(c.Message, "the login was not sent") &&
				strings.HasPrefix(c.Evidence, "ssoctl cannot evaluate this template: token_policies template [0]")
		})
		if logins.Load() != tt.sent || warned != (tt.sent == 0) {
			t.Errorf("%q: %d logins sent, checks %+v", tt.policy, logins.Load(), d.rep.Checks)
		}
	}
}
