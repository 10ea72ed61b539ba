package keycloak

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ssoctl/ssoctl/plan"
)

// The realm is read from its clients' listing, its partial export and the
// role picker: clients without their secret, groups with their inline
// subgroups, client roles without one read per client.
func TestReadStateFromExport(t *testing.T) {
	rec := newRecorder(t, map[string]reply{
		"GET /admin/realms/demo": {Body: `{"realm":"demo"}`},
		"GET /admin/realms/demo/clients?first=0&max=250": {Body: `[
			{"id":"u1","clientId":"vault","secret":"s3cret","defaultClientScopes":["roles","basic"],"authorizationSettings":{"policies":[]},"protocolMappers":[{"id":"m1","name":"groups"}]},
			{"id":"u2","clientId":"other"}]`},
		"POST /admin/realms/demo/partial-export?exportClients=false&exportGroupsAndRoles=true": {Body: `{"realm":"demo",
			"roles":{"realm":[{"id":"d1","name":"default-roles-demo","composite":true,"composites":{"realm":["offline_access"]}},{"id":"r1","name":"auditor","composite":false,"attributes":{}}]},
			"groups":[{"id":"g1","name":"top","path":"/top","realmRoles":["auditor"],"subGroups":[{"id":"g2","name":"sub","path":"/top/sub","clientRoles":{"vault":["secret_reader"]},"subGroups":[]}]}]}`},
		"GET /admin/realms/demo/ui-ext/available-roles/roles/r1?first=0&max=-1": {Body: `[{"id":"cr1","role":"secret_reader","client":"vault","clientId":"u1","description":"reads"}]`},
	})
	st, err := adminOf(rec).ReadState(context.Background(), "demo", ReadOptions{ClientRoles: []string{"vault", "other", "missing"}})
	if err != nil {
		t.Fatal(err)
	}
	if c := st.Clients["vault"]; c == nil || c.Secret != nil || c.AuthorizationSettings != nil || !slices.Equal(*c.DefaultClientScopes, []string{"basic", "roles"}) || len(*c.ProtocolMappers) != 1 {
		t.Errorf("client: %+v", c)
	}
	if r := st.ClientRoles["vault"]["secret_reader"]; r == nil || *r.ID != "cr1" || *r.ContainerID != "u1" || *r.Description != "reads" || r.Composite != nil {
		t.Errorf("client role: %+v", r)
	}
	if roles, ok := st.ClientRoles["other"]; !ok || len(roles) != 0 || st.ClientRoles["missing"] != nil {
		t.Errorf("client roles: %v", st.ClientRoles)
	}
	if r := st.RealmRoles["auditor"]; r == nil || r.Composite != nil || r.Attributes != nil {
		t.Errorf("realm role: %+v", r)
	}
	if g := st.Groups["top/sub"]; g == nil || g.ID != "g2" || !slices.Equal(g.ClientRoles["vault"], []string{"secret_reader"}) || st.Groups["top"] == nil {
		t.Errorf("groups: %v", st.Groups)
	}
	for _, r := range rec.Requests() {
		if strings.Contains(r, "/clients/") || strings.Contains(r, "/groups") || strings.Contains(r, "exportClients=true") {
			t.Errorf("a read object by object: %s", r)
		}
	}
	// Without the role picker, the roles are read client by client.
	rec.Set("GET /admin/realms/demo/ui-ext/available-roles/roles/r1?first=0&max=-1", reply{Status: 404})
	rec.Set("GET /admin/realms/demo/clients/u1/roles?briefRepresentation=true&first=0&max=-1", reply{Body: `[{"id":"cr1","name":"secret_reader","composite":false}]`})
	st, err = adminOf(rec).ReadState(context.Background(), "demo", ReadOptions{ClientRoles: []string{"vault"}})
	if err != nil || st.ClientRoles["vault"]["secret_reader"] == nil || st.Clients["other"] == nil {
		t.Errorf("roles client by client: %v %v", st.ClientRoles, err)
	}
	// An admin refused the export is read kind by kind.
	rec.Set("POST /admin/realms/demo/partial-export?exportClients=false&exportGroupsAndRoles=true", reply{Status: 403, Body: `{"error":"HTTP 403 Forbidden"}`})
	rec.Set("GET /admin/realms/demo/roles?briefRepresentation=true&first=0&max=-1", reply{Body: `[{"id":"r1","name":"auditor"}]`})
	rec.Set("GET /admin/realms/demo/groups?briefRepresentation=false&first=0&max=-1", reply{Body: `[{"id":"g1","name":"top","path":"/top"}]`})
	st, err = adminOf(rec).ReadState(context.Background(), "demo", ReadOptions{ClientRoles: []string{"vault"}})
	if err != nil || st.Clients["vault"] == nil || st.Clients["vault"].Secret != nil || st.ClientRoles["vault"]["secret_reader"] == nil || st.RealmRoles["auditor"] == nil || st.Groups["top"] == nil {
		t.Errorf("fallback: %v %v %v", st.Clients, st.Groups, err)
	}
	// The export's own failure (Keycloak's 500 when two exports meet) is
	// read kind by kind too.
	rec.Set("POST /admin/realms/demo/partial-export?exportClients=false&exportGroupsAndRoles=true", reply{Status: 500, Body: `{"error":"unknown_error"}`})
	st, err = adminOf(rec).ReadState(context.Background(), "demo", ReadOptions{ClientRoles: []string{"vault"}})
	if err != nil || st.Clients["vault"] == nil || st.ClientRoles["vault"]["secret_reader"] == nil {
		t.Errorf("fallback on 500: %v %v", st.Clients, err)
	}
}

// A realm of more clients than one page holds is listed a page at a time:
// the first alone, then a wave of pages at once, until one comes back short.
func TestReadClientsInPages(t *testing.T) {
	page := func(from, n int) string {
		var cs []string
		for i := from; i < from+n; i++ {
			cs = append(cs, fmt.Sprintf(`{"id":"u%d","clientId":"app-%04d"}`, i, i))
		}
		return "[" + strings.Join(cs, ",") + "]"
	}
	replies := map[string]reply{
		"GET /admin/realms/demo": {Body: `{"realm":"demo"}`},
		"POST /admin/realms/demo/partial-export?exportClients=false&exportGroupsAndRoles=true": {Body: `{"realm":"demo","roles":{"realm":[]},"groups":[]}`},
		"GET /admin/realms/demo/clients?first=0&max=250":                                       {Body: page(0, clientPage)},
		"GET /admin/realms/demo/clients?first=250&max=250":                                     {Body: page(250, clientPage)},
		"GET /admin/realms/demo/clients?first=500&max=250":                                     {Body: page(500, 3)},
	}
	for i := 3; i <= 4; i++ {
		replies[fmt.Sprintf("GET /admin/realms/demo/clients?first=%d&max=250", i*clientPage)] = reply{Body: `[]`}
	}
	rec := newRecorder(t, replies)
	st, err := adminOf(rec).ReadState(context.Background(), "demo", ReadOptions{Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Clients) != 503 || st.Clients["app-0502"] == nil || st.Clients["app-0250"] == nil {
		t.Errorf("%d clients read", len(st.Clients))
	}
	pages := 0
	for _, r := range rec.Requests() {
		if strings.HasSuffix(r, "/clients") {
			pages++
		}
	}
	if pages != 5 {
		t.Errorf("%d pages read, want 5 (the first, then a wave of 4)", pages)
	}
}

// Ten or more new OIDC clients are created with one import, with their
// mappers and roles; SAML clients, clients with Authorization Services or
// other URL schemes, and everything else stay object by object.
func TestBatchCreates(t *testing.T) {
	var body strings.Builder
	for i := range 10 {
		fmt.Fprintf(&body, "    - {client_id: app-%d, roles: [r], redirect_uris: [\"https://a/%d\"], mappers: [{groups: {claim: groups}}]}\n", i, i)
	}
	body.WriteString("    - {client_id: saml-sp, protocol: saml}\n    - {client_id: odd, redirect_uris: [\"myapp:/cb\"]}\n")
	bulk := importsOf(t, "  clients:\n"+body.String()+"  groups: [{name: g, client_roles: {app-1: [r]}}]\n", &State{}, func(c *plan.Change) bool {
		return (c.Kind == "client" || c.Kind == "mapper" || c.Kind == "client-role") && strings.HasPrefix(c.Name, "demo/app-")
	})
	if bulk == nil || len(bulk.Clients) != 10 || len(bulk.Roles) != 10 || bulk.Roles["app-3"][0]["name"] != "r" {
		t.Fatalf("import: %+v", bulk)
	}
	c := bulk.Clients[0]
	if c["directAccessGrantsEnabled"] != true || c["attributes"].(map[string]string)[AttrBackchannelSessionRequired] != "true" || len(c["protocolMappers"].([]map[string]any)) != 1 {
		t.Errorf("an imported client's body: %v", c)
	}
	// Nine are created object by object.
	importsOf(t, "  clients:\n"+strings.Join(strings.SplitAfter(body.String(), "\n")[:9], ""), &State{}, none)
}

// Ten or more new groups are created with imports: each new top-level group
// with its subgroups, and the bindings of roles that exist by then (in the
// realm, or made by an earlier step). A group under one that exists, and a
// binding of a role nobody makes, stay object by object.
func TestBatchCreatesGroups(t *testing.T) {
	var groups strings.Builder
	for i := range 10 {
		fmt.Fprintf(&groups, "    - {name: team-%d, realm_roles: [auditor]}\n", i)
	}
	groups.WriteString("    - {name: team-1/squad, client_roles: {app: [reader]}}\n")
	groups.WriteString("    - {name: team-1/squad/pod, client_roles: {other: [gone]}}\n")
	groups.WriteString("    - {name: old/new, realm_roles: [auditor]}\n")
	st := &State{Groups: map[string]*Group{"old": {ID: "g-old", Path: "old"}}}
	bulk := importsOf(t, "  realm_roles: [auditor]\n  clients: [{client_id: app, roles: [reader]}]\n  groups:\n"+groups.String(), st, func(c *plan.Change) bool {
		return c.Action == plan.Create && c.Kind == "group" && strings.HasPrefix(c.Name, "demo/team-") ||
			c.Kind == "group-role-binding" && strings.HasPrefix(c.Name, "demo/team-") && !strings.Contains(c.Name, "pod")
	})
	if bulk == nil || len(bulk.Groups) != 10 || bulk.Clients != nil {
		t.Fatalf("import: %+v", bulk)
	}
	team1 := bulk.Groups[1]
	if team1.Path != "/team-1" || !slices.Equal(team1.RealmRoles, []string{"auditor"}) || len(team1.SubGroups) != 1 {
		t.Fatalf("team-1: %+v", team1)
	}
	squad := team1.SubGroups[0]
	if squad.Name != "squad" || squad.Path != "/team-1/squad" || !slices.Equal(squad.ClientRoles["app"], []string{"reader"}) ||
		len(squad.SubGroups) != 1 || squad.SubGroups[0].Path != "/team-1/squad/pod" || squad.SubGroups[0].ClientRoles != nil {
		t.Errorf("squad: %+v", squad)
	}
	// Nine new groups are made object by object.
	importsOf(t, "  groups:\n"+strings.Join(strings.SplitAfter(groups.String(), "\n")[:9], ""), &State{}, none)
}

// importsOf batches the plan of sso.yaml lines (st: the realm as read) and
// returns the one import its changes share, failing the test for each
// change that is in it and should not be, or the other way round.
func importsOf(t *testing.T, yaml string, st *State, want func(*plan.Change) bool) *bulkCreate {
	t.Helper()
	if st.Owned == nil {
		st.Realm, st.Owned = "demo", plan.Owned{}
	}
	p, err := Diff(Expand(specOf(t, yaml), nil), st, DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	batch(p, st)
	var bulk *bulkCreate
	for _, c := range p.Changes {
		ib, inBatch := c.Op.(inBulk)
		if inBatch != want(c) {
			t.Errorf("%s %s: in the import %v, want %v", c.Kind, c.Name, inBatch, want(c))
		}
		if inBatch {
			if bulk != nil && ib.Bulk != bulk {
				t.Errorf("two imports")
			}
			bulk = ib.Bulk
		}
	}
	return bulk
}

func none(*plan.Change) bool { return false }

// An import that Keycloak refuses (403: partialImport needs manage-realm)
// creates nothing: each of its changes is then made on its own.
func TestRefusedImportFallsBackPerObject(t *testing.T) {
	var clients strings.Builder
	for i := range 10 {
		fmt.Fprintf(&clients, "    - {client_id: app-%d, redirect_uris: [\"https://a/%d\"]}\n", i, i)
	}
	var groups strings.Builder
	for i := range 10 {
		fmt.Fprintf(&groups, "    - {name: team-%d}\n", i)
	}
	rec := newRecorder(t, map[string]reply{
		"GET /admin/realms/demo":                {Body: `{"realm":"demo"}`},
		"POST /admin/realms/demo/partialImport": {Status: 403, Body: `{"error":"HTTP 403 Forbidden"}`},
		"POST /admin/realms/demo/clients":       {Status: 201, Location: "/admin/realms/demo/clients/new-uuid"},
		"POST /admin/realms/demo/groups":        {Status: 201, Location: "/admin/realms/demo/groups/new-gid"},
		"PUT /admin/realms/demo":                {Status: 204}, // the ownership record
	})
	st := emptyState("demo", true)
	p := mustDiff(t, desired(t, "  clients:\n"+clients.String()+"  groups:\n"+groups.String()), st)
	batch(p, st)
	adminOf(rec).bind(p, "demo", st)
	if err := p.Execute(context.Background(), 4, nil); err != nil {
		t.Fatalf("apply with the import refused: %v", err)
	}
	n := map[string]int{}
	for _, r := range rec.Requests() {
		n[r]++
	}
	if n["POST /admin/realms/demo/partialImport"] != 2 || n["POST /admin/realms/demo/clients"] != 10 || n["POST /admin/realms/demo/groups"] != 10 {
		t.Errorf("requests: %v", n)
	}
}
