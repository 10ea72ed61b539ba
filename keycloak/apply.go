package keycloak

import (
	"context"
	"fmt"
	"strings"

	"github.com/Nerzal/gocloak/v13"

	"github.com/ssoctl/ssoctl/plan"
)

// op is one Keycloak operation as data; apply turns it into requests.
type op interface {
	apply(ctx context.Context, x *executor) error
}

// executor applies a plan's operations to one realm. Its ids start from the
// state read at planning time and grow as objects are created.
type executor struct {
	a     *Admin
	realm string
	ids   *plan.IDs
}

// bind makes the plan's Keycloak changes apply to the realm on a.
func (a *Admin) bind(p *plan.Plan, realm string, st *State) {
	x := &executor{a: a, realm: realm, ids: plan.NewIDs()}
	for cid, c := range st.Clients {
		x.ids.Set(clientRef(cid), deref(c.ID))
	}
	for p, g := range st.Groups {
		x.ids.Set(groupRef(p), g.ID)
	}
	for name, u := range st.Users {
		x.ids.Set(userRef(name), deref(u.Rep.ID))
	}
	for name, r := range st.RealmRoles {
		x.ids.Set(realmRoleRef(name), deref(r.ID))
	}
	for name, s := range st.ClientScopes {
		x.ids.Set(clientScopeRef(name), s.ID)
	}
	for cid, roles := range st.ClientRoles {
		for name, r := range roles {
			x.ids.Set(clientRoleRef(cid, name), deref(r.ID))
		}
	}
	x.bindFlows(st)
	p.Bind("keycloak", func(ctx context.Context, c *plan.Change) error {
		o, ok := c.Op.(op)
		if !ok {
			return fmt.Errorf("keycloak: %s %s carries no Keycloak operation", c.Kind, c.Name)
		}
		return o.apply(ctx, x)
	})
}

// path is an admin-API path inside the realm.
func (x *executor) path(parts ...string) string {
	var sb strings.Builder
	sb.WriteString("/" + esc(x.realm))
	for _, p := range parts {
		sb.WriteString("/" + p)
	}
	return sb.String()
}

// clientUUID returns the id of a client, created in this apply or not
// named in the file at all (a role binding may name any client).
func (x *executor) clientUUID(ctx context.Context, clientID string) (string, error) {
	if id, ok := x.ids.Get(clientRef(clientID)); ok {
		return id, nil
	}
	return x.lookupClient(ctx, clientID)
}

// role returns a role representation with both id and name (Keycloak
// refuses a binding that lacks either), reading it when it was created
// during this apply. client is "" for a realm role.
func (x *executor) role(ctx context.Context, client, name string) (gocloak.Role, error) {
	ref := realmRoleRef(name)
	if client != "" {
		ref = clientRoleRef(client, name)
	}
	if id, ok := x.ids.Get(ref); ok {
		return gocloak.Role{ID: &id, Name: &name}, nil
	}
	path := x.path("roles", esc(name))
	where := "realm " + x.realm
	if client != "" {
		uuid, err := x.clientUUID(ctx, client)
		if err != nil {
			return gocloak.Role{}, err
		}
		path = x.path("clients", esc(uuid), "roles", esc(name))
		where = "client " + client
	}
	var got gocloak.Role
	if err := x.a.get(ctx, path, &got); err != nil {
		if IsNotFound(err) {
			return got, notFound("role %q of %s", name, where)
		}
		return got, err
	}
	x.ids.Set(ref, deref(got.ID))
	return gocloak.Role{ID: got.ID, Name: got.Name}, nil
}

// ignoreNotFound drops a 404: what should be deleted is gone already.
func ignoreNotFound(_ string, err error) error {
	if IsNotFound(err) {
		return nil
	}
	return err
}
