package keycloak

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

// vaultClientRep is GET clients?clientId=vault as Keycloak 26 answers it
// (trimmed to the fields the view reads): an audience mapper, a client
// roles mapper with Keycloak's default ${client_id} claim, and the logout
// attributes.
const vaultClientRep = `[{"id":"c-1","clientId":"vault","protocol":"openid-connect","enabled":true,"publicClient":false,"bearerOnly":false,
"standardFlowEnabled":true,"directAccessGrantsEnabled":false,"rootUrl":"","redirectUris":["http://127.0.0.1:8200/ui/vault/auth/oidc/oidc/callback"],
"attributes":{"post.logout.redirect.uris":"+##https://vault.example/out","backchannel.logout.url":"https://vault.example/bc","backchannel.logout.session.required":"true"},
"protocolMappers":[
 {"id":"m-1","name":"audience vault","protocol":"openid-connect","protocolMapper":"oidc-audience-mapper",
  "config":{"included.client.audience":"vault","id.token.claim":"true","access.token.claim":"false","introspection.token.claim":"false","lightweight.claim":"false"}},
 {"id":"m-2","name":"vault roles","protocol":"openid-connect","protocolMapper":"oidc-usermodel-client-role-mapper",
  "config":{"usermodel.clientRoleMapping.clientId":"vault.app","claim.name":"resource_access.${client_id}.roles","jsonType.label":"String","multivalued":"true",
   "id.token.claim":"true","access.token.claim":"true","userinfo.token.claim":"false","introspection.token.claim":"true","lightweight.claim":"false"}}]}]`

func TestReadClientTypedView(t *testing.T) {
	rec := newRecorder(t, map[string]reply{
		"GET /admin/realms/demo/clients?clientId=vault":                                    {Body: vaultClientRep},
		"GET /admin/realms/demo/clients/c-1/roles?briefRepresentation=true&first=0&max=-1": {Body: `[{"id":"r2","name":"secret_reader"},{"id":"r1","name":"admin"}]`},
		"GET /admin/realms/demo/client-scopes": {Body: `[
 {"id":"s-1","name":"profile","protocol":"openid-connect","protocolMappers":[{"id":"pm","name":"full name","protocol":"openid-connect","protocolMapper":"oidc-full-name-mapper",
  "config":{"id.token.claim":"true","access.token.claim":"true","userinfo.token.claim":"true","introspection.token.claim":"true"}}]},
 {"id":"s-2","name":"groups","protocol":"openid-connect","protocolMappers":[{"id":"gm","name":"groups","protocol":"openid-connect","protocolMapper":"oidc-group-membership-mapper",
  "config":{"claim.name":"groups","full.path":"true","id.token.claim":"false","access.token.claim":"true","userinfo.token.claim":"true"}}]}]`},
		"GET /admin/realms/demo/clients/c-1/default-client-scopes":  {Body: `[{"id":"s-1","name":"profile"}]`},
		"GET /admin/realms/demo/clients/c-1/optional-client-scopes": {Body: `[{"id":"s-2","name":"groups"}]`},
	})
	v, err := adminOf(rec).ReadClient(context.Background(), "demo", "vault")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(v.Roles, []string{"admin", "secret_reader"}) || len(v.DefaultScopes) != 1 || len(v.OptionalScopes) != 1 || v.OptionalScopes[0].Name != "groups" {
		t.Fatalf("roles %v, default %v, optional %v", v.Roles, v.DefaultScopes, v.OptionalScopes)
	}

	s := v.Settings()
	if s.ClientID != "vault" || !s.Enabled || s.PublicClient || !s.StandardFlow || s.DirectGrants || s.BackchannelLogoutURL != "https://vault.example/bc" ||
		!s.BackchannelLogoutSessionRequired || !slices.Equal(s.PostLogoutRedirectURIs, []string{"+", "https://vault.example/out"}) || len(s.RedirectURIs) != 1 {
		t.Errorf("settings: %+v", s)
	}
	if !v.HasMapper("vault roles") || v.HasMapper("groups") {
		t.Error("HasMapper: the client's own mappers only")
	}

	m := v.Tokens()
	if !slices.Equal(m.IDAud, []string{"vault"}) || len(m.AccessAud) != 0 {
		t.Errorf("audiences: id %v, access %v", m.IDAud, m.AccessAud)
	}
	byName := map[string]TokenClaim{}
	for _, c := range m.Claims {
		byName[c.Name] = c
	}
	roles, ok := byName[`resource_access.vault\.app.roles`]
	if !ok || roles.RoleClient != "vault.app" || roles.Index != 1 || roles.Scope != "" || !roles.ID || !roles.Access || roles.Userinfo {
		t.Errorf("client roles claim: %+v (claims %v)", roles, m.Claims)
	}
	if name := byName["name"]; name.Scope != "profile" || name.Index != -1 || !name.Userinfo {
		t.Errorf("full name claim from the default scope: %+v", name)
	}
	if _, ok := byName["groups"]; ok {
		t.Error("an optional scope's mapper is in the token model")
	}
	if sub := byName["sub"]; sub.Mapper != "(always)" || !sub.Userinfo || byName["exp"].Userinfo {
		t.Errorf("always-written claims: sub %+v, exp %+v", sub, byName["exp"])
	}

	tc := v.TokenClient()
	var kinds []string
	for _, mp := range tc.Mappers {
		switch {
		case mp.Audience != nil:
			kinds = append(kinds, "audience:"+mp.Audience.Client)
		case mp.ClientRoles != nil:
			kinds = append(kinds, "client_roles:"+mp.ClientRoles.Client)
		case mp.Raw != nil:
			kinds = append(kinds, "raw:"+mp.Raw.ProtocolMapper)
		}
	}
	if got := strings.Join(kinds, " "); got != "audience:vault client_roles:vault.app raw:oidc-full-name-mapper" {
		t.Errorf("TokenClient's mappers: %s", got)
	}
	if ex := v.Export(); ex.ClientID != "vault" || len(ex.Mappers) != 2 {
		t.Errorf("Export: %+v", ex)
	}
}

func TestReadClientMissing(t *testing.T) {
	rec := newRecorder(t, map[string]reply{
		"GET /admin/realms/demo/clients?clientId=nope": {Body: `[{"id":"c-9","clientId":"nope-2"}]`},
		"GET /admin/realms/gone/clients?clientId=nope": {Status: 404, Body: `{"error":"Realm not found."}`},
	})
	a := adminOf(rec)
	var nf *NotFoundError
	if _, err := a.ReadClient(context.Background(), "demo", "nope"); !errors.As(err, &nf) || !strings.Contains(err.Error(), `client "nope" in realm "demo"`) {
		t.Errorf("a client search that finds only a longer id: %v", err)
	}
	if _, err := a.ReadClient(context.Background(), "gone", "nope"); !errors.As(err, &nf) || !strings.Contains(err.Error(), `realm "gone"`) {
		t.Errorf("a missing realm: %v", err)
	}
}
