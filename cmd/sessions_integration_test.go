//go:build integration

package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ssoctl/ssoctl/inspect/doctor"
	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/testbed"
)

// traceRig counts Keycloak sessions around ssoctl runs: the user's in the
// test's realm, and the admin's own in master. The admin is a user of its
// own (trace-admin-N, with master's admin role), so that the sessions of the
// other tests' admin logins never blur the count.
type traceRig struct {
	t     *testing.T
	tb    testbed.Env
	env   map[string]string
	admin string
}

func newTraceRig(t *testing.T) *traceRig {
	t.Helper()
	tb := testbed.Load(t)
	r := &traceRig{t: t, tb: tb, env: testEnv(tb), admin: fmt.Sprintf("trace-admin-%d", time.Now().UnixNano()%1e9)}
	ctx := context.Background()
	pw := "Trace-admin-Pw-1"
	user := map[string]any{"username": r.admin, "enabled": true, "email": r.admin + "@example.com", "emailVerified": true,
		"firstName": "Trace", "lastName": "Admin", "credentials": []map[string]any{{"type": "password", "value": pw, "temporary": false}}}
	if err := tb.KeycloakAdminRequest(ctx, http.MethodPost, "/master/users", user, nil); err != nil {
		t.Fatal(err)
	}
	id := r.userID("master", r.admin)
	t.Cleanup(func() {
		tb.KeycloakAdminRequest(context.Background(), http.MethodDelete, "/master/users/"+id, nil, nil)
	})
	var role map[string]any
	if err := tb.KeycloakAdminRequest(ctx, http.MethodGet, "/master/roles/admin", nil, &role); err != nil {
		t.Fatal(err)
	}
	if err := tb.KeycloakAdminRequest(ctx, http.MethodPost, "/master/users/"+id+"/role-mappings/realm", []any{role}, nil); err != nil {
		t.Fatal(err)
	}
	r.env["KEYCLOAK_ADMIN"], r.env["KEYCLOAK_ADMIN_PASSWORD"] = r.admin, pw
	return r
}

func (r *traceRig) userID(realm, username string) string {
	r.t.Helper()
	var found []struct {
		ID string `json:"id"`
	}
	q := "/" + url.PathEscape(realm) + "/users?exact=true&username=" + url.QueryEscape(username)
	if err := r.tb.KeycloakAdminRequest(context.Background(), http.MethodGet, q, nil, &found); err != nil || len(found) != 1 {
		r.t.Fatalf("user %s in %s: %v %v", username, realm, found, err)
	}
	return found[0].ID
}

// sessions lists username's session ids in realm (GET users/{id}/sessions).
func (r *traceRig) sessions(realm, username string) []string {
	r.t.Helper()
	var ss []keycloak.UserSession
	path := "/" + url.PathEscape(realm) + "/users/" + r.userID(realm, username) + "/sessions"
	if err := r.tb.KeycloakAdminRequest(context.Background(), http.MethodGet, path, nil, &ss); err != nil {
		r.t.Fatal(err)
	}
	var ids []string
	for _, s := range ss {
		ids = append(ids, s.ID)
	}
	return ids
}

// count is the sessions of the user and of the admin, as "user N, admin N".
func (r *traceRig) count(realm, user string) string {
	return fmt.Sprintf("user %d, admin %d", len(r.sessions(realm, user)), len(r.sessions("master", r.admin)))
}

// noTrace runs ssoctl with args and checks that neither the user nor the
// admin has a session more than before. It returns the run's stdout.
func (r *traceRig) noTrace(env map[string]string, realm, user string, wantCode int, args ...string) string {
	r.t.Helper()
	before := r.count(realm, user)
	code, stdout, stderr := runEnv(r.t, env, "", args...)
	after := r.count(realm, user)
	r.t.Logf("%s: sessions before %s; after %s", strings.Join(args[:min(2, len(args))], " "), before, after)
	if code != wantCode {
		r.t.Fatalf("%v: exit %d, want %d\n%s\n%s", args, code, wantCode, stdout, stderr)
	}
	if after != before {
		r.t.Errorf("%v left sessions: before %s, after %s\n%s", args, before, after, stderr)
	}
	if strings.Contains(stderr, "could not end Keycloak session") {
		r.t.Errorf("%v warned about a session:\n%s", args, stderr)
	}
	return stdout
}

// traceExample writes examples/NAME with its realm renamed trace-N.
func traceExample(t *testing.T, tb testbed.Env, name, realmLine string) (path, realm string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	realm = fmt.Sprintf("trace-%d", time.Now().UnixNano()%1e9)
	path = filepath.Join(t.TempDir(), "sso.yaml")
	os.WriteFile(path, []byte(strings.Replace(string(data), realmLine, "realm: "+realm, 1)), 0o600)
	t.Cleanup(func() { tb.DeleteRealm(context.Background(), realm) })
	return path, realm
}

// plan, apply and doctor --user (the password grant, the JWT logins and
// Vault's browser flow, with the password from the file's password_env)
// leave no session of the user or of the admin; keycloak token leaves
// exactly one, which its refresh token ends.
func TestIntegrationRunsLeaveNoSessions(t *testing.T) {
	r := newTraceRig(t)
	id := fmt.Sprintf("%d", time.Now().UnixNano()%1e9)
	realm, oidc, jwt := "trace-"+id, "trace-oidc-"+id, "trace-jwt-"+id
	text := strings.NewReplacer("REALM", realm, "OIDCMOUNT", oidc, "JWTMOUNT", jwt, "GROUP", "trace-"+id, "SITE", "http://127.0.0.1:1").Replace(doctorFile)
	path := filepath.Join(t.TempDir(), "sso.yaml")
	os.WriteFile(path, []byte(text), 0o600)
	t.Cleanup(func() {
		ctx := context.Background()
		r.tb.DeleteRealm(ctx, realm)
		v := r.tb.Vault()
		for _, m := range []string{oidc, jwt} {
			v.Sys().DisableAuthWithContext(ctx, m)
		}
		for _, g := range []string{"oidc", "jwt", "teams"} {
			v.Logical().DeleteWithContext(ctx, "identity/group/name/trace-"+id+"-"+g)
		}
	})
	if code, stdout, stderr := runEnv(t, r.env, "", "apply", "-f", path); code != 0 {
		t.Fatalf("apply: exit %d\n%s\n%s", code, stdout, stderr)
	}
	r.noTrace(r.env, realm, "alice", 0, "plan", "-f", path)
	r.noTrace(r.env, realm, "alice", 0, "apply", "-f", path)

	// A stale password: plan tries it once, finds it refused, and plans
	// the reset; apply resets it. No session either way.
	stale := maps.Clone(r.env)
	stale["ALICE_PASSWORD"] = "alice-Other-Pw-9"
	if out := r.noTrace(stale, realm, "alice", 0, "plan", "-f", path); !strings.Contains(out, "user-password "+realm+"/alice") {
		t.Errorf("plan with a new password plans no reset:\n%s", out)
	}
	r.noTrace(r.env, realm, "alice", 0, "plan", "-f", path)

	// doctor --user: no $SSOCTL_PASSWORD; the file's password_env gives it.
	out := r.noTrace(r.env, realm, "alice", 0, "doctor", "-f", path, "--user", "alice", "-o", "json")
	var rep doctor.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, l := range rep.Logins {
		if !l.OK {
			t.Errorf("login %s broke at %s: %s", l.Path, l.Step, l.Message)
		}
		paths = append(paths, strings.SplitN(l.Path, " ", 2)[0])
	}
	for _, want := range []string{"keycloak", "vault-jwt", "vault-oidc"} {
		if !slices.Contains(paths, want) {
			t.Errorf("doctor made no %s login: %v", want, paths)
		}
	}

	// keycloak token hands its session over: exactly one new, which the
	// refresh token ends.
	before := r.sessions(realm, "alice")
	env := maps2(r.env, "SSOCTL_PASSWORD", r.env["ALICE_PASSWORD"])
	code, stdout, stderr := runEnv(t, env, "", "keycloak", "token", "--realm", realm, "--client", "vault", "--user", "alice", "-o", "json")
	if code != 0 {
		t.Fatalf("keycloak token: exit %d\n%s", code, stderr)
	}
	after := r.sessions(realm, "alice")
	t.Logf("keycloak token: sessions before %d; after %d", len(before), len(after))
	var tok keycloak.TokenResponse
	json.Unmarshal([]byte(stdout), &tok)
	sid := keycloak.SessionID(tok.AccessToken)
	if len(after) != len(before)+1 || !slices.Contains(after, sid) || !strings.Contains(stderr, "session "+sid) {
		t.Fatalf("keycloak token: sessions %v then %v, token's sid %q, stderr:\n%s", before, after, sid, stderr)
	}
	secret := r.clientSecret(realm, "vault")
	hc := &http.Client{Timeout: 10 * time.Second}
	if err := keycloak.LogoutGrant(context.Background(), hc, r.tb.KeycloakURL, keycloak.Grant{Realm: realm, ClientID: "vault", ClientSecret: secret, RefreshToken: tok.RefreshToken}); err != nil {
		t.Fatal(err)
	}
	if got := r.sessions(realm, "alice"); !slices.Equal(got, before) {
		t.Errorf("after the refresh token's logout: sessions %v, want %v", got, before)
	}
	wrongPasswordCountsOnce(r, realm, path)
}

// wrongPasswordCountsOnce turns on brute-force detection and runs doctor
// --user and plan with a wrong password: each run counts one login failure,
// however many logins doctor would make.
func wrongPasswordCountsOnce(r *traceRig, realm, path string) {
	t := r.t
	ctx := context.Background()
	if err := r.tb.KeycloakAdminRequest(ctx, http.MethodPut, "/"+realm, map[string]any{"bruteForceProtected": true}, nil); err != nil {
		t.Fatal(err)
	}
	id := r.userID(realm, "alice")
	failures := func() float64 {
		var st map[string]any
		if err := r.tb.KeycloakAdminRequest(ctx, http.MethodGet, "/"+realm+"/attack-detection/brute-force/users/"+id, nil, &st); err != nil {
			t.Fatal(err)
		}
		n, _ := st["numFailures"].(float64)
		return n
	}
	wrong := maps.Clone(r.env)
	wrong["ALICE_PASSWORD"] = "alice-Wrong-Pw-0"
	out := r.noTrace(wrong, realm, "alice", ExitFindings, "doctor", "-f", path, "--user", "alice", "-o", "json")
	var rep doctor.Report
	json.Unmarshal([]byte(out), &rep)
	if !slices.ContainsFunc(rep.Checks, func(c doctor.Check) bool {
		return strings.Contains(c.Message, "was not tried: Keycloak refused the password")
	}) {
		t.Errorf("doctor with a wrong password tried every login: %+v", rep.Checks)
	}
	if n := failures(); n != 1 {
		t.Errorf("doctor with a wrong password: %v login failures, want 1", n)
	}
	time.Sleep(1100 * time.Millisecond) // past Keycloak's quick-login check
	r.noTrace(wrong, realm, "alice", 0, "plan", "-f", path)
	if n := failures(); n != 2 {
		t.Errorf("then plan: %v login failures, want 2", n)
	}
}

func (r *traceRig) clientSecret(realm, clientID string) string {
	r.t.Helper()
	var found []struct {
		ID string `json:"id"`
	}
	ctx := context.Background()
	if err := r.tb.KeycloakAdminRequest(ctx, http.MethodGet, "/"+realm+"/clients?clientId="+clientID, nil, &found); err != nil || len(found) != 1 {
		r.t.Fatalf("client %s: %v %v", clientID, found, err)
	}
	var cred struct {
		Value string `json:"value"`
	}
	if err := r.tb.KeycloakAdminRequest(ctx, http.MethodGet, "/"+realm+"/clients/"+found[0].ID+"/client-secret", nil, &cred); err != nil {
		r.t.Fatal(err)
	}
	return cred.Value
}

// rancher login (the SAML browser login) leaves no session of the user: the
// login's session is deleted through the admin API by its id.
func TestIntegrationRancherLoginLeavesNoSession(t *testing.T) {
	r := newTraceRig(t)
	path, realm := traceExample(t, r.tb, "rancher.yaml", "realm: demo")
	if code, stdout, stderr := runEnv(t, r.env, "", "apply", "-f", path); code != 0 {
		t.Fatalf("apply: exit %d\n%s\n%s", code, stdout, stderr)
	}
	out := r.noTrace(r.env, realm, "carol", 0, "rancher", "login", "-f", path, "--user", "carol", "-o", "json")
	var doc rancherLoginDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil || !doc.OK || doc.Principal == "" {
		t.Fatalf("rancher login: %v %+v", err, doc)
	}
	// doctor's Rancher SAML login, from the file, likewise.
	r.noTrace(r.env, realm, "carol", 0, "doctor", "-f", path, "--user", "carol", "-o", "json")
}

// keycloak authz logs the user in to the resource server and logs out.
func TestIntegrationAuthzLeavesNoSession(t *testing.T) {
	r := newTraceRig(t)
	path, realm := traceExample(t, r.tb, "authz.yaml", "realm: shop")
	maps.Copy(r.env, authzUsers)
	if code, stdout, stderr := runEnv(t, r.env, "", "apply", "-f", path); code != 0 {
		t.Fatalf("apply: exit %d\n%s\n%s", code, stdout, stderr)
	}
	env := maps2(r.env, "SSOCTL_PASSWORD", authzUsers["ADAM_PASSWORD"])
	out := r.noTrace(env, realm, "adam", 0, "keycloak", "authz", "--realm", realm, "--client", "shop", "--user", "adam", "-o", "json")
	var rep authzReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Decisions) == 0 {
		t.Fatalf("keycloak authz: %v %s", err, out)
	}
}

// doctor --user's Django site login (a browser login through the site's
// Keycloak button) leaves no session either.
func TestIntegrationDoctorSiteLoginLeavesNoSession(t *testing.T) {
	r := newTraceRig(t)
	s := newSite(t, "mozilla-django-oidc", "")
	data, err := os.ReadFile(s.path)
	if err != nil {
		t.Fatal(err)
	}
	realm := "trace-" + s.realm
	os.WriteFile(s.path, []byte(strings.Replace(string(data), "realm: "+s.realm, "realm: "+realm, 1)), 0o600)
	s.realm = realm // the cleanup deletes this one
	s.setUp()
	env := maps2(r.env, "BREWERY_OIDC_SECRET", s.env["BREWERY_OIDC_SECRET"])
	out := r.noTrace(env, realm, "alice", 0, "doctor", "-f", s.path, "--user", "alice", "-o", "json")
	var rep doctor.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(rep.Logins, func(l doctor.Login) bool { return l.Path == "django brewery" && l.OK }) {
		t.Errorf("doctor made no Django login: %+v", rep.Logins)
	}
}
