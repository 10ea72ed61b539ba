// Package plan is the change set every ssoctl apply shares: one Change per
// managed object (create, update, delete or no-op) with its field diffs, in
// dependency order, rendered as text or JSON, and executed phase by phase.
//
// It also holds what the per-system planners share: the reconciler that
// syncs a name-keyed set of objects (Reconcile), the registry of ids that
// objects receive while a plan is applied (IDs), the record of what ssoctl
// owns (Owned), and MissingSecretError.
package plan

import (
	"context"
	"fmt"
)

// Action is what applying a change does to its object.
type Action string

// The actions.
const (
	Create Action = "create"
	Update Action = "update"
	Delete Action = "delete"
	NoOp   Action = "no-op"
)

// FieldDiff is one field whose value changes. Old is nil on create.
type FieldDiff struct {
	Field string `json:"field"`
	Old   any    `json:"old,omitempty"`
	New   any    `json:"new,omitempty"`
	// Secret values are masked when rendered unless secrets are shown.
	Secret bool `json:"secret,omitempty"`
}

// Change is one object's change.
type Change struct {
	// System is keycloak or vault.
	System string `json:"system"`
	// Kind names the object type, e.g. client, mapper, group-role-binding.
	Kind string `json:"kind"`
	// Name identifies the object within its system, e.g. demo/vault/audience vault.
	Name   string      `json:"name"`
	Action Action      `json:"action"`
	Fields []FieldDiff `json:"fields,omitempty"`
	// Note says why the change is planned when the file does not say it
	// directly, e.g. "needed by django site brewery (social-auth)".
	Note string `json:"note,omitempty"`
	// Phase and Step order execution: every change of an earlier phase is
	// applied before any of a later one, and within a phase by Step. Changes
	// with the same phase and step are independent of each other.
	Phase Phase `json:"-"`
	Step  int   `json:"-"`
	// Op is the operation as data, as the system's planner decided it; the
	// system's applier turns it into requests. Nil for no-ops.
	Op any `json:"-"`
	// Apply performs the change. The system that planned it binds it to a
	// live connection; nil for no-ops and for a plan that was only diffed.
	Apply func(context.Context) error `json:"-"`
}

// Object names an object without a change: one that exists on a server,
// is not named in the file, and is not ssoctl's to delete.
type Object struct {
	System string `json:"system"`
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	// Owner is set when another file owns the object (see spec.File.Owner):
	// ssoctl manages it, for that file, and leaves it alone for this one.
	Owner string `json:"owner,omitempty"`
}

// Plan is an ordered change set plus any warnings found while planning.
type Plan struct {
	Changes []*Change `json:"changes"`
	// Prunable are deletions of objects that ssoctl created or adopted and
	// that the file no longer names. They are applied only with --prune
	// (IncludePrunable).
	Prunable []*Change `json:"prunable,omitempty"`
	// AfterPrune are the changes that follow a successful prune: the
	// ownership records without the deleted objects. IncludePrunable moves
	// them into the change set too.
	AfterPrune []*Change `json:"-"`
	// Unmanaged are objects that the file does not name and that ssoctl did
	// not create or adopt (made by hand, or by someone else): never deleted.
	Unmanaged []Object `json:"unmanaged,omitempty"`
	Warnings  []string `json:"warnings,omitempty"`
	// Servers are the servers the plan was read from, as they named
	// themselves, e.g. "OpenBao 2.7.2 at http://127.0.0.1:8200".
	Servers []string `json:"servers,omitempty"`
}

// IncludePrunable moves the prunable deletions, and the changes that follow
// them, into the change set, for apply --prune.
func (p *Plan) IncludePrunable() {
	p.Changes = append(p.Changes, p.Prunable...)
	p.Changes = append(p.Changes, p.AfterPrune...)
	p.Prunable, p.AfterPrune = nil, nil
}

// Merge appends another plan's changes, prunables, unmanaged objects and
// warnings.
func (p *Plan) Merge(o *Plan) {
	p.Changes = append(p.Changes, o.Changes...)
	p.Prunable = append(p.Prunable, o.Prunable...)
	p.AfterPrune = append(p.AfterPrune, o.AfterPrune...)
	p.Unmanaged = append(p.Unmanaged, o.Unmanaged...)
	p.Warnings = append(p.Warnings, o.Warnings...)
	p.Servers = append(p.Servers, o.Servers...)
}

// Add appends changes.
func (p *Plan) Add(cs ...*Change) { p.Changes = append(p.Changes, cs...) }

// Warn records a planning warning.
func (p *Plan) Warn(format string, args ...any) {
	p.Warnings = append(p.Warnings, fmt.Sprintf(format, args...))
}

// Summary counts changes by action.
type Summary struct {
	Create int `json:"create"`
	Update int `json:"update"`
	Delete int `json:"delete"`
	NoOp   int `json:"no-op"`
}

// Summary counts the plan's changes by action.
func (p *Plan) Summary() Summary {
	var s Summary
	for _, c := range p.Changes {
		switch c.Action {
		case Create:
			s.Create++
		case Update:
			s.Update++
		case Delete:
			s.Delete++
		default:
			s.NoOp++
		}
	}
	return s
}

// HasChanges reports whether applying the plan would write anything.
func (p *Plan) HasChanges() bool {
	s := p.Summary()
	return s.Create+s.Update+s.Delete > 0
}

// Bind sets Apply on every change of system that carries an operation, with
// apply performing it. Planners call it once their plan is diffed.
func (p *Plan) Bind(system string, apply func(context.Context, *Change) error) {
	for _, list := range [][]*Change{p.Changes, p.Prunable, p.AfterPrune} {
		for _, c := range list {
			if c.System == system && c.Op != nil && c.Action != NoOp {
				c.Apply = func(ctx context.Context) error { return apply(ctx, c) }
			}
		}
	}
}

// AddExtra files the deletion of an object the file does not name: with
// the prunable deletions when ssoctl owns it, and as unmanaged (listed, left
// alone) when it does not.
func (p *Plan) AddExtra(c *Change, owned bool) {
	if owned {
		p.Prunable = append(p.Prunable, c)
		return
	}
	p.Unmanaged = append(p.Unmanaged, Object{System: c.System, Kind: c.Kind, Name: c.Name})
}

// AddOthers files the deletion of an object the file does not name and
// another owner owns: listed with its owner, left alone.
func (p *Plan) AddOthers(c *Change, owner string) {
	p.Unmanaged = append(p.Unmanaged, Object{System: c.System, Kind: c.Kind, Name: c.Name, Owner: owner})
}

// NewChange is how planners make a change: a no-op carries no operation.
func NewChange(system string, phase Phase, step int, kind, name string, action Action, fields []FieldDiff, op any) *Change {
	c := &Change{System: system, Kind: kind, Name: name, Action: action, Phase: phase, Step: step, Fields: fields}
	if action != NoOp {
		c.Op = op
	}
	return c
}
