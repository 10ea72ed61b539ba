package keycloak

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/Nerzal/gocloak/v13"
	"golang.org/x/sync/errgroup"
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

// readExport fills the realm roles and groups of st from the realm's
// partial export, and returns the role picker's list of every client role
// (nil when it is not available: the roles are then read client by
// client). errNoBulk means the export is not available and nothing was
// filled.
func readExport(get, export func(path string, out any) error, mu *sync.Mutex, realm string, st *State) ([]pickedRole, error) {
	var groups exportedRealm
	if err := exportPart(export, realm, "exportClients=false&exportGroupsAndRoles=true", &groups); err != nil {
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
	for _, r := range groups.Roles.Realm {
		st.RealmRoles[deref(r.Name)] = briefRole(r)
	}
	flattenGroups(groups.Groups, st)
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

// clientPage is how many clients one listing request reads. Keycloak's
// cost for one response grows with the square of its size when its caches
// miss (right after clients were imported, or in a realm bigger than its
// realm cache): measured on 26.7.3 with 2,006 clients, one listing or one
// export of them all took 27-34 s, pages of 500 in parallel 5.3 s, pages of
// 250 3.3 s (on 2 cores); with warm caches all three take 0.2 s.
const clientPage = 250

// readClients lists the realm's clients into st, clientPage at a time:
// the first page alone (most realms fit in it), then conc pages at a time
// until one comes back short.
func readClients(get func(string, any) error, conc int, mu *sync.Mutex, realm string, st *State) error {
	page := func(i int, out *[]*gocloak.Client) error {
		return get(fmt.Sprintf("/%s/clients?first=%d&max=%d", esc(realm), i*clientPage, clientPage), out)
	}
	var all [][]*gocloak.Client
	var first []*gocloak.Client
	if err := page(0, &first); err != nil {
		return err
	}
	all = append(all, first)
	for len(all[len(all)-1]) == clientPage {
		wave := make([][]*gocloak.Client, conc)
		var g errgroup.Group
		for j := range wave {
			g.Go(func() error { return page(len(all)+j, &wave[j]) })
		}
		if err := g.Wait(); err != nil {
			return err
		}
		for _, p := range wave {
			all = append(all, p)
			if len(p) < clientPage {
				break
			}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, p := range all {
		for _, c := range p {
			st.Clients[deref(c.ClientID)] = listedClient(c)
		}
	}
	return nil
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
