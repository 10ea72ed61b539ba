package keycloak

import (
	"context"
	"fmt"

	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
)

// PlanOptions tune planning.
type PlanOptions struct {
	// Getenv resolves password_env and friends; nil reads nothing.
	Getenv func(string) string
	// ForApply makes missing secrets an error instead of a warning.
	ForApply bool
	// Concurrency bounds the reads in flight; default 8.
	Concurrency int
	// OnlyClients limits the plan to these clients of the file (apply
	// --only rancher): nothing else is changed, and nothing is pruned.
	OnlyClients []string
	// Owner and AdoptFrom are the file's owner: and adopt_from: (see
	// spec.File); planning prunes only Owner's objects.
	Owner     string
	AdoptFrom []string
	// PerObject reads and creates object by object, without the realm's
	// export and partial import (for comparing the two).
	PerObject bool
}

// Outcome is a planned realm and what the systems planned after it need
// to know.
type Outcome struct {
	Plan *plan.Plan
	// RealmCreated is set when the plan creates the realm: its discovery
	// document does not exist until the plan is applied.
	RealmCreated bool
	// NewClients are the clients the plan creates: their secrets do not
	// exist until the plan is applied.
	NewClients map[string]bool
}

// Plan reads the realm named in k and returns the changes that make it
// match the file, bound to this server. Deletions that only --prune would
// make are in the plan's Prunable list. Its steps: expand the file, read
// the realm (ReadState), diff (Diff), batch new objects into partial
// imports (batch, unless o.PerObject), and bind the operations to this
// server for apply (bind).
func (a *Admin) Plan(ctx context.Context, k *spec.Keycloak, o PlanOptions) (*Outcome, error) {
	d := Expand(k, o.Getenv)
	d.Owner, d.AdoptFrom = o.Owner, o.AdoptFrom
	if len(o.OnlyClients) > 0 {
		d.Partial = true
		var keep []DesiredClient
		for _, cid := range o.OnlyClients {
			c := d.client(cid)
			if c == nil {
				return nil, &InputError{Msg: fmt.Sprintf("client %q is not in the keycloak: section", cid)}
			}
			keep = append(keep, *c)
		}
		d.Clients = keep
	}
	ro := readOptions(d, o.Concurrency)
	ro.PerObject = o.PerObject
	st, err := a.ReadState(ctx, d.Realm, ro)
	if err != nil {
		return nil, err
	}
	if !st.RealmExists && !d.CreateRealm {
		return nil, &NotFoundError{What: fmt.Sprintf("realm %q on %s (set create_realm: true to create it)", d.Realm, a.base)}
	}
	if err := a.readSettingsFacts(ctx, d, st); err != nil {
		return nil, err
	}
	if err := a.discoverIdPs(ctx, d, st); err != nil {
		return nil, err
	}
	p, err := Diff(d, st, DiffOptions{ForApply: o.ForApply})
	if err != nil {
		return nil, err
	}
	if flowsDiffer(p) {
		if err := a.checkFlowsWithServer(ctx, d, st); err != nil {
			return nil, err
		}
	}
	if !o.PerObject {
		batch(p, st)
	}
	a.bind(p, d.Realm, st)
	out := &Outcome{Plan: p, RealmCreated: !st.RealmExists, NewClients: map[string]bool{}}
	for _, c := range d.Clients {
		if st.Clients[c.ClientID] == nil {
			out.NewClients[c.ClientID] = true
		}
	}
	return out, nil
}

// readOptions says which per-object reads planning d needs.
func readOptions(d *Desired, conc int) ReadOptions {
	ro := ReadOptions{Concurrency: conc}
	for _, c := range d.Clients {
		ro.ClientRoles = append(ro.ClientRoles, c.ClientID)
		if c.ScopeMappings != nil {
			ro.ScopeMappingsOf = append(ro.ScopeMappingsOf, clientOwner(c.ClientID))
		}
		if c.Authz != nil {
			ro.Authz = append(ro.Authz, c.ClientID)
		}
	}
	ro.Flows = d.usesFlows()
	ro.ClientScopes = d.usesScopes() || len(ro.ScopeMappingsOf) > 0
	ro.RealmScopes = d.DefaultScopes != nil || d.OptionalScopes != nil
	for _, sc := range d.ClientScopes {
		if sc.ScopeMappings != nil {
			ro.ScopeMappingsOf = append(ro.ScopeMappingsOf, scopeOwner(sc.Name))
		}
	}
	if d.Partial {
		return ro
	}
	ro.RequiredActions = len(d.RequiredActions) > 0
	ro.IdPs = len(d.IdPs) > 0
	ro.Flows = ro.Flows || len(d.IdPs) > 0 // a provider's first broker login flow is checked
	ro.Federations = len(d.Federations) > 0
	for _, u := range d.Users {
		ro.Users = append(ro.Users, UserRead{Username: u.Username, Password: u.Password})
		ro.UserProfile = ro.UserProfile || len(u.Attributes) > 0
	}
	return ro
}

// InputError is a problem with the file that only planning reveals. Key,
// when set, is the file's key it is about (keycloak.clients[0].default_scopes[1]).
type InputError struct{ Key, Msg string }

func (e *InputError) Error() string { return e.Msg }

// BadInput marks the error as the caller's input (exit code 2).
func (e *InputError) BadInput() bool { return true }
