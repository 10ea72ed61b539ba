package provision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/ssoctl/ssoctl/internal/httprecorder"
	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
	"github.com/ssoctl/ssoctl/vault"
)

// These tests run Plan against strict stubs of Keycloak and Vault: every
// request Plan sends must be one the test expects, answered as the real
// servers answer it, and every expected request must be sent.

type reply = httprecorder.Reply

const (
	masterToken = "POST /realms/master/protocol/openid-connect/token"
	adminToken  = `{"access_token":"admin-token","expires_in":60,"refresh_expires_in":1800,"refresh_token":"refresh","token_type":"Bearer","not-before-policy":0,"session_state":"s1","scope":"profile email"}`
	// sealStatus is a dev Vault 1.19.0's sys/seal-status.
	sealStatus = `{"type":"shamir","initialized":true,"sealed":false,"t":1,"n":1,"progress":0,"nonce":"","version":"1.19.0","build_date":"2025-12-02T03:10:45Z","migration":false,"cluster_name":"vault-cluster-1","cluster_id":"c1","recovery_seal":false,"storage_type":"inmem"}`
	// vaultMounts is sys/auth of a Vault with only its token mount.
	vaultMounts = `{"token/":{"accessor":"auth_token_1","config":{"default_lease_ttl":0,"max_lease_ttl":0,"token_type":"default-service"},"description":"token based credentials","local":false,"options":null,"seal_wrap":false,"type":"token"}}`
)

// vaultMissing is Vault's answer to a read of a path that holds nothing.
var vaultMissing = reply{Status: 404, Body: `{"errors":[]}`}

// stubs is a Keycloak and a Vault stand-in with the Systems that reach them.
type stubs struct {
	kc, vault *httprecorder.Recorder
	sys       Systems
	// discovery lists the URLs CheckDiscovery was asked about.
	discovery []string
}

func newStubs(t *testing.T, kc, v map[string]reply) *stubs {
	t.Helper()
	s := &stubs{}
	if kc != nil {
		if _, ok := kc[masterToken]; !ok {
			kc[masterToken] = reply{Body: adminToken}
		}
		s.kc = httprecorder.New(t, kc)
		s.kc.Skip = func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/openid-connect/token") }
	}
	if v != nil {
		s.vault = httprecorder.New(t, v)
		s.vault.Key = func(r *http.Request) string {
			if r.URL.Query().Get("list") == "true" {
				return "LIST " + r.URL.Path
			}
			return r.Method + " " + r.URL.Path
		}
	}
	s.sys = Systems{
		Keycloak: func(k *spec.Keycloak) (*keycloak.Admin, error) {
			if s.kc == nil {
				t.Error("Plan connected to Keycloak")
				return nil, errors.New("no Keycloak")
			}
			return keycloak.NewAdmin(k.URL, s.kc.Client(), keycloak.Credentials{Username: "admin", Password: "pw", Source: "test"}), nil
		},
		Vault: func(v *spec.Vault) (*vault.Conn, error) {
			if s.vault == nil {
				t.Error("Plan connected to Vault")
				return nil, errors.New("no Vault")
			}
			return vault.Connect(vault.Config{Addr: v.Addr, Token: "root-token", HTTPClient: s.vault.Client()})
		},
		CheckDiscovery: func(_ context.Context, url string) error {
			s.discovery = append(s.discovery, url)
			return nil
		},
	}
	return s
}

// file parses an sso.yaml whose "KC" and "VAULT" stand for the stubs' URLs.
func (s *stubs) file(t *testing.T, yaml string) *spec.File {
	t.Helper()
	if s.kc != nil {
		yaml = strings.ReplaceAll(yaml, "KC", s.kc.URL())
	}
	if s.vault != nil {
		yaml = strings.ReplaceAll(yaml, "VAULT", s.vault.URL())
	}
	// No stub: a URL nothing answers (Plan must not send to it).
	yaml = strings.NewReplacer("KC", "http://kc.invalid", "VAULT", "http://vault.invalid").Replace(yaml)
	f, err := spec.Parse("sso.yaml", []byte(yaml), nil)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// changes lists a plan's changes as "system action kind name".
func changes(p *plan.Plan) []string {
	var out []string
	for _, c := range p.Changes {
		out = append(out, fmt.Sprintf("%s %s %s %s", c.System, c.Action, c.Kind, c.Name))
	}
	return out
}

func change(p *plan.Plan, kind, name string) *plan.Change {
	for _, c := range p.Changes {
		if c.Kind == kind && c.Name == name {
			return c
		}
	}
	return nil
}

// emptyVault answers what planning newRealmFile reads of a Vault that
// holds none of it.
func emptyVault() map[string]reply {
	return map[string]reply{
		"GET /v1/sys/seal-status":             {Body: sealStatus},
		"GET /v1/sys/auth":                    {Body: `{"data":` + vaultMounts + `}`},
		"LIST /v1/identity/group-alias/id":    vaultMissing,
		"GET /v1/identity/group/name/manager": vaultMissing,
	}
}

const newRealmFile = `
keycloak:
  url: KC
  realm: demo
  create_realm: true
  clients:
    - client_id: vault
      redirect_uris: [http://localhost:8250/oidc/callback]
      roles: [secret_manager]
      mappers:
        - client_roles: {client: vault, claim: "resource_access.${client_id}.roles"}
    - client_id: shop
django:
  sites:
    - name: shop
      client: shop
      library: mozilla-django-oidc
      url: http://127.0.0.1:8000
      client_secret_env: SHOP_SECRET
vault:
  addr: VAULT
  auth:
    - path: oidc
      type: oidc
      client_id: vault
      default_role: default
      roles:
        default:
          user_claim: sub
          groups_claim: /resource_access/vault/roles
          bound_audiences: [vault]
          allowed_redirect_uris: [http://localhost:8250/oidc/callback]
      groups:
        - {name: manager, alias: secret_reader}
`

// A realm this run creates: Keycloak's plan comes first and creates it; the
// Vault plan neither checks the realm's discovery document (it does not
// exist yet) nor reads the new client's secret (it has none yet); the
// Django site's needs are noted on the client changes they cause; and the
// alias that no role's groups claim can carry is warned about.
func TestPlanNewRealmThenVault(t *testing.T) {
	s := newStubs(t, map[string]reply{
		"GET /admin/realms/demo": {Status: 404, Body: `{"error":"Realm not found."}`},
	}, emptyVault())
	f := s.file(t, newRealmFile)
	p, err := Plan(context.Background(), f, s.sys, Options{Concurrency: 2, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	got := changes(p)
	kcLast := slices.IndexFunc(got, func(c string) bool { return strings.HasPrefix(c, "vault ") }) - 1
	if kcLast < 0 || slices.ContainsFunc(got[kcLast+1:], func(c string) bool { return strings.HasPrefix(c, "keycloak ") }) {
		t.Errorf("Keycloak's changes must come before Vault's:\n%s", strings.Join(got, "\n"))
	}
	for _, want := range []string{"keycloak create realm demo", "keycloak create client demo/vault", "keycloak create client demo/shop",
		"vault create auth-mount oidc", "vault create auth-config oidc", "vault create role oidc/default", "vault create group-alias manager <- oidc/secret_reader"} {
		if !slices.Contains(got, want) {
			t.Errorf("no %q in:\n%s", want, strings.Join(got, "\n"))
		}
	}
	if len(s.discovery) != 0 {
		t.Errorf("the new realm's discovery was checked at plan time: %v", s.discovery)
	}
	if c := change(p, "client", "demo/shop"); c == nil || !strings.Contains(c.Note, "mozilla-django-oidc") {
		t.Errorf("the Django site's need is not noted on its client: %+v", c)
	}
	if c := change(p, "client", "demo/vault"); c == nil || c.Note != "" {
		t.Errorf("a client no site uses carries a note: %+v", c)
	}
	if !slices.ContainsFunc(p.Warnings, func(w string) bool { return strings.Contains(w, `alias "secret_reader"`) }) {
		t.Errorf("no alias warning in %q", p.Warnings)
	}
}

// --only vault with a mount whose secret is a Keycloak client's: Keycloak
// is read for that secret only (no realm read, no Keycloak changes), the
// realm's discovery document is checked, and the secret is handed to
// OnSecret for masking.
func TestPlanOnlyVaultReadsTheClientSecret(t *testing.T) {
	s := newStubs(t, map[string]reply{
		"GET /admin/realms/demo/clients":                  {Body: `[{"id":"u1","clientId":"vault","enabled":true,"publicClient":false}]`},
		"GET /admin/realms/demo/clients/u1/client-secret": {Body: `{"type":"secret","value":"kc-secret-1"}`},
	}, emptyVault())
	f := s.file(t, newRealmFile)
	var secrets []string
	p, err := Plan(context.Background(), f, s.sys, Options{Only: OnlyVault, OnSecret: func(v string) { secrets = append(secrets, v) }})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range changes(p) {
		if strings.HasPrefix(c, "keycloak ") {
			t.Errorf("--only vault planned %s", c)
		}
	}
	if c := change(p, "auth-config", "oidc"); c == nil || c.Action != plan.Create {
		t.Errorf("no config write planned: %v", changes(p))
	}
	if !slices.Equal(s.discovery, []string{s.kc.URL() + "/realms/demo"}) {
		t.Errorf("discovery checked for %v", s.discovery)
	}
	if len(secrets) != 0 {
		t.Errorf("a secret was read at plan time: %v", secrets)
	}
	// Applied: the secret is read from Keycloak when the config is written.
	s.vault.Set("POST /v1/sys/auth/oidc", reply{Status: 204})
	s.vault.Set("GET /v1/sys/auth", reply{Body: `{"data":{"oidc/":{"accessor":"auth_oidc_2","config":{"default_lease_ttl":0,"max_lease_ttl":0,"token_type":"default-service"},"description":"","local":false,"options":{},"seal_wrap":false,"type":"oidc"}}}`})
	s.vault.Set("PUT /v1/auth/oidc/config", reply{Status: 204})
	s.vault.Set("PUT /v1/auth/oidc/role/default", reply{Status: 204})
	s.vault.Set("PUT /v1/identity/group/name/manager", reply{Body: `{"data":{"id":"gid-m","name":"manager"}}`})
	s.vault.Set("GET /v1/identity/group/name/manager", reply{Body: `{"data":{"id":"gid-m","name":"manager","type":"external"}}`})
	s.vault.Set("PUT /v1/identity/group-alias", reply{Body: `{"data":{"canonical_id":"gid-m","id":"al-1"}}`})
	if err := p.Execute(context.Background(), 1, nil); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(secrets, []string{"kc-secret-1"}) {
		t.Errorf("secrets handed for masking: %v", secrets)
	}
	var cfg struct {
		ID     string `json:"oidc_client_id"`
		Secret string `json:"oidc_client_secret"`
		URL    string `json:"oidc_discovery_url"`
	}
	if err := json.Unmarshal(s.vault.Body("PUT /v1/auth/oidc/config"), &cfg); err != nil || cfg.ID != "vault" || cfg.Secret != "kc-secret-1" || cfg.URL != s.kc.URL()+"/realms/demo" {
		t.Errorf("config written: %+v %v", cfg, err)
	}
}

const rancherFile = `
keycloak:
  url: KC
  realm: demo
  create_realm: true
  clients:
    - client_id: https://rancher.example.com/v1-saml/keycloak/saml/metadata
      protocol: saml
      redirect_uris: [https://rancher.example.com/v1-saml/keycloak/saml/acs]
    - client_id: other
  groups:
    - {name: rancher-admins}
rancher:
  url: https://rancher.example.com
  fields: {display_name: givenName, user_name: email, uid: email, groups: member}
`

// --only rancher plans the SAML client alone (and the realm it needs), not
// the rest of the keycloak: section.
func TestPlanOnlyRancher(t *testing.T) {
	s := newStubs(t, map[string]reply{
		"GET /admin/realms/demo": {Status: 404, Body: `{"error":"Realm not found."}`},
	}, nil)
	p, err := Plan(context.Background(), s.file(t, rancherFile), s.sys, Options{Only: OnlyRancher})
	if err != nil {
		t.Fatal(err)
	}
	got := changes(p)
	if !slices.Contains(got, "keycloak create client demo/https://rancher.example.com/v1-saml/keycloak/saml/metadata") {
		t.Errorf("no SAML client in:\n%s", strings.Join(got, "\n"))
	}
	for _, c := range got {
		if strings.Contains(c, "other") || strings.Contains(c, "rancher-admins") {
			t.Errorf("--only rancher planned %s", c)
		}
	}
}

// The file's mistakes are bad input (exit 2) and reach no server.
func TestPlanRefusesBadInput(t *testing.T) {
	s := newStubs(t, nil, nil)
	var bi interface{ BadInput() bool }
	_, err := Plan(context.Background(), s.file(t, "keycloak:\n  url: http://kc\n  realm: demo\n"), s.sys, Options{Only: OnlyRancher})
	if !errors.As(err, &bi) || err.Error() != "sso.yaml: --only rancher needs a rancher: section" {
		t.Errorf("no rancher section: %v", err)
	}
	// The file's check refuses this too; Plan does not count on it.
	f := s.file(t, "keycloak:\n  url: http://kc\n  realm: demo\n  clients: [{client_id: x, protocol: saml}]\nrancher:\n  url: https://r\n  saml_client: x\n")
	f.Rancher.SAMLClient = "nope"
	_, err = Plan(context.Background(), f, s.sys, Options{Only: OnlyRancher})
	if !errors.As(err, &bi) || !strings.Contains(err.Error(), `rancher.saml_client "nope" is not a client of the keycloak: section`) {
		t.Errorf("saml_client not a client: %v", err)
	}
}

// A Keycloak error about a key of the file is reported at that key's line.
func TestPlanKeycloakInputErrorNamesTheLine(t *testing.T) {
	s := newStubs(t, map[string]reply{
		"GET /admin/realms/demo": {Status: 404, Body: `{"error":"Realm not found."}`},
	}, nil)
	f := s.file(t, "keycloak:\n  url: KC\n  realm: demo\n  create_realm: true\n  clients:\n    - client_id: app\n      default_scopes: [nope]\n")
	_, err := Plan(context.Background(), f, s.sys, Options{})
	var se *spec.Error
	if !errors.As(err, &se) || se.Line != 7 || !strings.Contains(se.Msg, `no client scope "nope"`) {
		t.Errorf("err %v (%+v)", err, se)
	}
}

// A system that cannot be connected to ends the plan with its error.
func TestPlanStopsAtAConnectionError(t *testing.T) {
	boom := errors.New("no credentials")
	f := newStubs(t, nil, nil).file(t, newRealmFile)
	sys := Systems{Keycloak: func(*spec.Keycloak) (*keycloak.Admin, error) { return nil, boom }}
	if _, err := Plan(context.Background(), f, sys, Options{}); !errors.Is(err, boom) {
		t.Errorf("keycloak: %v", err)
	}
	s := newStubs(t, map[string]reply{
		"GET /admin/realms/demo": {Status: 404, Body: `{"error":"Realm not found."}`},
	}, nil)
	s.sys.Vault = func(*spec.Vault) (*vault.Conn, error) { return nil, boom }
	if _, err := Plan(context.Background(), s.file(t, newRealmFile), s.sys, Options{}); !errors.Is(err, boom) {
		t.Errorf("vault: %v", err)
	}
	// --only keycloak never connects to Vault.
	s.sys.Vault = nil
	if p, err := Plan(context.Background(), s.file(t, newRealmFile), s.sys, Options{Only: OnlyKeycloak}); err != nil || !p.HasChanges() {
		t.Errorf("--only keycloak: %v", err)
	}
}
