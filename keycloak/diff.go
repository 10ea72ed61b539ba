package keycloak

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/Nerzal/gocloak/v13"

	"github.com/ssoctl/ssoctl/plan"
)

// Steps of the Keycloak phase: every change of a lower step is applied
// before any of a higher one.
const (
	stepRealm       = 0
	stepRecord      = 1  // the ownership record, before anything it lists is created
	stepRoles       = 2  // realm roles, client scopes, the user profile
	stepClients     = 3  // clients (a new one names its scopes)
	stepClientParts = 4  // client roles, mappers of clients and scopes
	stepAssign      = 5  // scope assignments, scope mappings (they name roles)
	stepGroups      = 10 // + depth: parents before children
	stepBindings    = 100
	stepUsers       = 101
	stepMembership  = 102
	stepPrune       = 200 // client parts, bindings, memberships; groups +1; clients and realm roles +2
	stepRecordAfter = 210 // the ownership record without what was pruned
)

// DiffOptions tune Diff.
type DiffOptions struct {
	// ForApply makes a missing password an error instead of a warning.
	ForApply bool
}

// Diff computes the changes that make the realm read into st match d. It
// makes no request: every change carries its operation as data (Change.Op),
// and Admin.Plan binds them to a server. Objects the file does not name are
// prunable when ssoctl created or adopted them (st.Owned), and listed as
// unmanaged otherwise. The ownership record is updated to cover every
// object the file names.
func Diff(d *Desired, st *State, o DiffOptions) (*plan.Plan, error) {
	b := &builder{d: d, st: st, o: o, p: &plan.Plan{}, named: plan.Owned{}, pruned: plan.Owned{}, dropped: plan.Owned{}}
	b.ownership()
	b.p.Warnings = append(b.p.Warnings, st.Warnings...)
	b.realm()
	if !d.Partial {
		if err := b.realmSettings(); err != nil {
			return nil, err
		}
		if err := b.requiredActions(); err != nil {
			return nil, err
		}
	}
	if d.usesScopes() {
		if err := b.checkScopeNames(); err != nil {
			return nil, err
		}
	}
	if !d.Partial {
		b.userProfile()
		b.realmRoles()
		b.clientScopes()
		b.realmScopes()
	}
	b.clients()
	if !d.Partial {
		if err := b.flows(); err != nil {
			return nil, err
		}
		if err := b.identityProviders(); err != nil {
			return nil, err
		}
	}
	if err := b.checkClientFlows(); err != nil {
		return nil, err
	}
	if !d.Partial {
		if err := b.federations(); err != nil {
			return nil, err
		}
		b.groups()
		if err := b.users(); err != nil {
			return nil, err
		}
	}
	if err := b.conflictError(); err != nil {
		return nil, err
	}
	b.record()
	return b.p, nil
}

// builder accumulates one Diff.
type builder struct {
	d  *Desired
	st *State
	o  DiffOptions
	p  *plan.Plan
	// named holds every object the file names; pruned the owned objects
	// that prunable deletions remove; dropped the owned parts of named
	// objects that the file no longer lists (removed without --prune).
	named, pruned, dropped plan.Owned
	// rec is the realm's ownership record, mine the part of it that
	// this file's owner may prune, and conflicts the objects the file
	// names that another owner owns.
	rec       plan.Record
	mine      plan.Owned
	conflicts []plan.Ref
}

// change makes a change of an object in the realm.
func (b *builder) change(kind, name string, action plan.Action, step int, fields []plan.FieldDiff, o op) *plan.Change {
	return plan.NewChange("keycloak", plan.PhaseKeycloak, step, kind, b.d.Realm+"/"+name, action, fields, o)
}

// name records that the file names r. An object another owner owns is a
// conflict, unless the file adopts from that owner.
func (b *builder) name(r plan.Ref) {
	b.named[r] = true
	if b.d.claimant().Refuses(b.rec[r]) {
		b.conflicts = append(b.conflicts, r)
	}
}

// extra files the deletion c of an object the file does not name: prunable
// when this file's owner owns r, listed with its owner when another owns
// it, and as unmanaged otherwise.
func (b *builder) extra(c *plan.Change, r plan.Ref) {
	if b.mine[r] {
		b.pruned[r] = true
		b.p.AddExtra(c, true)
		return
	}
	b.leaveAlone(c, r)
}

// drop files the removal of a part r (a membership, a mapper) of an object
// the file still declares, which the file no longer lists: update, a
// change of that object, is applied without --prune when this file's owner
// owns the part; otherwise the part (the deletion part) is left alone.
func (b *builder) drop(r plan.Ref, update, part *plan.Change) {
	if b.mine[r] {
		b.dropped[r] = true
		b.p.Add(update)
		return
	}
	b.leaveAlone(part, r)
}

// leaveAlone lists an object that is not this file's to remove: with its
// owner when the record names one, as unmanaged otherwise.
func (b *builder) leaveAlone(c *plan.Change, r plan.Ref) {
	o, recorded := b.rec[r]
	switch {
	case !recorded:
		b.p.AddExtra(c, false)
	case o == "":
		b.p.AddOthers(c, plan.Unowned)
	default:
		b.p.AddOthers(c, o)
	}
}

// ownership splits the realm's record: mine is what this file's owner
// owns, with the unowned objects when the file adopts them. Objects the
// file names join it as they are named.
func (b *builder) ownership() {
	b.rec = b.st.Record
	if b.rec == nil {
		// A state built without a record (tests): its owned objects
		// have no owner.
		b.rec = plan.Record{}
		for r := range b.st.Owned {
			b.rec[r] = ""
		}
	}
	b.mine = plan.Owned{}
	for r, o := range b.rec {
		if b.d.claimant().Prunes(o) {
			b.mine[r] = true
		}
	}
}

// conflictError refuses a file that names objects another owner owns.
func (b *builder) conflictError() error {
	if len(b.conflicts) == 0 {
		return nil
	}
	refs := plan.Owned{}
	for _, r := range b.conflicts {
		refs[r] = true
	}
	var objects, owners []string
	for _, r := range refs.Sorted() {
		objects = append(objects, fmt.Sprintf("%s (owned by %s)", r, b.rec[r]))
		owners = append(owners, b.rec[r])
	}
	return &InputError{Key: "owner", Msg: "realm " + b.d.Realm + ": " + b.d.claimant().Conflict("objects", objects, owners)}
}

// The refs that name Keycloak objects, in the ownership record and in the
// id registry.
func realmRoleRef(name string) plan.Ref  { return plan.Ref{Kind: "realm-role", Name: name} }
func clientRef(clientID string) plan.Ref { return plan.Ref{Kind: "client", Name: clientID} }
func clientRoleRef(clientID, r string) plan.Ref {
	return plan.Ref{Kind: "client-role", Scope: clientID, Name: r}
}
func mapperRef(clientID, name string) plan.Ref {
	return plan.Ref{Kind: "mapper", Scope: clientID, Name: name}
}
func groupRef(path string) plan.Ref    { return plan.Ref{Kind: "group", Name: path} }
func userRef(username string) plan.Ref { return plan.Ref{Kind: "user", Name: username} }
func userGroupRef(username, group string) plan.Ref {
	return plan.Ref{Kind: "user-group", Scope: username, Name: group}
}

// bindingRef names one role bound to a group; client is "" for realm roles.
// A client's id and the role are joined by a newline, which neither holds.
func bindingRef(group, client, role string) plan.Ref {
	if client == "" {
		return plan.Ref{Kind: "group-realm-role", Scope: group, Name: role}
	}
	return plan.Ref{Kind: "group-client-role", Scope: group, Name: client + "\n" + role}
}

// record plans the ownership record. Without --prune it only grows: every
// object the file names is added before anything is created. With --prune
// it is written again after the deletions, without the deleted objects and
// without those that no longer exist.
//
// The record holds every owner's objects; this file writes only its own
// owner's entries (writeRecord merges them into the record as it is then).
// The parts the file drops (b.dropped) leave the record after their
// removal, without --prune too.
func (b *builder) record() {
	start := b.mine.Union(b.named)
	if !b.rec.With(b.d.Owner, start).Equal(b.rec) {
		b.p.Add(b.recordChange(b.mine, start, stepRecord))
	}
	kept := plan.Owned{}
	for r := range start {
		if !b.dropped[r] {
			kept[r] = true
		}
	}
	if !kept.Equal(start) {
		b.p.Add(b.recordChange(start, kept, stepRecordAfter-1))
	}
	if b.d.Partial {
		return
	}
	after := plan.Owned{}
	for r := range kept {
		if !b.pruned[r] && (b.named[r] || !b.gone(r)) {
			after[r] = true
		}
	}
	if !after.Equal(kept) {
		b.p.AfterPrune = append(b.p.AfterPrune, b.recordChange(kept, after, stepRecordAfter))
	}
}

func (b *builder) recordChange(old, nw plan.Owned, step int) *plan.Change {
	action := plan.Update
	if len(b.rec) == 0 {
		action = plan.Create
	}
	return plan.NewChange("keycloak", plan.PhaseKeycloak, step, "ownership-record", b.d.Realm+" attribute "+OwnershipAttribute, action,
		[]plan.FieldDiff{{Field: b.ownerField(), Old: countOrNil(old), New: len(nw)}},
		writeRecord{Claimant: b.d.claimant(), Mine: nw})
}

// ownerField names the record's field a change writes: the owner's
// objects.
func (b *builder) ownerField() string {
	if b.d.Owner == "" {
		return "objects"
	}
	return "objects of " + b.d.Owner
}

func countOrNil(o plan.Owned) any {
	if len(o) == 0 {
		return nil
	}
	return len(o)
}

// gone reports whether the state shows that r no longer exists (deleted by
// hand, or with its parent). Refs the state cannot tell about are kept.
func (b *builder) gone(r plan.Ref) bool {
	st := b.st
	switch r.Kind {
	case "realm-role":
		return st.RealmRoles[r.Name] == nil
	case "client":
		return st.Clients[r.Name] == nil
	case "client-role":
		if st.Clients[r.Scope] == nil {
			return true
		}
		roles, read := st.ClientRoles[r.Scope]
		return read && roles[r.Name] == nil
	case "mapper":
		c := st.Clients[r.Scope]
		if c == nil {
			return true
		}
		return !slices.ContainsFunc(deref(c.ProtocolMappers), func(m gocloak.ProtocolMapperRepresentation) bool { return deref(m.Name) == r.Name })
	case "group":
		return st.Groups[r.Name] == nil
	case "group-realm-role":
		g := st.Groups[r.Scope]
		return g == nil || !slices.Contains(g.RealmRoles, r.Name)
	case "group-client-role":
		g := st.Groups[r.Scope]
		client, role, _ := strings.Cut(r.Name, "\n")
		return g == nil || !slices.Contains(g.ClientRoles[client], role)
	case "user-group":
		// Memberships of users the file no longer names are never pruned.
		if !slices.ContainsFunc(b.d.Users, func(u DesiredUser) bool { return u.Username == r.Scope }) {
			return true
		}
		u := st.Users[r.Scope]
		return u != nil && !slices.Contains(u.Groups, r.Name)
	case "user":
		return false
	case "idp", "idp-mapper":
		return st.idpGone(r)
	case "flow":
		return st.Auth != nil && st.Auth.Flows[r.Name] == nil
	case "client-scope":
		return st.ClientScopes[r.Name] == nil
	case "authz-scope", "authz-resource", "authz-policy":
		return b.authzGone(r)
	case "scope-mapper", adoptedScopeMapper:
		s := st.ClientScopes[r.Scope]
		return s == nil || !slices.ContainsFunc(s.Mappers, func(m gocloak.ProtocolMapperRepresentation) bool { return deref(m.Name) == r.Name })
	}
	return false
}

// createFields lists the fields of a create body, attributes one by one.
func createFields(body map[string]any) []plan.FieldDiff {
	var fs []plan.FieldDiff
	for _, k := range slices.Sorted(maps.Keys(body)) {
		if attrs, ok := body[k].(map[string]string); ok {
			for _, ak := range slices.Sorted(maps.Keys(attrs)) {
				fs = append(fs, plan.FieldDiff{Field: "attributes." + ak, New: attrs[ak]})
			}
			continue
		}
		fs = append(fs, plan.FieldDiff{Field: k, New: body[k]})
	}
	return fs
}

// notFound is the error of an object an operation needs and cannot find.
func notFound(format string, args ...any) error {
	return &NotFoundError{What: fmt.Sprintf(format, args...)}
}
