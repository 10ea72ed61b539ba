//go:build integration

package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/ssoctl/ssoctl/inspect/doctor"
	"github.com/ssoctl/ssoctl/internal/browser"
	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/testbed"
)

// logoutFile is two confidential clients alice logs in to with one SSO
// session: app-a (logged out of, with a post-logout redirect URI) and app-b
// (a wildcard redirect URI, its backchannel logout URL BCURL, and sid in
// its logout tokens: a client created with any attribute lacks Keycloak's
// default "true" for it). app-b comes first, so doctor -f checks it.
const logoutFile = `
keycloak:
  realm: REALM
  create_realm: true
  clients:
    - client_id: app-b
      redirect_uris: [http://127.0.0.1:1/b/*]
      backchannel_logout_url: BCURL
      backchannel_logout_session_required: true
    - client_id: app-a
      redirect_uris: [http://127.0.0.1:1/a/callback]
      post_logout_redirect_uris: [http://127.0.0.1:1/a/bye]
  users:
    - {username: alice, password_env: ALICE_PASSWORD}
`

type logoutRig struct {
	t     *testing.T
	tb    testbed.Env
	env   map[string]string
	realm string
	path  string
}

// newLogoutRig applies logoutFile with app-b's backchannel URL bcURL.
func newLogoutRig(t *testing.T, bcURL string) *logoutRig {
	t.Helper()
	tb := testbed.Load(t)
	r := &logoutRig{t: t, tb: tb, env: testEnv(tb), realm: fmt.Sprintf("lo-%d", time.Now().UnixNano()%1e9)}
	r.env["SSOCTL_PASSWORD"] = r.env["ALICE_PASSWORD"]
	r.path = filepath.Join(t.TempDir(), "sso.yaml")
	os.WriteFile(r.path, []byte(strings.NewReplacer("REALM", r.realm, "BCURL", bcURL).Replace(logoutFile)), 0o600)
	t.Cleanup(func() { tb.DeleteRealm(context.Background(), r.realm) })
	if code, stdout, stderr := runEnv(t, r.env, "", "apply", "-f", r.path); code != 0 {
		t.Fatalf("apply: exit %d\n%s\n%s", code, stdout, stderr)
	}
	return r
}

// probe runs doctor logout -o json and returns the exit code and report.
func (r *logoutRig) probe(extra ...string) (int, doctor.LogoutReport, string) {
	r.t.Helper()
	args := append([]string{"doctor", "logout", "--realm", r.realm, "--user", "alice", "--client", "app-a", "--client", "app-b", "-o", "json"}, extra...)
	code, stdout, stderr := runEnv(r.t, r.env, "", args...)
	var rep doctor.LogoutReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		r.t.Fatalf("doctor logout: exit %d, %v\n%s\n%s", code, err, stdout, stderr)
	}
	return code, rep, stdout
}

func statuses(rep doctor.LogoutReport) map[string]doctor.Status {
	out := map[string]doctor.Status{}
	for _, c := range rep.Checks {
		out[c.ID] = c.Status
	}
	return out
}

func check(rep doctor.LogoutReport, id string) doctor.Check {
	for _, c := range rep.Checks {
		if c.ID == id {
			return c
		}
	}
	return doctor.Check{}
}

func (r *logoutRig) sessions() int {
	r.t.Helper()
	var users []map[string]any
	if err := r.tb.KeycloakAdminRequest(context.Background(), http.MethodGet, "/"+r.realm+"/users?exact=true&username=alice", nil, &users); err != nil || len(users) != 1 {
		r.t.Fatalf("alice: %v %v", err, users)
	}
	var list []map[string]any
	if err := r.tb.KeycloakAdminRequest(context.Background(), http.MethodGet, "/"+r.realm+"/users/"+users[0]["id"].(string)+"/sessions", nil, &list); err != nil {
		r.t.Fatal(err)
	}
	return len(list)
}

// The probe with a receiver that app-b's backchannel URL (applied from
// sso.yaml) points at: one SSO session, the logout of app-a, app-b's
// refresh token refused, no session left, and Keycloak's logout token
// delivered and passing each check.
func TestIntegrationLogoutProbeReceiver(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", freeLoopbackPort(t))
	r := newLogoutRig(t, "http://"+addr+"/backchannel-logout")

	code, rep, stdout := r.probe("--receiver", addr)
	if code != 0 {
		t.Fatalf("exit %d, want 0\n%s", code, stdout)
	}
	st := statuses(rep)
	for _, id := range []string{doctor.LogoutLoginFirst, doctor.LogoutLoginSecond, doctor.LogoutSameSession, doctor.LogoutEndSession,
		doctor.LogoutRefresh, doctor.LogoutSessions, doctor.LogoutBCURL, doctor.LogoutBCReceived} {
		if st[id] != doctor.OK {
			t.Errorf("%s: %q, want ok\n%s", id, st[id], stdout)
		}
	}
	for _, rule := range []string{"signature", "iss", "aud", "times", "events", "sid", "sub", "nonce"} {
		if st[doctor.LogoutBCTokenCheck+rule] != doctor.OK {
			t.Errorf("logout token %s: %q, want ok\n%s", rule, st[doctor.LogoutBCTokenCheck+rule], stdout)
		}
	}
	if c := check(rep, doctor.LogoutLoginSecond); !strings.Contains(c.Message, "without the password form") {
		t.Errorf("the second login: %q", c.Message)
	}
	if c := check(rep, doctor.LogoutRefresh); !strings.Contains(c.Evidence, "invalid_grant") {
		t.Errorf("the refresh refusal quotes no invalid_grant: %q", c.Evidence)
	}
	if rep.Logout == nil || rep.Logout.PostLogoutRedirectURI != "http://127.0.0.1:1/a/bye" || rep.Logout.Confirmed {
		t.Errorf("logout: %+v, want the post-logout redirect URI and no confirmation", rep.Logout)
	}
	bc := rep.Backchannel
	if bc == nil || !bc.Received || !bc.TargetsReceiver || bc.Path != "/backchannel-logout" || bc.Token == nil || !bc.Token.Valid {
		t.Fatalf("backchannel: %+v", bc)
	}
	claims := bc.Token.Claims
	if claims["sid"] != rep.SID || claims["aud"] != "app-b" || claims["nonce"] != nil {
		t.Errorf("logout token claims: %v (session %s)", claims, rep.SID)
	}
	t.Logf("logout token: header alg %s typ %q; claims %v", bc.Token.Alg, bc.Token.Typ, claims)
	t.Logf("logout took %d ms; the POST came %d ms after it began; during the logout: %v; answered before Keycloak answered the logout: %v",
		rep.Logout.Millis, bc.AfterMillis, bc.DuringLogout, bc.AnsweredBeforeLogout)
	if !bc.DuringLogout {
		t.Errorf("Keycloak posted the logout token after it answered the logout: %+v", bc)
	}
	if n := r.sessions(); n != 0 {
		t.Errorf("alice has %d sessions after the probe", n)
	}

	// The text output lists each step.
	code, text, _ := runEnv(t, r.env, "", "doctor", "logout", "--realm", r.realm, "--user", "alice", "--client", "app-a", "--client", "app-b", "--receiver", addr)
	for _, want := range []string{"OK   alice logged in to app-a with the password form", "OK   Keycloak refuses app-b's refresh token", "Back channel (receiver " + addr + ")", "OK   logout token nonce: no nonce claim", "single sign-out works."} {
		if code != 0 || !strings.Contains(text, want) {
			t.Errorf("text output: exit %d, no %q\n%s", code, want, text)
		}
	}

	// Keycloak waits for the relying party's answer: a receiver that holds
	// its answer holds the logout.
	t.Run("synchronous", func(t *testing.T) {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		recv := doctor.NewReceiver(l)
		defer recv.Close()
		recv.Hold = time.Second
		kc := keycloak.NewAdmin(r.tb.KeycloakURL, http.DefaultClient, keycloak.Credentials{Username: r.tb.KeycloakAdmin, Password: r.tb.KeycloakAdminPassword, Source: "testbed"})
		rep, err := doctor.Logout(context.Background(), doctor.LogoutTarget{KeycloakURL: r.tb.KeycloakURL, Realm: r.realm, User: "alice", Password: r.env["ALICE_PASSWORD"],
			First: "app-a", Second: "app-b"}, doctor.Systems{Keycloak: kc, HTTP: http.DefaultClient}, doctor.LogoutOptions{Receiver: recv})
		if err != nil || rep.Failed() || rep.Backchannel == nil {
			t.Fatalf("%v %+v", err, rep)
		}
		bc := rep.Backchannel
		t.Logf("with the answer held %s: logout took %d ms, the POST came after %d ms", recv.Hold, rep.Logout.Millis, bc.AfterMillis)
		if !bc.DuringLogout || !bc.AnsweredBeforeLogout {
			t.Errorf("Keycloak did not wait for the back channel's answer: %+v", bc)
		}
	})

	// Front-channel logout on (set by hand): Keycloak ends the session,
	// shows its front-channel page and posts nothing to the back channel.
	t.Run("frontchannel", func(t *testing.T) {
		var cs []map[string]any
		r.tb.KeycloakAdminRequest(context.Background(), http.MethodGet, "/"+r.realm+"/clients?clientId=app-b", nil, &cs)
		c := cs[0]
		c["frontchannelLogout"] = true
		c["attributes"].(map[string]any)["frontchannel.logout.url"] = "http://127.0.0.1:1/b/front"
		if err := r.tb.KeycloakAdminRequest(context.Background(), http.MethodPut, "/"+r.realm+"/clients/"+c["id"].(string), c, nil); err != nil {
			t.Fatal(err)
		}
		code, rep, out := r.probe("--receiver", addr, "--timeout", "1s")
		st := statuses(rep)
		if code != ExitFindings || st[doctor.LogoutBCFront] != doctor.Warn || st[doctor.LogoutBCReceived] != doctor.Fail ||
			st[doctor.LogoutEndSession] != doctor.OK || st[doctor.LogoutRefresh] != doctor.OK || st[doctor.LogoutSessions] != doctor.OK {
			t.Errorf("exit %d\n%s", code, out)
		}
		if ev := check(rep, doctor.LogoutEndSession).Evidence; !strings.Contains(ev, "front-channel logout page") {
			t.Errorf("end session: %q", ev)
		}
	})
}

// A backchannel URL on a closed port: doctor -f warns; the probe without a
// receiver passes (the session ends all the same), and with a receiver it
// says the token was not received and exits 3.
func TestIntegrationLogoutProbeClosedPort(t *testing.T) {
	r := newLogoutRig(t, "http://127.0.0.1:1/backchannel-logout")

	code, stdout, stderr := runEnv(t, r.env, "", "doctor", "-f", r.path, "-o", "json")
	var drep doctor.Report
	if err := json.Unmarshal([]byte(stdout), &drep); err != nil {
		t.Fatalf("doctor -f: exit %d %v\n%s", code, err, stderr)
	}
	found := false
	for _, c := range drep.Checks {
		if c.ID == "logout.backchannel" && c.Status == doctor.Warn && strings.Contains(c.Message, "cannot be reached") {
			found = true
		}
	}
	if !found {
		t.Errorf("doctor -f does not warn of the unreachable backchannel URL:\n%s", stdout)
	}

	code, rep, out := r.probe()
	if code != 0 || rep.Backchannel != nil {
		t.Errorf("without --receiver: exit %d, want 0\n%s", code, out)
	}
	if st := statuses(rep); st[doctor.LogoutEndSession] != doctor.OK || st[doctor.LogoutRefresh] != doctor.OK || st[doctor.LogoutSessions] != doctor.OK {
		t.Errorf("without --receiver the session did not end cleanly:\n%s", out)
	}

	// Logged out of app-b, which allows no post-logout redirect URI: the
	// logout goes without one and Keycloak shows its own page.
	code, stdout, _ = runEnv(t, r.env, "", "doctor", "logout", "--realm", r.realm, "--user", "alice", "--client", "app-b", "--client", "app-a", "-o", "json")
	var swapped doctor.LogoutReport
	json.Unmarshal([]byte(stdout), &swapped)
	if c := check(swapped, doctor.LogoutEndSession); code != 0 || swapped.Logout == nil || swapped.Logout.PostLogoutRedirectURI != "" ||
		swapped.Logout.Confirmed || !strings.Contains(c.Evidence, "You are logged out") {
		t.Errorf("logout without a post-logout redirect URI: exit %d\n%s", code, stdout)
	}

	addr := fmt.Sprintf("127.0.0.1:%d", freeLoopbackPort(t))
	start := time.Now()
	code, rep, out = r.probe("--receiver", addr, "--timeout", "2s")
	t.Logf("the probe waiting 2s for a token that never comes took %s", time.Since(start).Round(time.Millisecond))
	st := statuses(rep)
	if code != ExitFindings || st[doctor.LogoutBCReceived] != doctor.Fail || st[doctor.LogoutBCURL] != doctor.Warn {
		t.Errorf("with --receiver: exit %d (want 3), received %q, url %q\n%s", code, st[doctor.LogoutBCReceived], st[doctor.LogoutBCURL], out)
	}
	if c := check(rep, doctor.LogoutBCReceived); !strings.Contains(c.Message, "no logout token") || !strings.Contains(c.Message, "127.0.0.1:1") {
		t.Errorf("received: %q", c.Message)
	}
	if c := check(rep, doctor.LogoutBCURL); !strings.Contains(c.FixYAML, `backchannel_logout_url: "http://`+addr+`/backchannel-logout"`) {
		t.Errorf("the url check names no fix: %+v", c)
	}
	if st[doctor.LogoutEndSession] != doctor.OK || st[doctor.LogoutRefresh] != doctor.OK || st[doctor.LogoutSessions] != doctor.OK {
		t.Errorf("the session did not end:\n%s", out)
	}
	if n := r.sessions(); n != 0 {
		t.Errorf("alice has %d sessions", n)
	}
}

// vaultOIDCIn runs Vault's OIDC login in browser b (its cookie jar holds
// Keycloak's SSO cookie, or not) and reports whether Keycloak showed its
// login form. With a form, the login is not completed.
func vaultOIDCIn(t *testing.T, s *site, b *browser.Browser, mount string) (formShown bool, auth *vaultapi.SecretAuth) {
	t.Helper()
	ctx := context.Background()
	const redirect = "http://localhost:8250/oidc/callback"
	sec, err := s.tb.Vault().Logical().WriteWithContext(ctx, "auth/"+mount+"/oidc/auth_url", map[string]any{"role": "default", "redirect_uri": redirect})
	if err != nil || sec == nil || sec.Data["auth_url"] == "" {
		t.Fatalf("auth_url: %v %v", err, sec)
	}
	b.Stop = func(u *url.URL) bool { return u.Host == "localhost:8250" }
	defer func() { b.Stop = nil }()
	page, err := b.Get(ctx, sec.Data["auth_url"].(string))
	if err != nil {
		t.Fatalf("Vault's OIDC login: %v (%s)", err, b.Trail())
	}
	if page.Form("kc-form-login") != nil {
		return true, nil
	}
	loc, err := url.Parse(page.Header.Get("Location"))
	if page.Status/100 != 3 || err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("Keycloak did not send the browser back to Vault's callback: %d %s %.300s", page.Status, page.URL, page.Text())
	}
	cb, err := s.tb.Vault().Logical().ReadWithDataWithContext(ctx, "auth/"+mount+"/oidc/callback", map[string][]string{"state": {loc.Query().Get("state")}, "code": {loc.Query().Get("code")}})
	if err != nil || cb == nil || cb.Auth == nil {
		t.Fatalf("Vault's callback: %v %+v", err, cb)
	}
	return false, cb.Auth
}

// Logging out of a Django site with logout: keycloak ends the SSO session
// for Vault too: alice logs in to the site (the password form), then to
// Vault's OIDC login in the same browser without a password; after the
// site's logout, Vault's login in that browser meets Keycloak's form again.
func TestIntegrationLogoutDjangoEndsVaultSSO(t *testing.T) {
	s := newSite(t, "mozilla-django-oidc", "")
	mount := fmt.Sprintf("lo-oidc-%d", time.Now().UnixNano()%1e9)
	text, _ := os.ReadFile(s.path)
	file := strings.Replace(string(text), "  clients:\n", `  clients:
    - client_id: vault
      redirect_uris: [http://localhost:8250/oidc/callback]
      mappers:
        - audience: vault
`, 1) + `
vault:
  policies:
    reader: {template: vault/reader.hcl}
  auth:
    - path: ` + mount + `
      type: oidc
      client_id: vault
      default_role: default
      roles:
        default:
          user_claim: sub
          bound_audiences: [vault]
          allowed_redirect_uris: [http://localhost:8250/oidc/callback]
          policies: [reader]
`
	os.WriteFile(s.path, []byte(file), 0o600)
	t.Cleanup(func() { s.tb.Vault().Sys().DisableAuthWithContext(context.Background(), mount) })
	s.setUp()

	b, page := s.login("alice")
	if page.Status != 200 || page.URL.Path != "/admin/" {
		t.Fatalf("alice's site login ended at %s (%d)\n%s", page.URL, page.Status, s.serverLog())
	}
	formShown, auth := vaultOIDCIn(t, s, b, mount)
	if formShown || auth == nil || auth.ClientToken == "" {
		t.Fatalf("Vault's login after the site's asked for the password again (form %v, auth %+v): no SSO", formShown, auth)
	}
	if n := s.sessions("alice"); n != 1 {
		t.Errorf("alice has %d Keycloak sessions, want the one both logins share", n)
	}

	s.logout(b)
	if n := s.sessions("alice"); n != 0 {
		t.Errorf("after the site's logout alice still has %d Keycloak session(s)", n)
	}
	if formShown, _ := vaultOIDCIn(t, s, b, mount); !formShown {
		t.Errorf("after the site's logout Keycloak let the browser into Vault without the password form (hops: %s)", b.Trail())
	}
}
