package inspect

import (
	"strconv"
	"strings"
)

// Pointer is a parsed RFC 6901 JSON pointer such as "/resource_access/vault/roles".
// "~1" stands for "/" and "~0" for "~" inside a reference token. The zero Pointer ("") is the
// whole document.
type Pointer struct {
	raw    string
	tokens []string
}

// ParsePointer parses an RFC 6901 JSON pointer. It must be empty or start with "/", and every "~"
// must be followed by "0" or "1". Failures are *InputError (BadInput).
func ParsePointer(s string) (Pointer, error) {
	if s == "" {
		return Pointer{}, nil
	}
	if s[0] != '/' {
		reason := `a JSON pointer is empty or starts with "/"`
		if strings.Contains(s, ".") {
			reason += `; for nested claims write /` + strings.ReplaceAll(s, ".", "/") + ` instead of ` + s
		} else {
			reason += `; for a top-level claim write /` + escapeToken(s)
		}
		return Pointer{}, badInput("JSON pointer "+strconv.Quote(s), reason, nil)
	}
	parts := strings.Split(s[1:], "/")
	for i, p := range parts {
		if !strings.Contains(p, "~") {
			continue
		}
		var b strings.Builder
		for j := 0; j < len(p); j++ {
			if p[j] != '~' {
				b.WriteByte(p[j])
				continue
			}
			if j+1 < len(p) && p[j+1] == '0' {
				b.WriteByte('~')
			} else if j+1 < len(p) && p[j+1] == '1' {
				b.WriteByte('/')
			} else {
				return Pointer{}, badInput("JSON pointer "+strconv.Quote(s), `"~" must be followed by "0" (for "~") or "1" (for "/")`, nil)
			}
			j++
		}
		parts[i] = b.String()
	}
	return Pointer{raw: s, tokens: parts}, nil
}

// PointerTo builds the pointer whose reference tokens are tokens (unescaped), escaping "~" and "/".
func PointerTo(tokens ...string) Pointer {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(escapeToken(t))
	}
	return Pointer{raw: b.String(), tokens: append([]string(nil), tokens...)}
}

func escapeToken(t string) string {
	if !strings.ContainsAny(t, "~/") {
		return t
	}
	return strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1")
}

// String returns the pointer in its escaped RFC 6901 form.
func (p Pointer) String() string { return p.raw }

// Tokens returns the unescaped reference tokens (a copy).
func (p Pointer) Tokens() []string { return append([]string(nil), p.tokens...) }

// PointerError says why a pointer does not resolve in a document. It is a check result (the CLI
// reports a finding), not bad input.
type PointerError struct {
	// Pointer is the pointer evaluated.
	Pointer string
	// Resolved is the longest prefix of Pointer that did resolve ("" is the whole document).
	Resolved string
	// Token is the reference token that failed.
	Token string
	// Missing is true when a member or array element is absent; false when the value at Resolved
	// cannot be descended into (a string, number, boolean or null) or Token is not an array index.
	Missing bool
	// Reason says what went wrong in words.
	Reason string
}

// Error implements error.
func (e *PointerError) Error() string {
	return "JSON pointer " + e.Pointer + ": " + e.Reason
}

// Eval returns the value p points to in doc, which holds decoded JSON (map[string]any, []any,
// string, json.Number or float64, bool, nil). Array indexes are "0" or digits without a leading
// zero; "-" (the element after the last) never resolves.
func (p Pointer) Eval(doc any) (any, error) {
	cur := doc
	resolved := 0 // length of raw prefix resolved so far
	for _, tok := range p.tokens {
		next := resolved + 1 + len(escapeToken(tok))
		fail := func(missing bool, reason string) error {
			return &PointerError{Pointer: p.raw, Resolved: p.raw[:resolved], Token: tok, Missing: missing, Reason: reason}
		}
		switch v := cur.(type) {
		case map[string]any:
			val, ok := v[tok]
			if !ok {
				where := "the document"
				if resolved > 0 {
					where = p.raw[:resolved]
				}
				return nil, fail(true, "no member "+strconv.Quote(tok)+" in "+where)
			}
			cur = val
		case []any:
			if tok == "-" {
				return nil, fail(true, `"-" names the element after the last one, which never exists`)
			}
			idx, ok := arrayIndex(tok)
			if !ok {
				return nil, fail(false, strconv.Quote(tok)+" is not an array index (digits, no leading zero)")
			}
			if idx >= len(v) {
				return nil, fail(true, "index "+tok+" is out of range (the array at "+orRoot(p.raw[:resolved])+" has "+strconv.Itoa(len(v))+" elements)")
			}
			cur = v[idx]
		default:
			return nil, fail(false, "cannot descend into "+jsonTypeName(cur)+" at "+orRoot(p.raw[:resolved]))
		}
		resolved = next
	}
	return cur, nil
}

func orRoot(s string) string {
	if s == "" {
		return "the document root"
	}
	return s
}

// arrayIndex parses an RFC 6901 array index: "0" or [1-9][0-9]*.
func arrayIndex(s string) (int, bool) {
	if s == "" || len(s) > 1 && s[0] == '0' {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > (1<<31)/10 {
			return 1 << 31, true // out of range for any real array
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// KeycloakClaimPointer is the pointer to the claim a Keycloak mapper writes
// with claim.name claim: dots nest objects ("resource_access.vault.roles"),
// and "\." is a literal dot.
func KeycloakClaimPointer(claim string) Pointer {
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(claim); i++ {
		switch {
		case claim[i] == '\\' && i+1 < len(claim) && claim[i+1] == '.':
			cur.WriteByte('.')
			i++
		case claim[i] == '.':
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(claim[i])
		}
	}
	return PointerTo(append(parts, cur.String())...)
}
