package keycloak

import (
	"slices"
	"strings"

	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
)

// Batching: which of a plan's creates a partial import makes (bulkCreate,
// in bulk_create.go, is the operation that sends it). Admin.Plan runs it
// after Diff, unless PlanOptions.PerObject.

// bulkMin is the number of new clients, or of new groups, from which they
// are created with partial imports: below it, the requests object by object
// are as quick, and each object reports its own error.
const bulkMin = 10

// bulkChunk is the most clients, or groups, one import creates. An import
// of 2,000 clients with their roles outlasted the 30 s a request may take,
// went on in the server until its transaction reaper interrupted it, and
// that closed the testbed's H2 database.
const bulkChunk = 50

// batch is the planning step between Diff and apply that puts the plan's
// creation of new objects into partial imports: new OpenID Connect clients
// with their mappers and roles, and new top-level groups with their
// subgroups and role bindings. The changes stay as they are, one per
// object, and each still reports its own outcome: the operation of each
// becomes an inBulk, and those of one import share one bulkCreate, which
// the first of them to run sends. Updates, deletions, users and everything
// that refers to ids stay object by object.
func batch(p *plan.Plan, st *State) {
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
	into := map[string]*bulkCreate{}
	var b *bulkCreate
	for _, c := range p.Changes {
		if o, ok := c.Op.(createClient); ok && newClients[o.ClientID] {
			if b == nil || len(b.Clients) == bulkChunk {
				b = &bulkCreate{}
			}
			b.Clients = append(b.Clients, nil) // filled below, with the mappers
			into[o.ClientID] = b
		}
	}
	mappers := map[string][]map[string]any{}
	for _, c := range p.Changes {
		switch o := c.Op.(type) {
		case createMapper:
			if b := into[o.Owner.Name]; b != nil && !o.Owner.Scope && !o.Upsert {
				mappers[o.Owner.Name] = append(mappers[o.Owner.Name], mapperBody(o.Mapper))
				c.Op = inBulk{b, o}
			}
		case createClientRole:
			if b := into[o.ClientID]; b != nil {
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
		if o, ok := c.Op.(createClient); ok && into[o.ClientID] != nil {
			b := into[o.ClientID]
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
	into := map[string]*bulkCreate{}
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
			into[top] = b
		}
		into[path] = into[top]
		size++
	}
	for _, c := range p.Changes {
		switch o := c.Op.(type) {
		case createGroup:
			if b := into[o.Path]; b != nil {
				c.Op = inBulk{b, o}
			}
		case bindRoles:
			g, b := tree[o.Group], into[o.Group]
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
