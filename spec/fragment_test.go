package spec

import (
	"strings"
	"testing"
)

const fileWithComments = `# the demo
keycloak:
  url: http://kc   # the server
  realm: demo
  clients:
    - client_id: vault
      redirect_uris: [http://a/cb]
      mappers:
        - audience: vault
        - client_roles: {claim: roles}   # flat
    - client_id: other
vault:
  addr: http://v
  auth:
    - path: jwt
      type: jwt
      discovery_url: http://kc/realms/demo
      roles:
        default:
          groups_claim: resource_access.vault.roles  # dotted
          bound_audiences: [vault]
      groups:
        - {name: managers, alias: /managers}
`

func TestMergeFragment(t *testing.T) {
	fixes := []string{
		"keycloak:\n  clients:\n    - client_id: vault\n      mappers:\n        - client_roles: {client: vault, claim: \"resource_access.${client_id}.roles\", id_token: true}\n",
		"keycloak:\n  clients:\n    - client_id: vault\n      redirect_uris: [http://localhost:8250/oidc/callback, http://a/cb]\n",
		"vault:\n  auth:\n    - path: jwt\n      roles:\n        default:\n          groups_claim: /resource_access/vault/roles\n",
		"vault:\n  auth:\n    - path: jwt\n      groups:\n        - {name: managers, alias: managers}\n",
		"keycloak:\n  clients:\n    - client_id: new-app\n      userinfo_signed: false\n",
	}
	text := []byte(fileWithComments)
	for _, fix := range fixes {
		var err error
		if text, err = MergeFragment(text, []byte(fix)); err != nil {
			t.Fatalf("%v\n%s", err, fix)
		}
	}
	out := string(text)
	for _, want := range []string{"# the demo", "# the server", "# flat", "/resource_access/vault/roles # dotted", "http://localhost:8250/oidc/callback", "groups_claim: /resource_access/vault/roles",
		"alias: managers", "client_id: new-app"} {
		if !strings.Contains(out, want) {
			t.Errorf("merged file lacks %q:\n%s", want, out)
		}
	}
	f, err := Parse("merged.yaml", text, nil)
	if err != nil {
		t.Fatalf("the merged file does not load: %v\n%s", err, out)
	}
	vc := f.Keycloak.Client("vault")
	if len(vc.Mappers) != 2 || vc.Mappers[1].ClientRoles.IDToken == nil || len(vc.RedirectURIs) != 2 {
		t.Errorf("mapper replaced by name, URIs merged as a set: %+v %v", vc.Mappers, vc.RedirectURIs)
	}
	if strings.Index(out, "keycloak:") > strings.Index(out, "vault:\n") {
		t.Error("the order of sections changed")
	}
	if _, err := MergeFragment(text, []byte("keycloak:\n  bogus: 1\n")); err == nil || !strings.Contains(err.Error(), `unknown key "bogus"`) {
		t.Errorf("a fragment with an unknown key: %v", err)
	}
}

func TestParseFragmentAndTheDollarHint(t *testing.T) {
	if _, err := ParseFragment("fix", []byte("keycloak:\n  clients:\n    - client_id: vault\n      mappers:\n        - audience: vault\n")); err != nil {
		t.Fatal(err)
	}
	// The common mistake: ${…} unquoted inside a flow mapping.
	_, err := Parse("sso.yaml", []byte("keycloak:\n  url: http://kc\n  realm: r\n  clients:\n    - client_id: v\n      mappers:\n        - client_roles: {claim: resource_access.${client_id}.roles}\n"), nil)
	if err == nil || !strings.Contains(err.Error(), "sso.yaml:7") || !strings.Contains(err.Error(), `quote it: claim: "resource_access.${client_id}.roles"`) {
		t.Errorf("unquoted ${…}: %v", err)
	}
}
