package keycloak

import (
	"cmp"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
)

// Authorization policies and permissions. Keycloak keeps both in one list
// (AuthzPolicy), exports them by name, and takes them by name through the
// import endpoint; a permission applies policies to resources or scopes.

// AuthzPolicy is a policy or a permission (Keycloak keeps both in one
// list): its type, logic, decision strategy and config, whose values are
// JSON strings as in the export.
type AuthzPolicy struct {
	Name             string            `json:"name"`
	Description      string            `json:"description,omitempty"`
	Type             string            `json:"type"`
	Logic            string            `json:"logic"`
	DecisionStrategy string            `json:"decisionStrategy"`
	Config           map[string]string `json:"config"`
}

func jsonList(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// isPermission reports a permission among the policies.
func isPermission(p AuthzPolicy) bool { return p.Type == "scope" || p.Type == "resource" }

// policyDiff compares a wanted policy with the exported one: config values
// that are JSON lists compare as sets, an empty list as an absent key.
func policyDiff(want, have AuthzPolicy) []plan.FieldDiff {
	var fs []plan.FieldDiff
	fs = plan.Diff(fs, "type", have.Type, want.Type)
	fs = plan.Diff(fs, "description", have.Description, want.Description)
	fs = plan.Diff(fs, "logic", have.Logic, want.Logic)
	fs = plan.Diff(fs, "decisionStrategy", have.DecisionStrategy, want.DecisionStrategy)
	keys := maps.Clone(want.Config)
	maps.Copy(keys, have.Config)
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		hv, wv := normConfig(have.Config[k]), normConfig(want.Config[k])
		if hv != wv {
			fs = append(fs, plan.FieldDiff{Field: "config." + k, Old: orNil(have.Config[k]), New: orNil(want.Config[k])})
		}
	}
	return fs
}

func orNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// normConfig writes a config value so that order within a JSON list does
// not count and an empty list equals no value.
func normConfig(v string) string {
	var list []json.RawMessage
	if json.Unmarshal([]byte(v), &list) != nil {
		return v
	}
	if len(list) == 0 {
		return ""
	}
	items := make([]string, len(list))
	for i, it := range list {
		var x any
		json.Unmarshal(it, &x)
		b, _ := json.Marshal(x) // map keys sorted
		items[i] = string(b)
	}
	slices.Sort(items)
	return strings.Join(items, ",")
}

// importPolicy creates or updates one policy or permission by name through
// the import endpoint. Every config key of the type is sent: a key left
// out keeps its old value.
type importPolicy struct {
	Client string
	Policy AuthzPolicy
}

func (o importPolicy) apply(ctx context.Context, x *executor) error {
	p, err := x.authzPath(ctx, o.Client, "import")
	if err != nil {
		return err
	}
	_, err = x.a.do(ctx, http.MethodPost, p, map[string]any{"policies": []AuthzPolicy{o.Policy}}, nil)
	return err
}

// upperOr is s, or def when s is empty, in Keycloak's upper case.
func upperOr(s, def string) string { return strings.ToUpper(cmp.Or(s, def)) }

// lowerOmitted is s in the file's lower case, "" when that is def.
func lowerOmitted(s, def string) string {
	if s = strings.ToLower(s); s == def {
		return ""
	}
	return s
}

// expandPolicy turns one of the file's policies into Keycloak's form.
func expandPolicy(p spec.AuthzPolicy) AuthzPolicy {
	ap := AuthzPolicy{Name: p.Name, Description: p.Description, Type: p.Type, Logic: upperOr(p.Logic, "positive"), DecisionStrategy: "UNANIMOUS", Config: map[string]string{}}
	switch p.Type {
	case "role":
		type role struct {
			ID       string `json:"id"`
			Required bool   `json:"required"`
		}
		var rs []role
		for _, r := range p.Roles {
			rs = append(rs, role{ID: r})
		}
		ap.Config["roles"] = jsonList(rs)
	case "group":
		type group struct {
			Path           string `json:"path"`
			ExtendChildren bool   `json:"extendChildren"`
		}
		var gs []group
		for _, g := range p.Groups {
			gs = append(gs, group{Path: "/" + strings.Trim(g, "/"), ExtendChildren: p.ExtendChildren})
		}
		ap.Config["groups"] = jsonList(gs)
	case "user":
		ap.Config["users"] = jsonList(p.Users)
	case "client":
		ap.Config["clients"] = jsonList(p.Clients)
	case "time":
		for k, v := range map[string]string{"nbf": p.NotBefore, "noa": p.NotOnOrAfter, "dayMonth": p.DayMonth, "dayMonthEnd": p.DayMonthEnd,
			"month": p.Month, "monthEnd": p.MonthEnd, "year": p.Year, "yearEnd": p.YearEnd, "hour": p.Hour, "hourEnd": p.HourEnd,
			"minute": p.Minute, "minuteEnd": p.MinuteEnd} {
			if v != "" {
				ap.Config[k] = v
			}
		}
	}
	return ap
}

// expandPermission turns one of the file's permissions into Keycloak's
// form: a policy whose config names the policies it applies.
func expandPermission(p spec.Permission) AuthzPolicy {
	ap := AuthzPolicy{Name: p.Name, Description: p.Description, Type: p.Type, Logic: "POSITIVE", DecisionStrategy: upperOr(p.DecisionStrategy, "unanimous"),
		Config: map[string]string{"applyPolicies": jsonList(orEmpty(p.Policies)), "resources": jsonList(orEmpty(p.Resources))}}
	if p.Type == "scope" {
		ap.Config["scopes"] = jsonList(orEmpty(p.Scopes))
	}
	if p.ResourceType != "" {
		ap.Config["defaultResourceType"] = p.ResourceType
	}
	return ap
}

// exportPermission describes an exported permission as the file writes it.
func exportPermission(p AuthzPolicy) spec.Permission {
	return spec.Permission{Name: p.Name, Description: p.Description, Type: p.Type,
		Scopes: ConfigList(p, "scopes"), Resources: ConfigList(p, "resources"), ResourceType: p.Config["defaultResourceType"],
		Policies: ConfigList(p, "applyPolicies"), DecisionStrategy: lowerOmitted(p.DecisionStrategy, "unanimous")}
}

// exportPolicy describes an exported policy as the file writes it; false
// for the types the file cannot write (js, aggregate, regex, client-scope).
func exportPolicy(p AuthzPolicy) (spec.AuthzPolicy, bool) {
	sp := spec.AuthzPolicy{Name: p.Name, Description: p.Description, Type: p.Type, Logic: lowerOmitted(p.Logic, "positive")}
	c := p.Config
	switch p.Type {
	case "role":
		sp.Roles = PolicyRoles(p)
	case "group":
		var gs []struct {
			Path           string `json:"path"`
			ExtendChildren bool   `json:"extendChildren"`
		}
		json.Unmarshal([]byte(c["groups"]), &gs)
		for _, g := range gs {
			sp.Groups = append(sp.Groups, g.Path)
			sp.ExtendChildren = sp.ExtendChildren || g.ExtendChildren
		}
	case "user":
		sp.Users = ConfigList(p, "users")
	case "client":
		sp.Clients = ConfigList(p, "clients")
	case "time":
		sp.NotBefore, sp.NotOnOrAfter, sp.DayMonth, sp.DayMonthEnd = c["nbf"], c["noa"], c["dayMonth"], c["dayMonthEnd"]
		sp.Month, sp.MonthEnd, sp.Year, sp.YearEnd = c["month"], c["monthEnd"], c["year"], c["yearEnd"]
		sp.Hour, sp.HourEnd, sp.Minute, sp.MinuteEnd = c["hour"], c["hourEnd"], c["minute"], c["minuteEnd"]
	default:
		return sp, false
	}
	return sp, true
}

// policies plans the resource server's policies and permissions.
func (ap authzPlan) policies(want, have []AuthzPolicy) {
	havePol := map[string]AuthzPolicy{}
	for _, p := range have {
		havePol[p.Name] = p
	}
	for _, it := range plan.Reconcile(plan.Set[AuthzPolicy, AuthzPolicy]{Want: want, Have: havePol,
		Name: func(p AuthzPolicy) string { return p.Name }, Diff: policyDiff, Owned: ap.owned("policy")}) {
		kind, step := "authz-policy", stepAuthzPolicies
		if isPermission(it.Want) || (it.Action == plan.Delete && isPermission(it.Have)) {
			kind, step = "authz-permission", stepAuthzPermissions
		}
		name := ap.label(strings.TrimPrefix(kind, "authz-"), it.Name)
		switch it.Action {
		case plan.Delete:
			if !ap.b.d.Partial {
				pstep := stepPrune + 1
				if kind == "authz-permission" {
					pstep = stepPrune // permissions go before the policies they apply
				}
				ap.extra(ap.b.change(kind, name, plan.Delete, pstep, nil, deleteAuthz{ap.cid, "policy", it.Name}), "policy", it.Name)
			}
			continue
		case plan.Create:
			ap.b.p.Add(ap.b.change(kind, name, plan.Create, step, policyDiff(it.Want, AuthzPolicy{}), importPolicy{ap.cid, it.Want}))
		case plan.Update:
			ap.b.p.Add(ap.b.change(kind, name, plan.Update, step, it.Fields, importPolicy{ap.cid, it.Want}))
		default:
			ap.b.p.Add(ap.b.change(kind, name, plan.NoOp, step, nil, nil))
		}
		ap.b.name(authzRef("policy", ap.cid, it.Name))
	}
}
