package keycloak

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/Nerzal/gocloak/v13"
)

// Reading a realm in bulk. Measured on Keycloak 26.7.3 with 2,000 clients
// (4 mappers, 2 roles each) and 500 groups:
//   - partial-export?exportGroupsAndRoles=true (0.04 s warm, 1.8 s when
//     Keycloak's caches miss) gives the realm roles and every group with
//     its subgroups inline and its role mappings by name, with the same ids
//     as the group listing;
//   - the clients come from the client listing, in pages (readClients):
//     the export's clients (partial-export?exportClients=true) are the
//     listing's, and cost the same, but in one response;
//   - with clients and groups at once the export adds every client's roles,
//     but takes 4 to 17 s: Keycloak then reads each role's composites one by
//     one. The client roles come instead from the admin console's role
//     picker (ui-ext/available-roles/roles/{id} of a realm role without
//     composites, 0.1-0.3 s for 4,031 roles), which lists every client role
//     with its id, name, description and client.
//
// Anything that is refused or does not look like these answers falls back
// to the reads object by object.

// exportedRealm is the part of a partial export that planning reads.
type exportedRealm struct {
	Realm string `json:"realm"`
	Roles struct {
		Realm []*gocloak.Role `json:"realm"`
	} `json:"roles"`
	Groups []groupRep `json:"groups"`
	authExport
	idpExport
	// RequiredActions are the realm's registered required actions.
	RequiredActions []*RequiredActionRep `json:"requiredActions"`
	// Components are the realm's components by provider type (federation.go).
	Components map[string][]componentRep `json:"components"`
}

// pickedRole is one entry of the admin console's role picker.
type pickedRole struct {
	ID          string  `json:"id"`
	Role        string  `json:"role"`
	Client      string  `json:"client"`   // the clientId
	ClientUUID  string  `json:"clientId"` // the client's id
	Description *string `json:"description"`
}

// exportTimeout caps one partial export. Over the cap the reads object by
// object take over; the export, which Keycloak finishes anyway, warms its
// caches for the next run.
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

// readExport fills the realm roles and groups of the state from the realm's
// partial export, and returns the role picker's list of every client role
// (nil when it is not available: the roles are then read client by
// client). errNoBulk means the export is not available and nothing was
// filled.
func (r *reader) readExport() ([]pickedRole, error) {
	var groups exportedRealm
	if err := exportPart(r.export, r.realm, "exportClients=false&exportGroupsAndRoles=true", &groups); err != nil {
		return nil, err
	}
	// The role picker needs a realm role without composites: its candidates
	// are then every client role.
	var probe string
	for _, role := range groups.Roles.Realm {
		if !deref(role.Composite) && deref(role.ID) != "" {
			probe = deref(role.ID)
			break
		}
	}
	var picked []pickedRole
	errP := errNoBulk
	if probe != "" {
		errP = r.get("/"+esc(r.realm)+"/ui-ext/available-roles/roles/"+esc(probe)+"?first=0&max=-1", &picked)
		if errP != nil && !refused(errP) {
			return nil, errP
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, role := range groups.Roles.Realm {
		r.st.RealmRoles[deref(role.Name)] = briefRole(role)
	}
	flattenGroups(groups.Groups, r.st)
	r.auth = groups.authState()
	r.idps = groups.idpState()
	r.st.RequiredActions = requiredActionsByAlias(groups.RequiredActions)
	r.st.Federations = decodeFederations(groups.Components)
	if errP != nil {
		return nil, nil
	}
	if picked == nil {
		picked = []pickedRole{}
	}
	return picked, nil
}

// pickedRoles sorts the role picker's list into every client's roles by
// clientId, or returns nil when it does not match the clients read (not
// the picker this was written against, or a client made in between).
func pickedRoles(picked []pickedRole, st *State) map[string]map[string]*gocloak.Role {
	if picked == nil {
		return nil
	}
	roles := map[string]map[string]*gocloak.Role{}
	for cid := range st.Clients {
		roles[cid] = map[string]*gocloak.Role{}
	}
	for _, p := range picked {
		c := st.Clients[p.Client]
		if c == nil || deref(c.ID) != p.ClientUUID || p.ID == "" || p.Role == "" {
			return nil
		}
		roles[p.Client][p.Role] = &gocloak.Role{ID: gocloak.StringP(p.ID), Name: gocloak.StringP(p.Role), Description: p.Description,
			ClientRole: gocloak.BoolP(true), ContainerID: gocloak.StringP(p.ClientUUID)}
	}
	return roles
}

// exportPart reads one partial export of realm into out; errNoBulk when it
// is refused or the answer is not a realm's export.
func exportPart(export func(path string, out any) error, realm, query string, out *exportedRealm) error {
	var raw json.RawMessage
	err := export("/"+esc(realm)+"/partial-export?"+query, &raw)
	var api *APIError
	if refused(err) || errors.As(err, &api) && api.Status == http.StatusInternalServerError || errors.Is(err, context.DeadlineExceeded) {
		// A 500 is the export's own failure: Keycloak 26.7.3 strips
		// secrets from the realm's cached component configs in place, so
		// two exports of one realm at the same moment (two runs of ssoctl)
		// can fail with a ConcurrentModificationException. One over
		// exportTimeout meets Keycloak's caches cold. The object reads
		// still work.
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
