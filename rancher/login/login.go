package login

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/crewjam/saml"

	"github.com/ssoctl/ssoctl/internal/browser"
	"github.com/ssoctl/ssoctl/internal/httpclient"
	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/rancher"
)

// Finding IDs of a login. Findings about the configuration reuse the
// rancher package's IDs.
const (
	FindingKeycloakRefused = "rancher.login.keycloak"  // Keycloak refused the request or the user
	FindingNoResponse      = "rancher.login.response"  // no SAML response came back for the ACS URL
	FindingInvalid         = "rancher.login.invalid"   // the library rejects the response
	FindingEncrypted       = "rancher.login.encrypted" // the assertion cannot be decrypted with the SP key
	FindingAttribute       = "rancher.login.attribute" // a field matches no attribute of the assertion
	FindingStatus          = "rancher.login.status"    // Keycloak answered with a SAML error status
	FindingDestination     = "rancher.login.acs"       // the response goes somewhere else than the ACS URL
	FindingThrowawayPair   = "rancher.login.throwaway" // no SP pair was given; a throwaway one was used
	FindingUnsigned        = rancher.FindingUnsignedResponse
)

// Principal is the Rancher user a login yields, as Rancher's provider
// builds it.
type Principal struct {
	// ID is Rancher's principal name, keycloak_user://UID.
	ID          string `json:"id"`
	UID         string `json:"uid"`
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	// Groups are group principal names, keycloak_group://VALUE.
	Groups []string `json:"groups"`
}

// Result is what a login found.
type Result struct {
	User string `json:"user"`
	// Principal is nil when no Rancher user came out of the login.
	Principal *Principal `json:"principal"`
	// Attributes are the assertion's attributes keyed as Rancher keys them
	// (friendly name, else name).
	Attributes map[string][]string `json:"attributes"`
	Response   ResponseShape       `json:"response"`
	Findings   []rancher.Finding   `json:"findings"`
	// Sessions are the Keycloak SSO sessions the login opened (the sid of
	// the browser's KEYCLOAK_IDENTITY cookie), for the caller to end.
	Sessions []string `json:"-"`
}

// OK reports whether Rancher would log the user in with every field
// resolved: a principal, and no error finding.
func (r *Result) OK() bool { return r.Principal != nil && !rancher.HasErrors(r.Findings) }

func (r *Result) fail(id, msg, fix string) *Result {
	r.Findings = append(r.Findings, rancher.Finding{ID: id, Severity: rancher.SeverityError, Message: msg, Fix: fix})
	return r
}

// Run logs user in to Keycloak as Rancher's SP. The error is non-nil only
// for bad input (the Rancher URL) and for a server that cannot be reached
// (*httpclient.UnreachableError); everything the login finds wrong is a
// finding of the result.
func Run(ctx context.Context, hc *http.Client, cfg Config, user, password string) (*Result, error) {
	s, fs, err := newServiceProvider(cfg)
	if err != nil {
		return nil, err
	}
	res := &Result{User: user, Attributes: map[string][]string{}, Findings: fs}
	if s == nil {
		return res, nil
	}
	client := cfg.ClientName
	if client == "" {
		client = s.entityID()
	}
	d := &diagnosis{cfg: cfg, s: s, client: client}
	ssoURL := s.sp.GetSSOBindingLocation(saml.HTTPRedirectBinding)
	if ssoURL == "" {
		return res.fail(rancher.FindingNoRedirectSSO, "The IdP metadata offers no SingleSignOnService with the HTTP-Redirect binding, which Rancher sends its login request with.",
			"Turn force_post_binding off for client "+client+" and give Rancher the realm's metadata again (ssoctl rancher config)."), nil
	}
	req, err := s.sp.MakeAuthenticationRequest(ssoURL, saml.HTTPRedirectBinding, saml.HTTPPostBinding)
	if err != nil {
		return nil, fmt.Errorf("making the AuthnRequest: %w", err)
	}
	relay := randomState()
	redirect, err := req.Redirect(relay, s.sp)
	if err != nil {
		return nil, fmt.Errorf("signing the AuthnRequest: %w", err)
	}

	b := browser.Over(hc)
	b.OTP = cfg.OTP
	defer func() { res.Sessions = keycloak.SessionIDs(b.KeycloakIdentities()) }()
	page, err := b.Get(ctx, redirect.String())
	if err != nil {
		return nil, unreachable(ssoURL, err)
	}
	if page.Form("kc-form-login") != nil {
		page, err = b.KeycloakLogin(ctx, page, user, password)
		if errors.Is(err, browser.ErrKeycloak) {
			return res.fail(FindingKeycloakRefused, strings.TrimPrefix(err.Error(), browser.ErrKeycloak.Error()+": "),
				"Check the user's password and that the user is enabled with no required action pending."), nil
		}
		if err != nil {
			return nil, unreachable(ssoURL, err)
		}
	}
	form := samlForm(page)
	if form == nil {
		msg, fix := d.refusal(page)
		return res.fail(FindingNoResponse, msg, fix), nil
	}
	if form.Action != s.urls.ACSURL {
		res.fail(FindingDestination, fmt.Sprintf("Keycloak posts the SAML response to %s, not to Rancher's ACS URL %s.", form.Action, s.urls.ACSURL),
			fmt.Sprintf("Set redirect_uris: [%s] for client %s (and drop any assertion consumer URL override in its attributes).", s.urls.ACSURL, client))
	}
	if got := form.Fields.Get("RelayState"); got != relay {
		res.fail(FindingInvalid, fmt.Sprintf("Keycloak returned RelayState %q, not the %q Rancher sent; Rancher finds its login state by it.", got, relay), "")
	}
	raw, err := base64.StdEncoding.DecodeString(form.Fields.Get("SAMLResponse"))
	if err != nil {
		return res.fail(FindingInvalid, "The SAMLResponse Keycloak rendered is not base64: "+err.Error(), ""), nil
	}
	res.Response = shapeOf(raw)
	assertion, err := s.sp.ParseXMLResponse(raw, []string{req.ID})
	if err != nil {
		id, msg, fix := d.invalid(libraryMessage(err), res.Response)
		return res.fail(id, msg, fix), nil
	}
	if s.throwaway {
		res.Findings = append(res.Findings, rancher.Finding{ID: FindingThrowawayPair, Severity: rancher.SeverityWarning,
			Message: "No SP key pair was given, so this login signed its request with a throwaway key. Keycloak accepted it because it does not verify request signatures (client_signature is off).",
			Fix:     "Pass --sp-cert and --sp-key with Rancher's own pair to prove the exact setup Rancher runs with."})
	}
	d.principal(res, assertion)
	return res, nil
}

// libraryMessage is the library's own reason: InvalidResponseError says
// only "Authentication failed" and keeps the cause private.
func libraryMessage(err error) string {
	var ire *saml.InvalidResponseError
	if errors.As(err, &ire) && ire.PrivateErr != nil {
		return ire.PrivateErr.Error()
	}
	return err.Error()
}

// samlForm is the POST-binding form Keycloak renders for the ACS URL.
func samlForm(p *browser.Page) *browser.Form {
	if p == nil {
		return nil
	}
	if f := p.SAMLPost(); f != nil && f.Fields.Get("SAMLResponse") != "" {
		return f
	}
	return nil
}

func unreachable(target string, err error) error {
	var ue *httpclient.UnreachableError
	var transport *url.Error
	if errors.As(err, &ue) || !errors.As(err, &transport) {
		return err // already named, or not the network's fault (a redirect loop)
	}
	u, perr := url.Parse(target)
	if perr == nil {
		u.RawQuery = ""
		target = u.String()
	}
	return &httpclient.UnreachableError{Server: "Keycloak", URL: target, Context: "Rancher's SAML login", Err: err}
}

func randomState() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
