package cmd

import (
	"slices"
	"strings"
	"testing"
)

func TestNewCmdAuthz(t *testing.T) {
	env := map[string]string{"KEYCLOAK_URL": "http://kc"}
	got, err := parse(t, newKeycloakAuthzCmd, env, "--realm", "shop", "--client", "shop", "--user", "nora", "--scope", "a", "--scope", "b", "--resource", "inventory", "--explain")
	if err != nil || got.Client != "shop" || got.User != "nora" || !slices.Equal(got.Scopes, []string{"a", "b"}) || got.Resource != "inventory" || !got.Explain || got.URL != "http://kc" {
		t.Errorf("keycloak authz: %+v %v", got, err)
	}
	if _, err := parse(t, newKeycloakAuthzCmd, env, "--realm", "shop", "--client", "shop"); err == nil || !strings.Contains(err.Error(), "--client and --user are required") {
		t.Errorf("without --user: %v", err)
	}
	ex, err := parse(t, newExportAuthzCmd, env, "--realm", "shop", "--client", "shop", "--out", "a.json")
	if err != nil || ex.Client != "shop" || ex.Out != "a.json" {
		t.Errorf("export authz: %+v %v", ex, err)
	}
	if _, err := parse(t, newExportAuthzCmd, env, "--realm", "shop"); err == nil || !strings.Contains(err.Error(), "--client is required") {
		t.Errorf("export authz without --client: %v", err)
	}
	if pk, err := parse(t, newKeycloakPublicKeyCmd, env, "--realm", "shop"); err != nil || pk.Realm != "shop" {
		t.Errorf("public-key: %+v %v", pk, err)
	}
	if _, err := parse(t, newKeycloakPublicKeyCmd, nil, "--realm", "shop"); err == nil || exitCode(err) != ExitUsage {
		t.Errorf("public-key without a server: %v", err)
	}
}
