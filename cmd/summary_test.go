package cmd

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ssoctl/ssoctl/plan"
)

// knownPlan is a plan with 2 creates, 1 update and 3 no-ops in its change
// set, 1 deletion that only --prune makes and 1 record update after it;
// every change that writes counts its applies in writes.
func knownPlan(writes *atomic.Int32) *plan.Plan {
	apply := func(context.Context) error { writes.Add(1); return nil }
	c := func(a plan.Action, kind, name string) *plan.Change {
		ch := &plan.Change{System: "keycloak", Kind: kind, Name: name, Action: a}
		if a != plan.NoOp {
			ch.Apply = apply
		}
		return ch
	}
	return &plan.Plan{
		Changes: []*plan.Change{c(plan.Create, "client", "r/a"), c(plan.Create, "group", "r/g"), c(plan.Update, "client", "r/b"),
			c(plan.NoOp, "realm", "r"), c(plan.NoOp, "role", "r/x"), c(plan.NoOp, "role", "r/y")},
		Prunable:   []*plan.Change{c(plan.Delete, "client", "r/old")},
		AfterPrune: []*plan.Change{c(plan.Update, "ownership-record", "r")},
	}
}

func summaryOpts(globals GlobalOptions, prune, dryRun bool) (*planOptions, interface{ String() string }) {
	ios, _, out, _ := TestIO()
	f := NewFactory(ios)
	*f.Globals = globals
	opts := newPlanOptions(f)
	opts.Prune, opts.DryRun, opts.Parallel = prune, dryRun, 2
	opts.Context = context.Background()
	return opts, out
}

// runKnownPlan prints knownPlan as apply does when apply, else as plan.
func runKnownPlan(opts *planOptions, apply bool, writes *atomic.Int32) error {
	if apply {
		return applyPlan(opts, knownPlan(writes))
	}
	return writePlan(opts, knownPlan(writes))
}

// lastLine is the last line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// TestSummaryLines pins every summary line plan and apply print against a
// plan whose counts are known, and what each run writes.
func TestSummaryLines(t *testing.T) {
	tests := []struct {
		name          string
		apply         bool // applyPlan, else writePlan
		prune, dryRun bool
		want          string // the summary line
		writes        int32
		deleteListed  bool   // "- keycloak client r/old" in the change list
		planLine      string // apply: the plan's summary printed first
	}{
		{"plan", false, false, false, "Plan: 2 to create, 1 to update, 0 to delete, 3 unchanged.", 0, false, ""},
		{"apply --dry-run", false, false, true, "Plan: 2 to create, 1 to update, 0 to delete, 3 unchanged.", 0, false, ""},
		{"apply --prune --dry-run", false, true, true, "Plan: 2 to create, 2 to update, 1 to delete, 3 unchanged.", 0, true, ""},
		{"apply", true, false, false, "Apply complete: 2 created, 1 updated, 0 deleted.", 3, false,
			"Plan: 2 to create, 1 to update, 0 to delete, 3 unchanged."},
		{"apply --prune", true, true, false, "Apply complete: 2 created, 2 updated, 1 deleted.", 5, true,
			"Plan: 2 to create, 2 to update, 1 to delete, 3 unchanged."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var writes atomic.Int32
			opts, out := summaryOpts(GlobalOptions{Output: "text"}, tt.prune, tt.dryRun)
			err := runKnownPlan(opts, tt.apply, &writes)
			text := out.String()
			if err != nil || lastLine(text) != tt.want || writes.Load() != tt.writes {
				t.Fatalf("err %v, %d writes (want %d), last line %q, want %q\n%s", err, writes.Load(), tt.writes, lastLine(text), tt.want, text)
			}
			// Included, the deletion is one of the changes (and the record
			// update after it with it); else it is listed apart, as --prune's.
			hint := strings.Contains(text, "apply --prune would delete:\n- keycloak client r/old\n")
			inList := !hint && strings.Contains(text, "- keycloak client r/old\n") && strings.Contains(text, "~ keycloak ownership-record r\n")
			if inList != tt.deleteListed || hint == tt.deleteListed || strings.Count(text, "- keycloak client r/old") != 1 {
				t.Errorf("deletion in the change list: %v, listed apart: %v; want in the list: %v\n%s", inList, hint, tt.deleteListed, text)
			}
			// apply prints the plan, with its summary line, before applying.
			if tt.apply && !strings.Contains(text, "\n"+tt.planLine+"\n") {
				t.Errorf("apply prints no %q first:\n%s", tt.planLine, text)
			}
		})
	}
}

// TestSummaryJSON pins the -o json summary of plan, apply --dry-run with
// and without --prune, and apply.
func TestSummaryJSON(t *testing.T) {
	tests := []struct {
		name          string
		apply         bool
		prune, dryRun bool
		want          plan.Summary
		prunable      int
		applied       string // "true", or "" for none
	}{
		{"plan", false, false, false, plan.Summary{Create: 2, Update: 1, NoOp: 3}, 1, ""},
		{"apply --dry-run", false, false, true, plan.Summary{Create: 2, Update: 1, NoOp: 3}, 1, ""},
		{"apply --prune --dry-run", false, true, true, plan.Summary{Create: 2, Update: 2, Delete: 1, NoOp: 3}, 0, ""},
		{"apply", true, false, false, plan.Summary{Create: 2, Update: 1, NoOp: 3}, 1, "true"},
		{"apply --prune", true, true, false, plan.Summary{Create: 2, Update: 2, Delete: 1, NoOp: 3}, 0, "true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var writes atomic.Int32
			opts, out := summaryOpts(GlobalOptions{Output: "json"}, tt.prune, tt.dryRun)
			err := runKnownPlan(opts, tt.apply, &writes)
			var doc struct {
				Changes []struct {
					Action string `json:"action"`
				} `json:"changes"`
				Prunable []json.RawMessage `json:"prunable"`
				Summary  plan.Summary      `json:"summary"`
				Applied  json.RawMessage   `json:"applied"`
			}
			if err != nil || json.Unmarshal([]byte(out.String()), &doc) != nil {
				t.Fatalf("err %v\n%s", err, out.String())
			}
			deletes := 0
			for _, c := range doc.Changes {
				if c.Action == "delete" {
					deletes++
				}
			}
			if doc.Summary != tt.want || deletes != tt.want.Delete || len(doc.Prunable) != tt.prunable || string(doc.Applied) != tt.applied {
				t.Errorf("summary %+v (want %+v), %d deletions listed, %d prunable (want %d), applied %s (want %q)",
					doc.Summary, tt.want, deletes, len(doc.Prunable), tt.prunable, doc.Applied, tt.applied)
			}
		})
	}
}
