package keycloak

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
)

// Creating in bulk. A partial import (POST …/partialImport with
// ifResourceExists FAIL) is one transaction: measured on Keycloak 26.7.3 it
// creates everything or nothing, answers 409 when one of its top-level
// objects exists, and its cost grows faster than its size (50 clients with 4
// mappers and 2 roles each: 0.3-0.4 s; 100: 1.0 s; 500 clients without
// mappers: 5 s), so it is sent in chunks.

// bulkMin is the number of new clients, or of new groups, from which they
// are created with partial imports: below it, the requests object by object
// are as quick, and each object reports its own error.
const bulkMin = 10

// bulkChunk is the most clients, or groups, one import creates. An import
// of 2,000 clients with their roles outlasted the 30 s a request may take,
// went on in the server until its transaction reaper interrupted it, and
// that closed the testbed's H2 database.
const bulkChunk = 50

// batchCreates rewrites the plan's creation of new objects into partial
// imports: new OpenID Connect clients with their mappers and roles, and new
// top-level groups with their subgroups and role bindings. The changes stay
// as they are, one per object, and each still reports its own outcome;
// those of one import share one bulkCreate, which the first of them to run
// sends. Updates, deletions, users and everything that refers to ids stay
// object by object.
func batchCreates(p *plan.Plan, st *State) {
	// The roles that exist when the groups are made: the realm's, and
	// those an earlier step of this plan creates.
	roles := map[plan.Ref]bool{}
	for name := range st.RealmRoles {
		roles[realmRoleRef(name)] = true
	}
	for cid, rs := range st.ClientRoles {
		for name := range rs {
			roles[clientRoleRef(cid, name)] = true
		}
	}
	for _, c := range p.Changes {
		switch o := c.Op.(type) {
		case createRealmRole:
			roles[realmRoleRef(o.Name)] = true
		case createClientRole:
			roles[clientRoleRef(o.ClientID, o.Name)] = true
		}
	}
	batchClients(p)
	batchGroups(p, roles)
}

// batchClients puts ten or more new OIDC clients with http(s) URLs, their
// mappers and roles, into imports of bulkChunk clients each.
func batchClients(p *plan.Plan) {
	newClients := map[string]bool{}
	for _, c := range p.Changes {
		if o, ok := c.Op.(createClient); ok && importable(o.Body) {
			newClients[o.ClientID] = true
		}
	}
	if len(newClients) < bulkMin {
		return
	}
	// One import per bulkChunk clients, in the order of the plan.
	batch := map[string]*bulkCreate{}
	var b *bulkCreate
	for _, c := range p.Changes {
		if o, ok := c.Op.(createClient); ok && newClients[o.ClientID] {
			if b == nil || len(b.Clients) == bulkChunk {
				b = &bulkCreate{}
			}
			b.Clients = append(b.Clients, nil) // filled below, with the mappers
			batch[o.ClientID] = b
		}
	}
	mappers := map[string][]map[string]any{}
	for _, c := range p.Changes {
		switch o := c.Op.(type) {
		case createMapper:
			if b := batch[o.Owner.Name]; b != nil && !o.Owner.Scope && !o.Upsert {
				mappers[o.Owner.Name] = append(mappers[o.Owner.Name], mapperBody(o.Mapper))
				c.Op = inBulk{b, o}
			}
		case createClientRole:
			if b := batch[o.ClientID]; b != nil {
				if b.Roles == nil {
					b.Roles = map[string][]map[string]any{}
				}
				b.Roles[o.ClientID] = append(b.Roles[o.ClientID], map[string]any{"name": o.Name})
				c.Op = inBulk{b, o}
			}
		}
	}
	filled := map[*bulkCreate]int{}
	for _, c := range p.Changes {
		if o, ok := c.Op.(createClient); ok && batch[o.ClientID] != nil {
			b := batch[o.ClientID]
			body := importBody(o.Body)
			if ms := mappers[o.ClientID]; ms != nil {
				body["protocolMappers"] = ms
			}
			b.Clients[filled[b]] = body
			filled[b]++
			c.Op = inBulk{b, o}
		}
	}
}

// groupImport is a new group as a partial import takes it. Keycloak needs
// the path: without it the import fails with a 500 (26.7.3).
type groupImport struct {
	Name        string              `json:"name"`
	Path        string              `json:"path"`
	RealmRoles  []string            `json:"realmRoles,omitempty"`
	ClientRoles map[string][]string `json:"clientRoles,omitempty"`
	SubGroups   []*groupImport      `json:"subGroups,omitempty"`
}

// batchGroups puts ten or more new groups into imports: each new top-level
// group with every group below it (all new too), and the role bindings of
// those groups whose roles exist by then. An import grants roles by name
// and makes a realm role it does not find (and fails on a client it does
// not find), so a binding of a role that neither the realm nor this plan
// has stays object by object and fails as it does there.
func batchGroups(p *plan.Plan, roles map[plan.Ref]bool) {
	var paths []string
	for _, c := range p.Changes {
		if o, ok := c.Op.(createGroup); ok {
			paths = append(paths, o.Path)
		}
	}
	tree := map[string]*groupImport{}
	for _, path := range paths { // parents come first: the plan sorts them
		top, _, _ := strings.Cut(path, "/")
		if path != top && tree[top] == nil {
			continue // under a group that exists
		}
		g := &groupImport{Name: path[strings.LastIndex(path, "/")+1:], Path: "/" + path}
		if i := strings.LastIndex(path, "/"); i >= 0 {
			parent := tree[path[:i]]
			parent.SubGroups = append(parent.SubGroups, g)
		}
		tree[path] = g
	}
	if len(tree) < bulkMin {
		return
	}
	// One import per top-level groups of about bulkChunk groups in all.
	batch := map[string]*bulkCreate{}
	var b *bulkCreate
	size := 0
	for _, path := range paths {
		if tree[path] == nil {
			continue
		}
		top, _, _ := strings.Cut(path, "/")
		if path == top {
			if b == nil || size >= bulkChunk {
				b, size = &bulkCreate{}, 0
			}
			b.Groups = append(b.Groups, tree[path])
			batch[top] = b
		}
		batch[path] = batch[top]
		size++
	}
	for _, c := range p.Changes {
		switch o := c.Op.(type) {
		case createGroup:
			if b := batch[o.Path]; b != nil {
				c.Op = inBulk{b, o}
			}
		case bindRoles:
			g, b := tree[o.Group], batch[o.Group]
			if b == nil || slices.ContainsFunc(o.Roles, func(r string) bool { return !roles[bindingRoleRef(o.Client, r)] }) {
				continue
			}
			if o.Client == "" {
				g.RealmRoles = append(g.RealmRoles, o.Roles...)
			} else {
				if g.ClientRoles == nil {
					g.ClientRoles = map[string][]string{}
				}
				g.ClientRoles[o.Client] = append(g.ClientRoles[o.Client], o.Roles...)
			}
			c.Op = inBulk{b, o}
		}
	}
}

// bindingRoleRef names the role a binding grants: a realm role when client
// is "".
func bindingRoleRef(client, name string) plan.Ref {
	if client == "" {
		return realmRoleRef(name)
	}
	return clientRoleRef(client, name)
}

// importable reports whether a new client's create body makes the same
// client through a partial import. Measured on Keycloak 26.7.3, an import
// skips the checks POST …/clients makes (a javascript: redirect URI was
// imported, and refused with a 400 by POST), so only OpenID Connect clients
// whose URLs are all http(s) or relative are imported; Authorization
// Services are left out too (an import applies its own defaults to them).
func importable(body map[string]any) bool {
	if body["protocol"] != spec.ProtocolOIDC || body["authorizationServicesEnabled"] != nil {
		return false
	}
	ok := func(u string) bool {
		return strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "/") || u == "" || u == "+" || u == "*"
	}
	for _, k := range []string{"rootUrl", "baseUrl"} {
		if u, isStr := body[k].(string); isStr && !ok(u) {
			return false
		}
	}
	bad := func(u string) bool { return !ok(u) }
	for _, k := range []string{"redirectUris", "webOrigins"} {
		if us, isList := body[k].([]string); isList && slices.ContainsFunc(us, bad) {
			return false
		}
	}
	for k, v := range deref(attrsOf(body)) {
		// URL attributes: post.logout.redirect.uris ("##"-joined), the logout URLs.
		if k := strings.ToLower(k); (strings.Contains(k, "url") || strings.Contains(k, "uri")) && slices.ContainsFunc(strings.Split(v, "##"), bad) {
			return false
		}
	}
	return true
}

func attrsOf(body map[string]any) *map[string]string {
	if a, ok := body["attributes"].(map[string]string); ok {
		return &a
	}
	return nil
}

// importDefaults are what POST …/clients sets on a new OpenID Connect
// client and a partial import does not (measured on Keycloak 26.7.3): an
// import body carries them unless the file sets them, so that an imported
// client is the one POST would have made.
var importDefaults = struct {
	fields     map[string]any
	attributes map[string]string
}{
	fields:     map[string]any{"directAccessGrantsEnabled": true},
	attributes: map[string]string{AttrBackchannelSessionRequired: "true", AttrBackchannelLogoutRevokeOfflineTokens: "false"},
}

// importBody is a new client's create body for a partial import.
func importBody(create map[string]any) map[string]any {
	body := maps.Clone(create)
	for k, v := range importDefaults.fields {
		if _, set := body[k]; !set {
			body[k] = v
		}
	}
	attrs := map[string]string{}
	if a := attrsOf(create); a != nil {
		attrs = maps.Clone(*a)
	}
	for k, v := range importDefaults.attributes {
		if _, set := attrs[k]; !set {
			attrs[k] = v
		}
	}
	body["attributes"] = attrs
	return body
}

// bulkCreate is one partial import, sent once by whichever of its changes
// runs first: new clients with their mappers and roles, or new groups.
type bulkCreate struct {
	Clients []map[string]any
	Roles   map[string][]map[string]any // by clientId
	Groups  []*groupImport

	once sync.Once
	err  error
}

// partialImportResult is Keycloak's answer to a partial import. Its id is
// a created client's or top-level group's; for a client role it is the
// client's (26.7.3), and subgroups are not listed.
type partialImportResult struct {
	Results []struct {
		Action       string `json:"action"`
		ResourceType string `json:"resourceType"`
		ResourceName string `json:"resourceName"`
		ID           string `json:"id"`
	} `json:"results"`
}

func (b *bulkCreate) run(ctx context.Context, x *executor) error {
	b.once.Do(func() {
		body := map[string]any{"ifResourceExists": "FAIL"}
		if b.Clients != nil {
			body["clients"] = b.Clients
		}
		if b.Roles != nil {
			body["roles"] = map[string]any{"client": b.Roles}
		}
		if b.Groups != nil {
			body["groups"] = b.Groups
		}
		var res partialImportResult
		if _, b.err = x.a.do(ctx, http.MethodPost, x.path("partialImport"), body, &res); b.err != nil {
			return
		}
		for _, r := range res.Results {
			switch {
			case r.ID == "":
			case r.ResourceType == "CLIENT":
				x.ids.Set(clientRef(r.ResourceName), r.ID)
			case r.ResourceType == "GROUP":
				x.ids.Set(groupRef(r.ResourceName), r.ID)
			}
		}
	})
	return b.err
}

// inBulk is a create that a bulkCreate makes. When the import creates
// nothing, the create is made on its own instead: the import met an object
// that exists by now (409), or it is refused (403: partialImport needs
// manage-realm, while an admin with manage-clients may create clients one
// by one; measured on 26.7.3).
type inBulk struct {
	Bulk *bulkCreate
	Op   op
}

func (o inBulk) apply(ctx context.Context, x *executor) error {
	err := o.Bulk.run(ctx, x)
	if !IsConflict(err) && !refused(err) {
		return err
	}
	// After a 409 the objects exist by now: an import cut off in an earlier
	// run may have been committed after this run read the realm. Their
	// mappers are then adopted, as their clients, roles and groups are.
	if m, ok := o.Op.(createMapper); ok {
		m.Upsert = true
		return m.apply(ctx, x)
	}
	return o.Op.apply(ctx, x)
}

// groupID returns the id of a group, created in this apply or not: an
// import gives the ids of its top-level groups only, so a subgroup it made
// is looked up by its path the first time it is needed.
func (x *executor) groupID(ctx context.Context, path string) (string, error) {
	if id, ok := x.ids.Get(groupRef(path)); ok {
		return id, nil
	}
	var g groupRep
	if err := x.a.get(ctx, x.path("group-by-path", escPath(path)), &g); err != nil {
		if IsNotFound(err) {
			return "", notFound("group %q", path)
		}
		return "", err
	}
	x.ids.Set(groupRef(path), g.ID)
	return g.ID, nil
}
