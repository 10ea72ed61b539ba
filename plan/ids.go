package plan

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Ref names one object of a system: its kind, the scope it lives in (the
// client of a client role or mapper, the group of a role binding, the mount
// of a Vault role; "" for objects of the whole realm or server) and its name
// within that scope.
type Ref struct {
	Kind  string
	Scope string
	Name  string
}

func (r Ref) String() string {
	if r.Scope == "" {
		return r.Kind + " " + r.Name
	}
	return r.Kind + " " + r.Scope + "/" + r.Name
}

func compareRefs(a, b Ref) int {
	if c := strings.Compare(a.Kind, b.Kind); c != 0 {
		return c
	}
	if c := strings.Compare(a.Scope, b.Scope); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}

// IDs maps objects to the ids their server gave them. A planner fills it
// from the state it read; appliers add the ids of objects as they create
// them, so that a later step (a mapper on a new client, a binding of a new
// role) finds them. It is safe for concurrent use.
type IDs struct {
	mu sync.Mutex
	m  map[Ref]string
}

// NewIDs returns an empty registry.
func NewIDs() *IDs { return &IDs{m: map[Ref]string{}} }

// Set records id for r.
func (x *IDs) Set(r Ref, id string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.m[r] = id
}

// Get returns the id of r, if known.
func (x *IDs) Get(r Ref) (string, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	id, ok := x.m[r]
	return id, ok && id != ""
}

// Owned is the set of objects that ssoctl created or adopted in one system.
// Only owned objects are ever pruned; the set is recorded in the system
// itself (a realm attribute, a mount option), so it survives between runs
// and machines. The zero value is an empty set.
type Owned map[Ref]bool

// Has reports whether r is owned.
func (o Owned) Has(r Ref) bool { return o[r] }

// Union returns a new set holding the refs of both.
func (o Owned) Union(other Owned) Owned {
	out := make(Owned, len(o)+len(other))
	for r := range o {
		out[r] = true
	}
	for r := range other {
		out[r] = true
	}
	return out
}

// Equal reports whether both sets hold the same refs.
func (o Owned) Equal(other Owned) bool {
	if len(o) != len(other) {
		return false
	}
	for r := range o {
		if !other[r] {
			return false
		}
	}
	return true
}

// Sorted returns the refs in a stable order.
func (o Owned) Sorted() []Ref {
	out := make([]Ref, 0, len(o))
	for r := range o {
		out = append(out, r)
	}
	slices.SortFunc(out, compareRefs)
	return out
}

// MarshalJSON writes the set as a sorted list of [kind, scope, name].
func (o Owned) MarshalJSON() ([]byte, error) {
	rows := make([][3]string, 0, len(o))
	for _, r := range o.Sorted() {
		rows = append(rows, [3]string{r.Kind, r.Scope, r.Name})
	}
	return json.Marshal(rows)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (o *Owned) UnmarshalJSON(b []byte) error {
	var rows [][]string
	if err := json.Unmarshal(b, &rows); err != nil {
		return err
	}
	out := make(Owned, len(rows))
	for _, row := range rows {
		if len(row) != 3 {
			return fmt.Errorf("ownership record: want [kind, scope, name], got %q", row)
		}
		out[Ref{row[0], row[1], row[2]}] = true
	}
	*o = out
	return nil
}
