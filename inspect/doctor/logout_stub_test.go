package doctor

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// These tests run the logout probe (Logout) through a stub of realm demo's
// Keycloak that plays the pages and answers a real Keycloak gives it (as
// cmd/logout_integration_test.go sees them): the login form, the redirect
// back with the state, the token endpoint checking the code, the PKCE
// verifier and the secret, the end_session_endpoint, the admin sessions
// listing, and a logout token posted to the probe's receiver while the
// logout is handled, signed with the realm's key.

const (
	lkAuth         = "GET /realms/demo/protocol/openid-connect/auth"
	lkAuthenticate = "POST /realms/demo/login-actions/authenticate"
	lkLogout       = "GET /realms/demo/protocol/openid-connect/logout"
	lkConfirm      = "POST /realms/demo/protocol/openid-connect/logout/logout-confirm"
	lkCerts        = "GET /realms/demo/protocol/openid-connect/certs"
	lkSessions     = "GET /admin/realms/demo/users/u-alice/sessions"
	lkSID          = "sid-1"
)

// fakeClient is one client of the stub realm.
type fakeClient struct {
	id, secret, redirect string
	// postLogout is the post.logout.redirect.uris attribute ("" none).
	postLogout     string
	backchannel    string
	frontchannel   bool
	noStandardFlow bool
	// noRefresh is "use.refresh.tokens" off: token answers carry no
	// refresh token.
	noRefresh bool
}

func (c *fakeClient) json() string {
	attrs := map[string]string{"backchannel.logout.session.required": "true", "backchannel.logout.revoke.offline.tokens": "false"}
	if c.postLogout != "" {
		attrs["post.logout.redirect.uris"] = c.postLogout
	}
	if c.backchannel != "" {
		attrs["backchannel.logout.url"] = c.backchannel
	}
	if c.noRefresh {
		attrs["use.refresh.tokens"] = "false"
	}
	var a []string
	for k, v := range attrs {
		a = append(a, fmt.Sprintf("%q:%q", k, v))
	}
	slices.Sort(a)
	return fmt.Sprintf(`[{"id":"u-%s","clientId":%q,"rootUrl":"","baseUrl":"","surrogateAuthRequired":false,"enabled":true,"alwaysDisplayInConsole":false,
"clientAuthenticatorType":"client-secret","redirectUris":[%q],"webOrigins":[],"notBefore":0,"bearerOnly":false,"consentRequired":false,
"standardFlowEnabled":%v,"implicitFlowEnabled":false,"directAccessGrantsEnabled":false,"serviceAccountsEnabled":false,"publicClient":%v,"frontchannelLogout":%v,
"protocol":"openid-connect","attributes":{%s},"fullScopeAllowed":true,"nodeReRegistrationTimeout":-1,
"defaultClientScopes":["web-origins","acr","roles","profile","basic","email"],"optionalClientScopes":["address","phone","offline_access","microprofile-jwt"],
"access":{"view":true,"configure":true,"manage":true}}]`, c.id, c.id, c.redirect, !c.noStandardFlow, c.secret == "", c.frontchannel, strings.Join(a, ","))
}

// logoutKC is the stub Keycloak and how it misbehaves.
type logoutKC struct {
	t    *testing.T
	base string
	a, b *fakeClient
	recv *Receiver

	wrongPassword bool // the form answers "Invalid username or password."
	formAgain     bool // the second login is shown the form again
	codeRefused   bool // the token endpoint refuses the code
	otherNonce    bool // ID tokens carry another nonce
	confirm       bool // the logout asks "Do you want to log out?"
	frontPage     bool // the logout answers with the front-channel page
	ignoreLogout  bool // the logout ends nothing
	// logoutRefused answers the logout with Keycloak's error page.
	logoutRefused bool
	// refreshDisabled refuses the refresh grant as a client whose
	// refresh tokens are off does.
	refreshDisabled bool
	// post makes the logout token posted to app-b's backchannel URL
	// while the logout is handled; nil posts none.
	post func() string
	// before are sessions of alice from before the probe; after, ones
	// that appear during it.
	before, after []string

	mu                  sync.Mutex
	pending             map[string]url.Values // authorization request by client
	codes               map[string]string     // code to client
	idTokens            map[string]string
	logoutQuery         url.Values
	loggedIn, loggedOut bool
}

// newLogoutKC is a sound realm: confidential app-a and app-b; app-a allows
// a post-logout redirect URI, app-b none; with a receiver, app-b's
// backchannel logout URL points at it and a valid logout token is posted.
func newLogoutKC(t *testing.T, receiver bool) *logoutKC {
	k := &logoutKC{t: t, pending: map[string]url.Values{}, codes: map[string]string{}, idTokens: map[string]string{},
		a: &fakeClient{id: "app-a", secret: "a-secret", redirect: "http://127.0.0.1:9/a/cb", postLogout: "http://127.0.0.1:9/a/bye"},
		b: &fakeClient{id: "app-b", secret: "b-secret", redirect: "http://127.0.0.1:9/b/cb"}}
	if receiver {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		k.recv = NewReceiver(l)
		t.Cleanup(func() { k.recv.Close() })
		k.b.backchannel = "http://" + l.Addr().String() + DefaultBackchannelPath
		k.post = k.logoutToken(realmKey, nil)
	}
	return k
}

// logoutToken is Keycloak's logout token for app-b's session, signed with
// key and changed by edit.
func (k *logoutKC) logoutToken(key *rsa.PrivateKey, edit func(map[string]any)) func() string {
	return func() string {
		claims := map[string]any{"iat": time.Now().Unix(), "jti": "lt-1", "iss": k.base + "/realms/demo", "aud": "app-b", "sub": "u-alice", "typ": "Logout",
			"sid": lkSID, "events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}}}
		if edit != nil {
			edit(claims)
		}
		return signedWith(k.t, key, claims)
	}
}

func (k *logoutKC) client(id string) *fakeClient {
	switch id {
	case k.a.id:
		return k.a
	case k.b.id:
		return k.b
	}
	return nil
}

func (k *logoutKC) loginPage(clientID, errorText string) string {
	msg := ""
	if errorText != "" {
		msg = `<div class="pf-v5-c-alert pf-m-danger"><span id="input-error" aria-live="polite">` + errorText + `</span></div>`
	}
	return `<!DOCTYPE html><html><head><title>Sign in to demo</title></head><body>` + msg + `<form id="kc-form-login" onsubmit="login.disabled = true; return true;" action="` + k.base +
		`/realms/demo/login-actions/authenticate?session_code=sc1&amp;execution=ex1&amp;client_id=` + clientID + `&amp;tab_id=tab1" method="post">
<input tabindex="1" id="username" name="username" value="" type="text" autofocus autocomplete="username"/>
<input tabindex="2" id="password" name="password" type="password" autocomplete="current-password"/>
<input type="hidden" id="id-hidden-input" name="credentialId"/>
<input tabindex="4" name="login" id="kc-login" type="submit" value="Sign In"/></form></body></html>`
}

// callback is Keycloak's redirect back to c with a code and the state.
func (k *logoutKC) callback(c *fakeClient) stubReply {
	q := k.pending[c.id]
	code := "code-" + c.id
	k.codes[code] = c.id
	return stubReply{Status: http.StatusFound, Location: c.redirect + "?" + url.Values{"state": {q.Get("state")}, "session_state": {lkSID},
		"iss": {k.base + "/realms/demo"}, "code": {code}}.Encode()}
}

func (k *logoutKC) authorize(r *http.Request) stubReply {
	k.mu.Lock()
	defer k.mu.Unlock()
	q := r.URL.Query()
	c := k.client(q.Get("client_id"))
	if c == nil || q.Get("redirect_uri") != c.redirect || q.Get("response_type") != "code" || q.Get("scope") != "openid" ||
		q.Get("code_challenge_method") != "S256" || q.Get("state") == "" || q.Get("nonce") == "" {
		k.t.Errorf("authorization request %s", r.URL.RawQuery)
		return stubReply{Status: http.StatusBadRequest, Body: "<html><body>Invalid parameter: redirect_uri</body></html>"}
	}
	k.pending[c.id] = q
	if c == k.a || k.formAgain {
		return stubReply{Body: k.loginPage(c.id, "")}
	}
	return k.callback(c) // Keycloak's SSO session: no form
}

func (k *logoutKC) authenticate(r *http.Request) stubReply {
	k.mu.Lock()
	defer k.mu.Unlock()
	r.ParseForm()
	c := k.client(r.URL.Query().Get("client_id"))
	if k.wrongPassword || r.PostForm.Get("username") != "alice" || r.PostForm.Get("password") != "alice-pw" {
		return stubReply{Body: k.loginPage(c.id, "Invalid username or password.")}
	}
	return k.callback(c)
}

func tokenError(status int, e, desc string) stubReply {
	return stubReply{Status: status, Body: fmt.Sprintf(`{"error":%q,"error_description":%q}`, e, desc)}
}

// tokens is the token answer for c, its ID token carrying nonce.
func (k *logoutKC) tokens(c *fakeClient, nonce string) stubReply {
	now := time.Now().Unix()
	claims := map[string]any{"exp": now + 300, "iat": now, "auth_time": now, "jti": "j-" + c.id, "iss": k.base + "/realms/demo", "aud": c.id, "sub": "u-alice",
		"typ": "ID", "azp": c.id, "sid": lkSID, "preferred_username": "alice", "at_hash": "h"}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	id := signed(k.t, claims)
	k.idTokens[c.id] = id
	delete(claims, "nonce")
	claims["typ"] = "Bearer"
	access := signed(k.t, claims)
	refresh := ""
	if !c.noRefresh {
		refresh = fmt.Sprintf(`"refresh_expires_in":1800,"refresh_token":"rt-%s",`, c.id)
	}
	return stubReply{Body: fmt.Sprintf(`{"access_token":%q,"expires_in":300,%s"token_type":"Bearer","id_token":%q,"not-before-policy":0,"session_state":%q,"scope":"openid profile email"}`,
		access, refresh, id, lkSID)}
}

func (k *logoutKC) token(r *http.Request) stubReply {
	k.mu.Lock()
	defer k.mu.Unlock()
	r.ParseForm()
	f := r.PostForm
	c := k.client(f.Get("client_id"))
	if c == nil || f.Get("client_secret") != c.secret {
		return tokenError(http.StatusUnauthorized, "unauthorized_client", "Invalid client or Invalid client credentials")
	}
	switch f.Get("grant_type") {
	case "authorization_code":
		code := f.Get("code")
		if k.codes[code] != c.id || k.codeRefused {
			return tokenError(http.StatusBadRequest, "invalid_grant", "Code not valid")
		}
		delete(k.codes, code)
		q := k.pending[c.id]
		sum := sha256.Sum256([]byte(f.Get("code_verifier")))
		if base64.RawURLEncoding.EncodeToString(sum[:]) != q.Get("code_challenge") {
			return tokenError(http.StatusBadRequest, "invalid_grant", "PKCE verification failed: Code mismatch")
		}
		if f.Get("redirect_uri") != c.redirect {
			return tokenError(http.StatusBadRequest, "invalid_grant", "Incorrect redirect_uri")
		}
		nonce := q.Get("nonce")
		if k.otherNonce {
			nonce = "another-nonce"
		}
		k.loggedIn = true
		return k.tokens(c, nonce)
	case "refresh_token":
		if f.Get("refresh_token") != "rt-"+c.id {
			return tokenError(http.StatusBadRequest, "invalid_grant", "Invalid refresh token")
		}
		if k.refreshDisabled {
			return tokenError(http.StatusBadRequest, "unauthorized_client", "Client not allowed for refresh token grant")
		}
		if k.loggedOut {
			return tokenError(http.StatusBadRequest, "invalid_grant", "Session not active")
		}
		return k.tokens(c, "")
	}
	return tokenError(http.StatusBadRequest, "unsupported_grant_type", "Unsupported grant_type")
}

func (k *logoutKC) endSession(r *http.Request) stubReply {
	k.mu.Lock()
	defer k.mu.Unlock()
	q := r.URL.Query()
	if q.Get("id_token_hint") != k.idTokens[k.a.id] || q.Get("client_id") != k.a.id {
		k.t.Errorf("logout request %s", r.URL.RawQuery)
	}
	if k.logoutRefused {
		return stubReply{Status: http.StatusBadRequest, Body: `<!DOCTYPE html><html><head><title>Sign in to demo</title></head><body><h1 id="kc-page-title">We are sorry...</h1>
<p class="instruction">Invalid parameter: id_token_hint</p></body></html>`}
	}
	if k.confirm {
		k.logoutQuery = q
		return stubReply{Body: `<!DOCTYPE html><html><head><title>Logging out</title></head><body><h1 id="kc-page-title">Logging out</h1>
<div id="kc-logout-confirm" class="content-area"><p class="instruction">Do you want to log out?</p>
<form class="form-actions" action="` + k.base + `/realms/demo/protocol/openid-connect/logout/logout-confirm" method="POST">
<input type="hidden" name="session_code" value="lc1">
<input tabindex="4" class="pf-v5-c-button pf-m-primary" name="confirmLogout" id="kc-logout" type="submit" value="Logout"/>
</form></div></body></html>`}
	}
	return k.loggedOutAnswer(q)
}

func (k *logoutKC) confirmed(r *http.Request) stubReply {
	r.ParseForm()
	k.mu.Lock()
	defer k.mu.Unlock()
	if r.PostForm.Get("session_code") != "lc1" || r.PostForm.Get("confirmLogout") != "Logout" {
		k.t.Errorf("logout confirmation %s", r.PostForm.Encode())
	}
	return k.loggedOutAnswer(k.logoutQuery)
}

// loggedOutAnswer ends the session (posting the logout token on the way,
// as Keycloak does while it handles the logout) and answers the browser.
func (k *logoutKC) loggedOutAnswer(q url.Values) stubReply {
	if !k.ignoreLogout {
		k.loggedOut = true
		if k.post != nil {
			resp, err := http.PostForm(k.b.backchannel, url.Values{"logout_token": {k.post()}})
			if err != nil {
				k.t.Errorf("back-channel POST: %v", err)
			} else {
				resp.Body.Close()
			}
		}
	}
	switch post := q.Get("post_logout_redirect_uri"); {
	case k.frontPage:
		return stubReply{Body: `<!DOCTYPE html><html><head><title>Logging out</title></head><body><h1 id="kc-page-title">Logging out</h1>
<p>You are logging out from following apps</p><ul><li>app-b<iframe src="http://127.0.0.1:1/b/front" style="display:none;"></iframe></li></ul>
<a id="continue" class="btn btn-primary" href="` + post + `">Continue</a></body></html>`}
	case post != "":
		return stubReply{Status: http.StatusFound, Location: post + "?state=" + url.QueryEscape(q.Get("state"))}
	}
	return stubReply{Body: `<!DOCTYPE html><html><head><title>Sign in to demo</title></head><body><h1 id="kc-page-title">You are logged out</h1></body></html>`}
}

func (k *logoutKC) sessions(*http.Request) stubReply {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := time.Now().UnixMilli()
	session := func(id string, clients string) string {
		return fmt.Sprintf(`{"id":%q,"username":"alice","userId":"u-alice","ipAddress":"127.0.0.1","start":%d,"lastAccess":%d,"rememberMe":false,"clients":{%s},"transientUser":false}`,
			id, now, now, clients)
	}
	var list []string
	for _, id := range k.before {
		list = append(list, session(id, `"u-app-a":"app-a"`))
	}
	if k.loggedIn && !k.loggedOut {
		list = append(list, session(lkSID, `"u-app-a":"app-a","u-app-b":"app-b"`))
	}
	if k.loggedIn {
		for _, id := range k.after {
			list = append(list, session(id, `"u-app-a":"app-a"`))
		}
	}
	return stubReply{Body: "[" + strings.Join(list, ",") + "]"}
}

// run starts the stub and runs the probe; the routes in without are ones
// this run must not reach.
func (k *logoutKC) run(o LogoutOptions, without ...string) (*LogoutReport, *stubServers, error) {
	k.t.Helper()
	s := newStubServers(k.t, func(base string) map[string]stubReply {
		k.base = base
		r := map[string]stubReply{
			"GET /realms/demo/.well-known/openid-configuration": {Body: discoveryDoc(base)},
			"GET /admin/realms/demo/clients": {Func: func(r *http.Request) stubReply {
				if c := k.client(r.URL.Query().Get("clientId")); c != nil {
					return stubReply{Body: c.json()}
				}
				return stubReply{Body: `[]`}
			}},
			"GET /admin/realms/demo/users": {Body: `[{"id":"u-alice","username":"alice","firstName":"Alice","lastName":"Liddell","email":"alice@example.com","emailVerified":true,
"createdTimestamp":1796126400000,"enabled":true,"totp":false,"disableableCredentialTypes":[],"requiredActions":[],"notBefore":0}]`},
			lkSessions:     {Func: k.sessions},
			lkAuth:         {Func: k.authorize},
			lkAuthenticate: {Func: k.authenticate},
			stubDemoToken:  {Func: k.token},
			lkLogout:       {Func: k.endSession},
		}
		for _, c := range []*fakeClient{k.a, k.b} {
			if c.secret != "" {
				r["GET /admin/realms/demo/clients/u-"+c.id+"/client-secret"] = stubReply{Body: `{"type":"secret","value":"` + c.secret + `"}`}
			}
		}
		if k.confirm {
			r[lkConfirm] = stubReply{Func: k.confirmed}
		}
		if k.post != nil {
			r[lkCerts] = stubReply{Body: realmJWKS()}
		}
		for _, w := range without {
			delete(r, w)
		}
		return r
	}, nil)
	o.Receiver = k.recv
	rep, err := Logout(context.Background(), LogoutTarget{KeycloakURL: s.kc.URL(), Realm: "demo", User: "alice", Password: "alice-pw", First: "app-a", Second: "app-b"}, s.sys, o)
	return rep, s, err
}

// checks lists the checks as "status id: message".
func checkLines(cs []Check) string {
	var out []string
	for _, c := range cs {
		out = append(out, fmt.Sprintf("%s %s: %s [%s]", c.Status, c.ID, c.Message, c.Evidence))
	}
	return strings.Join(out, "\n")
}

// wantCheck fails the test unless the report has check id with status st,
// its message msg and its evidence holding each of ev.
func wantCheck(t *testing.T, rep *LogoutReport, id string, st Status, msg string, ev ...string) *Check {
	t.Helper()
	c := checkOf(rep.Checks, id)
	if c == nil {
		t.Errorf("no check %s in\n%s", id, checkLines(rep.Checks))
		return &Check{}
	}
	if c.Status != st || c.Message != msg {
		t.Errorf("%s: %s %q\nwant %s %q", id, c.Status, c.Message, st, msg)
	}
	for _, e := range ev {
		if !strings.Contains(c.Evidence, e) {
			t.Errorf("%s: evidence %q lacks %q", id, c.Evidence, e)
		}
	}
	return c
}

var tokenRules = []string{"signature", "iss", "aud", "times", "events", "sid", "sub", "nonce"}

// Single sign-out that works: one SSO session for both logins, the logout
// redirected back with the state, the refresh refused, no session left,
// and the logout token posted during the logout and passing every rule.
func TestLogoutProbePasses(t *testing.T) {
	k := newLogoutKC(t, true)
	var secrets []string
	rep, s, err := k.run(LogoutOptions{Secret: func(v string) { secrets = append(secrets, v) }})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ok " + LogoutLoginFirst, "ok " + LogoutLoginSecond, "ok " + LogoutSameSession, "ok " + LogoutBCURL,
		"ok " + LogoutEndSession, "ok " + LogoutRefresh, "ok " + LogoutSessions, "ok " + LogoutBCReceived}
	for _, r := range tokenRules {
		want = append(want, "ok "+LogoutBCTokenCheck+r)
	}
	if got := checkIDs(rep.Checks); !slices.Equal(got, want) || rep.Failed() {
		t.Errorf("checks:\n%s", checkLines(rep.Checks))
	}
	addr := k.recv.Addr().String()
	wantCheck(t, rep, LogoutLoginFirst, OK, "alice logged in to app-a with the password form",
		"authorization-code flow with PKCE to http://127.0.0.1:9/a/cb, 2 hops; code exchanged with the client secret; ID token sid \"sid-1\"")
	wantCheck(t, rep, LogoutLoginSecond, OK, "alice logged in to app-b without the password form (Keycloak's SSO cookie)", "1 hops")
	wantCheck(t, rep, LogoutSameSession, OK, "both logins share one SSO session (sid sid-1)", "the admin API lists session sid-1 with clients app-a, app-b")
	wantCheck(t, rep, LogoutBCURL, OK, "client app-b's backchannel logout URL http://"+addr+"/backchannel-logout points at the receiver on "+addr)
	wantCheck(t, rep, LogoutEndSession, OK, "RP-initiated logout of app-a at the end_session_endpoint ended the session",
		"with id_token_hint and post_logout_redirect_uri http://127.0.0.1:9/a/bye; Keycloak redirected to http://127.0.0.1:9/a/bye with the state")
	wantCheck(t, rep, LogoutRefresh, OK, "Keycloak refuses app-b's refresh token", `Keycloak answered 400 "invalid_grant: Session not active"`)
	wantCheck(t, rep, LogoutSessions, OK, "the admin API lists no session for alice")
	wantCheck(t, rep, LogoutBCReceived, OK, "Keycloak posted a logout token for app-b to the receiver",
		"POST /backchannel-logout from 127.0.0.1:", "(application/x-www-form-urlencoded)", "before Keycloak answered the logout request")
	wantCheck(t, rep, LogoutBCTokenCheck+"sid", OK, `logout token sid: sid is the session's "sid-1"`)
	wantCheck(t, rep, LogoutBCTokenCheck+"signature", OK, `logout token signature: signed with RS256 by key "k1" from JWKS `+s.kc.URL()+"/realms/demo/protocol/openid-connect/certs")
	if rep.SID != lkSID || rep.Logout == nil || rep.Logout.Confirmed || rep.Logout.PostLogoutRedirectURI != "http://127.0.0.1:9/a/bye" ||
		rep.Logout.Endpoint != s.kc.URL()+"/realms/demo/protocol/openid-connect/logout" {
		t.Errorf("report %+v, logout %+v", rep, rep.Logout)
	}
	bc := rep.Backchannel
	if bc == nil || !bc.Received || !bc.TargetsReceiver || !bc.DuringLogout || !bc.AnsweredBeforeLogout || bc.Path != DefaultBackchannelPath ||
		bc.Token == nil || !bc.Token.Valid || bc.Token.Claims["sid"] != lkSID {
		t.Errorf("backchannel %+v", bc)
	}
	// The probe tells the caller each secret it learns: both client
	// secrets, and each login's three tokens.
	for _, v := range []string{"a-secret", "b-secret", "rt-app-a", "rt-app-b", k.idTokens["app-a"], k.idTokens["app-b"]} {
		if !slices.Contains(secrets, v) {
			t.Errorf("secret %.20s… not told", v)
		}
	}
	if len(secrets) != 8 {
		t.Errorf("%d secrets told, want 8", len(secrets))
	}
}

// A logout without a post-logout redirect URI that Keycloak asks to
// confirm: the probe confirms and reads "You are logged out"; public
// clients exchange their codes without a secret.
func TestLogoutProbeConfirmsWithoutRedirect(t *testing.T) {
	k := newLogoutKC(t, false)
	k.a.postLogout, k.a.secret, k.b.secret = "", "", ""
	k.confirm = true
	rep, _, err := k.run(LogoutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := checkIDs(rep.Checks); !slices.Equal(got, []string{"ok " + LogoutLoginFirst, "ok " + LogoutLoginSecond, "ok " + LogoutSameSession,
		"ok " + LogoutEndSession, "ok " + LogoutRefresh, "ok " + LogoutSessions}) {
		t.Errorf("checks:\n%s", checkLines(rep.Checks))
	}
	wantCheck(t, rep, LogoutLoginFirst, OK, "alice logged in to app-a with the password form", "code exchanged with no secret (public client)")
	wantCheck(t, rep, LogoutEndSession, OK, "RP-initiated logout of app-a at the end_session_endpoint ended the session",
		`with id_token_hint and no post_logout_redirect_uri (app-a allows none); Keycloak asked to confirm and the probe did; Keycloak showed "You are logged out"`)
	if rep.Logout == nil || !rep.Logout.Confirmed || rep.Logout.PostLogoutRedirectURI != "" || rep.Backchannel != nil {
		t.Errorf("logout %+v, backchannel %+v", rep.Logout, rep.Backchannel)
	}
}

// "+" in the post-logout redirect URIs stands for the redirect URIs.
func TestLogoutProbePlusPostLogoutRedirect(t *testing.T) {
	k := newLogoutKC(t, false)
	k.a.postLogout = "+"
	rep, _, err := k.run(LogoutOptions{})
	if err != nil || rep.Failed() {
		t.Fatalf("%v\n%s", err, checkLines(rep.Checks))
	}
	if rep.Logout.PostLogoutRedirectURI != "http://127.0.0.1:9/a/cb" {
		t.Errorf("post-logout redirect %q", rep.Logout.PostLogoutRedirectURI)
	}
}

// The failure verdicts after the logout, each from what Keycloak did.
func TestLogoutProbeVerdicts(t *testing.T) {
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		receiver bool
		setup    func(k *logoutKC)
		without  []string
		want     map[string]Status
		check    func(t *testing.T, k *logoutKC, rep *LogoutReport)
	}{{
		name: "the logout ends nothing", receiver: true,
		setup:   func(k *logoutKC) { k.ignoreLogout = true },
		without: []string{lkCerts},
		want:    map[string]Status{LogoutEndSession: OK, LogoutRefresh: Fail, LogoutSessions: Fail, LogoutBCReceived: Fail},
		check: func(t *testing.T, k *logoutKC, rep *LogoutReport) {
			wantCheck(t, rep, LogoutRefresh, Fail, "Keycloak still refreshes app-b's tokens after the logout: its session lives on", "the refresh grant succeeded")
			wantCheck(t, rep, LogoutSessions, Fail, "the admin API still lists the session of the probe for alice", "session sid-1")
			wantCheck(t, rep, LogoutBCReceived, Fail, "no logout token for app-b arrived at the receiver on "+k.recv.Addr().String()+" within 200ms")
			if rep.Backchannel == nil || rep.Backchannel.Received || rep.Backchannel.Token != nil {
				t.Errorf("backchannel %+v", rep.Backchannel)
			}
		},
	}, {
		name:  "a refresh refused for another reason",
		setup: func(k *logoutKC) { k.refreshDisabled = true },
		want:  map[string]Status{LogoutRefresh: Fail},
		check: func(t *testing.T, k *logoutKC, rep *LogoutReport) {
			wantCheck(t, rep, LogoutRefresh, Fail, "the refresh grant of app-b failed, but not as a logged-out session does",
				"Keycloak answered 400: unauthorized_client: Client not allowed for refresh token grant")
		},
	}, {
		name: "other sessions of the user",
		setup: func(k *logoutKC) {
			k.before = []string{"sid-old"}
			k.after = []string{"sid-new"}
		},
		want: map[string]Status{LogoutSessions: Warn},
		check: func(t *testing.T, k *logoutKC, rep *LogoutReport) {
			wantCheck(t, rep, LogoutSessions, Warn, "the probe's session is gone, but alice has 2 other session(s), 1 of them new since the probe began", "sid-old, sid-new")
		},
	}, {
		name: "a session from before the probe",
		setup: func(k *logoutKC) {
			k.before = []string{"sid-old"}
		},
		want: map[string]Status{LogoutSessions: Warn},
		check: func(t *testing.T, k *logoutKC, rep *LogoutReport) {
			wantCheck(t, rep, LogoutSessions, Warn, "the probe's session is gone, but alice has 1 other session(s), not started by the probe", "sid-old")
		},
	}, {
		name: "no backchannel URL", receiver: true,
		setup: func(k *logoutKC) { k.b.backchannel, k.post = "", nil },
		want:  map[string]Status{LogoutBCURL: Fail, LogoutBCReceived: Fail},
		check: func(t *testing.T, k *logoutKC, rep *LogoutReport) {
			addr := k.recv.Addr().String()
			c := wantCheck(t, rep, LogoutBCURL, Fail, "client app-b has no backchannel logout URL, so Keycloak posts no logout token for it")
			if !strings.Contains(c.FixYAML, `backchannel_logout_url: "http://`+addr+`/backchannel-logout"`) || !strings.Contains(c.Fix, "set app-b's Backchannel logout URL to http://"+addr) {
				t.Errorf("fix %q\n%s", c.Fix, c.FixYAML)
			}
			wantCheck(t, rep, LogoutBCReceived, Fail, "no logout token for app-b arrived at the receiver on "+addr+" within 200ms")
		},
	}, {
		name: "a backchannel URL elsewhere", receiver: true,
		setup: func(k *logoutKC) { k.b.backchannel, k.post = "http://127.0.0.1:1/backchannel-logout", nil },
		want:  map[string]Status{LogoutBCURL: Warn, LogoutBCReceived: Fail},
		check: func(t *testing.T, k *logoutKC, rep *LogoutReport) {
			addr := k.recv.Addr().String()
			wantCheck(t, rep, LogoutBCURL, Warn, "client app-b's backchannel logout URL http://127.0.0.1:1/backchannel-logout does not point at the receiver on "+addr+": Keycloak posts the logout token there, not here")
			wantCheck(t, rep, LogoutBCReceived, Fail, "no logout token for app-b arrived at the receiver on "+addr+" within 200ms (Keycloak posts to http://127.0.0.1:1/backchannel-logout)")
		},
	}, {
		name: "front-channel logout on", receiver: true,
		setup: func(k *logoutKC) { k.b.frontchannel, k.frontPage, k.post = true, true, nil },
		want:  map[string]Status{LogoutBCURL: OK, LogoutBCFront: Warn, LogoutEndSession: OK, LogoutBCReceived: Fail},
		check: func(t *testing.T, k *logoutKC, rep *LogoutReport) {
			wantCheck(t, rep, LogoutBCFront, Warn, "client app-b has front-channel logout on and no frontchannel logout URL: in a browser logout Keycloak tells it nothing, and posts nothing to the back channel")
			wantCheck(t, rep, LogoutEndSession, OK, "RP-initiated logout of app-a at the end_session_endpoint ended the session",
				`Keycloak showed its front-channel logout page ("You are logging out from following apps app-b Continue"; the probe loads no iframes)`)
		},
	}, {
		name: "a forged logout token", receiver: true,
		setup: func(k *logoutKC) {
			k.post = k.logoutToken(otherKey, func(c map[string]any) { c["nonce"] = "n" })
		},
		want: map[string]Status{LogoutBCReceived: OK, LogoutBCTokenCheck + "signature": Fail, LogoutBCTokenCheck + "nonce": Fail,
			LogoutBCTokenCheck + "iss": OK, LogoutBCTokenCheck + "sid": OK},
		check: func(t *testing.T, k *logoutKC, rep *LogoutReport) {
			if c := checkOf(rep.Checks, LogoutBCTokenCheck+"signature"); c == nil || !strings.HasPrefix(c.Message, "logout token signature: ") {
				t.Errorf("signature check %+v", c)
			}
			wantCheck(t, rep, LogoutBCTokenCheck+"nonce", Fail, "logout token nonce: the token has a nonce claim, which a logout token must not have (it would then pass for an ID token)")
			if rep.Backchannel.Token == nil || rep.Backchannel.Token.Valid {
				t.Errorf("token %+v", rep.Backchannel.Token)
			}
		},
	}, {
		name: "a logout token for another session", receiver: true,
		setup: func(k *logoutKC) {
			k.post = k.logoutToken(realmKey, func(c map[string]any) { c["sid"] = "sid-other" })
		},
		without: []string{lkCerts},
		want:    map[string]Status{LogoutBCReceived: Fail},
		check: func(t *testing.T, k *logoutKC, rep *LogoutReport) {
			wantCheck(t, rep, LogoutBCReceived, Fail, "no logout token for app-b arrived at the receiver on "+k.recv.Addr().String()+" within 200ms",
				`the receiver refused 1 a logout token for another session, or not a JWT (first: "POST" "/backchannel-logout" ("application/x-www-form-urlencoded") from 127.0.0.1:`)
		},
	}, {
		name: "a logout token without sid", receiver: true,
		setup: func(k *logoutKC) {
			k.post = k.logoutToken(realmKey, func(c map[string]any) { delete(c, "sid") })
		},
		want: map[string]Status{LogoutBCReceived: OK, LogoutBCTokenCheck + "sid": OK, LogoutBCTokenCheck + "sub": OK},
		check: func(t *testing.T, k *logoutKC, rep *LogoutReport) {
			wantCheck(t, rep, LogoutBCTokenCheck+"sid", OK, `logout token sid: no sid claim (the token names the user by sub only); Keycloak writes sid only when the client's "Backchannel logout session required" is on`)
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newLogoutKC(t, tt.receiver)
			tt.setup(k)
			rep, _, err := k.run(LogoutOptions{Timeout: 200 * time.Millisecond}, tt.without...)
			if err != nil {
				t.Fatal(err)
			}
			for id, st := range tt.want {
				if c := checkOf(rep.Checks, id); c == nil || c.Status != st {
					t.Errorf("%s: %+v, want %s\n%s", id, c, st, checkLines(rep.Checks))
				}
			}
			tt.check(t, k, rep)
		})
	}
}

// Each login step that goes wrong fails its check and stops the probe
// before the logout; a logout Keycloak refuses fails the end-session check
// without quoting the ID token.
func TestLogoutProbeLoginFailures(t *testing.T) {
	before := []string{lkLogout}
	tests := []struct {
		name    string
		setup   func(k *logoutKC)
		without []string
		id, msg string
		ev      string
	}{
		{"a wrong password", func(k *logoutKC) { k.wrongPassword = true }, []string{lkLogout, stubDemoToken},
			LogoutLoginFirst, "the login of alice to app-a at Keycloak's form failed", "Keycloak rejected the credentials of alice: Invalid username or password."},
		{"the form shown again", func(k *logoutKC) { k.formAgain = true }, before,
			LogoutLoginSecond, "Keycloak showed the login form again for app-b: the SSO session of the login to app-a did not carry over", "/realms/demo/protocol/openid-connect/auth"},
		{"the code refused", func(k *logoutKC) { k.codeRefused = true }, before,
			LogoutLoginFirst, "Keycloak refused to exchange app-a's code (with the client secret read through the admin API)", "Keycloak answered 400: invalid_grant: Code not valid"},
		{"another nonce", func(k *logoutKC) { k.otherNonce = true }, before,
			LogoutLoginFirst, "the ID token for app-a carries another nonce than the login sent", `nonce "another-nonce"`},
		{"no refresh token", func(k *logoutKC) { k.a.noRefresh = true }, before,
			LogoutLoginFirst, "the token response for app-a has no refresh token", ""},
		{"the logout refused", func(k *logoutKC) { k.logoutRefused = true }, nil,
			LogoutEndSession, "Keycloak did not confirm the logout of app-a", "status 400 at " /* + the endpoint, no query */},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newLogoutKC(t, false)
			tt.setup(k)
			rep, s, err := k.run(LogoutOptions{}, tt.without...)
			if err != nil {
				t.Fatal(err)
			}
			c := wantCheck(t, rep, tt.id, Fail, tt.msg, tt.ev)
			if last := rep.Checks[len(rep.Checks)-1]; tt.id != LogoutEndSession && last.ID != tt.id {
				t.Errorf("the probe went on after %s:\n%s", tt.id, checkLines(rep.Checks))
			}
			if tt.id == LogoutEndSession {
				if !strings.Contains(c.Evidence, "status 400 at "+s.kc.URL()+"/realms/demo/protocol/openid-connect/logout: Sign in to demo We are sorry... Invalid parameter: id_token_hint") ||
					strings.Contains(c.Evidence, k.idTokens["app-a"]) {
					t.Errorf("evidence %q", c.Evidence)
				}
				if rep.Logout == nil || rep.Logout.Confirmed {
					t.Errorf("logout %+v", rep.Logout)
				}
			}
		})
	}
}

// A client no browser can log in to is bad input, before any login.
func TestLogoutProbeBadClients(t *testing.T) {
	only := []string{lkAuth, lkAuthenticate, stubDemoToken, lkLogout}
	k := newLogoutKC(t, false)
	k.b.noStandardFlow = true
	_, _, err := k.run(LogoutOptions{}, only...)
	if !errors.Is(err, ErrLogoutInput) || err.Error() != "bad input: client app-b has the standard flow (authorization code) off, so no browser can log in to it" {
		t.Errorf("standard flow off: %v", err)
	}
	k = newLogoutKC(t, false)
	k.a.redirect = "/a/*"
	_, _, err = k.run(LogoutOptions{}, only...)
	if !errors.Is(err, ErrLogoutInput) || !strings.Contains(err.Error(), `client app-a allows no redirect URI a login can end at (valid redirect URIs ["/a/*"])`) {
		t.Errorf("no usable redirect: %v", err)
	}
}
