//go:build integration

package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/testbed"
)

// smallFile writes an sso.yaml for a fresh realm named prefix-N, applies
// it, and deletes the realm when the test ends.
func smallFile(t *testing.T, tb testbed.Env, env map[string]string, prefix, body string) (path, realm string) {
	t.Helper()
	realm = fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano()%1e9)
	path = filepath.Join(t.TempDir(), "sso.yaml")
	if err := os.WriteFile(path, []byte("keycloak:\n  realm: "+realm+"\n  create_realm: true\n"+body), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tb.DeleteRealm(context.Background(), realm) })
	if code, stdout, stderr := runEnv(t, env, "", "apply", "-f", path, "--only", "keycloak"); code != 0 {
		t.Fatalf("apply: exit %d\n%s\n%s", code, stdout, stderr)
	}
	return path, realm
}

// apply --prune --dry-run counts the deletion that apply --prune makes,
// in the text and the JSON summary, and deletes nothing.
func TestIntegrationSmallDryRunPrune(t *testing.T) {
	tb := testbed.Load(t)
	env := testEnv(tb)
	both := "  clients:\n    - client_id: keep\n      redirect_uris: [http://localhost:8000/cb]\n    - client_id: dropped\n      redirect_uris: [http://localhost:8001/cb]\n"
	path, realm := smallFile(t, tb, env, "small-dryrun", both)
	os.WriteFile(path, []byte(strings.Replace(string(mustRead(t, path)), "    - client_id: dropped\n      redirect_uris: [http://localhost:8001/cb]\n", "", 1)), 0o600)

	exists := func() bool {
		var found []map[string]any
		if err := tb.KeycloakAdminRequest(context.Background(), http.MethodGet, "/"+url.PathEscape(realm)+"/clients?clientId=dropped", nil, &found); err != nil {
			t.Fatal(err)
		}
		return len(found) == 1
	}
	code, stdout, stderr := runEnv(t, env, "", "apply", "-f", path, "--only", "keycloak", "--prune", "--dry-run")
	if code != 0 || !strings.Contains(stdout, "- keycloak client "+realm+"/dropped\n") || !strings.Contains(stdout, ", 1 to delete,") ||
		strings.Contains(stdout, "apply --prune would delete") || !exists() {
		t.Fatalf("apply --prune --dry-run: exit %d, client still there: %v\n%s\n%s", code, exists(), stdout, stderr)
	}
	code, stdout, _ = runEnv(t, env, "", "apply", "-f", path, "--only", "keycloak", "--prune", "--dry-run", "-o", "json")
	var doc struct {
		Summary map[string]int `json:"summary"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &doc) != nil || doc.Summary["delete"] != 1 || !exists() {
		t.Fatalf("apply --prune --dry-run -o json: exit %d\n%s", code, stdout)
	}
	// Without --prune the dry run deletes nothing and says so.
	code, stdout, _ = runEnv(t, env, "", "apply", "-f", path, "--only", "keycloak", "--dry-run")
	if code != 0 || !strings.Contains(stdout, ", 0 to delete,") || !strings.Contains(stdout, "apply --prune would delete:\n- keycloak client "+realm+"/dropped\n") {
		t.Fatalf("apply --dry-run: exit %d\n%s", code, stdout)
	}
	// The apply it previewed deletes exactly that.
	code, stdout, _ = runEnv(t, env, "", "apply", "-f", path, "--only", "keycloak", "--prune")
	if code != 0 || !strings.Contains(stdout, ", 1 deleted.") || exists() {
		t.Fatalf("apply --prune: exit %d, client still there: %v\n%s", code, exists(), stdout)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// keycloak client-secret prints the secret the admin API holds, which
// logs the client in; masked without --show-secrets; public, bearer-only
// and missing clients are errors with their exit codes.
func TestIntegrationSmallClientSecret(t *testing.T) {
	tb := testbed.Load(t)
	env := testEnv(tb)
	_, realm := smallFile(t, tb, env, "small-secret", `  clients:
    - client_id: web
      service_accounts: true
      redirect_uris: [http://localhost:8000/cb]
    - client_id: spa
      access: public
      redirect_uris: [http://localhost:8002/cb]
    - client_id: api
      access: bearer-only
`)
	ctx := context.Background()
	var found []struct {
		ID string `json:"id"`
	}
	var cred struct {
		Value string `json:"value"`
	}
	r := "/" + url.PathEscape(realm)
	if err := tb.KeycloakAdminRequest(ctx, http.MethodGet, r+"/clients?clientId=web", nil, &found); err != nil || len(found) != 1 {
		t.Fatalf("client web: %v %v", found, err)
	}
	if err := tb.KeycloakAdminRequest(ctx, http.MethodGet, r+"/clients/"+found[0].ID+"/client-secret", nil, &cred); err != nil || len(cred.Value) < 24 {
		t.Fatalf("web's secret: %v", err)
	}

	args := func(client string, more ...string) []string {
		return append([]string{"keycloak", "client-secret", "--realm", realm, "--client", client}, more...)
	}
	code, stdout, stderr := runEnv(t, env, "", append([]string{"--show-secrets"}, args("web")...)...)
	if code != 0 || stdout != cred.Value+"\n" || stderr != "" {
		t.Fatalf("--show-secrets: exit %d %q %q", code, stdout, stderr)
	}
	// The printed secret logs the client in (client-credentials grant).
	tok, err := keycloak.RequestToken(ctx, http.DefaultClient, tb.KeycloakURL, keycloak.TokenRequest{Realm: realm, ClientID: "web", ClientSecret: strings.TrimSpace(stdout)})
	if err != nil || testbed.Claims(t, tok.AccessToken)["azp"] != "web" {
		t.Fatalf("client-credentials grant with the printed secret: %v", err)
	}
	code, stdout, stderr = runEnv(t, env, "", args("web")...)
	if code != 0 || stdout != cred.Value[:4]+"…"+cred.Value[len(cred.Value)-4:]+"\n" || !strings.Contains(stderr, "--show-secrets") || strings.Contains(stdout+stderr, cred.Value) {
		t.Fatalf("masked: exit %d %q %q", code, stdout, stderr)
	}
	code, stdout, _ = runEnv(t, env, "", append([]string{"--show-secrets", "-o", "json"}, args("web")...)...)
	var doc map[string]any
	if code != 0 || json.Unmarshal([]byte(stdout), &doc) != nil || doc["secret"] != cred.Value || doc["client"] != "web" || doc["realm"] != realm {
		t.Fatalf("-o json: exit %d %s", code, stdout)
	}

	for _, tt := range []struct {
		client string
		code   int
		want   string
	}{
		{"spa", ExitUsage, "is a public client"},
		{"api", ExitUsage, "is a bearer-only client"},
		{"missing", ExitFailure, fmt.Sprintf("client %q in realm %q", "missing", realm)},
	} {
		code, stdout, stderr := runEnv(t, env, "", append([]string{"--show-secrets"}, args(tt.client)...)...)
		if code != tt.code || stdout != "" || !strings.Contains(stderr, tt.want) {
			t.Errorf("client %s: exit %d (want %d) %q %q", tt.client, code, tt.code, stdout, stderr)
		}
	}
}

// The export line render django prints, pasted into sh with the built
// ssoctl on PATH, sets the site's variable to the secret Keycloak holds,
// for a client id that a shell would otherwise run.
func TestIntegrationSmallRenderExportLine(t *testing.T) {
	tb := testbed.Load(t)
	env := testEnv(tb)
	client := `web $(touch pwned) 'x'`
	q := "'" + strings.ReplaceAll(client, "'", "''") + "'"
	path, realm := smallFile(t, tb, env, "small-render", "  clients:\n    - client_id: "+q+"\n"+
		"django:\n  sites:\n    - name: shop\n      client: "+q+"\n      library: mozilla-django-oidc\n      url: http://127.0.0.1:8000\n")
	code, _, stderr := runEnv(t, env, "", "render", "django", "-f", path, "--out", t.TempDir())
	i := strings.Index(stderr, "    export SHOP_OIDC_SECRET=")
	if code != 0 || i < 0 {
		t.Fatalf("render: exit %d\n%s", code, stderr)
	}
	line := strings.TrimSpace(stderr[i : i+strings.Index(stderr[i:], "\n")])
	if strings.Contains(line, "--url") {
		t.Errorf("the file's URL is $KEYCLOAK_URL, yet the line names it: %s", line)
	}

	bin := t.TempDir()
	if out, err := exec.Command("go", "build", "-o", filepath.Join(bin, "ssoctl"), "./ssoctl").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	work := t.TempDir()
	sh := exec.Command("sh", "-c", line+"\nprintf '%s' \"$SHOP_OIDC_SECRET\"")
	sh.Dir = work
	sh.Env = []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + work,
		"KEYCLOAK_URL=" + tb.KeycloakURL, "KEYCLOAK_ADMIN=" + tb.KeycloakAdmin, "KEYCLOAK_ADMIN_PASSWORD=" + tb.KeycloakAdminPassword}
	got, err := sh.Output()
	if err != nil {
		t.Fatalf("sh: %v\n%s", err, line)
	}
	admin := keycloak.NewAdmin(tb.KeycloakURL, http.DefaultClient, keycloak.Credentials{Username: tb.KeycloakAdmin, Password: tb.KeycloakAdminPassword})
	want, err := admin.ClientSecret(context.Background(), realm, client)
	if err != nil || len(want) < 24 || string(got) != want {
		t.Fatalf("$SHOP_OIDC_SECRET %q, Keycloak holds %q (%v)\n%s", got, want, err, line)
	}
	if entries, _ := os.ReadDir(work); len(entries) != 0 {
		t.Errorf("pasting the line made files: %v", entries)
	}
}
