package keycloak

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/Nerzal/gocloak/v13"
	"golang.org/x/sync/errgroup"

	"github.com/ssoctl/ssoctl/internal/httpclient"
	"github.com/ssoctl/ssoctl/plan"
)

// State is what a realm holds now, read with as few requests as the admin
// API allows: the realm, its two partial exports (clients; realm roles and
// groups) and the admin console's list of client roles, plus one read per
// user the file names, and per client for the settings the export masks or
// leaves out (authorization settings, scope mappings). Without the export,
// one listing per kind and one read per client (its roles) and per group
// with subgroups (its children). Whichever read it came from, State holds
// the same objects: clients without their secret, roles without composites.
type State struct {
	Realm       string
	RealmExists bool
	RealmRoles  map[string]*gocloak.Role   // by name
	Clients     map[string]*gocloak.Client // by clientId
	// ClientRoles of the clients that were asked for, by clientId then role name.
	ClientRoles map[string]map[string]*gocloak.Role
	// Groups by path without the leading slash ("parent/child").
	Groups map[string]*Group
	// Users that were asked for, by username.
	Users map[string]*User
	// ClientScopes by name, when asked for.
	ClientScopes map[string]*Scope
	// RealmDefaultScopes and RealmOptionalScopes are the realm's scopes for
	// new clients, when asked for.
	RealmDefaultScopes, RealmOptionalScopes []string
	// ScopeMappings of the clients and scopes that were asked for.
	ScopeMappings map[owner]*RoleSet
	// Authz holds the exported authorization settings of the clients asked
	// for, by clientId (nil for a client without them).
	Authz map[string]*AuthzSettings
	// UnmanagedAttributePolicy is the user profile's policy for attributes
	// it does not declare ("" means disabled), when asked for.
	UnmanagedAttributePolicy string
	// Owned is what ssoctl created or adopted in the realm, as recorded in
	// the realm attribute OwnershipAttribute.
	Owned plan.Owned
	// Warnings are problems found while reading that do not stop planning
	// (an unreadable ownership record).
	Warnings []string
}

// OwnershipAttribute is the realm attribute in which ssoctl records the
// objects it created or adopted, so that --prune deletes only those.
const OwnershipAttribute = "ssoctl.owned"

// Group is a group with its role bindings.
type Group struct {
	ID         string
	Path       string
	RealmRoles []string
	// ClientRoles maps a clientId to role names.
	ClientRoles map[string][]string
}

// User is a user with the paths of its groups.
type User struct {
	Rep    gocloak.User
	Groups []string
	// PasswordStale is set when the password the file gives was tried and
	// Keycloak refused it ("Invalid user credentials").
	PasswordStale bool
}

// UserRead names a user to read and, when Password is set, the password to
// check with one login through admin-cli (a login, not a write).
type UserRead struct {
	Username string
	Password string
}

// ReadOptions say which per-object reads are needed.
type ReadOptions struct {
	// ClientRoles lists the clientIds whose roles to read.
	ClientRoles []string
	// AllClientRoles reads the roles of every client but Keycloak's built-in
	// ones (for export), in the same pass as the client listing.
	AllClientRoles bool
	// Users lists the users to look up.
	Users []UserRead
	// UserProfile reads the realm's user-profile policy.
	UserProfile bool
	// ClientScopes reads the realm's client scopes with their mappers;
	// RealmScopes its default and optional scopes for new clients.
	ClientScopes, RealmScopes bool
	// ScopeMappingsOf lists the clients and scopes whose scope mappings to
	// read; AllScopeMappings reads those of every scope but the built-in
	// ones and of every client without full scope (for export).
	ScopeMappingsOf  []owner
	AllScopeMappings bool
	// Authz lists the clients whose authorization settings to read;
	// AllAuthz reads those of every client that has them (for export).
	Authz    []string
	AllAuthz bool
	// PerObject reads the realm roles, clients, client roles and groups
	// kind by kind and client by client, instead of from the realm's
	// export; ReadState falls back to it by itself when the export is
	// refused. For comparing the two reads.
	PerObject bool
	// Concurrency bounds parallel reads; default 8.
	Concurrency int
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

// ReadState reads realm's current state. A missing realm is not an error:
// State.RealmExists is false and everything else empty.
func (a *Admin) ReadState(ctx context.Context, realm string, o ReadOptions) (*State, error) {
	st := &State{
		Realm:       realm,
		RealmRoles:  map[string]*gocloak.Role{},
		Clients:     map[string]*gocloak.Client{},
		ClientRoles: map[string]map[string]*gocloak.Role{},
		Groups:      map[string]*Group{},
		Users:       map[string]*User{},

		ClientScopes:  map[string]*Scope{},
		ScopeMappings: map[owner]*RoleSet{},
		Authz:         map[string]*AuthzSettings{},
	}
	var rr gocloak.RealmRepresentation
	if err := a.get(ctx, "/"+esc(realm), &rr); err != nil {
		if IsNotFound(err) {
			return st, nil
		}
		return nil, err
	}
	st.RealmExists = true
	if raw := deref(rr.Attributes)[OwnershipAttribute]; raw != "" {
		if err := json.Unmarshal([]byte(raw), &st.Owned); err != nil {
			st.Warnings = append(st.Warnings, fmt.Sprintf("realm %s: the ownership record (attribute %s) cannot be read (%v); nothing is pruned until apply rewrites it", realm, OwnershipAttribute, err))
		}
	}
	if st.Owned == nil {
		st.Owned = plan.Owned{}
	}
	conc := o.Concurrency
	if conc <= 0 {
		conc = 8
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	// A semaphore bounds the requests in flight; the group itself is
	// unbounded, because reads spawn further reads (subgroups).
	sem := make(chan struct{}, conc)
	call := func(ctx context.Context, method, path string, out any) error {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		defer func() { <-sem }()
		_, err := a.do(ctx, method, path, nil, out)
		return err
	}
	get := func(path string, out any) error { return call(gctx, http.MethodGet, path, out) }
	// The partial export is a POST that only reads (retried like a GET),
	// and one that may not take long (see exportTimeout).
	export := func(path string, out any) error {
		ctx, cancel := context.WithTimeout(httpclient.ReadOnly(gctx), exportTimeout)
		defer cancel()
		return call(ctx, http.MethodPost, path, out)
	}

	g.Go(func() error {
		// The clients, listed in pages, beside the realm roles and groups:
		// from the realm's export, or listed kind by kind.
		var clients errgroup.Group
		clients.Go(func() error { return readClients(get, conc, &mu, realm, st) })
		var picked []pickedRole
		err := errNoBulk
		if !o.PerObject {
			picked, err = readExport(get, export, &mu, realm, st)
		}
		if errors.Is(err, errNoBulk) {
			err = readListings(get, &mu, realm, st)
		}
		if err := errors.Join(err, clients.Wait()); err != nil {
			return err
		}
		mu.Lock()
		allRoles := pickedRoles(picked, st)
		cids := o.ClientRoles
		if o.AllClientRoles {
			cids = nil
			for cid := range st.Clients {
				if !isBuiltinClient(realm, cid) {
					cids = append(cids, cid)
				}
			}
		}
		owners := o.ScopeMappingsOf
		if o.AllScopeMappings {
			for cid, c := range st.Clients {
				if !isBuiltinClient(realm, cid) && c.FullScopeAllowed != nil && !*c.FullScopeAllowed {
					owners = append(owners, clientOwner(cid))
				}
			}
		}
		authz := o.Authz
		if o.AllAuthz {
			for cid, c := range st.Clients {
				if deref(c.AuthorizationServicesEnabled) {
					authz = append(authz, cid)
				}
			}
		}
		for _, cid := range authz {
			if c := st.Clients[cid]; c != nil && deref(c.AuthorizationServicesEnabled) {
				id := deref(c.ID)
				g.Go(func() error {
					s, err := readAuthz(get, realm, id)
					if err != nil {
						return err
					}
					mu.Lock()
					st.Authz[cid] = s
					mu.Unlock()
					return nil
				})
			}
		}
		for _, ow := range owners {
			if c := st.Clients[ow.Name]; !ow.Scope && c != nil {
				id := deref(c.ID)
				g.Go(func() error { return readScopeMappings(get, &mu, realm, st, ow, id) })
			}
		}
		for _, cid := range cids {
			c, ok := st.Clients[cid]
			if !ok {
				continue
			}
			if allRoles != nil {
				st.ClientRoles[cid] = allRoles[cid]
				continue
			}
			id := deref(c.ID)
			g.Go(func() error {
				var roles []*gocloak.Role
				if err := get("/"+esc(realm)+"/clients/"+esc(id)+"/roles?briefRepresentation=true&first=0&max=-1", &roles); err != nil {
					return err
				}
				m := map[string]*gocloak.Role{}
				for _, r := range roles {
					m[deref(r.Name)] = briefRole(r)
				}
				mu.Lock()
				st.ClientRoles[cid] = m
				mu.Unlock()
				return nil
			})
		}
		mu.Unlock()
		return nil
	})
	if o.ClientScopes {
		g.Go(func() error { return readScopes(g, get, &mu, realm, st, o) })
	}
	if o.RealmScopes {
		for _, kind := range []string{"default", "optional"} {
			g.Go(func() error {
				var scopes []Scope
				if err := get("/"+esc(realm)+"/default-"+kind+"-client-scopes", &scopes); err != nil {
					return err
				}
				names := []string{}
				for _, s := range scopes {
					names = append(names, s.Name)
				}
				mu.Lock()
				defer mu.Unlock()
				if kind == "default" {
					st.RealmDefaultScopes = names
				} else {
					st.RealmOptionalScopes = names
				}
				return nil
			})
		}
	}
	if o.UserProfile {
		g.Go(func() error {
			var prof struct {
				Policy string `json:"unmanagedAttributePolicy"`
			}
			if err := get("/"+esc(realm)+"/users/profile", &prof); err != nil {
				return err
			}
			st.UnmanagedAttributePolicy = prof.Policy
			return nil
		})
	}
	for _, ur := range o.Users {
		g.Go(func() error {
			u, err := readUser(get, realm, ur.Username)
			if err != nil || u == nil {
				return err
			}
			if ur.Password != "" {
				select {
				case sem <- struct{}{}:
				case <-gctx.Done():
					return gctx.Err()
				}
				u.PasswordStale, err = a.passwordStale(gctx, realm, ur.Username, ur.Password)
				<-sem
				if err != nil {
					return err
				}
			}
			mu.Lock()
			st.Users[ur.Username] = u
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return st, nil
}

// readListings reads the realm roles and groups kind by kind, as
// every Keycloak allows: one listing each, and the children of each group
// that has subgroups.
func readListings(get func(string, any) error, mu *sync.Mutex, realm string, st *State) error {
	var g errgroup.Group
	g.Go(func() error {
		var roles []*gocloak.Role
		if err := get("/"+esc(realm)+"/roles?briefRepresentation=true&first=0&max=-1", &roles); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		for _, r := range roles {
			st.RealmRoles[deref(r.Name)] = briefRole(r)
		}
		return nil
	})
	g.Go(func() error { return readGroups(&g, get, mu, realm, st) })
	return g.Wait()
}

// readGroups lists the top-level groups with their role bindings, then
// walks down to subgroups (Keycloak 23+ lists children separately).
func readGroups(g *errgroup.Group, get func(string, any) error, mu *sync.Mutex, realm string, st *State) error {
	var top []groupRep
	if err := get("/"+esc(realm)+"/groups?briefRepresentation=false&first=0&max=-1", &top); err != nil {
		return err
	}
	var add func(reps []groupRep)
	add = func(reps []groupRep) {
		for _, r := range reps {
			path := strings.TrimPrefix(r.Path, "/")
			mu.Lock()
			st.Groups[path] = &Group{ID: r.ID, Path: path, RealmRoles: r.RealmRoles, ClientRoles: r.ClientRoles}
			mu.Unlock()
			switch {
			case len(r.SubGroups) > 0:
				add(r.SubGroups)
			case r.SubGroupCount > 0:
				id := r.ID
				g.Go(func() error {
					var kids []groupRep
					if err := get("/"+esc(realm)+"/groups/"+esc(id)+"/children?briefRepresentation=false&first=0&max=-1", &kids); err != nil {
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

// readUser finds a user by exact username and reads its groups; nil when
// there is no such user.
func readUser(get func(string, any) error, realm, username string) (*User, error) {
	var users []gocloak.User
	q := url.Values{"username": {username}, "exact": {"true"}, "briefRepresentation": {"false"}}
	if err := get("/"+esc(realm)+"/users?"+q.Encode(), &users); err != nil {
		return nil, err
	}
	for _, u := range users {
		if strings.EqualFold(deref(u.Username), username) {
			var groups []groupRep
			if err := get("/"+esc(realm)+"/users/"+esc(deref(u.ID))+"/groups?briefRepresentation=true&first=0&max=-1", &groups); err != nil {
				return nil, err
			}
			out := &User{Rep: u}
			for _, g := range groups {
				out.Groups = append(out.Groups, strings.TrimPrefix(g.Path, "/"))
			}
			return out, nil
		}
	}
	return nil, nil
}

// passwordStale checks a user's password with one password grant through
// the realm's admin-cli client: true when Keycloak says the credentials are
// invalid. Any other refusal (a required action, a disabled direct grant)
// means the password itself was accepted.
func (a *Admin) passwordStale(ctx context.Context, realm, username, password string) (bool, error) {
	_, err := TokenGrant(ctx, a.http, a.base, realm, url.Values{
		"grant_type": {"password"}, "client_id": {"admin-cli"}, "username": {username}, "password": {password}})
	var apiErr *APIError
	switch {
	case err == nil:
		return false, nil
	case errors.As(err, &apiErr):
		return (apiErr.Status == 400 || apiErr.Status == 401) && strings.Contains(apiErr.Message, "Invalid user credentials"), nil
	}
	return false, err
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
