package keycloak

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ssoctl/ssoctl/internal/httprecorder"
	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
)

const authzBody = `  realm_roles: [auditor]
  clients:
    - client_id: shop
      roles: [normal, admin]
      authorization:
        decision_strategy: affirmative
        scopes: ["inventory:view", "inventory:add"]
        resources:
          - {name: inventory, type: "urn:shop:inventory", uris: ["/api/inventory/*"], scopes: ["inventory:view", "inventory:add"]}
        policies:
          - {name: normal users, type: role, roles: [shop/normal]}
          - {name: admins, type: role, roles: [shop/admin]}
          - {name: auditors, type: role, roles: [auditor], logic: negative}
          - {name: ops, type: group, groups: [ops]}
          - {name: nights, type: time, hour: "22", hour_end: "6"}
        permissions:
          - {name: view inventory, type: scope, scopes: ["inventory:view"], policies: [normal users, admins], decision_strategy: affirmative}
          - {name: add inventory, type: scope, scopes: ["inventory:add"], policies: [admins]}
  groups:
    - {name: ops}
`

// authzState is a realm holding what d asks for, the settings as Keycloak
// exports them: lists in another order.
func authzState(t *testing.T, d *Desired) *State {
	t.Helper()
	st := stateFor(t, d)
	st.Authz = map[string]*AuthzSettings{}
	for _, c := range d.Clients {
		st.Clients[c.ClientID].AuthorizationServicesEnabled = ptr(c.Authz != nil)
		if c.Authz == nil {
			continue
		}
		s := &AuthzSettings{PolicyEnforcementMode: c.Authz.Enforcement, DecisionStrategy: c.Authz.Decision}
		for _, sc := range slices.Backward(c.Authz.Scopes) {
			s.Scopes = append(s.Scopes, AuthzScope{Name: sc})
		}
		for _, r := range c.Authz.Resources {
			r.Scopes = slices.Clone(r.Scopes)
			slices.Reverse(r.Scopes)
			s.Resources = append(s.Resources, r)
		}
		for _, p := range c.Authz.Policies {
			cfg := map[string]string{}
			for k, v := range p.Config {
				var list []any
				if json.Unmarshal([]byte(v), &list) == nil {
					slices.Reverse(list)
					if len(list) == 0 {
						continue // Keycloak leaves empty lists out
					}
					b, _ := json.Marshal(list)
					v = string(b)
				}
				cfg[k] = v
			}
			p.Config = cfg
			s.Policies = append(s.Policies, p)
		}
		st.Authz[c.ClientID] = s
	}
	st.Owned = named(t, d)
	return st
}

func TestAuthzNewRealm(t *testing.T) {
	d := desired(t, authzBody)
	p := mustDiff(t, d, emptyState("demo", false))
	body := find(t, p.Changes, "client", "shop").Op.(createClient).Body
	if body["authorizationServicesEnabled"] != true || body["serviceAccountsEnabled"] != true {
		t.Errorf("a resource server needs authorization and a service account: %v", body)
	}
	for _, tt := range []struct {
		kind, name string
		step       int
	}{
		{"authz-settings", "shop", stepAuthzScopes},
		{"authz-scope", "shop scope inventory:view", stepAuthzScopes},
		{"authz-resource", "shop resource inventory", stepAuthzResources},
		{"authz-policy", "shop policy normal users", stepAuthzPolicies},
		{"authz-permission", "shop permission view inventory", stepAuthzPermissions},
	} {
		if c := find(t, p.Changes, tt.kind, tt.name); c.Step != tt.step {
			t.Errorf("%s %s at step %d, want %d", tt.kind, tt.name, c.Step, tt.step)
		}
	}
	// Policies come after the groups and users they name.
	if stepAuthzPolicies <= stepMembership || stepAuthzScopes <= stepClients {
		t.Error("steps out of order")
	}
	pol := find(t, p.Changes, "authz-policy", "shop policy auditors").Op.(importPolicy).Policy
	if pol.Logic != "NEGATIVE" || pol.Config["roles"] != `[{"id":"auditor","required":false}]` {
		t.Errorf("realm role policy %+v", pol)
	}
	if g := find(t, p.Changes, "authz-policy", "shop policy ops").Op.(importPolicy).Policy; g.Config["groups"] != `[{"path":"/ops","extendChildren":false}]` {
		t.Errorf("group policy %+v", g)
	}
	perm := find(t, p.Changes, "authz-permission", "shop permission add inventory").Op.(importPolicy).Policy
	// Every list key is sent, empty ones too: an import keeps a key it lacks.
	if perm.Config["resources"] != "[]" || perm.Config["applyPolicies"] != `["admins"]` || perm.DecisionStrategy != "UNANIMOUS" {
		t.Errorf("permission %+v", perm)
	}
	owned := find(t, p.Changes, "ownership-record", "").Op.(writeRecord).Mine
	for _, r := range []plan.Ref{authzRef("scope", "shop", "inventory:add"), authzRef("resource", "shop", "inventory"), authzRef("policy", "shop", "view inventory")} {
		if !owned.Has(r) {
			t.Errorf("record lacks %v", r)
		}
	}
}

func TestAuthzMatchingIsNoOp(t *testing.T) {
	d := desired(t, authzBody)
	p := mustDiff(t, d, authzState(t, d))
	for _, c := range p.Changes {
		if c.Action != plan.NoOp {
			t.Errorf("%s", describe([]*plan.Change{c}))
		}
	}
	if len(p.Prunable)+len(p.Unmanaged) != 0 {
		t.Errorf("prunable %v unmanaged %v", p.Prunable, p.Unmanaged)
	}
}

func TestAuthzChanges(t *testing.T) {
	d := desired(t, authzBody)
	st := authzState(t, d)
	s := st.Authz["shop"]
	s.PolicyEnforcementMode = "PERMISSIVE"
	s.Resources[0].URIs = []string{"/old/*"}
	for i := range s.Policies {
		if s.Policies[i].Name == "add inventory" {
			s.Policies[i].Config["applyPolicies"] = `["admins","normal users"]`
		}
	}
	p := mustDiff(t, d, st)
	if c := find(t, p.Changes, "authz-settings", "shop"); c.Action != plan.Update || c.Op.(setResourceServer).Enforcement != "ENFORCING" {
		t.Errorf("settings %s", describe([]*plan.Change{c}))
	}
	if c := find(t, p.Changes, "authz-resource", "shop resource inventory"); c.Action != plan.Update || !strings.Contains(fmt.Sprint(c.Fields), "uris") {
		t.Errorf("resource %s", describe([]*plan.Change{c}))
	}
	c := find(t, p.Changes, "authz-permission", "shop permission add inventory")
	if c.Action != plan.Update || len(c.Fields) != 1 || c.Fields[0].Field != "config.applyPolicies" {
		t.Errorf("permission %s %v", describe([]*plan.Change{c}), c.Fields)
	}
}

// Only what ssoctl made is pruned, and Keycloak's default objects, which
// it adopts; an object made by hand is listed.
func TestAuthzPrune(t *testing.T) {
	d := desired(t, authzBody)
	st := authzState(t, d)
	s := st.Authz["shop"]
	s.Policies = append(s.Policies, AuthzPolicy{Name: "Default Policy", Type: "js"}, AuthzPolicy{Name: "by hand", Type: "user"})
	s.Resources = append(s.Resources, AuthzResource{Name: "Default Resource"})
	d.Clients[0].Authz.Policies = slices.DeleteFunc(d.Clients[0].Authz.Policies, func(p AuthzPolicy) bool { return p.Name == "nights" })
	p := mustDiff(t, d, st)
	var pruned []string
	for _, c := range p.Prunable {
		pruned = append(pruned, c.Name)
	}
	slices.Sort(pruned)
	want := []string{"demo/shop policy Default Policy", "demo/shop policy nights", "demo/shop resource Default Resource"}
	if !slices.Equal(pruned, want) {
		t.Errorf("prunable %v, want %v", pruned, want)
	}
	if !slices.ContainsFunc(p.Unmanaged, func(o plan.Object) bool { return o.Name == "demo/shop policy by hand" }) {
		t.Errorf("unmanaged %v", p.Unmanaged)
	}
}

func TestAuthzRequests(t *testing.T) {
	rec := newRecorder(t, map[string]reply{
		"GET /admin/realms/demo/clients/u-shop/authz/resource-server":                                                                  {Body: `{"id":"u-shop","policyEnforcementMode":"ENFORCING","decisionStrategy":"UNANIMOUS","allowRemoteResourceManagement":false,"resources":[]}`},
		"GET /admin/realms/demo/clients/u-shop/authz/resource-server/resource?deep=false&exactName=true&first=0&max=-1&name=inventory": {Body: `[{"_id":"r1","name":"inventory"}]`},
		"GET /admin/realms/demo/clients/u-shop/authz/resource-server/policy?first=0&max=-1&name=old":                                   {Body: `[{"id":"p1","name":"old"},{"id":"p2","name":"older"}]`},
		// Keycloak's answers to the writes: a created scope comes back as
		// a body (no Location), the rest is 204.
		"PUT /admin/realms/demo/clients/u-shop/authz/resource-server":              {Status: 204},
		"POST /admin/realms/demo/clients/u-shop/authz/resource-server/scope":       {Status: 201, Body: `{"id":"s1","name":"inventory:view"}`},
		"PUT /admin/realms/demo/clients/u-shop/authz/resource-server/resource/r1":  {Status: 204},
		"POST /admin/realms/demo/clients/u-shop/authz/resource-server/import":      {Status: 204},
		"DELETE /admin/realms/demo/clients/u-shop/authz/resource-server/policy/p1": {Status: 204},
	})
	x := &executor{a: adminOf(rec), realm: "demo", ids: plan.NewIDs()}
	x.ids.Set(clientRef("shop"), "u-shop")
	ctx := context.Background()
	pol := AuthzPolicy{Name: "admins", Type: "role", Logic: "POSITIVE", DecisionStrategy: "UNANIMOUS", Config: map[string]string{"roles": `[{"id":"shop/admin","required":false}]`}}
	for _, o := range []op{
		setResourceServer{"shop", "PERMISSIVE", "AFFIRMATIVE"},
		createAuthzScope{"shop", "inventory:view"},
		putAuthzResource{"shop", AuthzResource{Name: "inventory", URIs: []string{"/api/*"}, Scopes: []AuthzScope{{Name: "inventory:view"}}}},
		importPolicy{"shop", pol},
		deleteAuthz{"shop", "policy", "old"},
	} {
		if err := o.apply(ctx, x); err != nil {
			t.Fatalf("%T: %v", o, err)
		}
	}
	rec.Wants(t,
		"PUT /admin/realms/demo/clients/u-shop/authz/resource-server",
		"POST /admin/realms/demo/clients/u-shop/authz/resource-server/scope",
		"PUT /admin/realms/demo/clients/u-shop/authz/resource-server/resource/r1",
		"POST /admin/realms/demo/clients/u-shop/authz/resource-server/import",
		"DELETE /admin/realms/demo/clients/u-shop/authz/resource-server/policy/p1",
	)
	var rs map[string]any
	bodyOf(t, rec, "PUT /admin/realms/demo/clients/u-shop/authz/resource-server", &rs)
	// A PUT resets what it lacks: the rest goes back as read.
	if rs["policyEnforcementMode"] != "PERMISSIVE" || rs["decisionStrategy"] != "AFFIRMATIVE" || rs["allowRemoteResourceManagement"] != false || rs["resources"] != nil {
		t.Errorf("resource server PUT %v", rs)
	}
	var imp struct{ Policies []AuthzPolicy }
	bodyOf(t, rec, "POST /admin/realms/demo/clients/u-shop/authz/resource-server/import", &imp)
	if len(imp.Policies) != 1 || imp.Policies[0].Config["roles"] != pol.Config["roles"] {
		t.Errorf("import %+v", imp)
	}
	var res map[string]any
	bodyOf(t, rec, "PUT /admin/realms/demo/clients/u-shop/authz/resource-server/resource/r1", &res)
	if res["_id"] != "r1" || fmt.Sprint(res["uris"]) != "[/api/*]" {
		t.Errorf("resource PUT %v", res)
	}
}

func TestPythonKeycloakGaps(t *testing.T) {
	d := desired(t, authzBody)
	s := authzState(t, d).Authz["shop"]
	gaps := strings.Join(PythonKeycloakGaps(s, "shop"), "\n")
	for _, want := range []string{
		`names the realm role "auditor", which python-keycloak never matches`,
		`role policy "auditors" is negative`,
		`group policy "ops" is not loaded`,
		`time policy "nights" is not loaded`,
		`decision strategy affirmative is not evaluated`,
	} {
		if !strings.Contains(gaps, want) {
			t.Errorf("gaps lack %q:\n%s", want, gaps)
		}
	}
	// An affirmative permission over two policies reads the same in both.
	if strings.Contains(gaps, `permission "view inventory"`) || strings.Contains(gaps, `"normal users"`) {
		t.Errorf("a gap that is none:\n%s", gaps)
	}
}

// Exported settings, written as the file and planned against the same
// settings, change nothing.
func TestAuthzExportRoundTrip(t *testing.T) {
	d := desired(t, authzBody)
	st := authzState(t, d)
	k, err := exportState(st, "demo", nil)
	if err != nil {
		t.Fatal(err)
	}
	k.URL = "http://kc"
	out, err := spec.Marshal(&spec.File{Keycloak: k})
	if err != nil {
		t.Fatal(err)
	}
	f, err := spec.Parse("export.yaml", out, nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	d2 := Expand(f.Keycloak, nil)
	for _, c := range mustDiff(t, d2, st).Changes {
		if c.Action != plan.NoOp && c.Kind != "ownership-record" {
			t.Errorf("round trip: %s", describe([]*plan.Change{c}))
		}
	}
}

// The realm's key as a PEM block with 64-character lines, its kid and
// certificate from the JWKS entry of the same key.
func TestActiveRSAKey(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	certOf := func(k *rsa.PrivateKey) string {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "demo"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
		der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
		return base64.StdEncoding.EncodeToString(der)
	}
	spki, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	// Public endpoints only: no admin login.
	rec := httprecorder.New(t, map[string]reply{
		"GET /realms/demo": {Body: fmt.Sprintf(`{"realm":"demo","public_key":%q}`, base64.StdEncoding.EncodeToString(spki))},
		"GET /realms/demo/protocol/openid-connect/certs": {Body: fmt.Sprintf(`{"keys":[{"kid":"old","alg":"RS256","use":"sig","x5c":[%q]},{"kid":"k1","alg":"RS256","use":"sig","x5c":[%q]}]}`, certOf(other), certOf(key))},
	})
	k, err := ActiveRSAKey(context.Background(), rec.Client(), rec.URL(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(k.PEM), "\n")
	if k.KID != "k1" || lines[0] != "-----BEGIN PUBLIC KEY-----" || len(lines[1]) != 64 || !strings.HasPrefix(k.Certificate, "-----BEGIN CERTIFICATE-----") {
		t.Errorf("key %+v", k)
	}
	block, _ := pem.Decode([]byte(k.PEM))
	if pub, err := x509.ParsePKIXPublicKey(block.Bytes); err != nil || !pub.(*rsa.PublicKey).Equal(&key.PublicKey) {
		t.Errorf("the PEM is not the realm's key: %v", err)
	}
}

// Nothing granted is Keycloak's 403 access_denied: an empty list.
func TestUMAPermissions(t *testing.T) {
	rec := httprecorder.New(t, nil) // the token endpoint only: no admin login
	rec.Set("POST /realms/demo/protocol/openid-connect/token", reply{Status: 403, Body: `{"error":"access_denied","error_description":"not_authorized"}`})
	got, err := UMAPermissions(context.Background(), rec.Client(), rec.URL(), "demo", "user-token", "shop", []string{"inventory#inventory:add"})
	if err != nil || got == nil || len(got) != 0 {
		t.Errorf("denied: %v %v", got, err)
	}
	rec.Set("POST /realms/demo/protocol/openid-connect/token", reply{Body: `[{"rsid":"r1","rsname":"inventory","scopes":["inventory:view"]}]`})
	got, err = UMAPermissions(context.Background(), rec.Client(), rec.URL(), "demo", "user-token", "shop", nil)
	if err != nil || len(got) != 1 || got[0].Resource != "inventory" || got[0].Scopes[0] != "inventory:view" {
		t.Errorf("granted: %v %v", got, err)
	}
}
