package keycloak

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/Nerzal/gocloak/v13"
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
