package keycloak

import (
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
			adopted = func(name string) bool { _, made := b.rec[scopeOwner(it.Name).ref(name)]; return !made }
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
