//go:build integration

package cmd

import (
	"context"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ssoctl/ssoctl/inspect/doctor"
	"github.com/ssoctl/ssoctl/internal/browser"
	"github.com/ssoctl/ssoctl/internal/totp"
	"github.com/ssoctl/ssoctl/testbed"
)

// The login proofs of issue 24: each realm is set up by sso.yaml and
// ssoctl apply (settings, required actions), then logged in to through
// Keycloak's real login pages with internal/browser and checked with
// doctor --user. Realms are named hlog-….

// loginRig is one realm made from an sso.yaml body.
type loginRig struct {
	t     *testing.T
	tb    testbed.Env
	env   map[string]string
	realm string
	mount string
	path  string
}

// newLoginRig applies text (REALM and MOUNT replaced) and deletes the
// realm and the mount when the test ends.
func newLoginRig(t *testing.T, name, text string, env ...string) *loginRig {
	t.Helper()
	tb := testbed.Load(t)
	id := fmt.Sprintf("%d", time.Now().UnixNano()%1e9)
	r := &loginRig{t: t, tb: tb, env: maps2(testEnv(tb), env...), realm: "hlog-" + name + "-" + id, mount: "hlog-" + name + "-" + id}
	r.path = filepath.Join(t.TempDir(), "sso.yaml")
	r.write(text)
	t.Cleanup(func() {
		tb.DeleteRealm(context.Background(), r.realm)
		tb.Vault().Sys().DisableAuthWithContext(context.Background(), r.mount)
	})
	if code, stdout, stderr := runEnv(t, r.env, "", "apply", "-f", r.path); code != 0 {
		t.Fatalf("apply: exit %d\n%s\n%s", code, stdout, stderr)
	}
	return r
}

func (r *loginRig) write(text string) {
	text = strings.NewReplacer("REALM", r.realm, "MOUNT", r.mount).Replace(text)
	if err := os.WriteFile(r.path, []byte(text), 0o600); err != nil {
		r.t.Fatal(err)
	}
}

// browser is a browser whose login ends at the Vault CLI's listener.
func (r *loginRig) browser() *browser.Browser {
	b := browser.New()
	b.Stop = func(u *url.URL) bool { return u.Host == "localhost:8250" }
	return b
}

// login starts client vault's authorization-code flow and signs in; the
// page is Keycloak's redirect to the callback on success.
func (r *loginRig) login(b *browser.Browser, user, password string) (*browser.Page, error) {
	q := url.Values{"client_id": {"vault"}, "response_type": {"code"}, "scope": {"openid"}, "redirect_uri": {"http://localhost:8250/oidc/callback"}, "state": {"s1"}}
	p, err := b.Get(context.Background(), r.tb.KeycloakURL+"/realms/"+r.realm+"/protocol/openid-connect/auth?"+q.Encode())
	if err != nil {
		return nil, err
	}
	return b.KeycloakLogin(context.Background(), p, user, password)
}

// codeBack fails the test unless p is the redirect to the callback with a
// code.
func codeBack(t *testing.T, p *browser.Page, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := url.Parse(p.Header.Get("Location"))
	if p.Status/100 != 3 || loc == nil || loc.Query().Get("code") == "" || loc.Query().Get("state") != "s1" {
		t.Fatalf("no code came back: %d %s: %.300s", p.Status, p.Header.Get("Location"), p.Text())
	}
}

func (r *loginRig) kc(method, path string, body, out any) {
	r.t.Helper()
	if err := r.tb.KeycloakAdminRequest(context.Background(), method, "/"+r.realm+path, body, out); err != nil {
		r.t.Fatalf("%s %s: %v", method, path, err)
	}
}

func (r *loginRig) userRep(name string) map[string]any {
	var users []map[string]any
	r.kc(http.MethodGet, "/users?exact=true&username="+name, nil, &users)
	if len(users) != 1 {
		r.t.Fatalf("user %s: %v", name, users)
	}
	return users[0]
}

func (r *loginRig) credentialTypes(name string) []string {
	var creds []map[string]any
	r.kc(http.MethodGet, "/users/"+r.userRep(name)["id"].(string)+"/credentials", nil, &creds)
	var out []string
	for _, c := range creds {
		out = append(out, c["type"].(string))
	}
	return out
}

// doctor runs doctor --user on the realm (with the vault mount when mount)
// and returns its exit code, report and stderr.
func (r *loginRig) doctor(user string, mount bool, env []string, extra ...string) (int, doctor.Report, string) {
	r.t.Helper()
	args := []string{"doctor", "--realm", r.realm, "--client", "vault", "--user", user, "-o", "json"}
	if mount {
		args = append(args, "--vault-mount", r.mount)
	}
	code, stdout, stderr := runEnv(r.t, maps2(r.env, env...), "", append(args, extra...)...)
	var rep doctor.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		r.t.Fatalf("doctor: exit %d, %v\n%s\n%s", code, err, stdout, stderr)
	}
	return code, rep, stderr
}

// savePages makes b write the Keycloak pages it is shown into
// $SSOCTL_SAVE_PAGES, when it is set, as PAGEID[SUFFIX].html (the unit
// tests' internal/browser/testdata comes from there): suffix is added to
// each page shown a second time in a row (a refusal).
func savePages(t *testing.T, b *browser.Browser, suffix string) {
	dir := os.Getenv("SSOCTL_SAVE_PAGES")
	if dir == "" {
		return
	}
	last := ""
	b.OnPage = func(p *browser.Page) {
		id := p.PageID()
		if id == "" || p.Status != 200 {
			return
		}
		name := strings.TrimPrefix(id, "login-")
		if id == last {
			name += suffix
		}
		last = id
		if err := os.WriteFile(filepath.Join(dir, name+".html"), p.Body, 0o644); err != nil {
			t.Error(err)
		}
	}
}

func loginOf(rep doctor.Report, prefix string) *doctor.Login {
	for i := range rep.Logins {
		if strings.HasPrefix(rep.Logins[i].Path, prefix) {
			return &rep.Logins[i]
		}
	}
	return nil
}

func checksWith(rep doctor.Report, id string) []doctor.Check {
	var out []doctor.Check
	for _, c := range rep.Checks {
		if c.ID == id {
			out = append(out, c)
		}
	}
	return out
}

const totpFile = `
keycloak:
  realm: REALM
  create_realm: true
  settings:
    otp_policy: {algorithm: HmacSHA256, digits: 8, period: 10}
    events: {user_events: true}
  required_actions:
    - {alias: CONFIGURE_TOTP, default: true}
  clients:
    - client_id: vault
      redirect_uris: [http://localhost:8250/oidc/callback]
      direct_access_grants: true
      mappers:
        - audience: vault
  users:
    - {username: carol, password_env: CAROL_PASSWORD}
vault:
  policies:
    reader: {template: vault/reader.hcl}
  auth:
    - path: MOUNT
      type: oidc
      client_id: vault
      default_role: default
      roles:
        default:
          bound_audiences: [vault]
          allowed_redirect_uris: [http://localhost:8250/oidc/callback]
          policies: [reader]
`

// CONFIGURE_TOTP as a default required action: a new user's first login
// sets up OTP from the secret the page shows, the next needs the code (a
// wrong one refused in Keycloak's words, the right one passes), and doctor
// logs in through the OTP flow with --totp-secret-env, and says what is
// missing without it.
func TestIntegrationLoginsConfigureTOTP(t *testing.T) {
	r := newLoginRig(t, "totp", totpFile)

	// The first login stops at the setup unless told to do it.
	_, err := r.login(r.browser(), "carol", "carol-Pw-3")
	if !errors.Is(err, browser.ErrOTPSetup) {
		t.Fatalf("first login without SetupOTP: %v", err)
	}
	b := r.browser()
	savePages(t, b, "-manual")
	b.SetupOTP = true
	b.OTPDevice = "hlog-phone"
	p, err := r.login(b, "carol", "carol-Pw-3")
	codeBack(t, p, err)
	if b.OTP == nil || len(b.OTP.Key) != 20 {
		t.Fatalf("no secret read from the setup page: %+v", b.OTP)
	}
	// The page showed the realm's policy, and the code made from it
	// finished the setup.
	if pol := b.OTP.Policy; pol.Algorithm != "HmacSHA256" || pol.Digits != 8 || pol.Period != 10 {
		t.Fatalf("policy read from the page %+v", pol)
	}
	if got := r.credentialTypes("carol"); !slices.Contains(got, "otp") {
		t.Fatalf("carol's credentials after the setup: %v", got)
	}
	if ra, _ := r.userRep("carol")["requiredActions"].([]any); len(ra) != 0 {
		t.Fatalf("required actions left: %v", ra)
	}
	otp := b.OTP

	// The next login asks for the code.
	_, err = r.login(r.browser(), "carol", "carol-Pw-3")
	if !errors.Is(err, browser.ErrOTPRequired) {
		t.Fatalf("second login without a code: %v", err)
	}
	wrong := r.browser()
	wrong.OTP = &browser.OTP{Key: []byte("not-carols-secret-20"), Policy: otp.Policy, Window: 1}
	savePages(t, wrong, "-invalid")
	_, err = r.login(wrong, "carol", "carol-Pw-3")
	if err == nil || !strings.Contains(err.Error(), "Keycloak refused the one-time code of carol: Invalid authenticator code.") {
		t.Fatalf("a wrong code: %v", err)
	}
	right := r.browser()
	right.OTP = otp
	p, err = r.login(right, "carol", "carol-Pw-3")
	codeBack(t, p, err)

	// doctor without the secret: the password grant is not sent, the
	// browser login stops at the OTP page; each says what to pass.
	code, rep, _ := r.doctor("carol", true, []string{"SSOCTL_PASSWORD", "carol-Pw-3"})
	kl, vl := loginOf(rep, "keycloak"), loginOf(rep, "vault-oidc")
	if code != ExitFindings || kl == nil || kl.OK || vl == nil || vl.OK {
		t.Fatalf("doctor without the secret: exit %d, logins %+v", code, rep.Logins)
	}
	for _, l := range []*doctor.Login{kl, vl} {
		if !strings.HasPrefix(l.Message, "Keycloak asks carol for a one-time code: pass --totp-secret-env VAR") {
			t.Errorf("%s: %q", l.Path, l.Message)
		}
	}

	// doctor with it, once Keycloak has seen none of the codes it will
	// compute (it refuses a code used before).
	time.Sleep(time.Until(otp.FreshAt()))
	secret := base32.StdEncoding.EncodeToString(otp.Key)
	code, rep, stderr := r.doctor("carol", true, []string{"SSOCTL_PASSWORD", "carol-Pw-3", "CAROL_TOTP", secret}, "--totp-secret-env", "CAROL_TOTP")
	kl, vl = loginOf(rep, "keycloak"), loginOf(rep, "vault-oidc")
	if kl == nil || !kl.OK || !strings.Contains(kl.Granted, "with a one-time code") || vl == nil || !vl.OK {
		t.Fatalf("doctor with the secret: exit %d, logins %+v\n%s", code, rep.Logins, stderr)
	}
	// Events are on: each login names the LOGIN event Keycloak stored.
	for _, l := range []*doctor.Login{kl, vl} {
		if !strings.HasPrefix(l.Evidence, "Keycloak's LOGIN event ") || !strings.Contains(l.Evidence, "client vault") {
			t.Errorf("%s evidence %q", l.Path, l.Evidence)
		}
	}
	if cs := checksWith(rep, "login.events"); len(cs) != 0 {
		t.Errorf("events warnings %+v", cs)
	}
	if code != 0 {
		t.Errorf("doctor with the secret: exit %d, failed %v", code, failedIDs(rep))
	}
	out, _ := json.Marshal(rep)
	if strings.Contains(string(out)+stderr, secret) || strings.Contains(string(out)+stderr, string(otp.Key)) {
		t.Error("doctor's output shows the OTP secret")
	}
}

var totpPolicy6x10 = totp.Policy{Algorithm: "HmacSHA1", Digits: 6, Period: 10}

const totpUserFile = `
keycloak:
  realm: REALM
  create_realm: true
  settings:
    otp_policy: {digits: 6, period: 10}
    brute_force: {enabled: true, max_failures: 5}
  required_actions:
    - {alias: CONFIGURE_TOTP, default: true}
  clients:
    - client_id: vault
      redirect_uris: [http://localhost:8250/oidc/callback]
      direct_access_grants: true
  users:
    - {username: dave, password_env: DAVE_PASSWORD, totp_secret_env: DAVE_TOTP}
    - {username: erin, password_env: ERIN_PASSWORD}
`

// A file user with totp_secret_env is created with that OTP credential:
// its login asks for the code, the code of the file's secret passes, and
// doctor -f finds the secret through the file. A user that exists without
// OTP is warned about, and left alone.
func TestIntegrationLoginsTOTPUserFromFile(t *testing.T) {
	// A secret whose bytes are not UTF-8 text, in the groups a setup page
	// shows.
	key := []byte{0xff, 0x00, 0x80, 0x81, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0xfe, 0xc3, 0x28, 12, 13, 14}
	grouped := strings.ToLower(base32.StdEncoding.EncodeToString(key))
	for i := 28; i > 0; i -= 4 {
		grouped = grouped[:i] + " " + grouped[i:]
	}
	env := []string{"DAVE_PASSWORD", "dave-Pw-4", "ERIN_PASSWORD", "erin-Pw-5", "DAVE_TOTP", grouped, "ERIN_TOTP", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"}
	text := totpUserFile
	r := newLoginRig(t, "file", text, env...)
	if got := r.credentialTypes("dave"); !slices.Equal(got, []string{"password", "otp"}) {
		t.Fatalf("dave's credentials %v", got)
	}
	// CONFIGURE_TOTP is a default action: Keycloak gives it to every new
	// user, and ssoctl takes it back from the one created with its
	// credential (else the direct grant says "Account is not fully set up").
	if ra := fmt.Sprint(r.userRep("dave")["requiredActions"]); strings.Contains(ra, "CONFIGURE_TOTP") {
		t.Errorf("dave, created with an OTP credential, still has to configure one: %s", ra)
	}
	if ra := fmt.Sprint(r.userRep("erin")["requiredActions"]); !strings.Contains(ra, "CONFIGURE_TOTP") {
		t.Errorf("erin, without OTP, lost the default action: %s", ra)
	}
	_, err := r.login(r.browser(), "dave", "dave-Pw-4")
	if !errors.Is(err, browser.ErrOTPRequired) {
		t.Fatalf("dave's login without a code: %v", err)
	}
	b := r.browser()
	b.OTP = &browser.OTP{Key: key, Policy: totpPolicy6x10, Window: 1}
	p, err := r.login(b, "dave", "dave-Pw-4")
	codeBack(t, p, err)

	// The plan shows no secret.
	code, stdout, stderr := runEnv(t, r.env, "", "plan", "-f", r.path)
	if code != 0 || strings.Contains(stdout+stderr, grouped) || strings.Contains(stdout+stderr, strings.ToUpper(strings.ReplaceAll(grouped, " ", ""))) {
		t.Fatalf("plan: exit %d\n%s\n%s", code, stdout, stderr)
	}

	// The plan does not check dave's password: a grant without a code
	// would be refused as a wrong password and counted as a failure.
	if strings.Contains(stdout, "user-password") {
		t.Errorf("plan resets the password of a user with OTP:\n%s", stdout)
	}
	var bf map[string]any
	r.kc(http.MethodGet, "/attack-detection/brute-force/users/"+r.userRep("dave")["id"].(string), nil, &bf)
	if n, _ := bf["numFailures"].(float64); n != 0 {
		t.Errorf("plan counted %v failed logins for dave", n)
	}

	// doctor -f: the file's totp_secret_env for dave.
	time.Sleep(time.Until(b.OTP.FreshAt()))
	code, stdout, stderr = runEnv(t, maps2(r.env, env...), "", "doctor", "-f", r.path, "--user", "dave", "-o", "json")
	var rep doctor.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("doctor: exit %d %v\n%s\n%s", code, err, stdout, stderr)
	}
	if kl := loginOf(rep, "keycloak"); kl == nil || !kl.OK || !strings.Contains(kl.Granted, "with a one-time code") {
		t.Fatalf("doctor -f: exit %d logins %+v", code, rep.Logins)
	}
	// Events are off in this realm: the login has no server-side trace.
	if cs := checksWith(rep, "login.events"); len(cs) != 1 || cs[0].Status != doctor.Warn || !strings.Contains(cs[0].Message, "its login evidence has no server-side trace") ||
		!strings.Contains(cs[0].FixYAML, "user_events: true") {
		t.Errorf("events warning %+v", cs)
	}

	// erin exists without OTP; the file now gives her a secret.
	r.write(strings.Replace(text, "{username: erin, password_env: ERIN_PASSWORD}", "{username: erin, password_env: ERIN_PASSWORD, totp_secret_env: ERIN_TOTP}", 1))
	code, stdout, stderr = runEnv(t, r.env, "", "apply", "-f", r.path)
	if code != 0 || !strings.Contains(stdout+stderr, "/erin exists without an OTP credential") {
		t.Fatalf("apply with erin's secret: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if got := r.credentialTypes("erin"); slices.Contains(got, "otp") {
		t.Fatalf("erin's credentials changed: %v", got)
	}
}

const termsFile = `
keycloak:
  realm: REALM
  create_realm: true
  settings:
    brute_force: {enabled: true, max_failures: 3, wait_increment: 60s, max_wait: 15m, quick_login_check: 0s}
  required_actions:
    - {alias: TERMS_AND_CONDITIONS, default: true}
  clients:
    - client_id: vault
      redirect_uris: [http://localhost:8250/oidc/callback]
      direct_access_grants: true
  users:
    - {username: frank, password_env: FRANK_PASSWORD}
    - {username: gina, password_env: GINA_PASSWORD}
`

// TERMS_AND_CONDITIONS as a default required action: the first login shows
// the terms, accepting them logs in, and the next login goes straight
// through.
func TestIntegrationLoginsTerms(t *testing.T) {
	r := newLoginRig(t, "terms", termsFile, "FRANK_PASSWORD", "frank-Pw-6", "GINA_PASSWORD", "gina-Pw-7")
	_, err := r.login(r.browser(), "frank", "frank-Pw-6")
	if !errors.Is(err, browser.ErrTerms) {
		t.Fatalf("a login that does not accept: %v", err)
	}
	b := r.browser()
	savePages(t, b, "")
	b.AcceptTerms = true
	p, err := r.login(b, "frank", "frank-Pw-6")
	codeBack(t, p, err)
	if ra, _ := r.userRep("frank")["requiredActions"].([]any); len(ra) != 0 {
		t.Fatalf("required actions left after accepting: %v", ra)
	}
	p, err = r.login(r.browser(), "frank", "frank-Pw-6")
	codeBack(t, p, err)
}

// Brute force: after max_failures wrong passwords the user is locked, and
// doctor --user says so with the time Keycloak unlocks, instead of a wrong
// password, and sends no login.
func TestIntegrationLoginsBruteForceLock(t *testing.T) {
	r := newLoginRig(t, "lock", termsFile, "FRANK_PASSWORD", "frank-Pw-6", "GINA_PASSWORD", "gina-Pw-7")
	for i := range 3 {
		_, err := r.login(r.browser(), "gina", "wrong-"+fmt.Sprint(i))
		if err == nil || !strings.Contains(err.Error(), "Invalid username or password.") {
			t.Fatalf("wrong password %d: %v", i, err)
		}
	}
	id := r.userRep("gina")["id"].(string)
	var bf struct {
		Disabled             bool  `json:"disabled"`
		NumFailures          int   `json:"numFailures"`
		FailedLoginNotBefore int64 `json:"failedLoginNotBefore"`
		LastFailure          int64 `json:"lastFailure"`
	}
	r.kc(http.MethodGet, "/attack-detection/brute-force/users/"+id, nil, &bf)
	if !bf.Disabled || bf.NumFailures != 3 || bf.FailedLoginNotBefore != bf.LastFailure/1000+60 {
		t.Fatalf("Keycloak's record %+v: want locked after 3 failures for wait_increment 60s", bf)
	}
	code, rep, _ := r.doctor("gina", false, []string{"SSOCTL_PASSWORD", "gina-Pw-7"})
	until := time.Unix(bf.FailedLoginNotBefore, 0).UTC().Format(time.RFC3339)
	cs := checksWith(rep, "login.lockout")
	if code != ExitFindings || len(cs) != 1 || !strings.HasPrefix(cs[0].Message, "gina is locked by brute-force detection until "+until) {
		t.Fatalf("doctor: exit %d, lockout %+v, checks %+v", code, cs, rep.Checks)
	}
	if l := loginOf(rep, "keycloak"); l == nil || l.Step != "brute-force detection" || l.Message != cs[0].Message {
		t.Errorf("login %+v", l)
	}
	r.kc(http.MethodGet, "/attack-detection/brute-force/users/"+id, nil, &bf)
	if bf.NumFailures != 3 {
		t.Errorf("doctor's run counted failures: %+v", bf)
	}
}
