package doctor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ssoctl/ssoctl/inspect"
	"github.com/ssoctl/ssoctl/internal/httpclient"
	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/rancher"
	"github.com/ssoctl/ssoctl/spec"
	"github.com/ssoctl/ssoctl/templates/django"
)

// exportClient reads the live client as its tokens see it.
func exportClient(v *keycloak.ClientView) spec.Client { return v.TokenClient() }

func djangoCheck(s *spec.DjangoSite, c *spec.Client) []django.Problem { return django.Check(s, c) }

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

// clock compares Keycloak's clock with Vault's (what Vault's time checks
// see) and each server's with this machine's (what Django sites running
// here see). Vault's tolerance is the smallest of its roles': a jwt role's
// clock_skew_leeway (0 means 60s, negative none); an OIDC role's iat check
// allows a minute and its exp none.
func (d *doc) clock() {
	kc, v := d.live.kcClock, d.live.vaultClock
	leeway, by := time.Minute, "Vault's default"
	for _, m := range d.live.mounts {
		for _, name := range m.names {
			r := m.roles[name]
			l := time.Minute
			switch {
			case r.RoleType == "oidc":
			case r.ClockSkewLeeway < 0:
				l = 0
			case r.ClockSkewLeeway > 0:
				l = r.ClockSkewLeeway
			}
			if l < leeway {
				leeway, by = l, fmt.Sprintf("clock_skew_leeway of role %s/%s", m.view.Path, name)
			}
		}
	}
	if !kc.server.IsZero() && !v.server.IsZero() {
		// Each reading is server time against local time; the difference
		// of the two offsets is Keycloak's clock against Vault's.
		skew := kc.local.Sub(kc.server) - v.local.Sub(v.server)
		ev := fmt.Sprintf("Keycloak %s by %s; Vault %s by %s", kc.server.UTC().Format(time.TimeOnly), kc.source, v.server.UTC().Format(time.TimeOnly), v.source)
		// Both readings count whole seconds.
		if abs(skew) > leeway+2*time.Second {
			d.add(Check{ID: "clock.keycloak-vault", System: sysVault, Status: Fail, Evidence: ev,
				Message: fmt.Sprintf("Keycloak's clock and Vault's are %s apart, more than the %s allowed (%s): Vault refuses fresh tokens (%s)", abs(skew).Round(time.Second), leeway, by, inspect.VaultMsgClockRefusals),
				Fix:     "sync both hosts' clocks with NTP"})
		} else {
			d.ok(sysVault, "clock.keycloak-vault", fmt.Sprintf("Keycloak's clock and Vault's agree within %s (%s allowed)", abs(skew).Round(time.Second)+2*time.Second, leeway))
		}
	}
	for _, s := range []struct {
		system string
		r      clockReading
	}{{sysKeycloak, kc}, {sysVault, v}} {
		if s.r.server.IsZero() {
			continue
		}
		skew := abs(s.r.local.Sub(s.r.server))
		ev := fmt.Sprintf("%s %s by %s; this machine %s", s.system, s.r.server.UTC().Format(time.TimeOnly), s.r.source, s.r.local.UTC().Format(time.TimeOnly))
		if skew > 5*time.Second {
			d.add(Check{ID: "clock.skew", System: s.system, Status: Warn, Evidence: ev,
				Message: fmt.Sprintf("%s's clock is %s off this machine's: a Django site here that checks token times refuses fresh tokens (social-auth's Keycloak backend allows no leeway, JWT_LEEWAY 0)", s.system, skew.Round(time.Second)),
				Fix:     "sync the clocks with NTP"})
		} else {
			d.ok(s.system, "clock.skew", fmt.Sprintf("%s's clock agrees with this machine's (within %s)", s.system, skew.Round(time.Second)+time.Second))
		}
	}
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// rancher checks the SAML client and the metadata as Rancher will use them.
func (d *doc) rancher(ctx context.Context) {
	r := d.t.Rancher
	if r == nil {
		return
	}
	// The client doctor was pointed at, when it is a SAML client: its ID
	// is then checked against Rancher's entity ID rather than looked up.
	v := d.live.client
	var err error
	if v.Settings().Protocol != "saml" {
		v, err = d.sys.Keycloak.ReadClient(ctx, d.t.Realm, r.SAMLClient)
	}
	if err != nil {
		d.add(Check{ID: "rancher.client", System: sysRancher, Status: Fail, Message: "Rancher's SAML client " + r.SAMLClient + " cannot be read: " + err.Error(),
			Fix: "create a saml client whose client id is " + r.URL + "/v1-saml/keycloak/saml/metadata"})
		return
	}
	sc := v.Export()
	d2 := keycloak.ExpandClient(sc)
	client := &rancher.SAMLClient{ClientID: sc.ClientID, RedirectURIs: sc.RedirectURIs, Attributes: d2.Attributes}
	for _, m := range d2.Mappers {
		client.Mappers = append(client.Mappers, rancher.SAMLAttribute{MapperName: m.Name, AttributeName: m.Config["attribute.name"], FriendlyName: m.Config["friendly.name"]})
	}
	meta := d.t.RancherMetadata
	if meta == nil {
		raw, err := keycloak.Descriptor(ctx, d.sys.HTTP, d.t.KeycloakURL, d.t.Realm)
		if err != nil {
			d.add(Check{ID: "rancher.metadata", System: sysRancher, Status: Fail, Message: "the realm's SAML descriptor cannot be fetched: " + err.Error()})
			return
		}
		conv, err := rancher.Convert(raw, rancher.ConvertOptions{})
		if err != nil {
			d.add(Check{ID: "rancher.metadata", System: sysRancher, Status: Fail, Message: "the realm's SAML descriptor: " + err.Error()})
			return
		}
		meta = conv.Metadata
	}
	findings, err := rancher.Check(meta, d.sys.Now())
	if err != nil {
		d.add(Check{ID: "rancher.metadata", System: sysRancher, Status: Fail, Message: "the IdP metadata is not XML Rancher can read: " + err.Error()})
		return
	}
	d.saml = &samlSetup{client: client, metadata: meta}
	_, cfgFindings, err := rancher.BuildConfig(rancher.ConfigInput{RancherURL: r.URL, Client: client, Metadata: meta,
		Fields: rancher.FieldsOf(r.Fields)})
	noFields := r.Fields == (spec.RancherFields{})
	if err == nil {
		// Rancher's own key pair is Rancher's business: doctor checks what
		// Keycloak and the metadata give it.
		// Without fields (doctor run on flags alone) there is nothing to
		// hold the mappers against; what they send is listed instead.
		findings = append(findings, slices.DeleteFunc(cfgFindings, func(f rancher.Finding) bool {
			return f.ID == rancher.FindingSPCertMissing || f.ID == rancher.FindingSPKeyMissing || (noFields && f.ID == rancher.FindingFieldMissing)
		})...)
		if noFields {
			var sent []string
			for _, a := range client.Mappers {
				if name := cmp.Or(a.FriendlyName, a.AttributeName); name != "" {
					sent = append(sent, name)
				}
			}
			d.add(Check{ID: "rancher.fields", System: sysRancher, Status: Warn,
				Message: fmt.Sprintf("the SAML client sends the attributes %s; Rancher's display name, user name, UID and groups fields must each be one of these", strings.Join(sent, ", ")),
				Fix:     "run doctor with --rancher-fields display_name=…,user_name=…,uid=…,groups=… (Rancher's values) to check them"})
		}
	}
	if len(findings) == 0 {
		what := "SAML client, fields"
		if noFields {
			what = "SAML client"
		}
		d.ok(sysRancher, "rancher.config", "Rancher's "+what+" and metadata are as Rancher decodes them")
	}
	for _, f := range findings {
		st := Fail
		if f.Severity != "error" {
			st = Warn
		}
		d.add(Check{ID: "rancher." + strings.TrimPrefix(f.ID, "rancher."), System: sysRancher, Status: st, Message: f.Message, Fix: f.Fix})
	}
}
