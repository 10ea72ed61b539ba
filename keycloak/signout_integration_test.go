//go:build integration

package keycloak_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/Nerzal/gocloak/v13"

	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/plan/plantest"
	"github.com/ssoctl/ssoctl/spec"
)

// signOutFile sets every single sign-out key on an OIDC and a SAML client;
// two more clients leave them out.
const signOutFile = `keycloak:
  realm: %s
  create_realm: true
  clients:
    - client_id: app
      redirect_uris: [https://app.example.com/cb]
      backchannel_logout_url: https://app.example.com/bc
      backchannel_logout_session_required: false
      backchannel_logout_revoke_offline_tokens: true
      frontchannel_logout: true
      frontchannel_logout_url: https://app.example.com/fc
    - client_id: https://sp.example.com/metadata
      protocol: saml
      redirect_uris: [https://sp.example.com/acs]
      frontchannel_logout: false
      single_logout_url_post: https://sp.example.com/slo/post
      single_logout_url_redirect: https://sp.example.com/slo/redirect
    - client_id: plain-oidc
    - client_id: plain-saml
      protocol: saml
`

// parseSignOut parses text for the testbed's Keycloak.
func (h *harness) parseSignOut(t *testing.T, text string) *spec.Keycloak {
	t.Helper()
	f, err := spec.Parse("sso.yaml", []byte(text), func(k string) string {
		if k == "KEYCLOAK_URL" {
			return h.env.KeycloakURL
		}
		return ""
	})
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, text)
	}
	return f.Keycloak
}

// rawClient reads a client as Keycloak stores it, past ssoctl's reads.
func (h *harness) rawClient(t *testing.T, ctx context.Context, clientID string) gocloak.Client {
	t.Helper()
	var found []gocloak.Client
	if err := h.env.KeycloakAdminRequest(ctx, "GET", "/"+h.realm+"/clients?clientId="+url.QueryEscape(clientID), nil, &found); err != nil || len(found) != 1 {
		t.Fatalf("reading client %s: %v (%d found)", clientID, err, len(found))
	}
	return found[0]
}

func renderPlan(p *plan.Plan) string {
	var b strings.Builder
	p.WriteText(&b, plan.RenderOptions{})
	return b.String()
}

func TestIntegrationSingleSignOutSettings(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	k := h.parseSignOut(t, fmt.Sprintf(signOutFile, h.realm))
	if _, err := h.apply(t, ctx, k, false); err != nil {
		t.Fatalf("first apply: %v", err)
	}
	if p := mustPlan(t, ctx, h.admin, k, keycloak.PlanOptions{}); p.HasChanges() {
		t.Fatalf("the plan after apply has changes:\n%s", renderPlan(p))
	}

	// What Keycloak 26.7.3 stores on clients created over REST that leave
	// the settings out; the export leaves these values out.
	oidc, saml := h.rawClient(t, ctx, "plain-oidc"), h.rawClient(t, ctx, "plain-saml")
	oa, sa := orZero(oidc.Attributes), orZero(saml.Attributes)
	t.Logf("defaults: oidc frontchannelLogout=%v session.required=%q revoke.offline.tokens=%q frontchannel.logout.url=%q; saml frontchannelLogout=%v slo post=%q redirect=%q",
		orZero(oidc.FrontChannelLogout), oa[keycloak.AttrBackchannelSessionRequired], oa[keycloak.AttrBackchannelLogoutRevokeOfflineTokens], oa[keycloak.AttrFrontchannelURL],
		orZero(saml.FrontChannelLogout), sa[keycloak.AttrSAMLSingleLogoutURLPost], sa[keycloak.AttrSAMLSingleLogoutURLRedirect])
	if orZero(oidc.FrontChannelLogout) || oa[keycloak.AttrBackchannelSessionRequired] != "true" || oa[keycloak.AttrBackchannelLogoutRevokeOfflineTokens] != "false" || oa[keycloak.AttrFrontchannelURL] != "" {
		t.Errorf("Keycloak's OIDC defaults changed: frontchannelLogout %v, attributes %v", orZero(oidc.FrontChannelLogout), oa)
	}
	if !orZero(saml.FrontChannelLogout) || sa[keycloak.AttrSAMLSingleLogoutURLPost] != "" || sa[keycloak.AttrSAMLSingleLogoutURLRedirect] != "" {
		t.Errorf("Keycloak's SAML defaults changed: frontchannelLogout %v", orZero(saml.FrontChannelLogout))
	}
	// And what the file asked for is what Keycloak stores.
	app := h.rawClient(t, ctx, "app")
	aa := orZero(app.Attributes)
	if !orZero(app.FrontChannelLogout) || aa[keycloak.AttrBackchannelSessionRequired] != "false" || aa[keycloak.AttrBackchannelLogoutRevokeOfflineTokens] != "true" || aa[keycloak.AttrFrontchannelURL] != "https://app.example.com/fc" {
		t.Errorf("app: frontchannelLogout %v, attributes %v", orZero(app.FrontChannelLogout), aa)
	}

	// Each change plans exactly itself, and applied, plans nothing.
	const sp = "https://sp.example.com/metadata"
	str := func(s string) *string { return &s }
	yes, no := true, false
	for _, tt := range []struct {
		client, field string
		set           func(c *spec.Client)
	}{
		{"app", "attributes." + keycloak.AttrBackchannelSessionRequired, func(c *spec.Client) { c.BackchannelLogoutSessionRequired = &yes }},
		{"app", "attributes." + keycloak.AttrBackchannelLogoutRevokeOfflineTokens, func(c *spec.Client) { c.BackchannelLogoutRevokeOfflineTokens = &no }},
		{"app", "frontchannelLogout", func(c *spec.Client) { c.FrontchannelLogout = &no }},
		{"app", "attributes." + keycloak.AttrFrontchannelURL, func(c *spec.Client) { c.FrontchannelLogoutURL = str("https://app.example.com/fc2") }},
		{"app", "attributes." + keycloak.AttrFrontchannelURL, func(c *spec.Client) { c.FrontchannelLogoutURL = str("") }},
		{sp, "frontchannelLogout", func(c *spec.Client) { c.FrontchannelLogout = &yes }},
		{sp, "attributes." + keycloak.AttrSAMLSingleLogoutURLPost, func(c *spec.Client) { c.SingleLogoutURLPost = str("https://sp.example.com/slo2") }},
		{sp, "attributes." + keycloak.AttrSAMLSingleLogoutURLRedirect, func(c *spec.Client) { c.SingleLogoutURLRedirect = str("") }},
	} {
		tt.set(k.Client(tt.client))
		p := mustPlan(t, ctx, h.admin, k, keycloak.PlanOptions{})
		ws := plantest.Written(p.Changes)
		if len(ws) != 1 || ws[0].Kind != "client" || len(ws[0].Fields) != 1 || ws[0].Fields[0].Field != tt.field {
			t.Fatalf("%s %s: want one change of that field, got:\n%s", tt.client, tt.field, renderPlan(p))
		}
		if _, err := h.apply(t, ctx, k, false); err != nil {
			t.Fatalf("%s %s: apply: %v", tt.client, tt.field, err)
		}
		if p := mustPlan(t, ctx, h.admin, k, keycloak.PlanOptions{}); p.HasChanges() {
			t.Fatalf("%s %s: the plan after apply has changes:\n%s", tt.client, tt.field, renderPlan(p))
		}
	}

	// Export, parse, plan: nothing to do. Put back the non-default values
	// first, so the export has them to write.
	k.Client("app").FrontchannelLogout, k.Client("app").FrontchannelLogoutURL = &yes, str("https://app.example.com/fc")
	k.Client("app").BackchannelLogoutSessionRequired, k.Client("app").BackchannelLogoutRevokeOfflineTokens = &no, &yes
	k.Client(sp).FrontchannelLogout, k.Client(sp).SingleLogoutURLRedirect = &no, str("https://sp.example.com/slo/redirect")
	if _, err := h.apply(t, ctx, k, false); err != nil {
		t.Fatal(err)
	}
	exported, err := h.admin.Export(ctx, h.realm, nil)
	if err != nil {
		t.Fatal(err)
	}
	text, err := spec.Marshal(&spec.File{Keycloak: exported})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"backchannel_logout_session_required: false", "backchannel_logout_revoke_offline_tokens: true", "frontchannel_logout: true",
		"frontchannel_logout_url: https://app.example.com/fc", "frontchannel_logout: false", "single_logout_url_post: https://sp.example.com/slo2",
		"single_logout_url_redirect: https://sp.example.com/slo/redirect"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("export lacks %q:\n%s", want, text)
		}
	}
	back := h.parseSignOut(t, string(text))
	back.URL = h.env.KeycloakURL
	if p := mustPlan(t, ctx, h.admin, back, keycloak.PlanOptions{}); p.HasChanges() {
		t.Fatalf("the export plans changes against its realm:\n%s\n%s", renderPlan(p), text)
	}
	// Only the two clients that set them carry single sign-out keys.
	for _, c := range back.Clients {
		set := c.BackchannelLogoutSessionRequired != nil || c.BackchannelLogoutRevokeOfflineTokens != nil || c.FrontchannelLogout != nil ||
			c.FrontchannelLogoutURL != nil || c.SingleLogoutURLPost != nil || c.SingleLogoutURLRedirect != nil
		if set != (c.ClientID == "app" || c.ClientID == sp) {
			t.Errorf("export of %s: single sign-out keys set = %v", c.ClientID, set)
		}
	}

	// Applied to an empty realm, the export makes the same clients.
	dst := newHarness(t)
	back.Realm, back.CreateRealm = dst.realm, true
	if _, err := dst.apply(t, ctx, back, false); err != nil {
		t.Fatalf("applying the export to an empty realm: %v", err)
	}
	again, err := dst.admin.Export(ctx, dst.realm, nil)
	if err != nil {
		t.Fatal(err)
	}
	again.Realm = h.realm
	if text2, _ := spec.Marshal(&spec.File{Keycloak: again}); string(text2) != string(text) {
		t.Fatalf("round trip differs:\n--- source\n%s\n--- copy\n%s", text, text2)
	}
}

func orZero[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
