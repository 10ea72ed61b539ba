package doctor

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ssoctl/ssoctl/spec"
)

// The file's targets: a Rancher-only file checks the SAML client; a mount
// that trusts another realm is not this file's to check.
func TestFileTargets(t *testing.T) {
	getenv := func(k string) string {
		return map[string]string{"KEYCLOAK_URL": "http://kc", "VAULT_ADDR": "http://v"}[k]
	}
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", "rancher.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := spec.Parse("rancher.yaml", data, getenv)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := FileTargets(f)
	if err != nil || len(ts) != 1 || ts[0].Client != "https://rancher.example.com/v1-saml/keycloak/saml/metadata" || ts[0].Rancher == nil {
		t.Fatalf("rancher.yaml: %+v %v", ts, err)
	}
	data, err = os.ReadFile(filepath.Join("..", "..", "examples", "sso.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	other := strings.Replace(string(data), "      description: Keycloak realm demo (JWT)\n", "      description: another realm\n      discovery_url: http://kc/realms/other\n", 1)
	if f, err = spec.Parse("sso.yaml", []byte(other), getenv); err != nil {
		t.Fatal(err)
	}
	ts, err = FileTargets(f)
	if err != nil || len(ts) != 1 || ts[0].Client != "vault" || len(ts[0].Mounts) != 1 || ts[0].Mounts[0].Path != "oidc" || !slices.Equal(ts[0].Mounts[0].Roles, []string{"default"}) {
		t.Errorf("sso.yaml with jwt/ trusting another realm: %+v %v", ts, err)
	}
}
