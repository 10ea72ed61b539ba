package plan

import (
	"slices"
)

// Set describes one name-keyed set of objects to reconcile: the objects the
// file wants, in file order, and the ones the server has, by name.
type Set[W, H any] struct {
	Want []W
	Have map[string]H
	// Name is a wanted object's key in Have.
	Name func(W) string
	// Diff compares a wanted object with the server's; no fields means
	// they match. Nil means objects of this kind never change once created.
	Diff func(W, H) []FieldDiff
	// Ignore reports the server's own objects (built-in clients, default
	// roles), which are never pruned and never listed. Nil ignores none.
	Ignore func(name string, have H) bool
	// Owned reports whether ssoctl created or adopted the object; only
	// owned objects that the file no longer names are pruned. Nil owns none.
	Owned func(name string) bool
}

// Item is the reconciler's verdict on one object.
type Item[W, H any] struct {
	Name string
	// Action is Create, Update or NoOp for wanted objects, and Delete for
	// objects the file no longer names.
	Action Action
	Want   W
	Have   H
	// Exists reports whether the server has the object.
	Exists bool
	Fields []FieldDiff
	// Owned is set on deletions of owned objects (prune them). A deletion
	// that is not owned is an unmanaged object, to be left alone.
	Owned bool
}

// Reconcile syncs one set: create what is missing, update what differs,
// keep what matches, and mark for deletion what the file no longer names.
// Wanted objects come first in file order, then the rest by name.
func Reconcile[W, H any](s Set[W, H]) []Item[W, H] {
	out := make([]Item[W, H], 0, len(s.Want))
	named := make(map[string]bool, len(s.Want))
	for _, w := range s.Want {
		name := s.Name(w)
		named[name] = true
		h, ok := s.Have[name]
		it := Item[W, H]{Name: name, Want: w, Have: h, Exists: ok, Action: Create}
		if ok {
			it.Action = NoOp
			if s.Diff != nil {
				if it.Fields = s.Diff(w, h); len(it.Fields) > 0 {
					it.Action = Update
				}
			}
		}
		out = append(out, it)
	}
	var extra []string
	for name, h := range s.Have {
		if !named[name] && (s.Ignore == nil || !s.Ignore(name, h)) {
			extra = append(extra, name)
		}
	}
	slices.Sort(extra)
	for _, name := range extra {
		out = append(out, Item[W, H]{Name: name, Action: Delete, Have: s.Have[name], Exists: true,
			Owned: s.Owned != nil && s.Owned(name)})
	}
	return out
}
