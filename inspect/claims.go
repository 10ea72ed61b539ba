package inspect

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strconv"
	"strings"
)

// ClaimAssertion is one --claim PTR[=VALUE]: the claim at Pointer must exist and, when HasValue,
// equal Value (a scalar claim) or contain it (a list claim).
//
// Value is compared by the claim's JSON type: a string claim against the text (a JSON-quoted
// VALUE such as "\"123\"" is unquoted first), a number numerically (VALUE must be a JSON number),
// a boolean against true/false, null against null. A list passes when any element matches. An
// object never matches: point into it instead. The assertion splits at the first "=", so a key
// containing "=" cannot be asserted with a value.
type ClaimAssertion struct {
	// Pointer locates the claim.
	Pointer Pointer
	// Value is the expected value as written after "=".
	Value string
	// HasValue is false for a presence-only assertion (no "=").
	HasValue bool
}

// ParseClaimAssertion parses "PTR" or "PTR=VALUE". A bad pointer is an *InputError (BadInput).
func ParseClaimAssertion(s string) (ClaimAssertion, error) {
	ptr, val, has := strings.Cut(s, "=")
	if ptr == "" {
		return ClaimAssertion{}, badInput("claim assertion "+strconv.Quote(s), "expected PTR or PTR=VALUE with PTR a JSON pointer such as /email_verified", nil)
	}
	p, err := ParsePointer(ptr)
	if err != nil {
		return ClaimAssertion{}, err
	}
	return ClaimAssertion{Pointer: p, Value: val, HasValue: has}, nil
}

// String returns the assertion as written on the command line.
func (a ClaimAssertion) String() string {
	if a.HasValue {
		return a.Pointer.String() + "=" + a.Value
	}
	return a.Pointer.String()
}

// Check evaluates the assertion against claims and returns a finding when it fails (nil when it
// passes). The finding's Fix is generic; CheckClaims adds Keycloak-specific hints.
func (a ClaimAssertion) Check(claims map[string]any) *Finding {
	v, err := a.Pointer.Eval(claims)
	if err != nil {
		pe, _ := err.(*PointerError)
		if pe != nil && !pe.Missing {
			return &Finding{ID: FindingClaimType, Severity: SeverityError,
				Message: "claim " + a.Pointer.String() + " does not resolve: " + pe.Reason,
				Fix:     "check the pointer against the token's claims (the value at " + orRoot(pe.Resolved) + " is " + describeValue(evalOrNil(pe.Resolved, claims)) + ")"}
		}
		return &Finding{ID: FindingClaimMissing, Severity: SeverityError,
			Message: "claim " + a.Pointer.String() + " is missing: " + err.Error(),
			Fix:     "add a mapper that emits this claim to the client's mappers in sso.yaml (e.g. `- attribute: {user_attribute: ATTR, claim: " + claimNameFor(a.Pointer) + "}`), with 'Add to ID token'/'Add to access token' on for the token you use"}
	}
	if v == nil {
		return &Finding{ID: FindingClaimMissing, Severity: SeverityError,
			Message: "claim " + a.Pointer.String() + " is null (Vault treats a null claim as missing)",
			Fix:     "give the user a value for the mapped attribute in Keycloak, or stop requiring the claim"}
	}
	if !a.HasValue {
		return nil
	}
	switch x := v.(type) {
	case []any:
		comparable := false
		for _, e := range x {
			ok, sameType := scalarMatches(e, a.Value)
			if ok {
				return nil
			}
			comparable = comparable || sameType
		}
		if !comparable && len(x) > 0 {
			return &Finding{ID: FindingClaimType, Severity: SeverityError,
				Message: "claim " + a.Pointer.String() + " is a list of " + listElemTypes(x) + " " + describeValue(v) + "; " + strconv.Quote(a.Value) + " cannot equal any element",
				Fix:     "assert a value of the elements' type, or point at another claim"}
		}
		return &Finding{ID: FindingClaimMismatch, Severity: SeverityError,
			Message: "claim " + a.Pointer.String() + " = " + describeValue(v) + " does not contain " + a.Value,
			Fix:     "give the user " + a.Value + " in Keycloak (role or group membership, sso.yaml `groups:`/`users:`), or assert one of the values present"}
	case map[string]any:
		return &Finding{ID: FindingClaimType, Severity: SeverityError,
			Message: "claim " + a.Pointer.String() + " is an object with members " + strings.Join(slices.Sorted(maps.Keys(x)), ", ") + "; an object cannot equal " + strconv.Quote(a.Value),
			Fix:     "point into the object, e.g. " + a.Pointer.String() + "/" + firstKey(x)}
	default:
		ok, sameType := scalarMatches(v, a.Value)
		if ok {
			return nil
		}
		if !sameType {
			return &Finding{ID: FindingClaimType, Severity: SeverityError,
				Message: "claim " + a.Pointer.String() + " is " + jsonTypeName(v) + " " + describeValue(v) + ", which cannot equal " + describeExpected(a.Value),
				Fix:     "assert a " + jsonTypeName(v) + " value (quote a string as \"...\" to force a string compare)"}
		}
		return &Finding{ID: FindingClaimMismatch, Severity: SeverityError,
			Message: "claim " + a.Pointer.String() + " is " + describeValue(v) + ", expected " + describeExpected(a.Value),
			Fix:     "change the user's attribute or the mapper in Keycloak, or assert the value the token carries"}
	}
}

// scalarMatches compares one scalar claim value with the expected text. sameType reports
// whether the expected text can be a value of the claim's type at all.
func scalarMatches(v any, want string) (ok, sameType bool) {
	quoted := len(want) >= 2 && want[0] == '"' && want[len(want)-1] == '"'
	switch x := v.(type) {
	case string:
		if quoted {
			var s string
			if json.Unmarshal([]byte(want), &s) == nil {
				return x == s, true
			}
		}
		return x == want, true
	case json.Number:
		return numbersEqual(string(x), want)
	case float64:
		return numbersEqual(strconv.FormatFloat(x, 'g', -1, 64), want)
	case bool:
		switch want {
		case "true":
			return x, true
		case "false":
			return !x, true
		}
		return false, false
	case nil:
		return want == "null", want == "null"
	}
	return false, false
}

func numbersEqual(have, want string) (ok, sameType bool) {
	if _, err := decodeJSONValue([]byte(want)); err != nil || !isJSONNumber(want) {
		return false, false
	}
	a, okA := new(big.Rat).SetString(have)
	b, okB := new(big.Rat).SetString(want)
	if !okA || !okB {
		return have == want, true
	}
	return a.Cmp(b) == 0, true
}

func isJSONNumber(s string) bool {
	r := jsonReader{b: s}
	if s == "" || (s[0] != '-' && (s[0] < '0' || s[0] > '9')) {
		return false
	}
	_, err := r.number()
	return err == nil && r.i == len(s)
}

// jsonTypeName names the JSON type of a decoded value.
func jsonTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number, float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return "a value"
}

// typedValue describes a decoded value with its JSON type, e.g. `a string "x"`, or `null`.
func typedValue(v any) string {
	if v == nil {
		return "null"
	}
	return jsonTypeName(v) + " " + describeValue(v)
}

func listElemTypes(x []any) string {
	seen := map[string]bool{}
	var names []string
	for _, e := range x {
		n := strings.TrimPrefix(strings.TrimPrefix(jsonTypeName(e), "a "), "an ")
		if !seen[n] {
			seen[n] = true
			names = append(names, n+"s")
		}
	}
	return strings.Join(names, " and ")
}

// describeValue renders a claim value compactly as JSON for messages (long values are cut).
func describeValue(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	s := string(b)
	if len(s) > 200 {
		s = s[:197] + "..."
	}
	return s
}

func describeExpected(want string) string {
	if len(want) >= 2 && want[0] == '"' && want[len(want)-1] == '"' {
		return want
	}
	if isJSONNumber(want) || want == "true" || want == "false" || want == "null" {
		return want
	}
	return strconv.Quote(want)
}

func evalOrNil(ptr string, doc any) any {
	p, err := ParsePointer(ptr)
	if err != nil {
		return nil
	}
	v, _ := p.Eval(doc)
	return v
}

func claimNameFor(p Pointer) string {
	return strings.Join(p.tokens, ".")
}

func firstKey(m map[string]any) string {
	keys := slices.Sorted(maps.Keys(m))
	if len(keys) == 0 {
		return "KEY"
	}
	return escapeToken(keys[0])
}

// audiences returns aud as a list: a string becomes one element. ok is false when aud is present
// but neither a string nor a list of strings.
func audiences(claims map[string]any) (auds []string, present, ok bool) {
	switch v := claims["aud"].(type) {
	case nil:
		_, present = claims["aud"]
		return nil, present, true
	case string:
		return []string{v}, true, true
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, isStr := e.(string)
			if !isStr {
				return nil, true, false
			}
			out = append(out, s)
		}
		return out, true, true
	}
	return nil, true, false
}

// numericValue converts a decoded JSON number (json.Number or float64) to float64.
func numericValue(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		return f, err == nil
	case float64:
		return x, true
	}
	return 0, false
}

func fmtType(v any) string { return fmt.Sprintf("%T", v) }
