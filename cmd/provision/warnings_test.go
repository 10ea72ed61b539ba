package provision

import (
	"strings"
	"testing"

	"github.com/ssoctl/ssoctl/inspect"
	"github.com/ssoctl/ssoctl/spec"
)

func TestClaimPointer(t *testing.T) {
	for in, want := range map[string]string{
		"resource_access.vault.roles": "/resource_access/vault/roles",
		"groups":                      "/groups",
		`https://example\.com/claims`: "/https:~1~1example.com~1claims",
		"resource_access.a\\.b.roles": "/resource_access/a.b/roles",
	} {
		if got := inspect.KeycloakClaimPointer(in).String(); got != want {
			t.Errorf("ClaimPointer(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAliasWarnings(t *testing.T) {
	f, err := spec.Parse("sso.yaml", []byte(`
keycloak:
  url: http://kc
  realm: demo
  clients:
    - client_id: vault
      roles: [secret_reader, secret_manager]
      mappers:
        - client_roles: {client: vault}
        - groups: {claim: groups, full_path: true}
  groups:
    - {name: kv-managers}
vault:
  addr: http://v
  auth:
    - path: jwt
      type: jwt
      roles:
        byroles: {groups_claim: /resource_access/vault/roles, bound_audiences: [vault]}
      groups:
        - {name: ok, alias: secret_manager}
        - {name: wrong, alias: kv-managers}
    - path: jwt2
      type: jwt
      roles:
        bygroups: {groups_claim: groups, bound_audiences: [vault]}
      groups:
        - {name: nopath, alias: kv-managers}
        - {name: withpath, alias: /kv-managers}
    # Two roles, two claims: an alias one of them can carry is fine.
    - path: jwt3
      type: jwt
      roles:
        byroles: {groups_claim: /resource_access/vault/roles, bound_audiences: [vault]}
        bygroups: {groups_claim: groups, bound_audiences: [vault]}
      groups:
        - {name: either1, alias: secret_manager}
        - {name: either2, alias: /kv-managers}
        - {name: neither, alias: admins}
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	ws := AliasWarnings(f.Vault, f.Keycloak)
	joined := strings.Join(ws, "\n")
	if len(ws) != 3 {
		t.Fatalf("want 3 warnings, got %d:\n%s", len(ws), joined)
	}
	if !strings.Contains(joined, `group "neither": alias "admins" never matches groups_claim "groups", which carries group names: [/kv-managers], nor groups_claim "/resource_access/vault/roles", which carries the roles of client vault: [secret_reader secret_manager]`) {
		t.Errorf("missing two-claim warning:\n%s", joined)
	}
	if !strings.Contains(joined, `group "wrong": alias "kv-managers" never matches groups_claim "/resource_access/vault/roles", which carries the roles of client vault: [secret_reader secret_manager]`) {
		t.Errorf("missing role warning:\n%s", joined)
	}
	if !strings.Contains(joined, `group "nopath"`) || strings.Count(joined, "full_path") != 1 {
		t.Errorf("missing full-path warning:\n%s", joined)
	}
}

// Claims that come from scopes count: a groups mapper in one of the
// client's default scopes, and the built-in roles scope's client roles.
func TestAliasWarningsSeeScopes(t *testing.T) {
	f, err := spec.Parse("sso.yaml", []byte(`
keycloak:
  url: http://kc
  realm: demo
  client_scopes:
    - name: vault-groups
      mappers:
        - groups: {claim: teams}
  clients:
    - client_id: vault
      roles: [secret_manager]
      default_scopes: [profile, roles, vault-groups]
  groups:
    - {name: kv-managers}
vault:
  addr: http://v
  auth:
    - path: jwt
      type: jwt
      roles:
        byteams: {groups_claim: teams, bound_audiences: [vault]}
        byroles: {groups_claim: /resource_access/vault/roles, bound_audiences: [vault]}
      groups:
        - {name: team, alias: kv-managers}
        - {name: role, alias: secret_manager}
        - {name: wrong, alias: nobody}
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	ws := AliasWarnings(f.Vault, f.Keycloak)
	if len(ws) != 1 || !strings.Contains(ws[0], `group "wrong"`) || !strings.Contains(ws[0], "group names: [kv-managers]") || !strings.Contains(ws[0], "the roles of client vault: [secret_manager]") {
		t.Errorf("warnings %q", ws)
	}
}
