package inspect

import (
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/ssoctl/ssoctl/spec"
)

var snippet = regexp.MustCompile("`([^`]+)`")

// Every sso.yaml line a fix prints parses: a mapper item as a client's
// mapper, a key: value as YAML.
func TestEveryPrintedFixParses(t *testing.T) {
	var fixes []string
	k := testKeys(t)
	jwks := mustKeySet(t, jwksJSON(t, jwkOf(t, &k.rsaA.PublicKey, map[string]any{"kid": "a", "alg": "RS256", "use": "sig"})))
	for _, tc := range vaultCases(t) {
		tok, v, err := tc.evaluate(t, k, jwks)
		if err != nil {
			continue
		}
		for _, f := range v.Findings {
			fixes = append(fixes, f.Fix)
		}
		for _, f := range KeycloakFindings(tok) {
			fixes = append(fixes, f.Fix)
		}
	}
	fixes = append(fixes, clientRolesFix("vault-dev"), clientRolesFix("a.b"))
	parsed := 0
	for _, fix := range fixes {
		for _, m := range snippet.FindAllStringSubmatch(fix, -1) {
			s := m[1]
			switch {
			case strings.HasPrefix(s, "- ") && strings.Contains(s, ": "):
				frag := "keycloak:\n  clients:\n    - client_id: vault-dev\n      mappers:\n        " + s + "\n"
				if _, err := spec.ParseFragment("fix", []byte(frag)); err != nil {
					t.Errorf("the mapper in this fix does not parse as sso.yaml: %s\n%v\n(fix: %s)", s, err, fix)
				}
				parsed++
			case strings.HasPrefix(s, "client_scopes:"):
				if _, err := spec.ParseFragment("fix", []byte("keycloak:\n  "+s+"\n")); err != nil {
					t.Errorf("the scope in this fix does not parse as sso.yaml: %s\n%v", s, err)
				}
				parsed++
			case strings.Contains(s, ": ") && !strings.Contains(s, "vault ") && !strings.HasPrefix(s, "users:"):
				var v any
				if err := yaml.Unmarshal([]byte(s), &v); err != nil {
					t.Errorf("this fix's YAML does not parse: %s: %v", s, err)
				}
				parsed++
			}
		}
	}
	if parsed < 10 {
		t.Fatalf("only %d fix snippets were checked", parsed)
	}
}
