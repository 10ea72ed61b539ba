package keycloak

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
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
	// Record is the ownership record (the realm attribute
	// OwnershipAttribute): what ssoctl created or adopted, by owner.
	Record plan.Record
	// Owned is every object of Record, whoever owns it.
	Owned plan.Owned
	// Auth is the realm's authentication flows and bindings (flows.go),
	// from the export; nil when not read.
	Auth *AuthState
	// IdPs is the realm's identity providers and their mappers (idp.go),
	// from the export; nil when not read.
	IdPs *IdPState
	// Federations are the realm's LDAP providers by name (federation.go),
	// from the export or, without it, two component listings.
	Federations map[string]*FederationState
	// Warnings are problems found while reading that do not stop planning
	// (an unreadable ownership record).
	Warnings []string

	// The realm's settings and required actions (realm_settings.go,
	// required_actions.go): RealmRep is the realm's GET field by field;
	// RequiredActions by alias, from the partial export (nil when not read);
	// UnregisteredActions and ServerInfo only when planning needs them.
	RealmRep            map[string]json.RawMessage
	RequiredActions     map[string]*RequiredActionRep
	UnregisteredActions []UnregisteredAction
	ServerInfo          *ServerInfo
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
	// Flows reads the flows without the export when the export is not
	// available (with it, they come for free).
	Flows bool
	// PerObject reads the realm roles, clients, client roles and groups
	// kind by kind and client by client, instead of from the realm's
	// export; ReadState falls back to it by itself when the export is
	// refused. For comparing the two reads.
	PerObject bool
	// Concurrency bounds parallel reads; default 8.
	Concurrency int
	// RequiredActions reads the required actions when the export did not
	// give them (PerObject, or the export refused).
	RequiredActions bool
	// IdPs reads the identity providers when the export did not give them.
	IdPs bool
	// Federations reads the LDAP providers when the export did not give
	// them (two component listings).
	Federations bool
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
	if err := a.readRealm(ctx, st); err != nil {
		return nil, err
	}
	if !st.RealmExists {
		return st, nil
	}
	o.Flows = o.Flows || ownsFlows(st.Owned)
	o.IdPs = o.IdPs || ownsIdPs(st.Owned)
	r := newReader(ctx, a, st, o.Concurrency)
	r.spawn(func() error { return r.readRealmObjects(o) })
	if o.ClientScopes {
		r.spawn(func() error { return r.readScopes(o) })
	}
	if o.RealmScopes {
		r.readRealmScopes()
	}
	if o.UserProfile {
		r.spawn(r.readUserProfile)
	}
	for _, ur := range o.Users {
		r.spawn(func() error { return r.readUser(ur) })
	}
	if err := r.g.Wait(); err != nil {
		return nil, err
	}
	if err := a.readRequiredActions(ctx, st, o); err != nil {
		return nil, err
	}
	return st, nil
}

// reader is one ReadState in progress: the state it fills and the lock
// over it, and the reads in flight. A semaphore bounds the requests; the
// group itself is unbounded, because reads spawn further reads (subgroups,
// and everything that needs the client listing first).
type reader struct {
	a     *Admin
	realm string
	st    *State
	mu    sync.Mutex
	g     *errgroup.Group
	ctx   context.Context // the group's: cancelled by its first error
	sem   chan struct{}
	conc  int
	// auth is the flows the export held (State.Auth when asked for).
	auth *AuthState
	// idps is the identity providers the export held (State.IdPs when
	// asked for).
	idps *IdPState
}

func newReader(ctx context.Context, a *Admin, st *State, conc int) *reader {
	if conc <= 0 {
		conc = 8
	}
	g, gctx := errgroup.WithContext(ctx)
	return &reader{a: a, realm: st.Realm, st: st, g: g, ctx: gctx, sem: make(chan struct{}, conc), conc: conc}
}

// spawn runs one read beside the others.
func (r *reader) spawn(read func() error) { r.g.Go(read) }

// acquire takes one of the slots for requests in flight; release gives it
// back.
func (r *reader) acquire(ctx context.Context) error {
	select {
	case r.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *reader) release() { <-r.sem }

func (r *reader) call(ctx context.Context, method, path string, out any) error {
	if err := r.acquire(ctx); err != nil {
		return err
	}
	defer r.release()
	_, err := r.a.do(ctx, method, path, nil, out)
	return err
}

// get reads one admin-API path below the admin root into out.
func (r *reader) get(path string, out any) error { return r.call(r.ctx, http.MethodGet, path, out) }

// export reads a partial export: a POST that only reads (retried like a
// GET), and one that may not take long (see exportTimeout).
func (r *reader) export(path string, out any) error {
	ctx, cancel := context.WithTimeout(httpclient.ReadOnly(r.ctx), exportTimeout)
	defer cancel()
	return r.call(ctx, http.MethodPost, path, out)
}

// readRealmObjects reads the clients, listed in pages, beside the realm
// roles and groups: from the realm's export, or listed kind by kind when
// o.PerObject is set or the export is refused. Then, with the clients
// known, the reads that need their ids: authorization settings, scope
// mappings and client roles (from the role picker when the export gave
// them).
func (r *reader) readRealmObjects(o ReadOptions) error {
	var clients errgroup.Group
	clients.Go(r.readClients)
	var picked []pickedRole
	err := errNoBulk
	if !o.PerObject {
		picked, err = r.readExport()
	}
	if errors.Is(err, errNoBulk) {
		err = r.readListings()
		if o.Federations {
			err = errors.Join(err, r.readFederationListings())
		}
	}
	if !o.Federations {
		// Only in a state that asked for them, as the listings read them:
		// the export and the listings give equal states.
		r.st.Federations = nil
	}
	if err := errors.Join(err, clients.Wait()); err != nil {
		return err
	}
	if o.Flows {
		if r.st.Auth = r.auth; r.auth == nil {
			if err := r.readFlowListings(); err != nil {
				return err
			}
		}
	}
	if o.IdPs {
		if r.st.IdPs = r.idps; r.idps == nil {
			if err := r.readIdPListings(); err != nil {
				return err
			}
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	allRoles := pickedRoles(picked, r.st)
	r.readAuthzOf(o)
	r.readClientScopeMappings(o)
	r.readClientRoles(o, allRoles)
	return nil
}

// readListings reads the realm roles and groups kind by kind, as
// every Keycloak allows: one listing each, and the children of each group
// that has subgroups.
func (r *reader) readListings() error {
	var g errgroup.Group
	g.Go(r.readRealmRoles)
	g.Go(func() error { return r.readGroups(&g) })
	return g.Wait()
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
