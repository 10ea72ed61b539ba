package keycloak

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/Nerzal/gocloak/v13"

	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/plan/plantest"
	"github.com/ssoctl/ssoctl/spec"
)

// The tests in this file run the pure planner on hand-built states: no
// server is involved. What Keycloak does with the requests is proven by the
// integration tests against the real server.

var testPasswords = map[string]string{"ALICE_PASSWORD": "alice-Pw-1", "BOB_PASSWORD": "bob-Pw-2"}

func testGetenv(k string) string { return testPasswords[k] }

// desired parses a keycloak: section body (realm demo) and expands it.
func desired(t *testing.T, body string) *Desired {
	t.Helper()
	f, err := spec.Parse("sso.yaml", []byte("keycloak:\n  url: http://kc\n  realm: demo\n  create_realm: true\n"+body), nil)
	if err != nil {
		t.Fatal(err)
	}
	return Expand(f.Keycloak, testGetenv)
}

// demoDesired is examples/sso.yaml's keycloak section.
func demoDesired(t *testing.T) *Desired {
	t.Helper()
	f, err := spec.Load("../examples/sso.yaml", nil, func(k string) string {
		if v, ok := testPasswords[k]; ok {
			return v
		}
		return map[string]string{"KEYCLOAK_URL": "http://kc", "VAULT_ADDR": "http://v"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	return Expand(f.Keycloak, testGetenv)
}

func emptyState(realm string, exists bool) *State {
	return &State{Realm: realm, RealmExists: exists, RealmRoles: map[string]*gocloak.Role{}, Clients: map[string]*gocloak.Client{},
		ClientRoles: map[string]map[string]*gocloak.Role{}, Groups: map[string]*Group{}, Users: map[string]*User{}, Owned: plan.Owned{}}
}

func orFalse(p *bool) *bool {
	if p == nil {
		return ptr(false)
	}
	return p
}

// stateFor builds the state of a realm that holds exactly what d asks for,
// as Keycloak reports it, and records all of it as ssoctl's.
func stateFor(t *testing.T, d *Desired) *State {
	t.Helper()
	st := emptyState(d.Realm, true)
	for _, r := range d.RealmRoles {
		st.RealmRoles[r] = &gocloak.Role{ID: ptr("rr-" + r), Name: ptr(r)}
	}
	for _, r := range []string{"offline_access", "uma_authorization", "default-roles-" + d.Realm} {
		st.RealmRoles[r] = &gocloak.Role{ID: ptr("rr-" + r), Name: ptr(r)}
	}
	for _, c := range d.Clients {
		attrs := maps.Clone(c.Attributes)
		if c.UserinfoSigned != nil && *c.UserinfoSigned {
			attrs[AttrUserinfoSignatureAlg] = "RS256"
		}
		var mappers []gocloak.ProtocolMapperRepresentation
		for _, m := range c.Mappers {
			mappers = append(mappers, gocloak.ProtocolMapperRepresentation{ID: ptr("m-" + m.Name), Name: ptr(m.Name), Protocol: ptr(m.Protocol),
				ProtocolMapper: ptr(m.ProtocolMapper), Config: ptr(maps.Clone(m.Config))})
		}
		gc := &gocloak.Client{ID: ptr("uuid-" + c.ClientID), ClientID: ptr(c.ClientID), Protocol: ptr(c.Protocol),
			Name: c.Name, Description: c.Description, Enabled: orFalse(c.Enabled), PublicClient: orFalse(c.PublicClient), BearerOnly: orFalse(c.BearerOnly),
			StandardFlowEnabled: orFalse(c.StandardFlow), DirectAccessGrantsEnabled: orFalse(c.DirectGrants), ServiceAccountsEnabled: orFalse(c.ServiceAccts),
			RootURL: c.RootURL, BaseURL: c.BaseURL, RedirectURIs: ptr(slices.Clone(c.RedirectURIs)), WebOrigins: ptr(slices.Clone(c.WebOrigins)),
			FrontChannelLogout: c.FrontchannelLogout, Attributes: &attrs, ProtocolMappers: &mappers}
		st.Clients[c.ClientID] = gc
		roles := map[string]*gocloak.Role{}
		for _, r := range c.Roles {
			roles[r] = &gocloak.Role{ID: ptr("cr-" + c.ClientID + "-" + r), Name: ptr(r)}
		}
		st.ClientRoles[c.ClientID] = roles
	}
	for _, g := range d.Groups {
		for _, p := range ancestors(g.Name) {
			if st.Groups[p] == nil {
				st.Groups[p] = &Group{ID: "g-" + p, Path: p, ClientRoles: map[string][]string{}}
			}
		}
		st.Groups[g.Name].RealmRoles = slices.Clone(g.RealmRoles)
		for cid, roles := range g.ClientRoles {
			st.Groups[g.Name].ClientRoles[cid] = slices.Clone(roles)
		}
	}
	for _, u := range d.Users {
		du := userDefaults(u)
		st.Users[u.Username] = &User{Rep: gocloak.User{ID: ptr("u-" + u.Username), Username: ptr(u.Username), Email: ptr(du.Email),
			FirstName: ptr(du.FirstName), LastName: ptr(du.LastName), Enabled: ptr(true), EmailVerified: ptr(true), Attributes: ptr(maps.Clone(u.Attributes))},
			Groups: slices.Clone(u.Groups)}
	}
	if slices.ContainsFunc(d.Users, func(u DesiredUser) bool { return len(u.Attributes) > 0 }) {
		st.UnmanagedAttributePolicy = "ADMIN_EDIT"
	}
	st.Owned = named(t, d)
	return st
}

// named is everything the file names, as the ownership record of a new
// realm lists it.
func named(t *testing.T, d *Desired) plan.Owned {
	t.Helper()
	p := mustDiff(t, d, emptyState(d.Realm, false))
	rec := find(t, p.Changes, "ownership-record", "")
	return rec.Op.(writeRecord).Mine
}

func mustDiff(t *testing.T, d *Desired, st *State) *plan.Plan {
	t.Helper()
	p, err := Diff(d, st, DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// find returns the change of kind whose name (after the realm) is name;
// "" matches any name.
func find(t *testing.T, cs []*plan.Change, kind, name string) *plan.Change {
	t.Helper()
	if name != "" {
		name = "demo/" + name
	}
	return plantest.Find(t, cs, kind, name)
}

var describe, written = plantest.Describe, plantest.Written

func TestDiffNewRealmCreatesEverything(t *testing.T) {
	d := demoDesired(t)
	p := mustDiff(t, d, emptyState("demo", false))
	if c := find(t, p.Changes, "realm", ""); c.Action != plan.Create || c.Op != (createRealm{}) || c.Step != stepRealm {
		t.Errorf("realm: %+v", c)
	}
	rec := find(t, p.Changes, "ownership-record", "")
	owned := rec.Op.(writeRecord).Mine
	for _, r := range []plan.Ref{clientRef("vault"), clientRoleRef("vault", "secret_manager"), mapperRef("vault", "audience vault"),
		realmRoleRef("auditor"), groupRef("kv-managers"), bindingRef("kv-managers", "vault", "secret_manager"),
		bindingRef("kv-managers", "", "auditor"), userGroupRef("alice", "kv-managers")} {
		if !owned.Has(r) {
			t.Errorf("the record of a new realm lacks %v", r)
		}
	}
	if rec.Action != plan.Create || rec.Step != stepRecord {
		t.Errorf("record: %s at step %d", rec.Action, rec.Step)
	}
	client := find(t, p.Changes, "client", "vault")
	cc := client.Op.(createClient)
	if cc.ClientID != "vault" || cc.Body["publicClient"] != false || cc.Body["directAccessGrantsEnabled"] != true {
		t.Errorf("client body: %v", cc.Body)
	}
	if attrs := cc.Body["attributes"].(map[string]string); attrs[AttrUserinfoSignatureAlg] != "" {
		t.Errorf("userinfo_signed: false sends the empty algorithm: %v", attrs)
	}
	m := find(t, p.Changes, "mapper", "vault/audience vault")
	if m.Op.(createMapper).Mapper.Config["included.client.audience"] != "vault" || m.Step != stepClientParts {
		t.Errorf("audience mapper: %+v", m.Op)
	}
	if r := find(t, p.Changes, "client-role", "vault/secret_reader"); r.Op != (createClientRole{"vault", "secret_reader"}) {
		t.Errorf("client role op: %+v", r.Op)
	}
	b := find(t, p.Changes, "group-role-binding", "kv-managers vault-roles")
	if op := b.Op.(bindRoles); op.Group != "kv-managers" || op.Client != "vault" || !slices.Equal(op.Roles, []string{"secret_manager"}) || b.Step != stepBindings {
		t.Errorf("binding: %+v", b.Op)
	}
	u := find(t, p.Changes, "user", "alice").Op.(createUser)
	creds := u.Body["credentials"].([]map[string]any)
	if creds[0]["value"] != "alice-Pw-1" || !slices.Equal(u.Body["groups"].([]string), []string{"/kv-managers"}) || u.Body["email"] != "alice@example.com" {
		t.Errorf("user body: %v", u.Body)
	}
	for _, f := range find(t, p.Changes, "user", "alice").Fields {
		if f.Field == "password" && !f.Secret {
			t.Error("the password field is not marked secret")
		}
	}
	if len(p.Prunable)+len(p.Unmanaged)+len(p.AfterPrune) != 0 {
		t.Errorf("a new realm has nothing to prune: %v %v", p.Prunable, p.Unmanaged)
	}
}

func TestDiffMatchingRealmIsNoOp(t *testing.T) {
	for _, ex := range []string{"../examples/sso.yaml", "../examples/rancher.yaml"} {
		f, err := spec.Load(ex, nil, func(k string) string {
			return map[string]string{"KEYCLOAK_URL": "http://kc", "VAULT_ADDR": "http://v"}[k]
		})
		if err != nil {
			t.Fatal(err)
		}
		d := Expand(f.Keycloak, testGetenv)
		p := mustDiff(t, d, stateFor(t, d))
		if p.HasChanges() || len(p.Prunable) != 0 || len(p.Unmanaged) != 0 || len(p.AfterPrune) != 0 {
			t.Errorf("%s: a realm that matches the file plans %s; prunable %d, unmanaged %v", ex, describe(written(p.Changes)), len(p.Prunable), p.Unmanaged)
		}
	}
}

func TestDiffClientFieldUpdates(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *gocloak.Client)
		field  string
	}{
		{"redirect URIs", func(c *gocloak.Client) { c.RedirectURIs = ptr([]string{"http://other"}) }, "redirectUris"},
		{"public", func(c *gocloak.Client) { c.PublicClient = ptr(true) }, "publicClient"},
		{"direct grants", func(c *gocloak.Client) { c.DirectAccessGrantsEnabled = ptr(false) }, "directAccessGrantsEnabled"},
		{"userinfo signed", func(c *gocloak.Client) { (*c.Attributes)[AttrUserinfoSignatureAlg] = "RS256" }, "attributes." + AttrUserinfoSignatureAlg},
		{"protocol", func(c *gocloak.Client) { c.Protocol = ptr("saml") }, "protocol"},
	}
	for _, tt := range tests {
		d := demoDesired(t)
		st := stateFor(t, d)
		tt.mutate(st.Clients["vault"])
		st.Clients["vault"].AuthorizationServicesEnabled = ptr(true)
		p := mustDiff(t, d, st)
		ws := written(p.Changes)
		if len(ws) != 1 || ws[0].Kind != "client" || len(ws[0].Fields) != 1 || ws[0].Fields[0].Field != tt.field {
			t.Errorf("%s: want one update of %s, got %s %+v", tt.name, tt.field, describe(ws), ws)
			continue
		}
		op := ws[0].Op.(updateClient)
		if op.UUID != "uuid-vault" || op.Body["id"] != "uuid-vault" || op.Body["authorizationServicesEnabled"] != true {
			t.Errorf("%s: the PUT must carry the id and keep Authorization Services on: %v", tt.name, op.Body)
		}
		if _, ok := op.Body["protocolMappers"]; ok {
			t.Errorf("%s: a client PUT with protocolMappers would delete mappers", tt.name)
		}
	}
}

func TestDiffMapperUpdates(t *testing.T) {
	d := demoDesired(t)
	st := stateFor(t, d)
	ms := *st.Clients["vault"].ProtocolMappers
	(*ms[0].Config)["id.token.claim"] = "false" // audience vault
	(*ms[1].Config)["stray.key"] = "x"          // client roles
	ms[3].ProtocolMapper = ptr("oidc-usermodel-realm-role-mapper")
	p := mustDiff(t, d, st)
	aud := find(t, p.Changes, "mapper", "vault/audience vault")
	if aud.Action != plan.Update || len(aud.Fields) != 1 || aud.Fields[0].Field != "config.id.token.claim" || aud.Fields[0].Old != "false" || aud.Fields[0].New != "true" {
		t.Errorf("flag change: %+v", aud.Fields)
	}
	if op := aud.Op.(updateMapper); op.Replace || op.ID != "m-audience vault" {
		t.Errorf("an in-place update: %+v", op)
	}
	roles := find(t, p.Changes, "mapper", "vault/client roles vault")
	if f := roles.Fields[0]; f.Field != "config.stray.key" || f.Old != "x" || f.New != nil {
		t.Errorf("a key only the realm has: %+v", roles.Fields)
	}
	groups := find(t, p.Changes, "mapper", "vault/groups")
	if !groups.Op.(updateMapper).Replace {
		t.Error("a mapper whose provider changes must be replaced")
	}
}

func TestDiffAdoptsExistingObjects(t *testing.T) {
	d := demoDesired(t)
	st := stateFor(t, d)
	st.Owned = plan.Owned{}
	p := mustDiff(t, d, st)
	ws := written(p.Changes)
	if len(ws) != 1 || ws[0].Kind != "ownership-record" || ws[0].Action != plan.Create {
		t.Fatalf("adopting should only write the record: %s", describe(ws))
	}
	if got, want := ws[0].Op.(writeRecord).Mine, named(t, d); !got.Equal(want) {
		t.Errorf("adopted %d objects, want %d", len(got), len(want))
	}
	// Partly owned: the record grows by what is missing.
	st.Owned = plan.Owned{clientRef("vault"): true}
	ws = written(mustDiff(t, d, st).Changes)
	if len(ws) != 1 || ws[0].Action != plan.Update || ws[0].Fields[0].Old != 1 {
		t.Fatalf("growing the record: %s %+v", describe(ws), ws[0].Fields)
	}
}

// extras adds, to a state made for the demo, one owned and one hand-made
// object of every kind that can be pruned.
func extras(st *State) {
	for _, name := range []string{"old-app", "handmade"} {
		st.Clients[name] = &gocloak.Client{ID: ptr("uuid-" + name), ClientID: ptr(name), Protocol: ptr(spec.ProtocolOIDC)}
		st.RealmRoles[name] = &gocloak.Role{ID: ptr("rr-" + name), Name: ptr(name)}
		st.ClientRoles["vault"][name] = &gocloak.Role{ID: ptr("cr-" + name), Name: ptr(name)}
		ms := st.Clients["vault"].ProtocolMappers
		*ms = append(*ms, gocloak.ProtocolMapperRepresentation{ID: ptr("m-" + name), Name: ptr(name), ProtocolMapper: ptr("oidc-hardcoded-claim-mapper")})
		st.Groups[name] = &Group{ID: "g-" + name, Path: name}
		st.Groups["kv-managers"].RealmRoles = append(st.Groups["kv-managers"].RealmRoles, name)
		st.Users["alice"].Groups = append(st.Users["alice"].Groups, name)
	}
	// Keycloak's own objects are never candidates.
	st.Clients["account"] = &gocloak.Client{ID: ptr("uuid-account"), ClientID: ptr("account")}
	for _, r := range []plan.Ref{clientRef("old-app"), realmRoleRef("old-app"), clientRoleRef("vault", "old-app"), mapperRef("vault", "old-app"),
		groupRef("old-app"), bindingRef("kv-managers", "", "old-app"), userGroupRef("alice", "old-app")} {
		st.Owned[r] = true
	}
}

func TestDiffPrunesOnlyWhatItOwns(t *testing.T) {
	d := demoDesired(t)
	st := stateFor(t, d)
	extras(st)
	p := mustDiff(t, d, st)
	// The owned parts of objects the file declares (a client's mapper, a
	// group's binding, a user's membership) go without --prune: the file's
	// lists are exact. Then the record forgets them.
	var updates []string
	for _, c := range written(p.Changes) {
		f := ""
		if len(c.Fields) > 0 {
			f = fmt.Sprintf(" %s=%v", c.Fields[0].Field, c.Fields[0].Old)
		}
		updates = append(updates, string(c.Action)+" "+c.Kind+" "+c.Name+f)
	}
	wantUpdates := []string{"update client demo/vault mappers=old-app", "update group-role-binding demo/kv-managers realm-roles roles=[auditor handmade old-app]",
		"update user demo/alice groups=old-app", "update ownership-record demo attribute ssoctl.owned objects=" + fmt.Sprint(len(st.Owned))}
	slices.Sort(updates)
	slices.Sort(wantUpdates)
	if !slices.Equal(updates, wantUpdates) {
		t.Fatalf("without --prune:\n got %v\nwant %v", updates, wantUpdates)
	}
	var prunable []string
	for _, c := range p.Prunable {
		prunable = append(prunable, c.Kind+" "+c.Name)
	}
	want := []string{"realm-role demo/old-app", "client demo/old-app", "client-role demo/vault/old-app", "group demo/old-app"}
	slices.Sort(prunable)
	slices.Sort(want)
	if !slices.Equal(prunable, want) {
		t.Errorf("prunable:\n got %v\nwant %v", prunable, want)
	}
	var unmanaged []string
	for _, o := range p.Unmanaged {
		if strings.Contains(o.Name, "old-app") || strings.Contains(o.Name, "account") {
			t.Errorf("owned or built-in object listed as unmanaged: %v", o)
		}
		unmanaged = append(unmanaged, o.Kind)
	}
	slices.Sort(unmanaged)
	if want := []string{"client", "client-role", "group", "group-role-binding", "mapper", "realm-role", "user-group"}; !slices.Equal(unmanaged, want) {
		t.Errorf("unmanaged kinds %v, want %v", unmanaged, want)
	}
	for _, c := range p.Prunable {
		if c.Step < stepPrune || c.Op == nil {
			t.Errorf("%s %s: step %d op %v", c.Kind, c.Name, c.Step, c.Op)
		}
	}
	if op := find(t, written(p.Changes), "group-role-binding", "").Op.(unbindRoles); !slices.Equal(op.Roles, []string{"old-app"}) {
		t.Errorf("only the owned binding is removed: %v", op.Roles)
	}
	// After the prune the record forgets what was deleted, nothing else.
	if len(p.AfterPrune) != 1 {
		t.Fatalf("after prune: %s", describe(p.AfterPrune))
	}
	after := p.AfterPrune[0].Op.(writeRecord).Mine
	if !after.Equal(named(t, d)) || p.AfterPrune[0].Step != stepRecordAfter {
		t.Errorf("the record after prune holds %d refs, want the %d the file names", len(after), len(named(t, d)))
	}
	p.IncludePrunable()
	if !slices.Contains(p.Changes, find(t, p.Changes, "ownership-record", "")) {
		t.Error("IncludePrunable must take the record update along")
	}
}

func TestDiffGroupSubtrees(t *testing.T) {
	d := desired(t, "  groups:\n    - {name: keep}\n")
	st := stateFor(t, d)
	add := func(path string, owned bool) {
		st.Groups[path] = &Group{ID: "g-" + path, Path: path}
		if owned {
			st.Owned[groupRef(path)] = true
		}
	}
	add("team", true)
	add("team/a", true)
	add("team/a/b", true)
	add("ops", true)
	add("ops/manual", false)
	p := mustDiff(t, d, st)
	var pruned []string
	for _, c := range p.Prunable {
		pruned = append(pruned, c.Name)
	}
	if !slices.Equal(pruned, []string{"demo/team"}) {
		t.Errorf("only the topmost owned group is deleted (its subgroups go with it): %v", pruned)
	}
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "ops/manual") {
		t.Errorf("an owned group holding a hand-made one is kept with a warning: %v", p.Warnings)
	}
	var unmanaged []string
	for _, o := range p.Unmanaged {
		unmanaged = append(unmanaged, o.Name)
	}
	if !slices.Equal(unmanaged, []string{"demo/ops", "demo/ops/manual"}) {
		t.Errorf("unmanaged: %v", unmanaged)
	}
	after := p.AfterPrune[0].Op.(writeRecord).Mine
	for _, g := range []string{"team", "team/a", "team/a/b"} {
		if after.Has(groupRef(g)) {
			t.Errorf("%s is deleted and must leave the record", g)
		}
	}
	if !after.Has(groupRef("ops")) {
		t.Error("ops stays, and stays ssoctl's")
	}
}

func TestDiffSubgroupsCreatedParentsFirst(t *testing.T) {
	d := desired(t, "  groups:\n    - {name: a/b/c, realm_roles: [r]}\n  realm_roles: [r]\n")
	p := mustDiff(t, d, emptyState("demo", true))
	for depth, g := range []string{"a", "a/b", "a/b/c"} {
		if c := find(t, p.Changes, "group", g); c.Op != (createGroup{g}) || c.Step != stepGroups+depth {
			t.Errorf("%s: %+v at step %d", g, c.Op, c.Step)
		}
	}
}

func TestDiffUsers(t *testing.T) {
	d := desired(t, `  groups: [{name: g1}, {name: g2}]
  users:
    - {username: alice, password_env: ALICE_PASSWORD, email: a@example.org, groups: [g1, g2], attributes: {dept: [ops]}}
    - {username: carol, password_env: CAROL_PASSWORD}
`)
	st := stateFor(t, d)
	delete(st.Users, "carol")
	alice := st.Users["alice"]
	alice.PasswordStale = true
	alice.Rep.Email = ptr("old@example.org")
	alice.Rep.Attributes = &map[string][]string{"dept": {"dev"}, "kept": {"x"}}
	alice.Groups = []string{"g1"}
	st.UnmanagedAttributePolicy = ""
	p := mustDiff(t, d, st)
	if c := find(t, p.Changes, "user-password", "alice"); c.Op != (resetPassword{"alice", "u-alice", "alice-Pw-1"}) || !c.Fields[0].Secret {
		t.Errorf("stale password: %+v", c)
	}
	up := find(t, p.Changes, "user", "alice")
	var fields []string
	for _, f := range up.Fields {
		fields = append(fields, f.Field)
	}
	if !slices.Equal(fields, []string{"email", "attributes.dept"}) {
		t.Errorf("user fields %v", fields)
	}
	body := up.Op.(updateUser).Body
	if body["email"] != "a@example.org" || body["firstName"] != "alice" || !slices.Equal(body["attributes"].(map[string][]string)["kept"], []string{"x"}) {
		t.Errorf("a user PUT keeps the unmanaged fields: %v", body)
	}
	if c := find(t, p.Changes, "user-group", "alice in g2"); c.Op != (joinGroup{"alice", "u-alice", "g2"}) || c.Step != stepMembership {
		t.Errorf("join: %+v", c)
	}
	if c := find(t, p.Changes, "user-profile", ""); c.Action != plan.Update || c.Op != (allowUnmanagedAttributes{}) {
		t.Errorf("user attributes need the unmanaged-attribute policy: %+v", c)
	}
	// carol is new and $CAROL_PASSWORD is not set: a warning for plan, an
	// error for apply.
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "$CAROL_PASSWORD") {
		t.Errorf("warnings: %v", p.Warnings)
	}
	_, err := Diff(d, st, DiffOptions{ForApply: true})
	var mse *plan.MissingSecretError
	if !asError(err, &mse) || mse.Env != "CAROL_PASSWORD" || !mse.BadInput() {
		t.Errorf("apply with a missing password: %v", err)
	}
}

func TestDiffPartialPlansOnlyItsClients(t *testing.T) {
	d := demoDesired(t)
	st := stateFor(t, d)
	extras(st)
	d.Partial = true
	d.Clients = d.Clients[:1]
	d.Clients[0].Mappers = d.Clients[0].Mappers[:2]
	p := mustDiff(t, d, st)
	// Its clients' mappers are the file's list: the owned ones it no
	// longer names go, the one made by hand stays.
	for _, c := range written(p.Changes) {
		if c.Kind != "ownership-record" && (c.Kind != "client" || c.Name != "demo/vault" || c.Fields[0].Field != "mappers") {
			t.Errorf("a partial plan changes %s %s", c.Kind, c.Name)
		}
	}
	if len(p.Prunable) != 0 || len(p.AfterPrune) != 0 || len(p.Unmanaged) != 1 || p.Unmanaged[0].Name != "demo/vault/handmade" {
		t.Errorf("a partial plan prunes nothing: %d prunable, %v", len(p.Prunable), p.Unmanaged)
	}
	for _, c := range p.Changes {
		if c.Kind == "group" || c.Kind == "user" || c.Kind == "realm-role" {
			t.Errorf("partial plan includes %s %s", c.Kind, c.Name)
		}
	}
}

func TestDiffRecordForgetsWhatIsGone(t *testing.T) {
	d := demoDesired(t)
	st := stateFor(t, d)
	for _, r := range []plan.Ref{clientRef("deleted-by-hand"), mapperRef("vault", "gone"), clientRoleRef("vault", "gone"),
		groupRef("gone"), bindingRef("kv-readers", "vault", "gone"), userGroupRef("alice", "gone"), userGroupRef("zed", "g")} {
		st.Owned[r] = true
	}
	unknown := clientRoleRef("unread-client", "r") // roles of clients that were not read stay
	st.Clients["unread-client"] = &gocloak.Client{ID: ptr("x"), ClientID: ptr("unread-client")}
	st.Owned[unknown] = true
	p := mustDiff(t, d, st)
	if p.HasChanges() {
		t.Errorf("stale refs are no reason to write without --prune: %s", describe(written(p.Changes)))
	}
	after := p.AfterPrune[0].Op.(writeRecord).Mine
	want := named(t, d)
	want[unknown] = true
	if !after.Equal(want) {
		t.Errorf("after prune the record holds %v", after.Sorted())
	}
}

func TestClientBodySkipsUnsetFields(t *testing.T) {
	d := ExpandClient(spec.Client{ClientID: "c", Protocol: spec.ProtocolOIDC, Name: "C", Description: "d", RootURL: "http://r", BaseURL: "/b"})
	body := clientBody(d)
	for _, k := range []string{"name", "description", "rootUrl", "baseUrl", "publicClient", "bearerOnly"} {
		if _, ok := body[k]; !ok {
			t.Errorf("body lacks %s: %v", k, body)
		}
	}
	for _, k := range []string{"enabled", "redirectUris", "standardFlowEnabled", "attributes"} {
		if _, ok := body[k]; ok {
			t.Errorf("unmanaged %s is sent: %v", k, body)
		}
	}
	cur := &gocloak.Client{Name: ptr("old"), RootURL: ptr("http://r"), Protocol: ptr(""), PublicClient: ptr(false), BearerOnly: ptr(false)}
	fs := clientDiff(d, cur)
	var names []string
	for _, f := range fs {
		names = append(names, f.Field)
	}
	if !slices.Equal(names, []string{"name", "description", "baseUrl"}) {
		t.Errorf("fields %v (an empty protocol is openid-connect)", names)
	}
}

func asError[T error](err error, target *T) bool { return errors.As(err, target) }

// singleSignOut is a file with every single sign-out key on an OIDC and a
// SAML client.
const singleSignOut = `  clients:
    - client_id: app
      backchannel_logout_url: https://app.example.com/bc
      backchannel_logout_session_required: false
      backchannel_logout_revoke_offline_tokens: true
      frontchannel_logout: true
      frontchannel_logout_url: https://app.example.com/fc
    - client_id: sp
      protocol: saml
      frontchannel_logout: false
      single_logout_url_post: https://sp.example.com/slo/post
      single_logout_url_redirect: https://sp.example.com/slo/redirect
`

func TestDiffSingleSignOutFields(t *testing.T) {
	tests := []struct {
		name, client string
		mutate       func(c *gocloak.Client)
		field        string
	}{
		{"session required", "app", func(c *gocloak.Client) { (*c.Attributes)[AttrBackchannelSessionRequired] = "true" }, "attributes." + AttrBackchannelSessionRequired},
		{"revoke offline tokens", "app", func(c *gocloak.Client) { delete(*c.Attributes, AttrBackchannelLogoutRevokeOfflineTokens) }, "attributes." + AttrBackchannelLogoutRevokeOfflineTokens},
		{"front channel oidc", "app", func(c *gocloak.Client) { c.FrontChannelLogout = ptr(false) }, "frontchannelLogout"},
		{"front channel url", "app", func(c *gocloak.Client) { (*c.Attributes)[AttrFrontchannelURL] = "https://old/fc" }, "attributes." + AttrFrontchannelURL},
		{"front channel saml", "sp", func(c *gocloak.Client) { c.FrontChannelLogout = ptr(true) }, "frontchannelLogout"},
		{"slo post", "sp", func(c *gocloak.Client) { delete(*c.Attributes, AttrSAMLSingleLogoutURLPost) }, "attributes." + AttrSAMLSingleLogoutURLPost},
		{"slo redirect", "sp", func(c *gocloak.Client) { (*c.Attributes)[AttrSAMLSingleLogoutURLRedirect] = "https://old/slo" }, "attributes." + AttrSAMLSingleLogoutURLRedirect},
	}
	d := desired(t, singleSignOut)
	if p := mustDiff(t, d, stateFor(t, d)); p.HasChanges() {
		t.Fatalf("a realm that matches plans %s", describe(written(p.Changes)))
	}
	for _, tt := range tests {
		st := stateFor(t, d)
		tt.mutate(st.Clients[tt.client])
		ws := written(mustDiff(t, d, st).Changes)
		if len(ws) != 1 || len(ws[0].Fields) != 1 || ws[0].Fields[0].Field != tt.field {
			t.Errorf("%s: want one update of %s, got %s %+v", tt.name, tt.field, describe(ws), ws)
			continue
		}
		body := ws[0].Op.(updateClient).Body
		if strings.HasPrefix(tt.field, "attributes.") {
			k := strings.TrimPrefix(tt.field, "attributes.")
			if got := body["attributes"].(map[string]string)[k]; got != ws[0].Fields[0].New {
				t.Errorf("%s: the PUT sends %s = %q, the plan shows %v", tt.name, k, got, ws[0].Fields[0].New)
			}
		} else if body[tt.field] != ws[0].Fields[0].New {
			t.Errorf("%s: the PUT sends %s = %v, the plan shows %v", tt.name, tt.field, body[tt.field], ws[0].Fields[0].New)
		}
	}
}

// A client that leaves the single sign-out keys out does not manage them:
// whatever Keycloak holds plans nothing, and the PUT does not carry them.
func TestDiffSingleSignOutLeftOut(t *testing.T) {
	d := desired(t, "  clients:\n    - client_id: app\n    - client_id: sp\n      protocol: saml\n")
	st := stateFor(t, d)
	for _, c := range st.Clients {
		c.FrontChannelLogout = ptr(c == st.Clients["app"])
		for k, v := range map[string]string{AttrBackchannelSessionRequired: "false", AttrBackchannelLogoutRevokeOfflineTokens: "true",
			AttrFrontchannelURL: "https://x/fc", AttrSAMLSingleLogoutURLPost: "https://x/p", AttrSAMLSingleLogoutURLRedirect: "https://x/r"} {
			(*c.Attributes)[k] = v
		}
	}
	if p := mustDiff(t, d, st); p.HasChanges() {
		t.Fatalf("unmanaged single sign-out settings plan %s", describe(written(p.Changes)))
	}
	for _, c := range d.Clients {
		body := clientBody(c)
		attrs, _ := body["attributes"].(map[string]string)
		for _, k := range []string{AttrBackchannelSessionRequired, AttrBackchannelLogoutRevokeOfflineTokens, AttrFrontchannelURL, AttrSAMLSingleLogoutURLPost, AttrSAMLSingleLogoutURLRedirect} {
			if _, ok := attrs[k]; ok {
				t.Errorf("%s: unmanaged %s is sent", c.ClientID, k)
			}
		}
		if _, ok := body["frontchannelLogout"]; ok {
			t.Errorf("%s: unmanaged frontchannelLogout is sent", c.ClientID)
		}
	}
}
