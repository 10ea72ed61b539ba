package doctor

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/ssoctl/ssoctl/internal/httpclient"
)

// logout checks the backchannel logout URL: Keycloak's host must reach it,
// and a URL this machine cannot even resolve rarely resolves there.
func (d *doc) logout() {
	u := d.live.client.Settings().BackchannelLogoutURL
	if u == "" {
		return
	}
	pu, err := url.Parse(u)
	if err != nil || pu.Host == "" {
		d.add(Check{ID: "logout.backchannel", System: sysKeycloak, Status: Fail, Message: fmt.Sprintf("client %s has backchannel logout URL %q, which is not a URL", d.t.Client, u),
			FixYAML: clientFix(d.t.Client, "backchannel_logout_url: \"\"")})
		return
	}
	if !d.live.client.Settings().BackchannelLogoutSessionRequired {
		// Measured on Keycloak 26: a client created with any attribute
		// stores "false" here, so its logout tokens carry sub but no sid.
		d.add(Check{ID: "logout.sid", System: sysKeycloak, Status: Warn,
			Message: fmt.Sprintf("client %s's logout tokens carry no sid (backchannel logout session required is off): an application that ends the session by sid ends none", d.t.Client),
			Fix:     "turn it on, so that the token names the Keycloak session", FixYAML: clientFix(d.t.Client, "backchannel_logout_session_required: true")})
	}
	host := pu.Host
	if pu.Port() == "" {
		host = net.JoinHostPort(pu.Hostname(), map[string]string{"https": "443"}[pu.Scheme]+map[string]string{"http": "80"}[pu.Scheme])
	}
	conn, err := net.DialTimeout("tcp", host, 3*time.Second)
	if err != nil {
		what := "cannot be reached"
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) {
			what = "does not resolve"
		}
		d.add(Check{ID: "logout.backchannel", System: sysKeycloak, Status: Warn,
			Message:  fmt.Sprintf("client %s's backchannel logout URL %s %s from this machine; Keycloak's host is the one that must reach it, or single sign-out never reaches the application", d.t.Client, u, what),
			Evidence: httpclient.NetCause(err), Fix: "give the application a name and address Keycloak's host resolves and reaches (not a container-only name)"})
		return
	}
	conn.Close()
	d.ok(sysKeycloak, "logout.backchannel", "the backchannel logout URL "+u+" answers from here (Keycloak's host must reach it too)")
}
