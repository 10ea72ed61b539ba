package browser

import (
	"context"
	"fmt"
	"net/url"
	"strings"
)

// KeycloakLogin fills Keycloak's login form (form id kc-form-login, as the
// keycloak.v2 theme renders it) on page p with the user's credentials and
// follows the redirects back to the application, passing the one-time
// code, OTP setup and terms pages as b is told to (afterPassword). A page
// that still holds the form, or Keycloak's error page, is an error quoting
// Keycloak's message.
func (b *Browser) KeycloakLogin(ctx context.Context, p *Page, username, password string) (*Page, error) {
	f := p.Form("kc-form-login")
	if f == nil {
		return nil, fmt.Errorf("%w: no login form at %s (status %d): %.300s", ErrKeycloak, p.URL.Redacted(), p.Status, p.Text())
	}
	next, err := b.Submit(ctx, p, f, url.Values{"username": {username}, "password": {password}, "credentialId": {""}})
	if err != nil {
		return nil, err
	}
	if next.Form("kc-form-login") == nil {
		if next, err = b.afterPassword(ctx, next, username); err != nil {
			return nil, err
		}
	}
	if next.Status/100 == 3 {
		return next, nil // a redirect b.Stop kept: back to the application
	}
	if next.Form("kc-form-login") != nil {
		return nil, fmt.Errorf("%w: Keycloak rejected the credentials of %s: %s", ErrKeycloak, username, keycloakMessage(next))
	}
	if next.SAMLPost() != nil {
		return next, nil // the SAML POST binding page, for the application's ACS
	}
	if strings.Contains(next.URL.Path, "/login-actions/") {
		return nil, fmt.Errorf("%w: Keycloak wants more of %s before it finishes (a required action?): %s", ErrKeycloak, username, keycloakMessage(next))
	}
	return next, nil
}

// keycloakMessage is the error Keycloak shows on a page.
func keycloakMessage(p *Page) string {
	text := p.Text()
	for _, marker := range []string{"Invalid username or password.", "Invalid authenticator code.", "Account is disabled", "Account is temporarily disabled", "Invalid parameter", "Restart login cookie not found"} {
		if i := strings.Index(text, marker); i >= 0 {
			end := min(len(text), i+200)
			return text[i:end]
		}
	}
	if len(text) > 300 {
		text = text[:300] + "…"
	}
	return text
}

// AppLogin starts at the application page start, presses the element
// button (a link, or the submit button of a form), logs in at Keycloak,
// and returns the application's page after the callback.
func (b *Browser) AppLogin(ctx context.Context, start, button, username, password string) (*Page, error) {
	p, err := b.Get(ctx, start)
	if err != nil {
		return nil, err
	}
	if p.Status != 200 {
		return nil, fmt.Errorf("%s answered %d", start, p.Status)
	}
	var next *Page
	switch {
	case p.Link(button) != "":
		next, err = b.Get(ctx, p.Link(button))
	case p.Form(button) != nil:
		next, err = b.Submit(ctx, p, p.Form(button), nil)
	default:
		return nil, fmt.Errorf("no element %q (link or form button) on %s: %.300s", button, start, p.Text())
	}
	if err != nil {
		return nil, err
	}
	if next.Form("kc-form-login") == nil {
		// Keycloak had a session already and redirected straight back, or
		// the application failed before Keycloak.
		return next, nil
	}
	return b.KeycloakLogin(ctx, next, username, password)
}

// SAMLPost is the form of a SAML POST-binding page (Keycloak's "Redirecting,
// please wait" page with a SAMLResponse or SAMLRequest field), or nil.
func (p *Page) SAMLPost() *Form {
	if p.Status != 200 {
		return nil
	}
	for _, f := range p.Forms() {
		if f.Fields.Get("SAMLResponse") != "" || f.Fields.Get("SAMLRequest") != "" {
			return f
		}
	}
	return nil
}

// KeycloakIdentities are the KEYCLOAK_IDENTITY cookies the browser holds
// for the Keycloak realms it visited (each hop under /realms/R/), one per
// realm. Each is a JWT whose sid claim names the SSO session the login
// opened, so the caller can end exactly that session.
func (b *Browser) KeycloakIdentities() []string {
	var out []string
	seen := map[string]bool{}
	for _, h := range b.Hops {
		u, err := url.Parse(h.URL)
		if err != nil || !strings.HasPrefix(u.Path, "/realms/") {
			continue
		}
		for _, c := range b.client.Jar.Cookies(u) {
			if c.Name == "KEYCLOAK_IDENTITY" && c.Value != "" && !seen[c.Value] {
				seen[c.Value] = true
				out = append(out, c.Value)
			}
		}
	}
	return out
}
