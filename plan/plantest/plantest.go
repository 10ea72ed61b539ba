// Package plantest holds the assertions the planners' tests share.
package plantest

import (
	"strings"
	"testing"

	"github.com/ssoctl/ssoctl/plan"
)

// Find returns the change of kind named name ("" matches any name), or
// fails the test listing the changes there are.
func Find(t testing.TB, cs []*plan.Change, kind, name string) *plan.Change {
	t.Helper()
	for _, c := range cs {
		if c.Kind == kind && (name == "" || c.Name == name) {
			return c
		}
	}
	t.Fatalf("no %s %q among %s", kind, name, Describe(cs))
	return nil
}

// Describe lists changes as "action kind name; ...".
func Describe(cs []*plan.Change) string {
	var out []string
	for _, c := range cs {
		out = append(out, string(c.Action)+" "+c.Kind+" "+c.Name)
	}
	return strings.Join(out, "; ")
}

// Written returns the changes that write (all but the no-ops).
func Written(cs []*plan.Change) []*plan.Change {
	var out []*plan.Change
	for _, c := range cs {
		if c.Action != plan.NoOp {
			out = append(out, c)
		}
	}
	return out
}
