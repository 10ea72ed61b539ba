package keycloak

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/Nerzal/gocloak/v13"

	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
)

// The scopes section the tests plan: a scope of the file's own, the
// built-in roles scope changed, the realm's lists, and a client without
// full scope.
const scopesBody = `  realm_roles: [auditor]
  client_scopes:
    - name: vault-groups
      description: groups for Vault
      include_in_token_scope: true
      mappers:
        - groups: {claim: groups, full_path: false}
      scope_mappings: {realm: [auditor]}
    - name: roles
      mappers:
        - client_roles: {id_token: true, userinfo: false}
  default_client_scopes: [profile, roles]
  optional_client_scopes: [offline_access]
  clients:
    - client_id: vault
      roles: [reader]
      default_scopes: [profile, vault-groups, roles]
      optional_scopes: [offline_access]
      full_scope_allowed: false
      scope_mappings: {realm: [auditor], clients: {vault: [reader]}}
`

// builtinScopes is the part of a new realm's scopes the tests need.
func builtinScopes() map[string]*Scope {
	out := map[string]*Scope{}
	for name, p := range spec.BuiltinClientScopes {
		out[name] = &Scope{ID: "s-" + name, Name: name, Protocol: p, Attributes: map[string]string{}}
	}
	out["roles"].Mappers = []gocloak.ProtocolMapperRepresentation{
		{ID: ptr("m-client-roles"), Name: ptr("client roles"), ProtocolMapper: ptr("oidc-usermodel-client-role-mapper"),
			Config: &map[string]string{"claim.name": "resource_access.${client_id}.roles", "access.token.claim": "true", "user.attribute": "foo"}},
		{ID: ptr("m-realm-roles"), Name: ptr("realm roles"), ProtocolMapper: ptr("oidc-usermodel-realm-role-mapper"),
			Config: &map[string]string{"claim.name": "realm_access.roles", "access.token.claim": "true"}},
	}
	return out
}

// scopeState is a realm holding exactly what d asks for, scopes included.
func scopeState(t *testing.T, d *Desired) *State {
	t.Helper()
	st := stateFor(t, d)
	st.ClientScopes = builtinScopes()
	for _, ds := range d.ClientScopes {
		s := st.ClientScopes[ds.Name]
		if s == nil {
			s = &Scope{ID: "s-" + ds.Name, Name: ds.Name, Protocol: ds.Protocol, Attributes: map[string]string{}}
			st.ClientScopes[ds.Name] = s
		}
		s.Description = deref(ds.Description)
		maps.Copy(s.Attributes, ds.Attributes)
		s.Mappers = slices.DeleteFunc(s.Mappers, func(have gocloak.ProtocolMapperRepresentation) bool {
			return slices.ContainsFunc(ds.Mappers, func(m Mapper) bool { return m.Name == deref(have.Name) })
		})
		for _, m := range ds.Mappers {
			s.Mappers = append(s.Mappers, gocloak.ProtocolMapperRepresentation{ID: ptr("m-" + m.Name), Name: ptr(m.Name),
				ProtocolMapper: ptr(m.ProtocolMapper), Config: ptr(maps.Clone(m.Config))})
		}
	}
	st.ScopeMappings = map[owner]*RoleSet{}
	for _, ds := range d.ClientScopes {
		if ds.ScopeMappings != nil {
			st.ScopeMappings[scopeOwner(ds.Name)] = ds.ScopeMappings
		}
	}
	for _, c := range d.Clients {
		gc := st.Clients[c.ClientID]
		// Keycloak lists them in its own order.
		gc.DefaultClientScopes = ptr(slices.Sorted(slices.Values(c.DefaultScopes)))
		gc.OptionalClientScopes = ptr(slices.Clone(c.OptionalScopes))
		gc.FullScopeAllowed = ptr(c.FullScopeAllowed == nil || *c.FullScopeAllowed)
		if c.ScopeMappings != nil {
			st.ScopeMappings[clientOwner(c.ClientID)] = c.ScopeMappings
		}
	}
	st.RealmDefaultScopes = append([]string{"role_list", "saml_organization"}, d.DefaultScopes...)
	st.RealmOptionalScopes = slices.Clone(d.OptionalScopes)
	st.Owned = named(t, d)
	return st
}

func TestScopesNewRealm(t *testing.T) {
	d := desired(t, scopesBody)
	p := mustDiff(t, d, emptyState("demo", false))
	if c := find(t, p.Changes, "client-scope", "vault-groups"); c.Action != plan.Create || c.Step != stepRoles ||
		c.Op.(createScope).Body["attributes"].(map[string]string)[AttrIncludeInTokenScope] != "true" {
		t.Errorf("vault-groups: %+v", c)
	}
	if c := find(t, p.Changes, "mapper", "scope vault-groups/groups"); c.Action != plan.Create || c.Op.(createMapper).Owner != scopeOwner("vault-groups") || c.Op.(createMapper).Upsert {
		t.Errorf("the scope's mapper: %+v", c)
	}
	// The built-in roles scope comes with the realm: adopted, its mapper
	// written over the one of the same name.
	if c := find(t, p.Changes, "client-scope", "roles"); c.Action != plan.NoOp || !strings.Contains(c.Note, "built-in") {
		t.Errorf("roles: %+v", c)
	}
	if c := find(t, p.Changes, "mapper", "scope roles/client roles"); !c.Op.(createMapper).Upsert ||
		c.Op.(createMapper).Mapper.Config["id.token.claim"] != "true" || c.Op.(createMapper).Mapper.Config["usermodel.clientRoleMapping.clientId"] != "" {
		t.Errorf("roles' client roles mapper: %+v", c.Op)
	}
	client := find(t, p.Changes, "client", "vault").Op.(createClient)
	if !slices.Equal(client.Body["defaultClientScopes"].([]string), []string{"profile", "vault-groups", "roles"}) || client.Body["fullScopeAllowed"] != false {
		t.Errorf("the new client's body: %v", client.Body)
	}
	if c := find(t, p.Changes, "realm-client-scopes", "defaults"); c.Step != stepAssign || c.Op.(assignScopes).Client != "" ||
		!slices.Equal(c.Op.(assignScopes).Protocols, []string{spec.ProtocolOIDC}) {
		t.Errorf("the realm's lists: %+v", c)
	}
	sm := find(t, p.Changes, "scope-mappings", "vault").Op.(setScopeMappings)
	if !slices.Equal(sm.AddRealm, []string{"auditor"}) || len(sm.AddClient) != 1 || sm.AddClient[0].Client != "vault" {
		t.Errorf("the client's scope mappings: %+v", sm)
	}
	owned := find(t, p.Changes, "ownership-record", "").Op.(writeRecord).Mine
	for r, want := range map[plan.Ref]bool{
		clientScopeRef("vault-groups"): true, scopeOwner("vault-groups").ref("groups"): true,
		clientScopeRef("roles"): false, scopeOwner("roles").ref("client roles"): false,
		{Kind: adoptedScopeMapper, Scope: "roles", Name: "client roles"}: true,
	} {
		if owned.Has(r) != want {
			t.Errorf("record has %v: %v, want %v", r, owned.Has(r), want)
		}
	}
}

func TestScopesMatchingRealmIsNoOp(t *testing.T) {
	d := desired(t, scopesBody)
	p := mustDiff(t, d, scopeState(t, d))
	for _, c := range p.Changes {
		if c.Action != plan.NoOp {
			t.Errorf("%s", describe([]*plan.Change{c}))
		}
	}
	// The built-in scope's other mappers are Keycloak's: listed, never pruned.
	if len(p.Prunable) != 0 || !slices.ContainsFunc(p.Unmanaged, func(o plan.Object) bool { return o.Name == "demo/scope roles/realm roles" }) {
		t.Errorf("prunable %v, unmanaged %v", p.Prunable, p.Unmanaged)
	}
}

func TestScopeAssignmentsAreSets(t *testing.T) {
	d := desired(t, scopesBody)
	st := scopeState(t, d)
	vault := st.Clients["vault"]
	// Keycloak's service_account scope is Keycloak's.
	vault.ServiceAccountsEnabled = ptr(true)
	*vault.DefaultClientScopes = append(*vault.DefaultClientScopes, serviceAccountScope)
	slices.Reverse(*vault.OptionalClientScopes)
	if c := find(t, mustDiff(t, d, st).Changes, "client-scopes", "vault"); c.Action != plan.NoOp {
		t.Errorf("order or service_account made a diff: %s", describe([]*plan.Change{c}))
	}
	// offline_access becomes a default scope, profile optional.
	d.Clients[0].DefaultScopes = []string{"vault-groups", "roles", "offline_access"}
	d.Clients[0].OptionalScopes = []string{"profile"}
	c := find(t, mustDiff(t, d, st).Changes, "client-scopes", "vault")
	o := c.Op.(assignScopes)
	if c.Action != plan.Update || o.Client != "vault" || !slices.Equal(o.Optional, []string{"profile"}) || len(c.Fields) != 2 {
		t.Errorf("moved scopes: %s %+v", describe([]*plan.Change{c}), o)
	}
}

func TestScopesPruneOnlyTheirOwn(t *testing.T) {
	d := desired(t, scopesBody)
	st := scopeState(t, d)
	st.ClientScopes["handmade"] = &Scope{ID: "s-handmade", Name: "handmade", Protocol: spec.ProtocolOIDC}
	// A mapper ssoctl created in the built-in scope, and one it adopted.
	st.ClientScopes["roles"].Mappers = append(st.ClientScopes["roles"].Mappers, gocloak.ProtocolMapperRepresentation{ID: ptr("m-extra"), Name: ptr("extra"),
		ProtocolMapper: ptr("oidc-audience-mapper"), Config: &map[string]string{}})
	st.Owned[scopeOwner("roles").ref("extra")] = true
	d.ClientScopes = slices.DeleteFunc(d.ClientScopes, func(s DesiredScope) bool { return s.Name == "vault-groups" })
	d.Clients[0].DefaultScopes = []string{"roles"}
	d.ClientScopes[0].Mappers = nil // the file no longer changes roles' client roles mapper
	p := mustDiff(t, d, st)
	var pruned, unmanaged []string
	for _, c := range p.Prunable {
		pruned = append(pruned, c.Kind+" "+c.Name)
	}
	for _, c := range p.Unmanaged {
		unmanaged = append(unmanaged, c.Kind+" "+c.Name)
	}
	slices.Sort(pruned)
	if !slices.Equal(pruned, []string{"client-scope demo/vault-groups"}) {
		t.Errorf("prunable %v", pruned)
	}
	// The mapper ssoctl made in a scope the file still declares goes
	// without --prune: the scope's mappers are the file's list.
	if c := find(t, written(p.Changes), "client-scope", "roles"); c.Action != plan.Update || c.Fields[0].Field != "mappers" || c.Fields[0].Old != "extra" {
		t.Errorf("the owned mapper is not removed: %+v", c)
	}
	for _, want := range []string{"client-scope demo/handmade", "mapper demo/scope roles/client roles"} {
		if !slices.Contains(unmanaged, want) {
			t.Errorf("unmanaged %v lacks %s", unmanaged, want)
		}
	}
	if slices.ContainsFunc(pruned, func(s string) bool { return strings.Contains(s, "profile") || strings.HasSuffix(s, "/roles") }) {
		t.Error("a built-in scope is pruned")
	}
}

func TestScopeNamesMustExist(t *testing.T) {
	d := desired(t, scopesBody)
	st := scopeState(t, d)
	for _, tt := range []struct {
		name string
		edit func(d *Desired, st *State)
		key  string
	}{
		{"a typo", func(d *Desired, _ *State) { d.Clients[0].DefaultScopes = []string{"profile", "vault-gruops"} }, "keycloak.clients[0].default_scopes[1]"},
		{"a built-in scope the realm lacks", func(_ *Desired, st *State) { delete(st.ClientScopes, "offline_access") }, "keycloak.optional_client_scopes[0]"},
	} {
		d2, st2 := *d, *st
		d2.Clients = slices.Clone(d.Clients)
		st2.ClientScopes = maps.Clone(st.ClientScopes)
		tt.edit(&d2, &st2)
		_, err := Diff(&d2, &st2, DiffOptions{})
		var ie *InputError
		if !errors.As(err, &ie) || ie.Key != tt.key || !ie.BadInput() || !strings.Contains(ie.Msg, "Keycloak would ignore it") {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	// A new realm has the built-in scopes, and the file's own.
	if _, err := Diff(d, emptyState("demo", false), DiffOptions{}); err != nil {
		t.Errorf("new realm: %v", err)
	}
}

func TestRealmScopesPerProtocol(t *testing.T) {
	d := desired(t, scopesBody)
	st := scopeState(t, d)
	st.RealmDefaultScopes = append(st.RealmDefaultScopes, "email")
	c := find(t, mustDiff(t, d, st).Changes, "realm-client-scopes", "defaults")
	// The SAML defaults are not in the file's (OIDC) lists: left alone.
	if f := fmt.Sprint(c.Fields); c.Action != plan.Update || len(c.Fields) != 1 || strings.Contains(f, "role_list") || !strings.Contains(f, "email") {
		t.Errorf("%s", describe([]*plan.Change{c}))
	}
}

func TestScopeChanges(t *testing.T) {
	d := desired(t, scopesBody)
	st := scopeState(t, d)
	st.ClientScopes["vault-groups"].Description = "old"
	st.ClientScopes["vault-groups"].Attributes["gui.order"] = "3"
	// The realm has admin too, another client's role, and not vault's reader.
	st.ScopeMappings[clientOwner("vault")] = &RoleSet{Realm: []string{"auditor", "admin"}, Clients: map[string][]string{"other": {"x"}}}
	st.Clients["vault"].FullScopeAllowed = ptr(true)
	p := mustDiff(t, d, st)
	sc := find(t, p.Changes, "client-scope", "vault-groups")
	if sc.Action != plan.Update || len(sc.Fields) != 1 || sc.Fields[0].Field != "description" {
		t.Errorf("scope: %s", describe([]*plan.Change{sc}))
	}
	sm := find(t, p.Changes, "scope-mappings", "vault").Op.(setScopeMappings)
	if !slices.Equal(sm.RemoveRealm, []string{"admin"}) || len(sm.RemoveClient) != 1 || sm.RemoveClient[0].Client != "other" ||
		len(sm.AddClient) != 1 || !slices.Equal(sm.AddClient[0].Roles, []string{"reader"}) || len(sm.AddRealm) != 0 {
		t.Errorf("scope mappings: %+v", sm)
	}
	if c := find(t, p.Changes, "client", "vault"); c.Action != plan.Update || !strings.Contains(fmt.Sprint(c.Fields), "fullScopeAllowed") {
		t.Errorf("client: %s", describe([]*plan.Change{c}))
	}
}

// The requests of the scope operations, in order.
func TestApplyScopeRequests(t *testing.T) {
	rec := newRecorder(t, map[string]reply{
		"GET /admin/realms/demo/clients/uuid-vault/default-client-scopes":       {Body: `[{"id":"s-profile","name":"profile"},{"id":"s-service_account","name":"service_account"},{"id":"s-email","name":"email"}]`},
		"GET /admin/realms/demo/clients/uuid-vault/optional-client-scopes":      {Body: `[{"id":"s-offline_access","name":"offline_access"}]`},
		"GET /admin/realms/demo/client-scopes/s-vault-groups":                   {Body: `{"id":"s-vault-groups","name":"vault-groups","attributes":{"gui.order":"3"},"protocolMappers":[{"name":"x"}]}`},
		"POST /admin/realms/demo/client-scopes/s-roles/protocol-mappers/models": {Status: 409, Body: `{"errorMessage":"Protocol mapper exists with same name"}`},
		"GET /admin/realms/demo/client-scopes/s-roles/protocol-mappers/models":  {Body: `[{"id":"m-cr","name":"client roles","protocolMapper":"oidc-usermodel-client-role-mapper"}]`},
	})
	// The writes, each answered 204 as Keycloak does; Wants below pins them.
	writes := []string{
		// profile leaves the default list and email is dropped; offline_access
		// leaves the optional list; service_account stays; then the additions.
		"DELETE /admin/realms/demo/clients/uuid-vault/default-client-scopes/s-profile",
		"DELETE /admin/realms/demo/clients/uuid-vault/default-client-scopes/s-email",
		"DELETE /admin/realms/demo/clients/uuid-vault/optional-client-scopes/s-offline_access",
		"PUT /admin/realms/demo/clients/uuid-vault/default-client-scopes/s-vault-groups",
		"PUT /admin/realms/demo/clients/uuid-vault/default-client-scopes/s-offline_access",
		"PUT /admin/realms/demo/clients/uuid-vault/optional-client-scopes/s-profile",
		"PUT /admin/realms/demo/client-scopes/s-vault-groups",
		"PUT /admin/realms/demo/client-scopes/s-roles/protocol-mappers/models/m-cr",
		"POST /admin/realms/demo/client-scopes/s-vault-groups/scope-mappings/realm",
	}
	for _, w := range writes {
		rec.Set(w, reply{Status: 204})
	}
	x := &executor{a: adminOf(rec), realm: "demo", ids: plan.NewIDs()}
	x.ids.Set(clientRef("vault"), "uuid-vault")
	for _, s := range []string{"vault-groups", "roles", "offline_access", "profile"} {
		x.ids.Set(clientScopeRef(s), "s-"+s)
	}
	x.ids.Set(realmRoleRef("auditor"), "rr-auditor")
	ctx := context.Background()
	for _, o := range []op{
		assignScopes{Client: "vault", Default: []string{"vault-groups", "offline_access"}, Optional: []string{"profile"}},
		updateScope{Name: "vault-groups", Want: DesiredScope{Name: "vault-groups", Protocol: spec.ProtocolOIDC, Description: ptr("d"), Attributes: map[string]string{AttrIncludeInTokenScope: "true"}}},
		createMapper{Owner: scopeOwner("roles"), Mapper: Mapper{Name: "client roles", ProtocolMapper: "oidc-usermodel-client-role-mapper"}, Upsert: true},
		setScopeMappings{Owner: scopeOwner("vault-groups"), AddRealm: []string{"auditor"}},
	} {
		if err := o.apply(ctx, x); err != nil {
			t.Fatalf("%T: %v", o, err)
		}
	}
	rec.Wants(t, append(writes, "POST /admin/realms/demo/client-scopes/s-roles/protocol-mappers/models")...)
	for _, r := range rec.Requests() {
		if strings.Contains(r, "service_account") && !strings.HasPrefix(r, "GET") {
			t.Errorf("touched service_account: %s", r)
		}
	}
	var put map[string]any
	bodyOf(t, rec, "PUT /admin/realms/demo/client-scopes/s-vault-groups", &put)
	if attrs := put["attributes"].(map[string]any); attrs["gui.order"] != "3" || attrs[AttrIncludeInTokenScope] != "true" || put["description"] != "d" || put["protocolMappers"] != nil {
		t.Errorf("scope PUT keeps unmanaged attributes and sends no mappers: %v", put)
	}
	var roles []gocloak.Role
	bodyOf(t, rec, "POST /admin/realms/demo/client-scopes/s-vault-groups/scope-mappings/realm", &roles)
	if len(roles) != 1 || deref(roles[0].ID) != "rr-auditor" || deref(roles[0].Name) != "auditor" {
		t.Errorf("scope mapping body %+v", roles)
	}
}

func TestExportScopes(t *testing.T) {
	d := desired(t, scopesBody)
	st := scopeState(t, d)
	k, err := exportState(st, "demo", nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range k.ClientScopes {
		names = append(names, s.Name)
	}
	// roles only with the mapper the file changed; the other built-ins not at all.
	if !slices.Equal(names, []string{"roles", "vault-groups"}) || len(k.ClientScopes[0].Mappers) != 1 || k.ClientScopes[1].ScopeMappings == nil {
		t.Errorf("exported scopes %+v", k.ClientScopes)
	}
	c := k.Clients[0]
	if !slices.Equal(c.DefaultScopes, []string{"profile", "roles", "vault-groups"}) || c.FullScopeAllowed == nil || *c.FullScopeAllowed || c.ScopeMappings == nil {
		t.Errorf("exported client %+v", c)
	}
	// The export applied to a realm like this one changes nothing.
	d2 := Expand(k, nil)
	d2.Realm = "demo"
	st2 := scopeState(t, d)
	for _, ch := range mustDiff(t, d2, st2).Changes {
		if ch.Action != plan.NoOp && ch.Kind != "ownership-record" {
			t.Errorf("export round trip: %s", describe([]*plan.Change{ch}))
		}
	}
}

// Reading scopes: one listing with their mappers, the realm's two lists,
// and the scope mappings asked for (a client's once its id is listed).
func TestReadScopes(t *testing.T) {
	rec := newRecorder(t, map[string]reply{
		"GET /admin/realms/demo":                                                 {Body: `{"realm":"demo"}`},
		"GET /admin/realms/demo/clients?first=0&max=250":                         {Body: `[{"id":"u1","clientId":"vault","fullScopeAllowed":false,"defaultClientScopes":["vault-groups"]},{"id":"u2","clientId":"open","fullScopeAllowed":true}]`},
		"GET /admin/realms/demo/client-scopes":                                   {Body: `[{"id":"s1","name":"vault-groups","protocol":"openid-connect","attributes":{"include.in.token.scope":"true"},"protocolMappers":[{"id":"m1","name":"groups"}]},{"id":"s2","name":"roles"}]`},
		"GET /admin/realms/demo/default-default-client-scopes":                   {Body: `[{"id":"s2","name":"roles","protocol":"openid-connect"}]`},
		"GET /admin/realms/demo/default-optional-client-scopes":                  {Body: `[]`},
		"GET /admin/realms/demo/clients/u1/scope-mappings":                       {Body: `{"realmMappings":[{"id":"r1","name":"auditor"}],"clientMappings":{"vault":{"client":"vault","mappings":[{"id":"c1","name":"reader"}]}}}`},
		"GET /admin/realms/demo/client-scopes/s1/scope-mappings":                 {Body: `{}`},
		"GET /admin/realms/demo/groups?briefRepresentation=false&first=0&max=-1": {Body: `[]`},
		"GET /admin/realms/demo/roles?briefRepresentation=true&first=0&max=-1":   {Body: `[]`},
		// An admin without manage-realm: roles and groups are listed.
		"POST /admin/realms/demo/partial-export?exportClients=false&exportGroupsAndRoles=true": {Status: 403, Body: `{"error":"HTTP 403 Forbidden"}`},
	})
	st, err := adminOf(rec).ReadState(context.Background(), "demo", ReadOptions{ClientScopes: true, RealmScopes: true, AllScopeMappings: true})
	if err != nil {
		t.Fatal(err)
	}
	if s := st.ClientScopes["vault-groups"]; s == nil || s.ID != "s1" || len(s.Mappers) != 1 || s.Attributes[AttrIncludeInTokenScope] != "true" {
		t.Errorf("scopes %+v", st.ClientScopes)
	}
	if !slices.Equal(st.RealmDefaultScopes, []string{"roles"}) || st.RealmOptionalScopes == nil || len(st.RealmOptionalScopes) != 0 {
		t.Errorf("realm lists %v %v", st.RealmDefaultScopes, st.RealmOptionalScopes)
	}
	vm := st.ScopeMappings[clientOwner("vault")]
	if vm == nil || !slices.Equal(vm.Realm, []string{"auditor"}) || !slices.Equal(vm.Clients["vault"], []string{"reader"}) {
		t.Errorf("vault's scope mappings %+v", vm)
	}
	// Only clients without full scope, and the realm's own scopes.
	if st.ScopeMappings[clientOwner("open")] != nil || st.ScopeMappings[scopeOwner("roles")] != nil || st.ScopeMappings[scopeOwner("vault-groups")] == nil {
		t.Errorf("scope mappings read for %v", slices.Collect(maps.Keys(st.ScopeMappings)))
	}
}

func TestScopeMappingsWithoutFullScopeOffWarn(t *testing.T) {
	d := desired(t, scopesBody)
	d.Clients[0].FullScopeAllowed = nil
	st := scopeState(t, d)
	p := mustDiff(t, d, st)
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "full_scope_allowed: false") {
		t.Errorf("warnings %q", p.Warnings)
	}
	d.Clients[0].FullScopeAllowed = ptr(false)
	if p := mustDiff(t, d, st); len(p.Warnings) != 0 {
		t.Errorf("warnings with full scope off: %q", p.Warnings)
	}
}
