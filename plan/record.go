package plan

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Record is an ownership record: every object ssoctl created or adopted,
// with the owner (the file, see spec.File.Owner) it belongs to. An object
// recorded before owners existed has the owner "".
type Record map[Ref]string

// Unowned stands for the owner of objects recorded without one, where an
// owner's name is shown or given (adopt_from: [unowned]).
const Unowned = "unowned"

// Of returns the set of objects that owner owns.
func (r Record) Of(owner string) Owned {
	out := Owned{}
	for ref, o := range r {
		if o == owner {
			out[ref] = true
		}
	}
	return out
}

// With returns a copy of r in which owner owns exactly mine: owner's other
// entries are dropped, and every ref of mine is owner's, whoever had it.
func (r Record) With(owner string, mine Owned) Record {
	out := make(Record, len(r)+len(mine))
	for ref, o := range r {
		if o != owner && !mine[ref] {
			out[ref] = o
		}
	}
	for ref := range mine {
		out[ref] = owner
	}
	return out
}

// Equal reports whether both records hold the same refs with the same
// owners.
func (r Record) Equal(other Record) bool {
	if len(r) != len(other) {
		return false
	}
	for ref, o := range r {
		if oo, ok := other[ref]; !ok || oo != o {
			return false
		}
	}
	return true
}

// MarshalJSON writes the record as a sorted list of [kind, scope, name,
// owner]; an entry without an owner keeps the three columns of the record
// before owners, so that the two read each other's entries.
func (r Record) MarshalJSON() ([]byte, error) {
	refs := make(Owned, len(r))
	for ref := range r {
		refs[ref] = true
	}
	rows := make([][]string, 0, len(r))
	for _, ref := range refs.Sorted() {
		row := []string{ref.Kind, ref.Scope, ref.Name}
		if o := r[ref]; o != "" {
			row = append(row, o)
		}
		rows = append(rows, row)
	}
	return json.Marshal(rows)
}

// UnmarshalJSON reads what MarshalJSON writes, and the three-column record
// of ssoctl before owners.
func (r *Record) UnmarshalJSON(b []byte) error {
	var rows [][]string
	if err := json.Unmarshal(b, &rows); err != nil {
		return err
	}
	out := make(Record, len(rows))
	for _, row := range rows {
		switch len(row) {
		case 3:
			out[Ref{row[0], row[1], row[2]}] = ""
		case 4:
			out[Ref{row[0], row[1], row[2]}] = row[3]
		default:
			return fmt.Errorf("ownership record: want [kind, scope, name, owner], got %q", row)
		}
	}
	*r = out
	return nil
}

// Claimant is a file as the ownership records see it: its owner, and the
// owners whose objects it may take over (spec.File.AdoptFrom). Every
// system's planner asks it the same two questions.
type Claimant struct {
	Owner     string
	AdoptFrom []string
}

// Prunes reports whether an object recorded for owner o is the file's to
// prune: its own, or one recorded without an owner when it adopts those.
func (c Claimant) Prunes(o string) bool {
	return o == c.Owner || (o == "" && slices.Contains(c.AdoptFrom, Unowned))
}

// Refuses reports whether the file may not declare an object recorded for
// owner o: another owner's, that it does not adopt from.
func (c Claimant) Refuses(o string) bool {
	return o != "" && o != c.Owner && !slices.Contains(c.AdoptFrom, o)
}

// maxConflictsShown bounds the objects a conflict message lists.
const maxConflictsShown = 5

// Conflict says that the file declares objects (each "kind name (owned by
// X)") that the owners own, and how to fix it.
func (c Claimant) Conflict(what string, objects, owners []string) string {
	shown := slices.Clone(objects)
	if len(shown) > maxConflictsShown {
		shown = append(shown[:maxConflictsShown], fmt.Sprintf("and %d more", len(objects)-maxConflictsShown))
	}
	owners = slices.Compact(slices.Sorted(slices.Values(owners)))
	return fmt.Sprintf("this file (owner %s) declares %s that another file owns: %s; declare each in one file only, or move them to this one with adopt_from: [%s]",
		c.Owner, what, strings.Join(shown, ", "), strings.Join(owners, ", "))
}
