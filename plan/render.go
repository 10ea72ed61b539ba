package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/ssoctl/ssoctl/internal/secret"
)

// RenderOptions control rendering.
type RenderOptions struct {
	ShowSecrets bool
	// Style, when set, decorates a rendered symbol or line for a terminal;
	// role is one of create, update, delete, no-op, muted.
	Style func(role, s string) string
}

var symbols = map[Action]string{Create: "+", Update: "~", Delete: "-", NoOp: "="}

// WriteText renders the plan for people: one line per change that writes
// (no-ops are only counted), its fields indented, then the deletions only
// --prune makes, the objects left alone, the warnings and a summary.
func (p *Plan) WriteText(w io.Writer, o RenderOptions) error {
	style := o.Style
	if style == nil {
		style = func(_, s string) string { return s }
	}
	var b strings.Builder
	for _, srv := range p.Servers {
		fmt.Fprintf(&b, "%s\n", style("muted", srv))
	}
	for _, c := range p.Changes {
		if c.Action == NoOp {
			continue
		}
		fmt.Fprintf(&b, "%s %s %s %s", style(string(c.Action), symbols[c.Action]), c.System, c.Kind, c.Name)
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
				if multiline(f.Old) || multiline(f.New) {
					fmt.Fprintf(&b, "    %s:\n      was %s\n      now %s\n", f.Field, old, nw)
				} else {
					fmt.Fprintf(&b, "    %s: %s -> %s\n", f.Field, old, nw)
				}
			}
		}
	}
	if len(p.Prunable) > 0 {
		fmt.Fprintf(&b, "%s\n", style("muted", "Managed by ssoctl but no longer in the file; apply --prune would delete:"))
		for _, c := range p.Prunable {
			fmt.Fprintf(&b, "%s %s %s %s\n", style("delete", "-"), c.System, c.Kind, c.Name)
		}
	}
	var others, unmanaged []Object
	for _, u := range p.Unmanaged {
		if u.Owner != "" {
			others = append(others, u)
		} else {
			unmanaged = append(unmanaged, u)
		}
	}
	if len(others) > 0 {
		fmt.Fprintf(&b, "%s\n", style("muted", "Owned by another file, left alone:"))
		for _, u := range others {
			note := "(owned by " + u.Owner + ")"
			if u.Owner == Unowned {
				note = "(recorded without an owner: a file that names it takes it; adopt_from: [unowned] takes them all)"
			}
			fmt.Fprintf(&b, "%s %s %s %s  %s\n", style("muted", "="), u.System, u.Kind, u.Name, style("muted", note))
		}
	}
	if len(unmanaged) > 0 {
		fmt.Fprintf(&b, "%s\n", style("muted", "Not managed by ssoctl, left alone (not in the file, not created or adopted by ssoctl):"))
		for _, u := range unmanaged {
			fmt.Fprintf(&b, "%s %s %s %s\n", style("muted", "?"), u.System, u.Kind, u.Name)
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

func multiline(v any) bool {
	s, ok := v.(string)
	return ok && strings.Contains(s, "\n")
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
	Changes   []*Change `json:"changes"`
	Prunable  []*Change `json:"prunable"`
	Unmanaged []Object  `json:"unmanaged"`
	Summary   Summary   `json:"summary"`
	Warnings  []string  `json:"warnings,omitempty"`
	// Applied is true in apply's output when every change was applied.
	Applied *bool `json:"applied,omitempty"`
}

// JSON returns the plan as its JSON document with secrets masked unless
// showSecrets.
func (p *Plan) JSON(showSecrets bool) JSONDoc {
	unmanaged := p.Unmanaged
	if unmanaged == nil {
		unmanaged = []Object{}
	}
	return JSONDoc{Changes: maskChanges(p.Changes, showSecrets), Prunable: maskChanges(p.Prunable, showSecrets),
		Unmanaged: unmanaged, Summary: p.Summary(), Warnings: p.Warnings}
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
