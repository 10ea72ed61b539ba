//go:build integration

package cmd

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssoctl/ssoctl/internal/browser"
	"github.com/ssoctl/ssoctl/internal/httpclient"
	"github.com/ssoctl/ssoctl/internal/totp"
	"github.com/ssoctl/ssoctl/testbed"
)

// The browser-otp flow of examples/realm.yaml, in a realm of its own,
// bound as the browser flow; CHANGE marks where the changed file differs.
const flowsFile = `keycloak:
  realm: REALM
  create_realm: true
  flows:
    - alias: FLOW
      description: the cookie, or the password and then OTP when the user has one
      executions:
        - {authenticator: auth-cookie, requirement: ALTERNATIVE}
CHANGE_INSERT        - subflow: FLOW-forms
          requirement: CHANGE_REQ
          executions:
            - {authenticator: auth-username-password-form, requirement: REQUIRED}
            - subflow: FLOW-conditional
              requirement: CONDITIONAL
              executions:
                - {authenticator: conditional-user-configured, requirement: REQUIRED}
                - {authenticator: auth-otp-form, requirement: REQUIRED}
  bindings: {browser: BOUND}
  clients:
    - client_id: hflow-web
      access: public
      redirect_uris: [http://127.0.0.1:1/cb]
`

// flowsText is flowsFile for realm with flow alias flow, bound as bound,
// unchanged or changed (an execution inserted in the middle, the forms
// subflow's requirement changed).
func flowsText(realm, flow, bound string, changed bool) string {
	s := strings.ReplaceAll(flowsFile, "REALM", realm)
	s = strings.ReplaceAll(s, "BOUND", bound)
	s = strings.ReplaceAll(s, "FLOW", flow)
	if changed {
		s = strings.ReplaceAll(s, "CHANGE_INSERT", "        - {authenticator: auth-spnego, requirement: DISABLED}\n")
		s = strings.ReplaceAll(s, "CHANGE_REQ", "REQUIRED")
	} else {
		s = strings.ReplaceAll(s, "CHANGE_INSERT", "")
		s = strings.ReplaceAll(s, "CHANGE_REQ", "ALTERNATIVE")
	}
	return s
}

// flowRealm is one realm of these tests: its name, the admin API, and a
// file to apply.
type flowRealm struct {
	tb    testbed.Env
	env   map[string]string
	realm string
	dir   string
}

func newFlowRealm(t *testing.T, name string) *flowRealm {
	t.Helper()
	tb := testbed.Load(t)
	fr := &flowRealm{tb: tb, env: testEnv(tb), realm: fmt.Sprintf("hflow-%s-%d", name, time.Now().UnixNano()%1e8), dir: t.TempDir()}
	t.Cleanup(func() { tb.DeleteRealm(context.Background(), fr.realm) })
	return fr
}

func (fr *flowRealm) admin(t *testing.T, method, path string, body, out any) {
	t.Helper()
	if err := fr.tb.KeycloakAdminRequest(context.Background(), method, "/"+url.PathEscape(fr.realm)+path, body, out); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
}

// apply writes text and applies it with ssoctl, counting its requests;
// it wants exit 0.
func (fr *flowRealm) apply(t *testing.T, text string) (*requestCounter, string) {
	t.Helper()
	path := filepath.Join(fr.dir, "sso.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	rc := &requestCounter{}
	code, out := runApply(context.Background(), fr.env, path, rc)
	if code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, out)
	}
	return rc, out
}

// planPaths plans text and returns the paths of the requests it made.
func (fr *flowRealm) planPaths(t *testing.T, text string) []string {
	t.Helper()
	path := filepath.Join(fr.dir, "sso.yaml")
	os.WriteFile(path, []byte(text), 0o600)
	ios, _, out, errOut := TestIO()
	f := NewFactory(ios)
	f.Getenv = func(k string) string { return fr.env[k] }
	var mu sync.Mutex
	var paths []string
	f.HTTPClient = func(o httpclient.Options) (*http.Client, error) {
		hc, err := httpclient.New(o)
		if err != nil {
			return nil, err
		}
		hc.Transport = recordPaths{hc.Transport, func(p string) { mu.Lock(); paths = append(paths, p); mu.Unlock() }}
		return hc, nil
	}
	if code := Run(f, []string{"plan", "-f", path}); code != 0 {
		t.Fatalf("plan: exit %d\n%s\n%s", code, out, errOut)
	}
	return paths
}

type recordPaths struct {
	base http.RoundTripper
	rec  func(string)
}

func (r recordPaths) RoundTrip(req *http.Request) (*http.Response, error) {
	r.rec(req.Method + " " + req.URL.Path)
	return r.base.RoundTrip(req)
}

// executions lists a flow's executions as "level name requirement", with
// their ids.
func (fr *flowRealm) executions(t *testing.T, flow string) (rows []string, ids map[string]string) {
	t.Helper()
	var list []struct {
		ID, Requirement, DisplayName, ProviderID string
		AuthenticationFlow                       bool
		Level                                    int
	}
	fr.admin(t, http.MethodGet, "/authentication/flows/"+url.PathEscape(flow)+"/executions", nil, &list)
	ids = map[string]string{}
	for _, e := range list {
		name := e.ProviderID
		if e.AuthenticationFlow {
			name = "flow:" + e.DisplayName
		}
		rows = append(rows, fmt.Sprintf("%d %s %s", e.Level, name, e.Requirement))
		ids[name] = e.ID
	}
	return rows, ids
}

// otpUser is a test user with a password and an OTP credential.
type otpUser struct{ name, password, secret string }

// importOTPUsers creates n users, each with a password and a TOTP
// credential whose raw secret is known, in one partial import.
func (fr *flowRealm) importOTPUsers(t *testing.T, n int) []otpUser {
	t.Helper()
	var users []otpUser
	var reps []map[string]any
	for i := range n {
		u := otpUser{name: fmt.Sprintf("otp%02d", i), password: fmt.Sprintf("Pw-%02d-flows", i), secret: fmt.Sprintf("hflow-secret-%02d-abcdefgh", i)}
		users = append(users, u)
		reps = append(reps, map[string]any{
			"username": u.name, "enabled": true, "email": u.name + "@example.com", "emailVerified": true,
			"firstName": "O", "lastName": "T",
			"credentials": []map[string]any{
				{"type": "password", "value": u.password, "temporary": false},
				{"type": "otp", "userLabel": "test",
					"secretData":     fmt.Sprintf(`{"value":%q}`, u.secret),
					"credentialData": `{"subType":"totp","digits":6,"counter":0,"period":30,"algorithm":"HmacSHA1"}`},
			},
		})
	}
	var res struct {
		Added int `json:"added"`
	}
	fr.admin(t, http.MethodPost, "/partialImport", map[string]any{"ifResourceExists": "FAIL", "users": reps}, &res)
	if res.Added != n {
		t.Fatalf("partial import added %d users, want %d", res.Added, n)
	}
	return users
}

// pendingLogin is a login stopped between its first and last form page:
// the password was accepted and Keycloak shows the OTP form.
type pendingLogin struct {
	u    otpUser
	b    *browser.Browser
	page *browser.Page
}

const flowsRedirect = "http://127.0.0.1:1/cb"

// startLogin opens the client's login, posts the user's password and
// wants the OTP page.
func (fr *flowRealm) startLogin(ctx context.Context, u otpUser) (*pendingLogin, error) {
	b := browser.New()
	b.Stop = func(l *url.URL) bool { return l.Host == "127.0.0.1:1" }
	q := url.Values{"client_id": {"hflow-web"}, "redirect_uri": {flowsRedirect}, "response_type": {"code"}, "scope": {"openid"}, "state": {"s-" + u.name}}
	p, err := b.Get(ctx, fr.tb.KeycloakURL+"/realms/"+url.PathEscape(fr.realm)+"/protocol/openid-connect/auth?"+q.Encode())
	if err != nil {
		return nil, err
	}
	f := p.Form("kc-form-login")
	if f == nil {
		return nil, fmt.Errorf("%s: no login form (status %d): %.300s", u.name, p.Status, p.Text())
	}
	next, err := b.Submit(ctx, p, f, url.Values{"username": {u.name}, "password": {u.password}, "credentialId": {""}})
	if err != nil {
		return nil, err
	}
	if otpForm(next) == nil {
		return nil, fmt.Errorf("%s: no OTP form after the password (status %d): %.300s", u.name, next.Status, next.Text())
	}
	return &pendingLogin{u: u, b: b, page: next}, nil
}

// otpForm is the OTP form of a page, or nil.
func otpForm(p *browser.Page) *browser.Form {
	for _, f := range p.Forms() {
		if _, ok := f.Fields["otp"]; ok || slices.Contains(f.Has, "otp") {
			return f
		}
	}
	return nil
}

// finish posts the OTP code; it returns the authorization code, or the
// page Keycloak showed instead.
func (l *pendingLogin) finish(ctx context.Context) (code string, shown string, err error) {
	c, err := totp.Code([]byte(l.u.secret), time.Now(), totp.Policy{})
	if err != nil {
		return "", "", err
	}
	next, err := l.b.Submit(ctx, l.page, otpForm(l.page), url.Values{"otp": {c}})
	if err != nil {
		return "", "", err
	}
	if next.Status/100 == 3 {
		loc, err := url.Parse(next.Header.Get("Location"))
		if err == nil && loc.Query().Get("code") != "" {
			return loc.Query().Get("code"), "", nil
		}
	}
	text := next.Text()
	return "", fmt.Sprintf("status %d at %s: %.800s", next.Status, next.URL.Path, text), nil
}

// startAll brings every user's login to its OTP page.
func (fr *flowRealm) startAll(t *testing.T, users []otpUser) []*pendingLogin {
	t.Helper()
	ls := make([]*pendingLogin, len(users))
	errs := make([]error, len(users))
	var wg sync.WaitGroup
	for i, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ls[i], errs[i] = fr.startLogin(context.Background(), u)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return ls
}

// finishAll finishes every login; it returns the codes got and the pages
// shown instead.
func finishAll(t *testing.T, ls []*pendingLogin) (codes int, shown []string) {
	t.Helper()
	type res struct {
		code, shown string
		err         error
	}
	out := make([]res, len(ls))
	var wg sync.WaitGroup
	for i, l := range ls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, s, err := l.finish(context.Background())
			out[i] = res{c, s, err}
		}()
	}
	wg.Wait()
	for i, r := range out {
		switch {
		case r.err != nil:
			t.Fatalf("%s: %v", ls[i].u.name, r.err)
		case r.code != "":
			codes++
		default:
			shown = append(shown, ls[i].u.name+": "+r.shown)
		}
	}
	return codes, shown
}

const nLogins = 20

// (a) The browser-otp flow applied and bound; executions read back in file
// order; a re-apply writes nothing. (b) 20 logins on their OTP page
// survive ssoctl's change of the flow (an execution inserted in the
// middle, a requirement changed): all 20 get their code, and the
// executions that stayed kept their ids.
func TestIntegrationFlowsChangeInPlaceKeepsLoginsAlive(t *testing.T) {
	fr := newFlowRealm(t, "inplace")
	flow := "browser-otp"
	_, out := fr.apply(t, flowsText(fr.realm, flow, flow, false))
	if !strings.Contains(out, "+ keycloak flow "+fr.realm+"/"+flow) {
		t.Errorf("apply does not show the flow created:\n%s", out)
	}
	rows, before := fr.executions(t, flow)
	want := []string{
		"0 auth-cookie ALTERNATIVE",
		"0 flow:browser-otp-forms ALTERNATIVE",
		"1 auth-username-password-form REQUIRED",
		"1 flow:browser-otp-conditional CONDITIONAL",
		"2 conditional-user-configured REQUIRED",
		"2 auth-otp-form REQUIRED",
	}
	if !slices.Equal(rows, want) {
		t.Fatalf("executions read back:\n%s\nwant (file order):\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
	var realm struct {
		BrowserFlow string `json:"browserFlow"`
	}
	fr.admin(t, http.MethodGet, "", nil, &realm)
	if realm.BrowserFlow != flow {
		t.Fatalf("browserFlow = %q, want %s", realm.BrowserFlow, flow)
	}
	rc, out := fr.apply(t, flowsText(fr.realm, flow, flow, false))
	if w := rc.writes.Load(); w != 0 {
		t.Fatalf("a re-apply wrote %d times:\n%s", w, out)
	}
	// A no-op plan reads the flows from the export it reads anyway.
	if paths := fr.planPaths(t, flowsText(fr.realm, flow, flow, false)); slices.ContainsFunc(paths, func(p string) bool { return strings.Contains(p, "/authentication/") }) {
		t.Fatalf("a no-op plan asked for flows:\n%s", strings.Join(paths, "\n"))
	}

	users := fr.importOTPUsers(t, nLogins)
	ls := fr.startAll(t, users)

	// The change, planned: one change of the flow naming what changes.
	path := filepath.Join(fr.dir, "sso.yaml")
	os.WriteFile(path, []byte(flowsText(fr.realm, flow, flow, true)), 0o600)
	code, planOut, planErr := runEnv(t, fr.env, "", "plan", "-f", path)
	if code != 0 {
		t.Fatalf("plan: exit %d\n%s\n%s", code, planOut, planErr)
	}
	for _, s := range []string{"~ keycloak flow " + fr.realm + "/" + flow, `executions[1]: (none) -> "auth-spnego DISABLED"`, `executions[2].requirement: "ALTERNATIVE" -> "REQUIRED"`} {
		if !strings.Contains(planOut, s) {
			t.Errorf("plan lacks %q:\n%s", s, planOut)
		}
	}
	if n := strings.Count(planOut, "keycloak flow "); n != 1 {
		t.Errorf("plan shows %d flow changes, want 1:\n%s", n, planOut)
	}
	fr.apply(t, flowsText(fr.realm, flow, flow, true))
	rows, after := fr.executions(t, flow)
	wantChanged := append([]string{want[0], "0 auth-spnego DISABLED", "0 flow:browser-otp-forms REQUIRED"}, want[2:]...)
	if !slices.Equal(rows, wantChanged) {
		t.Fatalf("executions after the change:\n%s\nwant:\n%s", strings.Join(rows, "\n"), strings.Join(wantChanged, "\n"))
	}
	for name, id := range before {
		if after[name] != id {
			t.Errorf("execution %s: id %s became %s; the executions that stay keep their ids", name, id, after[name])
		}
	}
	codes, shown := finishAll(t, ls)
	if codes != nLogins {
		t.Fatalf("%d of %d logins in progress finished after the change in place; the others were shown:\n%s", codes, nLogins, strings.Join(shown, "\n"))
	}
	rc, out = fr.apply(t, flowsText(fr.realm, flow, flow, true))
	if w := rc.writes.Load(); w != 0 {
		t.Fatalf("a re-apply of the change wrote %d times:\n%s", w, out)
	}
}

// (c) The peers' way: the flow deleted (after binding the realm back to
// Keycloak's browser flow, as Keycloak refuses to delete a bound flow),
// re-created with the change, and bound again. The 20 logins in progress
// fail: the OTP post is refused.
func TestIntegrationFlowsDeleteAndRecreateBreaksLogins(t *testing.T) {
	fr := newFlowRealm(t, "recreate")
	flow := "browser-otp"
	fr.apply(t, flowsText(fr.realm, flow, flow, false))
	users := fr.importOTPUsers(t, nLogins)
	ls := fr.startAll(t, users)

	fr.admin(t, http.MethodPut, "", map[string]any{"browserFlow": "browser"}, nil)
	var flows []struct{ ID, Alias string }
	fr.admin(t, http.MethodGet, "/authentication/flows", nil, &flows)
	for _, f := range flows {
		if f.Alias == flow {
			fr.admin(t, http.MethodDelete, "/authentication/flows/"+f.ID, nil, nil)
		}
	}
	fr.apply(t, flowsText(fr.realm, flow, flow, true))

	codes, shown := finishAll(t, ls)
	t.Logf("delete and re-create: %d of %d logins finished; Keycloak showed e.g. %s", codes, nLogins, first(shown))
	if codes != 0 {
		t.Fatalf("%d of %d logins in progress survived the flow's deletion and re-creation; want none (measured: the OTP post is refused)", codes, nLogins)
	}
	wantRestarted(t, shown)
	// The login starts over: an empty sign-in page, no message.
	for _, s := range shown {
		if strings.Contains(s, "Restart login") {
			t.Errorf("want an empty sign-in page, got %s", s)
		}
	}
}

// (d) The suggested way: the changed flow built beside the old one
// (new alias, new subflows) and the binding switched to it, the old flow
// kept. The 20 logins in progress fail too.
func TestIntegrationFlowsRebuildBesideAndRebindBreaksLogins(t *testing.T) {
	fr := newFlowRealm(t, "beside")
	fr.apply(t, flowsText(fr.realm, "otp-v1", "otp-v1", false))
	users := fr.importOTPUsers(t, nLogins)
	ls := fr.startAll(t, users)

	// Both flows in the file, the binding on the new one.
	both := flowsText(fr.realm, "otp-v1", "otp-v2", false)
	v2 := flowsText(fr.realm, "otp-v2", "otp-v2", true)
	start := strings.Index(v2, "    - alias: otp-v2")
	end := strings.Index(v2, "  bindings:")
	both = strings.Replace(both, "  bindings:", v2[start:end]+"  bindings:", 1)
	fr.apply(t, both)
	var realm struct {
		BrowserFlow string `json:"browserFlow"`
	}
	fr.admin(t, http.MethodGet, "", nil, &realm)
	if realm.BrowserFlow != "otp-v2" {
		t.Fatalf("browserFlow = %q, want otp-v2", realm.BrowserFlow)
	}
	if rows, _ := fr.executions(t, "otp-v1"); len(rows) != 6 {
		t.Fatalf("the old flow is kept: %v", rows)
	}

	codes, shown := finishAll(t, ls)
	t.Logf("rebuild beside and rebind: %d of %d logins finished; Keycloak showed e.g. %s", codes, nLogins, first(shown))
	if codes != 0 {
		t.Fatalf("%d of %d logins in progress survived the rebind to a flow built beside; want none (measured: the OTP post is refused)", codes, nLogins)
	}
	wantRestarted(t, shown)
	// The new flow runs from its start, with the user already named: the
	// password page with "Restart login" beside the username.
	for _, s := range shown {
		if !strings.Contains(s, "Restart login") {
			t.Errorf("want the password asked again for the user already named, got %s", s)
		}
	}
}

// wantRestarted checks Keycloak's answer to an OTP post whose flow is
// gone: the sign-in page again (status 200, the password form), not the
// application's redirect.
func wantRestarted(t *testing.T, shown []string) {
	t.Helper()
	for _, s := range shown {
		if !strings.Contains(s, "status 200 at ") || !strings.Contains(s, "/login-actions/authenticate") || !strings.Contains(s, "Sign in to your account") || !strings.Contains(s, "Password") {
			t.Errorf("want the sign-in page shown again, got %s", s)
		}
	}
}

func first(s []string) string {
	if len(s) == 0 {
		return "(nothing)"
	}
	return s[0]
}

// A realm with flows (one with a config, one copied from Keycloak's
// registration flow, with its form-flow), bindings and a client's
// override: exported, applied to an empty realm, exported again: the
// same text; a plan of the copy has nothing to do.
func TestIntegrationFlowsExportApplyExport(t *testing.T) {
	fr := newFlowRealm(t, "export")
	text := flowsText(fr.realm, "browser-otp", "browser-otp", true)
	text = strings.Replace(text, "  bindings: {browser: browser-otp}", `    - alias: idp-first
      executions:
        - {authenticator: identity-provider-redirector, requirement: ALTERNATIVE, config: {defaultProvider: corp}}
        - subflow: idp-first-forms      # auth-username-password-form allows only REQUIRED
          requirement: ALTERNATIVE
          executions:
            - {authenticator: auth-username-password-form}
    - alias: my-registration
      copy_of: registration
  bindings: {browser: browser-otp, registration: my-registration}`, 1)
	text = strings.Replace(text, "      access: public\n", "      access: public\n      flows: {browser: idp-first}\n", 1)
	fr.apply(t, text)

	export := func(realm string) string {
		t.Helper()
		code, out, errOut := runEnv(t, fr.env, "", "export", "keycloak", "--realm", realm)
		if code != 0 {
			t.Fatalf("export %s: exit %d\n%s", realm, code, errOut)
		}
		return out
	}
	first := export(fr.realm)
	for _, s := range []string{"alias: browser-otp", "alias: idp-first", "defaultProvider: corp", "alias: my-registration", "subflow: my-registration registration form",
		"type: form-flow", "authenticator: registration-user-creation", "browser: browser-otp", "registration: my-registration", "flows:\n        browser: idp-first"} {
		if !strings.Contains(first, s) {
			t.Errorf("export lacks %q:\n%s", s, first)
		}
	}
	if strings.Contains(first, "alias: browser\n") || strings.Contains(first, "direct_grant: direct grant") {
		t.Errorf("export holds built-in flows or default bindings:\n%s", first)
	}
	copyRealm := fr.realm + "-copy"
	t.Cleanup(func() { fr.tb.DeleteRealm(context.Background(), copyRealm) })
	copyPath := filepath.Join(t.TempDir(), "copy.yaml")
	os.WriteFile(copyPath, []byte(strings.Replace(first, "realm: "+fr.realm+"\n", "realm: "+copyRealm+"\n  create_realm: true\n", 1)), 0o600)
	if code, stdout, stderr := runEnv(t, fr.env, "", "apply", "-f", copyPath); code != 0 {
		t.Fatalf("apply the export: exit %d\n%s\n%s", code, stdout, stderr)
	}
	second := export(copyRealm)
	if a, b := first, strings.ReplaceAll(second, copyRealm, fr.realm); a != b {
		t.Errorf("export -> apply -> export differs:\n%s\n---\n%s", a, b)
	}
	if code, stdout, _ := runEnv(t, fr.env, "", "plan", "-f", copyPath, "--detailed-exitcode"); code != 0 {
		t.Errorf("plan of the copy: exit %d\n%s", code, stdout)
	}
}

// Planning refuses what only the server can tell: an authenticator it does
// not offer, a requirement the authenticator does not allow, a binding to
// a flow nobody has; each an exit 2 naming the file's line.
func TestIntegrationFlowsPlanRefusesBadFlows(t *testing.T) {
	fr := newFlowRealm(t, "refuse")
	good := flowsText(fr.realm, "browser-otp", "browser-otp", false)
	fr.apply(t, good)
	path := filepath.Join(fr.dir, "sso.yaml")
	for _, tc := range []struct{ name, text, want string }{
		{"unknown authenticator", strings.Replace(good, "auth-otp-form", "auth-otp-from", 1),
			`keycloak.flows[0].executions[1].executions[1].executions[1].authenticator`},
		{"requirement not allowed", strings.Replace(good, "{authenticator: auth-cookie, requirement: ALTERNATIVE}", "{authenticator: auth-cookie, requirement: CONDITIONAL}", 1),
			`auth-cookie cannot be CONDITIONAL; Keycloak allows REQUIRED, ALTERNATIVE, DISABLED`},
		{"binding to nothing", strings.Replace(good, "bindings: {browser: browser-otp}", "bindings: {browser: nowhere}", 1),
			`bindings.browser names flow "nowhere"`},
	} {
		os.WriteFile(path, []byte(tc.text), 0o600)
		code, out, errOut := runEnv(t, fr.env, "", "plan", "-f", path)
		if code != 2 || !strings.Contains(errOut, tc.want) || !regexp.MustCompile(`sso\.yaml:\d+: keycloak\.`).MatchString(errOut) {
			t.Errorf("%s: exit %d, want 2 with %q and the file's line:\n%s\n%s", tc.name, code, tc.want, out, errOut)
		}
		t.Logf("%s: %s", tc.name, errOut)
		if tc.name == "unknown authenticator" && !strings.Contains(errOut, "auth-otp-form") {
			t.Errorf("the error lists what the server offers: %s", errOut)
		}
	}
	// A realm still to be created is checked too (against master's
	// providers and flows).
	fresh := flowsText(fr.realm+"-new", "browser-otp", "browser-otp", false)
	for _, bad := range []string{strings.Replace(fresh, "auth-otp-form", "auth-otp-from", 1),
		strings.Replace(fresh, "{authenticator: auth-cookie, requirement: ALTERNATIVE}", "{authenticator: auth-cookie, requirement: CONDITIONAL}", 1)} {
		os.WriteFile(path, []byte(bad), 0o600)
		if code, _, errOut := runEnv(t, fr.env, "", "plan", "-f", path); code != 2 || !strings.Contains(errOut, "keycloak.flows[0].executions") {
			t.Errorf("a new realm's bad flow: exit %d, want 2: %s", code, errOut)
		}
	}
}

// A flow ssoctl created that the file no longer names is pruned only with
// --prune, and never while a client's override binds it.
func TestIntegrationFlowsPrune(t *testing.T) {
	fr := newFlowRealm(t, "prune")
	base := flowsText(fr.realm, "browser-otp", "browser-otp", false)
	extra := `    - alias: spare
      executions:
        - {authenticator: auth-username-password-form}
`
	withSpare := strings.Replace(base, "  bindings:", extra+"  bindings:", 1)
	fr.apply(t, withSpare)
	exists := func(alias string) bool {
		var flows []struct{ Alias string }
		fr.admin(t, http.MethodGet, "/authentication/flows", nil, &flows)
		return slices.ContainsFunc(flows, func(f struct{ Alias string }) bool { return f.Alias == alias })
	}
	if !exists("spare") {
		t.Fatal("spare was not created")
	}
	path := filepath.Join(fr.dir, "sso.yaml")
	// Bound by a client's override, it stays even with --prune.
	bound := strings.Replace(base, "      access: public\n", "      access: public\n      flows: {browser: spare}\n", 1)
	os.WriteFile(path, []byte(bound), 0o600)
	if code, out, errOut := runEnv(t, fr.env, "", "apply", "-f", path, "--prune"); code != 0 || !strings.Contains(out+errOut, "binds it") {
		t.Fatalf("apply --prune with spare bound: exit %d\n%s\n%s", code, out, errOut)
	}
	if !exists("spare") {
		t.Fatal("a bound flow was pruned")
	}
	// Unbound: listed, kept without --prune, deleted with it.
	noOverride := strings.Replace(base, "      access: public\n", "      access: public\n      flows: {browser: ''}\n", 1)
	fr.apply(t, noOverride)
	code, out, _ := runEnv(t, fr.env, "", "plan", "-f", path)
	if code != 0 || !strings.Contains(out, "apply --prune would delete") || !strings.Contains(out, "keycloak flow "+fr.realm+"/spare") {
		t.Fatalf("plan lists spare as prunable: exit %d\n%s", code, out)
	}
	if !exists("spare") {
		t.Fatal("spare was deleted without --prune")
	}
	if code, out, errOut := runEnv(t, fr.env, "", "apply", "-f", path, "--prune"); code != 0 {
		t.Fatalf("apply --prune: exit %d\n%s\n%s", code, out, errOut)
	}
	if exists("spare") {
		t.Fatal("apply --prune kept spare")
	}
	if !exists("browser-otp") {
		t.Fatal("apply --prune deleted the flow the file names")
	}
}

// An apply cut off in the middle of changing a flow (its context cancelled
// after a few writes) leaves the flow half changed; the next apply
// finishes it, and the one after writes nothing.
func TestIntegrationFlowsInterruptedApplyConverges(t *testing.T) {
	fr := newFlowRealm(t, "interrupt")
	flow := "browser-otp"
	fr.apply(t, flowsText(fr.realm, flow, flow, false))
	_, before := fr.executions(t, flow)
	changed := flowsText(fr.realm, flow, flow, true)
	// More: a new subflow with two executions, and the OTP form dropped.
	changed = strings.Replace(changed, "                - {authenticator: auth-otp-form, requirement: REQUIRED}\n",
		"        - subflow: extra-step\n          requirement: DISABLED\n          executions:\n            - {authenticator: auth-otp-form}\n            - {authenticator: auth-password-form}\n", 1)
	path := filepath.Join(fr.dir, "sso.yaml")
	os.WriteFile(path, []byte(changed), 0o600)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rc := &requestCounter{cancelAfter: 3, cancel: cancel}
	code, out := runApply(ctx, fr.env, path, rc)
	if code == 0 {
		t.Fatalf("the cut-off apply succeeded (%d writes):\n%s", rc.writes.Load(), out)
	}
	rows, _ := fr.executions(t, flow)
	t.Logf("after the cut (%d writes): %v", rc.writes.Load(), rows)
	fr.apply(t, changed)
	rows, after := fr.executions(t, flow)
	want := []string{
		"0 auth-cookie ALTERNATIVE",
		"0 auth-spnego DISABLED",
		"0 flow:browser-otp-forms REQUIRED",
		"1 auth-username-password-form REQUIRED",
		"1 flow:browser-otp-conditional CONDITIONAL",
		"2 conditional-user-configured REQUIRED",
		"0 flow:extra-step DISABLED",
		"1 auth-otp-form REQUIRED",
		"1 auth-password-form REQUIRED",
	}
	if !slices.Equal(rows, want) {
		t.Fatalf("after the second apply:\n%s\nwant:\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
	for _, name := range []string{"auth-cookie", "flow:browser-otp-forms", "auth-username-password-form", "conditional-user-configured"} {
		if before[name] != after[name] {
			t.Errorf("%s changed id across the interrupted apply", name)
		}
	}
	rc2, out := fr.apply(t, changed)
	if w := rc2.writes.Load(); w != 0 {
		t.Fatalf("a third apply wrote %d times:\n%s", w, out)
	}
}
