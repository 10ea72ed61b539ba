package keycloak

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/Nerzal/gocloak/v13"
	"golang.org/x/sync/errgroup"

	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
)

// Group is a group with its role bindings.
type Group struct {
	ID         string
	Path       string
	RealmRoles []string
	// ClientRoles maps a clientId to role names.
	ClientRoles map[string][]string
}

// groupRep is the admin API's group representation, including the fields
// gocloak v13 lacks (subGroupCount, on Keycloak 23+).
type groupRep struct {
	ID            string              `json:"id"`
	Name          string              `json:"name"`
	Path          string              `json:"path"`
	SubGroupCount int                 `json:"subGroupCount"`
	SubGroups     []groupRep          `json:"subGroups"`
	RealmRoles    []string            `json:"realmRoles"`
	ClientRoles   map[string][]string `json:"clientRoles"`
}

// readGroups lists the top-level groups with their role bindings, then
// walks down to subgroups (Keycloak 23+ lists children separately) in g.
func (r *reader) readGroups(g *errgroup.Group) error {
	var top []groupRep
	if err := r.get("/"+esc(r.realm)+"/groups?briefRepresentation=false&first=0&max=-1", &top); err != nil {
		return err
	}
	var add func(reps []groupRep)
	add = func(reps []groupRep) {
		for _, rep := range reps {
			path := strings.TrimPrefix(rep.Path, "/")
			r.mu.Lock()
			r.st.Groups[path] = &Group{ID: rep.ID, Path: path, RealmRoles: rep.RealmRoles, ClientRoles: rep.ClientRoles}
			r.mu.Unlock()
			switch {
			case len(rep.SubGroups) > 0:
				add(rep.SubGroups)
			case rep.SubGroupCount > 0:
				id := rep.ID
				g.Go(func() error {
					var kids []groupRep
					if err := r.get("/"+esc(r.realm)+"/groups/"+esc(id)+"/children?briefRepresentation=false&first=0&max=-1", &kids); err != nil {
						return err
					}
					add(kids)
					return nil
				})
			}
		}
	}
	add(top)
	return nil
}

// flattenGroups adds groups whose subgroups are inline (an export) to st.
// The caller holds the lock.
func flattenGroups(reps []groupRep, st *State) {
	for _, r := range reps {
		path := strings.TrimPrefix(r.Path, "/")
		st.Groups[path] = &Group{ID: r.ID, Path: path, RealmRoles: r.RealmRoles, ClientRoles: r.ClientRoles}
		flattenGroups(r.SubGroups, st)
	}
}

// groups plans the file's groups, parents first (a subgroup's parents are
// implied), their role bindings, and the realm's other groups.
func (b *builder) groups() {
	named, declared := map[string]bool{}, map[string]bool{}
	for _, g := range b.d.Groups {
		declared[g.Name] = true
		for _, p := range ancestors(g.Name) {
			named[p] = true
		}
	}
	want := slices.Sorted(maps.Keys(named))
	for _, it := range plan.Reconcile(plan.Set[string, *Group]{
		Want: want, Have: b.st.Groups,
		Name: func(p string) string { return p },
	}) {
		if it.Action == plan.Delete {
			continue // below, with their descendants
		}
		// A parent the file only implies may be another owner's: two
		// files keep their groups under one parent.
		if o := b.rec[groupRef(it.Name)]; !declared[it.Name] && o != "" && !b.d.claimant().Prunes(o) {
			b.p.Add(b.change("group", it.Name, plan.NoOp, stepGroups, nil, nil))
			continue
		}
		b.name(groupRef(it.Name))
		if it.Action == plan.NoOp {
			b.p.Add(b.change("group", it.Name, plan.NoOp, stepGroups, nil, nil))
			continue
		}
		b.p.Add(b.change("group", it.Name, plan.Create, stepGroups+strings.Count(it.Name, "/"), nil, createGroup{it.Name}))
	}
	for _, g := range b.d.Groups {
		b.bindings(g)
	}
	b.extraGroups(named)
}

// extraGroups files the realm's groups that the file does not name. An
// owned group is pruned only when every group below it is pruned too: a
// group made by hand inside it keeps it (with a warning). Deleting a group
// deletes its subgroups, so only the topmost pruned group gets a change.
func (b *builder) extraGroups(named map[string]bool) {
	var extra []string
	for p := range b.st.Groups {
		if !named[p] {
			extra = append(extra, p)
		}
	}
	slices.Sort(extra)
	// Deepest first, so a group's verdict is known before its parent's.
	prunable := map[string]bool{}
	for i := len(extra) - 1; i >= 0; i-- {
		p := extra[i]
		ok := b.mine[groupRef(p)]
		var keeps []string
		for q := range b.st.Groups {
			if strings.HasPrefix(q, p+"/") && strings.Count(q, "/") == strings.Count(p, "/")+1 && !prunable[q] {
				keeps = append(keeps, q)
			}
		}
		if ok && len(keeps) > 0 {
			slices.Sort(keeps)
			b.p.Warn("keycloak group %s/%s is no longer in the file, but groups ssoctl does not manage are inside it (%s); it is left alone", b.d.Realm, p, strings.Join(keeps, ", "))
			ok = false
		}
		prunable[p] = ok
	}
	for _, p := range extra {
		parent := p[:max(0, strings.LastIndex(p, "/"))]
		if parent != "" && prunable[parent] {
			b.pruned[groupRef(p)] = true // deleted with its parent
			continue
		}
		c := b.change("group", p, plan.Delete, stepPrune+1, nil, deleteGroup{p, b.st.Groups[p].ID})
		if prunable[p] {
			b.pruned[groupRef(p)] = true
			b.p.AddExtra(c, true)
			continue
		}
		b.leaveAlone(c, groupRef(p))
	}
}

// ancestors returns "a", "a/b", "a/b/c" for "a/b/c".
func ancestors(path string) []string {
	parts := strings.Split(path, "/")
	out := make([]string, len(parts))
	for i := range parts {
		out[i] = strings.Join(parts[:i+1], "/")
	}
	return out
}

// bindings plans the role bindings of one group: one change per container
// (the realm, or one client) that gains roles, and the removal of owned
// bindings the file no longer names.
func (b *builder) bindings(g spec.Group) {
	cur := b.st.Groups[g.Name]
	var haveRealm []string
	haveClient := map[string][]string{}
	if cur != nil {
		haveRealm = cur.RealmRoles
		haveClient = cur.ClientRoles
	}
	type container struct {
		client     string // "" for the realm
		want, have []string
	}
	cs := []container{{"", g.RealmRoles, haveRealm}}
	for _, cid := range slices.Sorted(maps.Keys(g.ClientRoles)) {
		cs = append(cs, container{cid, g.ClientRoles[cid], haveClient[cid]})
	}
	for _, cid := range slices.Sorted(maps.Keys(haveClient)) {
		if _, ok := g.ClientRoles[cid]; !ok {
			cs = append(cs, container{cid, nil, haveClient[cid]})
		}
	}
	for _, c := range cs {
		label := g.Name + " realm-roles"
		if c.client != "" {
			label = g.Name + " " + c.client + "-roles"
		}
		have := map[string]bool{}
		for _, r := range c.have {
			have[r] = true
		}
		var add, drop []string
		for _, it := range plan.Reconcile(plan.Set[string, bool]{Want: c.want, Have: have, Name: func(r string) string { return r }}) {
			r := bindingRef(g.Name, c.client, it.Name)
			switch {
			case it.Action == plan.Create:
				add = append(add, it.Name)
			case it.Action == plan.Delete && b.mine[r]:
				drop = append(drop, it.Name)
				b.dropped[r] = true
			case it.Action == plan.Delete:
				b.leaveAlone(b.change("group-role-binding", label+"/"+it.Name, plan.Delete, stepPrune, nil, nil), r)
			}
			if it.Action != plan.Delete {
				b.name(r)
			}
		}
		if len(c.want) > 0 && len(add) == 0 {
			b.p.Add(b.change("group-role-binding", label, plan.NoOp, stepBindings, nil, nil))
		}
		if len(add) > 0 {
			b.p.Add(b.change("group-role-binding", label, plan.Update, stepBindings,
				[]plan.FieldDiff{{Field: "roles", Old: c.have, New: append(slices.Clone(c.have), add...)}},
				bindRoles{Group: g.Name, Client: c.client, Roles: add}))
		}
		if len(drop) > 0 {
			// The file's list is the group's list: the roles it no
			// longer names go without --prune.
			b.p.Add(b.change("group-role-binding", label, plan.Update, stepPrune,
				[]plan.FieldDiff{{Field: "roles", Old: sortedCopy(c.have), New: sortedCopy(without(c.have, drop))}}, unbindRoles{Group: g.Name, Client: c.client, Roles: drop}))
		}
	}
}

// createGroup creates a group under its parent (created in an earlier
// step) and records its id; one that appeared meanwhile is adopted.
type createGroup struct{ Path string }

func (o createGroup) apply(ctx context.Context, x *executor) error {
	parent, name := "", o.Path
	if i := strings.LastIndex(o.Path, "/"); i >= 0 {
		parent, name = o.Path[:i], o.Path[i+1:]
	}
	endpoint := x.path("groups")
	if parent != "" {
		pid, err := x.groupID(ctx, parent)
		if err != nil {
			return err
		}
		endpoint = x.path("groups", esc(pid), "children")
	}
	id, err := x.a.create(ctx, endpoint, map[string]any{"name": name})
	if IsConflict(err) {
		var g groupRep
		if err = x.a.get(ctx, x.path("group-by-path", escPath(o.Path)), &g); err == nil {
			id = g.ID
		}
	}
	if err != nil {
		return err
	}
	x.ids.Set(groupRef(o.Path), id)
	return nil
}

// deleteGroup deletes a group with its subgroups.
type deleteGroup struct{ Path, ID string }

func (o deleteGroup) apply(ctx context.Context, x *executor) error {
	return ignoreNotFound(x.a.do(ctx, http.MethodDelete, x.path("groups", esc(o.ID)), nil, nil))
}

func escPath(p string) string {
	parts := strings.Split(p, "/")
	for i := range parts {
		parts[i] = esc(parts[i])
	}
	return strings.Join(parts, "/")
}

// bindRoles grants a group roles of the realm (Client "") or of a client.
type bindRoles struct {
	Group, Client string
	Roles         []string
}

func (o bindRoles) apply(ctx context.Context, x *executor) error {
	return x.roleMappings(ctx, http.MethodPost, o.Group, o.Client, o.Roles)
}

// unbindRoles takes roles away from a group.
type unbindRoles bindRoles

func (o unbindRoles) apply(ctx context.Context, x *executor) error {
	return x.roleMappings(ctx, http.MethodDelete, o.Group, o.Client, o.Roles)
}

// roleMappings adds (POST) or removes (DELETE) a group's role mappings.
// Keycloak needs each role's id and name.
func (x *executor) roleMappings(ctx context.Context, method, group, client string, names []string) error {
	gid, err := x.groupID(ctx, group)
	if err != nil {
		return err
	}
	ep := x.path("groups", esc(gid), "role-mappings", "realm")
	if client != "" {
		uuid, err := x.clientUUID(ctx, client)
		if err != nil {
			return err
		}
		ep = x.path("groups", esc(gid), "role-mappings", "clients", esc(uuid))
	}
	roles := make([]gocloak.Role, 0, len(names))
	for _, n := range names {
		r, err := x.role(ctx, client, n)
		if err != nil {
			return err
		}
		roles = append(roles, r)
	}
	_, err = x.a.do(ctx, method, ep, roles, nil)
	return err
}

// without returns list without the items of drop.
func without(list, drop []string) []string {
	out := []string{}
	for _, s := range list {
		if !slices.Contains(drop, s) {
			out = append(out, s)
		}
	}
	return out
}

// sortedCopy returns list sorted, for a plan that reads the same whatever
// order the server listed it in.
func sortedCopy(list []string) []string {
	out := slices.Clone(list)
	slices.Sort(out)
	return out
}
