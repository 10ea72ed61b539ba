package spec

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestExampleLoads(t *testing.T) {
	matches, _ := filepath.Glob("../examples/*.yaml")
	more, _ := filepath.Glob("../examples/*/*/*.yaml")
	matches = append(matches, more...)
	if len(matches) == 0 {
		t.Fatal("no examples found")
	}
	for _, p := range matches {
		f, err := Load(p, nil, env("KEYCLOAK_URL", "http://127.0.0.1:8080", "VAULT_ADDR", "http://127.0.0.1:8200"))
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if f.Keycloak != nil && f.Keycloak.URL != "http://127.0.0.1:8080" {
			t.Errorf("%s: keycloak url default from env not applied: %q", p, f.Keycloak.URL)
		}
	}
}

func TestDemoFileShape(t *testing.T) {
	f, err := Load("../examples/sso.yaml", nil, env("KEYCLOAK_URL", "http://kc:8080", "VAULT_ADDR", "http://v:8200"))
	if err != nil {
		t.Fatal(err)
	}
	c := f.Keycloak.Client("vault")
	if c == nil || c.Protocol != ProtocolOIDC || c.Access != AccessConfidential {
		t.Fatalf("vault client = %+v", c)
	}
	if got := c.Mappers[0].Audience; got == nil || got.Client != "vault" {
		t.Fatalf("audience shorthand not decoded: %+v", c.Mappers[0])
	}
	if got := c.Mappers[0].DefaultName("vault"); got != "audience vault" {
		t.Fatalf("default mapper name = %q", got)
	}
	if c.UserinfoSigned == nil || *c.UserinfoSigned {
		t.Fatalf("userinfo_signed = %v, want explicit false", c.UserinfoSigned)
	}
	if f.Line("keycloak.clients[0].access") != 14 {
		t.Fatalf("line of access = %d, want 14", f.Line("keycloak.clients[0].access"))
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string // substrings of the error
	}{
		{"unknown top key", "keycloak:\n  url: http://x\n  realm: r\nvualt: {}\n", []string{"sso.yaml:4:", `unknown key "vualt"`, `did you mean "vault"`}},
		{"unknown nested key", "keycloak:\n  url: http://x\n  realm: r\n  clients:\n    - client_id: a\n      redirect_uri: [x]\n", []string{"sso.yaml:6:", "keycloak.clients[0].redirect_uri", `did you mean "redirect_uris"`}},
		{"wrong type bool", "keycloak:\n  url: http://x\n  realm: r\n  create_realm: yes please\n", []string{"sso.yaml:4:", "keycloak.create_realm", "want true or false"}},
		{"wrong type list", "keycloak:\n  url: http://x\n  realm: r\n  realm_roles: auditor\n", []string{"sso.yaml:4:", "keycloak.realm_roles", "want a list"}},
		{"bad access", "keycloak:\n  url: http://x\n  realm: r\n  clients:\n    - client_id: a\n      access: confidental\n", []string{"sso.yaml:6:", "want confidential, public or bearer-only"}},
		{"two kinds", "keycloak:\n  url: http://x\n  realm: r\n  clients:\n    - client_id: a\n      mappers:\n        - {audience: a, groups: {}}\n", []string{"sso.yaml:7:", "exactly one mapper kind"}},
		{"saml mapper on oidc", "keycloak:\n  url: http://x\n  realm: r\n  clients:\n    - client_id: a\n      mappers:\n        - saml_groups: {}\n", []string{"saml_groups is a saml mapper"}},
		{"unknown mapper key", "keycloak:\n  url: http://x\n  realm: r\n  clients:\n    - client_id: a\n      mappers:\n        - groups: {claim: g, fullpath: true}\n", []string{"sso.yaml:7:", `unknown key "fullpath"`, `"full_path"`}},
		{"no realm", "keycloak:\n  url: http://x\n", []string{"no realm"}},
		{"role not declared", "keycloak:\n  url: http://x\n  realm: r\n  clients:\n    - client_id: v\n      roles: [a]\n  groups:\n    - {name: g, client_roles: {v: [b]}}\n", []string{"sso.yaml:8:", `role "b" is not among client "v"'s roles`}},
		{"syntax", "keycloak:\n  url: [\n", []string{"sso.yaml:"}},
		{"empty", "", []string{"file is empty"}},
		{"nothing", "{}\n", []string{"nothing to do"}},
		{"jwt role without bounds", "vault:\n  addr: http://v\n  auth:\n    - path: jwt\n      type: jwt\n      jwks_url: http://k/certs\n      roles:\n        r: {user_claim: sub}\n", []string{"sso.yaml:8:", "at least one of bound_audiences"}},
		{"group on two mounts", "vault:\n  addr: http://v\n  auth:\n    - {path: a, type: jwt, jwks_url: http://k, groups: [{name: m, alias: x}]}\n    - {path: b, type: jwt, jwks_url: http://k, groups: [{name: m, alias: x}]}\n", []string{"sso.yaml:5:", "exactly one alias", "m-b"}},
		{"jwt role on oidc-flow mount", "vault:\n  addr: http://v\n  auth:\n    - path: o\n      type: oidc\n      discovery_url: http://k/realms/r\n      client_id: vault\n      roles:\n        r: {role_type: jwt, bound_audiences: [vault]}\n", []string{"sso.yaml:9:", "unsupported config type"}},
		{"bad ttl", "vault:\n  addr: http://v\n  auth:\n    - path: j\n      type: jwt\n      jwks_url: http://k\n      roles:\n        r: {bound_audiences: [v], token_ttl: 1 hour}\n", []string{"token_ttl", "1 hour"}},
		{"dup client", "keycloak:\n  url: http://x\n  realm: r\n  clients:\n    - client_id: a\n    - client_id: a\n", []string{"sso.yaml:6:", "declared twice"}},
		{"scope twice", "keycloak:\n  url: http://x\n  realm: r\n  client_scopes:\n    - name: a\n    - name: a\n", []string{"sso.yaml:6:", `client scope "a" is declared twice`}},
		{"default and optional", "keycloak:\n  url: http://x\n  realm: r\n  clients:\n    - client_id: v\n      default_scopes: [profile]\n      optional_scopes: [email, profile]\n", []string{"sso.yaml:7:", `scope "profile" is in default_scopes too`}},
		{"realm default and optional", "keycloak:\n  url: http://x\n  realm: r\n  default_client_scopes: [roles]\n  optional_client_scopes: [roles]\n", []string{"sso.yaml:5:", `scope "roles" is in default_client_scopes too`}},
		{"saml scope on oidc client", "keycloak:\n  url: http://x\n  realm: r\n  clients:\n    - client_id: v\n      default_scopes: [profile, role_list]\n", []string{"sso.yaml:6:", `scope "role_list" is saml, but client "v" is openid-connect`}},
		{"built-in scope's protocol", "keycloak:\n  url: http://x\n  realm: r\n  client_scopes:\n    - name: roles\n      protocol: saml\n", []string{"sso.yaml:6:", `built-in scope "roles" is openid-connect`}},
		{"saml mapper in oidc scope", "keycloak:\n  url: http://x\n  realm: r\n  client_scopes:\n    - name: s\n      mappers:\n        - saml_groups: {}\n", []string{"sso.yaml:7:", `client scope "s" is openid-connect`}},
		{"scope mapping of an undeclared role", "keycloak:\n  url: http://x\n  realm: r\n  clients:\n    - client_id: v\n      roles: [a]\n      scope_mappings: {clients: {v: [b]}}\n", []string{"sso.yaml:7:", `role "b" is not among client "v"'s roles`}},
		{"unknown scope key", "keycloak:\n  url: http://x\n  realm: r\n  client_scopes:\n    - name: s\n      include_in_tokn_scope: true\n", []string{"sso.yaml:6:", `did you mean "include_in_token_scope"`}},
		{"authz permission names an unknown policy", "keycloak:\n  url: http://x\n  realm: r\n  clients:\n    - client_id: shop\n      roles: [normal]\n      authorization:\n        scopes: [v]\n        permissions:\n          - {name: p, type: scope, scopes: [v], policies: [nobody]}\n", []string{"sso.yaml:10:", `no policy "nobody" in this authorization section`}},
		{"authz policy without its field", "keycloak:\n  url: http://x\n  realm: r\n  clients:\n    - client_id: shop\n      roles: [normal]\n      authorization:\n        policies:\n          - {name: p, type: role}\n", []string{"sso.yaml:9:", "a role policy needs roles"}},
		{"authz field of another type", "keycloak:\n  url: http://x\n  realm: r\n  clients:\n    - client_id: shop\n      roles: [normal]\n      authorization:\n        policies:\n          - {name: p, type: group, roles: [x]}\n", []string{"roles belong to role policies, not group"}},
		{"authz unknown client role", "keycloak:\n  url: http://x\n  realm: r\n  clients:\n    - client_id: shop\n      roles: [normal]\n      authorization:\n        policies:\n          - {name: p, type: role, roles: [shop/admin]}\n", []string{"sso.yaml:9:", `role "admin" is not among client "shop"'s roles`}},
		{"authz permission and policy share a name", "keycloak:\n  url: http://x\n  realm: r\n  clients:\n    - client_id: shop\n      roles: [normal]\n      authorization:\n        scopes: [v]\n        policies:\n          - {name: p, type: role, roles: [shop/normal]}\n        permissions:\n          - {name: p, type: scope, scopes: [v], policies: [p]}\n", []string{`policy "p" is declared twice`}},
		{"authz without a service account", "keycloak:\n  url: http://x\n  realm: r\n  clients:\n    - client_id: shop\n      service_accounts: false\n      authorization: {}\n", []string{"need the client's service account"}},
		{"authz on a public client", "keycloak:\n  url: http://x\n  realm: r\n  clients:\n    - client_id: shop\n      access: public\n      authorization: {}\n", []string{"need a confidential openid-connect client"}},
		{"authz day of week", "keycloak:\n  url: http://x\n  realm: r\n  clients:\n    - client_id: shop\n      roles: [normal]\n      authorization:\n        policies:\n          - {name: p, type: time, day_of_week: 1-5}\n", []string{`unknown key "day_of_week"`}},
		{"oidc logout key on saml", "keycloak:\n  url: http://x\n  realm: r\n  clients:\n    - client_id: s\n      protocol: saml\n      backchannel_logout_session_required: true\n", []string{"sso.yaml:7:", "backchannel_logout_session_required applies to openid-connect clients, not saml"}},
		{"oidc revoke key on saml", "keycloak:\n  url: http://x\n  realm: r\n  clients:\n    - client_id: s\n      protocol: saml\n      backchannel_logout_revoke_offline_tokens: true\n", []string{"sso.yaml:7:", "backchannel_logout_revoke_offline_tokens applies to openid-connect"}},
		{"front channel url on saml", "keycloak:\n  url: http://x\n  realm: r\n  clients:\n    - client_id: s\n      protocol: saml\n      frontchannel_logout_url: https://s/fc\n", []string{"sso.yaml:7:", "frontchannel_logout_url applies to openid-connect"}},
		{"saml logout url on oidc", "keycloak:\n  url: http://x\n  realm: r\n  clients:\n    - client_id: a\n      single_logout_url_post: https://a/slo\n", []string{"sso.yaml:6:", "single_logout_url_post applies to saml clients, not openid-connect"}},
		{"saml redirect url on oidc", "keycloak:\n  url: http://x\n  realm: r\n  clients:\n    - client_id: a\n      single_logout_url_redirect: https://a/slo\n", []string{"sso.yaml:6:", "single_logout_url_redirect applies to saml"}},
		{"relative front channel url", "keycloak:\n  url: http://x\n  realm: r\n  clients:\n    - client_id: a\n      frontchannel_logout_url: /logout\n", []string{"sso.yaml:6:", "keycloak.clients[0].frontchannel_logout_url", `want an http(s) URL, got "/logout"`}},
		{"javascript slo url", "keycloak:\n  url: http://x\n  realm: r\n  clients:\n    - client_id: s\n      protocol: saml\n      single_logout_url_post: javascript:alert(1)\n", []string{"sso.yaml:7:", "want an http(s) URL"}},
		{"rancher client missing", "keycloak:\n  url: http://x\n  realm: r\nrancher:\n  url: https://r.example.com\n", []string{"no client \"https://r.example.com/v1-saml/keycloak/saml/metadata\""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("sso.yaml", []byte(tt.yaml), nil)
			if err == nil {
				t.Fatal("want an error")
			}
			var bi interface{ BadInput() bool }
			if !errors.As(err, &bi) || !bi.BadInput() {
				t.Fatalf("error %T is not marked as bad input", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), nil, nil)
	if err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Fatalf("err = %v", err)
	}
}

func TestOversizedFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big.yaml")
	os.WriteFile(p, []byte(strings.Repeat("#", MaxFileSize+10)), 0o600)
	if _, err := Load(p, nil, nil); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("err = %v", err)
	}
}

func FuzzParse(f *testing.F) {
	data, _ := os.ReadFile("../examples/sso.yaml")
	f.Add(data)
	f.Add([]byte("keycloak: {clients: [{client_id: a, mappers: [{audience: x}]}]}"))
	f.Add(aliasBomb(40))
	f.Add([]byte("keycloak:\n  clients:\n    - &b {client_id: a, roles: &r [x]}\n    - {<<: *b, client_id: b, roles: *r}\n"))
	f.Add([]byte("keycloak: {realm: r}\n---\nvault: {}\n"))
	f.Add([]byte("keycloak:\n  client_scopes: [{name: s, mappers: [{client_roles: {}}]}]\n  clients: [{client_id: a, default_scopes: [s], scope_mappings: {realm: [x]}}]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Parse("f.yaml", b, env("KEYCLOAK_URL", "http://k", "KEYCLOAK_REALM", "r", "VAULT_ADDR", "http://v"))
		if err == nil && file == nil {
			t.Fatal("nil file without error")
		}
	})
}

func TestVaultDiscoveryDefaultsToRealm(t *testing.T) {
	f, err := Load("../examples/sso.yaml", nil, env("KEYCLOAK_URL", "http://kc:8080/", "VAULT_ADDR", "http://v:8200"))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range f.Vault.Auth {
		if a.DiscoveryURL != "http://kc:8080/realms/demo" {
			t.Errorf("mount %s: discovery_url = %q", a.Path, a.DiscoveryURL)
		}
		if a.Roles["default"].RoleType != a.Type {
			t.Errorf("mount %s: role_type defaults to the mount type, got %q", a.Path, a.Roles["default"].RoleType)
		}
	}
}

func TestDjangoSectionValidation(t *testing.T) {
	base := "keycloak:\n  url: http://kc\n  realm: r\n  clients:\n    - client_id: app\n    - client_id: pub\n      access: public\n    - client_id: https://saml\n      protocol: saml\ndjango:\n  sites:\n"
	for _, tt := range []struct {
		site string
		want string
	}{
		{"    - {name: a, client: app, library: flask-oidc, url: http://x}\n", `unknown library "flask-oidc": want one of mozilla-django-oidc, django-keycloak-oidc, social-auth`},
		{"    - {name: a, client: app, library: allauth, url: http://x, api: graphql}\n", `unknown api "graphql": want one of drf-oidc-auth`},
		{"    - {name: a, client: nope, library: allauth, url: http://x}\n", `no client "nope" in keycloak.clients`},
		{"    - {name: a, client: pub, library: allauth, url: http://x}\n", "logs in with a confidential client"},
		{"    - {name: a, client: https://saml, library: allauth, url: http://x}\n", "needs an openid-connect client"},
		{"    - {name: a, client: app, library: allauth}\n", "url is required"},
		{"    - {name: a, client: app, library: allauth, url: http://x, logout: sometimes}\n", "want keycloak (also end the Keycloak session) or local"},
		{"    - {name: A B, client: app, library: allauth, url: http://x}\n", "want lower-case letters"},
		{"    - {name: a, client: app, library: allauth, url: http://x}\n    - {name: a, client: app, library: allauth, url: http://y}\n", `site "a" is declared twice`},
		{"    - {name: a, client: app, library: allauth, url: http://x, client_secret_env: 1-bad}\n", "not a variable name"},
		{"    - {name: a, client: app, library: allauth, url: http://x, roles: true, staff: [admin]}\n", `"admin" is not a role of client "app"`},
		{"    - {name: a, client: app, library: allauth, url: http://x, bogus: 1}\n", `unknown key "bogus"`},
	} {
		_, err := Parse("sso.yaml", []byte(base+tt.site), nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "sso.yaml:1") {
			t.Errorf("%s: %v, want %q at sso.yaml:1x", strings.TrimSpace(tt.site), err, tt.want)
		}
	}
	f, err := Parse("sso.yaml", []byte(base+"    - {name: brew-ery, client: app, library: mozilla-django-oidc, url: http://x/}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := f.Django.Site("brew-ery")
	if s.URL != "http://x" || s.Logout != "keycloak" || s.UsernameClaim != "preferred_username" || s.ClientSecretEnv != "BREW_ERY_OIDC_SECRET" {
		t.Errorf("defaults: %+v", s)
	}
	if f.Django.Site("nope") != nil || (*Django)(nil).Site("x") != nil {
		t.Error("Site finds only what exists")
	}
}

func TestSplitRoleRef(t *testing.T) {
	known := func(id string) bool { return id == "https://r.example.com/v1-saml/metadata" || id == "shop" }
	for ref, want := range map[string][2]string{
		"auditor":     {"", "auditor"},
		"shop/normal": {"shop", "normal"},
		"https://r.example.com/v1-saml/metadata/admin": {"https://r.example.com/v1-saml/metadata", "admin"},
		"other/a/b": {"other/a", "b"},
	} {
		if c, r := SplitRoleRef(ref, known); c != want[0] || r != want[1] {
			t.Errorf("%s: %q %q, want %v", ref, c, r, want)
		}
	}
}

func TestVaultEnvFallsBackToBao(t *testing.T) {
	env := map[string]string{"BAO_ADDR": "http://bao", "VAULT_TOKEN": "v", "BAO_TOKEN": "b"}
	get := func(k string) string { return env[k] }
	if v, from := VaultEnv(get, "ADDR"); v != "http://bao" || from != "BAO_ADDR" {
		t.Errorf("addr: %q %q", v, from)
	}
	if v, from := VaultEnv(get, "TOKEN"); v != "v" || from != "VAULT_TOKEN" {
		t.Errorf("token: VAULT_ wins: %q %q", v, from)
	}
	if v, from := VaultEnv(get, "NAMESPACE"); v != "" || from != "" {
		t.Errorf("namespace: %q %q", v, from)
	}
	f, err := Parse("s.yaml", []byte("vault:\n  policies: {p: {hcl: 'path \"x\" {capabilities = [\"read\"]}'}}\n"), get)
	if err != nil || f.Vault.Addr != "http://bao" {
		t.Errorf("vault.addr from $BAO_ADDR: %v %+v", err, f)
	}
}
