package browser

import (
	"context"
	"fmt"
	"net/url"
)

// BrokerLogin logs in through identity provider alias from Keycloak's
// login page p: it follows the provider's button (the link
// id="social-ALIAS" that the keycloak.v2 theme renders), fills the
// upstream's login form, and passes the first broker login pages (review
// profile, update account information: submitted as filled in, with email,
// first and last name from the upstream) until b.Stop keeps the redirect
// back to the application, which it returns.
func (b *Browser) BrokerLogin(ctx context.Context, p *Page, alias, username, password string) (*Page, error) {
	link := p.Link("social-" + alias)
	if link == "" {
		return nil, fmt.Errorf("%w: no button for identity provider %s on %s: %.300s", ErrKeycloak, alias, p.URL.Redacted(), p.Text())
	}
	up, err := b.Get(ctx, link)
	if err != nil {
		return nil, err
	}
	f := up.Form("kc-form-login")
	if f == nil {
		return nil, fmt.Errorf("%w: identity provider %s: no upstream login form at %s (status %d): %.300s", ErrKeycloak, alias, up.URL.Redacted(), up.Status, up.Text())
	}
	next, err := b.Submit(ctx, up, f, url.Values{"username": {username}, "password": {password}, "credentialId": {""}})
	if err != nil {
		return nil, err
	}
	for range 4 {
		if next.Status/100 == 3 {
			return next, nil
		}
		if next.Form("kc-form-login") != nil && next.URL.Host == up.URL.Host && next.URL.Path == up.URL.Path {
			return nil, fmt.Errorf("%w: the upstream rejected the credentials of %s: %s", ErrKeycloak, username, keycloakMessage(next))
		}
		var form *Form
		for _, id := range []string{"kc-idp-review-profile-form", "kc-update-profile-form", "kc-register-form"} {
			if form = next.Form(id); form != nil {
				break
			}
		}
		if form == nil {
			return nil, fmt.Errorf("%w: identity provider %s: the login of %s stopped at %s (status %d): %s", ErrKeycloak, alias, username, next.URL.Redacted(), next.Status, keycloakMessage(next))
		}
		if next, err = b.Submit(ctx, next, form, nil); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("%w: identity provider %s: the first broker login of %s did not finish (last page %s): %s", ErrKeycloak, alias, username, next.URL.Redacted(), keycloakMessage(next))
}
