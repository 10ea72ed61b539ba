package doctor

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/Nerzal/gocloak/v13"

	"github.com/ssoctl/ssoctl/inspect"
	"github.com/ssoctl/ssoctl/internal/browser"
	"github.com/ssoctl/ssoctl/keycloak"
)

// LogoutTarget is the single sign-out to prove: User logs in to First and
// Second with one SSO session, then logs out of First.
type LogoutTarget struct {
	KeycloakURL, Realm string
	User, Password     string
	First, Second      string
}

// LogoutOptions tune the logout probe.
type LogoutOptions struct {
	// Receiver, when set, is Second's back-channel logout endpoint for the
	// probe: the logout token must arrive there, and verify.
	Receiver *Receiver
	// Timeout is how long the probe waits for the logout token after the
	// logout began (default 10s).
	Timeout time.Duration
	// Secret, when set, is told every secret the probe learns (client
	// secrets, tokens), so that logs and messages can mask them.
	Secret func(string)
}

// LogoutReport is what the logout probe found, step by step.
type LogoutReport struct {
	Realm   string   `json:"realm"`
	User    string   `json:"user"`
	Clients []string `json:"clients"`
	// SID is the SSO session both logins shared (the ID tokens' sid).
	SID    string  `json:"sid,omitempty"`
	Checks []Check `json:"checks"`
	// Logout is the RP-initiated logout as it went.
	Logout *LogoutRequest `json:"logout,omitempty"`
	// Backchannel is the receiver's side (nil without one).
	Backchannel *Backchannel `json:"backchannel,omitempty"`
}

// LogoutRequest is the browser's logout at the end_session_endpoint.
type LogoutRequest struct {
	Endpoint              string `json:"endpoint"`
	PostLogoutRedirectURI string `json:"post_logout_redirect_uri,omitempty"`
	// Confirmed is true when Keycloak asked to confirm and the probe did.
	Confirmed bool `json:"confirmed"`
	// Millis is from the first request to the last answer.
	Millis int64 `json:"ms"`
}

// Backchannel is what the receiver saw.
type Backchannel struct {
	Receiver string `json:"receiver"`
	// URL is Second's configured backchannel logout URL.
	URL             string `json:"url"`
	TargetsReceiver bool   `json:"targets_receiver"`
	Received        bool   `json:"received"`
	Path            string `json:"path,omitempty"`
	// AfterMillis is from the start of the logout to the POST's arrival.
	AfterMillis int64 `json:"after_logout_start_ms,omitempty"`
	// DuringLogout is true when the POST arrived before Keycloak answered
	// the logout: Keycloak sent it while handling the logout request.
	DuringLogout bool `json:"during_logout"`
	// AnsweredBeforeLogout is true when the receiver's answer went out
	// before Keycloak answered the logout (it waited for the answer).
	AnsweredBeforeLogout bool                       `json:"answered_before_logout"`
	Token                *inspect.LogoutTokenResult `json:"token,omitempty"`
}

// Failed reports whether a check failed.
func (r *LogoutReport) Failed() bool {
	return slices.ContainsFunc(r.Checks, func(c Check) bool { return c.Status == Fail })
}

// Check IDs of the logout probe.
const (
	LogoutLoginFirst   = "logout.login-first"
	LogoutLoginSecond  = "logout.login-second"
	LogoutSameSession  = "logout.same-session"
	LogoutEndSession   = "logout.end-session"
	LogoutRefresh      = "logout.refresh-refused"
	LogoutSessions     = "logout.sessions"
	LogoutBCURL        = "logout.backchannel.url"
	LogoutBCFront      = "logout.backchannel.frontchannel"
	LogoutBCReceived   = "logout.backchannel.received"
	LogoutBCTokenCheck = "logout.backchannel.token." // + the rule
)

// ErrLogoutInput is bad input to the probe (a client that cannot take part).
var ErrLogoutInput = errors.New("bad input")

type logoutRun struct {
	t    LogoutTarget
	sys  Systems
	o    LogoutOptions
	rep  *LogoutReport
	disc *inspect.Discovery
	b    *browser.Browser
}

func (l *logoutRun) add(id string, st Status, msg, evidence string) *Check {
	l.rep.Checks = append(l.rep.Checks, Check{ID: id, System: sysKeycloak, Status: st, Message: msg, Evidence: evidence})
	return &l.rep.Checks[len(l.rep.Checks)-1]
}

// session is one client's login: its tokens and the sid they carry.
type session struct {
	client         *keycloak.LogoutClient
	redirect       string
	tokens         *gocloak.JWT
	sid, sub       string
	formShown      bool
	authorizeHops  int
	nonce, idNonce string
}

// Logout proves single sign-out through the real Keycloak: t.User logs in
// to t.First (the password form) and then t.Second (Keycloak's SSO cookie
// skips the form) in one headless browser, so both token sets share one
// sid; the session is ended by First's RP-initiated logout; Second's
// refresh token must then be refused and the admin API list no session of
// the probe. With a receiver, Keycloak's logout token for Second must
// arrive within the timeout and verify. Nothing is written to Keycloak.
//
// The error is for a server that cannot be reached or read (exit 1), or
// ErrLogoutInput wrapped for a client or user that cannot take part.
func Logout(ctx context.Context, t LogoutTarget, sys Systems, o LogoutOptions) (*LogoutReport, error) {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if sys.Now == nil {
		sys.Now = time.Now
	}
	l := &logoutRun{t: t, sys: sys, o: o, rep: &LogoutReport{Realm: t.Realm, User: t.User, Clients: []string{t.First, t.Second}, Checks: []Check{}},
		b: browser.Over(sys.HTTP)}
	issuer := strings.TrimRight(t.KeycloakURL, "/") + "/realms/" + t.Realm
	disc, err := inspect.Discover(ctx, sys.HTTP, issuer)
	if err != nil {
		return nil, err
	}
	if disc.AuthorizationEndpoint == "" || disc.TokenEndpoint == "" || disc.EndSessionEndpoint == "" {
		return nil, fmt.Errorf("the discovery document %s lacks the authorization, token or end_session endpoint", disc.URL)
	}
	l.disc = disc
	var clients [2]*keycloak.LogoutClient
	for i, id := range []string{t.First, t.Second} {
		if clients[i], err = sys.Keycloak.LogoutClient(ctx, t.Realm, id); err != nil {
			return nil, err
		}
	}
	userID, before, err := sys.Keycloak.UserSessions(ctx, t.Realm, t.User)
	if err != nil {
		return nil, err
	}
	var first, second *session
	for i, c := range clients {
		if o.Secret != nil && c.Secret != "" {
			o.Secret(c.Secret)
		}
		if !c.StandardFlow {
			return nil, fmt.Errorf("%w: client %s has the standard flow (authorization code) off, so no browser can log in to it", ErrLogoutInput, c.ClientID)
		}
		redirect, ok := UsableRedirect(c.RootURL, c.RedirectURIs)
		if !ok {
			return nil, fmt.Errorf("%w: client %s allows no redirect URI a login can end at (valid redirect URIs %q); add one, e.g. http://127.0.0.1/callback", ErrLogoutInput, c.ClientID, c.RedirectURIs)
		}
		s := &session{client: c, redirect: redirect}
		if i == 0 {
			first = s
		} else {
			second = s
		}
	}

	if ok, err := l.login(ctx, first, true); err != nil || !ok {
		return l.rep, err
	}
	if ok, err := l.login(ctx, second, false); err != nil || !ok {
		return l.rep, err
	}
	l.rep.SID = first.sid
	l.sameSession(ctx, first, second)

	bc := l.backchannelSetup(second, userID)
	start, end, err := l.endSession(ctx, first)
	if err != nil {
		return l.rep, err
	}
	if err := l.refreshRefused(ctx, second); err != nil {
		return l.rep, err
	}
	if err := l.sessionsGone(ctx, first.sid, before); err != nil {
		return l.rep, err
	}
	if bc != nil {
		if err := l.backchannel(ctx, bc, second, userID, start, end); err != nil {
			return l.rep, err
		}
	}
	return l.rep, nil
}

// UsableRedirect picks the redirect URI a probe login ends at: the first
// valid redirect URI without a wildcard, else a concrete URL under the
// first wildcard one (Keycloak's wildcard is a trailing *; x/* matches x/…).
// Relative URIs resolve against the client's root URL.
func UsableRedirect(root string, uris []string) (string, bool) {
	abs := func(u string) (string, bool) {
		if strings.HasPrefix(u, "/") && root != "" {
			u = strings.TrimRight(root, "/") + u
		}
		pu, err := url.Parse(u)
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" || strings.Contains(pu.Host, "*") {
			return "", false
		}
		return u, true
	}
	for _, u := range uris {
		if !strings.Contains(u, "*") {
			if a, ok := abs(u); ok {
				return a, true
			}
		}
	}
	for _, u := range uris {
		base, wild := strings.CutSuffix(u, "*")
		if !wild || strings.Contains(base, "*") {
			continue
		}
		if strings.HasSuffix(base, "/") {
			base += "ssoctl-doctor-logout"
		}
		if a, ok := abs(base); ok {
			return a, true
		}
	}
	return "", false
}

// postLogoutRedirect is the post_logout_redirect_uri the client allows
// ("" when none): its own list, where "+" stands for the redirect URIs.
func postLogoutRedirect(s *session) string {
	var uris []string
	for _, u := range s.client.PostLogoutRedirectURIs {
		if u == "+" {
			uris = append(uris, s.redirect)
			uris = append(uris, s.client.RedirectURIs...)
			continue
		}
		uris = append(uris, u)
	}
	u, _ := UsableRedirect(s.client.RootURL, uris)
	return u
}

func random(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// stopAt accepts the redirect to target (scheme, host and path).
func stopAt(target string) func(*url.URL) bool {
	t, _ := url.Parse(target)
	return func(u *url.URL) bool {
		return t != nil && u.Scheme == t.Scheme && strings.EqualFold(u.Host, t.Host) && u.Path == t.Path
	}
}

// login runs the authorization-code flow for s.client in the shared
// browser and exchanges the code. The first login fills the password form;
// the second must not be shown one.
func (l *logoutRun) login(ctx context.Context, s *session, first bool) (bool, error) {
	id := LogoutLoginSecond
	if first {
		id = LogoutLoginFirst
	}
	c := s.client.ClientID
	state, verifier := random(16), random(32)
	s.nonce = random(16)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {c}, "redirect_uri": {s.redirect}, "response_type": {"code"}, "scope": {"openid"},
		"state": {state}, "nonce": {s.nonce}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	l.b.Stop = stopAt(s.redirect)
	hops := len(l.b.Hops)
	page, err := l.b.Get(ctx, l.disc.AuthorizationEndpoint+"?"+q.Encode())
	if err != nil {
		return false, &keycloak.UnreachableError{Server: "Keycloak", URL: l.t.KeycloakURL, Err: err}
	}
	if page.Form("kc-form-login") != nil {
		s.formShown = true
		if !first {
			l.add(id, Fail, fmt.Sprintf("Keycloak showed the login form again for %s: the SSO session of the login to %s did not carry over", c, l.t.First),
				fmt.Sprintf("%s (hops: %s)", page.URL.Redacted(), l.b.Trail())).Fix = "check the realm's SSO session settings and that both clients are in realm " + l.t.Realm
			return false, nil
		}
		if page, err = l.b.KeycloakLogin(ctx, page, l.t.User, l.t.Password); err != nil {
			if errors.Is(err, browser.ErrKeycloak) {
				l.add(id, Fail, "the login of "+l.t.User+" to "+c+" at Keycloak's form failed", err.Error())
				return false, nil
			}
			return false, &keycloak.UnreachableError{Server: "Keycloak", URL: l.t.KeycloakURL, Err: err}
		}
	}
	s.authorizeHops = len(l.b.Hops) - hops
	loc, lerr := url.Parse(page.Header.Get("Location"))
	if page.Status/100 != 3 || lerr != nil || !stopAt(s.redirect)(loc) {
		l.add(id, Fail, fmt.Sprintf("the login to %s did not come back to its redirect URI %s", c, s.redirect),
			fmt.Sprintf("status %d at %s: %.300s", page.Status, page.URL.Redacted(), page.Text()))
		return false, nil
	}
	if e := loc.Query().Get("error"); e != "" {
		l.add(id, Fail, fmt.Sprintf("Keycloak refused the login to %s", c), e+": "+loc.Query().Get("error_description"))
		return false, nil
	}
	if loc.Query().Get("state") != state || loc.Query().Get("code") == "" {
		l.add(id, Fail, fmt.Sprintf("Keycloak's redirect to %s carries no code or another state", s.redirect), loc.Redacted())
		return false, nil
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {s.redirect},
		"client_id": {c}, "code_verifier": {verifier}}
	if s.client.Secret != "" {
		form.Set("client_secret", s.client.Secret)
	}
	s.tokens, err = keycloak.TokenGrant(ctx, l.sys.HTTP, l.t.KeycloakURL, l.t.Realm, form)
	if err != nil {
		var api *keycloak.APIError
		if errors.As(err, &api) {
			l.add(id, Fail, fmt.Sprintf("Keycloak refused to exchange %s's code (with the client secret read through the admin API)", c), keycloakMessage(err))
			return false, nil
		}
		return false, err
	}
	if l.o.Secret != nil {
		for _, v := range []string{s.tokens.AccessToken, s.tokens.IDToken, s.tokens.RefreshToken} {
			if v != "" {
				l.o.Secret(v)
			}
		}
	}
	idt, err := inspect.ParseCompact(s.tokens.IDToken)
	if err != nil {
		l.add(id, Fail, "the token response for "+c+" carries no readable ID token", err.Error())
		return false, nil
	}
	s.sid, _ = idt.Claims["sid"].(string)
	s.sub, _ = idt.Claims["sub"].(string)
	s.idNonce, _ = idt.Claims["nonce"].(string)
	how := "with the password form"
	if !s.formShown {
		how = "without the password form (Keycloak's SSO cookie)"
	}
	switch {
	case s.idNonce != s.nonce:
		l.add(id, Fail, "the ID token for "+c+" carries another nonce than the login sent", fmt.Sprintf("nonce %q", s.idNonce))
		return false, nil
	case s.tokens.RefreshToken == "":
		l.add(id, Fail, "the token response for "+c+" has no refresh token", "")
		return false, nil
	}
	l.add(id, OK, fmt.Sprintf("%s logged in to %s %s", l.t.User, c, how),
		fmt.Sprintf("authorization-code flow with PKCE to %s, %d hops; code exchanged with %s; ID token sid %q", s.redirect, s.authorizeHops, secretWord(s.client), s.sid))
	return true, nil
}

func secretWord(c *keycloak.LogoutClient) string {
	if c.Secret == "" {
		return "no secret (public client)"
	}
	return "the client secret"
}

// sameSession checks that both logins share one sid and that the admin API
// lists that session with both clients.
func (l *logoutRun) sameSession(ctx context.Context, a, b *session) {
	if a.sid == "" || a.sid != b.sid {
		l.add(LogoutSameSession, Fail, "the two logins are not one SSO session", fmt.Sprintf("%s's sid %q, %s's sid %q", a.client.ClientID, a.sid, b.client.ClientID, b.sid))
		return
	}
	_, sessions, err := l.sys.Keycloak.UserSessions(ctx, l.t.Realm, l.t.User)
	ev := ""
	if err == nil {
		for _, s := range sessions {
			if s.ID == a.sid {
				var names []string
				for _, n := range s.Clients {
					names = append(names, n)
				}
				slices.Sort(names)
				ev = fmt.Sprintf("; the admin API lists session %s with clients %s", s.ID, strings.Join(names, ", "))
			}
		}
	}
	l.add(LogoutSameSession, OK, fmt.Sprintf("both logins share one SSO session (sid %s)", a.sid), fmt.Sprintf("sid %q in both ID tokens%s", a.sid, ev))
}

// backchannelSetup checks Second's back-channel settings against the
// receiver, before the logout, and tells the receiver the path and the
// session to expect.
func (l *logoutRun) backchannelSetup(s *session, userID string) *Backchannel {
	r := l.o.Receiver
	if r == nil {
		return nil
	}
	c := s.client
	addr := r.Addr().String()
	bc := &Backchannel{Receiver: addr, URL: c.BackchannelURL}
	want := "http://" + addr + DefaultBackchannelPath
	path := DefaultBackchannelPath
	if TargetsReceiver(c.BackchannelURL, r.Addr()) {
		if u, err := url.Parse(c.BackchannelURL); err == nil {
			path = u.Path
		}
	}
	r.Expect(path, sessionToken(s.sid, userID))
	fixYAML := clientFix(c.ClientID, "backchannel_logout_url: "+yq(want))
	switch {
	case c.BackchannelURL == "":
		ch := l.add(LogoutBCURL, Fail, fmt.Sprintf("client %s has no backchannel logout URL, so Keycloak posts no logout token for it", c.ClientID), "")
		ch.Fix, ch.FixYAML = "set "+c.ClientID+"'s Backchannel logout URL to "+want+" (Clients → "+c.ClientID+" → Logout settings), or in sso.yaml as below, then apply", fixYAML
	case TargetsReceiver(c.BackchannelURL, r.Addr()):
		bc.TargetsReceiver = true
		l.add(LogoutBCURL, OK, fmt.Sprintf("client %s's backchannel logout URL %s points at the receiver on %s", c.ClientID, c.BackchannelURL, addr), "")
	default:
		ch := l.add(LogoutBCURL, Warn, fmt.Sprintf("client %s's backchannel logout URL %s does not point at the receiver on %s: Keycloak posts the logout token there, not here", c.ClientID, c.BackchannelURL, addr), "")
		ch.Fix, ch.FixYAML = "for the probe, point "+c.ClientID+"'s backchannel_logout_url at the receiver (sso.yaml below, then apply), or run --receiver on the address the URL names", fixYAML
	}
	if c.FrontchannelLogout {
		msg := fmt.Sprintf("client %s has front-channel logout on: in a browser logout Keycloak logs it out through the browser (an iframe to its frontchannel logout URL %s), not the back channel", c.ClientID, c.FrontchannelURL)
		if c.FrontchannelURL == "" {
			msg = fmt.Sprintf("client %s has front-channel logout on and no frontchannel logout URL: in a browser logout Keycloak tells it nothing, and posts nothing to the back channel", c.ClientID)
		}
		ch := l.add(LogoutBCFront, Warn, msg, "")
		ch.Fix = "turn off Front channel logout for " + c.ClientID + " (Clients → " + c.ClientID + " → Logout settings) so Keycloak posts to the backchannel logout URL"
	}
	return bc
}

// endSession logs out through First's RP-initiated logout and returns when
// it began and ended.
func (l *logoutRun) endSession(ctx context.Context, s *session) (start, end time.Time, err error) {
	post := postLogoutRedirect(s)
	state := random(16)
	q := url.Values{"id_token_hint": {s.tokens.IDToken}, "client_id": {s.client.ClientID}}
	if post != "" {
		q.Set("post_logout_redirect_uri", post)
		q.Set("state", state)
		l.b.Stop = stopAt(post)
	} else {
		l.b.Stop = nil
	}
	lr := &LogoutRequest{Endpoint: l.disc.EndSessionEndpoint, PostLogoutRedirectURI: post}
	l.rep.Logout = lr
	start = l.sys.Now()
	page, err := l.b.Get(ctx, l.disc.EndSessionEndpoint+"?"+q.Encode())
	if err == nil {
		if f := confirmForm(page); f != nil {
			lr.Confirmed = true
			page, err = l.b.Submit(ctx, page, f, url.Values{"confirmLogout": {"Logout"}})
		}
	}
	end = l.sys.Now()
	lr.Millis = end.Sub(start).Milliseconds()
	if err != nil {
		return start, end, &keycloak.UnreachableError{Server: "Keycloak", URL: l.t.KeycloakURL, Err: err}
	}
	how := "with id_token_hint and no post_logout_redirect_uri (" + s.client.ClientID + " allows none)"
	if post != "" {
		how = "with id_token_hint and post_logout_redirect_uri " + post
	}
	if lr.Confirmed {
		how += "; Keycloak asked to confirm and the probe did"
	}
	text := page.Text()
	loc, _ := url.Parse(page.Header.Get("Location"))
	switch {
	case post != "" && page.Status/100 == 3 && loc != nil && stopAt(post)(loc) && loc.Query().Get("state") == state:
		l.add(LogoutEndSession, OK, "RP-initiated logout of "+s.client.ClientID+" at the end_session_endpoint ended the session", how+"; Keycloak redirected to "+post+" with the state, in "+fmt.Sprint(lr.Millis)+" ms")
		return start, end, nil
	case strings.Contains(text, "You are logging out from following apps"):
		// Keycloak ended the session and hands the browser the front-channel
		// clients' logout URLs in iframes, which the probe does not load.
		l.add(LogoutEndSession, OK, "RP-initiated logout of "+s.client.ClientID+" at the end_session_endpoint ended the session", how+
			fmt.Sprintf("; Keycloak showed its front-channel logout page (%q; the probe loads no iframes), in %d ms", excerpt(text, "You are logging out"), lr.Millis))
		return start, end, nil
	case strings.Contains(text, "You are logged out"):
		l.add(LogoutEndSession, OK, "RP-initiated logout of "+s.client.ClientID+" at the end_session_endpoint ended the session", how+"; Keycloak showed \"You are logged out\", in "+fmt.Sprint(lr.Millis)+" ms")
		return start, end, nil
	}
	l.add(LogoutEndSession, Fail, "Keycloak did not confirm the logout of "+s.client.ClientID, fmt.Sprintf("%s; status %d at %s: %.300s (hops: %s)", how, page.Status, withoutQuery(page.URL), text, l.b.Trail()))
	return start, end, nil
}

// excerpt is text from marker on, at most 120 bytes.
func excerpt(text, marker string) string {
	if i := strings.Index(text, marker); i >= 0 {
		text = text[i:]
	}
	if len(text) > 120 {
		text = text[:120] + "…"
	}
	return text
}

// withoutQuery is u for messages: its query may hold the ID token.
func withoutQuery(u *url.URL) string {
	c := *u
	c.RawQuery = ""
	return c.Redacted()
}

// confirmForm is Keycloak's "Do you want to log out?" form, or nil.
func confirmForm(p *browser.Page) *browser.Form {
	if p.Status != http.StatusOK {
		return nil
	}
	if f := p.Form("kc-logout-confirm"); f != nil {
		return f
	}
	for _, f := range p.Forms() {
		if _, ok := f.Fields["session_code"]; ok {
			return f
		}
	}
	return nil
}

// refreshRefused asks for new tokens with Second's refresh token.
func (l *logoutRun) refreshRefused(ctx context.Context, s *session) error {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {s.tokens.RefreshToken}, "client_id": {s.client.ClientID}}
	if s.client.Secret != "" {
		form.Set("client_secret", s.client.Secret)
	}
	_, err := keycloak.TokenGrant(ctx, l.sys.HTTP, l.t.KeycloakURL, l.t.Realm, form)
	var api *keycloak.APIError
	switch {
	case err == nil:
		l.add(LogoutRefresh, Fail, "Keycloak still refreshes "+s.client.ClientID+"'s tokens after the logout: its session lives on", "the refresh grant succeeded")
	case errors.As(err, &api) && api.Status == http.StatusBadRequest && strings.HasPrefix(api.Message, "invalid_grant"):
		l.add(LogoutRefresh, OK, "Keycloak refuses "+s.client.ClientID+"'s refresh token", fmt.Sprintf("the refresh grant: Keycloak answered %d %q", api.Status, api.Message))
	case errors.As(err, &api):
		l.add(LogoutRefresh, Fail, "the refresh grant of "+s.client.ClientID+" failed, but not as a logged-out session does", keycloakMessage(err))
	default:
		return err
	}
	return nil
}

// sessionsGone checks that the admin API no longer lists the probe's
// session (sessions of the user from before the probe are listed apart).
func (l *logoutRun) sessionsGone(ctx context.Context, sid string, before []keycloak.UserSession) error {
	_, after, err := l.sys.Keycloak.UserSessions(ctx, l.t.Realm, l.t.User)
	if err != nil {
		return err
	}
	var others []string
	for _, s := range after {
		if s.ID == sid {
			l.add(LogoutSessions, Fail, "the admin API still lists the session of the probe for "+l.t.User, "session "+sid)
			return nil
		}
		others = append(others, s.ID)
	}
	if len(others) > 0 {
		ch := l.add(LogoutSessions, Warn, fmt.Sprintf("the probe's session is gone, but %s has %d other session(s), not started by the probe", l.t.User, len(others)), strings.Join(others, ", "))
		if len(before) < len(others) {
			ch.Message = fmt.Sprintf("the probe's session is gone, but %s has %d other session(s), %d of them new since the probe began", l.t.User, len(others), len(others)-len(before))
		}
		return nil
	}
	l.add(LogoutSessions, OK, "the admin API lists no session for "+l.t.User, "GET /admin/realms/"+l.t.Realm+"/users/{id}/sessions: []")
	return nil
}

// backchannel waits for the logout token and verifies it.
func (l *logoutRun) backchannel(ctx context.Context, bc *Backchannel, s *session, userID string, start, end time.Time) error {
	l.rep.Backchannel = bc
	d := l.o.Receiver.Wait(ctx, start, start.Add(l.o.Timeout))
	if d == nil {
		msg := fmt.Sprintf("no logout token for %s arrived at the receiver on %s within %s", s.client.ClientID, bc.Receiver, l.o.Timeout)
		if bc.URL != "" && !bc.TargetsReceiver {
			msg += " (Keycloak posts to " + bc.URL + ")"
		}
		l.add(LogoutBCReceived, Fail, msg, receiverRefusals(l.o.Receiver))
		return nil
	}
	bc.Received, bc.Path = true, d.Path
	bc.AfterMillis = d.At.Sub(start).Milliseconds()
	bc.DuringLogout = d.At.Before(end)
	bc.AnsweredBeforeLogout = d.Answered.Before(end)
	when := fmt.Sprintf("%d ms after the logout began", bc.AfterMillis)
	if bc.DuringLogout {
		when += ", before Keycloak answered the logout request (sent while handling it)"
	} else {
		when += ", after Keycloak answered the logout request"
	}
	ev := fmt.Sprintf("POST %s from %s (%s), %s", d.Path, d.Remote, d.ContentType, when)
	if refused := receiverRefusals(l.o.Receiver); refused != "" {
		ev += "; " + refused
	}
	l.add(LogoutBCReceived, OK, fmt.Sprintf("Keycloak posted a logout token for %s to the receiver", s.client.ClientID), ev)
	keys := inspect.NewRemoteJWKS(l.sys.HTTP, l.disc.JWKSURI)
	res, err := inspect.VerifyLogoutToken(ctx, d.Token, keys, inspect.LogoutTokenExpect{Issuer: l.disc.Issuer, Audience: s.client.ClientID,
		SID: s.sid, Subject: userID, Now: l.sys.Now()})
	if err != nil {
		return err
	}
	bc.Token = res
	for _, c := range res.Checks {
		st := OK
		if !c.OK {
			st = Fail
		}
		msg := "logout token " + c.Rule + ": " + c.Message
		if c.Rule == "sid" && c.OK && res.Claims["sid"] == nil {
			msg += "; Keycloak writes sid only when the client's \"Backchannel logout session required\" is on"
		}
		l.add(LogoutBCTokenCheck+c.Rule, st, msg, "")
	}
	return nil
}

// sessionToken is the receiver's test of a logout token, read without
// verifying it: the probe needs those whose sid is the session's, or, with
// no sid, whose sub is the user. Others (another session's logout, a
// forged flood) are counted, not kept; the kept one is then verified.
func sessionToken(sid, sub string) func(string) bool {
	return func(raw string) bool {
		tok, err := inspect.ParseCompact(strings.TrimSpace(raw))
		if err != nil {
			return false
		}
		if s, ok := tok.Claims["sid"].(string); ok && s != "" && sid != "" {
			return s == sid
		}
		u, _ := tok.Claims["sub"].(string)
		return u != "" && u == sub
	}
}

// receiverRefusals says what the receiver answered without keeping it
// ("" when nothing): its count by reason, and connections it closed.
func receiverRefusals(r *Receiver) string {
	var parts []string
	for _, x := range r.Refusals() {
		parts = append(parts, fmt.Sprintf("%d %s (first: %s)", x.Count, x.Reason, x.First))
	}
	out := ""
	if len(parts) > 0 {
		out = "the receiver refused " + strings.Join(parts, ", ")
	}
	if peak, closed := r.Connections(); closed > 0 {
		if out != "" {
			out += "; "
		}
		out += fmt.Sprintf("it held up to %d connections at once and closed %d slow ones to make room", peak, closed)
	}
	return out
}
