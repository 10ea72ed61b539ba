//go:build integration

package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ssoctl/ssoctl/testbed"
)

// runEnv runs ssoctl with a fixed environment and stdin.
func runEnv(t *testing.T, env map[string]string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	ios, in, out, errOut := TestIO()
	in.WriteString(stdin)
	f := NewFactory(ios)
	f.Getenv = func(k string) string { return env[k] }
	code := Run(f, args)
	return code, out.String(), errOut.String()
}

// runTTY is runEnv with stdout and stderr on a terminal.
func runTTY(t *testing.T, env map[string]string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	ios, in, out, errOut := TestIO()
	ios.SetTTY(false, true, true)
	in.WriteString(stdin)
	f := NewFactory(ios)
	f.Getenv = func(k string) string { return env[k] }
	code := Run(f, args)
	return code, out.String(), errOut.String()
}

// demoFile writes examples/sso.yaml with its realm renamed to a fresh one,
// and deletes that realm when the test ends.
func demoFile(t *testing.T, env testbed.Env, example string) (path, realm string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "examples", example))
	if err != nil {
		t.Fatal(err)
	}
	realm = fmt.Sprintf("cli-%d", time.Now().UnixNano()%1e9)
	data = []byte(strings.Replace(string(data), "realm: demo", "realm: "+realm, 1))
	path = filepath.Join(t.TempDir(), "sso.yaml")
	os.WriteFile(path, data, 0o600)
	t.Cleanup(func() {
		env.DeleteRealm(context.Background(), realm)
	})
	return path, realm
}

func testEnv(env testbed.Env) map[string]string {
	return map[string]string{
		"KEYCLOAK_URL": env.KeycloakURL, "KEYCLOAK_ADMIN": env.KeycloakAdmin, "KEYCLOAK_ADMIN_PASSWORD": env.KeycloakAdminPassword,
		"VAULT_ADDR": env.VaultAddr, "VAULT_TOKEN": env.VaultToken,
		"ALICE_PASSWORD": "alice-Pw-1", "BOB_PASSWORD": "bob-Pw-2", "CAROL_PASSWORD": "carol-Pw-3",
	}
}

func TestIntegrationCLIPlanApplyExitCodes(t *testing.T) {
	tb := testbed.Load(t)
	env := testEnv(tb)
	path, realm := demoFile(t, tb, "sso.yaml")

	code, stdout, stderr := runEnv(t, env, "", "plan", "-f", path, "--only", "keycloak", "--detailed-exitcode")
	if code != ExitChanges || !strings.Contains(stdout, "+ keycloak realm "+realm) {
		t.Fatalf("plan on an empty server: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if strings.Contains(stdout, "alice-Pw-1") {
		t.Fatal("plan leaks a user password")
	}
	code, stdout, stderr = runEnv(t, env, "", "apply", "-f", path, "--only", "keycloak")
	if code != 0 || !strings.Contains(stdout, "Apply complete:") || !strings.Contains(stderr, "created client "+realm+"/vault") {
		t.Fatalf("apply: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, _ = runEnv(t, env, "", "plan", "-f", path, "--only", "keycloak", "--detailed-exitcode", "-o", "json")
	var doc struct {
		Changes []struct{ Action string } `json:"changes"`
		Summary map[string]int            `json:"summary"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &doc) != nil || doc.Summary["create"]+doc.Summary["update"] != 0 || len(doc.Changes) == 0 {
		t.Fatalf("plan after apply: exit %d, %s", code, stdout)
	}
	for _, c := range doc.Changes {
		if c.Action != "no-op" {
			t.Fatalf("action %q after apply", c.Action)
		}
	}

	// The token pipes: -o json prints the whole response; the password comes from stdin.
	code, stdout, stderr = runEnv(t, env, "alice-Pw-1\n", "keycloak", "token", "--realm", realm, "--client", "vault", "--user", "alice", "-o", "json")
	var tok map[string]any
	if code != 0 || json.Unmarshal([]byte(stdout), &tok) != nil || !strings.HasPrefix(tok["id_token"].(string), "eyJ") {
		t.Fatalf("keycloak token: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// On a terminal the token is masked; piped it is whole (above).
	code, stdout, _ = runTTY(t, env, "alice-Pw-1\n", "keycloak", "token", "--realm", realm, "--client", "vault", "--user", "alice")
	if code != 0 || !strings.Contains(stdout, "…") || strings.Contains(stdout, tok["access_token"].(string)[:40]) {
		t.Fatalf("keycloak token on a terminal: exit %d %q", code, stdout)
	}
	code, stdout, _ = runTTY(t, env, "alice-Pw-1\n", "--show-secrets", "keycloak", "token", "--realm", realm, "--client", "vault", "--user", "alice")
	if code != 0 || !strings.HasPrefix(stdout, "eyJ") || strings.Contains(stdout, "…") {
		t.Fatalf("--show-secrets on a terminal: exit %d %q", code, stdout)
	}
	code, stdout, _ = runEnv(t, env, "wrong\n", "keycloak", "token", "--realm", realm, "--client", "vault", "--user", "alice")
	if code != ExitFailure || stdout != "" {
		t.Fatalf("wrong user password: exit %d, stdout %q", code, stdout)
	}

	code, stdout, _ = runEnv(t, env, "", "keycloak", "descriptor", "--realm", realm)
	if code != 0 || !strings.Contains(stdout, "EntityDescriptor") {
		t.Fatalf("descriptor: exit %d %.200s", code, stdout)
	}
	code, stdout, _ = runEnv(t, env, "", "export", "keycloak", "--realm", realm, "--client", "vault")
	if code != 0 || !strings.Contains(stdout, "- audience: vault") {
		t.Fatalf("export: exit %d\n%s", code, stdout)
	}
}

func TestIntegrationCLIServerErrors(t *testing.T) {
	tb := testbed.Load(t)
	env := testEnv(tb)
	path, _ := demoFile(t, tb, "sso.yaml")

	dead := testEnv(tb)
	dead["KEYCLOAK_URL"] = "http://127.0.0.1:1"
	code, _, stderr := runEnv(t, dead, "", "plan", "-f", path)
	if code != ExitFailure || !strings.Contains(stderr, "http://127.0.0.1:1") || !strings.Contains(stderr, "connection refused") {
		t.Fatalf("unreachable Keycloak: exit %d, stderr %q", code, stderr)
	}

	bad := testEnv(tb)
	bad["KEYCLOAK_ADMIN_PASSWORD"] = "not-the-password-42"
	code, _, stderr = runEnv(t, bad, "", "plan", "-f", path)
	if code != ExitFailure || !strings.Contains(stderr, `realm "master"`) || !strings.Contains(stderr, "$KEYCLOAK_ADMIN_PASSWORD") || strings.Contains(stderr, "not-the-password-42") {
		t.Fatalf("401: exit %d, stderr %q", code, stderr)
	}

	missing := testEnv(tb)
	delete(missing, "KEYCLOAK_ADMIN_PASSWORD")
	code, _, stderr = runEnv(t, missing, "", "plan", "-f", path)
	if code != ExitUsage || !strings.Contains(stderr, "KEYCLOAK_ADMIN_PASSWORD") {
		t.Fatalf("no credentials: exit %d, stderr %q", code, stderr)
	}

	nopw := testEnv(tb)
	delete(nopw, "ALICE_PASSWORD")
	code, _, stderr = runEnv(t, nopw, "", "apply", "-f", path, "--only", "keycloak")
	if code != ExitUsage || !strings.Contains(stderr, "ALICE_PASSWORD") {
		t.Fatalf("missing user password: exit %d, stderr %q", code, stderr)
	}
	// Nothing was written: the realm still does not exist.
	code, stdout, _ := runEnv(t, env, "", "plan", "-f", path, "--only", "keycloak", "--detailed-exitcode")
	if code != ExitChanges || !strings.Contains(stdout, "+ keycloak realm") {
		t.Fatalf("apply with a missing secret wrote something: %s", stdout)
	}
}
