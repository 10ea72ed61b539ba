package inspect

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// A small, allocation-lean JSON decoder producing exactly what encoding/json produces when it
// decodes into an `any` with UseNumber: map[string]any, []any (non-nil when empty), string,
// json.Number, bool and nil. Later duplicate keys win, invalid UTF-8 becomes U+FFFD, lone
// surrogates in \u escapes become U+FFFD, and nesting is limited to 10000 levels, all as in
// encoding/json. It exists because token decoding is on the hot path of `inspect token`, where
// reflection-driven decoding costs more than the signature check it accompanies.

const maxJSONDepth = 10000

// MaxTokenDepth is how deeply a token's header or claims may nest JSON objects and arrays, the
// header or claims object itself counting as level 1. Deeper input is refused as malformed (a
// *NestingError inside an *InputError). Keycloak's deepest claim, resource_access.CLIENT.roles,
// is at level 4; the limit keeps every rendering of a token (`-o json` indents each level)
// linear in the token's size.
const MaxTokenDepth = 64

// NestingError reports JSON nested deeper than a limit (MaxTokenDepth for tokens).
type NestingError struct {
	// Limit is the number of levels allowed.
	Limit int
	// Offset is the byte offset, in the decoded segment, of the first container past the limit.
	Offset int
}

// Error implements error.
func (e *NestingError) Error() string {
	return "JSON nested deeper than " + strconv.Itoa(e.Limit) + " levels at byte " + strconv.Itoa(e.Offset)
}

// NumberRangeError reports a JSON number beyond a 64-bit float (1e999999999). encoding/json's
// Unmarshal refuses it, and so does every Go verifier that decodes claims, Vault's among them.
type NumberRangeError struct {
	// Number is the literal, cut to 32 bytes.
	Number string
	// Path holds the member names and array indexes from the outermost object down to the
	// number, innermost first while the decoder unwinds, outermost first when it returns.
	Path []string
}

// Member is the outermost object's member that holds the number ("exp"), "" when none does.
func (e *NumberRangeError) Member() string {
	if len(e.Path) == 0 {
		return ""
	}
	return e.Path[0]
}

// Pointer is the number's place as a JSON pointer (RFC 6901), e.g. "/resource_access/a/0".
func (e *NumberRangeError) Pointer() string {
	var b strings.Builder
	for _, p := range e.Path {
		if len(p) > 64 {
			p = p[:64] + "…"
		}
		b.WriteByte('/')
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(p, "~", "~0"), "/", "~1"))
	}
	return b.String()
}

// Error implements error; the place is named when it is below a member of its own.
func (e *NumberRangeError) Error() string {
	msg := "number " + e.Number
	if len(e.Path) > 1 {
		msg += " at " + e.Pointer()
	}
	return msg + " is out of range for a 64-bit float"
}

// within records that the number is inside name (a member name or an array index) as the
// decoder unwinds; the path is put outermost first once, at the top.
func within(err error, name string) error {
	if e, ok := err.(*NumberRangeError); ok {
		e.Path = append(e.Path, name)
	}
	return err
}

// outermostFirst puts a *NumberRangeError's path in order once the decoder has unwound.
func outermostFirst(err error) error {
	if e, ok := err.(*NumberRangeError); ok {
		slices.Reverse(e.Path)
	}
	return err
}

type jsonSyntaxError struct {
	offset int
	msg    string
}

// Error implements error.
func (e *jsonSyntaxError) Error() string {
	return "invalid JSON at byte " + strconv.Itoa(e.offset) + ": " + e.msg
}

// jsonReader reads from a string so that keys, plain string values and numbers are substrings
// of the one copy of the input: no allocation per string.
type jsonReader struct {
	b        string
	i        int
	depth    int
	rootHint int // size hint for the outermost object's map (token claims have 10-30 members)
	maxDepth int // 0: maxJSONDepth, as encoding/json; otherwise deeper input is a *NestingError
}

// decodeJSONObject decodes b, which must hold one JSON object and nothing else but whitespace.
func decodeJSONObject(b []byte) (map[string]any, error) {
	return decodeJSONObjectString(string(b), 0)
}

// decodeTokenJSON decodes a token's header or payload: decodeJSONObject nested at most
// MaxTokenDepth levels, with a map sized for rootHint members.
func decodeTokenJSON(b []byte, rootHint int) (map[string]any, error) {
	return decodeJSONObjectReader(jsonReader{b: string(b), rootHint: rootHint, maxDepth: MaxTokenDepth})
}

// decodeJSONObjectString is decodeJSONObject on a string (which it does not copy).
func decodeJSONObjectString(b string, rootHint int) (map[string]any, error) {
	return decodeJSONObjectReader(jsonReader{b: b, rootHint: rootHint})
}

func decodeJSONObjectReader(r jsonReader) (map[string]any, error) {
	b := r.b
	r.skipSpace()
	if r.i >= len(b) || b[r.i] != '{' {
		if r.i >= len(b) {
			return nil, r.fail("empty input, expected a JSON object")
		}
		return nil, r.fail("expected a JSON object")
	}
	m, err := r.object()
	if err != nil {
		return nil, outermostFirst(err)
	}
	r.skipSpace()
	if r.i != len(b) {
		return nil, r.fail("unexpected data after the JSON object")
	}
	return m, nil
}

// decodeJSONValue decodes b, which must hold one JSON value and nothing else but whitespace.
func decodeJSONValue(b []byte) (any, error) {
	r := jsonReader{b: string(b)}
	r.skipSpace()
	v, err := r.value()
	if err != nil {
		return nil, outermostFirst(err)
	}
	r.skipSpace()
	if r.i != len(b) {
		return nil, r.fail("unexpected data after the JSON value")
	}
	return v, nil
}

func (r *jsonReader) fail(msg string) error {
	return &jsonSyntaxError{offset: r.i, msg: msg}
}

func (r *jsonReader) skipSpace() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

func (r *jsonReader) value() (any, error) {
	if r.i >= len(r.b) {
		return nil, r.fail("unexpected end of input")
	}
	switch c := r.b[r.i]; {
	case c == '{':
		return r.object()
	case c == '[':
		return r.array()
	case c == '"':
		return r.str()
	case c == '-' || (c >= '0' && c <= '9'):
		return r.number()
	case c == 't':
		return true, r.literal("true")
	case c == 'f':
		return false, r.literal("false")
	case c == 'n':
		return nil, r.literal("null")
	default:
		return nil, r.fail("unexpected character " + strconv.QuoteRune(rune(c)))
	}
}

func (r *jsonReader) literal(word string) error {
	if len(r.b)-r.i < len(word) || r.b[r.i:r.i+len(word)] != word {
		return r.fail("invalid literal, expected " + word)
	}
	r.i += len(word)
	return nil
}

func (r *jsonReader) enter() error {
	r.depth++
	switch {
	case r.maxDepth > 0 && r.depth > r.maxDepth:
		return &NestingError{Limit: r.maxDepth, Offset: r.i}
	case r.depth > maxJSONDepth:
		return r.fail("exceeded max depth")
	}
	return nil
}

func (r *jsonReader) object() (map[string]any, error) {
	if err := r.enter(); err != nil {
		return nil, err
	}
	r.i++ // '{'
	var m map[string]any
	if r.depth == 1 && r.rootHint > 0 {
		m = make(map[string]any, r.rootHint)
	} else {
		m = make(map[string]any)
	}
	r.skipSpace()
	if r.i < len(r.b) && r.b[r.i] == '}' {
		r.i++
		r.depth--
		return m, nil
	}
	for {
		if r.i >= len(r.b) || r.b[r.i] != '"' {
			return nil, r.fail("expected a string key")
		}
		k, err := r.str()
		if err != nil {
			return nil, err
		}
		r.skipSpace()
		if r.i >= len(r.b) || r.b[r.i] != ':' {
			return nil, r.fail("expected ':' after object key")
		}
		r.i++
		r.skipSpace()
		v, err := r.value()
		if err != nil {
			return nil, within(err, k)
		}
		m[k] = v
		r.skipSpace()
		if r.i >= len(r.b) {
			return nil, r.fail("unterminated object")
		}
		switch r.b[r.i] {
		case ',':
			r.i++
			r.skipSpace()
		case '}':
			r.i++
			r.depth--
			return m, nil
		default:
			return nil, r.fail("expected ',' or '}' in object")
		}
	}
}

func (r *jsonReader) array() ([]any, error) {
	if err := r.enter(); err != nil {
		return nil, err
	}
	r.i++ // '['
	// Non-nil when empty, as encoding/json makes it; this allocates nothing yet.
	a := make([]any, 0)
	r.skipSpace()
	if r.i < len(r.b) && r.b[r.i] == ']' {
		r.i++
		r.depth--
		return a, nil
	}
	a = make([]any, 0, 4) // claim lists are short: one allocation for most
	for {
		v, err := r.value()
		if err != nil {
			return nil, within(err, strconv.Itoa(len(a)))
		}
		a = append(a, v)
		r.skipSpace()
		if r.i >= len(r.b) {
			return nil, r.fail("unterminated array")
		}
		switch r.b[r.i] {
		case ',':
			r.i++
			r.skipSpace()
		case ']':
			r.i++
			r.depth--
			return a, nil
		default:
			return nil, r.fail("expected ',' or ']' in array")
		}
	}
}

func (r *jsonReader) number() (json.Number, error) {
	b, start := r.b, r.i
	i := r.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		r.i = i
		return "", r.fail("invalid number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			r.i = i
			return "", r.fail("invalid number: digit expected after '.'")
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			r.i = i
			return "", r.fail("invalid number: digit expected in exponent")
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	r.i = i
	// encoding/json's Unmarshal refuses a number beyond float64 (1e700);
	// so does every Go verifier that decodes claims, Vault's among them.
	if _, err := strconv.ParseFloat(b[start:i], 64); err != nil {
		lit := b[start:i]
		if len(lit) > 32 {
			lit = lit[:32] + "…"
		}
		r.i = start
		return "", &NumberRangeError{Number: lit}
	}
	return json.Number(b[start:i]), nil
}

// str decodes the string starting at the opening quote at r.i.
func (r *jsonReader) str() (string, error) {
	b := r.b
	start := r.i + 1
	j := start
	for j < len(b) {
		c := b[j]
		if c == '"' {
			r.i = j + 1
			return b[start:j], nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		if c >= utf8.RuneSelf {
			rr, size := utf8.DecodeRuneInString(b[j:])
			if rr == utf8.RuneError && size == 1 {
				break // invalid UTF-8 is replaced by U+FFFD: build a new string
			}
			j += size
			continue
		}
		j++
	}
	buf := make([]byte, 0, j-start+16)
	buf = append(buf, b[start:j]...)
	for {
		if j >= len(b) {
			r.i = j
			return "", r.fail("unterminated string")
		}
		c := b[j]
		switch {
		case c == '"':
			r.i = j + 1
			return string(buf), nil
		case c == '\\':
			if j+1 >= len(b) {
				r.i = j
				return "", r.fail("unterminated string")
			}
			switch e := b[j+1]; e {
			case '"', '\\', '/':
				buf = append(buf, e)
				j += 2
			case 'b':
				buf = append(buf, '\b')
				j += 2
			case 'f':
				buf = append(buf, '\f')
				j += 2
			case 'n':
				buf = append(buf, '\n')
				j += 2
			case 'r':
				buf = append(buf, '\r')
				j += 2
			case 't':
				buf = append(buf, '\t')
				j += 2
			case 'u':
				rr := hex4(b, j+2)
				if rr < 0 {
					r.i = j
					return "", r.fail("invalid \\u escape")
				}
				j += 6
				if utf16.IsSurrogate(rune(rr)) {
					var dec rune = utf8.RuneError
					if j+1 < len(b) && b[j] == '\\' && b[j+1] == 'u' {
						if rr2 := hex4(b, j+2); rr2 >= 0 {
							dec = utf16.DecodeRune(rune(rr), rune(rr2))
						}
					}
					if dec != utf8.RuneError {
						j += 6
						buf = utf8.AppendRune(buf, dec)
					} else {
						buf = utf8.AppendRune(buf, utf8.RuneError)
					}
					continue
				}
				buf = utf8.AppendRune(buf, rune(rr))
			default:
				r.i = j
				return "", r.fail("invalid escape character " + strconv.QuoteRune(rune(e)))
			}
		case c < 0x20:
			r.i = j
			return "", r.fail("control character in string")
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			j++
		default:
			rr, size := utf8.DecodeRuneInString(b[j:])
			if rr == utf8.RuneError && size == 1 {
				buf = utf8.AppendRune(buf, utf8.RuneError)
			} else {
				buf = append(buf, b[j:j+size]...)
			}
			j += size
		}
	}
}

// hex4 reads four hex digits at b[i:], or returns -1.
func hex4(b string, i int) int {
	if i+4 > len(b) {
		return -1
	}
	v := 0
	for k := i; k < i+4; k++ {
		c := b[k]
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		v = v<<4 | int(c)
	}
	return v
}
