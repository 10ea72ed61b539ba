package inspect

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// This file reproduces how vault-plugin-auth-jwt sees claims, so that the model's decisions and
// messages are Vault's own: claims decoded without UseNumber (every number a float64), top-level
// numbers read through getClaim truncated to json.Number integers, JSON pointers resolved the
// way mitchellh/pointerstructure does (lenient indexes, no escape validation), and the
// registered claims decoded into go-jose's jwt.Claims with its error texts.

// vaultClaims converts decoded claims (json.Number numbers) into Vault's view (float64 numbers).
// A number float64 cannot hold makes encoding/json fail in Vault; the error text is returned.
func vaultClaims(claims map[string]any) (map[string]any, error) {
	out, err := toFloatView(claims)
	if err != nil {
		return nil, err
	}
	return out.(map[string]any), nil
}

func toFloatView(v any) (any, error) {
	switch x := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return nil, errors.New("json: cannot unmarshal number " + string(x) + " into Go value of type float64")
		}
		return f, nil
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			c, err := toFloatView(e)
			if err != nil {
				return nil, err
			}
			m[k] = c
		}
		return m, nil
	case []any:
		a := make([]any, len(x))
		for i, e := range x {
			c, err := toFloatView(e)
			if err != nil {
				return nil, err
			}
			a[i] = c
		}
		return a, nil
	}
	return v, nil
}

// vaultGetClaim is the plugin's getClaim: a name starting with "/" is a pointer, anything else a
// literal top-level key; an unresolvable pointer is nil; a float result becomes a json.Number
// of its integer part.
func vaultGetClaim(claims map[string]any, name string) any {
	var v any
	if !strings.HasPrefix(name, "/") {
		v = claims[name]
	} else {
		var ok bool
		if v, ok = vaultPointerGet(claims, name); !ok {
			return nil
		}
	}
	if f, isFloat := v.(float64); isFloat {
		return json.Number(strconv.Itoa(int(f)))
	}
	return v
}

// vaultPointerGet resolves a pointer as mitchellh/pointerstructure v1 does on decoded JSON:
// tokens are unescaped by replacing "~1" then "~0" (no validation), array indexes are parsed
// like Go integer literals (base prefixes, sign, underscores; "" is 0), and null cannot be
// descended into.
func vaultPointerGet(doc map[string]any, ptr string) (any, bool) {
	parts := strings.Split(ptr[1:], "/")
	var cur any = doc
	for _, p := range parts {
		p = strings.ReplaceAll(strings.ReplaceAll(p, "~1", "/"), "~0", "~")
		switch x := cur.(type) {
		case map[string]any:
			v, ok := x[p]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			s := p
			if s == "" {
				s = "0"
			}
			idx, err := strconv.ParseInt(s, 0, 64)
			if err != nil || idx < 0 || idx >= int64(len(x)) {
				return nil, false
			}
			cur = x[idx]
		default:
			return nil, false
		}
	}
	return cur, true
}

// vaultNormalizeList is the plugin's normalizeList: a list stays, a string, bool or json.Number
// becomes a one-element list, anything else fails.
func vaultNormalizeList(raw any) ([]any, bool) {
	switch v := raw.(type) {
	case []any:
		return v, true
	case string, bool, json.Number:
		return []any{v}, true
	}
	return nil, false
}

// vaultGlob matches subj against a pattern whose only wildcard is "*", matching the whole
// string; the leftmost occurrence of each literal piece is taken, as ryanuber/go-glob does.
func vaultGlob(pattern, subj string) bool {
	if pattern == "" {
		return subj == ""
	}
	if pattern == "*" {
		return true
	}
	pieces := strings.Split(pattern, "*")
	if len(pieces) == 1 {
		return subj == pattern
	}
	last := len(pieces) - 1
	rest := subj
	for i, piece := range pieces[:last] {
		at := strings.Index(rest, piece)
		if i == 0 && pieces[0] != "" && at != 0 {
			return false
		}
		if at < 0 {
			return false
		}
		rest = rest[at+len(piece):]
	}
	return strings.HasSuffix(pattern, "*") || strings.HasSuffix(rest, pieces[last])
}

// vaultMatchBoundClaims is validateBoundClaims, returning the error of every failing key in
// sorted order. Vault visits the keys in Go's random map order and stops at the first failure,
// so any of these errors may be the one it gives (none means the claims match).
func vaultMatchBoundClaims(glob bool, bound, claims map[string]any) []error {
	keys := make([]string, 0, len(bound))
	for k := range bound {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var errs []error
	for _, claim := range keys {
		if err := vaultMatchBoundClaim(glob, claim, bound[claim], claims); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// vaultMatchBoundClaim is one iteration of validateBoundClaims' loop.
func vaultMatchBoundClaim(glob bool, claim string, exp any, claims map[string]any) error {
	act := vaultGetClaim(claims, claim)
	if act == nil {
		return vaultBoundClaimMissing(claim)
	}
	actVals, ok := vaultNormalizeList(act)
	if !ok {
		return fmt.Errorf("received claim is not a string, bool, int or list: %v", act)
	}
	expVals, ok := vaultNormalizeList(exp)
	if !ok {
		return fmt.Errorf("bound claim is not a string, bool, int or list: %v", exp)
	}
	found, err := vaultMatchFound(expVals, actVals, glob)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("claim %q does not match any associated bound claim values", claim)
	}
	return nil
}

func vaultMatchFound(expVals, actVals []any, glob bool) (bool, error) {
	for _, exp := range expVals {
		for _, act := range actVals {
			if glob {
				pattern, ok := exp.(string)
				if !ok {
					// The plugin's format string really is "%expVal" (a %e verb then "xpVal").
					return false, fmt.Errorf("received claim is not a glob string: %expVal", exp)
				}
				s, ok := act.(string)
				if !ok || !vaultGlob(pattern, s) {
					continue
				}
				return true, nil
			}
			if comparableEqual(act, exp) {
				return true, nil
			}
		}
	}
	return false, nil
}

// comparableEqual is Go's interface == for decoded JSON scalars, without panicking on the
// uncomparable map and slice types (which are never equal to anything here).
func comparableEqual(a, b any) bool {
	switch a.(type) {
	case map[string]any, []any:
		return false
	}
	switch b.(type) {
	case map[string]any, []any:
		return false
	}
	return a == b
}

// vaultRegistered holds the registered claims as cap decodes them into go-jose's jwt.Claims.
type vaultRegistered struct {
	iss, sub string
	aud      []string
	exp, nbf int64
	iat      int64
}

const (
	errJoseAudience    = "go-jose/go-jose/jwt: expected string or array value to unmarshal to Audience"
	errJoseNumericDate = "go-jose/go-jose/jwt: expected number value to unmarshal NumericDate"
)

// vaultDecodeRegistered mimics cap's json.Marshal(allClaims) + json.Unmarshal into jwt.Claims:
// members are visited in the sorted order json.Marshal writes them; aud and the dates abort on
// a wrong type, a non-string iss/sub/jti is remembered and reported at the end.
func vaultDecodeRegistered(claims map[string]any) (vaultRegistered, error) {
	var r vaultRegistered
	var saved error
	for _, name := range [...]string{"aud", "exp", "iat", "iss", "jti", "nbf", "sub"} {
		v, present := claims[name]
		if !present {
			continue
		}
		switch name {
		case "aud":
			switch x := v.(type) {
			case string:
				r.aud = []string{x}
			case []any:
				for _, e := range x {
					s, ok := e.(string)
					if !ok {
						return r, errors.New(errJoseAudience)
					}
					r.aud = append(r.aud, s)
				}
			default: // null included: Audience's UnmarshalJSON is called with null and refuses it
				return r, errors.New(errJoseAudience)
			}
		case "exp", "iat", "nbf":
			var n int64
			switch x := v.(type) {
			case nil:
			case float64:
				n = floatToInt64(x)
			default:
				return r, errors.New(errJoseNumericDate)
			}
			switch name {
			case "exp":
				r.exp = n
			case "iat":
				r.iat = n
			default:
				r.nbf = n
			}
		default:
			var s string
			switch x := v.(type) {
			case nil:
			case string:
				s = x
			default:
				if saved == nil {
					saved = errors.New("json: cannot unmarshal " + jsonKind(x) + " into Go struct field Claims." + name + " of type string")
				}
			}
			switch name {
			case "iss":
				r.iss = s
			case "sub":
				r.sub = s
			}
		}
	}
	return r, saved
}

// floatToInt64 is Go's float64 to int64 conversion as go-jose's NumericDate does it, with the
// out-of-range result of amd64 (the platform Vault release binaries mostly run on).
func floatToInt64(f float64) int64 {
	if math.IsNaN(f) || f >= 9.223372036854775807e18 || f < -9.223372036854775808e18 {
		return math.MinInt64
	}
	return int64(f)
}

func jsonKind(v any) string {
	switch v.(type) {
	case float64, json.Number:
		return "number"
	case bool:
		return "bool"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "string"
}

// findClaimPaths searches nested objects for members called name and returns their pointers,
// best first: under /resource_access/<prefer...> before others.
func findClaimPaths(claims map[string]any, name string, prefer ...string) []string {
	var found []string
	var walk func(m map[string]any, prefix []string, depth int)
	walk = func(m map[string]any, prefix []string, depth int) {
		if depth > 6 || len(found) >= 20 {
			return
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			path := append(append([]string(nil), prefix...), k)
			if k == name && depth > 0 {
				found = append(found, PointerTo(path...).String())
			}
			if sub, ok := m[k].(map[string]any); ok {
				walk(sub, path, depth+1)
			}
		}
	}
	walk(claims, nil, 0)
	score := func(p string) int {
		for i, pref := range prefer {
			if pref != "" && strings.HasPrefix(p, "/resource_access/"+escapeToken(pref)+"/") {
				return i
			}
		}
		return len(prefer)
	}
	sort.SliceStable(found, func(i, j int) bool { return score(found[i]) < score(found[j]) })
	return found
}
