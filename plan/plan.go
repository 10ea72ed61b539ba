// Package plan is the change set every ssoctl apply shares: one Change per
// managed object (create, update, delete or no-op) with its field diffs, in
// dependency order, rendered as text or JSON, and executed stage by stage.
package plan

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"
	"sync"

	"github.com/ssoctl/ssoctl/internal/secret"
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
	// Note explains something about the change a reader should know
	// (e.g. why an object is only deleted with --prune).
	Note string `json:"note,omitempty"`
	// Stage orders execution: every change of a lower stage is applied
	// before any of a higher one. Changes in one stage are independent.
	Stage int `json:"-"`
	// Apply performs the change. Nil for no-ops.
	Apply func(context.Context) error `json:"-"`
}

// Plan is an ordered change set plus any warnings found while planning.
type Plan struct {
	Changes []*Change `json:"changes"`
	// Prunable are deletions of managed kinds of object that the file no
	// longer names. They are applied only with --prune (IncludePrunable).
	Prunable []*Change `json:"prunable,omitempty"`
	Warnings []string  `json:"warnings,omitempty"`
}

// IncludePrunable moves the prunable deletions into the change set, for
// apply --prune.
func (p *Plan) IncludePrunable() {
	p.Changes = append(p.Changes, p.Prunable...)
	p.Prunable = nil
}

// Merge appends another plan's changes, prunables and warnings.
func (p *Plan) Merge(o *Plan) {
	p.Changes = append(p.Changes, o.Changes...)
	p.Prunable = append(p.Prunable, o.Prunable...)
	p.Warnings = append(p.Warnings, o.Warnings...)
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

// Result is the outcome of applying one change.
type Result struct {
	Change *Change
	Err    error
}

// ApplyError reports the changes that failed; those before them (and the
// independent ones beside them) were applied. Running apply again converges.
type ApplyError struct {
	Failed  []Result
	Applied int
}

func (e *ApplyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d change(s) failed (%d applied; run apply again after fixing the cause):", len(e.Failed), e.Applied)
	for _, r := range e.Failed {
		fmt.Fprintf(&b, "\n  %s %s %s: %v", r.Change.Action, r.Change.Kind, r.Change.Name, r.Err)
	}
	return b.String()
}

// Unwrap returns the first failure's cause, so errors.As finds typed server
// errors behind an apply failure.
func (e *ApplyError) Unwrap() error {
	if len(e.Failed) == 0 {
		return nil
	}
	return e.Failed[0].Err
}

// Execute applies the plan's changes stage by stage, running up to
// concurrency changes of one stage at a time. It stops after the first stage
// with a failure (later stages may depend on it) and when ctx is cancelled.
// done is called after each change, in completion order.
func (p *Plan) Execute(ctx context.Context, concurrency int, done func(Result)) error {
	if concurrency < 1 {
		concurrency = 1
	}
	stages := map[int][]*Change{}
	var order []int
	for _, c := range p.Changes {
		if c.Action == NoOp || c.Apply == nil {
			continue
		}
		if _, ok := stages[c.Stage]; !ok {
			order = append(order, c.Stage)
		}
		stages[c.Stage] = append(stages[c.Stage], c)
	}
	sort.Ints(order)
	applied := 0
	var failed []Result
	var mu sync.Mutex
	for _, st := range order {
		sem := make(chan struct{}, concurrency)
		var wg sync.WaitGroup
		for _, c := range stages[st] {
			if ctx.Err() != nil {
				break
			}
			sem <- struct{}{}
			wg.Add(1)
			go func(c *Change) {
				defer wg.Done()
				defer func() { <-sem }()
				err := ctx.Err()
				if err == nil {
					err = c.Apply(ctx)
				}
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					failed = append(failed, Result{c, err})
				} else {
					applied++
				}
				if done != nil {
					done(Result{c, err})
				}
			}(c)
		}
		wg.Wait()
		if len(failed) > 0 {
			return &ApplyError{Failed: failed, Applied: applied}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// RenderOptions control rendering.
type RenderOptions struct {
	ShowSecrets bool
	// ShowNoOps lists unchanged objects one by one instead of counting them.
	ShowNoOps bool
	// Style, when set, decorates a rendered symbol or line for a terminal;
	// role is one of create, update, delete, no-op, muted.
	Style func(role, s string) string
}

// WriteText renders the plan for people.
func (p *Plan) WriteText(w io.Writer, o RenderOptions) error {
	style := o.Style
	if style == nil {
		style = func(_, s string) string { return s }
	}
	var b strings.Builder
	for _, c := range p.Changes {
		if c.Action == NoOp && !o.ShowNoOps {
			continue
		}
		sym := map[Action]string{Create: "+", Update: "~", Delete: "-", NoOp: "="}[c.Action]
		fmt.Fprintf(&b, "%s %s %s %s", style(string(c.Action), sym), c.System, c.Kind, c.Name)
		if c.Note != "" {
			b.WriteString(style("muted", "  ("+c.Note+")"))
		}
		b.WriteByte('\n')
		for _, f := range c.Fields {
			old, nw := renderValue(f.Old, f.Secret, o.ShowSecrets), renderValue(f.New, f.Secret, o.ShowSecrets)
			switch c.Action {
			case Create:
				fmt.Fprintf(&b, "    %s: %s\n", f.Field, nw)
			case Delete:
				fmt.Fprintf(&b, "    %s: %s\n", f.Field, old)
			default:
				fmt.Fprintf(&b, "    %s: %s -> %s\n", f.Field, old, nw)
			}
		}
	}
	if len(p.Prunable) > 0 {
		fmt.Fprintf(&b, "%s\n", style("muted", "Not named in the file; apply --prune would delete:"))
		for _, c := range p.Prunable {
			fmt.Fprintf(&b, "%s %s %s %s\n", style("delete", "-"), c.System, c.Kind, c.Name)
		}
	}
	for _, wmsg := range p.Warnings {
		fmt.Fprintf(&b, "%s %s\n", style("update", "warning:"), wmsg)
	}
	s := p.Summary()
	fmt.Fprintf(&b, "Plan: %d to create, %d to update, %d to delete, %d unchanged.\n", s.Create, s.Update, s.Delete, s.NoOp)
	_, err := io.WriteString(w, b.String())
	return err
}

func renderValue(v any, isSecret, show bool) string {
	if v == nil {
		return "(none)"
	}
	if isSecret && !show {
		if s, ok := v.(string); ok {
			return secret.Mask(s)
		}
		return "****"
	}
	switch x := v.(type) {
	case string:
		if strings.Contains(x, "\n") {
			// Multi-line text (policies): an indented block, as written.
			return "|\n        " + strings.ReplaceAll(strings.TrimRight(x, "\n"), "\n", "\n        ")
		}
		return fmt.Sprintf("%q", x)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	}
}

// JSONDoc is the documented -o json shape of a plan (and of an apply, with
// Applied set).
type JSONDoc struct {
	Changes  []*Change `json:"changes"`
	Prunable []*Change `json:"prunable"`
	Summary  Summary   `json:"summary"`
	Warnings []string  `json:"warnings,omitempty"`
	// Applied is true in apply's output when every change was applied.
	Applied *bool `json:"applied,omitempty"`
}

// JSON returns the plan as its JSON document with secrets masked unless
// showSecrets.
func (p *Plan) JSON(showSecrets bool) JSONDoc {
	return JSONDoc{Changes: maskChanges(p.Changes, showSecrets), Prunable: maskChanges(p.Prunable, showSecrets), Summary: p.Summary(), Warnings: p.Warnings}
}

// maskChanges copies cs with secret field values masked.
func maskChanges(cs []*Change, showSecrets bool) []*Change {
	out := make([]*Change, len(cs))
	for i, c := range cs {
		cc := *c
		cc.Fields = make([]FieldDiff, len(c.Fields))
		for j, f := range c.Fields {
			if f.Secret && !showSecrets {
				if f.Old != nil {
					f.Old = renderValue(f.Old, true, false)
				}
				if f.New != nil {
					f.New = renderValue(f.New, true, false)
				}
			}
			cc.Fields[j] = f
		}
		out[i] = &cc
	}
	return out
}

// Diff compares old and new values of one field and appends a FieldDiff when
// they differ. Nil and empty slices and maps compare equal.
func Diff(fields []FieldDiff, name string, old, new any) []FieldDiff {
	if Equal(old, new) {
		return fields
	}
	return append(fields, FieldDiff{Field: name, Old: old, New: new})
}

// Equal compares two field values, treating nil and empty as the same.
func Equal(a, b any) bool {
	if isEmpty(a) && isEmpty(b) {
		return true
	}
	return reflect.DeepEqual(a, b)
}

func isEmpty(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Map, reflect.String:
		return rv.Len() == 0
	case reflect.Pointer:
		return rv.IsNil()
	}
	return false
}
