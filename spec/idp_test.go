package spec

import (
	"fmt"
	"strings"
	"testing"
)

func TestIdPExampleParses(t *testing.T) {
	f, err := Load("../examples/broker.yaml", nil, env("KEYCLOAK_URL", "http://kc:8080"))
	if err != nil {
		t.Fatal(err)
	}
	p := f.Keycloak.IdentityProviders[0]
	if p.Alias != "corp" || p.SyncMode != "FORCE" || len(p.Mappers) != 4 || p.Mappers[1].ClaimToRole.Role != "app/manager" {
		t.Fatalf("provider = %+v", p)
	}
	if got := p.Mappers[0].MapperName(); got != "group /operators from groups=ops" {
		t.Fatalf("derived name %q", got)
	}
}

func TestIdPValidation(t *testing.T) {
	const ok = "identity_providers:\n    - alias: corp\n      type: oidc\n      issuer: http://up/realms/u\n      client_id: c\n      client_secret_env: S\n"
	cases := []struct {
		body, want string
		line       int
	}{
		{"identity_providers:\n    - alias: corp\n      type: okta\n", "want one of oidc", 6},
		{"identity_providers:\n    - type: oidc\n", "alias is required", 5},
		{ok + "    - alias: corp\n      type: github\n      client_id: c\n      client_secret_env: S\n", "declared twice", 10},
		{ok + "      sync_mode: ALWAYS\n", "sync_mode", 10},
		{"identity_providers:\n    - alias: corp\n      type: oidc\n      client_id: c\n      client_secret_env: S\n", "issuer is required", 5},
		{"identity_providers:\n    - alias: a/b\n      type: github\n      client_id: c\n      client_secret_env: S\n", "broker's URL", 5},
		{"identity_providers:\n    - alias: s\n      type: saml\n", "metadata_url, or entity_id", 5},
		{"identity_providers:\n    - alias: g\n      type: github\n      client_id: c\n      client_secret_env: S\n      mappers:\n        - claim_to_group: {claim: groups, value: ops, group: /ops}\n",
			"reads a token claim", 10},
		{ok + "      mappers:\n        - claim_to_group: {claim: groups, value: ops, group: ops}\n", "by its path", 11},
		{ok + "      mappers:\n        - hardcoded_group: {group: /a}\n          attribute: {claim: c, user_attribute: u}\n", "exactly one", 11},
		{ok + "      mappers:\n        - hardcoded_group: {group: /a}\n        - hardcoded_group: {group: /a}\n", "declared twice", 12},
		{ok + "      client_secret_env: not a var\n", "not a variable name", 10},
		{ok + "      display_name: " + strings.Repeat("x", MaxIdPString+1) + "\n", "at most 2048", 10},
	}
	for _, c := range cases {
		src := "keycloak:\n  url: http://kc\n  realm: r\n  " + c.body
		_, err := Parse("sso.yaml", []byte(src), env())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err = %v, want %q", c.body, err, c.want)
			continue
		}
		if want := fmt.Sprintf("sso.yaml:%d:", c.line); !strings.Contains(err.Error(), want) {
			t.Errorf("%q: want %s in %v", c.body, want, err)
		}
	}
	var many strings.Builder
	many.WriteString("identity_providers:\n")
	for i := range MaxIdentityProviders + 1 {
		fmt.Fprintf(&many, "    - {alias: p%d, type: github, client_id: c, client_secret_env: S}\n", i)
	}
	if _, err := Parse("sso.yaml", []byte("keycloak:\n  url: http://kc\n  realm: r\n  "+many.String()), env()); err == nil || !strings.Contains(err.Error(), "at most 50") {
		t.Fatalf("51 providers: %v", err)
	}
}
