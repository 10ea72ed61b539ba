package vault

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
)

// roleBody is the full role as Vault should hold it. role_type and
// bound_claims_type are always sent: omitted, Vault resets them to oidc
// and string.
func roleBody(r spec.Role) (map[string]any, error) {
	durs := map[string]string{"token_ttl": r.TokenTTL, "token_max_ttl": r.TokenMaxTTL, "clock_skew_leeway": r.ClockSkewLeeway,
		"expiration_leeway": r.ExpirationLeeway, "not_before_leeway": r.NotBeforeLeeway}
	body := map[string]any{
		"role_type":               r.RoleType,
		"user_claim":              r.UserClaim,
		"user_claim_json_pointer": r.UserClaimJSONPointer != nil && *r.UserClaimJSONPointer,
		"groups_claim":            r.GroupsClaim,
		"bound_audiences":         nonNil(r.BoundAudiences),
		"bound_subject":           r.BoundSubject,
		"bound_claims":            mapOrEmpty(r.BoundClaims),
		"bound_claims_type":       r.BoundClaimsType,
		"claim_mappings":          mapOrEmpty(r.ClaimMappings),
		"allowed_redirect_uris":   nonNil(r.AllowedRedirectURIs),
		"oidc_scopes":             nonNil(r.OIDCScopes),
		"token_policies":          nonNil(r.Policies),
		"verbose_oidc_logging":    r.VerboseOIDCLogging,
	}
	for _, k := range slices.Sorted(maps.Keys(durs)) {
		n, err := seconds(durs[k])
		if err != nil {
			return nil, fmt.Errorf("%s: want a duration like 1h or 3600, got %q", k, durs[k])
		}
		body[k] = n
	}
	return body, nil
}

// roles plans the roles of a mount: the whole role is written when any
// field differs, because Vault's role write resets what it is not sent.
// Roles the file does not name are pruned when the mount's record says
// ssoctl owns them; it returns those.
func (b *builder) roles(a spec.AuthMount) (map[string]bool, error) {
	bodies := map[string]map[string]any{}
	for name, r := range a.Roles {
		body, err := roleBody(r)
		if err != nil {
			return nil, &InputError{Msg: fmt.Sprintf("vault.auth %q role %q: %v", a.Path, name, err)}
		}
		bodies[name] = body
	}
	have := map[string]map[string]any{}
	for _, n := range b.st.RoleNames[a.Path] {
		have[n] = nil // listed: its body is read only when the file names it
	}
	maps.Copy(have, b.st.Roles[a.Path])
	owners := b.st.RoleOwners(a.Path)
	if err := b.conflicts(a.Path, owners, slices.Sorted(maps.Keys(a.Roles))); err != nil {
		return nil, err
	}
	owned := b.mine(owners)
	pruned := map[string]bool{}
	for _, it := range plan.Reconcile(plan.Set[string, map[string]any]{
		Want:  slices.Sorted(maps.Keys(a.Roles)),
		Have:  have,
		Name:  func(n string) string { return n },
		Diff:  func(n string, cur map[string]any) []plan.FieldDiff { return roleDiff(bodies[n], cur) },
		Owned: func(n string) bool { return owned[n] },
	}) {
		label := a.Path + "/" + it.Name
		switch it.Action {
		case plan.Delete:
			pruned[it.Name] = it.Owned
			c := b.change("role", label, plan.Delete, stepPrune, nil, deleteRole{a.Path, it.Name})
			if o, recorded := owners[it.Name]; recorded && !it.Owned {
				b.p.AddOthers(c, cmp.Or(o, plan.Unowned))
				continue
			}
			b.p.AddExtra(c, it.Owned)
		case plan.Create:
			want := bodies[it.Name]
			var fields []plan.FieldDiff
			for _, k := range slices.Sorted(maps.Keys(want)) {
				if nv := normalize(want[k]); !plan.Equal(nil, nv) && nv != float64(0) && nv != false {
					fields = append(fields, plan.FieldDiff{Field: k, New: want[k]})
				}
			}
			b.p.Add(b.change("role", label, plan.Create, stepRoles, fields, writeRole{a.Path, it.Name, want}))
		default:
			b.p.Add(b.change("role", label, it.Action, stepRoles, it.Fields, writeRole{a.Path, it.Name, bodies[it.Name]}))
		}
	}
	return pruned, nil
}

// roleDiff compares the role the file wants with what Vault returns.
func roleDiff(want, have map[string]any) []plan.FieldDiff {
	var fields []plan.FieldDiff
	for _, k := range slices.Sorted(maps.Keys(want)) {
		old := normalize(have[k])
		if !equalUnordered(k, old, normalize(want[k])) {
			fields = append(fields, plan.FieldDiff{Field: k, Old: old, New: want[k]})
		}
	}
	return fields
}

// equalUnordered compares field values; the lists Vault treats as sets
// compare without order.
func equalUnordered(field string, a, b any) bool {
	switch field {
	case "bound_audiences", "allowed_redirect_uris", "oidc_scopes", "token_policies", "jwt_supported_algs":
		return plan.Equal(sortedAny(a), sortedAny(b))
	}
	return plan.Equal(a, b) || reflect.DeepEqual(a, b)
}

// writeRole writes a whole role. A role Vault refuses is the file's fault.
type writeRole struct {
	Path, Name string
	Body       map[string]any
}

func (o writeRole) apply(ctx context.Context, x *executor) error {
	_, err := x.c.write(ctx, "auth/"+o.Path+"/role/"+o.Name, o.Body)
	var e *APIError
	if errors.As(err, &e) && e.Status == 400 {
		return &InputError{Msg: fmt.Sprintf("vault.auth %q role %q: Vault refused it: %s", o.Path, o.Name, strings.Join(e.Errors, "; "))}
	}
	return err
}

type deleteRole struct{ Path, Name string }

func (o deleteRole) apply(ctx context.Context, x *executor) error {
	return x.c.delete(ctx, "auth/"+o.Path+"/role/"+o.Name)
}

// conflicts refuses roles the file names that another owner's option
// lists, unless the file adopts from that owner.
func (b *builder) conflicts(path string, owners map[string]string, named []string) error {
	var taken, others []string
	for _, n := range named {
		if o := owners[n]; b.o.claimant().Refuses(o) {
			taken = append(taken, fmt.Sprintf("role %s/%s (owned by %s)", path, n, o))
			others = append(others, o)
		}
	}
	if len(taken) == 0 {
		return nil
	}
	return &InputError{Msg: b.o.claimant().Conflict("roles", taken, others)}
}
