// Package doctor finds what is wrong across Keycloak, Vault, Django sites
// and Rancher: it reads the live configuration of each system, checks them
// against each other (and against the sso.yaml when there is one), logs in
// for real as a test user when asked, and names each broken link with its
// fix, as a Keycloak or Vault setting and as the sso.yaml lines that make it.
//
// Its checks only read configuration. What it changes is said here so no
// one is surprised: a test login (--user) opens Keycloak sessions for that
// user, as any login does, and ends each one it opened when the logins are
// done (the refresh token's logout, else the admin API's delete of that
// session); the logout probe (doctor logout) logs the user
// in to two clients and logs out of the first, which ends that SSO session
// in Keycloak and sends its back-channel logouts (the point of the probe);
// and --fix edits the sso.yaml, which the CLI writes.
package doctor

import (
	"context"
	"github.com/ssoctl/ssoctl/rancher"
	"net/http"
	"slices"
	"time"

	"github.com/ssoctl/ssoctl/internal/browser"
	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/spec"
	"github.com/ssoctl/ssoctl/vault"
)

// Status of a check.
type Status string

// The statuses: a failure makes doctor exit 3.
const (
	OK   Status = "ok"
	Warn Status = "warning"
	Fail Status = "fail"
)

// Check is one verdict.
type Check struct {
	ID      string `json:"id"`
	System  string `json:"system"`
	Status  Status `json:"status"`
	Message string `json:"message"`
	// Evidence is what was seen (values, URLs, the server's own message).
	Evidence string `json:"evidence,omitempty"`
	// Fix says what to change, in the console or server terms.
	Fix string `json:"fix,omitempty"`
	// FixYAML is the sso.yaml fragment that makes the fix (it parses).
	FixYAML string `json:"fix_yaml,omitempty"`
}

// Login is one real login doctor performed.
type Login struct {
	// Path names the login: keycloak (password grant), vault-jwt
	// MOUNT/ROLE, vault-oidc MOUNT/ROLE, django SITE.
	Path string `json:"path"`
	User string `json:"user"`
	OK   bool   `json:"ok"`
	// Step is where it broke; Message the server's own words.
	Step    string `json:"step,omitempty"`
	Message string `json:"message,omitempty"`
	// Granted summarises what the login got (policies, groups, page).
	Granted string `json:"granted,omitempty"`
	// Evidence is the login's server-side trace: the LOGIN event Keycloak
	// stored for the session it opened (events.go).
	Evidence string `json:"evidence,omitempty"`

	sessions []string // the Keycloak sessions the login opened
	check    int      // index of its check in the report
}

// Report is what doctor found.
type Report struct {
	Checks []Check `json:"checks"`
	Logins []Login `json:"logins"`
}

// Failed reports whether any check failed.
func (r *Report) Failed() bool {
	return slices.ContainsFunc(r.Checks, func(c Check) bool { return c.Status == Fail })
}

// Mount is a Vault auth mount to check, with the roles (all when empty).
type Mount struct {
	Path  string
	Roles []string
}

// Target says what to check: one realm and client, the Vault mounts that
// trust it, the Django sites and the Rancher setup that use it.
type Target struct {
	KeycloakURL, Realm, Client string
	Mounts                     []Mount
	Sites                      []spec.DjangoSite
	Rancher                    *spec.Rancher
	// RancherMetadata is the IdP metadata Rancher holds (nil: the realm's
	// live descriptor is checked).
	RancherMetadata []byte
	// File is the sso.yaml when doctor runs with -f: its fix fragments are
	// then written against it, and it is compared with the live state.
	File *spec.File
}

// Systems are the connections doctor reads through. Vault may be nil when
// no mount is checked.
type Systems struct {
	Keycloak *keycloak.Admin
	Vault    *vault.Conn
	// HTTP is for public endpoints: discovery, JWKS, token, sites.
	HTTP *http.Client
	Now  func() time.Time
}

// Options tune a run.
type Options struct {
	// User and Password, when set, make doctor log in for real.
	User, Password string
	// TOTPKey is the user's OTP secret, for logins through an OTP flow;
	// TOTPEnv names the variable it came from (for messages), or the
	// variable to name when it is missing.
	TOTPKey []byte
	TOTPEnv string
}

// Run checks t and returns the report. An error means a system could not
// be read at all (unreachable, refused credentials).
func Run(ctx context.Context, t Target, sys Systems, o Options) (*Report, error) {
	if sys.Now == nil {
		sys.Now = time.Now
	}
	live, err := read(ctx, t, sys)
	if err != nil {
		return nil, err
	}
	d := &doc{t: t, sys: sys, live: live, rep: &Report{Checks: []Check{}, Logins: []Login{}}, totpKey: o.TOTPKey, totpEnv: o.TOTPEnv}
	d.checkLive()
	d.rancher(ctx)
	if o.User != "" {
		d.logins(ctx, o.User, o.Password)
	}
	return d.rep, nil
}

// checkLive runs the checks that need nothing but the live state read.
func (d *doc) checkLive() {
	d.discovery()
	d.client()
	d.redirects()
	for _, m := range d.live.mounts {
		d.audience(m)
		d.claims(m)
		d.aliases(m)
	}
	d.django()
	d.logout()
	d.clock()
}

// doc accumulates one run.
type doc struct {
	t    Target
	sys  Systems
	live *live
	rep  *Report
	// saml is Rancher's setup as the checks read it, for the SAML login;
	// nil when there is no rancher: section or it could not be read.
	saml *samlSetup
	// sessions are the Keycloak sessions the browser logins opened, ended
	// when the logins are done; refused is the login at which Keycloak
	// refused the password ("" none), after which no login tries it again.
	sessions []string
	refused  string
	// totpKey and totpEnv are Options'; otp hands out the run's codes
	// and status is the user's login status, both set by logins.
	totpKey []byte
	totpEnv string
	otp     *browser.OTP
	status  *keycloak.LoginStatus
}

// samlSetup is the live SAML client facing Rancher and the IdP metadata
// Rancher holds.
type samlSetup struct {
	client   *rancher.SAMLClient
	metadata []byte
}

func (d *doc) add(c Check) { d.rep.Checks = append(d.rep.Checks, c) }

func (d *doc) ok(system, id, msg string) {
	d.add(Check{ID: id, System: system, Status: OK, Message: msg})
}
