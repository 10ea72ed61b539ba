// Package keycloak provisions a Keycloak realm from sso.yaml: it expands the
// file's shorthands into full admin-API representations, reads the realm's
// current state, computes the change set, and applies it. It also fetches
// tokens and the realm's SAML IdP descriptor.
//
// Requests go through the caller's *http.Client. The JSON models are
// gocloak's; the calls are made directly, so that Keycloak's own error
// message, the request's URL and the network cause all survive to the user.
package keycloak

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/Nerzal/gocloak/v13"

	"github.com/ssoctl/ssoctl/internal/httpclient"
	"github.com/ssoctl/ssoctl/internal/secret"
)

// Credentials select how the admin logs in: a user's password grant through
// the admin-cli client, or a confidential client's client-credentials grant.
type Credentials struct {
	// Realm the admin authenticates in; default master.
	Realm        string
	Username     string
	Password     string
	ClientID     string
	ClientSecret string
	// Source describes where the credentials came from, for error messages
	// (e.g. "$KEYCLOAK_ADMIN/$KEYCLOAK_ADMIN_PASSWORD").
	Source string
}

// Admin is a logged-in connection to one Keycloak server's admin API. It is
// safe for concurrent use. The access token is refreshed before it expires,
// so long runs do not fail on Keycloak's 60-second default lifespan.
type Admin struct {
	base  string
	http  *http.Client
	creds Credentials

	mu      sync.Mutex
	token   *gocloak.JWT
	expires time.Time
	now     func() time.Time
	logins  int // tokens obtained so far (logins and refreshes)
	// issued is the last token's iat (Keycloak's clock) and received this
	// machine's clock when it arrived: Keycloak sends no Date header.
	issued, received time.Time
	// onWait hears that a run waits for the ownership record's lock.
	onWait func(msg string)
	// lock takes the ownership record's lock; nil is lockRecord (tests
	// of other requests replace it).
	lock func(ctx context.Context, realm string) (unlock func() error, err error)

	// passwords are the verdicts of the users' password checks so far, so
	// that a run tries each password once (see passwordStale).
	pwMu      sync.Mutex
	passwords map[string]bool
}

// NewAdmin returns an Admin for the server at baseURL (e.g.
// http://127.0.0.1:8080). It does not log in until the first request.
func NewAdmin(baseURL string, hc *http.Client, creds Credentials) *Admin {
	if creds.Realm == "" {
		creds.Realm = "master"
	}
	return &Admin{base: strings.TrimRight(baseURL, "/"), http: hc, creds: creds, now: time.Now}
}

// BaseURL is the server's base URL.
func (a *Admin) BaseURL() string { return a.base }

// APIError is an error answer from Keycloak, with its own message kept.
type APIError struct {
	Method  string
	URL     string
	Status  int
	Message string // Keycloak's errorMessage / error_description, or the body
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	return fmt.Sprintf("Keycloak answered %d to %s %s: %s", e.Status, e.Method, e.URL, msg)
}

// UnreachableError means a server could not be reached at all; it names
// the URL and the network cause.
type UnreachableError = httpclient.UnreachableError

// AuthError means Keycloak refused the admin login.
type AuthError struct {
	URL    string
	Realm  string
	Source string
	Who    string // user or client id, never the secret
	Status int
	Reason string
}

func (e *AuthError) Error() string {
	return fmt.Sprintf("Keycloak at %s refused the admin login as %q in realm %q (credentials from %s): %d %s",
		e.URL, e.Who, e.Realm, e.Source, e.Status, e.Reason)
}

// NotFoundError reports a missing realm or object.
type NotFoundError struct{ What string }

func (e *NotFoundError) Error() string { return e.What + " not found" }

// kcErrorBody is the union of Keycloak's error shapes. Validation errors
// (user profile) name the field and carry parameters such as the limits.
type kcErrorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorMessage     string `json:"errorMessage"`
	Field            string `json:"field"`
	Params           []any  `json:"params"`
}

func errorMessage(body []byte) string {
	var eb kcErrorBody
	if json.Unmarshal(body, &eb) == nil {
		var parts []string
		for _, s := range []string{eb.Error, eb.ErrorMessage, eb.ErrorDescription} {
			if s != "" {
				parts = append(parts, s)
			}
		}
		if eb.Field != "" && len(parts) > 0 {
			parts[len(parts)-1] += fmt.Sprintf(" (field %s, params %v)", eb.Field, eb.Params)
		}
		if len(parts) > 0 {
			return strings.Join(parts, ": ")
		}
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// accessToken returns a valid admin access token, logging in or refreshing
// when the current one expires within 15 seconds.
func (a *Admin) accessToken(ctx context.Context) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.token != nil && a.now().Add(15*time.Second).Before(a.expires) {
		return a.token.AccessToken, nil
	}
	var tok *gocloak.JWT
	var err error
	if a.token != nil && a.token.RefreshToken != "" && a.creds.ClientID == "" {
		tok, err = a.grant(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {a.token.RefreshToken}, "client_id": {"admin-cli"}})
		if err != nil {
			tok = nil // the refresh token expired too: log in again
		}
	}
	if tok == nil {
		tok, err = a.login(ctx)
		if err != nil {
			return "", err
		}
	}
	a.token = tok
	a.logins++
	a.received = a.now()
	a.issued = issuedAt(tok.AccessToken)
	a.expires = a.received.Add(time.Duration(tok.ExpiresIn) * time.Second)
	return tok.AccessToken, nil
}

// Clock reads Keycloak's clock: the iat of the admin token (logging in if
// need be) and this machine's time when the token arrived. iat counts whole
// seconds, so the two agree to within a second plus the round trip.
func (a *Admin) Clock(ctx context.Context) (server, local time.Time, err error) {
	if _, err := a.accessToken(ctx); err != nil {
		return time.Time{}, time.Time{}, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.issued.IsZero() {
		return time.Time{}, time.Time{}, errors.New("the admin token carries no iat")
	}
	return a.issued, a.received, nil
}

// issuedAt reads a JWT's iat without verifying it: the token is only a
// clock reading here, never a credential we trust.
func issuedAt(jwt string) time.Time {
	var claims struct {
		IAT float64 `json:"iat"`
	}
	if !unverifiedClaims(jwt, &claims) || claims.IAT <= 0 {
		return time.Time{}
	}
	return time.Unix(int64(claims.IAT), 0)
}

// unverifiedClaims decodes a JWT's payload into out without checking its
// signature; false when jwt is not a JWT with a JSON payload.
func unverifiedClaims(jwt string, out any) bool {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	return err == nil && json.Unmarshal(payload, out) == nil
}

func (a *Admin) login(ctx context.Context) (*gocloak.JWT, error) {
	form := url.Values{}
	who := a.creds.Username
	if a.creds.ClientID != "" {
		who = a.creds.ClientID
		form.Set("grant_type", "client_credentials")
		form.Set("client_id", a.creds.ClientID)
		form.Set("client_secret", a.creds.ClientSecret)
	} else {
		form.Set("grant_type", "password")
		form.Set("client_id", "admin-cli")
		form.Set("username", a.creds.Username)
		form.Set("password", a.creds.Password)
	}
	tok, err := a.grant(ctx, form)
	var apiErr *APIError
	if errors.As(err, &apiErr) && (apiErr.Status == 400 || apiErr.Status == 401 || apiErr.Status == 403) {
		return nil, &AuthError{URL: a.base, Realm: a.creds.Realm, Source: a.creds.Source, Who: who, Status: apiErr.Status, Reason: apiErr.Message}
	}
	return tok, err
}

// grant posts form to the admin realm's token endpoint.
func (a *Admin) grant(ctx context.Context, form url.Values) (*gocloak.JWT, error) {
	return TokenGrant(ctx, a.http, a.base, a.creds.Realm, form)
}

// TokenGrant posts an OAuth2 grant to realm's token endpoint on the server at
// base and returns the token response.
func TokenGrant(ctx context.Context, hc *http.Client, base, realm string, form url.Values) (*gocloak.JWT, error) {
	base = strings.TrimRight(base, "/")
	u := base + "/realms/" + url.PathEscape(realm) + "/protocol/openid-connect/token"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	var tok gocloak.JWT
	raw, _, err := exchange(hc, req, base, maxTokenResponse, &tok)
	if err != nil {
		return nil, err
	}
	if tok.AccessToken == "" {
		return nil, fmt.Errorf("token endpoint %s answered without an access_token: %s", u, secret.Mask(string(raw)))
	}
	return &tok, nil
}

// Limits on what is read from Keycloak. An answer beyond them is an error,
// never silently cut short.
const (
	maxTokenResponse = 1 << 20
	// MaxAdminResponse bounds one admin-API answer (a listing of every
	// client of a large realm, with their mappers).
	MaxAdminResponse = 256 << 20
	// MaxDescriptorSize bounds the SAML descriptor read from a server.
	MaxDescriptorSize = 8 << 20
)

// exchange is the one place Keycloak's answers are handled. It performs req,
// reads at most limit bytes (the HTTP client's own cap on answers is raised
// to limit for req), and decodes a 2xx JSON body into out (when non-nil).
// Failures are typed: UnreachableError when base cannot be reached, the
// context's error when it ended, APIError (with Keycloak's own message) for a
// status of 300 or more, and *httpclient.ResponseTooLargeError (bad input)
// naming the limit for an answer that is too large.
func exchange(hc *http.Client, req *http.Request, base string, limit int64, out any) ([]byte, http.Header, error) {
	req = req.WithContext(httpclient.WithResponseLimit(req.Context(), limit+1))
	resp, err := hc.Do(req)
	if err != nil {
		if ctxErr := req.Context().Err(); ctxErr != nil {
			return nil, nil, ctxErr
		}
		return nil, nil, &UnreachableError{Server: "Keycloak", URL: base, Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	tooLarge := &httpclient.ResponseTooLargeError{Method: req.Method, URL: redactURL(req.URL), Limit: limit}
	if err != nil {
		if ctxErr := req.Context().Err(); ctxErr != nil {
			return nil, nil, ctxErr
		}
		if errors.As(err, new(*httpclient.ResponseTooLargeError)) {
			return nil, nil, tooLarge
		}
		return nil, nil, &UnreachableError{Server: "Keycloak", URL: base, Err: err}
	}
	if int64(len(body)) > limit {
		return nil, nil, tooLarge
	}
	if resp.StatusCode >= 300 {
		return body, resp.Header, &APIError{Method: req.Method, URL: redactURL(req.URL), Status: resp.StatusCode, Message: errorMessage(body)}
	}
	if out != nil && len(body) > 0 {
		if err := json.Unmarshal(body, out); err != nil {
			return body, resp.Header, fmt.Errorf("decoding Keycloak's answer to %s %s: %w", req.Method, redactURL(req.URL), err)
		}
	}
	return body, resp.Header, nil
}

func redactURL(u *url.URL) string {
	c := *u
	c.RawQuery = ""
	return c.String()
}

// do sends an authenticated admin request. path is relative to
// /admin/realms (e.g. "/demo/clients"); body is JSON-encoded when non-nil.
// It returns the response's Location header (for creates).
//
// A 401 means the token is no longer accepted (Keycloak answers so for an
// expired token, or one whose session was ended, before it looks at the
// request): the token is dropped, the admin logs in again once, and the
// request is sent once more, even a POST, since it was not acted upon.
func (a *Admin) do(ctx context.Context, method, path string, body, out any) (loc string, err error) {
	defer func() { a.explain(err, path) }()
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return "", err
		}
	}
	for attempt := 0; ; attempt++ {
		tok, err := a.accessToken(ctx)
		if err != nil {
			return "", err
		}
		var rdr io.Reader
		if payload != nil {
			rdr = bytes.NewReader(payload)
		}
		req, err := http.NewRequestWithContext(ctx, method, a.base+"/admin/realms"+path, rdr)
		if err != nil {
			return "", err
		}
		if payload != nil {
			req.Header.Set("Content-Type", "application/json")
			req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(payload)), nil }
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept", "application/json")
		_, hdr, err := exchange(a.http, req, a.base, MaxAdminResponse, out)
		var apiErr *APIError
		if attempt == 0 && errors.As(err, &apiErr) && apiErr.Status == http.StatusUnauthorized {
			a.dropToken(tok)
			continue
		}
		if err != nil {
			return "", err
		}
		return hdr.Get("Location"), nil
	}
}

// explain adds to an unreachable server's error the realm the request was
// about and where the admin credentials came from.
func (a *Admin) explain(err error, path string) {
	var ue *UnreachableError
	if !errors.As(err, &ue) || ue.Context != "" {
		return
	}
	realm, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	if realm, uerr := url.PathUnescape(realm); uerr == nil && realm != "" {
		ue.Context = "realm " + realm + "; "
	}
	ue.Context += "admin login to realm " + a.creds.Realm + " with " + a.creds.Source
}

// dropToken forgets tok, which the server no longer accepts, so that the
// next request logs in again. A token already replaced (by a concurrent
// request that met the same 401) is left alone: one 401 burst, one login.
func (a *Admin) dropToken(tok string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.token != nil && a.token.AccessToken == tok {
		a.expires = time.Time{}
	}
}

// get is do with GET.
func (a *Admin) get(ctx context.Context, path string, out any) error {
	_, err := a.do(ctx, http.MethodGet, path, nil, out)
	return err
}

// create POSTs body and returns the id at the end of the Location header.
func (a *Admin) create(ctx context.Context, path string, body any) (string, error) {
	loc, err := a.do(ctx, http.MethodPost, path, body, nil)
	if err != nil {
		return "", err
	}
	return loc[strings.LastIndex(loc, "/")+1:], nil
}

// IsNotFound reports whether err is a 404 from Keycloak.
func IsNotFound(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}

// IsConflict reports whether err is a 409 from Keycloak.
func IsConflict(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.Status == http.StatusConflict
}

// esc escapes one path segment.
func esc(s string) string { return url.PathEscape(s) }
