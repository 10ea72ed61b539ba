package keycloak

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
)

// Authorization Services: a client's resource server, its scopes,
// resources, policies and permissions. Keycloak's export of the settings
// (GET …/authz/resource-server/settings) names everything by name, roles
// as CLIENT/ROLE, so one read holds the whole state. Policies and
// permissions are written through the import endpoint, which takes those
// names too (a role policy over the typed endpoint wants role ids); scopes
// and resources through their own endpoints, because an import leaves an
// existing resource as it is.

// AuthzSettings is a resource server as Keycloak exports it.
type AuthzSettings struct {
	PolicyEnforcementMode         string          `json:"policyEnforcementMode"`
	DecisionStrategy              string          `json:"decisionStrategy"`
	AllowRemoteResourceManagement bool            `json:"allowRemoteResourceManagement"`
	Scopes                        []AuthzScope    `json:"scopes"`
	Resources                     []AuthzResource `json:"resources"`
	Policies                      []AuthzPolicy   `json:"policies"`
}

// AuthzScope is an authorization scope.
type AuthzScope struct {
	Name        string `json:"name"`
	DisplayName string `json:"displayName,omitempty"`
}

// AuthzResource is a protected resource.
type AuthzResource struct {
	Name        string       `json:"name"`
	DisplayName string       `json:"displayName,omitempty"`
	Type        string       `json:"type,omitempty"`
	URIs        []string     `json:"uris"`
	Scopes      []AuthzScope `json:"scopes"`
}

// DesiredAuthz is a client's authorization section, in Keycloak's terms.
type DesiredAuthz struct {
	Enforcement, Decision string
	Scopes                []string
	Resources             []AuthzResource
	// Policies then permissions, in the file's order.
	Policies []AuthzPolicy
}

// keycloakDefaults are the objects Keycloak may create when Authorization
// Services are switched on (older servers, and the admin console): adopted
// as ssoctl's, so --prune removes them when the file does not name them.
var keycloakDefaults = map[string]bool{"Default Resource": true, "Default Policy": true, "Default Permission": true}

// ExpandAuthz turns the file's authorization section into Keycloak's form.
func ExpandAuthz(a *spec.Authorization) *DesiredAuthz {
	d := &DesiredAuthz{
		Enforcement: strings.ToUpper(cmp.Or(a.PolicyEnforcementMode, "enforcing")),
		Decision:    strings.ToUpper(cmp.Or(a.DecisionStrategy, "unanimous")),
		Scopes:      a.Scopes,
	}
	for _, r := range a.Resources {
		ar := AuthzResource{Name: r.Name, DisplayName: r.DisplayName, Type: r.Type, URIs: r.URIs}
		for _, s := range r.Scopes {
			ar.Scopes = append(ar.Scopes, AuthzScope{Name: s})
		}
		d.Resources = append(d.Resources, ar)
	}
	for _, p := range a.Policies {
		d.Policies = append(d.Policies, expandPolicy(p))
	}
	for _, p := range a.Permissions {
		d.Policies = append(d.Policies, expandPermission(p))
	}
	return d
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func resourceDiff(want, have AuthzResource) []plan.FieldDiff {
	var fs []plan.FieldDiff
	fs = plan.Diff(fs, "type", have.Type, want.Type)
	fs = plan.Diff(fs, "displayName", have.DisplayName, want.DisplayName)
	fs = plan.DiffSet(fs, "uris", have.URIs, want.URIs)
	fs = plan.DiffSet(fs, "scopes", scopeNames(have.Scopes), scopeNames(want.Scopes))
	return fs
}

func scopeNames(ss []AuthzScope) []string {
	out := []string{}
	for _, s := range ss {
		out = append(out, s.Name)
	}
	return out
}

// Steps of the authorization objects: scopes before the resources that
// name them; policies after the roles, groups and users they name;
// permissions after their policies.
const (
	stepAuthzScopes      = stepAssign + 1
	stepAuthzResources   = stepAssign + 2
	stepAuthzPolicies    = stepMembership + 1
	stepAuthzPermissions = stepMembership + 2
)

func authzRef(kind, client, name string) plan.Ref {
	return plan.Ref{Kind: "authz-" + kind, Scope: client, Name: name}
}

// authz plans one client's authorization section against the exported
// settings (nil when the client has none yet).
func (b *builder) authz(d DesiredClient) {
	if d.Authz == nil {
		return
	}
	a, cid := d.Authz, d.ClientID
	have := b.st.Authz[cid]
	if have == nil {
		have = &AuthzSettings{PolicyEnforcementMode: "ENFORCING", DecisionStrategy: "UNANIMOUS"}
	}
	ap := authzPlan{b, cid}
	var fs []plan.FieldDiff
	fs = plan.Diff(fs, "policyEnforcementMode", have.PolicyEnforcementMode, a.Enforcement)
	fs = plan.Diff(fs, "decisionStrategy", have.DecisionStrategy, a.Decision)
	if len(fs) > 0 {
		b.p.Add(b.change("authz-settings", cid, plan.Update, stepAuthzScopes, fs, setResourceServer{cid, a.Enforcement, a.Decision}))
	} else {
		b.p.Add(b.change("authz-settings", cid, plan.NoOp, stepAuthzScopes, nil, nil))
	}
	ap.scopes(a.Scopes, have.Scopes)
	ap.resources(a.Resources, have.Resources)
	ap.policies(a.Policies, have.Policies)
}

// authzPlan plans the objects of one client's resource server.
type authzPlan struct {
	b   *builder
	cid string
}

// label is how an object of the resource server is shown in a plan.
func (ap authzPlan) label(kind, name string) string { return ap.cid + " " + kind + " " + name }

// owned says which objects of a kind ssoctl may prune: its own, and
// Keycloak's defaults.
func (ap authzPlan) owned(kind string) func(string) bool {
	return func(name string) bool {
		return keycloakDefaults[name] || ap.b.mine[authzRef(kind, ap.cid, name)]
	}
}

// extra files the deletion c of an object the file does not name.
func (ap authzPlan) extra(c *plan.Change, kind, name string) {
	r := authzRef(kind, ap.cid, name)
	if keycloakDefaults[name] {
		ap.b.mine[r] = true // Keycloak's defaults are ssoctl's to remove
	}
	ap.b.extra(c, r)
}

// scopes plans the resource server's scopes.
func (ap authzPlan) scopes(want []string, have []AuthzScope) {
	haveScopes := map[string]AuthzScope{}
	for _, s := range have {
		haveScopes[s.Name] = s
	}
	for _, it := range plan.Reconcile(plan.Set[string, AuthzScope]{Want: want, Have: haveScopes, Name: func(s string) string { return s }, Owned: ap.owned("scope")}) {
		switch it.Action {
		case plan.Delete:
			if !ap.b.d.Partial {
				ap.extra(ap.b.change("authz-scope", ap.label("scope", it.Name), plan.Delete, stepPrune+1, nil, deleteAuthz{ap.cid, "scope", it.Name}), "scope", it.Name)
			}
			continue
		case plan.Create:
			ap.b.p.Add(ap.b.change("authz-scope", ap.label("scope", it.Name), plan.Create, stepAuthzScopes, nil, createAuthzScope{ap.cid, it.Name}))
		default:
			ap.b.p.Add(ap.b.change("authz-scope", ap.label("scope", it.Name), plan.NoOp, stepAuthzScopes, nil, nil))
		}
		ap.b.name(authzRef("scope", ap.cid, it.Name))
	}
}

// resources plans the resource server's resources.
func (ap authzPlan) resources(want, have []AuthzResource) {
	haveRes := map[string]AuthzResource{}
	for _, r := range have {
		haveRes[r.Name] = r
	}
	for _, it := range plan.Reconcile(plan.Set[AuthzResource, AuthzResource]{Want: want, Have: haveRes,
		Name: func(r AuthzResource) string { return r.Name }, Diff: resourceDiff, Owned: ap.owned("resource")}) {
		switch it.Action {
		case plan.Delete:
			if !ap.b.d.Partial {
				ap.extra(ap.b.change("authz-resource", ap.label("resource", it.Name), plan.Delete, stepPrune+1, nil, deleteAuthz{ap.cid, "resource", it.Name}), "resource", it.Name)
			}
			continue
		case plan.Create:
			ap.b.p.Add(ap.b.change("authz-resource", ap.label("resource", it.Name), plan.Create, stepAuthzResources, resourceDiff(it.Want, AuthzResource{}), putAuthzResource{ap.cid, it.Want}))
		case plan.Update:
			ap.b.p.Add(ap.b.change("authz-resource", ap.label("resource", it.Name), plan.Update, stepAuthzResources, it.Fields, putAuthzResource{ap.cid, it.Want}))
		default:
			ap.b.p.Add(ap.b.change("authz-resource", ap.label("resource", it.Name), plan.NoOp, stepAuthzResources, nil, nil))
		}
		ap.b.name(authzRef("resource", ap.cid, it.Name))
	}
}

// authzGone reports an authorization object the state shows is gone.
func (b *builder) authzGone(r plan.Ref) bool {
	if b.st.Clients[r.Scope] == nil {
		return true
	}
	s, read := b.st.Authz[r.Scope]
	if !read || s == nil {
		return false
	}
	kind := strings.TrimPrefix(r.Kind, "authz-")
	switch kind {
	case "scope":
		return !slices.ContainsFunc(s.Scopes, func(x AuthzScope) bool { return x.Name == r.Name })
	case "resource":
		return !slices.ContainsFunc(s.Resources, func(x AuthzResource) bool { return x.Name == r.Name })
	}
	return !slices.ContainsFunc(s.Policies, func(x AuthzPolicy) bool { return x.Name == r.Name })
}

// readAuthzOf reads the authorization settings of the clients o asks for
// that have Authorization Services. The caller holds the lock, with the
// clients read.
func (r *reader) readAuthzOf(o ReadOptions) {
	authz := o.Authz
	if o.AllAuthz {
		for cid, c := range r.st.Clients {
			if deref(c.AuthorizationServicesEnabled) {
				authz = append(authz, cid)
			}
		}
	}
	for _, cid := range authz {
		if c := r.st.Clients[cid]; c != nil && deref(c.AuthorizationServicesEnabled) {
			id := deref(c.ID)
			r.spawn(func() error {
				s, err := readAuthz(r.get, r.realm, id)
				if err != nil {
					return err
				}
				r.mu.Lock()
				r.st.Authz[cid] = s
				r.mu.Unlock()
				return nil
			})
		}
	}
}

// readAuthz reads the exported settings of a client with Authorization
// Services; nil when the server has none for it.
func readAuthz(get func(string, any) error, realm, uuid string) (*AuthzSettings, error) {
	var s AuthzSettings
	if err := get("/"+esc(realm)+"/clients/"+esc(uuid)+"/authz/resource-server/settings", &s); err != nil {
		if IsNotFound(err) || isBadRequest(err) {
			return nil, nil
		}
		return nil, err
	}
	return &s, nil
}

func isBadRequest(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.Status == http.StatusBadRequest
}

// authzPath is the path of a client's resource server.
func (x *executor) authzPath(ctx context.Context, client string, parts ...string) (string, error) {
	uuid, err := x.clientUUID(ctx, client)
	if err != nil {
		return "", err
	}
	return x.path(append([]string{"clients", esc(uuid), "authz", "resource-server"}, parts...)...), nil
}

// setResourceServer sets the enforcement mode and decision strategy. A PUT
// resets the fields it lacks, so the rest is read and sent back.
type setResourceServer struct{ Client, Enforcement, Decision string }

func (o setResourceServer) apply(ctx context.Context, x *executor) error {
	p, err := x.authzPath(ctx, o.Client)
	if err != nil {
		return err
	}
	var cur map[string]any
	if err := x.a.get(ctx, p, &cur); err != nil {
		return err
	}
	cur["policyEnforcementMode"], cur["decisionStrategy"] = o.Enforcement, o.Decision
	for _, k := range []string{"resources", "policies", "scopes"} {
		delete(cur, k)
	}
	_, err = x.a.do(ctx, http.MethodPut, p, cur, nil)
	return err
}

type createAuthzScope struct{ Client, Name string }

func (o createAuthzScope) apply(ctx context.Context, x *executor) error {
	p, err := x.authzPath(ctx, o.Client, "scope")
	if err != nil {
		return err
	}
	_, err = x.a.do(ctx, http.MethodPost, p, map[string]any{"name": o.Name}, nil)
	if IsConflict(err) {
		return nil // made meanwhile (or by the lost answer of an earlier try): adopted
	}
	return err
}

// putAuthzResource creates a resource, or updates the one of its name.
type putAuthzResource struct {
	Client   string
	Resource AuthzResource
}

func (o putAuthzResource) apply(ctx context.Context, x *executor) error {
	base, err := x.authzPath(ctx, o.Client, "resource")
	if err != nil {
		return err
	}
	body := map[string]any{"name": o.Resource.Name, "displayName": o.Resource.DisplayName, "type": o.Resource.Type,
		"uris": orEmpty(o.Resource.URIs), "scopes": orEmptyScopes(o.Resource.Scopes)}
	id, err := x.authzID(ctx, o.Client, "resource", o.Resource.Name)
	if err != nil {
		return err
	}
	if id == "" {
		_, err = x.a.do(ctx, http.MethodPost, base, body, nil)
		return err
	}
	body["_id"] = id
	_, err = x.a.do(ctx, http.MethodPut, base+"/"+esc(id), body, nil)
	return err
}

func orEmptyScopes(s []AuthzScope) []AuthzScope {
	if s == nil {
		return []AuthzScope{}
	}
	return s
}

// deleteAuthz deletes a scope, resource or policy by name.
type deleteAuthz struct{ Client, Kind, Name string }

func (o deleteAuthz) apply(ctx context.Context, x *executor) error {
	id, err := x.authzID(ctx, o.Client, o.Kind, o.Name)
	if err != nil || id == "" {
		return err
	}
	p, err := x.authzPath(ctx, o.Client, o.Kind, esc(id))
	if err != nil {
		return err
	}
	return ignoreNotFound(x.a.do(ctx, http.MethodDelete, p, nil, nil))
}

// authzID finds the id of a scope, resource or policy by name; "" when
// there is none.
func (x *executor) authzID(ctx context.Context, client, kind, name string) (string, error) {
	q := url.Values{"name": {name}, "first": {"0"}, "max": {"-1"}}
	switch kind {
	case "resource":
		q.Set("exactName", "true")
		q.Set("deep", "false")
	}
	p, err := x.authzPath(ctx, client, kind)
	if err != nil {
		return "", err
	}
	var found []struct {
		ID    string `json:"id"`
		ResID string `json:"_id"`
		Name  string `json:"name"`
	}
	if err := x.a.get(ctx, p+"?"+q.Encode(), &found); err != nil {
		return "", err
	}
	for _, f := range found {
		if f.Name == name {
			return cmp.Or(f.ID, f.ResID), nil
		}
	}
	return "", nil
}

// AuthzExport reads a client's authorization settings as the admin
// console's Authorization → Export writes them (the JSON python-keycloak's
// load_authorization_config reads).
func (a *Admin) AuthzExport(ctx context.Context, realm, clientID string) ([]byte, error) {
	var found []struct {
		ID      string `json:"id"`
		Enabled bool   `json:"authorizationServicesEnabled"`
	}
	if err := a.get(ctx, "/"+esc(realm)+"/clients?clientId="+url.QueryEscape(clientID), &found); err != nil {
		return nil, err
	}
	if len(found) == 0 {
		return nil, notFound("client %q in realm %q on %s", clientID, realm, a.base)
	}
	if !found[0].Enabled {
		return nil, &InputError{Msg: fmt.Sprintf("client %q in realm %q has no Authorization Services (authorization: in sso.yaml turns them on)", clientID, realm)}
	}
	var raw json.RawMessage
	if err := a.get(ctx, "/"+esc(realm)+"/clients/"+esc(found[0].ID)+"/authz/resource-server/settings", &raw); err != nil {
		return nil, err
	}
	return raw, nil
}

// exportAuthz describes exported settings as the file's authorization
// section: the inverse of ExpandAuthz. Policy types the file cannot write
// (js, aggregate, regex, client-scope) are left out.
func exportAuthz(s *AuthzSettings) *spec.Authorization {
	a := &spec.Authorization{PolicyEnforcementMode: strings.ToLower(s.PolicyEnforcementMode), DecisionStrategy: strings.ToLower(s.DecisionStrategy)}
	for _, sc := range s.Scopes {
		a.Scopes = append(a.Scopes, sc.Name)
	}
	slices.Sort(a.Scopes)
	for _, r := range s.Resources {
		sr := spec.Resource{Name: r.Name, DisplayName: r.DisplayName, Type: r.Type, URIs: slices.Sorted(slices.Values(r.URIs))}
		sr.Scopes = slices.Sorted(slices.Values(scopeNames(r.Scopes)))
		if len(sr.URIs) == 0 {
			sr.URIs = nil
		}
		if len(sr.Scopes) == 0 {
			sr.Scopes = nil
		}
		a.Resources = append(a.Resources, sr)
	}
	for _, p := range s.Policies {
		if isPermission(p) {
			a.Permissions = append(a.Permissions, exportPermission(p))
		} else if sp, ok := exportPolicy(p); ok {
			a.Policies = append(a.Policies, sp)
		}
	}
	if a.PolicyEnforcementMode == "enforcing" {
		a.PolicyEnforcementMode = ""
	}
	if a.DecisionStrategy == "unanimous" {
		a.DecisionStrategy = ""
	}
	return a
}
