package keycloak

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// SessionID is the Keycloak SSO session a token or a KEYCLOAK_IDENTITY
// cookie belongs to (its sid claim), read without verifying it; "" when
// there is none. It only names a session to end, never proves anything.
func SessionID(jwt string) string {
	var claims struct {
		SID string `json:"sid"`
	}
	if !unverifiedClaims(jwt, &claims) {
		return ""
	}
	return claims.SID
}

// Grant is what ending the session of a password grant needs: the client
// that logged in and the tokens it got.
type Grant struct {
	Realm, ClientID, ClientSecret string
	// User is for messages only.
	User                      string
	AccessToken, RefreshToken string
}

// SessionLeftError is a session ssoctl opened and could not end. Callers
// print it as a warning: the run itself did what it was asked.
type SessionLeftError struct {
	Realm, User, Session string
	Err                  error
}

func (e *SessionLeftError) Error() string {
	who := e.User
	if who == "" {
		who = "the user"
	}
	return fmt.Sprintf("could not end Keycloak session %s of %s in realm %s (it ends by itself at the realm's idle timeout, or in the admin console under Sessions): %v",
		e.Session, who, e.Realm, e.Err)
}

// Unwrap is the refusal that left the session open.
func (e *SessionLeftError) Unwrap() error { return e.Err }

// LogoutGrant ends the session of a token response at realm's logout
// endpoint: POST /realms/R/protocol/openid-connect/logout with the client's
// id (and secret) and the refresh token, which is all a client needs.
func LogoutGrant(ctx context.Context, hc *http.Client, base string, g Grant) error {
	base = strings.TrimRight(base, "/")
	form := url.Values{"client_id": {g.ClientID}, "refresh_token": {g.RefreshToken}}
	if g.ClientSecret != "" {
		form.Set("client_secret", g.ClientSecret)
	}
	u := base + "/realms/" + url.PathEscape(g.Realm) + "/protocol/openid-connect/logout"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	_, _, err = exchange(hc, req, base, maxTokenResponse, nil)
	return err
}

// DeleteSession ends one session through the admin API
// (DELETE /admin/realms/R/sessions/{sid}); one already gone is fine. It
// never touches the user's other sessions.
func (a *Admin) DeleteSession(ctx context.Context, realm, sid string) error {
	return ignoreNotFound(a.do(ctx, http.MethodDelete, "/"+esc(realm)+"/sessions/"+esc(sid), nil, nil))
}

// EndGrant ends the session a password grant opened: the logout endpoint
// with its refresh token, and only when that fails, the admin API's delete
// of that one session (the token's sid). The error is a *SessionLeftError.
func (a *Admin) EndGrant(ctx context.Context, hc *http.Client, g Grant) error {
	var err error
	if g.RefreshToken != "" {
		if err = LogoutGrant(ctx, hc, a.BaseURL(), g); err == nil {
			return nil
		}
	}
	sid := SessionID(g.AccessToken)
	if sid == "" {
		sid = SessionID(g.RefreshToken)
	}
	left := &SessionLeftError{Realm: g.Realm, User: g.User, Session: sid, Err: err}
	switch {
	case sid == "":
		left.Session = "(unnamed: the token carries no sid)"
		if left.Err == nil {
			left.Err = fmt.Errorf("no refresh token and no sid")
		}
		return left
	}
	if derr := a.DeleteSession(ctx, g.Realm, sid); derr != nil {
		if left.Err != nil {
			left.Err = fmt.Errorf("%v; then the admin API: %w", left.Err, derr)
		} else {
			left.Err = derr
		}
		return left
	}
	return nil
}

// EndSessions deletes the sessions ids of user in realm through the admin
// API, each on its own: the sessions a browser login opened. It returns
// one *SessionLeftError per session that could not be ended.
func (a *Admin) EndSessions(ctx context.Context, realm, user string, ids []string) []error {
	var errs []error
	for _, sid := range ids {
		if sid == "" {
			continue
		}
		if err := a.DeleteSession(ctx, realm, sid); err != nil {
			errs = append(errs, &SessionLeftError{Realm: realm, User: user, Session: sid, Err: err})
		}
	}
	return errs
}

// Close ends the admin's own session: a password grant through admin-cli
// opens one SSO session of the admin user per run. It logs out with the
// refresh token and, failing that, deletes that session with the token
// while it is still valid. A client-credentials login keeps no session to
// end. After Close the Admin logs in again if it is used.
func (a *Admin) Close(ctx context.Context) error {
	a.mu.Lock()
	tok, valid := a.token, a.now().Add(5*time.Second).Before(a.expires)
	a.token, a.expires = nil, time.Time{}
	a.mu.Unlock()
	if tok == nil || a.creds.ClientID != "" {
		return nil
	}
	if tok.RefreshToken == "" && SessionID(tok.AccessToken) == "" {
		return nil // a token that names no session (a stub's): nothing to end
	}
	g := Grant{Realm: a.creds.Realm, ClientID: "admin-cli", User: a.creds.Username, AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken}
	err := LogoutGrant(ctx, a.http, a.base, g)
	if err == nil {
		return nil
	}
	sid := SessionID(tok.AccessToken)
	if sid == "" || !valid {
		return &SessionLeftError{Realm: g.Realm, User: g.User, Session: sid, Err: err}
	}
	req, rerr := http.NewRequestWithContext(ctx, http.MethodDelete, a.base+"/admin/realms/"+esc(g.Realm)+"/sessions/"+esc(sid), nil)
	if rerr != nil {
		return rerr
	}
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	if _, _, derr := exchange(a.http, req, a.base, MaxAdminResponse, nil); derr != nil && !IsNotFound(derr) {
		return &SessionLeftError{Realm: g.Realm, User: g.User, Session: sid, Err: fmt.Errorf("%v; then the admin API: %w", err, derr)}
	}
	return nil
}

// SessionIDs are the sessions the KEYCLOAK_IDENTITY cookies of a browser
// login name (browser.KeycloakIdentities), without repeats.
func SessionIDs(identities []string) []string {
	var out []string
	for _, c := range identities {
		if sid := SessionID(c); sid != "" && !slices.Contains(out, sid) {
			out = append(out, sid)
		}
	}
	return out
}
