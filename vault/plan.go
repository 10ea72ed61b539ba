package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
)

// Steps of the Vault phase: every change of a lower step is applied before
// any of a higher one.
const (
	stepPolicies    = 0
	stepMounts      = 0
	stepConfig      = 1 // and the mount's ownership record, before its roles
	stepRoles       = 2
	stepGroups      = 2
	stepAliases     = 3
	stepPrune       = 10
	stepRecordAfter = 11
)

// PlanOptions carry what the vault section needs from outside it.
type PlanOptions struct {
	Getenv func(string) string
	// Owner and AdoptFrom are the file's owner: and adopt_from: (see
	// spec.File): planning prunes only Owner's roles, and refuses a role
	// another owner has unless the file adopts from it.
	Owner     string
	AdoptFrom []string
	// KeycloakClients are the clients the file's keycloak: section
	// describes: a mount whose client_id is one of them gets that client's
	// secret from ClientSecret, when its config is written.
	KeycloakClients map[string]bool
	ClientSecret    func(ctx context.Context, clientID string) (string, error)
	// NewSecrets lists Keycloak clients that this run creates: their secrets
	// do not exist yet, and the mount config must be (re)written.
	NewSecrets map[string]bool
	// CheckDiscovery fetches an OIDC discovery document and checks that its
	// issuer equals url exactly. Nil skips the check. It runs while planning,
	// and again just before the mount config is written.
	CheckDiscovery func(ctx context.Context, url string) error
	// PendingIssuers are discovery URLs of realms this run creates: they
	// cannot be checked until the Keycloak part has been applied.
	PendingIssuers map[string]bool
	// ForApply makes missing secrets an error instead of a warning.
	ForApply bool
	// Concurrency bounds the reads in flight; default 8.
	Concurrency int
}

// Plan reads Vault and returns the changes that make it match v, bound to
// this server.
func (c *Conn) Plan(ctx context.Context, v *spec.Vault, o PlanOptions) (*plan.Plan, error) {
	// Check discovery first: Vault only says "error checking oidc discovery URL".
	if o.CheckDiscovery != nil {
		for _, a := range v.Auth {
			if a.DiscoveryURL != "" && !o.PendingIssuers[strings.TrimRight(a.DiscoveryURL, "/")] {
				if err := o.CheckDiscovery(ctx, a.DiscoveryURL); err != nil {
					return nil, err
				}
			}
		}
	}
	// The flavour, for the plan's header and messages. A server that does
	// not answer sys/seal-status (a proxy, a test double) is taken for
	// Vault; one that cannot be reached ends the plan here.
	srv, err := c.Server(ctx)
	var ue *UnreachableError
	if errors.As(err, &ue) {
		return nil, err
	} else if err != nil {
		srv = Server{Flavor: FlavorVault, Addr: c.addr}
	}
	st, err := c.ReadState(ctx, v, o.Concurrency)
	if err != nil {
		return nil, err
	}
	p, err := Diff(v, st, o)
	if err != nil {
		return nil, err
	}
	p.Servers = append(p.Servers, srv.String())
	c.bind(p, st, o)
	return p, nil
}

// Diff computes the changes that make Vault, as read into st, match v. It
// makes no request: every change carries its operation as data, which
// Conn.Plan binds to a server. Of o it reads Getenv, KeycloakClients,
// NewSecrets and ForApply.
func Diff(v *spec.Vault, st *State, o PlanOptions) (*plan.Plan, error) {
	if o.Getenv == nil {
		o.Getenv = func(string) string { return "" }
	}
	b := &builder{v: v, o: o, st: st, p: &plan.Plan{}}
	if err := b.policies(); err != nil {
		return nil, err
	}
	for _, a := range v.Auth {
		if err := b.mount(a); err != nil {
			return nil, err
		}
	}
	return b.p, nil
}

type builder struct {
	v  *spec.Vault
	o  PlanOptions
	st *State
	p  *plan.Plan
}

// claimant is the file as the ownership records see it.
func (o PlanOptions) claimant() plan.Claimant {
	return plan.Claimant{Owner: o.Owner, AdoptFrom: o.AdoptFrom}
}

// change makes a change of a Vault object.
func (b *builder) change(kind, name string, action plan.Action, step int, fields []plan.FieldDiff, o op) *plan.Change {
	return plan.NewChange("vault", plan.PhaseVault, step, kind, name, action, fields, o)
}

// seconds parses a TTL or leeway ("1h", "90s", "3600"); "" is 0.
func seconds(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	return int64(d / time.Second), nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func mapOrEmpty[V any](m map[string]V) map[string]V {
	if m == nil {
		return map[string]V{}
	}
	return m
}

// normalize makes values read from Vault and values from the file
// comparable: JSON round trip (numbers become float64), and lists and maps
// of any kind become []any and map[string]any.
func normalize(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if json.Unmarshal(b, &out) != nil {
		return v
	}
	return out
}

// sortedAny sorts a list read from Vault or the file, for the lists Vault
// treats as sets.
func sortedAny(v any) any {
	l, ok := v.([]any)
	if !ok {
		return v
	}
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = fmt.Sprint(e)
	}
	slices.Sort(s)
	return s
}
