package keycloak

import (
	"context"
	"net/http"
	"slices"

	"github.com/Nerzal/gocloak/v13"

	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
)

// readRealmRoles lists the realm roles (without the export).
func (r *reader) readRealmRoles() error {
	var roles []*gocloak.Role
	if err := r.get("/"+esc(r.realm)+"/roles?briefRepresentation=true&first=0&max=-1", &roles); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, role := range roles {
		r.st.RealmRoles[deref(role.Name)] = briefRole(role)
	}
	return nil
}

// readClientRoles fills the roles of the clients o asks for: from
// allRoles, the role picker's list, when there is one, or read client by
// client. The caller holds the lock, with the clients read.
func (r *reader) readClientRoles(o ReadOptions, allRoles map[string]map[string]*gocloak.Role) {
	cids := o.ClientRoles
	if o.AllClientRoles {
		cids = nil
		for cid := range r.st.Clients {
			if !isBuiltinClient(r.realm, cid) {
				cids = append(cids, cid)
			}
		}
	}
	for _, cid := range cids {
		c, ok := r.st.Clients[cid]
		if !ok {
			continue
		}
		if allRoles != nil {
			r.st.ClientRoles[cid] = allRoles[cid]
			continue
		}
		id := deref(c.ID)
		r.spawn(func() error {
			var roles []*gocloak.Role
			if err := r.get("/"+esc(r.realm)+"/clients/"+esc(id)+"/roles?briefRepresentation=true&first=0&max=-1", &roles); err != nil {
				return err
			}
			m := map[string]*gocloak.Role{}
			for _, role := range roles {
				m[deref(role.Name)] = briefRole(role)
			}
			r.mu.Lock()
			r.st.ClientRoles[cid] = m
			r.mu.Unlock()
			return nil
		})
	}
}

// briefRole is a role as State holds it: its id, name, description and
// container. Composites are not read (the role picker does not give them,
// and planning never compares them).
func briefRole(r *gocloak.Role) *gocloak.Role {
	return &gocloak.Role{ID: r.ID, Name: r.Name, Description: r.Description, ClientRole: r.ClientRole, ContainerID: r.ContainerID}
}

// realmRoles plans the realm roles: created when missing; those the file no
// longer names are pruned when ssoctl owns them. Keycloak's default roles
// and roles that a named group binds are never pruned.
func (b *builder) realmRoles() {
	for _, it := range plan.Reconcile(plan.Set[string, *gocloak.Role]{
		Want: b.d.RealmRoles, Have: b.st.RealmRoles,
		Name: func(r string) string { return r },
		Ignore: func(name string, _ *gocloak.Role) bool {
			return defaultRealmRole(b.d.Realm, name) || b.roleUsedByGroups(name)
		},
	}) {
		r := realmRoleRef(it.Name)
		switch it.Action {
		case plan.Delete:
			b.extra(b.change("realm-role", it.Name, plan.Delete, stepPrune+2, nil, deleteRealmRole{it.Name}), r)
		case plan.Create:
			b.name(r)
			b.p.Add(b.change("realm-role", it.Name, plan.Create, stepRoles, nil, createRealmRole{it.Name}))
		default:
			b.name(r)
			b.p.Add(b.change("realm-role", it.Name, plan.NoOp, stepRoles, nil, nil))
		}
	}
}

// defaultRealmRole reports the roles Keycloak creates in every realm, and
// the lock of ssoctl's ownership record (RecordLockRole), which no plan or
// export shows.
func defaultRealmRole(realm, name string) bool {
	return name == RecordLockRole || name == "offline_access" || name == "uma_authorization" || name == "default-roles-"+realm || name == "admin" || name == "create-realm"
}

// roleUsedByGroups keeps realm roles that a named group binds from being
// pruned even when realm_roles does not list them.
func (b *builder) roleUsedByGroups(name string) bool {
	return slices.ContainsFunc(b.d.Groups, func(g spec.Group) bool { return slices.Contains(g.RealmRoles, name) })
}

// clientRoles plans the roles of one client of the file.
func (b *builder) clientRoles(d DesiredClient) {
	for _, it := range plan.Reconcile(plan.Set[string, *gocloak.Role]{
		Want: d.Roles, Have: b.st.ClientRoles[d.ClientID],
		Name: func(r string) string { return r },
		// Keycloak gives every resource server a uma_protection role.
		Ignore: func(name string, _ *gocloak.Role) bool { return name == "uma_protection" },
	}) {
		r := clientRoleRef(d.ClientID, it.Name)
		label := d.ClientID + "/" + it.Name
		switch it.Action {
		case plan.Delete:
			if !b.d.Partial {
				b.extra(b.change("client-role", label, plan.Delete, stepPrune, nil, deleteClientRole{d.ClientID, it.Name}), r)
			}
		case plan.Create:
			b.name(r)
			b.p.Add(b.change("client-role", label, plan.Create, stepClientParts, nil, createClientRole{d.ClientID, it.Name}))
		default:
			b.name(r)
			b.p.Add(b.change("client-role", label, plan.NoOp, stepClientParts, nil, nil))
		}
	}
}

// createRealmRole creates a realm role; one that appeared meanwhile is
// adopted.
type createRealmRole struct{ Name string }

func (o createRealmRole) apply(ctx context.Context, x *executor) error {
	_, err := x.a.do(ctx, http.MethodPost, x.path("roles"), map[string]any{"name": o.Name}, nil)
	if IsConflict(err) {
		return nil
	}
	return err
}

type deleteRealmRole struct{ Name string }

func (o deleteRealmRole) apply(ctx context.Context, x *executor) error {
	return ignoreNotFound(x.a.do(ctx, http.MethodDelete, x.path("roles", esc(o.Name)), nil, nil))
}

// createClientRole creates a role of a client, which may have been created
// earlier in the same apply.
type createClientRole struct{ ClientID, Name string }

func (o createClientRole) apply(ctx context.Context, x *executor) error {
	uuid, err := x.clientUUID(ctx, o.ClientID)
	if err != nil {
		return err
	}
	_, err = x.a.do(ctx, http.MethodPost, x.path("clients", esc(uuid), "roles"), map[string]any{"name": o.Name}, nil)
	if IsConflict(err) {
		return nil
	}
	return err
}

type deleteClientRole struct{ ClientID, Name string }

func (o deleteClientRole) apply(ctx context.Context, x *executor) error {
	uuid, err := x.clientUUID(ctx, o.ClientID)
	if err != nil {
		return err
	}
	return ignoreNotFound(x.a.do(ctx, http.MethodDelete, x.path("clients", esc(uuid), "roles", esc(o.Name)), nil, nil))
}
