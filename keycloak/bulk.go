package keycloak

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/Nerzal/gocloak/v13"

	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
)

// Reading a realm in bulk. Measured on Keycloak 26.7.3 with 2,000 clients
// (4 mappers, 2 roles each) and 500 groups:
//   - partial-export?exportClients=true (0.13 s warm) gives the clients as
//     the client listing does, with the same ids, attributes and mappers
//     (mapper ids too), without the admin's "access" and with the secret
//     masked ("**********");
//   - partial-export?exportGroupsAndRoles=true (0.04 s) gives the realm
//     roles and every group with its subgroups inline and its role
//     mappings by name, with the same ids as the group listing;
//   - both at once add every client's roles, but take 4 to 17 s: Keycloak
//     then reads each role's composites one by one. The client roles come
//     instead from the admin console's role picker
//     (ui-ext/available-roles/roles/{id} of a realm role without
//     composites, 0.1 s for 4,031 roles), which lists every client role
//     with its id, name, description and client.
//
// Anything that is refused or does not look like these answers falls back
// to the reads object by object.

// exportedRealm is the part of a partial export that planning reads.
type exportedRealm struct {
	Realm   string            `json:"realm"`
	Clients []*gocloak.Client `json:"clients"`
	Roles   struct {
		Realm []*gocloak.Role `json:"realm"`
	} `json:"roles"`
	Groups []groupRep `json:"groups"`
}

// pickedRole is one entry of the admin console's role picker.
type pickedRole struct {
	ID          string  `json:"id"`
	Role        string  `json:"role"`
	Client      string  `json:"client"`   // the clientId
	ClientUUID  string  `json:"clientId"` // the client's id
	Description *string `json:"description"`
}

// exportTimeout caps one partial export. Warm, the export of a realm of
// 2,306 clients took 0.24-0.33 s (6.5 MB); right after Keycloak started it
// took 153 s, while the same realm read object by object took about 27 s
// (measured on 26.7.3 with H2). Over the cap the object reads take over,
// and the export Keycloak goes on with warms its caches for the next run.
const exportTimeout = 15 * time.Second

// errNoBulk says that a bulk read is not available: the caller reads object
// by object instead.
var errNoBulk = errors.New("bulk read not available")

// refused reports answers that mean "not here": an admin without the right
// role, an endpoint this server does not have.
func refused(err error) bool {
	var e *APIError
	if !errors.As(err, &e) {
		return false
	}
	switch e.Status {
	case http.StatusForbidden, http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented, http.StatusBadRequest:
		return true
	}
	return false
}

// readExport fills the realm roles, clients and groups of st from the
// realm's two partial exports, and returns every client's roles by clientId
// (nil when they must be read client by client). errNoBulk means the export
// is not available and nothing was filled.
func readExport(get, export func(path string, out any) error, mu *sync.Mutex, realm string, st *State) (map[string]map[string]*gocloak.Role, error) {
	// One export after the other, never two at once: Keycloak 26.7.3
	// strips secrets from the realm's cached component configs in place, so
	// two exports of a realm at the same time can fail with a 500
	// (ConcurrentModificationException in StripSecretsUtils, measured in the
	// integration suite).
	var clients, groups exportedRealm
	errC := exportPart(export, realm, "exportClients=true&exportGroupsAndRoles=false", &clients)
	var errG error
	if errC == nil {
		errG = exportPart(export, realm, "exportClients=false&exportGroupsAndRoles=true", &groups)
	}
	if err := errors.Join(errC, errG); err != nil {
		if (errC == nil || errors.Is(errC, errNoBulk)) && (errG == nil || errors.Is(errG, errNoBulk)) {
			return nil, errNoBulk
		}
		return nil, err
	}
	// The role picker needs a realm role without composites: its candidates
	// are then every client role.
	var probe string
	for _, r := range groups.Roles.Realm {
		if !deref(r.Composite) && deref(r.ID) != "" {
			probe = deref(r.ID)
			break
		}
	}
	var picked []pickedRole
	errP := errNoBulk
	if probe != "" {
		errP = get("/"+esc(realm)+"/ui-ext/available-roles/roles/"+esc(probe)+"?first=0&max=-1", &picked)
		if errP != nil && !refused(errP) {
			return nil, errP
		}
	}

	mu.Lock()
	defer mu.Unlock()
	for _, c := range clients.Clients {
		st.Clients[deref(c.ClientID)] = listedClient(c)
	}
	for _, r := range groups.Roles.Realm {
		st.RealmRoles[deref(r.Name)] = briefRole(r)
	}
	flattenGroups(groups.Groups, st)
	if errP != nil {
		return nil, nil
	}
	roles := map[string]map[string]*gocloak.Role{}
	for cid := range st.Clients {
		roles[cid] = map[string]*gocloak.Role{}
	}
	for _, p := range picked {
		c := st.Clients[p.Client]
		if c == nil || deref(c.ID) != p.ClientUUID || p.ID == "" || p.Role == "" {
			return nil, nil // not the picker this was written against
		}
		roles[p.Client][p.Role] = &gocloak.Role{ID: gocloak.StringP(p.ID), Name: gocloak.StringP(p.Role), Description: p.Description,
			ClientRole: gocloak.BoolP(true), ContainerID: gocloak.StringP(p.ClientUUID)}
	}
	return roles, nil
}

// exportPart reads one partial export of realm into out; errNoBulk when it
// is refused or the answer is not a realm's export.
func exportPart(export func(path string, out any) error, realm, query string, out *exportedRealm) error {
	var raw json.RawMessage
	err := export("/"+esc(realm)+"/partial-export?"+query, &raw)
	var api *APIError
	if refused(err) || errors.As(err, &api) && api.Status == http.StatusInternalServerError || errors.Is(err, context.DeadlineExceeded) {
		// A 500 is the export's own failure (another export of the realm
		// at the same moment, see readExport), and one over exportTimeout
		// meets Keycloak's caches cold: the object reads still work.
		return errNoBulk
	}
	if err != nil {
		return err
	}
	if json.Unmarshal(raw, out) != nil || out.Realm == "" {
		return errNoBulk
	}
	return nil
}

// listedClient is a client as State holds it, whichever read it came from:
// without the secret (masked in an export; planning never reads it: secrets
// are read from clients/{id}/client-secret), the admin's permissions, or the
// authorization settings (read apart, State.Authz), and with its scope
// lists sorted.
func listedClient(c *gocloak.Client) *gocloak.Client {
	c.Secret = nil
	c.Access = nil
	c.AuthorizationSettings = nil
	// The export and the listing give the scopes in different orders.
	for _, l := range []*[]string{c.DefaultClientScopes, c.OptionalClientScopes} {
		if l != nil {
			slices.Sort(*l)
		}
	}
	return c
}

// briefRole is a role as State holds it: its id, name, description and
// container. Composites are not read (the role picker does not give them,
// and planning never compares them).
func briefRole(r *gocloak.Role) *gocloak.Role {
	return &gocloak.Role{ID: r.ID, Name: r.Name, Description: r.Description, ClientRole: r.ClientRole, ContainerID: r.ContainerID}
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

// bulkMin is the number of new clients from which they are created with one
// partial import: below it, the requests object by object are as quick,
// and each object reports its own error.
const bulkMin = 10

// bulkChunk is the most clients one import creates. Measured on Keycloak
// 26.7.3: an import of 100 clients with 4 mappers each took 1.0 s (7 s
// with their 2 roles each, 9.5 s in an empty realm, so roles are created
// object by object); one import of 2,000 clients with their roles outlasted
// the 30 s a request may take, went on in the server until its transaction
// reaper interrupted it, and that closed the testbed's H2 database.
const bulkChunk = 50

// batchCreates rewrites the plan's creation of new clients with their
// mappers into partial imports (POST …/partialImport with ifResourceExists
// FAIL) of bulkChunk clients each. The changes stay as they are, one per
// object, and each still reports its own outcome; those of one chunk share
// one bulkCreate, which the first of them to run sends. Client roles (slow
// to import), updates, deletions and everything that refers to ids stay
// object by object.
func batchCreates(p *plan.Plan) {
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
	batch := map[string]*bulkCreate{}
	var b *bulkCreate
	for _, c := range p.Changes {
		if o, ok := c.Op.(createClient); ok && newClients[o.ClientID] {
			if b == nil || len(b.Clients) == bulkChunk {
				b = &bulkCreate{}
			}
			b.Clients = append(b.Clients, nil) // filled below, with the mappers
			batch[o.ClientID] = b
		}
	}
	mappers := map[string][]map[string]any{}
	for _, c := range p.Changes {
		if o, ok := c.Op.(createMapper); ok && !o.Owner.Scope && !o.Upsert {
			if b := batch[o.Owner.Name]; b != nil {
				mappers[o.Owner.Name] = append(mappers[o.Owner.Name], mapperBody(o.Mapper))
				c.Op = inBulk{b, o}
			}
		}
	}
	filled := map[*bulkCreate]int{}
	for _, c := range p.Changes {
		if o, ok := c.Op.(createClient); ok && batch[o.ClientID] != nil {
			b := batch[o.ClientID]
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

func attrsOf(body map[string]any) *map[string]string {
	if a, ok := body["attributes"].(map[string]string); ok {
		return &a
	}
	return nil
}

// importDefaults are what POST …/clients sets on a new OpenID Connect
// client and a partial import does not (measured on Keycloak 26.7.3): an
// import body carries them unless the file sets them, so that an imported
// client is the one POST would have made.
var importDefaults = struct {
	fields     map[string]any
	attributes map[string]string
}{
	fields:     map[string]any{"directAccessGrantsEnabled": true},
	attributes: map[string]string{AttrBackchannelSessionRequired: "true", AttrBackchannelLogoutRevokeOfflineTokens: "false"},
}

// importBody is a new client's create body for a partial import.
func importBody(create map[string]any) map[string]any {
	body := maps.Clone(create)
	for k, v := range importDefaults.fields {
		if _, set := body[k]; !set {
			body[k] = v
		}
	}
	attrs := map[string]string{}
	if a := attrsOf(create); a != nil {
		attrs = maps.Clone(*a)
	}
	for k, v := range importDefaults.attributes {
		if _, set := attrs[k]; !set {
			attrs[k] = v
		}
	}
	body["attributes"] = attrs
	return body
}

// bulkCreate is one partial import of new clients with their mappers,
// sent once by whichever of its changes runs first.
type bulkCreate struct {
	Clients []map[string]any

	once sync.Once
	err  error
}

// partialImportResult is Keycloak's answer to a partial import.
type partialImportResult struct {
	Results []struct {
		Action       string `json:"action"`
		ResourceType string `json:"resourceType"`
		ResourceName string `json:"resourceName"`
		ID           string `json:"id"`
	} `json:"results"`
}

func (b *bulkCreate) run(ctx context.Context, x *executor) error {
	b.once.Do(func() {
		body := map[string]any{"ifResourceExists": "FAIL", "clients": b.Clients}
		var res partialImportResult
		if _, b.err = x.a.do(ctx, http.MethodPost, x.path("partialImport"), body, &res); b.err != nil {
			return
		}
		for _, r := range res.Results {
			if r.ResourceType == "CLIENT" && r.ID != "" {
				x.ids.Set(clientRef(r.ResourceName), r.ID)
			}
		}
	})
	return b.err
}

// inBulk is a create that a bulkCreate makes. When the import meets an
// object that exists by now (409: nothing was imported), the create is
// made on its own instead, which adopts what it finds.
type inBulk struct {
	Bulk *bulkCreate
	Op   op
}

func (o inBulk) apply(ctx context.Context, x *executor) error {
	err := o.Bulk.run(ctx, x)
	if !IsConflict(err) {
		return err
	}
	// The clients exist by now: an import cut off in an earlier run may
	// have been committed after this run read the realm. Their mappers are
	// then adopted, as their clients and roles are.
	if m, ok := o.Op.(createMapper); ok {
		m.Upsert = true
		return m.apply(ctx, x)
	}
	return o.Op.apply(ctx, x)
}
