//go:build integration

package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssoctl/ssoctl/internal/browser"
	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/testbed"
)

// djangoFile is the brewery setup for one library: a site client, another
// client (its tokens must be refused by the API), groups customers and
// creators, and alice (creators), bob (customers) and carol (no group).
const djangoFile = `
keycloak:
  realm: REALM
  create_realm: true
  clients:
    - client_id: brewery
      direct_access_grants: true
    - client_id: other-app
      direct_access_grants: true
  groups:
    - {name: customers}
    - {name: creators}
  users:
    - {username: alice, password_env: ALICE_PASSWORD, groups: [creators]}
    - {username: bob, password_env: BOB_PASSWORD, groups: [customers]}
    - {username: carol, password_env: CAROL_PASSWORD}
django:
  sites:
    - name: brewery
      client: brewery
      library: LIBRARY
      url: SITEURL
      client_secret_env: BREWERY_OIDC_SECRET
      staff: [customers, creators]
      groups: {customers: customers, creators: creators}
      logout: keycloak
APILINE`

// site is a real Django project served by manage.py runserver.
type site struct {
	t      *testing.T
	tb     testbed.Env
	env    map[string]string
	dir    string
	url    string
	realm  string
	lib    string
	api    string
	path   string // the sso.yaml
	mu     sync.Mutex
	log    bytes.Buffer
	server *exec.Cmd
}

func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// newSite writes the sso.yaml for lib (and api) and applies it.
func newSite(t *testing.T, lib, api string) *site {
	t.Helper()
	tb := testbed.Load(t)
	tb.NeedDjango(t)
	s := &site{t: t, tb: tb, env: testEnv(tb), lib: lib, api: api, dir: t.TempDir(),
		realm: fmt.Sprintf("dj-%s-%d", strings.ReplaceAll(lib, "-", ""), time.Now().UnixNano()%1e6)}
	s.url = fmt.Sprintf("http://127.0.0.1:%d", freeLoopbackPort(t))
	apiLine := ""
	if api != "" {
		apiLine = "      api: " + api + "\n"
	}
	text := strings.NewReplacer("REALM", s.realm, "LIBRARY", lib, "SITEURL", s.url, "APILINE", apiLine).Replace(djangoFile)
	s.path = filepath.Join(s.dir, "sso.yaml")
	os.WriteFile(s.path, []byte(text), 0o600)
	t.Cleanup(func() { tb.DeleteRealm(context.Background(), s.realm) })
	return s
}

func (s *site) ssoctl(args ...string) (int, string, string) {
	s.t.Helper()
	return runEnv(s.t, s.env, "", args...)
}

// python runs the venv's python in the project directory.
func (s *site) python(args ...string) string {
	s.t.Helper()
	cmd := exec.Command(s.tb.DjangoPython, args...)
	cmd.Dir = filepath.Join(s.dir, "project")
	cmd.Env = append(os.Environ(), "BREWERY_OIDC_SECRET="+s.env["BREWERY_OIDC_SECRET"], "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.t.Fatalf("python %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// project builds the Django project around the rendered keycloak_sso app
// with testbed/django/newproject: startproject, the beers app, the groups
// customers (view_beer) and creators (add, view, change), migrated.
func (s *site) project() {
	s.t.Helper()
	cmd := exec.Command("../testbed/django/newproject", s.tb.DjangoPython, filepath.Join(s.dir, "project"))
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		s.t.Fatalf("newproject: %v\n%s", err, out)
	}
}

// serve starts manage.py runserver and waits for the admin login page.
func (s *site) serve() {
	s.t.Helper()
	port := strings.TrimPrefix(s.url, "http://127.0.0.1:")
	cmd := exec.Command(s.tb.DjangoPython, "manage.py", "runserver", "--noreload", "127.0.0.1:"+port)
	cmd.Dir = filepath.Join(s.dir, "project")
	cmd.Env = append(os.Environ(), "BREWERY_OIDC_SECRET="+s.env["BREWERY_OIDC_SECRET"], "PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1")
	cmd.Stdout, cmd.Stderr = (*lockedWriter)(s), (*lockedWriter)(s)
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.server = cmd
	s.t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(60 * time.Second)
	for {
		if resp, err := http.Get(s.url + "/admin/login/"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("runserver did not answer at %s/admin/login/:\n%s", s.url, s.serverLog())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

type lockedWriter site

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.log.Write(p)
}

func (s *site) serverLog() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

// userState is a Django user as the database holds it.
type userState struct {
	Exists    bool     `json:"exists"`
	Staff     bool     `json:"staff"`
	Superuser bool     `json:"superuser"`
	Groups    []string `json:"groups"`
}

func (s *site) user(name string) userState {
	s.t.Helper()
	out := s.python("manage.py", "whois", name)
	var st userState
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &st); err != nil {
		s.t.Fatalf("user %s: %v: %s", name, err, out)
	}
	return st
}

// login logs user in through the admin login page's Keycloak button in a
// new browser and returns the browser and the page the login ended on.
func (s *site) login(user string) (*browser.Browser, *browser.Page) {
	s.t.Helper()
	b := browser.New()
	p, err := b.AppLogin(context.Background(), s.url+"/admin/login/?next=/admin/", "keycloak-sso-login", user, s.env[strings.ToUpper(user)+"_PASSWORD"])
	if err != nil {
		s.t.Fatalf("login as %s: %v\nhops: %s\nserver log:\n%s", user, err, b.Trail(), s.serverLog())
	}
	return b, p
}

func (s *site) status(b *browser.Browser, path string) int {
	s.t.Helper()
	p, err := b.Do(context.Background(), http.MethodGet, s.url+path, nil, "")
	if err != nil {
		s.t.Fatal(err)
	}
	return p.Status
}

// kcAdmin sends an admin-API request into the site's realm.
func (s *site) kcAdmin(method, path string, body, out any) {
	s.t.Helper()
	if err := s.tb.KeycloakAdminRequest(context.Background(), method, "/"+s.realm+path, body, out); err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
}

func (s *site) id(path string) string {
	s.t.Helper()
	var found []struct {
		ID string `json:"id"`
	}
	s.kcAdmin(http.MethodGet, path, nil, &found)
	if len(found) != 1 {
		s.t.Fatalf("%s: %d results", path, len(found))
	}
	return found[0].ID
}

func (s *site) sessions(user string) int {
	s.t.Helper()
	var list []map[string]any
	s.kcAdmin(http.MethodGet, "/users/"+s.id("/users?exact=true&username="+user)+"/sessions", nil, &list)
	return len(list)
}

func (s *site) token(client, user string) string {
	s.t.Helper()
	a := keycloak.NewAdmin(s.tb.KeycloakURL, http.DefaultClient, keycloak.Credentials{Username: s.tb.KeycloakAdmin, Password: s.tb.KeycloakAdminPassword})
	secret, err := a.ClientSecret(context.Background(), s.realm, client)
	if err != nil {
		s.t.Fatal(err)
	}
	tok, err := keycloak.RequestToken(context.Background(), http.DefaultClient, s.tb.KeycloakURL, keycloak.TokenRequest{Realm: s.realm,
		ClientID: client, ClientSecret: secret, Username: user, Password: s.env[strings.ToUpper(user)+"_PASSWORD"]})
	if err != nil {
		s.t.Fatal(err)
	}
	return tok.AccessToken
}

func (s *site) bearer(path, token string) int {
	s.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// render runs ssoctl render django into the project and returns its JSON.
func (s *site) render() renderDoc {
	s.t.Helper()
	code, stdout, stderr := s.ssoctl("render", "django", "-f", s.path, "--site", "brewery", "--out", filepath.Join(s.dir, "project"), "-o", "json")
	var doc renderDoc
	if code != 0 || json.Unmarshal([]byte(stdout), &doc) != nil {
		s.t.Fatalf("render: exit %d\n%s\n%s", code, stdout, stderr)
	}
	return doc
}

// setUp applies the file, renders the app, builds the project and serves it.
// It returns when the first login can start, and the time apply started.
func (s *site) setUp() time.Time {
	s.t.Helper()
	// The plan says which changes the site needs.
	code, stdout, stderr := s.ssoctl("plan", "-f", s.path)
	if note := "(needed by django site brewery (" + s.lib + "))"; code != 0 || !strings.Contains(stdout, "+ keycloak client "+s.realm+"/brewery  "+note) ||
		!strings.Contains(stdout, "mapper "+s.realm+"/brewery/groups  "+note) {
		s.t.Errorf("plan does not note the site's needs: exit %d\n%s\n%s", code, stdout, stderr)
	}
	start := time.Now()
	if code, stdout, stderr := s.ssoctl("apply", "-f", s.path); code != 0 {
		s.t.Fatalf("apply: exit %d\n%s\n%s", code, stdout, stderr)
	}
	a := keycloak.NewAdmin(s.tb.KeycloakURL, http.DefaultClient, keycloak.Credentials{Username: s.tb.KeycloakAdmin, Password: s.tb.KeycloakAdminPassword})
	secret, err := a.ClientSecret(context.Background(), s.realm, "brewery")
	if err != nil {
		s.t.Fatal(err)
	}
	s.env["BREWERY_OIDC_SECRET"] = secret
	doc := s.render()
	if len(doc.Warnings) != 0 {
		s.t.Errorf("render after apply warns: %v", doc.Warnings)
	}
	again := s.render()
	for i := range doc.Files {
		if doc.Files[i].Path != again.Files[i].Path || doc.Files[i].SHA256 != again.Files[i].SHA256 {
			s.t.Errorf("a second render differs: %+v vs %+v", doc.Files[i], again.Files[i])
		}
	}
	for _, f := range doc.Files {
		data, err := os.ReadFile(filepath.Join(s.dir, "project", f.Path))
		if err != nil || strings.Contains(string(data), secret) {
			s.t.Errorf("%s: %v (or it holds the client secret)", f.Path, err)
		}
	}
	s.project()
	s.serve()
	return start
}

// scenario is the proof every library goes through.
func (s *site) scenario() {
	s.t.Helper()
	start := s.setUp()

	// alice (creators) is staff, in creators only, and may add beers.
	alice, page := s.login("alice")
	s.t.Logf("%s: from apply to alice's first login: %s", s.lib, time.Since(start).Round(time.Millisecond))
	if page.Status != 200 || page.URL.Path != "/admin/" {
		s.t.Fatalf("alice's login ended at %s (%d): %.300s\nserver log:\n%s", page.URL, page.Status, page.Text(), s.serverLog())
	}
	if st := s.user("alice"); !st.Staff || st.Superuser || !slices.Equal(st.Groups, []string{"creators"}) {
		s.t.Errorf("alice: %+v, want staff in [creators]", st)
	}
	if code := s.status(alice, "/admin/beers/beer/add/"); code != 200 {
		s.t.Errorf("alice on the add page: %d", code)
	}

	// bob (customers) may look but not add.
	bob, _ := s.login("bob")
	if st := s.user("bob"); !st.Staff || !slices.Equal(st.Groups, []string{"customers"}) {
		s.t.Errorf("bob: %+v, want staff in [customers]", st)
	}
	if c, a := s.status(bob, "/admin/beers/beer/"), s.status(bob, "/admin/beers/beer/add/"); c != 200 || a != 403 {
		s.t.Errorf("bob: changelist %d (want 200), add %d (want 403)", c, a)
	}

	// carol (no group) is not staff: the admin refuses her.
	carol, page := s.login("carol")
	if st := s.user("carol"); !st.Exists || st.Staff || len(st.Groups) != 0 {
		s.t.Errorf("carol: %+v, want a user without staff or groups", st)
	}
	if !strings.Contains(page.Text(), "not authorized") || s.status(carol, "/admin/beers/beer/") != 302 {
		s.t.Errorf("the admin let carol in: %s %.200s", page.URL, page.Text())
	}

	// bob moves from customers to creators in the file, and apply without
	// --prune makes the file's list his list; his next login moves him in
	// Django.
	data, err := os.ReadFile(s.path)
	if err != nil {
		s.t.Fatal(err)
	}
	moved := strings.Replace(string(data), "{username: bob, password_env: BOB_PASSWORD, groups: [customers]}", "{username: bob, password_env: BOB_PASSWORD, groups: [creators]}", 1)
	if moved == string(data) {
		s.t.Fatal("the file has no bob in customers to move")
	}
	if err := os.WriteFile(s.path, []byte(moved), 0o600); err != nil {
		s.t.Fatal(err)
	}
	if code, stdout, stderr := s.ssoctl("apply", "-f", s.path); code != 0 || !strings.Contains(stdout, `groups: "customers" -> (none)`) {
		s.t.Fatalf("moving bob: exit %d\n%s\n%s", code, stdout, stderr)
	}
	var groups []struct {
		Path string `json:"path"`
	}
	s.kcAdmin(http.MethodGet, "/users/"+s.id("/users?exact=true&username=bob")+"/groups", nil, &groups)
	if len(groups) != 1 || groups[0].Path != "/creators" {
		s.t.Errorf("bob's Keycloak groups after the move: %+v, want [/creators]", groups)
	}
	bob, _ = s.login("bob")
	if st := s.user("bob"); !slices.Equal(st.Groups, []string{"creators"}) {
		s.t.Errorf("bob after the move: %+v, want [creators]", st)
	}
	if code := s.status(bob, "/admin/beers/beer/add/"); code != 200 {
		s.t.Errorf("bob after the move, add: %d", code)
	}

	// logout: keycloak ends the Keycloak session too.
	if n := s.sessions("alice"); n == 0 {
		s.t.Fatal("alice has no Keycloak session before logout")
	}
	s.logout(alice)
	if n := s.sessions("alice"); n != 0 {
		s.t.Errorf("after logout alice still has %d Keycloak session(s)\nhops: %s", n, alice.Trail())
	}

	if s.api != "" {
		path := "/api/whoami/"
		if s.api == "django-keycloak-auth" {
			path = "/api/roles/"
		}
		if code := s.bearer(path, s.token("brewery", "alice")); code != 200 {
			s.t.Errorf("%s: a token of the site's client got %d\nserver log:\n%s", s.api, code, s.serverLog())
		}
		if code := s.bearer(path, s.token("other-app", "alice")); code != 401 {
			s.t.Errorf("%s: a token of another client got %d, want 401", s.api, code)
		}
	}
}

// logout posts the admin's logout form (through the rendered view) and
// follows Keycloak back, confirming when Keycloak asks.
func (s *site) logout(b *browser.Browser) {
	s.t.Helper()
	ctx := context.Background()
	page, err := b.Get(ctx, s.url+"/admin/")
	if err != nil {
		s.t.Fatal(err)
	}
	f := page.Form("logout-form")
	if f == nil {
		s.t.Fatalf("no logout form on the admin page: %.300s", page.Text())
	}
	page, err = b.Submit(ctx, page, f, nil)
	if err != nil {
		s.t.Fatalf("logout: %v (%s)", err, b.Trail())
	}
	if confirm := page.Form("kc-logout-confirm"); confirm != nil || strings.Contains(page.Text(), "Do you want to log out") {
		// The rendered logout passes the ID token (or ends the session with the
		// refresh token), so Keycloak never needs to ask.
		s.t.Errorf("Keycloak asked to confirm the logout: the site gave it neither an id_token_hint nor a refresh token")
		for _, f := range page.Forms() {
			if _, ok := f.Fields["session_code"]; ok {
				if page, err = b.Submit(ctx, page, f, url.Values{"confirmLogout": {"Logout"}}); err != nil {
					s.t.Fatal(err)
				}
			}
		}
	}
	if !strings.HasPrefix(page.URL.String(), s.url) {
		s.t.Errorf("logout ended at %s, not on the site: %.200s", page.URL, page.Text())
	}
}

func TestIntegrationDjangoMozilla(t *testing.T) {
	s := newSite(t, "mozilla-django-oidc", "mozilla-django-oidc")
	s.scenario()
	// Negative twin: the groups mapper without the userinfo flag. render warns,
	// and alice, whose groups mozilla reads from userinfo, gets none.
	clientID := s.id("/clients?clientId=brewery")
	var mappers []map[string]any
	s.kcAdmin(http.MethodGet, "/clients/"+clientID+"/protocol-mappers/models", nil, &mappers)
	for _, m := range mappers {
		if m["name"] == "groups" {
			m["config"].(map[string]any)["userinfo.token.claim"] = "false"
			s.kcAdmin(http.MethodPut, "/clients/"+clientID+"/protocol-mappers/models/"+m["id"].(string), m, nil)
		}
	}
	if doc := s.render(); !slices.ContainsFunc(doc.Warnings, func(w string) bool { return strings.Contains(w, "userinfo: false") }) {
		t.Errorf("render does not warn of the groups mapper without userinfo: %v", doc.Warnings)
	}
	s.login("alice")
	if st := s.user("alice"); st.Staff || len(st.Groups) != 0 {
		t.Errorf("without groups in userinfo alice should lose her groups: %+v", st)
	}
}

func TestIntegrationDjangoKeycloakOIDC(t *testing.T) {
	newSite(t, "django-keycloak-oidc", "").scenario()
}

func TestIntegrationDjangoSocialAuth(t *testing.T) {
	s := newSite(t, "social-auth", "drf-oidc-auth")
	s.scenario()
	// Negative twin: no audience mapper. render warns; social-auth fails
	// with its own "Invalid audience" error.
	clientID := s.id("/clients?clientId=brewery")
	var mappers []map[string]any
	s.kcAdmin(http.MethodGet, "/clients/"+clientID+"/protocol-mappers/models", nil, &mappers)
	for _, m := range mappers {
		if m["protocolMapper"] == "oidc-audience-mapper" {
			s.kcAdmin(http.MethodDelete, "/clients/"+clientID+"/protocol-mappers/models/"+m["id"].(string), nil, nil)
		}
	}
	if doc := s.render(); !slices.ContainsFunc(doc.Warnings, func(w string) bool { return strings.Contains(w, "audience mapper") }) {
		t.Errorf("render does not warn of the missing audience mapper: %v", doc.Warnings)
	}
	b := browser.New()
	page, err := b.AppLogin(context.Background(), s.url+"/admin/login/?next=/admin/", "keycloak-sso-login", "bob", s.env["BOB_PASSWORD"])
	if err == nil && page.Status == 200 && page.URL.Path == "/admin/" {
		t.Fatal("social-auth logged bob in without an audience mapper")
	}
	if log := s.serverLog(); !strings.Contains(log, "InvalidAudienceError") || !strings.Contains(log, "An authentication response field could not be verified") {
		t.Errorf("social-auth's own error is not in the server log:\n%s", lastLines(log, 30))
	}
}

func TestIntegrationDjangoSocialAuthOIDC(t *testing.T) {
	newSite(t, "social-auth-oidc", "").scenario()
}

func TestIntegrationDjangoAllauth(t *testing.T) {
	s := newSite(t, "allauth", "django-keycloak-auth")
	s.scenario()
	// Negative twin: signed userinfo. render warns; allauth fails on it.
	clientID := s.id("/clients?clientId=brewery")
	var c map[string]any
	s.kcAdmin(http.MethodGet, "/clients/"+clientID, nil, &c)
	c["attributes"].(map[string]any)[keycloak.AttrUserinfoSignatureAlg] = "RS256"
	s.kcAdmin(http.MethodPut, "/clients/"+clientID, c, nil)
	if doc := s.render(); !slices.ContainsFunc(doc.Warnings, func(w string) bool { return strings.Contains(w, "signed") }) {
		t.Errorf("render does not warn of the signed userinfo: %v", doc.Warnings)
	}
	b := browser.New()
	page, err := b.AppLogin(context.Background(), s.url+"/admin/login/?next=/admin/", "keycloak-sso-login", "alice", s.env["ALICE_PASSWORD"])
	if err == nil && page.URL.Path == "/admin/" && page.Status == 200 {
		t.Fatal("allauth logged alice in with signed userinfo")
	}
	if err == nil && !strings.Contains(page.Text(), "Third-Party Login Failure") {
		t.Errorf("allauth's failure page: %.300s", page.Text())
	}
	if log := s.serverLog(); !strings.Contains(log, "JSONDecodeError") {
		t.Errorf("allauth's own error is not in the server log:\n%s", lastLines(log, 30))
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// The libraries render refuses fail for the reason it gives, on the real
// Keycloak: django-jwt-oidc's JSON token request, and django-admin-sso's
// scope "email" (no ID token comes back).
func TestIntegrationDjangoRefusalsAreProven(t *testing.T) {
	s := newSite(t, "django-jwt-oidc", "")
	code, _, stderr := s.ssoctl("render", "django", "-f", s.path, "--site", "brewery", "--out", s.dir)
	if code != ExitFindings || !strings.Contains(stderr, "Use mozilla-django-oidc instead") {
		t.Fatalf("render of django-jwt-oidc: exit %d %q", code, stderr)
	}
	// A refused site needs nothing: apply makes the plain client.
	if code, stdout, stderr := s.ssoctl("apply", "-f", s.path); code != 0 {
		t.Fatalf("apply: exit %d\n%s\n%s", code, stdout, stderr)
	}
	ctx := context.Background()
	tokenURL := s.tb.KeycloakURL + "/realms/" + s.realm + "/protocol/openid-connect/token"
	resp, err := http.Post(tokenURL, "application/json", strings.NewReader(`{"grant_type":"authorization_code","code":"x","client_id":"brewery"}`))
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]string
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != 400 || body["error_description"] != "Missing form parameter: grant_type" {
		t.Errorf("Keycloak's answer to a JSON token request: %d %v", resp.StatusCode, body)
	}

	// scope=email, as django-admin-sso asks: the code flow works, but the token
	// response carries no ID token for its callback to read.
	clientID := s.id("/clients?clientId=brewery")
	var c map[string]any
	s.kcAdmin(http.MethodGet, "/clients/"+clientID, nil, &c)
	c["redirectUris"] = []string{"http://127.0.0.1:1/admin/admin_sso/assignment/end/"}
	s.kcAdmin(http.MethodPut, "/clients/"+clientID, c, nil)
	b := browser.New()
	auth := s.tb.KeycloakURL + "/realms/" + s.realm + "/protocol/openid-connect/auth?" + url.Values{"client_id": {"brewery"},
		"response_type": {"code"}, "scope": {"email"}, "redirect_uri": {"http://127.0.0.1:1/admin/admin_sso/assignment/end/"}, "state": {"s"}}.Encode()
	page, err := b.Get(ctx, auth)
	if err != nil {
		t.Fatal(err)
	}
	f := page.Form("kc-form-login")
	if f == nil {
		t.Fatalf("no Keycloak login form: %.300s", page.Text())
	}
	p, err := b.Do(ctx, http.MethodPost, f.Action, url.Values{"username": {"alice"}, "password": {s.env["ALICE_PASSWORD"]}, "credentialId": {""}}, page.URL.String())
	if err != nil {
		t.Fatal(err)
	}
	p, err = b.FollowUntil(ctx, p, func(u *url.URL) bool { return u.Host == "127.0.0.1:1" })
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := url.Parse(p.Header.Get("Location"))
	a := keycloak.NewAdmin(s.tb.KeycloakURL, http.DefaultClient, keycloak.Credentials{Username: s.tb.KeycloakAdmin, Password: s.tb.KeycloakAdminPassword})
	secret, _ := a.ClientSecret(ctx, s.realm, "brewery")
	tok, err := keycloak.TokenGrant(ctx, http.DefaultClient, s.tb.KeycloakURL, s.realm, url.Values{"grant_type": {"authorization_code"},
		"code": {loc.Query().Get("code")}, "client_id": {"brewery"}, "client_secret": {secret}, "redirect_uri": {"http://127.0.0.1:1/admin/admin_sso/assignment/end/"}})
	if err != nil {
		t.Fatalf("code exchange: %v (redirect %s)", err, loc)
	}
	if tok.AccessToken == "" || tok.IDToken != "" {
		t.Errorf("scope email: access token %v, ID token %q; django-admin-sso reads the ID token", tok.AccessToken != "", tok.IDToken)
	}
	for _, lib := range []string{"django-admin-sso", "django-oidc"} {
		text, _ := os.ReadFile(s.path)
		os.WriteFile(s.path, []byte(strings.Replace(string(text), "library: django-jwt-oidc", "library: "+lib, 1)), 0o600)
		if code, _, stderr := s.ssoctl("render", "django", "-f", s.path, "--out", s.dir); code != ExitFindings || !strings.Contains(stderr, "does not render "+lib) {
			t.Errorf("render of %s: exit %d %q", lib, code, stderr)
		}
		os.WriteFile(s.path, text, 0o600)
	}
}
