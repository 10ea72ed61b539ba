package plan

import (
	"reflect"
	"slices"
)

// Diff compares old and new values of one field and appends a FieldDiff when
// they differ. Nil and empty slices and maps compare equal.
func Diff(fields []FieldDiff, name string, old, new any) []FieldDiff {
	if Equal(old, new) {
		return fields
	}
	return append(fields, FieldDiff{Field: name, Old: old, New: new})
}

// DiffSet compares two string lists as sets (order and duplicates do not
// matter) and appends a FieldDiff with both sorted when they differ.
func DiffSet(fields []FieldDiff, name string, old, new []string) []FieldDiff {
	o, n := slices.Compact(slices.Sorted(slices.Values(old))), slices.Compact(slices.Sorted(slices.Values(new)))
	return Diff(fields, name, o, n)
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
