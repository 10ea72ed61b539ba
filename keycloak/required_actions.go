package keycloak

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
)

// Required actions. Their state comes from the realm's partial export
// (requiredActions), which planning reads anyway. Measured on Keycloak
// 26.7.3:
//   - PUT /authentication/required-actions/{alias} replaces the whole
//     action: a body without name and priority stores no name and priority
//     0. So an update sends the action as it is, with the managed fields
//     changed, read again just before (one GET).
//   - config rides in that PUT ({"config":{"max_auth_age":"300"}}) and is
//     read back in the export and in GET …/{alias}/config.
//   - An action deleted from the realm is listed by
//     GET /authentication/unregistered-required-actions as {providerId,
//     name}; POST /authentication/register-required-action with those
//     registers it again, enabled, not a default action, priority last.

// RequiredActionRep is a required action as Keycloak has it.
type RequiredActionRep struct {
	Alias         string            `json:"alias"`
	Name          string            `json:"name,omitempty"`
	ProviderID    string            `json:"providerId,omitempty"`
	Enabled       bool              `json:"enabled"`
	DefaultAction bool              `json:"defaultAction"`
	Priority      int               `json:"priority"`
	Config        map[string]string `json:"config,omitempty"`
}

// UnregisteredAction is a required-action provider the server has and the
// realm has not registered.
type UnregisteredAction struct {
	ProviderID string `json:"providerId"`
	Name       string `json:"name"`
}

// requiredActionsByAlias indexes the export's required actions; an empty
// (not nil) map when the realm has none.
func requiredActionsByAlias(list []*RequiredActionRep) map[string]*RequiredActionRep {
	out := make(map[string]*RequiredActionRep, len(list))
	for _, ra := range list {
		if ra != nil && ra.Alias != "" {
			out[ra.Alias] = ra
		}
	}
	return out
}

// readRequiredActions reads the required actions when they are asked for
// and the export did not hold them; not asked for, they are dropped, so
// that the state is the same whichever way it was read.
func (a *Admin) readRequiredActions(ctx context.Context, st *State, o ReadOptions) error {
	if !o.RequiredActions {
		st.RequiredActions = nil
		return nil
	}
	if st.RequiredActions != nil {
		return nil
	}
	var list []*RequiredActionRep
	if err := a.get(ctx, "/"+esc(st.Realm)+"/authentication/required-actions", &list); err != nil {
		return err
	}
	st.RequiredActions = requiredActionsByAlias(list)
	return nil
}

// readUnregisteredActions lists the providers the realm has not
// registered, only when the file names an alias the realm lacks.
func (a *Admin) readUnregisteredActions(ctx context.Context, d *Desired, st *State) error {
	if !st.RealmExists || st.RequiredActions == nil {
		return nil
	}
	needed := slices.ContainsFunc(d.RequiredActions, func(ra spec.RequiredAction) bool { return st.RequiredActions[ra.Alias] == nil })
	if !needed {
		return nil
	}
	list := []UnregisteredAction{}
	if err := a.get(ctx, "/"+esc(st.Realm)+"/authentication/unregistered-required-actions", &list); err != nil {
		return err
	}
	st.UnregisteredActions = list
	return nil
}

// requiredActions plans the file's required actions: each listed one
// enabled (unless enabled: false), a default action only with default:
// true, its named config keys set. Actions the file does not list are left
// alone.
func (b *builder) requiredActions() error {
	have := b.st.RequiredActions
	if !b.st.RealmExists {
		have = requiredActionsByAlias(newRealmRequiredActions())
	}
	for i, ra := range b.d.RequiredActions {
		enabled, def := flag(ra.Enabled, true), flag(ra.Default, false)
		cur := have[ra.Alias]
		if cur == nil && have != nil && b.st.RealmExists {
			if !slices.ContainsFunc(b.st.UnregisteredActions, func(u UnregisteredAction) bool { return u.ProviderID == ra.Alias }) {
				return b.unknownAction(i, ra.Alias)
			}
		}
		if cur == nil {
			fields := []plan.FieldDiff{{Field: "enabled", New: enabled}, {Field: "defaultAction", New: def}}
			for _, k := range slices.Sorted(maps.Keys(ra.Config)) {
				fields = append(fields, plan.FieldDiff{Field: "config." + k, New: ra.Config[k]})
			}
			b.p.Add(b.change("required-action", ra.Alias, plan.Create, stepRoles, fields,
				updateRequiredAction{Alias: ra.Alias, Enabled: enabled, Default: def, Config: ra.Config, Register: true}))
			continue
		}
		var fields []plan.FieldDiff
		if cur.Enabled != enabled {
			fields = append(fields, plan.FieldDiff{Field: "enabled", Old: cur.Enabled, New: enabled})
		}
		if cur.DefaultAction != def {
			fields = append(fields, plan.FieldDiff{Field: "defaultAction", Old: cur.DefaultAction, New: def})
		}
		for _, k := range slices.Sorted(maps.Keys(ra.Config)) {
			if old, ok := cur.Config[k]; !ok || old != ra.Config[k] {
				fields = append(fields, plan.FieldDiff{Field: "config." + k, Old: presentOrNil(old, ok), New: ra.Config[k]})
			}
		}
		if len(fields) == 0 {
			b.p.Add(b.change("required-action", ra.Alias, plan.NoOp, stepRoles, nil, nil))
			continue
		}
		b.p.Add(b.change("required-action", ra.Alias, plan.Update, stepRoles, fields,
			updateRequiredAction{Alias: ra.Alias, Enabled: enabled, Default: def, Config: ra.Config}))
	}
	return nil
}

// unknownAction is the error of an alias the server does not offer.
func (b *builder) unknownAction(i int, alias string) error {
	var offered []string
	for a := range b.st.RequiredActions {
		offered = append(offered, a)
	}
	for _, u := range b.st.UnregisteredActions {
		offered = append(offered, u.ProviderID)
	}
	slices.Sort(offered)
	return &InputError{Key: fmt.Sprintf("keycloak.required_actions[%d].alias", i),
		Msg: fmt.Sprintf("required action %s is not one this Keycloak offers; it has %s", spec.Quote(alias), strings.Join(offered, ", "))}
}

func presentOrNil(s string, ok bool) any {
	if !ok {
		return nil
	}
	return s
}

// updateRequiredAction sets a required action's managed fields, keeping
// its name, priority and other config keys (a PUT replaces them all).
// Register first registers a provider that the realm has not (a new realm's
// actions are there already: nothing is registered then).
type updateRequiredAction struct {
	Alias            string
	Enabled, Default bool
	Config           map[string]string
	Register         bool
}

func (o updateRequiredAction) apply(ctx context.Context, x *executor) error {
	path := x.path("authentication", "required-actions", esc(o.Alias))
	var cur RequiredActionRep
	err := x.a.get(ctx, path, &cur)
	if IsNotFound(err) && o.Register {
		err = x.registerAction(ctx, o.Alias)
		if err == nil {
			err = x.a.get(ctx, path, &cur)
		}
	}
	if err != nil {
		return err
	}
	want := cur
	want.Enabled, want.DefaultAction = o.Enabled, o.Default
	want.Config = maps.Clone(cur.Config)
	if want.Config == nil {
		want.Config = map[string]string{}
	}
	maps.Copy(want.Config, o.Config)
	if want.Enabled == cur.Enabled && want.DefaultAction == cur.DefaultAction && maps.Equal(want.Config, cur.Config) {
		return nil // a registration that already gave what the file wants
	}
	_, err = x.a.do(ctx, http.MethodPut, path, want, nil)
	return err
}

// registerAction registers the provider alias names, when the server
// offers it.
func (x *executor) registerAction(ctx context.Context, alias string) error {
	var list []UnregisteredAction
	if err := x.a.get(ctx, x.path("authentication", "unregistered-required-actions"), &list); err != nil {
		return err
	}
	i := slices.IndexFunc(list, func(u UnregisteredAction) bool { return u.ProviderID == alias })
	if i < 0 {
		return notFound("required action provider %q on the server", alias)
	}
	_, err := x.a.do(ctx, http.MethodPost, x.path("authentication", "register-required-action"), list[i], nil)
	return err
}

// newRealmRequiredActions are the required actions of a realm created over
// the admin API, as GET /admin/realms/hset-probe's partial export listed
// them on the testbed's Keycloak 26.7.3 (measured 2026-12-07): all
// registered, none a default action, config empty.
func newRealmRequiredActions() []*RequiredActionRep {
	type ra struct {
		alias   string
		enabled bool
	}
	list := []ra{
		{"TERMS_AND_CONDITIONS", false}, {"UPDATE_PROFILE", true}, {"VERIFY_EMAIL", true}, {"CONFIGURE_TOTP", true},
		{"UPDATE_PASSWORD", true}, {"delete_account", false}, {"UPDATE_EMAIL", false}, {"webauthn-register", true},
		{"webauthn-register-passwordless", true}, {"VERIFY_PROFILE", true}, {"delete_credential", true}, {"idp_link", true},
		{"CONFIGURE_RECOVERY_AUTHN_CODES", true}, {"update_user_locale", true},
	}
	out := make([]*RequiredActionRep, len(list))
	for i, r := range list {
		out[i] = &RequiredActionRep{Alias: r.alias, ProviderID: r.alias, Enabled: r.enabled}
	}
	return out
}

// exportRequiredActions writes the required actions that differ from a new
// realm's: enabled or disabled otherwise, default ones, configured ones,
// and actions a new realm does not have.
func exportRequiredActions(st *State) []spec.RequiredAction {
	if st.RequiredActions == nil {
		return nil
	}
	defaults := requiredActionsByAlias(newRealmRequiredActions())
	var out []spec.RequiredAction
	for _, alias := range slices.Sorted(maps.Keys(st.RequiredActions)) {
		cur := st.RequiredActions[alias]
		def := defaults[alias]
		if def != nil && def.Enabled == cur.Enabled && !cur.DefaultAction && len(cur.Config) == 0 {
			continue
		}
		ra := spec.RequiredAction{Alias: alias}
		if !cur.Enabled {
			ra.Enabled = ptr(false)
		}
		if cur.DefaultAction {
			ra.Default = ptr(true)
		}
		if len(cur.Config) > 0 {
			ra.Config = maps.Clone(cur.Config)
		}
		out = append(out, ra)
	}
	return out
}
