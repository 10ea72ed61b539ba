package keycloak

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"

	"github.com/Nerzal/gocloak/v13"

	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
)

// Client scope attribute keys ssoctl manages.
const (
	AttrIncludeInTokenScope = "include.in.token.scope"
	AttrDisplayOnConsent    = "display.on.consent.screen"
	AttrConsentText         = "consent.screen.text"
)

// adoptedScopeMapper is the ownership record's kind for a built-in scope's
// mapper that the file changed: export writes it, prune never deletes it.
const adoptedScopeMapper = "scope-mapper-adopted"

// serviceAccountScope is the scope Keycloak assigns to every client with a
// service account, and takes away with it: ssoctl leaves it to Keycloak.
const serviceAccountScope = "service_account"

// DesiredScope is a client scope as the file wants it.
type DesiredScope struct {
	Name        string
	Protocol    string
	Description *string
	// Attributes holds only the managed attribute keys.
	Attributes map[string]string
	Mappers    []Mapper
	// ScopeMappings nil is unmanaged.
	ScopeMappings *RoleSet
	// Builtin scopes are Keycloak's own: adopted, never deleted.
	Builtin bool
}

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

// ExpandScope turns an sso.yaml client scope into its desired state.
func ExpandScope(sc spec.ClientScope) DesiredScope {
	_, builtin := spec.BuiltinClientScopes[sc.Name]
	d := DesiredScope{Name: sc.Name, Protocol: sc.Protocol, Attributes: map[string]string{}, ScopeMappings: roleSet(sc.ScopeMappings), Builtin: builtin}
	if d.Protocol == "" {
		d.Protocol = spec.ProtocolOIDC
	}
	if sc.Description != "" {
		d.Description = &sc.Description
	}
	if sc.IncludeInTokenScope != nil {
		d.Attributes[AttrIncludeInTokenScope] = boolStr(*sc.IncludeInTokenScope)
	}
	if sc.DisplayOnConsent != nil {
		d.Attributes[AttrDisplayOnConsent] = boolStr(*sc.DisplayOnConsent)
	}
	if sc.ConsentText != nil {
		d.Attributes[AttrConsentText] = *sc.ConsentText
	}
	maps.Copy(d.Attributes, sc.Attributes)
	for _, m := range sc.Mappers {
		d.Mappers = append(d.Mappers, ExpandMapper(m, "", d.Protocol))
	}
	return d
}

// Scope is a client scope as the realm has it.
type Scope struct {
	ID          string                                 `json:"id"`
	Name        string                                 `json:"name"`
	Protocol    string                                 `json:"protocol"`
	Description string                                 `json:"description"`
	Attributes  map[string]string                      `json:"attributes"`
	Mappers     []gocloak.ProtocolMapperRepresentation `json:"protocolMappers"`
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

// usesScopes reports whether planning d needs the realm's client scopes.
func (d *Desired) usesScopes() bool {
	if len(d.ClientScopes) > 0 || d.DefaultScopes != nil || d.OptionalScopes != nil {
		return true
	}
	return slices.ContainsFunc(d.Clients, func(c DesiredClient) bool { return c.DefaultScopes != nil || c.OptionalScopes != nil })
}

// clientScopes plans the file's client scopes with their mappers. Keycloak's
// built-in scopes are adopted by name and never deleted; other scopes the
// file does not name are pruned when ssoctl created or adopted them.
func (b *builder) clientScopes() {
	for _, it := range plan.Reconcile(plan.Set[DesiredScope, *Scope]{
		Want: b.d.ClientScopes, Have: b.st.ClientScopes,
		Name: func(d DesiredScope) string { return d.Name },
		Diff: scopeDiff,
		Ignore: func(name string, _ *Scope) bool {
			_, builtin := spec.BuiltinClientScopes[name]
			return builtin || b.d.Partial
		},
	}) {
		// A new realm comes with the built-in scopes: they are adopted once
		// it exists.
		withRealm := it.Action == plan.Create && it.Want.Builtin && !b.st.RealmExists
		switch {
		case it.Action == plan.Delete:
			b.extra(b.change("client-scope", it.Name, plan.Delete, stepPrune+2, nil, deleteScope{it.Name, it.Have.ID}), clientScopeRef(it.Name))
			continue
		case withRealm:
			fs := scopeDiff(it.Want, &Scope{Name: it.Name, Protocol: it.Want.Protocol})
			c := b.change("client-scope", it.Name, plan.NoOp, stepRoles, nil, nil)
			if len(fs) > 0 {
				c = b.change("client-scope", it.Name, plan.Update, stepRoles, fs, updateScope{it.Name, it.Want})
			}
			c.Note = "Keycloak's built-in scope, adopted when the realm exists"
			b.p.Add(c)
		case it.Action == plan.Create:
			body := scopeBody(it.Want)
			b.p.Add(b.change("client-scope", it.Name, plan.Create, stepRoles, createFields(body), createScope{it.Name, body}))
		case it.Action == plan.Update:
			b.p.Add(b.change("client-scope", it.Name, plan.Update, stepRoles, it.Fields, updateScope{it.Name, it.Want}))
		default:
			b.p.Add(b.change("client-scope", it.Name, plan.NoOp, stepRoles, nil, nil))
		}
		if !it.Want.Builtin {
			b.name(clientScopeRef(it.Name))
		}
		var have []gocloak.ProtocolMapperRepresentation
		if it.Have != nil {
			have = it.Have.Mappers
		}
		var adopted func(string) bool
		if it.Want.Builtin {
			adopted = func(name string) bool { return !b.st.Owned.Has(scopeOwner(it.Name).ref(name)) }
		}
		b.mapperSet(scopeOwner(it.Name), it.Want.Mappers, have, adopted, withRealm)
		b.scopeMappings(scopeOwner(it.Name), it.Want.ScopeMappings, it.Have == nil)
	}
}

// scopeBody renders the managed fields of a scope.
func scopeBody(d DesiredScope) map[string]any {
	body := map[string]any{"name": d.Name, "protocol": d.Protocol}
	if d.Description != nil {
		body["description"] = *d.Description
	}
	if len(d.Attributes) > 0 {
		body["attributes"] = d.Attributes
	}
	return body
}

func scopeDiff(d DesiredScope, cur *Scope) []plan.FieldDiff {
	var fs []plan.FieldDiff
	if cur.Protocol != d.Protocol {
		fs = append(fs, plan.FieldDiff{Field: "protocol", Old: cur.Protocol, New: d.Protocol})
	}
	if d.Description != nil {
		fs = plan.Diff(fs, "description", cur.Description, *d.Description)
	}
	for _, k := range slices.Sorted(maps.Keys(d.Attributes)) {
		fs = plan.Diff(fs, "attributes."+k, cur.Attributes[k], d.Attributes[k])
	}
	return fs
}

// scopeAssignments plans the default and optional scopes of one client of
// the file, as exact sets. A new client gets them in its create body.
func (b *builder) scopeAssignments(d DesiredClient, cur *gocloak.Client) {
	if cur == nil || (d.DefaultScopes == nil && d.OptionalScopes == nil) {
		return
	}
	o := assignScopes{Client: d.ClientID, Default: d.DefaultScopes, Optional: d.OptionalScopes}
	keep := func(s string) bool { return s == serviceAccountScope }
	fs := assignFields(o, "default_scopes", "optional_scopes",
		slices.DeleteFunc(slices.Clone(deref(cur.DefaultClientScopes)), keep), slices.DeleteFunc(slices.Clone(deref(cur.OptionalClientScopes)), keep))
	b.assignChange("client-scopes", d.ClientID, fs, o)
}

// realmScopes plans the realm's default and optional client scopes for new
// clients: exact sets within each protocol the file's lists name.
func (b *builder) realmScopes() {
	if b.d.DefaultScopes == nil && b.d.OptionalScopes == nil {
		return
	}
	o := assignScopes{Default: b.d.DefaultScopes, Optional: b.d.OptionalScopes}
	for _, s := range slices.Concat(b.d.DefaultScopes, b.d.OptionalScopes) {
		if p := b.scopeProtocol(s); p != "" && !slices.Contains(o.Protocols, p) {
			o.Protocols = append(o.Protocols, p)
		}
	}
	inScope := func(s string) bool { return !slices.Contains(o.Protocols, b.scopeProtocol(s)) }
	fs := assignFields(o, "default_client_scopes", "optional_client_scopes",
		slices.DeleteFunc(slices.Clone(b.st.RealmDefaultScopes), inScope), slices.DeleteFunc(slices.Clone(b.st.RealmOptionalScopes), inScope))
	c := b.assignChange("realm-client-scopes", "defaults", fs, o)
	if !b.st.RealmExists {
		c.Note = "replaces the new realm's own defaults"
	}
}

// assignFields shows what an assignment changes.
func assignFields(o assignScopes, dk, ok string, haveDef, haveOpt []string) []plan.FieldDiff {
	var fs []plan.FieldDiff
	if o.Default != nil {
		fs = plan.DiffSet(fs, dk, haveDef, o.Default)
	}
	if o.Optional != nil {
		fs = plan.DiffSet(fs, ok, haveOpt, o.Optional)
	}
	return fs
}

func (b *builder) assignChange(kind, name string, fs []plan.FieldDiff, o assignScopes) *plan.Change {
	c := b.change(kind, name, plan.NoOp, stepAssign, nil, nil)
	if len(fs) > 0 {
		c = b.change(kind, name, plan.Update, stepAssign, fs, o)
	}
	b.p.Add(c)
	return c
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

// scopeProtocol is the protocol of a scope the file or the realm defines,
// "" when neither does.
func (b *builder) scopeProtocol(name string) string {
	for _, d := range b.d.ClientScopes {
		if d.Name == name {
			return d.Protocol
		}
	}
	if s := b.st.ClientScopes[name]; s != nil {
		if s.Protocol == "" {
			return spec.ProtocolOIDC
		}
		return s.Protocol
	}
	return spec.BuiltinClientScopes[name]
}

// checkScopeNames refuses scope names that neither the file nor the realm
// defines: Keycloak ignores them without a word.
func (b *builder) checkScopeNames() error {
	check := func(key string, names []string) error {
		for i, s := range names {
			if b.scopeProtocol(s) == "" || (b.st.RealmExists && b.st.ClientScopes[s] == nil && !slices.ContainsFunc(b.d.ClientScopes, func(d DesiredScope) bool { return d.Name == s })) {
				return &InputError{Key: fmt.Sprintf("%s[%d]", key, i), Msg: fmt.Sprintf("no client scope %q in the file or in realm %s (Keycloak would ignore it)", s, b.d.Realm)}
			}
		}
		return nil
	}
	for _, l := range []struct {
		key   string
		names []string
	}{{"keycloak.default_client_scopes", b.d.DefaultScopes}, {"keycloak.optional_client_scopes", b.d.OptionalScopes}} {
		if err := check(l.key, l.names); err != nil {
			return err
		}
	}
	for _, c := range b.d.Clients {
		if err := check(c.Key+".default_scopes", c.DefaultScopes); err != nil {
			return err
		}
		if err := check(c.Key+".optional_scopes", c.OptionalScopes); err != nil {
			return err
		}
	}
	return nil
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

func clientScopeRef(name string) plan.Ref { return plan.Ref{Kind: "client-scope", Name: name} }

// createScope creates a client scope and records its id; one created by
// someone else since planning is adopted.
type createScope struct {
	Name string
	Body map[string]any
}

func (o createScope) apply(ctx context.Context, x *executor) error {
	id, err := x.a.create(ctx, x.path("client-scopes"), o.Body)
	if IsConflict(err) {
		id, err = x.lookupScope(ctx, o.Name)
	}
	if err != nil {
		return err
	}
	x.ids.Set(clientScopeRef(o.Name), id)
	return nil
}

// updateScope sets a scope's managed fields. It reads the scope first: a
// PUT replaces the attributes, so the unmanaged ones go back as they are,
// and a built-in scope of a realm created in this apply has no id yet.
type updateScope struct {
	Name string
	Want DesiredScope
}

func (o updateScope) apply(ctx context.Context, x *executor) error {
	id, err := x.scopeID(ctx, o.Name)
	if err != nil {
		return err
	}
	var cur map[string]any
	if err := x.a.get(ctx, x.path("client-scopes", esc(id)), &cur); err != nil {
		return err
	}
	attrs, _ := cur["attributes"].(map[string]any)
	if attrs == nil {
		attrs = map[string]any{}
	}
	for k, v := range o.Want.Attributes {
		attrs[k] = v
	}
	cur["attributes"] = attrs
	cur["protocol"] = o.Want.Protocol
	if o.Want.Description != nil {
		cur["description"] = *o.Want.Description
	}
	delete(cur, "protocolMappers") // mappers are planned one by one
	_, err = x.a.do(ctx, http.MethodPut, x.path("client-scopes", esc(id)), cur, nil)
	return err
}

type deleteScope struct{ Name, ID string }

func (o deleteScope) apply(ctx context.Context, x *executor) error {
	return ignoreNotFound(x.a.do(ctx, http.MethodDelete, x.path("client-scopes", esc(o.ID)), nil, nil))
}

// assignScopes makes a client's (Client set) or the realm's (Client "")
// default and optional scopes the exact sets Default and Optional (nil:
// unmanaged). The delta is taken against what the server has when it is
// applied (a realm created in this apply has its own defaults by then):
// removals first, since Keycloak keeps a scope in one list only. The realm's
// lists are managed within Protocols; a client's service_account scope is
// Keycloak's.
type assignScopes struct {
	Client            string
	Default, Optional []string
	Protocols         []string
}

func (o assignScopes) apply(ctx context.Context, x *executor) error {
	base := func(kind string) (string, error) {
		if o.Client == "" {
			return x.path("default-" + kind + "-client-scopes"), nil
		}
		uuid, err := x.clientUUID(ctx, o.Client)
		if err != nil {
			return "", err
		}
		return x.path("clients", esc(uuid), kind+"-client-scopes"), nil
	}
	lists := map[string][]Scope{}
	for _, kind := range []string{"default", "optional"} {
		path, err := base(kind)
		if err != nil {
			return err
		}
		var have []Scope
		if err := x.a.get(ctx, path, &have); err != nil {
			return err
		}
		lists[kind] = slices.DeleteFunc(have, func(s Scope) bool {
			if o.Client != "" {
				return s.Name == serviceAccountScope
			}
			return !slices.Contains(o.Protocols, cmp.Or(s.Protocol, spec.ProtocolOIDC))
		})
	}
	names := func(ss []Scope) []string {
		var out []string
		for _, s := range ss {
			out = append(out, s.Name)
		}
		return out
	}
	want := map[string][]string{"default": o.Default, "optional": o.Optional}
	// What leaves a list: what a managed list does not want, and what the
	// other list wants.
	for _, kind := range []string{"default", "optional"} {
		other := map[string]string{"default": "optional", "optional": "default"}[kind]
		path, err := base(kind)
		if err != nil {
			return err
		}
		for _, s := range lists[kind] {
			if (want[kind] != nil && !slices.Contains(want[kind], s.Name)) || slices.Contains(want[other], s.Name) {
				if err := ignoreNotFound(x.a.do(ctx, http.MethodDelete, path+"/"+esc(s.ID), nil, nil)); err != nil {
					return err
				}
			}
		}
	}
	for _, kind := range []string{"default", "optional"} {
		path, err := base(kind)
		if err != nil {
			return err
		}
		have := names(lists[kind])
		for _, name := range want[kind] {
			if slices.Contains(have, name) {
				continue
			}
			id, err := x.scopeID(ctx, name)
			if err != nil {
				return err
			}
			if _, err := x.a.do(ctx, http.MethodPut, path+"/"+esc(id), nil, nil); err != nil {
				return err
			}
		}
	}
	return nil
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

// scopeID returns the id of a client scope, created in this apply or not.
func (x *executor) scopeID(ctx context.Context, name string) (string, error) {
	if id, ok := x.ids.Get(clientScopeRef(name)); ok {
		return id, nil
	}
	return x.lookupScope(ctx, name)
}

// lookupScope finds a client scope's id by name (one listing records them
// all).
func (x *executor) lookupScope(ctx context.Context, name string) (string, error) {
	var scopes []Scope
	if err := x.a.get(ctx, x.path("client-scopes"), &scopes); err != nil {
		return "", err
	}
	found := ""
	for _, s := range scopes {
		x.ids.Set(clientScopeRef(s.Name), s.ID)
		if s.Name == name {
			found = s.ID
		}
	}
	if found == "" {
		return "", notFound("client scope %q in realm %q", name, x.realm)
	}
	return found, nil
}

// readScopes lists the realm's client scopes, then reads the scope mappings
// of the scopes asked for (clients' are read after the client listing).
func (r *reader) readScopes(o ReadOptions) error {
	var scopes []*Scope
	if err := r.get("/"+esc(r.realm)+"/client-scopes", &scopes); err != nil {
		return err
	}
	r.mu.Lock()
	for _, s := range scopes {
		r.st.ClientScopes[s.Name] = s
	}
	r.mu.Unlock()
	owners := o.ScopeMappingsOf
	if o.AllScopeMappings {
		for name := range r.st.ClientScopes {
			if _, builtin := spec.BuiltinClientScopes[name]; !builtin {
				owners = append(owners, scopeOwner(name))
			}
		}
	}
	for _, ow := range owners {
		if s := r.st.ClientScopes[ow.Name]; ow.Scope && s != nil {
			r.spawn(func() error { return r.readScopeMappings(ow, s.ID) })
		}
	}
	return nil
}

// readRealmScopes reads the realm's default and optional scopes for new
// clients.
func (r *reader) readRealmScopes() {
	for _, kind := range []string{"default", "optional"} {
		r.spawn(func() error {
			var scopes []Scope
			if err := r.get("/"+esc(r.realm)+"/default-"+kind+"-client-scopes", &scopes); err != nil {
				return err
			}
			names := []string{}
			for _, s := range scopes {
				names = append(names, s.Name)
			}
			r.mu.Lock()
			defer r.mu.Unlock()
			if kind == "default" {
				r.st.RealmDefaultScopes = names
			} else {
				r.st.RealmOptionalScopes = names
			}
			return nil
		})
	}
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
