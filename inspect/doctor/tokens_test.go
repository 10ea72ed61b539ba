package doctor

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/Nerzal/gocloak/v13"

	"github.com/ssoctl/ssoctl/inspect"
	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/spec"
	"github.com/ssoctl/ssoctl/vault"
)

// tokensFile is a setup in sso.yaml terms: client vault with an audience
// mapper and MAPPERS, an OIDC mount whose role reads OIDCROLE, and a JWT
// mount whose role reads JWTROLE.
const tokensFile = `keycloak:
  url: http://kc
  realm: demo
  clients:
    - client_id: vault
      redirect_uris: ["http://localhost:8250/*"]
      roles: [secret_manager, secret_reader]
      mappers:
        - audience: vault
MAPPERS
vault:
  addr: http://v
  auth:
    - path: oidc
      type: oidc
      client_id: vault
      discovery_url: http://kc/realms/demo
      roles:
        default: {OIDCROLE, bound_audiences: [vault], allowed_redirect_uris: ["http://localhost:8250/oidc/callback"]}
    - path: jwt
      type: jwt
      discovery_url: http://kc/realms/demo
      roles:
        default: {JWTROLE}
`

// fromFile is the live state an apply of the file would leave: the
// file's mappers on client vault (with healthy's default scopes: roles
// writes client roles into the access token), its roles on the mounts.
func fromFile(t *testing.T, text string) *doc {
	t.Helper()
	f, err := spec.Parse("sso.yaml", []byte(text), func(string) string { return "" })
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	d := healthy()
	d.t.Sites, d.t.File = nil, f
	var reps []gocloak.ProtocolMapperRepresentation
	for _, m := range f.Keycloak.Client("vault").Mappers {
		km := keycloak.ExpandMapper(m, "vault", spec.ProtocolOIDC)
		reps = append(reps, mapperRep(km.Name, km.ProtocolMapper, km.Config))
	}
	d.live.client.Client.ProtocolMappers = &reps
	for _, mt := range d.live.mounts {
		mt.view.Aliases, mt.roles, mt.names = nil, map[string]*inspect.VaultRole{}, nil
		for _, a := range f.Vault.Auth {
			if a.Path != mt.view.Path {
				continue
			}
			for name, r := range a.Roles {
				mt.roles[name] = &inspect.VaultRole{Name: name, RoleType: r.RoleType, UserClaim: r.UserClaim, GroupsClaim: r.GroupsClaim,
					BoundAudiences: r.BoundAudiences, BoundClaims: r.BoundClaims, BoundClaimsType: r.BoundClaimsType, ClaimMappings: r.ClaimMappings,
					AllowedRedirectURIs: r.AllowedRedirectURIs}
				mt.names = append(mt.names, name)
			}
			for _, g := range a.Groups {
				mt.view.Aliases = append(mt.view.Aliases, vault.MountAlias{Name: g.Alias, Group: g.Name})
			}
		}
		slices.Sort(mt.names)
	}
	d.live.tokens = model(d.live.client)
	return d
}

// The claims and audience checks hold each role against every token its
// login path reads: for a JWT role the ID token and the access token, each
// on its own; for an OIDC role the ID token merged with userinfo, as Vault
// merges it. Each broken setup fails (or warns) naming the token and the
// claim; the fixes it prints parse, and merged into the file they mend it.
func TestEveryTokenAPathReads(t *testing.T) {
	const (
		roles      = "/resource_access/vault/roles"
		clientRole = `        - client_roles: {client: vault, claim: "resource_access.${client_id}.roles"`
	)
	for _, tc := range []struct {
		name               string
		mappers            []string
		oidcRole, jwtRole  string
		implicit           bool   // the OIDC mount asks for the implicit flow
		wantFail, wantWarn string // the check's ID
		want               []string
	}{
		{name: "client roles, ID token off, JWT groups_claim", mappers: []string{clientRole + ", id_token: false}"},
			oidcRole: "groups_claim: " + roles, jwtRole: "groups_claim: " + roles + ", bound_audiences: [vault]",
			wantFail: "claims.groups", want: []string{"role jwt/default", roles, "not into the ID token", `failed to fetch groups: \"` + roles + `\" claim not found in token`, "a JWT login with the ID token"}},
		{name: "groups, access token off, JWT groups_claim", mappers: []string{clientRole + "}", "        - groups: {claim: groups, access_token: false}"},
			oidcRole: "groups_claim: " + roles, jwtRole: "groups_claim: groups, bound_audiences: [vault]",
			wantFail: "claims.groups", want: []string{"role jwt/default", `"groups"`, "not into the access token", "a JWT login with the access token"}},
		{name: "every token on", mappers: []string{clientRole + "}", "        - groups: {claim: groups}"},
			oidcRole: "groups_claim: " + roles, jwtRole: "groups_claim: groups, bound_audiences: [vault], bound_claims: {/groups: kv-managers}, claim_mappings: {/groups: teams}"},
		{name: "OIDC: the claim only in userinfo, which Vault merges", mappers: []string{clientRole + ", id_token: false, access_token: false, userinfo: true}", "        - groups: {claim: groups}"},
			oidcRole: "groups_claim: " + roles, jwtRole: "groups_claim: groups, bound_audiences: [vault]"},
		{name: "OIDC: the claim in neither the ID token nor userinfo", mappers: []string{clientRole + ", id_token: false, userinfo: false}", "        - groups: {claim: groups}"},
			oidcRole: "groups_claim: " + roles, jwtRole: "groups_claim: groups, bound_audiences: [vault]",
			wantFail: "claims.groups", want: []string{"role oidc/default", "not into the ID token or userinfo", "the OIDC login with the ID token merged with userinfo"}},
		{name: "OIDC implicit flow: no userinfo", mappers: []string{clientRole + ", id_token: false}", "        - groups: {claim: groups}"},
			oidcRole: "groups_claim: " + roles, jwtRole: "groups_claim: groups, bound_audiences: [vault]", implicit: true,
			wantFail: "claims.groups", want: []string{"role oidc/default", "not into the ID token:", "implicit flow"}},
		{name: "OIDC: userinfo's resource_access replaces the ID token's", mappers: []string{clientRole + ", userinfo: false}",
			`        - client_roles: {client: billing, claim: "resource_access.${client_id}.roles", id_token: false, access_token: false, userinfo: true}`, "        - groups: {claim: groups}"},
			oidcRole: "groups_claim: " + roles, jwtRole: "groups_claim: groups, bound_audiences: [vault]",
			wantWarn: "claims.groups", want: []string{"role oidc/default", `mapper "client roles billing"`, `top-level claim "resource_access"`, "userinfo"}},
		{name: "bound_claims, ID token off", mappers: []string{clientRole + ", id_token: false}", "        - groups: {claim: groups}"},
			oidcRole: "groups_claim: " + roles, jwtRole: "groups_claim: groups, bound_audiences: [vault], bound_claims: {" + roles + ": secret_manager}",
			wantFail: "claims.bound-claims", want: []string{"bound_claims key", roles, "not into the ID token", `error validating claims: claim \"` + roles + `\" is missing`}},
		{name: "claim_mappings, ID token off: Vault logs in without it", mappers: []string{"        - groups: {claim: groups}", "        - attribute: {user_attribute: department, claim: department, id_token: false}"},
			oidcRole: "groups_claim: groups", jwtRole: "groups_claim: groups, bound_audiences: [vault], claim_mappings: {department: dept}",
			wantWarn: "claims.claim-mappings", want: []string{`claim_mappings source "department"`, "not into the ID token", `no metadata "dept"`}},
		{name: "user_claim, access token off", mappers: []string{"        - groups: {claim: groups}", "        - attribute: {user_attribute: email, claim: email, access_token: false}"},
			oidcRole: "user_claim: email, groups_claim: groups", jwtRole: "user_claim: email, groups_claim: groups, bound_audiences: [vault]",
			wantFail: "claims.user-claim", want: []string{"role jwt/default", `user_claim "email"`, "not into the access token", `claim \"email\" not found in token`}},
		{name: "an audience only in the access token", mappers: []string{"        - groups: {claim: groups}", "        - audience: {client: api, id_token: false}"},
			oidcRole: "groups_claim: groups", jwtRole: "groups_claim: groups, bound_audiences: [api]",
			wantFail: "audience.jwt", want: []string{"an ID token of client vault has aud", "as a user's script sends", inspect.VaultMsgJWTAudience, "only the access token passes"}},
		{name: "an audience only in the ID token", mappers: []string{"        - groups: {claim: groups}", "        - audience: {client: api, access_token: false}"},
			oidcRole: "groups_claim: groups", jwtRole: "groups_claim: groups, bound_audiences: [api]",
			wantFail: "audience.jwt", want: []string{"an access token of client vault has aud", "as machines and client-credentials logins send", "only the ID token passes"}},
		{name: "a JWT role that binds no audiences", mappers: []string{"        - groups: {claim: groups}"},
			oidcRole: "groups_claim: groups", jwtRole: "groups_claim: groups, bound_claims: {/groups: kv-managers}",
			wantFail: "audience.jwt", want: []string{"binds no audiences", "an ID token of client vault has aud", inspect.VaultMsgJWTNoAudiences}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := strings.NewReplacer("MAPPERS", strings.Join(tc.mappers, "\n"), "OIDCROLE", tc.oidcRole, "JWTROLE", tc.jwtRole).Replace(tokensFile)
			build := func(text string) *doc {
				d := fromFile(t, text)
				if tc.implicit {
					d.live.mounts[0].cfg.OIDCResponseTypes = []string{"id_token"}
				}
				return d
			}
			r := runChecks(build(text))
			var fails, warns []string
			var hit *Check
			for i, c := range r.Checks {
				switch {
				case c.Status == Fail:
					fails = append(fails, c.ID)
				case c.Status == Warn && c.ID != "claims.empty-groups":
					warns = append(warns, c.ID)
				}
				if c.Status != OK && (c.ID == tc.wantFail || c.ID == tc.wantWarn) && hit == nil {
					hit = &r.Checks[i]
				}
			}
			wantFails, wantWarns := []string(nil), []string(nil)
			if tc.wantFail != "" {
				wantFails = []string{tc.wantFail}
			}
			if tc.wantWarn != "" {
				wantWarns = []string{tc.wantWarn}
			}
			if !slices.Equal(fails, wantFails) || !slices.Equal(warns, wantWarns) {
				t.Fatalf("failures %v, warnings %v; want %v, %v\n%+v", fails, warns, wantFails, wantWarns, r.Checks)
			}
			if hit == nil {
				return
			}
			for _, w := range tc.want {
				if !strings.Contains(hit.Message, w) {
					t.Errorf("the message lacks %q:\n%s", w, hit.Message)
				}
			}
			if hit.FixYAML == "" {
				t.Fatalf("no fix_yaml: %+v", hit)
			}
			if _, err := spec.ParseFragment("fix", []byte(hit.FixYAML)); err != nil {
				t.Fatalf("fix_yaml does not parse: %v\n%s", err, hit.FixYAML)
			}
			// Every fix of a finding, merged into the file (as --fix does,
			// the warnings' too), then applied: nothing is left.
			fixed := []byte(text)
			for _, c := range r.Checks {
				if c.Status != OK && c.FixYAML != "" {
					var err error
					if fixed, err = spec.MergeFragment(fixed, []byte(c.FixYAML)); err != nil {
						t.Fatalf("merging %s: %v\n%s", c.ID, err, c.FixYAML)
					}
				}
			}
			after := runChecks(build(string(fixed)))
			for _, c := range after.Checks {
				if c.Status == Fail || (c.Status == Warn && c.ID != "claims.empty-groups") {
					t.Errorf("after the fix: %s %s: %s\n%s", c.Status, c.ID, c.Message, fixed)
				}
			}
			// Another run on the fixed file prints no fragment that changes it.
			again := build(string(fixed))
			runChecks(again)
			for _, c := range again.rep.Checks {
				if c.FixYAML == "" {
					continue
				}
				merged, err := spec.MergeFragment(fixed, []byte(c.FixYAML))
				if err == nil && c.Status != OK {
					t.Errorf("after the fix, %s still prints a fix:\n%s\n%s", c.ID, c.FixYAML, merged)
				}
			}
		})
	}
}

// A claim written only by a default scope's mapper, into the access token
// alone (Keycloak's roles scope): the JWT role fails on the ID token, the
// OIDC role on the ID token and userinfo, and the fix gives the client its
// own copy of the scope's mapper, writing every token.
func TestScopeOnlyClaimFixCopiesTheMapper(t *testing.T) {
	d := healthy()
	*d.live.client.Client.ProtocolMappers = slices.DeleteFunc(*d.live.client.Client.ProtocolMappers, func(m gocloak.ProtocolMapperRepresentation) bool {
		return deref(m.Name) == "client roles vault"
	})
	d.live.mounts[1].roles["bygroup"].GroupsClaim = "/resource_access/vault/roles"
	d.live.mounts[1].view.Aliases = nil
	d.t.Sites = nil
	d.live.tokens = model(d.live.client)
	r := runChecks(d)
	var msgs []string
	fixes := map[string]bool{}
	for _, c := range r.Checks {
		if c.Status == Fail {
			msgs = append(msgs, c.ID+": "+c.Message)
			fixes[c.FixYAML] = true
		}
	}
	if len(msgs) != 2 || !strings.Contains(msgs[0], "role oidc/default") || !strings.Contains(msgs[0], "not into the ID token or userinfo") ||
		!strings.Contains(msgs[1], "role jwt/bygroup") || !strings.Contains(msgs[1], "not into the ID token:") {
		t.Fatalf("failures:\n%s", strings.Join(msgs, "\n"))
	}
	if len(fixes) != 1 {
		t.Fatalf("the two roles' fixes differ, so merged one after the other they would not agree: %v", slices.Collect(maps.Keys(fixes)))
	}
	for fix := range fixes {
		f, err := spec.ParseFragment("fix", []byte(fix))
		if err != nil {
			t.Fatalf("%v\n%s", err, fix)
		}
		m := f.Keycloak.Clients[0].Mappers[0]
		km := keycloak.ExpandMapper(m, "vault", spec.ProtocolOIDC)
		if km.Name != "client roles vault" || km.Config["usermodel.clientRoleMapping.clientId"] != "vault" || km.Config["id.token.claim"] != "true" || km.Config["userinfo.token.claim"] != "true" {
			t.Fatalf("the copy: %+v\n%s", km, fix)
		}
		*d.live.client.Client.ProtocolMappers = append(*d.live.client.Client.ProtocolMappers, mapperRep(km.Name, km.ProtocolMapper, km.Config))
	}
	d.live.tokens, d.rep = model(d.live.client), &Report{}
	if f := failures(runChecks(d)); len(f) != 0 {
		t.Errorf("after the fix: failures %v", f)
	}
}

// The readings Vault merges: userinfo's top-level claims replace the ID
// token's, whole; the access token is never read on an OIDC path.
func TestSeeMergesAsVault(t *testing.T) {
	m := tokenModel{claims: []claim{
		{pointer: "/a/x", id: true},
		{pointer: "/a/y", userinfo: true},
		{pointer: "/b", access: true},
		{pointer: "/c", userinfo: true},
	}}
	oidc := loginPaths[pathOIDC].readings[0]
	for p, want := range map[string]string{"/a/x": "replaced", "/a/y": "found", "/b": "missing", "/c": "found", "/d": "missing"} {
		s := m.see(oidc, p)
		got := "found"
		switch {
		case len(s.from) == 0:
			got = "missing"
		case len(s.replacedBy) > 0:
			got = "replaced"
		}
		if got != want {
			t.Errorf("%s: %s, want %s", p, got, want)
		}
	}
	if s := m.see(loginPaths[pathJWT].readings[1], "/b"); len(s.from) != 1 {
		t.Errorf("the JWT login with the access token reads /b: %+v", s)
	}
	if s := m.see(loginPaths[pathJWT].readings[0], "/c"); len(s.from) != 0 {
		t.Errorf("a JWT login never reads userinfo: %+v", s)
	}
}
