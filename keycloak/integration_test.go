//go:build integration

package keycloak_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
	"github.com/ssoctl/ssoctl/testbed"
)

// counter counts admin-API requests by kind and can cancel a context after
// a number of writes.
type counter struct {
	base         http.RoundTripper
	reads        atomic.Int64
	writes       atomic.Int64
	cancelAfter  int64
	cancel       context.CancelFunc
	mu           sync.Mutex
	writeTargets []string
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(r)
	if strings.Contains(r.URL.Path, "/protocol/openid-connect/token") || strings.HasSuffix(r.URL.Path, "/protocol/openid-connect/logout") {
		return resp, err // logins and their logouts are neither reads nor writes of the realm
	}
	// The realm's partial export is a POST that writes nothing.
	if r.Method == http.MethodGet || strings.HasSuffix(r.URL.Path, "/partial-export") {
		c.reads.Add(1)
	} else {
		n := c.writes.Add(1)
		c.mu.Lock()
		c.writeTargets = append(c.writeTargets, r.Method+" "+r.URL.Path)
		c.mu.Unlock()
		if c.cancelAfter > 0 && n >= c.cancelAfter && c.cancel != nil {
			c.cancel()
		}
	}
	return resp, err
}

type harness struct {
	env   testbed.Env
	cnt   *counter
	admin *keycloak.Admin
	hc    *http.Client
	realm string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	env := testbed.Load(t)
	cnt := &counter{base: http.DefaultTransport}
	hc := &http.Client{Transport: cnt, Timeout: time.Minute}
	admin := keycloak.NewAdmin(env.KeycloakURL, hc, keycloak.Credentials{Username: env.KeycloakAdmin, Password: env.KeycloakAdminPassword, Source: "testbed"})
	realm := fmt.Sprintf("it-%s-%d", strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")), time.Now().UnixNano()%1e6)
	if len(realm) > 60 {
		realm = realm[:60]
	}
	h := &harness{env: env, cnt: cnt, admin: admin, hc: hc, realm: realm}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := env.DeleteRealm(ctx, realm); err != nil {
			t.Errorf("deleting realm %s: %v", realm, err)
		}
	})
	return h
}

// load reads an example and points it at the testbed and this test's realm.
func (h *harness) load(t *testing.T, path string) *spec.File {
	t.Helper()
	f, err := spec.Load(path, nil, func(k string) string {
		switch k {
		case "KEYCLOAK_URL":
			return h.env.KeycloakURL
		case "VAULT_ADDR":
			return h.env.VaultAddr // the examples have a vault section; these tests use only keycloak
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	f.Keycloak.Realm = h.realm
	return f
}

var passwords = map[string]string{"ALICE_PASSWORD": "alice-Pw-1", "BOB_PASSWORD": "bob-Pw-2", "CAROL_PASSWORD": "carol-Pw-3"}

func getenv(k string) string { return passwords[k] }

func (h *harness) apply(t *testing.T, ctx context.Context, k *spec.Keycloak, prune bool) (*plan.Plan, error) {
	t.Helper()
	out, err := h.admin.Plan(ctx, k, keycloak.PlanOptions{Getenv: getenv, ForApply: true})
	if err != nil {
		return nil, err
	}
	p := out.Plan
	if prune {
		p.IncludePrunable()
	}
	return p, p.Execute(ctx, 8, nil)
}

// mustPlan plans k on a and fails the test when planning fails.
func mustPlan(t *testing.T, ctx context.Context, a *keycloak.Admin, k *spec.Keycloak, o keycloak.PlanOptions) *plan.Plan {
	t.Helper()
	out, err := a.Plan(ctx, k, o)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	return out.Plan
}

func (h *harness) login(t *testing.T, client, user, password string) *keycloak.TokenResponse {
	t.Helper()
	ctx := context.Background()
	secret, err := h.admin.ClientSecret(ctx, h.realm, client)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := keycloak.RequestToken(ctx, h.hc, h.env.KeycloakURL, keycloak.TokenRequest{Realm: h.realm, ClientID: client, ClientSecret: secret, Username: user, Password: password})
	if err != nil {
		t.Fatalf("password grant for %s: %v", user, err)
	}
	return tok
}

func strs(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func TestIntegrationDemoExampleTokens(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	f := h.load(t, "../examples/sso.yaml")
	if _, err := h.apply(t, ctx, f.Keycloak, false); err != nil {
		t.Fatalf("first apply: %v", err)
	}

	tok := h.login(t, "vault", "alice", passwords["ALICE_PASSWORD"])
	id := testbed.Claims(t, tok.IDToken)
	// The audience mapper puts aud = vault into the ID token.
	if id["aud"] != "vault" && !slices.Contains(strsOrNil(id["aud"]), "vault") {
		t.Errorf("ID token aud = %v, want vault", id["aud"])
	}
	// Client roles at resource_access.${client_id}.roles, in the ID token.
	ra, _ := id["resource_access"].(map[string]any)
	vr, _ := ra["vault"].(map[string]any)
	if vr == nil || !slices.Contains(strs(vr["roles"]), "secret_manager") {
		t.Errorf("ID token resource_access = %v, want vault.roles with secret_manager", id["resource_access"])
	}
	// Realm roles at the configured claim, groups by short name.
	if !slices.Contains(strsOrNil(id["realm_roles"]), "auditor") {
		t.Errorf("realm_roles = %v, want auditor (bound through kv-managers)", id["realm_roles"])
	}
	if g := strsOrNil(id["groups"]); !slices.Equal(g, []string{"kv-managers"}) {
		t.Errorf("groups = %v, want [kv-managers] (short names, full_path false)", id["groups"])
	}
	access := testbed.Claims(t, tok.AccessToken)
	if !slices.Contains(strsOrNil(access["aud"]), "vault") && access["aud"] != "vault" {
		t.Errorf("access token aud = %v, want vault among them", access["aud"])
	}
	bobID := testbed.Claims(t, h.login(t, "vault", "bob", passwords["BOB_PASSWORD"]).IDToken)
	bra := bobID["resource_access"].(map[string]any)["vault"].(map[string]any)
	if got := strs(bra["roles"]); !slices.Equal(got, []string{"secret_reader"}) {
		t.Errorf("bob's vault roles = %v, want [secret_reader]", got)
	}

	// userinfo_signed: false -> plain JSON from the userinfo endpoint.
	req, _ := http.NewRequest("GET", h.env.KeycloakURL+"/realms/"+h.realm+"/protocol/openid-connect/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var ui map[string]any
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") || json.Unmarshal(body, &ui) != nil {
		t.Fatalf("userinfo: content-type %q, body %q: want plain JSON", ct, body)
	}
	if ui["preferred_username"] != "alice" {
		t.Errorf("userinfo = %v", ui)
	}

	// Signed userinfo when asked, and back.
	c := f.Keycloak.Client("vault")
	yes := true
	c.UserinfoSigned = &yes
	if _, err := h.apply(t, ctx, f.Keycloak, false); err != nil {
		t.Fatal(err)
	}
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/jwt") {
		t.Errorf("signed userinfo: content-type %q, want application/jwt", ct)
	}
	no := false
	c.UserinfoSigned = &no
	if _, err := h.apply(t, ctx, f.Keycloak, false); err != nil {
		t.Fatal(err)
	}
	tok = h.login(t, "vault", "alice", passwords["ALICE_PASSWORD"])
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("after userinfo_signed false again: content-type %q", ct)
	}
}

func strsOrNil(v any) []string {
	if l, ok := v.([]any); ok {
		return strs(l)
	}
	return nil
}

func TestIntegrationSecondApplyWritesNothing(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	for _, ex := range []string{"../examples/sso.yaml", "../examples/rancher.yaml"} {
		f := h.load(t, ex)
		if _, err := h.apply(t, ctx, f.Keycloak, false); err != nil {
			t.Fatalf("%s: first apply: %v", ex, err)
		}
		// Keycloak rewrites some mapper configs the first time they issue a
		// token; a login in between must not turn the next apply into writes.
		if f.Keycloak.Client("vault") != nil {
			h.login(t, "vault", "alice", passwords["ALICE_PASSWORD"])
		}
		h.cnt.writes.Store(0)
		h.cnt.reads.Store(0)
		p, err := h.apply(t, ctx, f.Keycloak, false)
		if err != nil {
			t.Fatal(err)
		}
		if p.HasChanges() {
			var b strings.Builder
			p.WriteText(&b, plan.RenderOptions{})
			t.Errorf("%s: second plan has changes:\n%s", ex, b.String())
		}
		if n := h.cnt.writes.Load(); n != 0 {
			t.Errorf("%s: second apply made %d writes (%v), want 0", ex, n, h.cnt.writeTargets)
		}
		t.Logf("%s: no-op re-apply read %d times", ex, h.cnt.reads.Load())
	}
}

func TestIntegrationSAMLClientAndMappers(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	f := h.load(t, "../examples/rancher.yaml")
	if _, err := h.apply(t, ctx, f.Keycloak, false); err != nil {
		t.Fatal(err)
	}
	exp, err := h.admin.Export(ctx, h.realm, []string{f.Rancher.SAMLClient})
	if err != nil {
		t.Fatal(err)
	}
	c := exp.Clients[0]
	if c.Protocol != "saml" || !slices.Equal(c.RedirectURIs, []string{"https://rancher.example.com/v1-saml/keycloak/saml/acs"}) {
		t.Fatalf("saml client = %+v", c)
	}
	if c.ClientSignature == nil || *c.ClientSignature || c.ForcePostBinding == nil || *c.ForcePostBinding || c.SignAssertions == nil || !*c.SignAssertions {
		t.Errorf("saml signature settings not as Rancher documents: %+v", c)
	}
	var names []string
	for _, m := range c.Mappers {
		names = append(names, m.DefaultName(c.ClientID))
	}
	for _, want := range []string{"property firstName", "property lastName", "property email", "groups"} {
		if !slices.Contains(names, want) {
			t.Errorf("mapper %q missing; have %v", want, names)
		}
	}
	for _, m := range c.Mappers {
		if m.SAMLGroups != nil && (m.SAMLGroups.Attribute != "member" || m.SAMLGroups.FriendlyName != "member") {
			t.Errorf("saml groups mapper = %+v, want attribute and friendly name member", m.SAMLGroups)
		}
	}
	desc, err := keycloak.Descriptor(ctx, h.hc, h.env.KeycloakURL, h.realm)
	if err != nil || !strings.Contains(string(desc), "IDPSSODescriptor") {
		t.Fatalf("descriptor: %v %.200s", err, desc)
	}
}

func TestIntegrationInterruptedApplyConverges(t *testing.T) {
	for _, n := range []int64{1, 4, 9} {
		t.Run(fmt.Sprintf("after-%d-writes", n), func(t *testing.T) {
			h := newHarness(t)
			f := h.load(t, "../examples/sso.yaml")
			ctx, cancel := context.WithCancel(context.Background())
			h.cnt.cancel, h.cnt.cancelAfter = cancel, n
			_, err := h.apply(t, ctx, f.Keycloak, false)
			cancel()
			if err == nil {
				t.Fatalf("apply cancelled after %d writes returned no error", n)
			}
			h.cnt.cancelAfter = 0
			if _, err := h.apply(t, context.Background(), f.Keycloak, false); err != nil {
				t.Fatalf("re-run after interruption: %v", err)
			}
			h.cnt.writes.Store(0)
			p, err := h.apply(t, context.Background(), f.Keycloak, false)
			if err != nil || p.HasChanges() || h.cnt.writes.Load() != 0 {
				t.Fatalf("third run: err %v, changes %v, writes %d", err, p.HasChanges(), h.cnt.writes.Load())
			}
			// The result works: alice logs in with her roles.
			id := testbed.Claims(t, h.login(t, "vault", "alice", passwords["ALICE_PASSWORD"]).IDToken)
			if id["resource_access"] == nil {
				t.Fatalf("alice's token lacks client roles after convergence: %v", id)
			}
		})
	}
}

func TestIntegrationExportRoundTrip(t *testing.T) {
	src := newHarness(t)
	ctx := context.Background()
	f := src.load(t, "../examples/sso.yaml")
	f.Keycloak.Groups = append(f.Keycloak.Groups, spec.Group{Name: "platform/kv-auditors", RealmRoles: []string{"auditor"}})
	f.Keycloak.Clients[0].Mappers = append(f.Keycloak.Clients[0].Mappers, spec.Mapper{Name: "hardcoded", Raw: &spec.RawMapper{
		ProtocolMapper: "oidc-hardcoded-claim-mapper", Config: map[string]string{"claim.name": "tier", "claim.value": "gold", "id.token.claim": "true", "access.token.claim": "false", "jsonType.label": "String"}}})
	if _, err := src.apply(t, ctx, f.Keycloak, false); err != nil {
		t.Fatal(err)
	}
	exported, err := src.admin.Export(ctx, src.realm, nil)
	if err != nil {
		t.Fatal(err)
	}
	text, err := spec.Marshal(&spec.File{Keycloak: exported})
	if err != nil {
		t.Fatal(err)
	}
	// The export is a valid sso.yaml.
	reparsed, err := spec.Parse("export.yaml", text, func(string) string { return src.env.KeycloakURL })
	if err != nil {
		t.Fatalf("export does not load: %v\n%s", err, text)
	}

	dst := newHarness(t)
	reparsed.Keycloak.Realm = dst.realm
	reparsed.Keycloak.CreateRealm = true
	if _, err := dst.apply(t, ctx, reparsed.Keycloak, false); err != nil {
		t.Fatalf("applying the export to an empty realm: %v\n%s", err, text)
	}
	again, err := dst.admin.Export(ctx, dst.realm, nil)
	if err != nil {
		t.Fatal(err)
	}
	again.Realm = src.realm
	text2, _ := spec.Marshal(&spec.File{Keycloak: again})
	if string(text) != string(text2) {
		t.Fatalf("round trip differs:\n--- source\n%s\n--- copy\n%s", text, text2)
	}
	for _, want := range []string{"audience: vault", "platform/kv-auditors", "oidc-hardcoded-claim-mapper", "secret_manager"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("export lacks %q:\n%s", want, text)
		}
	}
}

func TestIntegrationPrune(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	f := h.load(t, "../examples/sso.yaml")
	if _, err := h.apply(t, ctx, f.Keycloak, false); err != nil {
		t.Fatal(err)
	}
	// Drop a mapper, a role, a group from the file.
	c := f.Keycloak.Client("vault")
	c.Mappers = c.Mappers[:len(c.Mappers)-1]
	c.Roles = []string{"secret_reader", "secret_manager"}
	f.Keycloak.Groups = f.Keycloak.Groups[1:] // kv-readers goes
	f.Keycloak.Users = f.Keycloak.Users[:1]   // bob stays in Keycloak: users are never pruned
	p := mustPlan(t, ctx, h.admin, f.Keycloak, keycloak.PlanOptions{Getenv: getenv})
	// The client's mappers are the file's list: the dropped one goes
	// without --prune, as an update of the client. Whole objects wait.
	var changed []string
	for _, c := range p.Changes {
		if c.Action != plan.NoOp {
			changed = append(changed, fmt.Sprintf("%s %s %s %v", c.Action, c.Kind, c.Name, c.Fields[0].Old))
		}
	}
	slices.Sort(changed)
	if len(changed) != 2 || changed[0] != "update client "+h.realm+"/vault attribute department" || !strings.HasPrefix(changed[1], "update ownership-record") {
		t.Fatalf("without --prune: %q", changed)
	}
	var prunable []string
	for _, c := range p.Prunable {
		prunable = append(prunable, c.Kind+" "+c.Name)
	}
	for _, want := range []string{"group " + h.realm + "/kv-readers"} {
		if !slices.Contains(prunable, want) {
			t.Errorf("prunable lacks %q: %v", want, prunable)
		}
	}
	for _, p := range prunable {
		if strings.Contains(p, "account") || strings.Contains(p, "offline_access") || strings.HasPrefix(p, "user ") {
			t.Errorf("built-in or user object offered for pruning: %s", p)
		}
	}
	if _, err := h.apply(t, ctx, f.Keycloak, true); err != nil {
		t.Fatal(err)
	}
	p = mustPlan(t, ctx, h.admin, f.Keycloak, keycloak.PlanOptions{Getenv: getenv})
	if p.HasChanges() || len(p.Prunable) != 0 {
		t.Fatalf("after prune: changes %v, prunable %d", p.HasChanges(), len(p.Prunable))
	}
}

func TestIntegrationAdminTokenRefresh(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	if _, err := h.admin.ReadState(ctx, "master", keycloak.ReadOptions{}); err != nil {
		t.Fatal(err)
	}
	// Pretend two minutes passed: the 60-second admin token has expired.
	keycloak.AdvanceClock(h.admin, 2*time.Minute)
	if _, err := h.admin.ReadState(ctx, "master", keycloak.ReadOptions{}); err != nil {
		t.Fatalf("after the admin token expired: %v", err)
	}
	if keycloak.Logins(h.admin) < 2 {
		t.Fatal("the admin token was not renewed")
	}
}

func TestIntegrationErrors(t *testing.T) {
	env := testbed.Load(t)
	ctx := context.Background()
	// Wrong password: AuthError naming realm and credential source, no secret.
	bad := keycloak.NewAdmin(env.KeycloakURL, http.DefaultClient, keycloak.Credentials{Username: env.KeycloakAdmin, Password: "wrong-password-123", Source: "$KEYCLOAK_ADMIN/$KEYCLOAK_ADMIN_PASSWORD"})
	_, err := bad.ReadState(ctx, "master", keycloak.ReadOptions{})
	var ae *keycloak.AuthError
	if !errors.As(err, &ae) || ae.Realm != "master" || !strings.Contains(err.Error(), "$KEYCLOAK_ADMIN_PASSWORD") || strings.Contains(err.Error(), "wrong-password-123") {
		t.Fatalf("bad password: %v", err)
	}
	if !strings.Contains(err.Error(), "Invalid user credentials") {
		t.Errorf("Keycloak's own reason lost: %v", err)
	}
	// A 4xx keeps Keycloak's message.
	h := newHarness(t)
	p := mustPlan(t, ctx, h.admin, &spec.Keycloak{Realm: h.realm, CreateRealm: true, Groups: []spec.Group{{Name: "g", RealmRoles: []string{"no-such-role"}}}}, keycloak.PlanOptions{})
	err = p.Execute(ctx, 4, nil)
	if err == nil || !strings.Contains(err.Error(), `role "no-such-role"`) {
		t.Fatalf("binding a missing role: %v", err)
	}
	// Unreachable.
	dead := keycloak.NewAdmin("http://127.0.0.1:1", http.DefaultClient, keycloak.Credentials{Username: "a", Password: "b"})
	_, err = dead.ReadState(ctx, "master", keycloak.ReadOptions{})
	var ue *keycloak.UnreachableError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "127.0.0.1:1") || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("unreachable: %v", err)
	}
}

// A service account with realm-management roles can run ssoctl against its
// own realm through the client-credentials grant.
func TestIntegrationServiceAccountLogin(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	yes := true
	boot := &spec.Keycloak{Realm: h.realm, CreateRealm: true, Clients: []spec.Client{{ClientID: "ops-bot", Protocol: spec.ProtocolOIDC,
		Access: spec.AccessConfidential, ServiceAccounts: &yes}}}
	if _, err := h.apply(t, ctx, boot, false); err != nil {
		t.Fatal(err)
	}
	if err := h.env.GrantRealmManagement(ctx, h.realm, "ops-bot", "manage-realm", "manage-clients", "manage-users", "view-realm", "view-clients", "view-users", "query-groups"); err != nil {
		t.Fatal(err)
	}
	secret, err := h.admin.ClientSecret(ctx, h.realm, "ops-bot")
	if err != nil {
		t.Fatal(err)
	}
	bot := keycloak.NewAdmin(h.env.KeycloakURL, h.hc, keycloak.Credentials{Realm: h.realm, ClientID: "ops-bot", ClientSecret: secret, Source: "test"})
	k := &spec.Keycloak{Realm: h.realm, RealmRoles: []string{"auditor"}, Clients: []spec.Client{{ClientID: "app", Protocol: spec.ProtocolOIDC, Access: spec.AccessPublic, RedirectURIs: []string{"http://localhost/cb"}}},
		Groups: []spec.Group{{Name: "team", RealmRoles: []string{"auditor"}}}}
	p := mustPlan(t, ctx, bot, k, keycloak.PlanOptions{ForApply: true})
	if err := p.Execute(ctx, 4, nil); err != nil {
		t.Fatalf("apply as the service account: %v", err)
	}
	p = mustPlan(t, ctx, bot, k, keycloak.PlanOptions{})
	if p.HasChanges() {
		t.Fatal("not converged")
	}
	// A wrong secret is an AuthError naming the client and realm.
	bad := keycloak.NewAdmin(h.env.KeycloakURL, h.hc, keycloak.Credentials{Realm: h.realm, ClientID: "ops-bot", ClientSecret: "wrong-secret-value-0123456789", Source: "$KEYCLOAK_CLIENT_SECRET"})
	_, err = bad.ReadState(ctx, h.realm, keycloak.ReadOptions{})
	var ae *keycloak.AuthError
	if !errors.As(err, &ae) || ae.Who != "ops-bot" || ae.Realm != h.realm || strings.Contains(err.Error(), "wrong-secret") {
		t.Fatalf("bad client secret: %v", err)
	}
}

// Objects Keycloak makes by default, or that exist already, are adopted:
// no 409, and no change when they match.
func TestIntegrationAdoptsExistingObjects(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	if _, err := h.apply(t, ctx, &spec.Keycloak{Realm: h.realm, CreateRealm: true, Groups: []spec.Group{{Name: "pre"}}}, false); err != nil {
		t.Fatal(err)
	}
	yes := true
	k := &spec.Keycloak{Realm: h.realm,
		RealmRoles: []string{"offline_access", "uma_authorization", "auditor"},
		Clients: []spec.Client{{ClientID: "account-console", Protocol: spec.ProtocolOIDC, Access: spec.AccessPublic,
			Mappers: []spec.Mapper{{Name: "audience resolve", Raw: &spec.RawMapper{ProtocolMapper: "oidc-audience-resolve-mapper", Config: map[string]string{}}}}},
			{ClientID: "broker", Protocol: spec.ProtocolOIDC, Enabled: &yes}},
		Groups: []spec.Group{{Name: "pre"}},
	}
	p := mustPlan(t, ctx, h.admin, k, keycloak.PlanOptions{})
	for _, c := range p.Changes {
		if c.Action == plan.Create && c.Kind != "realm-role" {
			t.Errorf("existing object planned as create: %s %s", c.Kind, c.Name)
		}
		if c.Kind == "realm-role" && strings.HasSuffix(c.Name, "offline_access") && c.Action != plan.NoOp {
			t.Errorf("default role offline_access: %s", c.Action)
		}
	}
	if err := p.Execute(ctx, 4, nil); err != nil {
		t.Fatalf("adopting: %v", err)
	}
	p = mustPlan(t, ctx, h.admin, k, keycloak.PlanOptions{})
	if p.HasChanges() {
		var b strings.Builder
		p.WriteText(&b, plan.RenderOptions{})
		t.Fatalf("not converged after adopting:\n%s", b.String())
	}
}
