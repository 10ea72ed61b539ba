//go:build integration

package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ssoctl/ssoctl/internal/httpclient"
	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/testbed"
)

var authzUsers = map[string]string{"NORA_PASSWORD": "nora-Pw-1", "ADAM_PASSWORD": "adam-Pw-1", "OLA_PASSWORD": "ola-Pw-1", "AUD_PASSWORD": "aud-Pw-1", "ZED_PASSWORD": "zed-Pw-1"}

type authzRig struct {
	t           *testing.T
	tb          testbed.Env
	env         map[string]string
	path, realm string
}

func newAuthzRig(t *testing.T) *authzRig {
	tb := testbed.Load(t)
	path, realm := demoFile(t, tb, "authz.yaml")
	data, _ := os.ReadFile(path)
	os.WriteFile(path, []byte(strings.Replace(string(data), "realm: shop\n", "realm: "+realm+"\n", 1)), 0o600)
	env := testEnv(tb)
	maps.Copy(env, authzUsers)
	return &authzRig{t: t, tb: tb, env: env, path: path, realm: realm}
}

// counted runs ssoctl with every request counted.
func (r *authzRig) counted(env map[string]string, args ...string) (int, string, string, *requestCounter) {
	r.t.Helper()
	var rc requestCounter
	ios, _, out, errOut := TestIO()
	f := NewFactory(ios)
	f.Getenv = func(k string) string { return env[k] }
	f.HTTPClient = func(o httpclient.Options) (*http.Client, error) {
		hc, err := httpclient.New(o)
		if err != nil {
			return nil, err
		}
		hc.Transport = &countedTransport{base: hc.Transport, c: &rc}
		return hc, nil
	}
	code := Run(f, args)
	return code, out.String(), errOut.String(), &rc
}

// decisions asks the real Keycloak, through ssoctl keycloak authz, what
// user may do: "view" and "add" for the two scopes granted.
func (r *authzRig) decisions(user string) []string {
	r.t.Helper()
	env := maps.Clone(r.env)
	env["SSOCTL_PASSWORD"] = authzUsers[strings.ToUpper(user)+"_PASSWORD"]
	code, stdout, stderr := runEnv(r.t, env, "", "keycloak", "authz", "--realm", r.realm, "--client", "shop", "--user", user, "-o", "json")
	if code != 0 {
		r.t.Fatalf("keycloak authz %s: exit %d\n%s", user, code, stderr)
	}
	var rep authzReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		r.t.Fatal(err)
	}
	var out []string
	for _, d := range rep.Decisions {
		if d.Granted {
			out = append(out, strings.TrimPrefix(d.Scope, "inventory:"))
		}
	}
	slices.Sort(out)
	return out
}

func (r *authzRig) table(want map[string][]string) {
	r.t.Helper()
	for _, user := range slices.Sorted(maps.Keys(want)) {
		if got := r.decisions(user); !slices.Equal(got, want[user]) {
			r.t.Errorf("%s may %v, want %v", user, got, want[user])
		}
	}
}

// The decisions of the real Keycloak for examples/authz.yaml, a changed
// permission, and 0 writes on re-apply.
func TestIntegrationAuthzDecisions(t *testing.T) {
	r := newAuthzRig(t)
	start := time.Now()
	code, _, stderr, rc := r.counted(r.env, "apply", "-f", r.path)
	if code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, stderr)
	}
	t.Logf("first apply: %v, %d reads, %d writes, %d logins", time.Since(start).Round(time.Millisecond), rc.reads.Load(), rc.writes.Load(), rc.logins.Load())
	start = time.Now()
	if code, _, stderr, rc = r.counted(r.env, "apply", "-f", r.path); code != 0 || rc.writes.Load() != 0 {
		t.Fatalf("re-apply: exit %d, %d writes\n%s", code, rc.writes.Load(), stderr)
	}
	t.Logf("no-op re-apply: %v, %d reads, 0 writes", time.Since(start).Round(time.Millisecond), rc.reads.Load())

	// nora has shop/normal, adam shop/admin, ola is in /ops, aud holds the
	// realm role auditor, zed nothing.
	r.table(map[string][]string{"nora": {"view"}, "adam": {"add", "view"}, "ola": {"view"}, "aud": {"view"}, "zed": nil})

	env := maps.Clone(r.env)
	env["SSOCTL_PASSWORD"] = authzUsers["NORA_PASSWORD"]
	start = time.Now()
	if code, _, stderr, rc := r.counted(env, "keycloak", "authz", "--realm", r.realm, "--client", "shop", "--user", "nora", "--scope", "inventory:view"); code != 0 {
		t.Fatalf("keycloak authz: exit %d\n%s", code, stderr)
	} else {
		t.Logf("one keycloak authz decision: %v, %d reads, %d logins (the admin, the user, the UMA grant), %d other", time.Since(start).Round(time.Millisecond), rc.reads.Load(), rc.logins.Load(), rc.writes.Load())
	}
	start = time.Now()
	code, stdout, stderr, rc := r.counted(env, "keycloak", "authz", "--realm", r.realm, "--client", "shop", "--user", "nora", "--explain")
	if code != 0 || !strings.Contains(stdout, "✓ inventory inventory:view: granted") || !strings.Contains(stdout, "✗ inventory inventory:add: denied") ||
		!strings.Contains(stdout, "add inventory (scope permission, unanimous) on inventory:add: DENY (admins DENY)") {
		t.Errorf("--explain: exit %d\n%s\n%s", code, stdout, stderr)
	}
	t.Logf("one keycloak authz decision with --explain: %v, %d reads, %d logins, %d other", time.Since(start).Round(time.Millisecond), rc.reads.Load(), rc.logins.Load(), rc.writes.Load())

	// ops may add too: the permission takes either policy.
	data, _ := os.ReadFile(r.path)
	text := strings.Replace(string(data), `{name: add inventory, type: scope, scopes: ["inventory:add"], policies: [admins]}`,
		`{name: add inventory, type: scope, scopes: ["inventory:add"], policies: [admins, ops], decision_strategy: affirmative}`, 1)
	if text == string(data) {
		t.Fatal("the test's edit of the file failed")
	}
	os.WriteFile(r.path, []byte(text), 0o600)
	code, stdout, _ = runEnv(t, r.env, "", "plan", "-f", r.path)
	if code != 0 || !strings.Contains(stdout, "~ keycloak authz-permission "+r.realm+"/shop permission add inventory") || !strings.Contains(stdout, "config.applyPolicies") {
		t.Errorf("plan of the change: exit %d\n%s", code, stdout)
	}
	if code, _, stderr, _ := r.counted(r.env, "apply", "-f", r.path); code != 0 {
		t.Fatalf("apply the change: exit %d\n%s", code, stderr)
	}
	r.table(map[string][]string{"ola": {"add", "view"}, "nora": {"view"}})
	if code, _, _, rc := r.counted(r.env, "apply", "-f", r.path); code != 0 || rc.writes.Load() != 0 {
		t.Errorf("re-apply after the change: exit %d, %d writes", code, rc.writes.Load())
	}
}

// python-keycloak on the exported config agrees with Keycloak where it
// evaluates (client roles of the client), differs where it does not (the
// realm role, the group), and ssoctl's warning names those; the PEM that
// keycloak public-key prints verifies a real token in decode_token.
func TestIntegrationAuthzPythonKeycloak(t *testing.T) {
	r := newAuthzRig(t)
	r.tb.NeedDjango(t)
	if code, _, stderr := runEnv(t, r.env, "", "apply", "-f", r.path); code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, stderr)
	}
	dir := t.TempDir()
	config := filepath.Join(dir, "authorization-config.json")
	code, _, stderr := runEnv(t, r.env, "", "export", "authz", "--realm", r.realm, "--client", "shop", "--out", config)
	if code != 0 || !strings.Contains(stderr, `names the realm role "auditor", which python-keycloak never matches`) || !strings.Contains(stderr, `group policy "ops" is not loaded`) {
		t.Fatalf("export authz: exit %d\n%s", code, stderr)
	}
	code, pem, stderr := runEnv(t, r.env, "", "keycloak", "public-key", "--realm", r.realm)
	lines := strings.Split(strings.TrimSpace(pem), "\n")
	if code != 0 || lines[0] != "-----BEGIN PUBLIC KEY-----" || lines[len(lines)-1] != "-----END PUBLIC KEY-----" || len(lines[1]) != 64 {
		t.Fatalf("public-key: exit %d\n%s%s", code, pem, stderr)
	}
	pemFile := filepath.Join(dir, "realm.pem")
	os.WriteFile(pemFile, []byte(pem), 0o600)
	admin := keycloak.NewAdmin(r.tb.KeycloakURL, http.DefaultClient, keycloak.Credentials{Username: r.tb.KeycloakAdmin, Password: r.tb.KeycloakAdminPassword})
	secret, err := admin.ClientSecret(context.Background(), r.realm, "shop")
	if err != nil {
		t.Fatal(err)
	}
	users := map[string]string{}
	for _, u := range []string{"nora", "adam", "ola", "aud", "zed"} {
		users[u] = authzUsers[strings.ToUpper(u)+"_PASSWORD"]
	}
	in, _ := json.Marshal(map[string]any{"server": r.tb.KeycloakURL, "realm": r.realm, "client": "shop", "secret": secret, "config": config, "pem": pemFile, "users": users})
	cmd := exec.Command(r.tb.DjangoPython, filepath.Join("..", "testbed", "authz", "pykc.py"))
	cmd.Stdin = strings.NewReader(string(in))
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("pykc.py: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var py map[string]struct {
		Sub         string   `json:"sub"`
		Permissions []string `json:"permissions"`
	}
	if err := json.Unmarshal(out, &py); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	// Keycloak's decisions, as permission names.
	names := map[string]string{"view": "view inventory", "add": "add inventory"}
	for user := range users {
		var real []string
		for _, s := range r.decisions(user) {
			real = append(real, names[s])
		}
		slices.Sort(real)
		local := py[user].Permissions
		if py[user].Sub == "" {
			t.Errorf("%s: decode_token gave no sub", user)
		}
		switch user {
		case "nora", "adam", "zed": // client roles of shop, or nothing: the same
			if !slices.Equal(local, real) {
				t.Errorf("%s: python-keycloak %v, Keycloak %v", user, local, real)
			}
		case "aud", "ola": // the realm role and the group: Keycloak grants, python-keycloak does not
			if !slices.Equal(real, []string{"view inventory"}) || len(local) != 0 {
				t.Errorf("%s: python-keycloak %v, Keycloak %v; the difference ssoctl warns about is gone", user, local, real)
			}
		}
	}
	t.Logf("python-keycloak %v", py)
}

// An interrupted first apply converges; the export applied to an empty
// realm reproduces the authorization settings.
func TestIntegrationAuthzConvergeAndRoundTrip(t *testing.T) {
	r := newAuthzRig(t)
	for _, n := range []int64{8, 5} {
		ctx, cancel := context.WithCancel(context.Background())
		rc := &requestCounter{cancelAfter: n, cancel: cancel}
		code, out := runApply(ctx, r.env, r.path, rc)
		cancel()
		if code == 0 {
			t.Fatalf("apply cut after %d writes exited 0:\n%s", n, out)
		}
	}
	if code, _, stderr := runEnv(t, r.env, "", "apply", "-f", r.path); code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, stderr)
	}
	if code, _, _, rc := r.counted(r.env, "apply", "-f", r.path); code != 0 || rc.writes.Load() != 0 {
		t.Fatalf("re-apply: exit %d, %d writes", code, rc.writes.Load())
	}
	r.table(map[string][]string{"nora": {"view"}, "adam": {"add", "view"}})
	admin := keycloak.NewAdmin(r.tb.KeycloakURL, http.DefaultClient, keycloak.Credentials{Username: r.tb.KeycloakAdmin, Password: r.tb.KeycloakAdminPassword})
	settings := func(realm string) string {
		raw, err := admin.AuthzExport(context.Background(), realm, "shop")
		if err != nil {
			t.Fatal(err)
		}
		s, _ := keycloak.ParseAuthzSettings(raw)
		return normSettings(s)
	}
	code, exported, stderr := runEnv(t, r.env, "", "export", "keycloak", "--realm", r.realm)
	if code != 0 {
		t.Fatalf("export: exit %d %s", code, stderr)
	}
	copyRealm := r.realm + "-copy"
	t.Cleanup(func() { r.tb.DeleteRealm(context.Background(), copyRealm) })
	copyPath := filepath.Join(t.TempDir(), "copy.yaml")
	os.WriteFile(copyPath, []byte(strings.Replace(exported, "realm: "+r.realm+"\n", "realm: "+copyRealm+"\n  create_realm: true\n", 1)), 0o600)
	if code, stdout, stderr := runEnv(t, r.env, "", "apply", "-f", copyPath); code != 0 {
		t.Fatalf("apply the export: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if a, b := settings(r.realm), settings(copyRealm); a != b {
		t.Errorf("the copy's settings differ:\n%s\n---\n%s", a, b)
	}
	if code, stdout, _ := runEnv(t, r.env, "", "plan", "-f", copyPath, "--detailed-exitcode"); code != 0 {
		t.Errorf("plan of the copy: exit %d\n%s", code, stdout)
	}
}

// normSettings writes settings with lists sorted, to compare two realms.
func normSettings(s *keycloak.AuthzSettings) string {
	slices.SortFunc(s.Scopes, func(a, b keycloak.AuthzScope) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(s.Policies, func(a, b keycloak.AuthzPolicy) int { return strings.Compare(a.Name, b.Name) })
	for i := range s.Resources {
		slices.SortFunc(s.Resources[i].Scopes, func(a, b keycloak.AuthzScope) int { return strings.Compare(a.Name, b.Name) })
	}
	for i := range s.Policies {
		for k, v := range s.Policies[i].Config {
			var list []any
			if json.Unmarshal([]byte(v), &list) == nil {
				slices.SortFunc(list, func(a, b any) int {
					x, _ := json.Marshal(a)
					y, _ := json.Marshal(b)
					return strings.Compare(string(x), string(y))
				})
				b, _ := json.Marshal(list)
				s.Policies[i].Config[k] = string(b)
			}
		}
	}
	b, _ := json.MarshalIndent(s, "", " ")
	return string(b)
}
