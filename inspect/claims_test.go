package inspect

import (
	"strings"
	"testing"
)

func TestParseClaimAssertion(t *testing.T) {
	tests := []struct {
		in       string
		ptr      string
		value    string
		hasValue bool
		err      bool
	}{
		{in: "/email_verified=true", ptr: "/email_verified", value: "true", hasValue: true},
		{in: "/groups", ptr: "/groups"},
		{in: "/a=b=c", ptr: "/a", value: "b=c", hasValue: true},
		{in: "/x=", ptr: "/x", value: "", hasValue: true},
		{in: "/a~1b=1", ptr: "/a~1b", value: "1", hasValue: true},
		{in: "email=x", err: true},
		{in: "=x", err: true},
		{in: "", err: true},
		{in: "/a~3=1", err: true},
	}
	for _, tc := range tests {
		a, err := ParseClaimAssertion(tc.in)
		if tc.err {
			if err == nil || !isBadInput(err) {
				t.Errorf("%q: err = %v, want BadInput", tc.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if a.Pointer.String() != tc.ptr || a.Value != tc.value || a.HasValue != tc.hasValue {
			t.Errorf("%q: got %+v", tc.in, a)
		}
		if a.String() != tc.in {
			t.Errorf("String() = %q, want %q", a.String(), tc.in)
		}
	}
}

func TestClaimAssertionCheck(t *testing.T) {
	claims, err := decodeJSONObject([]byte(`{
		"email": "alice@example.com", "email_verified": true, "age": 42, "ratio": 0.5,
		"big": 123456789012345678901234567890, "code": "123", "nothing": null,
		"groups": ["/admins", "kv-managers"], "levels": [1, 2, 3], "empty": [],
		"resource_access": {"vault": {"roles": ["secret_reader"]}}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		assert string
		wantID string // "" passes
		msg    string
	}{
		{"/email", "", ""},
		{"/email=alice@example.com", "", ""},
		{`/email="alice@example.com"`, "", ""},
		{"/email=bob@example.com", FindingClaimMismatch, `expected "bob@example.com"`},
		{"/email_verified=true", "", ""},
		{"/email_verified=false", FindingClaimMismatch, "expected false"},
		{"/email_verified=yes", FindingClaimType, "is a boolean"},
		{"/age=42", "", ""},
		{"/age=42.0", "", ""},
		{"/age=4.2e1", "", ""},
		{"/age=43", FindingClaimMismatch, "expected 43"},
		{"/age=forty", FindingClaimType, "is a number"},
		{`/age="42"`, FindingClaimType, "is a number"},
		{"/ratio=0.5", "", ""},
		{"/big=123456789012345678901234567890", "", ""},
		{"/big=123456789012345678901234567891", FindingClaimMismatch, ""},
		{"/code=123", "", ""},
		{`/code="123"`, "", ""},
		{"/nothing", FindingClaimMissing, "is null"},
		{"/missing", FindingClaimMissing, "is missing"},
		{"/missing=1", FindingClaimMissing, "is missing"},
		{"/groups=kv-managers", "", ""},
		{"/groups=/admins", "", ""},
		{"/groups=admins", FindingClaimMismatch, "does not contain admins"},
		{"/groups/0=/admins", "", ""},
		{"/levels=2", "", ""},
		{"/levels=4", FindingClaimMismatch, ""},
		{"/levels=two", FindingClaimType, "list of numbers"},
		{"/empty=x", FindingClaimMismatch, "does not contain"},
		{"/resource_access/vault/roles=secret_reader", "", ""},
		{"/resource_access/vault=secret_reader", FindingClaimType, "is an object"},
		{"/resource_access/vault/roles/5", FindingClaimMissing, "out of range"},
		{"/email/x", FindingClaimType, "cannot descend"},
	}
	for _, tc := range tests {
		a, err := ParseClaimAssertion(tc.assert)
		if err != nil {
			t.Fatalf("%q: %v", tc.assert, err)
		}
		f := a.Check(claims)
		switch {
		case tc.wantID == "" && f != nil:
			t.Errorf("%q: unexpected finding %+v", tc.assert, *f)
		case tc.wantID != "" && f == nil:
			t.Errorf("%q: passed, want %s", tc.assert, tc.wantID)
		case f != nil && (f.ID != tc.wantID || !strings.Contains(f.Message, tc.msg) || f.Fix == "" || f.Severity != SeverityError):
			t.Errorf("%q: got %+v, want id %s message ~%q", tc.assert, *f, tc.wantID, tc.msg)
		}
	}
}
