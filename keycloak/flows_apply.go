package keycloak

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"net/http"
	"strings"
)

// syncFlow makes one top-level flow match the file, in place: created
// when missing (empty, or as a copy of CopyOf), then filled level by level
// keeping every execution that stays (see syncLevel), then read back and
// checked. Run again after an interruption, it finishes the work; on a
// flow that matches it writes nothing.
type syncFlow struct{ Flow desiredFlow }

func (o syncFlow) apply(ctx context.Context, x *executor) error {
	f := o.Flow
	top, err := x.topFlow(ctx, f.Alias)
	if err != nil {
		return err
	}
	if top == nil {
		if top, err = x.createFlow(ctx, f); err != nil {
			return err
		}
		if f.Steps == nil {
			// A copy kept as it is: the copy is the flow.
			return nil
		}
	}
	x.ids.Set(flowRef(f.Alias), top.ID)
	if f.Description != "" && top.Description != f.Description {
		if err := x.putFlow(ctx, top.ID, f.Alias, f.Description, top.ProviderID, true); err != nil {
			return err
		}
	}
	if f.Steps == nil {
		return nil
	}
	if err := x.syncLevel(ctx, f.Alias, nil, f.Steps); err != nil {
		return fmt.Errorf("flow %s: %w", f.Alias, err)
	}
	got, err := x.flowTree(ctx, f.Alias, true)
	if err != nil {
		return err
	}
	if fs := compareSteps("executions", got, f.Steps); len(fs) > 0 {
		var parts []string
		for _, d := range fs {
			parts = append(parts, fmt.Sprintf("%s: %v -> %v", d.Field, d.Old, d.New))
		}
		return fmt.Errorf("flow %s differs from the file after apply: %s", f.Alias, strings.Join(parts, "; "))
	}
	return nil
}

// topFlow reads a top-level flow by alias from the flow listing; nil when
// the realm has none.
func (x *executor) topFlow(ctx context.Context, alias string) (*LiveFlow, error) {
	var flows []struct {
		ID          string `json:"id"`
		Alias       string `json:"alias"`
		Description string `json:"description"`
		ProviderID  string `json:"providerId"`
		BuiltIn     bool   `json:"builtIn"`
	}
	if err := x.a.get(ctx, x.path("authentication", "flows"), &flows); err != nil {
		return nil, err
	}
	for _, f := range flows {
		if f.Alias == alias {
			if f.BuiltIn {
				return nil, fmt.Errorf("flow %s is one of Keycloak's built-in flows, which ssoctl never edits", alias)
			}
			return &LiveFlow{ID: f.ID, Alias: f.Alias, Description: f.Description, ProviderID: cmp.Or(f.ProviderID, "basic-flow")}, nil
		}
	}
	return nil, nil
}

// createFlow creates an empty top-level flow, or a copy of f.CopyOf; a
// flow created meanwhile is taken as it is.
func (x *executor) createFlow(ctx context.Context, f desiredFlow) (*LiveFlow, error) {
	var err error
	if f.CopyOf != "" {
		body := map[string]any{"newName": f.Alias}
		if f.Description != "" {
			body["description"] = f.Description
		}
		_, err = x.a.do(ctx, http.MethodPost, x.path("authentication", "flows", esc(f.CopyOf), "copy"), body, nil)
	} else {
		_, err = x.a.do(ctx, http.MethodPost, x.path("authentication", "flows"), map[string]any{
			"alias": f.Alias, "description": f.Description, "providerId": f.Type, "topLevel": true, "builtIn": false}, nil)
	}
	if err != nil && !IsConflict(err) {
		return nil, err
	}
	top, err := x.topFlow(ctx, f.Alias)
	if err != nil {
		return nil, err
	}
	if top == nil {
		return nil, notFound("flow %q just created in realm %q", f.Alias, x.realm)
	}
	x.ids.Set(flowRef(f.Alias), top.ID)
	return top, nil
}

// putFlow sets a flow's description.
func (x *executor) putFlow(ctx context.Context, id, alias, description, providerID string, topLevel bool) error {
	_, err := x.a.do(ctx, http.MethodPut, x.path("authentication", "flows", esc(id)), map[string]any{
		"id": id, "alias": alias, "description": description, "providerId": providerID, "topLevel": topLevel, "builtIn": false}, nil)
	return err
}

// flowTree reads a flow's executions listing as steps, with the configs
// they name when configs is set.
func (x *executor) flowTree(ctx context.Context, alias string, configs bool) ([]flowStep, error) {
	var list []listedExecution
	if err := x.a.get(ctx, x.path("authentication", "flows", esc(alias), "executions"), &list); err != nil {
		return nil, err
	}
	steps := listedTree(list)
	if !configs {
		return steps, nil
	}
	err := walkSteps(steps, func(s *flowStep) error {
		if s.ConfigID == "" {
			return nil
		}
		var c exportedConfig
		if err := x.a.get(ctx, x.path("authentication", "config", esc(s.ConfigID)), &c); err != nil {
			return err
		}
		s.ConfigAlias, s.Config = c.Alias, c.Config
		return nil
	})
	return steps, err
}

// level finds the steps under the subflow path (aliases from the top).
func level(steps []flowStep, path []string) ([]flowStep, error) {
	for _, alias := range path {
		found := false
		for i := range steps {
			if steps[i].Subflow == alias {
				steps, found = steps[i].Steps, true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("subflow %s is missing", alias)
		}
	}
	return steps, nil
}

// syncLevel makes the executions under path (subflow aliases below top)
// match want: the live ones are matched to the file in order (same
// authenticator, same subflow; a longest common subsequence keeps the most
// ids); the extra ones are deleted, the kept ones get their requirement
// and priority (10, 20, 30 … in file order), the missing ones are added at
// their priority; then configs and subflow descriptions, then each
// subflow's own level.
func (x *executor) syncLevel(ctx context.Context, top string, path []string, want []flowStep) error {
	parent := top
	if len(path) > 0 {
		parent = path[len(path)-1]
	}
	tree, err := x.flowTree(ctx, top, false)
	if err != nil {
		return err
	}
	live, err := level(tree, path)
	if err != nil {
		return err
	}
	pairs := match(live, want)
	used := make([]bool, len(live))
	for _, i := range pairs {
		if i >= 0 {
			used[i] = true
		}
	}
	changed := false
	for i := range live {
		if !used[i] {
			if err := ignoreNotFound(x.a.do(ctx, http.MethodDelete, x.path("authentication", "executions", esc(live[i].ID)), nil, nil)); err != nil {
				return err
			}
			changed = true
		}
	}
	// The kept executions first, without two at one priority on the way:
	// those that move up from the last, then those that move down from
	// the first.
	var up, down []int
	for j, i := range pairs {
		if i < 0 {
			continue
		}
		if live[i].Priority < priority(j) {
			up = append([]int{j}, up...)
		} else {
			down = append(down, j)
		}
	}
	for _, j := range append(up, down...) {
		l, w := live[pairs[j]], want[j]
		if l.Priority != priority(j) || l.Requirement != w.Requirement {
			if err := x.putExecution(ctx, parent, l.ID, w.Requirement, priority(j)); err != nil {
				return err
			}
		}
	}
	for j, i := range pairs {
		if i >= 0 {
			continue
		}
		w := want[j]
		if w.Subflow != "" {
			body := map[string]any{"alias": w.Subflow, "type": w.Type, "description": w.Description, "priority": priority(j)}
			if w.Type == "form-flow" {
				body["provider"] = w.Provider
			}
			_, err = x.a.do(ctx, http.MethodPost, x.path("authentication", "flows", esc(parent), "executions", "flow"), body, nil)
		} else {
			_, err = x.a.do(ctx, http.MethodPost, x.path("authentication", "flows", esc(parent), "executions", "execution"),
				map[string]any{"provider": w.Authenticator, "priority": priority(j)}, nil)
		}
		if err != nil {
			return err
		}
		changed = true
	}
	if changed {
		if tree, err = x.flowTree(ctx, top, false); err != nil {
			return err
		}
		if live, err = level(tree, path); err != nil {
			return err
		}
		pairs = match(live, want)
	}
	for j, i := range pairs {
		if i < 0 {
			return fmt.Errorf("%s: %s was added but is not listed", strings.Join(append([]string{top}, path...), " > "), want[j].label())
		}
		l, w := live[i], want[j]
		if l.Priority != priority(j) || l.Requirement != w.Requirement {
			if err := x.putExecution(ctx, parent, l.ID, w.Requirement, priority(j)); err != nil {
				return err
			}
		}
		if w.Subflow != "" {
			if w.Description != "" && l.Description != w.Description {
				if err := x.putFlow(ctx, l.FlowID, w.Subflow, w.Description, w.Type, false); err != nil {
					return err
				}
			}
			if err := x.syncLevel(ctx, top, append(path[:len(path):len(path)], w.Subflow), w.Steps); err != nil {
				return err
			}
			continue
		}
		if err := x.syncConfig(ctx, top, &l, &w); err != nil {
			return err
		}
	}
	return nil
}

// priority is the priority of the j-th execution of a level.
func priority(j int) int { return (j + 1) * 10 }

// putExecution sets an execution's requirement and priority (Keycloak 25+
// takes both in one PUT).
func (x *executor) putExecution(ctx context.Context, flow, id, requirement string, prio int) error {
	_, err := x.a.do(ctx, http.MethodPut, x.path("authentication", "flows", esc(flow), "executions"),
		map[string]any{"id": id, "requirement": requirement, "priority": prio}, nil)
	return err
}

// syncConfig writes the config the file gives an execution, when it
// differs: a new one under the file's alias (or the default one), or the
// execution's own updated.
func (x *executor) syncConfig(ctx context.Context, top string, l, w *flowStep) error {
	if w.Config == nil {
		return nil
	}
	alias := cmp.Or(w.ConfigAlias, w.defaultAlias)
	if l.ConfigID == "" {
		_, err := x.a.do(ctx, http.MethodPost, x.path("authentication", "executions", esc(l.ID), "config"),
			map[string]any{"alias": alias, "config": w.Config}, nil)
		return err
	}
	var c exportedConfig
	if err := x.a.get(ctx, x.path("authentication", "config", esc(l.ConfigID)), &c); err != nil {
		return err
	}
	if maps.Equal(c.Config, w.Config) && (w.ConfigAlias == "" || c.Alias == w.ConfigAlias) {
		return nil
	}
	alias = cmp.Or(w.ConfigAlias, c.Alias)
	_, err := x.a.do(ctx, http.MethodPut, x.path("authentication", "config", esc(l.ConfigID)),
		map[string]any{"id": l.ConfigID, "alias": alias, "config": w.Config}, nil)
	return err
}

// deleteFlow deletes a top-level flow ssoctl created (apply --prune).
type deleteFlow struct{ Alias, ID string }

func (o deleteFlow) apply(ctx context.Context, x *executor) error {
	return ignoreNotFound(x.a.do(ctx, http.MethodDelete, x.path("authentication", "flows", esc(o.ID)), nil, nil))
}

// setBindings PUTs the realm's binding fields that differ (by alias); the
// realm's other settings are left as they are.
type setBindings struct{ Body map[string]any }

func (o setBindings) apply(ctx context.Context, x *executor) error {
	_, err := x.a.do(ctx, http.MethodPut, x.path(), o.Body, nil)
	return err
}

// flowID returns the id of a top-level flow, created in this apply or
// not.
func (x *executor) flowID(ctx context.Context, alias string) (string, error) {
	if id, ok := x.ids.Get(flowRef(alias)); ok {
		return id, nil
	}
	f, err := x.topFlow(ctx, alias)
	if err != nil {
		return "", err
	}
	if f == nil {
		return "", notFound("flow %q in realm %q", alias, x.realm)
	}
	x.ids.Set(flowRef(alias), f.ID)
	return f.ID, nil
}

// overrideBody is a client's authenticationFlowBindingOverrides for the
// file's overrides, by flow id ("" removes one; Keycloak keeps the keys
// a PUT leaves out).
func (x *executor) overrideBody(ctx context.Context, os []clientOverride) (map[string]string, error) {
	out := map[string]string{}
	for _, o := range os {
		if o.alias == "" {
			out[o.key] = ""
			continue
		}
		id, err := x.flowID(ctx, o.alias)
		if err != nil {
			return nil, err
		}
		out[o.key] = id
	}
	return out, nil
}

// withOverrides is body with the client's flow overrides, when it has any.
func (x *executor) withOverrides(ctx context.Context, body map[string]any, os []clientOverride) (map[string]any, error) {
	if len(os) == 0 {
		return body, nil
	}
	ov, err := x.overrideBody(ctx, os)
	if err != nil {
		return nil, err
	}
	body = maps.Clone(body)
	body["authenticationFlowBindingOverrides"] = ov
	return body, nil
}
