package keycloak

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/Nerzal/gocloak/v13"

	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
)

// Execution stages: everything in a lower stage is applied first.
const (
	stageRealm       = 0
	stageRoles       = 1 // realm roles, clients
	stageClientParts = 2 // client roles, mappers
	stageGroups      = 3 // + depth: parents before children
	stageBindings    = 20
	stageUsers       = 21
	stageMembership  = 22
	stagePrune       = 30 // deletions, children before parents
)

// builtinClients are created by Keycloak in every realm; they are never
// pruned.
var builtinClients = map[string]bool{
	"account": true, "account-console": true, "admin-cli": true, "broker": true,
	"realm-management": true, "security-admin-console": true,
}

// PlanOptions tune planning.
type PlanOptions struct {
	// Getenv resolves password_env and friends; nil reads nothing.
	Getenv func(string) string
	// ForApply makes missing secrets an error instead of a warning.
	ForApply bool
}

// MissingSecretError names an environment variable that apply needs.
type MissingSecretError struct {
	Object string
	Env    string
}

func (e *MissingSecretError) Error() string {
	return fmt.Sprintf("%s needs $%s, which is not set", e.Object, e.Env)
}

// BadInput marks a missing secret as the caller's input problem (exit 2).
func (e *MissingSecretError) BadInput() bool { return true }

// ids tracks object ids while a plan is applied, starting from the state
// read at planning time and growing as objects are created.
type ids struct {
	mu          sync.Mutex
	a           *Admin
	realm       string
	clients     map[string]string // clientId -> uuid
	groups      map[string]string // path -> id
	users       map[string]string // username -> id
	realmRoles  map[string]*gocloak.Role
	clientRoles map[string]map[string]*gocloak.Role
}

func (x *ids) clientUUID(cid string) (string, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if id, ok := x.clients[cid]; ok {
		return id, nil
	}
	return "", &NotFoundError{What: fmt.Sprintf("client %q in realm %q", cid, x.realm)}
}

func (x *ids) set(m map[string]string, k, v string) {
	x.mu.Lock()
	m[k] = v
	x.mu.Unlock()
}

func (x *ids) get(m map[string]string, k string) string {
	x.mu.Lock()
	defer x.mu.Unlock()
	return m[k]
}

// clientUUIDOrLookup resolves a client that the file does not manage.
func (x *ids) clientUUIDOrLookup(ctx context.Context, cid string) (string, error) {
	if id, err := x.clientUUID(cid); err == nil {
		return id, nil
	}
	var found []gocloak.Client
	if err := x.a.get(ctx, "/"+esc(x.realm)+"/clients?clientId="+url.QueryEscape(cid), &found); err != nil {
		return "", err
	}
	for _, c := range found {
		if deref(c.ClientID) == cid {
			x.set(x.clients, cid, deref(c.ID))
			return deref(c.ID), nil
		}
	}
	return "", &NotFoundError{What: fmt.Sprintf("client %q in realm %q", cid, x.realm)}
}

// role returns a role representation with both id and name (Keycloak
// refuses a binding that lacks either), reading it when it was created
// during this apply.
func (x *ids) role(ctx context.Context, clientID, name string) (gocloak.Role, error) {
	x.mu.Lock()
	var r *gocloak.Role
	if clientID == "" {
		r = x.realmRoles[name]
	} else if m := x.clientRoles[clientID]; m != nil {
		r = m[name]
	}
	x.mu.Unlock()
	if r != nil && r.ID != nil {
		return gocloak.Role{ID: r.ID, Name: r.Name}, nil
	}
	var path string
	if clientID == "" {
		path = "/" + esc(x.realm) + "/roles/" + esc(name)
	} else {
		uuid, err := x.clientUUIDOrLookup(ctx, clientID)
		if err != nil {
			return gocloak.Role{}, err
		}
		path = "/" + esc(x.realm) + "/clients/" + esc(uuid) + "/roles/" + esc(name)
	}
	var got gocloak.Role
	if err := x.a.get(ctx, path, &got); err != nil {
		if IsNotFound(err) {
			where := "realm " + x.realm
			if clientID != "" {
				where = "client " + clientID
			}
			return got, &NotFoundError{What: fmt.Sprintf("role %q of %s", name, where)}
		}
		return got, err
	}
	x.mu.Lock()
	if clientID == "" {
		x.realmRoles[name] = &got
	} else {
		if x.clientRoles[clientID] == nil {
			x.clientRoles[clientID] = map[string]*gocloak.Role{}
		}
		x.clientRoles[clientID][name] = &got
	}
	x.mu.Unlock()
	return gocloak.Role{ID: got.ID, Name: got.Name}, nil
}

// Plan reads the realm named in k and returns the changes that make it match
// the file. Deletions that only --prune would make are in the plan's
// Prunable list.
func (a *Admin) Plan(ctx context.Context, k *spec.Keycloak, o PlanOptions) (*plan.Plan, *State, error) {
	getenv := o.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	ro := ReadOptions{}
	for _, c := range k.Clients {
		ro.ClientRoles = append(ro.ClientRoles, c.ClientID)
	}
	for _, u := range k.Users {
		ro.Users = append(ro.Users, u.Username)
		ro.UserProfile = ro.UserProfile || len(u.Attributes) > 0
	}
	st, err := a.ReadState(ctx, k.Realm, ro)
	if err != nil {
		return nil, nil, err
	}
	if !st.RealmExists && !k.CreateRealm {
		return nil, st, &NotFoundError{What: fmt.Sprintf("realm %q on %s (set create_realm: true to create it)", k.Realm, a.base)}
	}
	x := &ids{a: a, realm: k.Realm, clients: map[string]string{}, groups: map[string]string{}, users: map[string]string{},
		realmRoles: st.RealmRoles, clientRoles: st.ClientRoles}
	for cid, c := range st.Clients {
		x.clients[cid] = deref(c.ID)
	}
	for p, g := range st.Groups {
		x.groups[p] = g.ID
	}
	for name, u := range st.Users {
		x.users[name] = deref(u.Rep.ID)
	}
	pb := &planBuilder{ctx: ctx, a: a, k: k, st: st, x: x, p: &plan.Plan{}, getenv: getenv, forApply: o.ForApply, realm: k.Realm}
	if err := pb.build(); err != nil {
		return nil, st, err
	}
	return pb.p, st, nil
}

type planBuilder struct {
	ctx      context.Context // for the reads planning makes
	a        *Admin
	k        *spec.Keycloak
	st       *State
	x        *ids
	p        *plan.Plan
	getenv   func(string) string
	forApply bool
	realm    string
}

func (b *planBuilder) path(parts ...string) string {
	var sb strings.Builder
	sb.WriteString("/" + esc(b.realm))
	for _, p := range parts {
		sb.WriteString("/" + p)
	}
	return sb.String()
}

func (b *planBuilder) change(kind, name string, action plan.Action, stage int, fields []plan.FieldDiff, apply func(context.Context) error) *plan.Change {
	c := &plan.Change{System: "keycloak", Kind: kind, Name: b.realm + "/" + name, Action: action, Stage: stage, Fields: fields}
	if action != plan.NoOp {
		c.Apply = apply
	}
	return c
}

func (b *planBuilder) build() error {
	a := b.a
	// The realm.
	if !b.st.RealmExists {
		b.p.Add(&plan.Change{System: "keycloak", Kind: "realm", Name: b.realm, Action: plan.Create, Stage: stageRealm,
			Fields: []plan.FieldDiff{{Field: "enabled", New: true}},
			Apply: func(ctx context.Context) error {
				_, err := a.do(ctx, http.MethodPost, "", map[string]any{"realm": b.realm, "enabled": true}, nil)
				if IsConflict(err) {
					return nil // created meanwhile: adopt
				}
				return err
			}})
	} else {
		b.p.Add(&plan.Change{System: "keycloak", Kind: "realm", Name: b.realm, Action: plan.NoOp})
	}

	b.userProfile()

	// Realm roles.
	for _, r := range b.k.RealmRoles {
		name := r
		if _, ok := b.st.RealmRoles[name]; ok {
			b.p.Add(b.change("realm-role", name, plan.NoOp, stageRoles, nil, nil))
			continue
		}
		b.p.Add(b.change("realm-role", name, plan.Create, stageRoles, nil, func(ctx context.Context) error {
			_, err := a.do(ctx, http.MethodPost, b.path("roles"), map[string]any{"name": name}, nil)
			if IsConflict(err) {
				return nil
			}
			return err
		}))
	}
	for name := range b.st.RealmRoles {
		if !slices.Contains(b.k.RealmRoles, name) && !defaultRealmRole(b.realm, name) && !b.roleUsedByGroups(name) {
			n := name
			b.p.Prunable = append(b.p.Prunable, b.change("realm-role", n, plan.Delete, stagePrune+2, nil, func(ctx context.Context) error {
				return ignoreNotFound(a.do(ctx, http.MethodDelete, b.path("roles", esc(n)), nil, nil))
			}))
		}
	}

	// Clients, their roles and mappers.
	for _, sc := range b.k.Clients {
		b.client(ExpandClient(sc))
	}
	for cid, c := range b.st.Clients {
		if b.k.Client(cid) != nil || isBuiltinClient(b.realm, cid) {
			continue
		}
		uuid := deref(c.ID)
		b.p.Prunable = append(b.p.Prunable, b.change("client", cid, plan.Delete, stagePrune+2, nil, func(ctx context.Context) error {
			return ignoreNotFound(a.do(ctx, http.MethodDelete, b.path("clients", esc(uuid)), nil, nil))
		}))
	}

	// Groups, parents first, then their role bindings.
	named := map[string]bool{}
	for _, g := range b.k.Groups {
		for _, p := range ancestors(g.Name) {
			named[p] = true
		}
	}
	paths := slices.Sorted(maps.Keys(named))
	for _, p := range paths {
		b.group(p)
	}
	for _, g := range b.k.Groups {
		b.bindings(g)
	}
	for p, g := range b.st.Groups {
		parent := p[:max(0, strings.LastIndex(p, "/"))]
		if named[p] || (parent != "" && !named[parent]) {
			continue // named, or removed along with an unnamed parent
		}
		id := g.ID
		b.p.Prunable = append(b.p.Prunable, b.change("group", p, plan.Delete, stagePrune+1, nil, func(ctx context.Context) error {
			return ignoreNotFound(a.do(ctx, http.MethodDelete, b.path("groups", esc(id)), nil, nil))
		}))
	}

	// Users.
	for _, u := range b.k.Users {
		if err := b.user(u); err != nil {
			return err
		}
	}
	return nil
}

// userProfile lets admins set user attributes that the realm's user profile
// does not declare: since Keycloak 24 such attributes are dropped silently
// unless the unmanaged-attribute policy allows them.
func (b *planBuilder) userProfile() {
	needed := false
	for _, u := range b.k.Users {
		needed = needed || len(u.Attributes) > 0
	}
	if !needed {
		return
	}
	cur := b.st.UnmanagedAttributePolicy
	if cur == "ENABLED" || cur == "ADMIN_EDIT" {
		b.p.Add(b.change("user-profile", "unmanagedAttributePolicy", plan.NoOp, stageRoles, nil, nil))
		return
	}
	a := b.a
	b.p.Add(b.change("user-profile", "unmanagedAttributePolicy", plan.Update, stageRoles,
		[]plan.FieldDiff{{Field: "unmanagedAttributePolicy", Old: cur, New: "ADMIN_EDIT"}},
		func(ctx context.Context) error {
			var prof map[string]any
			if err := a.get(ctx, b.path("users", "profile"), &prof); err != nil {
				return err
			}
			prof["unmanagedAttributePolicy"] = "ADMIN_EDIT"
			_, err := a.do(ctx, http.MethodPut, b.path("users", "profile"), prof, nil)
			return err
		}))
}

// isBuiltinClient reports clients Keycloak creates itself: never pruned,
// never exported unless asked for.
func isBuiltinClient(realm, clientID string) bool {
	return builtinClients[clientID] || (realm == "master" && strings.HasSuffix(clientID, "-realm"))
}

func defaultRealmRole(realm, name string) bool {
	return name == "offline_access" || name == "uma_authorization" || name == "default-roles-"+realm || name == "admin" || name == "create-realm"
}

// roleUsedByGroups keeps realm roles that a named group binds from being
// pruned even when realm_roles does not list them.
func (b *planBuilder) roleUsedByGroups(name string) bool {
	for _, g := range b.k.Groups {
		if slices.Contains(g.RealmRoles, name) {
			return true
		}
	}
	return false
}

func ignoreNotFound(_ string, err error) error {
	if IsNotFound(err) {
		return nil
	}
	return err
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

// clientBody renders the managed fields of d as an admin-API body.
func clientBody(d DesiredClient) map[string]any {
	body := map[string]any{"clientId": d.ClientID, "protocol": d.Protocol}
	set := func(k string, v any, ok bool) {
		if ok {
			body[k] = v
		}
	}
	set("name", deref(d.Name), d.Name != nil)
	set("description", deref(d.Description), d.Description != nil)
	set("enabled", deref(d.Enabled), d.Enabled != nil)
	set("publicClient", deref(d.PublicClient), d.PublicClient != nil)
	set("bearerOnly", deref(d.BearerOnly), d.BearerOnly != nil)
	set("standardFlowEnabled", deref(d.StandardFlow), d.StandardFlow != nil)
	set("directAccessGrantsEnabled", deref(d.DirectGrants), d.DirectGrants != nil)
	set("serviceAccountsEnabled", deref(d.ServiceAccts), d.ServiceAccts != nil)
	set("rootUrl", deref(d.RootURL), d.RootURL != nil)
	set("baseUrl", deref(d.BaseURL), d.BaseURL != nil)
	set("redirectUris", d.RedirectURIs, d.RedirectURIs != nil)
	set("webOrigins", d.WebOrigins, d.WebOrigins != nil)
	attrs := maps.Clone(d.Attributes)
	if d.UserinfoSigned != nil {
		attrs[AttrUserinfoSignatureAlg] = userinfoAlg(*d.UserinfoSigned)
	}
	if len(attrs) > 0 {
		body["attributes"] = attrs
	}
	return body
}

// userinfoAlg is the attribute value for signed or plain userinfo. Unsigned
// is the empty string: Keycloak removes an attribute set to "" but ignores
// a JSON null.
func userinfoAlg(signed bool) string {
	if signed {
		return "RS256"
	}
	return ""
}

// clientDiff compares the managed fields of d with the current client.
func clientDiff(d DesiredClient, cur *gocloak.Client) []plan.FieldDiff {
	var fs []plan.FieldDiff
	cmpPtr := func(field string, want *string, have *string) {
		if want != nil {
			fs = plan.Diff(fs, field, deref(have), *want)
		}
	}
	cmpBool := func(field string, want *bool, have *bool) {
		if want != nil && deref(have) != *want {
			fs = append(fs, plan.FieldDiff{Field: field, Old: deref(have), New: *want})
		}
	}
	cmpSet := func(field string, want []string, have *[]string) {
		if want == nil {
			return
		}
		w, h := slices.Sorted(slices.Values(want)), slices.Sorted(slices.Values(deref(have)))
		w, h = slices.Compact(w), slices.Compact(h)
		fs = plan.Diff(fs, field, h, w)
	}
	if deref(cur.Protocol) != d.Protocol && !(d.Protocol == spec.ProtocolOIDC && deref(cur.Protocol) == "") {
		fs = append(fs, plan.FieldDiff{Field: "protocol", Old: deref(cur.Protocol), New: d.Protocol})
	}
	cmpPtr("name", d.Name, cur.Name)
	cmpPtr("description", d.Description, cur.Description)
	cmpBool("enabled", d.Enabled, cur.Enabled)
	cmpBool("publicClient", d.PublicClient, cur.PublicClient)
	cmpBool("bearerOnly", d.BearerOnly, cur.BearerOnly)
	cmpBool("standardFlowEnabled", d.StandardFlow, cur.StandardFlowEnabled)
	cmpBool("directAccessGrantsEnabled", d.DirectGrants, cur.DirectAccessGrantsEnabled)
	cmpBool("serviceAccountsEnabled", d.ServiceAccts, cur.ServiceAccountsEnabled)
	cmpPtr("rootUrl", d.RootURL, cur.RootURL)
	cmpPtr("baseUrl", d.BaseURL, cur.BaseURL)
	cmpSet("redirectUris", d.RedirectURIs, cur.RedirectURIs)
	cmpSet("webOrigins", d.WebOrigins, cur.WebOrigins)
	have := deref(cur.Attributes)
	for _, k := range sortedKeys(d.Attributes) {
		fs = plan.Diff(fs, "attributes."+k, have[k], d.Attributes[k])
	}
	if d.UserinfoSigned != nil {
		signed := have[AttrUserinfoSignatureAlg] != ""
		if signed != *d.UserinfoSigned {
			fs = append(fs, plan.FieldDiff{Field: "attributes." + AttrUserinfoSignatureAlg, Old: have[AttrUserinfoSignatureAlg], New: userinfoAlg(*d.UserinfoSigned)})
		}
	}
	return fs
}

func createFields(body map[string]any) []plan.FieldDiff {
	var fs []plan.FieldDiff
	for _, k := range sortedKeys(body) {
		if attrs, ok := body[k].(map[string]string); ok {
			for _, ak := range sortedKeys(attrs) {
				fs = append(fs, plan.FieldDiff{Field: "attributes." + ak, New: attrs[ak]})
			}
			continue
		}
		fs = append(fs, plan.FieldDiff{Field: k, New: body[k]})
	}
	return fs
}

func (b *planBuilder) client(d DesiredClient) {
	a, x := b.a, b.x
	cur := b.st.Clients[d.ClientID]
	body := clientBody(d)
	if cur == nil {
		b.p.Add(b.change("client", d.ClientID, plan.Create, stageRoles, createFields(body), func(ctx context.Context) error {
			id, err := a.create(ctx, b.path("clients"), body)
			if IsConflict(err) {
				// Created by someone else since planning: adopt it.
				id, err = x.clientUUIDOrLookup(ctx, d.ClientID)
			}
			if err != nil {
				return err
			}
			x.set(x.clients, d.ClientID, id)
			return nil
		}))
	} else {
		fields := clientDiff(d, cur)
		action := plan.NoOp
		if len(fields) > 0 {
			action = plan.Update
		}
		uuid := deref(cur.ID)
		// PUT merges: fields left out keep their value. protocolMappers stays
		// nil (a non-nil list would delete unlisted mappers), and
		// authorizationServicesEnabled is sent as it is (leaving it out turns
		// Authorization Services off and deletes their settings).
		body["id"] = uuid
		if deref(cur.AuthorizationServicesEnabled) {
			body["authorizationServicesEnabled"] = true
		}
		b.p.Add(b.change("client", d.ClientID, action, stageRoles, fields, func(ctx context.Context) error {
			_, err := a.do(ctx, http.MethodPut, b.path("clients", esc(uuid)), body, nil)
			return err
		}))
	}

	// Client roles.
	curRoles := b.st.ClientRoles[d.ClientID]
	for _, r := range d.Roles {
		name := r
		if _, ok := curRoles[name]; ok {
			b.p.Add(b.change("client-role", d.ClientID+"/"+name, plan.NoOp, stageClientParts, nil, nil))
			continue
		}
		b.p.Add(b.change("client-role", d.ClientID+"/"+name, plan.Create, stageClientParts, nil, func(ctx context.Context) error {
			uuid, err := x.clientUUID(d.ClientID)
			if err != nil {
				return err
			}
			_, err = a.do(ctx, http.MethodPost, b.path("clients", esc(uuid), "roles"), map[string]any{"name": name}, nil)
			if IsConflict(err) {
				return nil
			}
			return err
		}))
	}
	for name := range curRoles {
		if !slices.Contains(d.Roles, name) {
			n := name
			b.p.Prunable = append(b.p.Prunable, b.change("client-role", d.ClientID+"/"+n, plan.Delete, stagePrune, nil, func(ctx context.Context) error {
				uuid, err := x.clientUUID(d.ClientID)
				if err != nil {
					return err
				}
				return ignoreNotFound(a.do(ctx, http.MethodDelete, b.path("clients", esc(uuid), "roles", esc(n)), nil, nil))
			}))
		}
	}

	// Mappers, matched by name.
	var curMappers map[string]gocloak.ProtocolMapperRepresentation
	if cur != nil {
		curMappers = map[string]gocloak.ProtocolMapperRepresentation{}
		for _, m := range deref(cur.ProtocolMappers) {
			curMappers[deref(m.Name)] = m
		}
	}
	wanted := map[string]bool{}
	for _, m := range d.Mappers {
		wanted[m.Name] = true
		b.mapper(d.ClientID, m, curMappers)
	}
	for name, m := range curMappers {
		if wanted[name] {
			continue
		}
		id := deref(m.ID)
		b.p.Prunable = append(b.p.Prunable, b.change("mapper", d.ClientID+"/"+name, plan.Delete, stagePrune, nil, func(ctx context.Context) error {
			uuid, err := x.clientUUID(d.ClientID)
			if err != nil {
				return err
			}
			return ignoreNotFound(a.do(ctx, http.MethodDelete, b.path("clients", esc(uuid), "protocol-mappers", "models", esc(id)), nil, nil))
		}))
	}
}

// mapperBody renders a mapper for the admin API. It never carries an id:
// Keycloak 26 rejects non-UUID ids and assigns its own.
func mapperBody(m Mapper) map[string]any {
	return map[string]any{"name": m.Name, "protocol": m.Protocol, "protocolMapper": m.ProtocolMapper, "consentRequired": false, "config": m.Config}
}

func (b *planBuilder) mapper(clientID string, m Mapper, current map[string]gocloak.ProtocolMapperRepresentation) {
	a, x := b.a, b.x
	name := clientID + "/" + m.Name
	cur, exists := current[m.Name]
	if !exists {
		var fs []plan.FieldDiff
		fs = append(fs, plan.FieldDiff{Field: "protocolMapper", New: m.ProtocolMapper})
		for _, k := range sortedKeys(m.Config) {
			fs = append(fs, plan.FieldDiff{Field: "config." + k, New: m.Config[k]})
		}
		b.p.Add(b.change("mapper", name, plan.Create, stageClientParts, fs, func(ctx context.Context) error {
			uuid, err := x.clientUUID(clientID)
			if err != nil {
				return err
			}
			_, err = a.do(ctx, http.MethodPost, b.path("clients", esc(uuid), "protocol-mappers", "models"), mapperBody(m), nil)
			if IsConflict(err) {
				return fmt.Errorf("mapper %q appeared on client %q while applying; run apply again to adopt it: %w", m.Name, clientID, err)
			}
			return err
		}))
		return
	}
	var fs []plan.FieldDiff
	fs = plan.Diff(fs, "protocolMapper", deref(cur.ProtocolMapper), m.ProtocolMapper)
	have := deref(cur.Config)
	keys := map[string]bool{}
	for k := range have {
		keys[k] = true
	}
	for k := range m.Config {
		keys[k] = true
	}
	for _, k := range sortedKeys(keys) {
		hv, hok := have[k]
		wv, wok := m.Config[k]
		if hv != wv || hok != wok {
			var old, nw any
			if hok {
				old = hv
			}
			if wok {
				nw = wv
			}
			fs = append(fs, plan.FieldDiff{Field: "config." + k, Old: old, New: nw})
		}
	}
	if len(fs) == 0 {
		b.p.Add(b.change("mapper", name, plan.NoOp, stageClientParts, nil, nil))
		return
	}
	id := deref(cur.ID)
	typeChanged := deref(cur.ProtocolMapper) != m.ProtocolMapper
	b.p.Add(b.change("mapper", name, plan.Update, stageClientParts, fs, func(ctx context.Context) error {
		uuid, err := x.clientUUID(clientID)
		if err != nil {
			return err
		}
		models := b.path("clients", esc(uuid), "protocol-mappers", "models")
		if typeChanged {
			// A mapper's provider cannot change in place: replace it.
			if err := ignoreNotFound(a.do(ctx, http.MethodDelete, models+"/"+esc(id), nil, nil)); err != nil {
				return err
			}
			_, err := a.do(ctx, http.MethodPost, models, mapperBody(m), nil)
			return err
		}
		body := mapperBody(m)
		body["id"] = id
		_, err = a.do(ctx, http.MethodPut, models+"/"+esc(id), body, nil)
		return err
	}))
}

func (b *planBuilder) group(path string) {
	a, x := b.a, b.x
	if _, ok := b.st.Groups[path]; ok {
		b.p.Add(b.change("group", path, plan.NoOp, stageGroups, nil, nil))
		return
	}
	depth := strings.Count(path, "/")
	parent, name := "", path
	if i := strings.LastIndex(path, "/"); i >= 0 {
		parent, name = path[:i], path[i+1:]
	}
	b.p.Add(b.change("group", path, plan.Create, stageGroups+depth, nil, func(ctx context.Context) error {
		endpoint := b.path("groups")
		if parent != "" {
			pid := x.get(x.groups, parent)
			if pid == "" {
				return &NotFoundError{What: fmt.Sprintf("parent group %q", parent)}
			}
			endpoint = b.path("groups", esc(pid), "children")
		}
		id, err := a.create(ctx, endpoint, map[string]any{"name": name})
		if IsConflict(err) {
			var g groupRep
			if err = a.get(ctx, b.path("group-by-path", escPath(path)), &g); err == nil {
				id = g.ID
			}
		}
		if err != nil {
			return err
		}
		x.set(x.groups, path, id)
		return nil
	}))
}

func escPath(p string) string {
	parts := strings.Split(p, "/")
	for i := range parts {
		parts[i] = esc(parts[i])
	}
	return strings.Join(parts, "/")
}

// bindings plans the role bindings of one group: one change per container
// (the realm, or one client) that gains roles, and prunable removals.
func (b *planBuilder) bindings(g spec.Group) {
	a, x := b.a, b.x
	cur := b.st.Groups[g.Name]
	var haveRealm []string
	haveClient := map[string][]string{}
	if cur != nil {
		haveRealm = cur.RealmRoles
		haveClient = cur.ClientRoles
	}
	type container struct {
		client string // "" for the realm
		want   []string
		have   []string
	}
	cs := []container{{"", g.RealmRoles, haveRealm}}
	for _, cid := range sortedKeys(g.ClientRoles) {
		cs = append(cs, container{cid, g.ClientRoles[cid], haveClient[cid]})
	}
	for cid, have := range haveClient {
		if _, ok := g.ClientRoles[cid]; !ok {
			cs = append(cs, container{cid, nil, have})
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].client < cs[j].client })
	for _, c := range cs {
		var add, del []string
		for _, r := range c.want {
			if !slices.Contains(c.have, r) {
				add = append(add, r)
			}
		}
		for _, r := range c.have {
			if !slices.Contains(c.want, r) {
				del = append(del, r)
			}
		}
		label := g.Name + " realm-roles"
		if c.client != "" {
			label = g.Name + " " + c.client + "-roles"
		}
		if len(c.want) > 0 && len(add) == 0 {
			b.p.Add(b.change("group-role-binding", label, plan.NoOp, stageBindings, nil, nil))
		}
		endpoint := func(ctx context.Context) (string, error) {
			gid := x.get(x.groups, g.Name)
			if gid == "" {
				return "", &NotFoundError{What: fmt.Sprintf("group %q", g.Name)}
			}
			if c.client == "" {
				return b.path("groups", esc(gid), "role-mappings", "realm"), nil
			}
			uuid, err := x.clientUUIDOrLookup(ctx, c.client)
			if err != nil {
				return "", err
			}
			return b.path("groups", esc(gid), "role-mappings", "clients", esc(uuid)), nil
		}
		roles := func(ctx context.Context, names []string) ([]gocloak.Role, error) {
			out := make([]gocloak.Role, 0, len(names))
			for _, n := range names {
				r, err := x.role(ctx, c.client, n)
				if err != nil {
					return nil, err
				}
				out = append(out, r)
			}
			return out, nil
		}
		if len(add) > 0 {
			b.p.Add(b.change("group-role-binding", label, plan.Update, stageBindings,
				[]plan.FieldDiff{{Field: "roles", Old: c.have, New: append(slices.Clone(c.have), add...)}},
				func(ctx context.Context) error {
					ep, err := endpoint(ctx)
					if err != nil {
						return err
					}
					rs, err := roles(ctx, add)
					if err != nil {
						return err
					}
					_, err = a.do(ctx, http.MethodPost, ep, rs, nil)
					return err
				}))
		}
		if len(del) > 0 {
			b.p.Prunable = append(b.p.Prunable, b.change("group-role-binding", label, plan.Delete, stagePrune,
				[]plan.FieldDiff{{Field: "roles", Old: del}},
				func(ctx context.Context) error {
					ep, err := endpoint(ctx)
					if err != nil {
						return err
					}
					rs, err := roles(ctx, del)
					if err != nil {
						return err
					}
					_, err = a.do(ctx, http.MethodDelete, ep, rs, nil)
					return err
				}))
		}
	}
}

// userDefaults fills the profile fields Keycloak 24+ requires before it lets
// a user log in ("Account is not fully set up" otherwise).
func userDefaults(u spec.User) spec.User {
	if u.Email == "" {
		u.Email = u.Username + "@example.com"
	}
	if u.FirstName == "" {
		u.FirstName = u.Username
	}
	if u.LastName == "" {
		u.LastName = "Demo"
	}
	return u
}

// passwordChange checks an existing user's password by logging in through
// the realm's admin-cli client (a login, not a write; one attempt per plan)
// and plans a reset when Keycloak says the credentials are invalid.
func (b *planBuilder) passwordChange(username, id, password string) error {
	a := b.a
	_, err := TokenGrant(b.ctx, a.http, a.base, b.realm, url.Values{
		"grant_type": {"password"}, "client_id": {"admin-cli"}, "username": {username}, "password": {password}})
	var apiErr *APIError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &apiErr) && (apiErr.Status == 400 || apiErr.Status == 401) && strings.Contains(apiErr.Message, "Invalid user credentials"):
		b.p.Add(b.change("user-password", username, plan.Update, stageUsers, []plan.FieldDiff{{Field: "password", Old: "(differs)", New: password, Secret: true}},
			func(ctx context.Context) error {
				_, err := a.do(ctx, http.MethodPut, b.path("users", esc(id), "reset-password"), map[string]any{"type": "password", "value": password, "temporary": false}, nil)
				return err
			}))
		return nil
	case errors.As(err, &apiErr):
		return nil // the password was accepted, but the login stopped later (required action, disabled client): nothing to change
	default:
		return err
	}
}

func (b *planBuilder) user(su spec.User) error {
	a, x := b.a, b.x
	u := userDefaults(su)
	cur := b.st.Users[u.Username]
	if cur == nil {
		password := ""
		if u.PasswordEnv != "" {
			password = b.getenv(u.PasswordEnv)
			if password == "" {
				err := &MissingSecretError{Object: "user " + u.Username, Env: u.PasswordEnv}
				if b.forApply {
					return err
				}
				b.p.Warn("%v; apply will stop before writing anything", err)
			}
		}
		body := map[string]any{
			"username": u.Username, "email": u.Email, "firstName": u.FirstName, "lastName": u.LastName,
			"enabled": true, "emailVerified": true,
		}
		if len(u.Attributes) > 0 {
			body["attributes"] = u.Attributes
		}
		if len(u.Groups) > 0 {
			gp := make([]string, len(u.Groups))
			for i, g := range u.Groups {
				gp[i] = "/" + g
			}
			body["groups"] = gp
		}
		fields := createFields(body)
		if password != "" {
			body["credentials"] = []map[string]any{{"type": "password", "value": password, "temporary": false}}
			fields = append(fields, plan.FieldDiff{Field: "password", New: password, Secret: true})
		}
		b.p.Add(b.change("user", u.Username, plan.Create, stageUsers, fields, func(ctx context.Context) error {
			// One request creates the user with its password and groups, so an
			// interrupted apply never leaves a user without them.
			id, err := a.create(ctx, b.path("users"), body)
			if err != nil {
				if IsConflict(err) {
					return fmt.Errorf("user %q appeared while applying; run apply again to adopt it: %w", u.Username, err)
				}
				return err
			}
			x.set(x.users, u.Username, id)
			return nil
		}))
		return nil
	}
	if su.PasswordEnv != "" {
		if pw := b.getenv(su.PasswordEnv); pw != "" {
			if err := b.passwordChange(u.Username, deref(cur.Rep.ID), pw); err != nil {
				return err
			}
		}
	}
	var fs []plan.FieldDiff
	if su.Email != "" {
		fs = plan.Diff(fs, "email", deref(cur.Rep.Email), su.Email)
	}
	if su.FirstName != "" {
		fs = plan.Diff(fs, "firstName", deref(cur.Rep.FirstName), su.FirstName)
	}
	if su.LastName != "" {
		fs = plan.Diff(fs, "lastName", deref(cur.Rep.LastName), su.LastName)
	}
	haveAttrs := deref(cur.Rep.Attributes)
	for _, k := range sortedKeys(su.Attributes) {
		fs = plan.Diff(fs, "attributes."+k, haveAttrs[k], su.Attributes[k])
	}
	id := deref(cur.Rep.ID)
	if len(fs) > 0 {
		// With the user profile (Keycloak 24+) a PUT replaces every profile
		// field, so the body carries the current values of the unmanaged ones.
		pick := func(want string, have *string) string {
			if want != "" {
				return want
			}
			return deref(have)
		}
		attrs := maps.Clone(haveAttrs)
		if attrs == nil {
			attrs = map[string][]string{}
		}
		maps.Copy(attrs, su.Attributes)
		body := map[string]any{
			"username": u.Username, "email": pick(su.Email, cur.Rep.Email),
			"firstName": pick(su.FirstName, cur.Rep.FirstName), "lastName": pick(su.LastName, cur.Rep.LastName),
			"enabled": deref(cur.Rep.Enabled), "emailVerified": deref(cur.Rep.EmailVerified), "attributes": attrs,
		}
		b.p.Add(b.change("user", u.Username, plan.Update, stageUsers, fs, func(ctx context.Context) error {
			_, err := a.do(ctx, http.MethodPut, b.path("users", esc(id)), body, nil)
			return err
		}))
	} else {
		b.p.Add(b.change("user", u.Username, plan.NoOp, stageUsers, nil, nil))
	}
	for _, g := range u.Groups {
		gpath := g
		label := u.Username + " in " + gpath
		if slices.Contains(cur.Groups, gpath) {
			b.p.Add(b.change("user-group", label, plan.NoOp, stageMembership, nil, nil))
			continue
		}
		b.p.Add(b.change("user-group", label, plan.Create, stageMembership, nil, func(ctx context.Context) error {
			gid := x.get(x.groups, gpath)
			if gid == "" {
				return &NotFoundError{What: fmt.Sprintf("group %q", gpath)}
			}
			_, err := a.do(ctx, http.MethodPut, b.path("users", esc(id), "groups", esc(gid)), nil, nil)
			return err
		}))
	}
	for _, g := range cur.Groups {
		if slices.Contains(u.Groups, g) {
			continue
		}
		gpath := g
		b.p.Prunable = append(b.p.Prunable, b.change("user-group", u.Username+" in "+gpath, plan.Delete, stagePrune, nil, func(ctx context.Context) error {
			gid := x.get(x.groups, gpath)
			if gid == "" {
				return nil
			}
			return ignoreNotFound(a.do(ctx, http.MethodDelete, b.path("users", esc(id), "groups", esc(gid)), nil, nil))
		}))
	}
	return nil
}
