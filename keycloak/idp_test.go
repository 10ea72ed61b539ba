package keycloak

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
)

const idpFile = `  groups:
    - name: operators
    - name: brokered
  clients:
    - client_id: vault
      roles: [secret_manager]
  identity_providers:
    - alias: corp
      type: oidc
      display_name: Corporate login
      issuer: http://up/realms/upstream
      client_id: downstream
      client_secret_env: CORP_IDP_SECRET
      default_scopes: [openid, email, profile]
      sync_mode: FORCE
      trust_email: true
      first_broker_login_flow: first broker login
      mappers:
        - claim_to_group: {claim: groups, value: ops, group: /operators}
        - claim_to_role: {claim: groups, value: admins, role: vault/secret_manager}
        - attribute: {claim: department, user_attribute: department}
        - hardcoded_group: {group: /brokered}
`

func idpDesired(t *testing.T, body, secret string) *Desired {
	t.Helper()
	f, err := spec.Parse("sso.yaml", []byte("keycloak:\n  url: http://kc\n  realm: demo\n  create_realm: true\n"+body), nil)
	if err != nil {
		t.Fatal(err)
	}
	return Expand(f.Keycloak, func(k string) string {
		if k == "CORP_IDP_SECRET" {
			return secret
		}
		return testGetenv(k)
	})
}

// idpStateFor is the realm after apply of d: stateFor's objects, and the
// providers and mappers as Keycloak's export gives them, the secret masked
// and its fingerprint in the realm's attributes.
func idpStateFor(t *testing.T, d *Desired) *State {
	t.Helper()
	st := stateFor(t, d)
	b := &builder{d: d, st: st}
	st.IdPs = &IdPState{Providers: map[string]*IdPRep{}, Mappers: map[string]map[string]*IdPMapperRep{}}
	attrs := map[string]string{}
	for i := range d.IdPs {
		p := &d.IdPs[i]
		top, config := idpWant(p)
		config["clientSecret"] = secretMask
		config["authorizationUrl"] = "http://up/auth" // what discovery gave at create
		raw := map[string]any{"alias": p.Alias, "providerId": p.Type, "config": config}
		for k, v := range top {
			raw[k] = v
		}
		data, _ := json.Marshal(raw)
		rep, err := decodeIdP(data)
		if err != nil {
			t.Fatal(err)
		}
		st.IdPs.Providers[p.Alias] = rep
		st.Owned[idpRef(p.Alias)] = true
		fp, err := fingerprint(p.Secret)
		if err != nil {
			t.Fatal(err)
		}
		attrs[IdPFingerprintAttribute(p.Alias)] = fp
		st.IdPs.Mappers[p.Alias] = map[string]*IdPMapperRep{}
		for j := range p.Mappers {
			m := &p.Mappers[j]
			typ, cfg := b.idpMapperWant(p, m)
			cfg["extra.keycloak.key"] = "kept"
			st.IdPs.Mappers[p.Alias][m.MapperName()] = &IdPMapperRep{ID: "m" + m.MapperName(), Name: m.MapperName(), Alias: p.Alias, Type: typ, Config: cfg}
			st.Owned[idpMapperRef(p.Alias, m.MapperName())] = true
		}
	}
	data, _ := json.Marshal(attrs)
	st.RealmRep = map[string]json.RawMessage{"attributes": data}
	return st
}

func idpChanges(p *plan.Plan) []*plan.Change {
	var out []*plan.Change
	for _, list := range [][]*plan.Change{p.Changes, p.Prunable} {
		for _, c := range list {
			if (c.Kind == "identity-provider" || c.Kind == "idp-mapper") && c.Action != plan.NoOp {
				out = append(out, c)
			}
		}
	}
	return out
}

func TestIdPNewRealmPlansProviderAndMappers(t *testing.T) {
	d := idpDesired(t, idpFile, "s3cret-1")
	d.IdPs[0].Discovered = map[string]string{"authorizationUrl": "http://up/auth", "tokenUrl": "http://up/token", "jwksUrl": "http://up/certs"}
	p, err := Diff(d, emptyState("demo", false), DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cs := idpChanges(p)
	if len(cs) != 5 {
		t.Fatalf("want 1 provider and 4 mappers, got %d: %v", len(cs), cs)
	}
	op := cs[0].Op.(saveIdP)
	cfg := op.Body["config"].(map[string]string)
	if !op.Create || op.Secret != "s3cret-1" || cfg["tokenUrl"] != "http://up/token" || cfg["clientSecret"] != "" || cfg["defaultScope"] != "openid email profile" {
		t.Fatalf("create op = %+v", op)
	}
	masked := false
	for _, f := range cs[0].Fields {
		if f.Field == "client_secret" {
			masked = f.Secret
		}
	}
	if !masked {
		t.Fatalf("the secret is not a masked field: %v", cs[0].Fields)
	}
	var role string
	for _, c := range cs[1:] {
		rep := c.Op.(saveIdPMapper).Rep
		if rep.Type == "oidc-role-idp-mapper" {
			role = rep.Config["role"]
		}
		if rep.ID != "" {
			t.Fatalf("a new mapper with an id: %+v", rep)
		}
	}
	if role != "vault.secret_manager" {
		t.Fatalf("role = %q, want Keycloak's CLIENT.ROLE", role)
	}
}

func TestIdPNoOpWhenRealmMatches(t *testing.T) {
	d := idpDesired(t, idpFile, "s3cret-1")
	p, err := Diff(d, idpStateFor(t, d), DiffOptions{ForApply: true})
	if err != nil {
		t.Fatal(err)
	}
	if cs := idpChanges(p); len(cs) != 0 {
		t.Fatalf("want no change, got %v", cs)
	}
}

func TestIdPSecretChangedOnlyInEnv(t *testing.T) {
	d := idpDesired(t, idpFile, "s3cret-1")
	st := idpStateFor(t, d)
	d2 := idpDesired(t, idpFile, "s3cret-2")
	p, err := Diff(d2, st, DiffOptions{ForApply: true})
	if err != nil {
		t.Fatal(err)
	}
	cs := idpChanges(p)
	if len(cs) != 1 || len(cs[0].Fields) != 1 || cs[0].Fields[0].Field != "client_secret" || !cs[0].Fields[0].Secret || cs[0].Fields[0].Old != "(differs)" {
		t.Fatalf("want one masked secret change, got %v", cs)
	}
	op := cs[0].Op.(saveIdP)
	if op.Secret != "s3cret-2" || op.Create || op.Body["alias"] != "corp" {
		t.Fatalf("op = %+v", op)
	}
	if cfg := op.Body["config"].(map[string]any); cfg["authorizationUrl"] != "http://up/auth" {
		t.Fatalf("the update does not carry the provider as read: %v", cfg)
	}
	var sb strings.Builder
	if err := p.WriteText(&sb, plan.RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	if s := sb.String(); strings.Contains(s, "s3cret-2") || !strings.Contains(s, "client_secret") {
		t.Fatalf("the plan shows the secret:\n%s", s)
	}
}

func TestIdPFieldAndMapperChanges(t *testing.T) {
	d := idpDesired(t, idpFile, "s3cret-1")
	st := idpStateFor(t, d)
	body := strings.Replace(idpFile, "sync_mode: FORCE", "sync_mode: IMPORT", 1)
	body = strings.Replace(body, "value: ops, group: /operators", "value: ops, group: /operators, }\n        - {name: x, hardcoded_group: {group: /operators}", 1)
	body = strings.Replace(body, "        - attribute: {claim: department, user_attribute: department}\n", "", 1)
	d2 := idpDesired(t, body, "s3cret-1")
	p, err := Diff(d2, st, DiffOptions{ForApply: true})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]plan.Action{}
	for _, c := range idpChanges(p) {
		got[c.Name] = c.Action
	}
	want := map[string]plan.Action{"demo/corp": plan.Update, "demo/corp/x": plan.Create, "demo/corp/attribute department from department": plan.Delete}
	if len(got) != len(want) {
		t.Fatalf("changes = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("changes = %v, want %v", got, want)
		}
	}
	for _, c := range idpChanges(p) {
		if c.Action == plan.Update {
			op := c.Op.(saveIdP)
			if op.Secret != "" || len(c.Fields) != 1 || c.Fields[0].Field != "config.syncMode" {
				t.Fatalf("update = %v %+v", c.Fields, op)
			}
		}
	}
}

func TestIdPPruneOnlyOwned(t *testing.T) {
	d := idpDesired(t, idpFile, "s3cret-1")
	st := idpStateFor(t, d)
	st.IdPs.Providers["other"] = &IdPRep{Alias: "other", ProviderID: "github", Raw: map[string]any{}}
	d2 := idpDesired(t, "  groups: [{name: operators}, {name: brokered}]\n  clients: [{client_id: vault, roles: [secret_manager]}]\n", "")
	p, err := Diff(d2, st, DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Prunable) != 1 || p.Prunable[0].Name != "demo/corp" || p.Prunable[0].Action != plan.Delete {
		t.Fatalf("prunable = %v", p.Prunable)
	}
	for _, c := range p.Changes {
		if c.Kind == "identity-provider" && c.Action == plan.Delete {
			t.Fatalf("deleted without --prune: %v", c)
		}
	}
}

func TestIdPPlanRefusals(t *testing.T) {
	for _, tc := range []struct{ name, from, to, key string }{
		{"unknown flow", "first_broker_login_flow: first broker login", "first_broker_login_flow: nope", ".first_broker_login_flow"},
		{"unknown group", "group: /brokered", "group: /nobody", ".mappers[3]"},
	} {
		d := idpDesired(t, strings.Replace(idpFile, tc.from, tc.to, 1), "s")
		_, err := Diff(d, emptyState("demo", false), DiffOptions{})
		var ie *InputError
		if !errors.As(err, &ie) || !strings.HasSuffix(ie.Key, tc.key) {
			t.Fatalf("%s: err = %v", tc.name, err)
		}
	}
	d := idpDesired(t, idpFile, "s")
	st := idpStateFor(t, d)
	st.IdPs.Providers["corp"].ProviderID = "saml"
	if _, err := Diff(d, st, DiffOptions{}); err == nil || !strings.Contains(err.Error(), "type cannot change") {
		t.Fatalf("type change: %v", err)
	}
}

// examples/upstream.yaml and examples/broker.yaml parse and plan for new
// realms: the upstream's client and groups, the broker's provider and its
// four mappers.
func TestIdPExamplesPlan(t *testing.T) {
	getenv := func(k string) string {
		return map[string]string{"KEYCLOAK_URL": "http://kc", "CORP_IDP_SECRET": "s", "OLGA_PASSWORD": "p", "ADAM_PASSWORD": "p"}[k]
	}
	for _, name := range []string{"upstream", "broker"} {
		f, err := spec.Load("../examples/"+name+".yaml", nil, getenv)
		if err != nil {
			t.Fatal(err)
		}
		d := Expand(f.Keycloak, getenv)
		p, err := Diff(d, emptyState(d.Realm, false), DiffOptions{ForApply: true})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		n := len(idpChanges(p))
		if want := map[string]int{"upstream": 0, "broker": 5}[name]; n != want {
			t.Fatalf("%s: %d identity provider changes, want %d", name, n, want)
		}
	}
}
