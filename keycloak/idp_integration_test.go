//go:build integration

package keycloak_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssoctl/ssoctl/internal/browser"
	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
	"github.com/ssoctl/ssoctl/testbed"
)

// carrier counts the requests, and those whose body carries a given
// string (a client secret).
type carrier struct {
	base          http.RoundTripper
	mu            sync.Mutex
	needle        string
	carried       []string
	reads, writes atomic.Int64
}

func (c *carrier) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		data, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(data))
		c.mu.Lock()
		if c.needle != "" && bytes.Contains(data, []byte(c.needle)) {
			c.carried = append(c.carried, r.Method+" "+r.URL.Path)
		}
		c.mu.Unlock()
	}
	if !strings.Contains(r.URL.Path, "/protocol/openid-connect/token") {
		if r.Method == http.MethodGet || strings.HasSuffix(r.URL.Path, "/partial-export") {
			c.reads.Add(1)
		} else {
			c.writes.Add(1)
		}
	}
	return c.base.RoundTrip(r)
}

func (c *carrier) watch(s string) {
	c.mu.Lock()
	c.needle, c.carried = s, nil
	c.mu.Unlock()
}

func (c *carrier) seen() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.carried)
}

// idpFile reads an example and makes its realms the test's.
func idpFile(t *testing.T, path, kcURL string, names map[string]string, getenv func(string) string) *spec.Keycloak {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(string(data), "http://127.0.0.1:8080", kcURL)
	for from, to := range names {
		s = strings.ReplaceAll(s, "realm: "+from+"\n", "realm: "+to+"\n")
		s = strings.ReplaceAll(s, "/realms/"+from+"/", "/realms/"+to+"/")
		s = strings.ReplaceAll(s, "/realms/"+from+"\n", "/realms/"+to+"\n")
	}
	f, err := spec.Parse(path, []byte(s), func(k string) string {
		if k == "KEYCLOAK_URL" {
			return kcURL
		}
		return getenv(k)
	})
	if err != nil {
		t.Fatal(err)
	}
	return f.Keycloak
}

func planText(p *plan.Plan) string {
	var b strings.Builder
	_ = p.WriteText(&b, plan.RenderOptions{})
	return b.String()
}

// brokerLogin logs olga in to the broker's client app through corp and
// returns the groups of her access token, and her roles of client app
// as app/ROLE.
func brokerLogin(t *testing.T, ctx context.Context, admin *keycloak.Admin, kcURL, realm, user, password string) []string {
	t.Helper()
	const cb = "http://127.0.0.1:8400/callback"
	b := browser.New()
	b.Stop = func(u *url.URL) bool { return u.Host == "127.0.0.1:8400" }
	start := kcURL + "/realms/" + realm + "/protocol/openid-connect/auth?" + url.Values{"client_id": {"app"}, "redirect_uri": {cb},
		"response_type": {"code"}, "scope": {"openid"}, "state": {"s1"}}.Encode()
	p, err := b.Get(ctx, start)
	if err != nil {
		t.Fatal(err)
	}
	back, err := b.BrokerLogin(ctx, p, "corp", user, password)
	if err != nil {
		t.Fatalf("brokered login: %v\n%s", err, b.Trail())
	}
	loc, _ := url.Parse(back.Header.Get("Location"))
	code := loc.Query().Get("code")
	if code == "" {
		t.Fatalf("no code in %s", loc.Redacted())
	}
	secret, err := admin.ClientSecret(ctx, realm, "app")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.PostForm(kcURL+"/realms/"+realm+"/protocol/openid-connect/token", url.Values{"grant_type": {"authorization_code"},
		"code": {code}, "redirect_uri": {cb}, "client_id": {"app"}, "client_secret": {secret}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token: %v (status %d)", err, resp.StatusCode)
	}
	parts := strings.Split(tok.AccessToken, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims struct {
		Groups   []string `json:"groups"`
		Resource map[string]struct {
			Roles []string `json:"roles"`
		} `json:"resource_access"`
	}
	_ = json.Unmarshal(payload, &claims)
	groups := claims.Groups
	for _, r := range claims.Resource["app"].Roles {
		groups = append(groups, "app/"+r) // the client roles, beside the groups
	}
	slices.Sort(groups)
	return groups
}

// The upstream realm (examples/upstream.yaml) as the corporate IdP of the
// broker realm (examples/broker.yaml, plus a SAML provider from the
// upstream's descriptor): a brokered login lands in the mappers' groups, a
// re-apply writes nothing, the client secret is sent only when it changed,
// and export -> apply to an empty realm -> export is identical.
func TestIntegrationIdPBrokeredLogin(t *testing.T) {
	env := testbed.Load(t)
	ctx := context.Background()
	cnt := &carrier{base: http.DefaultTransport}
	hc := &http.Client{Transport: cnt, Timeout: time.Minute}
	admin := keycloak.NewAdmin(env.KeycloakURL, hc, keycloak.Credentials{Username: env.KeycloakAdmin, Password: env.KeycloakAdminPassword, Source: "testbed"})
	n := time.Now().UnixNano() % 1e8
	up, down, rt := fmt.Sprintf("hidp-up-%d", n), fmt.Sprintf("hidp-dn-%d", n), fmt.Sprintf("hidp-rt-%d", n)
	for _, r := range []string{up, down, rt} {
		t.Cleanup(func() { env.DeleteRealm(context.Background(), r) })
	}
	names := map[string]string{"upstream": up, "broker": down}
	vars := map[string]string{"OLGA_PASSWORD": "olga-Pw-1", "ADAM_PASSWORD": "adam-Pw-1"}
	getenv := func(k string) string { return vars[k] }

	upK := idpFile(t, "../examples/upstream.yaml", env.KeycloakURL, names, getenv)
	applyWith(t, ctx, admin, upK, getenv)
	secret, err := admin.ClientSecret(ctx, up, "downstream")
	if err != nil || secret == "" {
		t.Fatalf("the upstream's client secret: %v", err)
	}
	vars["CORP_IDP_SECRET"] = secret

	dnK := idpFile(t, "../examples/broker.yaml", env.KeycloakURL, names, getenv)
	dnK.IdentityProviders = append(dnK.IdentityProviders, spec.IdentityProvider{Alias: "corp-saml", Type: "saml", DisplayName: "Corporate SAML",
		MetadataURL: env.KeycloakURL + "/realms/" + up + "/protocol/saml/descriptor",
		Mappers:     []spec.IdPMapper{{Attribute: &spec.IdPAttribute{Attribute: "email", UserAttribute: "email"}}, {HardcodedGroup: &spec.HardcodedGroup{Group: "/brokered"}}}})
	cnt.watch(secret)
	first := applyWith(t, ctx, admin, dnK, getenv)
	if got := cnt.seen(); len(got) != 1 || !strings.HasSuffix(got[0], "/identity-provider/instances") {
		t.Fatalf("the secret went out in %v, want once, in the create", got)
	}
	if strings.Contains(planText(first), secret) {
		t.Fatal("the plan shows the client secret")
	}

	// (a) olga, in the upstream's ops group, logs in through corp.
	if got := brokerLogin(t, ctx, admin, env.KeycloakURL, down, "olga", vars["OLGA_PASSWORD"]); !slices.Equal(got, []string{"/brokered", "/operators"}) {
		t.Fatalf("olga's groups = %v, want /brokered and /operators", got)
	}

	// adam, in the upstream's admins, gets app/manager through
	// claim_to_role, and only /brokered.
	if got := brokerLogin(t, ctx, admin, env.KeycloakURL, down, "adam", vars["ADAM_PASSWORD"]); !slices.Equal(got, []string{"/brokered", "app/manager"}) {
		t.Fatalf("adam's groups and roles = %v, want /brokered and app/manager", got)
	}

	// The providers read from the export are those of the listings (the
	// fallback when the export is refused).
	bulk, err := admin.ReadState(ctx, down, keycloak.ReadOptions{IdPs: true})
	if err != nil {
		t.Fatal(err)
	}
	each, err := admin.ReadState(ctx, down, keycloak.ReadOptions{IdPs: true, PerObject: true})
	if err != nil {
		t.Fatal(err)
	}
	jb, _ := json.Marshal(bulk.IdPs)
	je, _ := json.Marshal(each.IdPs)
	if bulk.IdPs == nil || len(bulk.IdPs.Providers) != 2 || len(bulk.IdPs.Mappers["corp"]) != 4 || string(jb) != string(je) {
		t.Fatalf("identity providers:\n export:   %s\n listings: %s", jb, je)
	}

	// (b) re-apply writes nothing; the providers cost no read of their own.
	without := *dnK
	without.IdentityProviders = nil
	cnt.reads.Store(0)
	if _, err := admin.Plan(ctx, &without, keycloak.PlanOptions{Getenv: getenv}); err != nil {
		t.Fatal(err)
	}
	base := cnt.reads.Load()
	cnt.reads.Store(0)
	cnt.writes.Store(0)
	cnt.watch(secret)
	again := applyWith(t, ctx, admin, dnK, getenv)
	if again.HasChanges() || cnt.writes.Load() != 0 || len(cnt.seen()) != 0 {
		t.Fatalf("re-apply: %d writes, secret in %v:\n%s", cnt.writes.Load(), cnt.seen(), planText(again))
	}
	t.Logf("no-op plan: %d reads with 2 providers and 6 mappers, %d without them", cnt.reads.Load(), base)
	if extra := cnt.reads.Load() - base; extra > 0 {
		t.Errorf("the providers cost %d more reads in a no-op plan", extra)
	}

	// A field change sends the provider back with the mask: the stored
	// secret is kept (olga logs in again).
	dnK.IdentityProviders[0].DisplayName = "Corporate login (renamed)"
	cnt.watch(secret)
	p := applyWith(t, ctx, admin, dnK, getenv)
	if len(p.Changes) == 0 || len(cnt.seen()) != 0 {
		t.Fatalf("rename: secret in %v\n%s", cnt.seen(), planText(p))
	}
	if got := brokerLogin(t, ctx, admin, env.KeycloakURL, down, "olga", vars["OLGA_PASSWORD"]); !slices.Equal(got, []string{"/brokered", "/operators"}) {
		t.Fatalf("after a PUT with the mask, olga's groups = %v", got)
	}

	// (c) the secret changed only in the environment: one masked change,
	// sent once; unchanged again, no request carries it.
	vars["CORP_IDP_SECRET"] = "rotated-" + secret
	out, err := admin.Plan(ctx, dnK, keycloak.PlanOptions{Getenv: getenv, ForApply: true})
	if err != nil {
		t.Fatal(err)
	}
	var changed []*plan.Change
	for _, c := range out.Plan.Changes {
		if c.Action != plan.NoOp {
			changed = append(changed, c)
		}
	}
	if len(changed) != 1 || len(changed[0].Fields) != 1 || changed[0].Fields[0].Field != "client_secret" || strings.Contains(planText(out.Plan), vars["CORP_IDP_SECRET"]) {
		t.Fatalf("want one masked change:\n%s", planText(out.Plan))
	}
	cnt.watch(vars["CORP_IDP_SECRET"])
	if err := out.Plan.Execute(ctx, 8, nil); err != nil {
		t.Fatal(err)
	}
	if got := cnt.seen(); len(got) != 1 {
		t.Fatalf("the new secret went out in %v, want once", got)
	}
	cnt.watch(vars["CORP_IDP_SECRET"])
	if p := applyWith(t, ctx, admin, dnK, getenv); p.HasChanges() || len(cnt.seen()) != 0 {
		t.Fatalf("unchanged secret: sent in %v\n%s", cnt.seen(), planText(p))
	}
	vars["CORP_IDP_SECRET"] = secret
	applyWith(t, ctx, admin, dnK, getenv)

	// (d) export -> apply to an empty realm -> export identical.
	exported, err := admin.Export(ctx, down, nil)
	if err != nil {
		t.Fatal(err)
	}
	text, err := spec.Marshal(&spec.File{Keycloak: exported})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"alias: corp\n", "client_secret_env: CORP_CLIENT_SECRET", "claim_to_group:", "hardcoded_group:", "role: app/manager", "alias: corp-saml", "signing_certificate:"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("export lacks %q:\n%s", want, text)
		}
	}
	vars["CORP_CLIENT_SECRET"] = secret
	reparsed, err := spec.Parse("export.yaml", text, func(k string) string {
		if k == "KEYCLOAK_URL" {
			return env.KeycloakURL
		}
		return vars[k]
	})
	if err != nil {
		t.Fatalf("export does not load: %v\n%s", err, text)
	}
	reparsed.Keycloak.Realm, reparsed.Keycloak.CreateRealm = rt, true
	applyWith(t, ctx, admin, reparsed.Keycloak, getenv)
	copyK, err := admin.Export(ctx, rt, nil)
	if err != nil {
		t.Fatal(err)
	}
	copyK.Realm = exported.Realm
	text2, _ := spec.Marshal(&spec.File{Keycloak: copyK})
	if string(text) != string(text2) {
		t.Fatalf("round trip differs:\n--- source\n%s\n--- copy\n%s", text, text2)
	}
	if p := applyWith(t, ctx, admin, reparsed.Keycloak, getenv); p.HasChanges() {
		t.Fatalf("the copy's re-apply has changes:\n%s", planText(p))
	}
}

// A SAML provider made from the upstream realm's descriptor logs a user in:
// the upstream's SAML client for the broker (its entity id is the broker
// realm's URL), NameID the username; the broker's mappers put the user in
// /brokered and copy her email.
func TestIntegrationIdPSAMLLogin(t *testing.T) {
	env := testbed.Load(t)
	ctx := context.Background()
	admin := keycloak.NewAdmin(env.KeycloakURL, &http.Client{Timeout: time.Minute}, keycloak.Credentials{Username: env.KeycloakAdmin, Password: env.KeycloakAdminPassword, Source: "testbed"})
	n := time.Now().UnixNano() % 1e8
	up, down := fmt.Sprintf("hidp-sup-%d", n), fmt.Sprintf("hidp-sdn-%d", n)
	for _, r := range []string{up, down} {
		t.Cleanup(func() { env.DeleteRealm(context.Background(), r) })
	}
	vars := map[string]string{"SAM_PASSWORD": "sam-Pw-1", "KEYCLOAK_URL": env.KeycloakURL}
	getenv := func(k string) string { return vars[k] }
	kc := env.KeycloakURL
	parse := func(s string) *spec.Keycloak {
		f, err := spec.Parse("sso.yaml", []byte(s), getenv)
		if err != nil {
			t.Fatal(err)
		}
		return f.Keycloak
	}
	applyWith(t, ctx, admin, parse(`keycloak:
  realm: `+up+`
  create_realm: true
  clients:
    - client_id: `+kc+`/realms/`+down+`
      protocol: saml
      redirect_uris: [`+kc+`/realms/`+down+`/broker/corp-saml/endpoint]
      client_signature: false
      name_id_format: username
      attributes: {saml_force_name_id_format: "true"}
  users:
    - {username: sam, email: sam@corp.test, first_name: Sam, last_name: Saml, password_env: SAM_PASSWORD}
`), getenv)
	dn := parse(`keycloak:
  realm: ` + down + `
  create_realm: true
  clients:
    - client_id: app
      access: confidential
      redirect_uris: [http://127.0.0.1:8400/callback]
      mappers:
        - groups: {claim: groups, full_path: true}
  groups: [{name: brokered}]
  identity_providers:
    - alias: corp-saml
      type: saml
      display_name: Corporate SAML
      metadata_url: ` + kc + `/realms/` + up + `/protocol/saml/descriptor
      trust_email: true
      mappers:
        - hardcoded_group: {group: /brokered}
`)
	applyWith(t, ctx, admin, dn, getenv)
	if p := applyWith(t, ctx, admin, dn, getenv); p.HasChanges() {
		t.Fatalf("re-apply has changes:\n%s", planText(p))
	}
	const cb = "http://127.0.0.1:8400/callback"
	b := browser.New()
	b.Stop = func(u *url.URL) bool { return u.Host == "127.0.0.1:8400" }
	p, err := b.Get(ctx, kc+"/realms/"+down+"/protocol/openid-connect/auth?"+url.Values{"client_id": {"app"}, "redirect_uri": {cb},
		"response_type": {"code"}, "scope": {"openid"}, "state": {"s1"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	// The upstream's login form, then its SAML POST back to the broker.
	link := p.Link("social-corp-saml")
	if link == "" {
		t.Fatalf("no SAML button: %.400s", p.Text())
	}
	p, err = b.Get(ctx, link)
	for i := 0; err == nil && i < 3 && p.SAMLPost() != nil; i++ {
		p, err = b.Submit(ctx, p, p.SAMLPost(), nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	f := p.Form("kc-form-login")
	if f == nil {
		t.Fatalf("no upstream login form at %s: %.400s\n%s", p.URL.Redacted(), p.Text(), b.Trail())
	}
	p, err = b.Submit(ctx, p, f, url.Values{"username": {"sam"}, "password": {vars["SAM_PASSWORD"]}, "credentialId": {""}})
	for i := 0; err == nil && i < 3 && p.SAMLPost() != nil; i++ {
		p, err = b.Submit(ctx, p, p.SAMLPost(), nil)
	}
	for i := 0; err == nil && i < 3 && p.Status/100 != 3; i++ {
		var form *browser.Form
		for _, id := range []string{"kc-idp-review-profile-form", "kc-update-profile-form"} {
			if form = p.Form(id); form != nil {
				break
			}
		}
		if form == nil {
			t.Fatalf("the SAML login stopped at %s (status %d): %.400s\n%s", p.URL.Redacted(), p.Status, p.Text(), b.Trail())
		}
		fill := url.Values{}
		for k, v := range map[string]string{"email": "sam@corp.test", "firstName": "Sam", "lastName": "Saml", "username": "sam"} {
			if form.Fields.Get(k) == "" {
				fill.Set(k, v)
			}
		}
		p, err = b.Submit(ctx, p, form, fill)
	}
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := url.Parse(p.Header.Get("Location"))
	if loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("no code: %v\n%s", loc, b.Trail())
	}
	var users []struct {
		ID       string `json:"id"`
		Username string `json:"username"`
	}
	if err := env.KeycloakAdminRequest(ctx, http.MethodGet, "/"+down+"/users?username=sam&exact=true", nil, &users); err != nil || len(users) != 1 {
		t.Fatalf("the brokered user: %v %v", err, users)
	}
	var groups []struct {
		Path string `json:"path"`
	}
	if err := env.KeycloakAdminRequest(ctx, http.MethodGet, "/"+down+"/users/"+users[0].ID+"/groups", nil, &groups); err != nil || len(groups) != 1 || groups[0].Path != "/brokered" {
		t.Fatalf("sam's groups: %v %v", err, groups)
	}
}
