package keycloak

import (
	"context"
	"maps"
	"net/http"
	"slices"

	"github.com/Nerzal/gocloak/v13"

	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
)

// Scope mappings: which roles a client's or a client scope's tokens may
// carry (with full_scope_allowed: false), as an exact set of realm roles
// and roles per client.

// RoleSet names realm roles and roles of clients (by clientId).
type RoleSet struct {
	Realm   []string
	Clients map[string][]string
}

func roleSet(sm *spec.ScopeMappings) *RoleSet {
	if sm == nil {
		return nil
	}
	rs := &RoleSet{Realm: sm.Realm, Clients: sm.Clients}
	if rs.Realm == nil {
		rs.Realm = []string{}
	}
	return rs
}

// scopeMappingsRep is the admin API's answer for an object's scope mappings.
type scopeMappingsRep struct {
	Realm   []gocloak.Role `json:"realmMappings"`
	Clients map[string]struct {
		Mappings []gocloak.Role `json:"mappings"`
	} `json:"clientMappings"`
}

func (r scopeMappingsRep) set() *RoleSet {
	rs := &RoleSet{Realm: []string{}, Clients: map[string][]string{}}
	for _, role := range r.Realm {
		rs.Realm = append(rs.Realm, deref(role.Name))
	}
	for cid, m := range r.Clients {
		for _, role := range m.Mappings {
			rs.Clients[cid] = append(rs.Clients[cid], deref(role.Name))
		}
	}
	return rs
}

// scopeMappingsPath is the admin-API path of a client's or scope's scope
// mappings, below the realm.
func scopeMappingsPath(o owner, id string) string {
	if o.Scope {
		return "/client-scopes/" + esc(id) + "/scope-mappings"
	}
	return "/clients/" + esc(id) + "/scope-mappings"
}

// scopeMappings plans an owner's scope mappings as an exact set. created
// says the owner is new in this plan.
func (b *builder) scopeMappings(o owner, want *RoleSet, created bool) {
	if want == nil {
		return
	}
	have := &RoleSet{Realm: []string{}, Clients: map[string][]string{}}
	if !created {
		if h := b.st.ScopeMappings[o]; h != nil {
			have = h
		}
	}
	var fs []plan.FieldDiff
	op := setScopeMappings{Owner: o}
	fs = plan.DiffSet(fs, "realm", have.Realm, want.Realm)
	op.AddRealm, op.RemoveRealm = setDelta(have.Realm, want.Realm)
	for _, cid := range slices.Sorted(maps.Keys(mergeKeys(have.Clients, want.Clients))) {
		fs = plan.DiffSet(fs, "clients."+cid, have.Clients[cid], want.Clients[cid])
		add, remove := setDelta(have.Clients[cid], want.Clients[cid])
		if len(add) > 0 {
			op.AddClient = append(op.AddClient, clientRoles{cid, add})
		}
		if len(remove) > 0 {
			op.RemoveClient = append(op.RemoveClient, clientRoles{cid, remove})
		}
	}
	label := o.Name
	if o.Scope {
		label = "scope " + o.Name
	}
	if len(fs) == 0 {
		b.p.Add(b.change("scope-mappings", label, plan.NoOp, stepAssign, nil, nil))
		return
	}
	b.p.Add(b.change("scope-mappings", label, plan.Update, stepAssign, fs, op))
}

// setDelta is what to add to have and remove from it to make want.
func setDelta(have, want []string) (add, remove []string) {
	for _, w := range want {
		if !slices.Contains(have, w) && !slices.Contains(add, w) {
			add = append(add, w)
		}
	}
	for _, h := range have {
		if !slices.Contains(want, h) {
			remove = append(remove, h)
		}
	}
	return add, remove
}

func mergeKeys(a, b map[string][]string) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

type clientRoles struct {
	Client string
	Roles  []string
}

// setScopeMappings adds and removes an owner's scope mappings.
type setScopeMappings struct {
	Owner                   owner
	AddRealm, RemoveRealm   []string
	AddClient, RemoveClient []clientRoles
}

func (o setScopeMappings) apply(ctx context.Context, x *executor) error {
	var id string
	var err error
	if o.Owner.Scope {
		id, err = x.scopeID(ctx, o.Owner.Name)
	} else {
		id, err = x.clientUUID(ctx, o.Owner.Name)
	}
	if err != nil {
		return err
	}
	base := x.path() + scopeMappingsPath(o.Owner, id)
	send := func(method, path, client string, names []string) error {
		if len(names) == 0 {
			return nil
		}
		var roles []gocloak.Role
		for _, n := range names {
			r, err := x.role(ctx, client, n)
			if err != nil {
				return err
			}
			roles = append(roles, r)
		}
		_, err := x.a.do(ctx, method, path, roles, nil)
		return err
	}
	if err := send(http.MethodDelete, base+"/realm", "", o.RemoveRealm); err != nil {
		return err
	}
	for _, cr := range o.RemoveClient {
		uuid, err := x.clientUUID(ctx, cr.Client)
		if err != nil {
			return err
		}
		if err := send(http.MethodDelete, base+"/clients/"+esc(uuid), cr.Client, cr.Roles); err != nil {
			return err
		}
	}
	if err := send(http.MethodPost, base+"/realm", "", o.AddRealm); err != nil {
		return err
	}
	for _, cr := range o.AddClient {
		uuid, err := x.clientUUID(ctx, cr.Client)
		if err != nil {
			return err
		}
		if err := send(http.MethodPost, base+"/clients/"+esc(uuid), cr.Client, cr.Roles); err != nil {
			return err
		}
	}
	return nil
}

// readClientScopeMappings reads the scope mappings of the clients o asks
// for. The caller holds the lock, with the clients read.
func (r *reader) readClientScopeMappings(o ReadOptions) {
	owners := o.ScopeMappingsOf
	if o.AllScopeMappings {
		for cid, c := range r.st.Clients {
			if !isBuiltinClient(r.realm, cid) && c.FullScopeAllowed != nil && !*c.FullScopeAllowed {
				owners = append(owners, clientOwner(cid))
			}
		}
	}
	for _, ow := range owners {
		if c := r.st.Clients[ow.Name]; !ow.Scope && c != nil {
			id := deref(c.ID)
			r.spawn(func() error { return r.readScopeMappings(ow, id) })
		}
	}
}

// readScopeMappings reads the scope mappings of the client or scope with id.
func (r *reader) readScopeMappings(ow owner, id string) error {
	var rep scopeMappingsRep
	if err := r.get("/"+esc(r.realm)+scopeMappingsPath(ow, id), &rep); err != nil {
		return err
	}
	r.mu.Lock()
	r.st.ScopeMappings[ow] = rep.set()
	r.mu.Unlock()
	return nil
}
