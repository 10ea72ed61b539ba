package doctor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/ssoctl/ssoctl/inspect"
	"github.com/ssoctl/ssoctl/internal/browser"
	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/rancher"
	"github.com/ssoctl/ssoctl/rancher/login"
	"github.com/ssoctl/ssoctl/vault"
)

// cliCallback is the redirect URI `vault login -method=oidc` listens on.
const cliCallback = "http://localhost:8250/oidc/callback"

func (d *doc) login(l Login) {
	l.check = len(d.rep.Checks)
	d.rep.Logins = append(d.rep.Logins, l)
	id := "login." + strings.SplitN(l.Path, " ", 2)[0]
	if l.OK {
		d.ok(systemOf(l.Path), id, l.Path+" as "+l.User+": "+l.Granted)
		return
	}
	d.add(Check{ID: id, System: systemOf(l.Path), Status: Fail, Message: fmt.Sprintf("%s as %s broke at %s", l.Path, l.User, l.Step), Evidence: l.Message})
}

func systemOf(path string) string {
	switch {
	case strings.HasPrefix(path, "vault"):
		return sysVault
	case strings.HasPrefix(path, "django"):
		return sysDjango
	case strings.HasPrefix(path, "rancher"):
		return sysRancher
	}
	return sysKeycloak
}

// logins performs the real logins: the password grant, each JWT role with
// the ID token, each OIDC role through the browser flow, and each Django
// site that is running. Every Keycloak session they open is ended at the
// end, and a password Keycloak refuses is not tried again in this run.
func (d *doc) logins(ctx context.Context, user, password string) {
	defer d.endSessions(ctx, user)
	if !d.loginStatus(ctx, user) {
		return // locked: every login would be refused
	}
	defer d.loginEvents(ctx, user)
	defer d.lockedByRun(ctx, user)
	if d.saml != nil {
		d.rancherLogin(ctx, user, password)
	}
	if d.live.client.Settings().Protocol == "saml" {
		return // Rancher's SAML client: its login is the one above
	}
	kc := d.sys.Keycloak
	secret, err := kc.ClientSecret(ctx, d.t.Realm, d.t.Client)
	if err != nil {
		d.login(Login{Path: "keycloak", User: user, Step: "reading the client secret", Message: err.Error()})
		return
	}
	tok := d.passwordGrant(ctx, user, password, secret)
	for _, m := range d.live.mounts {
		for _, name := range m.names {
			r := m.roles[name]
			if r.RoleType == "oidc" {
				d.oidcLogin(ctx, m, name, user, password)
			} else if tok != nil {
				d.jwtLogin(ctx, m, name, user, tok)
			}
		}
	}
	if tok != nil {
		d.endGrant(ctx, user, secret, tok)
	}
	for _, s := range d.t.Sites {
		d.siteLogin(ctx, s.Name, s.URL, user, password)
	}
}

// passwordGrant logs user in to the client with the password grant, when
// the client allows it; nil when there is no token.
func (d *doc) passwordGrant(ctx context.Context, user, password, secret string) *keycloak.TokenResponse {
	if !d.live.client.Settings().DirectGrants {
		d.add(Check{ID: "login.keycloak", System: sysKeycloak, Status: Warn,
			Message: "client " + d.t.Client + " allows no direct grants, so no token was fetched for the JWT logins (the browser logins still run)"})
		return nil
	}
	if d.skipRefused("keycloak", user) {
		return nil
	}
	req := keycloak.TokenRequest{Realm: d.t.Realm, ClientID: d.t.Client, ClientSecret: secret, Username: user, Password: password}
	if d.status != nil && d.status.OTP != nil {
		if d.otp == nil {
			// Measured on 26.7.3: a direct grant without the code is
			// "Invalid user credentials" and counts a login failure.
			d.login(Login{Path: "keycloak", User: user, Step: "the password grant's one-time code", Message: d.otpMissing(user) + "; the grant was not sent, as Keycloak would count it a failed login"})
			return nil
		}
		code, err := d.otp.Code(ctx)
		if err != nil {
			d.login(Login{Path: "keycloak", User: user, Step: "the password grant's one-time code", Message: err.Error()})
			return nil
		}
		req.OTP = code
	}
	tok, err := keycloak.RequestToken(ctx, d.sys.HTTP, d.t.KeycloakURL, req)
	if err != nil {
		d.noteRefused("keycloak", err.Error())
		msg := keycloakMessage(err)
		if req.OTP != "" && strings.Contains(msg, "Invalid user credentials") {
			msg += " (Keycloak answers so to a wrong password and to a wrong one-time code alike: check that $" + d.totpEnv + " holds " + user + "'s secret)"
		}
		d.login(Login{Path: "keycloak", User: user, Step: "the password grant", Message: msg})
		return nil
	}
	granted := "ID and access tokens from the password grant"
	if req.OTP != "" {
		granted += " with a one-time code"
	}
	d.login(Login{Path: "keycloak", User: user, OK: true, Granted: granted, sessions: keycloak.SessionIDs([]string{tok.IDToken})})
	return tok
}

// endGrant logs the password grant's session out once its tokens have
// served the JWT logins (Vault keeps its own tokens).
func (d *doc) endGrant(ctx context.Context, user, secret string, tok *keycloak.TokenResponse) {
	err := d.sys.Keycloak.EndGrant(ctx, d.sys.HTTP, keycloak.Grant{Realm: d.t.Realm, ClientID: d.t.Client, ClientSecret: secret,
		User: user, AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken})
	if err != nil {
		d.add(Check{ID: "login.session", System: sysKeycloak, Status: Warn, Message: err.Error()})
	}
}

// opened records the sessions browser b's login opened.
func (d *doc) opened(b *browser.Browser) {
	for _, sid := range keycloak.SessionIDs(b.KeycloakIdentities()) {
		if !slices.Contains(d.sessions, sid) {
			d.sessions = append(d.sessions, sid)
		}
	}
}

// endSessions deletes, through the admin API, exactly the sessions the
// browser logins opened; each one that stays is a warning naming it.
func (d *doc) endSessions(ctx context.Context, user string) {
	for _, err := range d.sys.Keycloak.EndSessions(ctx, d.t.Realm, user, d.sessions) {
		d.add(Check{ID: "login.session", System: sysKeycloak, Status: Warn, Message: err.Error()})
	}
	d.sessions = nil
}

// noteRefused remembers that Keycloak refused the password at path when
// msg says so.
func (d *doc) noteRefused(path, msg string) {
	if d.refused == "" && (strings.Contains(msg, "Invalid user credentials") || strings.Contains(msg, "Invalid username or password")) {
		d.refused = path
	}
}

// skipRefused reports whether the login at path must not be tried because
// Keycloak already refused the password in this run, and says so: each
// further try would count one more login failure toward the realm's
// brute-force lockout.
func (d *doc) skipRefused(path, user string) bool {
	if d.refused == "" {
		return false
	}
	d.add(Check{ID: "login." + strings.SplitN(path, " ", 2)[0], System: systemOf(path), Status: Warn,
		Message: fmt.Sprintf("%s as %s was not tried: Keycloak refused the password at the %s login, and doctor tries a refused password once per run so as not to count more failures toward brute-force lockout", path, user, d.refused)})
	return true
}

func keycloakMessage(err error) string {
	var api *keycloak.APIError
	if errors.As(err, &api) {
		return fmt.Sprintf("Keycloak answered %d: %s", api.Status, api.Message)
	}
	return err.Error()
}

func vaultMessage(err error) string {
	var api *vault.APIError
	if errors.As(err, &api) {
		return strings.Join(api.Errors, "; ")
	}
	return err.Error()
}

// jwtLogin logs in to a JWT role with the user's ID token and then with the
// access token (what machines and client-credentials logins send), after
// running ssoctl's model of Vault's checks on each.
func (d *doc) jwtLogin(ctx context.Context, m *mount, role, user string, tok *keycloak.TokenResponse) {
	for _, t := range []struct{ kind, suffix, jwt string }{{"ID token", "", tok.IDToken}, {"access token", " (access token)", tok.AccessToken}} {
		if t.jwt == "" {
			continue
		}
		path := "vault-jwt " + m.view.Path + "/" + role + t.suffix
		parsed, err := inspect.ParseInput([]byte(t.jwt), inspect.PickDefault)
		var predicted string
		if err == nil && m.cfg != nil && d.live.disc != nil {
			keys := inspect.NewRemoteJWKS(d.sys.HTTP, d.live.disc.JWKSURI)
			v, err := inspect.EvaluateVault(ctx, parsed, m.roles[role], m.cfg, keys, inspect.VaultOptions{Login: inspect.VaultLoginJWT, RoleName: role, Mount: m.view.Path, Flavor: d.flavor(ctx), RoleFromServer: true})
			switch {
			case err == nil && v.CannotEvaluate():
				// OpenBao has no budget of its own: the login would cost
				// the server whatever the template asks for.
				d.add(Check{ID: "login.vault-jwt", System: sysVault, Status: Warn,
					Message:  path + " as " + user + ": the login was not sent, because ssoctl cannot evaluate the role's token_policies templates and OpenBao sets no limit on them",
					Evidence: v.Findings[0].Message, Fix: v.Findings[0].Fix})
				continue
			case err == nil:
				predicted = "accepted"
				if !v.Accepted {
					predicted = v.Message
				}
			}
		}
		res, err := d.sys.Vault.Login(ctx, m.view.Path, role, t.jwt)
		if err != nil {
			msg := vaultMessage(err)
			if predicted != "" && predicted == msg {
				msg += " (as ssoctl's model of Vault predicted)"
			}
			d.login(Login{Path: path, User: user, Step: "Vault's JWT login with the " + t.kind, Message: msg})
			continue
		}
		d.login(Login{Path: path, User: user, OK: true, Granted: "policies " + strings.Join(append(res.TokenPolicies, res.IdentityPolicies...), ", ")})
	}
}

// oidcLogin runs Vault's browser flow headlessly: auth_url, Keycloak's login
// form, then Vault's callback with the code, as the CLI's listener would.
func (d *doc) oidcLogin(ctx context.Context, m *mount, role, user, password string) {
	path := "vault-oidc " + m.view.Path + "/" + role
	r := m.roles[role]
	redirect := cliCallback
	if !slices.Contains(r.AllowedRedirectURIs, cliCallback) && len(r.AllowedRedirectURIs) > 0 {
		redirect = r.AllowedRedirectURIs[0]
	}
	authURL, err := d.sys.Vault.OIDCAuthURL(ctx, m.view.Path, role, redirect)
	if err != nil || authURL == "" {
		msg := "Vault returned an empty auth_url (the redirect URI " + redirect + " is not allowed by the role?)"
		if err != nil {
			msg = vaultMessage(err)
		}
		d.login(Login{Path: path, User: user, Step: "Vault's auth_url", Message: msg})
		return
	}
	if d.skipRefused(path, user) {
		return
	}
	target, _ := url.Parse(redirect)
	b := d.browser()
	defer d.opened(b)
	b.Stop = func(u *url.URL) bool { return u.Host == target.Host && u.Path == target.Path }
	page, err := b.Get(ctx, authURL)
	if err == nil && page.Form("kc-form-login") != nil {
		page, err = b.KeycloakLogin(ctx, page, user, password)
	}
	if err != nil {
		d.noteRefused(path, err.Error())
		d.login(Login{Path: path, User: user, Step: "Keycloak's login", Message: d.browserMessage(user, err)})
		return
	}
	loc, lerr := url.Parse(page.Header.Get("Location"))
	if page.Status/100 != 3 || lerr != nil || loc.Query().Get("code") == "" {
		d.login(Login{Path: path, User: user, Step: "Keycloak's redirect to " + redirect, Message: fmt.Sprintf("no code came back (status %d at %s): %.300s", page.Status, page.URL.Redacted(), page.Text())})
		return
	}
	res, err := d.sys.Vault.OIDCCallback(ctx, m.view.Path, loc.Query().Get("state"), loc.Query().Get("code"))
	if err != nil {
		d.login(Login{Path: path, User: user, Step: "Vault's callback (it exchanges the code with the client secret it holds)", Message: vaultMessage(err)})
		return
	}
	if res == nil {
		d.login(Login{Path: path, User: user, Step: "Vault's callback", Message: "Vault answered without a token"})
		return
	}
	d.login(Login{Path: path, User: user, OK: true, Granted: "policies " + strings.Join(append(res.TokenPolicies, res.IdentityPolicies...), ", "),
		sessions: keycloak.SessionIDs(b.KeycloakIdentities())})
}

// siteLogin logs in to a running Django site through its admin login
// page's Keycloak button.
func (d *doc) siteLogin(ctx context.Context, name, site, user, password string) {
	path := "django " + name
	b := d.browser()
	if p, err := b.Do(ctx, http.MethodGet, site+"/admin/login/", nil, ""); err != nil || p.Status != 200 {
		d.add(Check{ID: "login.django", System: sysDjango, Status: Warn, Message: "site " + name + " is not running at " + site + "; its login was not tried"})
		return
	}
	if d.skipRefused(path, user) {
		return
	}
	defer d.opened(b)
	page, err := b.AppLogin(ctx, site+"/admin/login/?next=/admin/", "keycloak-sso-login", user, password)
	switch {
	case err != nil:
		d.noteRefused(path, err.Error())
		d.login(Login{Path: path, User: user, Step: "the login through Keycloak", Message: d.browserMessage(user, err)})
	case page.Status >= 400:
		d.login(Login{Path: path, User: user, Step: "the site's callback", Message: fmt.Sprintf("%d at %s: %.300s", page.Status, page.URL.Path, page.Text())})
	case strings.Contains(page.Text(), "not authorized"):
		d.login(Login{Path: path, User: user, OK: true, Granted: "logged in, but not staff: the admin refuses the user", sessions: keycloak.SessionIDs(b.KeycloakIdentities())})
	default:
		d.login(Login{Path: path, User: user, OK: true, Granted: fmt.Sprintf("logged in; the admin answered %d at %s", page.Status, page.URL.Path), sessions: keycloak.SessionIDs(b.KeycloakIdentities())})
	}
}

// rancherLogin logs in as Rancher's SAML service provider (rancher login)
// and reports the principal, or each finding with its fix.
func (d *doc) rancherLogin(ctx context.Context, user, password string) {
	r := d.t.Rancher
	cfg := login.Config{RancherURL: r.URL, EntityID: r.SAMLClient, ClientName: r.SAMLClient, Metadata: d.saml.metadata, Client: d.saml.client,
		Fields: rancher.FieldsOf(r.Fields), OTP: d.otp}
	res, err := login.Run(ctx, d.sys.HTTP, cfg, user, password)
	if err != nil {
		d.login(Login{Path: "rancher saml", User: user, Step: "Keycloak's SAML endpoint", Message: err.Error()})
		return
	}
	d.sessions = append(d.sessions, res.Sessions...)
	var failed []string
	for _, f := range res.Findings {
		if f.ID == login.FindingThrowawayPair {
			continue // doctor never holds Rancher's key pair
		}
		if f.ID == login.FindingKeycloakRefused {
			d.noteRefused("rancher saml", f.Message)
			if strings.Contains(f.Message, browser.ErrOTPRequired.Error()) {
				f.Message, f.Fix = d.otpMissing(user), ""
			}
		}
		st := Warn
		if f.Severity == rancher.SeverityError {
			st = Fail
			failed = append(failed, f.Message)
		}
		d.add(Check{ID: f.ID, System: sysRancher, Status: st, Message: f.Message, Fix: f.Fix})
	}
	if res.Principal == nil || len(failed) > 0 {
		msg := strings.Join(failed, " ")
		if msg == "" {
			msg = "no Rancher principal came out of the login"
		}
		d.login(Login{Path: "rancher saml", User: user, Step: "Rancher's SAML login (rancher/saml)", Message: msg})
		return
	}
	p := res.Principal
	groups := "no groups"
	if len(p.Groups) > 0 {
		groups = "groups " + strings.Join(p.Groups, ", ")
	}
	d.login(Login{Path: "rancher saml", User: user, OK: true, Granted: fmt.Sprintf("Rancher user %s (%s), %s", p.ID, cmp.Or(p.DisplayName, p.Username), groups), sessions: res.Sessions})
}

// flavor is the model's flavour for the Vault doctor talks to: OpenBao's
// plugin differs (templated policies).
func (d *doc) flavor(ctx context.Context) string {
	if srv, err := d.sys.Vault.Server(ctx); err == nil && srv.Flavor == vault.FlavorOpenBao {
		return inspect.FlavorOpenBao
	}
	return inspect.FlavorVault
}
