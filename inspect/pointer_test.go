package inspect

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// rfc6901Doc is the example document of RFC 6901 section 5.
const rfc6901Doc = `{
  "foo": ["bar", "baz"],
  "": 0,
  "a/b": 1,
  "c%d": 2,
  "e^f": 3,
  "g|h": 4,
  "i\\j": 5,
  "k\"l": 6,
  " ": 7,
  "m~n": 8,
  "~1": 9,
  "nested": {"list": [{"x": true}, null], "null": null, "s": "str"}
}`

func TestPointerRFC6901(t *testing.T) {
	doc, err := decodeJSONObject([]byte(rfc6901Doc))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ptr  string
		want any
	}{
		{"", doc},
		{"/foo", []any{"bar", "baz"}},
		{"/foo/0", "bar"},
		{"/foo/1", "baz"},
		{"/", json.Number("0")},
		{"/a~1b", json.Number("1")},
		{"/c%d", json.Number("2")},
		{"/e^f", json.Number("3")},
		{"/g|h", json.Number("4")},
		{"/i\\j", json.Number("5")},
		{"/k\"l", json.Number("6")},
		{"/ ", json.Number("7")},
		{"/m~0n", json.Number("8")},
		{"/~01", json.Number("9")}, // "~01" is "~1" (not "/"): ~1 is replaced before ~0
		{"/nested/list/0/x", true},
		{"/nested/list/1", nil},
		{"/nested/null", nil},
	}
	for _, tc := range tests {
		p, err := ParsePointer(tc.ptr)
		if err != nil {
			t.Errorf("ParsePointer(%q): %v", tc.ptr, err)
			continue
		}
		if p.String() != tc.ptr {
			t.Errorf("String() = %q, want %q", p.String(), tc.ptr)
		}
		got, err := p.Eval(doc)
		if err != nil {
			t.Errorf("Eval(%q): %v", tc.ptr, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Eval(%q) = %#v, want %#v", tc.ptr, got, tc.want)
		}
	}
}

func TestPointerEvalErrors(t *testing.T) {
	doc, _ := decodeJSONObject([]byte(rfc6901Doc))
	tests := []struct {
		ptr         string
		missing     bool
		resolved    string
		reasonMatch string
	}{
		{"/foo/-", true, "/foo", "after the last"},
		{"/foo/2", true, "/foo", "out of range"},
		{"/foo/01", false, "/foo", "not an array index"},
		{"/foo/-1", false, "/foo", "not an array index"},
		{"/foo/x", false, "/foo", "not an array index"},
		{"/foo/", false, "/foo", "not an array index"},
		{"/foo/99999999999999999999", true, "/foo", "out of range"},
		{"/missing", true, "", "no member \"missing\""},
		{"/nested/nope", true, "/nested", "no member \"nope\" in /nested"},
		{"/foo/0/x", false, "/foo/0", "cannot descend into a string"},
		{"/nested/null/x", false, "/nested/null", "cannot descend into null"},
		{"/a~1b/x", false, "/a~1b", "cannot descend into a number"},
	}
	for _, tc := range tests {
		p, err := ParsePointer(tc.ptr)
		if err != nil {
			t.Fatalf("ParsePointer(%q): %v", tc.ptr, err)
		}
		_, err = p.Eval(doc)
		var pe *PointerError
		if !errors.As(err, &pe) {
			t.Errorf("Eval(%q): err = %v, want *PointerError", tc.ptr, err)
			continue
		}
		if pe.Missing != tc.missing || pe.Resolved != tc.resolved || !strings.Contains(pe.Reason, tc.reasonMatch) {
			t.Errorf("Eval(%q): %+v, want missing=%v resolved=%q reason~%q", tc.ptr, pe, tc.missing, tc.resolved, tc.reasonMatch)
		}
		if isBadInput(err) {
			t.Errorf("Eval(%q): an evaluation failure must not be BadInput", tc.ptr)
		}
	}
}

func TestParsePointerSyntax(t *testing.T) {
	for _, tc := range []struct{ in, msg string }{
		{"foo", "starts with"},
		{"realm_access.roles", "/realm_access/roles"},
		{"/a~2b", `"~" must be followed`},
		{"/a~", `"~" must be followed`},
		{"/~", `"~" must be followed`},
	} {
		_, err := ParsePointer(tc.in)
		if err == nil || !isBadInput(err) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("ParsePointer(%q) = %v, want BadInput containing %q", tc.in, err, tc.msg)
		}
	}
}

func TestPointerTo(t *testing.T) {
	p := PointerTo("resource_access", "a/b~c", "roles")
	if p.String() != "/resource_access/a~1b~0c/roles" {
		t.Errorf("PointerTo = %q", p.String())
	}
	q, err := ParsePointer(p.String())
	if err != nil || !reflect.DeepEqual(q.Tokens(), []string{"resource_access", "a/b~c", "roles"}) {
		t.Errorf("round trip: %v %v", q.Tokens(), err)
	}
}
