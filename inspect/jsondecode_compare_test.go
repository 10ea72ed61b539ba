package inspect

// The token decoder measured against the JSON libraries ssoctl could use instead (issue 33,
// item 8): speed and allocations on the token BenchmarkVerifyRS256 verifies, and which
// implementation refuses what. docs/design-notes.md ("Hand-written where a library exists")
// records the figures and the decision; re-measure with
//
//	nice go test -run '^$' -bench BenchmarkDecode -benchmem -count 6 ./inspect/
//	nice go test -run TestDecodeRefusals -v ./inspect/
//
// and, for encoding/json/v2 (still behind GOEXPERIMENT=jsonv2 in Go 1.26), the same with
// GOEXPERIMENT=jsonv2 set (jsondecode_compare_v2_test.go adds it to the table).

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"testing"

	goccy "github.com/goccy/go-json"
)

// tokenDecoder decodes one token segment (header or claims) into a JSON object.
type tokenDecoder struct {
	name   string
	decode func(b []byte) (map[string]any, error)
}

// tokenDecoders are the implementations compared; jsondecode_compare_v2_test.go appends one.
var tokenDecoders = []tokenDecoder{
	{"handwritten", func(b []byte) (map[string]any, error) { return decodeTokenJSON(b, 24) }},
	{"encoding-json", decodeStd},
	{"encoding-json+limits", withLimits(decodeStd)},
	{"goccy", decodeGoccy},
	{"goccy+limits", withLimits(decodeGoccy)},
}

// decodeStd is encoding/json as jwx uses it by default: a Decoder with UseNumber, and
// anything but whitespace after the object refused.
func decodeStd(b []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	return decodeStream(d, func() error { _, err := d.Token(); return err })
}

// decodeGoccy is goccy/go-json the same way (its Unmarshal has no UseNumber option).
func decodeGoccy(b []byte) (map[string]any, error) {
	d := goccy.NewDecoder(bytes.NewReader(b))
	return decodeStream(d, func() error { _, err := d.Token(); return err })
}

// streamDecoder is what encoding/json's and goccy's Decoders share.
type streamDecoder interface {
	UseNumber()
	Decode(v any) error
}

// decodeStream decodes one object from d; next reads the token after it, which must be EOF
// (goccy's InputOffset is wrong after a \u escape, so the check reads a token instead).
func decodeStream(d streamDecoder, next func() error) (map[string]any, error) {
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	if next() != io.EOF {
		return nil, errors.New("data after the object")
	}
	return m, nil
}

// withLimits adds tokenLimits to a library's decode.
func withLimits(decode func([]byte) (map[string]any, error)) func([]byte) (map[string]any, error) {
	return func(b []byte) (map[string]any, error) {
		m, err := decode(b)
		if err != nil {
			return nil, err
		}
		return m, tokenLimits(m)
	}
}

// tokenLimits is what a library's result would need afterwards to refuse what the token
// decoder refuses: nesting past MaxTokenDepth and numbers beyond a float64. It cannot give the
// byte offset that NestingError carries, since the result no longer has one.
func tokenLimits(m map[string]any) error {
	var walk func(v any, depth int) error
	walk = func(v any, depth int) error {
		switch v := v.(type) {
		case map[string]any:
			if depth > MaxTokenDepth {
				return &NestingError{Limit: MaxTokenDepth, Offset: -1}
			}
			for k, e := range v {
				if err := walk(e, depth+1); err != nil {
					return within(err, k)
				}
			}
		case []any:
			if depth > MaxTokenDepth {
				return &NestingError{Limit: MaxTokenDepth, Offset: -1}
			}
			for i, e := range v {
				if err := walk(e, depth+1); err != nil {
					return within(err, strconv.Itoa(i))
				}
			}
		case json.Number:
			if _, err := strconv.ParseFloat(string(v), 64); err != nil {
				return &NumberRangeError{Number: string(v)}
			}
		}
		return nil
	}
	return outermostFirst(walk(m, 1))
}

// benchSegments are the decoded header and claims of the token BenchmarkVerifyRS256 verifies
// (a Keycloak access token).
func benchSegments(tb testing.TB) (header, claims []byte) {
	k := testKeys(tb)
	raw := signJWT(tb, "RS256", k.rsaA, map[string]any{"kid": "a"}, kcAccessClaims())
	parts := strings.Split(raw, ".")
	h, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		tb.Fatal(err)
	}
	c, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		tb.Fatal(err)
	}
	return h, c
}

// BenchmarkDecode decodes one token's header and claims per op, as ParseInput does.
func BenchmarkDecode(b *testing.B) {
	header, claims := benchSegments(b)
	want, err := decodeTokenJSON(claims, 24)
	if err != nil {
		b.Fatal(err)
	}
	for _, d := range tokenDecoders {
		b.Run(d.name, func(b *testing.B) {
			// One checked decode first: every implementation must give the same claims.
			if got, err := d.decode(claims); err != nil || !reflect.DeepEqual(got, want) {
				b.Skipf("%s does not give the handwritten decoder's claims (%v); not comparable", d.name, err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := d.decode(header); err != nil {
					b.Fatal(err)
				}
				if _, err := d.decode(claims); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// nestedArrays is a claims object whose "deep" claim holds levels arrays around a string.
func nestedArrays(levels int) string {
	return `{"deep":` + strings.Repeat("[", levels) + `"x"` + strings.Repeat("]", levels) + `}`
}

// refusalCases are the inputs where decoders may part ways.
var refusalCases = []struct {
	name, in string
}{
	{"duplicate key (last wins)", `{"a":1,"a":2}`},
	{"nesting at MaxTokenDepth", nestedArrays(MaxTokenDepth - 1)},
	{"nesting past MaxTokenDepth", nestedArrays(MaxTokenDepth)},
	{"nesting 10001 levels", nestedArrays(10000)},
	{"number beyond float64", `{"exp":1e999999999}`},
	{"number beyond float64 in a list", `{"a":{"b":[1,-1e400]}}`},
	{"integer beyond int64, kept exact", `{"n":123456789012345678901234567890}`},
	{"leading zero", `{"n":01}`},
	{"invalid UTF-8 (becomes U+FFFD)", "{\"s\":\"a\xffb\"}"},
	{"truncated UTF-8 (becomes U+FFFD)", "{\"s\":\"\xe2\x82\"}"},
	{"lone surrogate escape (becomes U+FFFD)", `{"s":"\ud800x"}`},
	{"control character in a string", "{\"s\":\"a\x01b\"}"},
	{"trailing data", `{"a":1}x`},
	{"a second object", `{"a":1} {"b":2}`},
	{"trailing whitespace", "{\"a\":1}\n\t "},
	{"not an object", `[1]`},
	{"trailing comma", `{"a":1,}`},
}

// refusalWant is the outcome per case and implementation: "ok" (the handwritten decoder's
// value), "accepted" (what the handwritten decoder refuses), "differs" (another value),
// "refused", "refused: nesting" (*NestingError), "refused: range" (*NumberRangeError). It is
// pinned so that a library
// upgrade that changes one shows here and the design note can be brought up to date.
var refusalWant = map[string]map[string]string{
	"duplicate key (last wins)":              {"handwritten": "ok", "encoding-json": "ok", "encoding-json+limits": "ok", "goccy": "ok", "goccy+limits": "ok"},
	"nesting at MaxTokenDepth":               {"handwritten": "ok", "encoding-json": "ok", "encoding-json+limits": "ok", "goccy": "ok", "goccy+limits": "ok"},
	"nesting past MaxTokenDepth":             {"handwritten": "refused: nesting", "encoding-json": "accepted", "encoding-json+limits": "refused: nesting", "goccy": "accepted", "goccy+limits": "refused: nesting"},
	"nesting 10001 levels":                   {"handwritten": "refused: nesting", "encoding-json": "refused", "encoding-json+limits": "refused", "goccy": "refused", "goccy+limits": "refused"},
	"number beyond float64":                  {"handwritten": "refused: range", "encoding-json": "accepted", "encoding-json+limits": "refused: range", "goccy": "refused", "goccy+limits": "refused"},
	"number beyond float64 in a list":        {"handwritten": "refused: range", "encoding-json": "accepted", "encoding-json+limits": "refused: range", "goccy": "refused", "goccy+limits": "refused"},
	"integer beyond int64, kept exact":       {"handwritten": "ok", "encoding-json": "ok", "encoding-json+limits": "ok", "goccy": "ok", "goccy+limits": "ok"},
	"leading zero":                           {"handwritten": "refused", "encoding-json": "refused", "encoding-json+limits": "refused", "goccy": "accepted", "goccy+limits": "accepted"},
	"invalid UTF-8 (becomes U+FFFD)":         {"handwritten": "ok", "encoding-json": "ok", "encoding-json+limits": "ok", "goccy": "differs", "goccy+limits": "differs"},
	"truncated UTF-8 (becomes U+FFFD)":       {"handwritten": "ok", "encoding-json": "ok", "encoding-json+limits": "ok", "goccy": "differs", "goccy+limits": "differs"},
	"lone surrogate escape (becomes U+FFFD)": {"handwritten": "ok", "encoding-json": "ok", "encoding-json+limits": "ok", "goccy": "ok", "goccy+limits": "ok"},
	"control character in a string":          {"handwritten": "refused", "encoding-json": "refused", "encoding-json+limits": "refused", "goccy": "accepted", "goccy+limits": "accepted"},
	"trailing data":                          {"handwritten": "refused", "encoding-json": "refused", "encoding-json+limits": "refused", "goccy": "refused", "goccy+limits": "refused"},
	"a second object":                        {"handwritten": "refused", "encoding-json": "refused", "encoding-json+limits": "refused", "goccy": "refused", "goccy+limits": "refused"},
	"trailing whitespace":                    {"handwritten": "ok", "encoding-json": "ok", "encoding-json+limits": "ok", "goccy": "ok", "goccy+limits": "ok"},
	"not an object":                          {"handwritten": "refused", "encoding-json": "refused", "encoding-json+limits": "refused", "goccy": "refused", "goccy+limits": "refused"},
	"trailing comma":                         {"handwritten": "refused", "encoding-json": "refused", "encoding-json+limits": "refused", "goccy": "refused", "goccy+limits": "refused"},
}

// outcome classifies one implementation's answer against the handwritten decoder's value.
func outcome(got map[string]any, err error, ref map[string]any, refErr error) string {
	var ne *NestingError
	var re *NumberRangeError
	switch {
	case errors.As(err, &ne):
		return "refused: nesting"
	case errors.As(err, &re):
		return "refused: range"
	case err != nil:
		return "refused"
	case refErr != nil:
		return "accepted"
	case !reflect.DeepEqual(got, ref):
		return "differs"
	}
	return "ok"
}

// TestDecodeRefusals feeds each case to every implementation and prints the table the design
// note quotes (go test -v).
func TestDecodeRefusals(t *testing.T) {
	var table strings.Builder
	fmt.Fprintf(&table, "%-40s", "case")
	for _, d := range tokenDecoders {
		fmt.Fprintf(&table, " | %-20s", d.name)
	}
	table.WriteString("\n")
	for _, tc := range refusalCases {
		ref, refErr := decodeTokenJSON([]byte(tc.in), 24)
		fmt.Fprintf(&table, "%-40s", tc.name)
		for _, d := range tokenDecoders {
			got, err := d.decode([]byte(tc.in))
			o := outcome(got, err, ref, refErr)
			fmt.Fprintf(&table, " | %-20s", o)
			if want, ok := refusalWant[tc.name][d.name]; ok && want != o {
				t.Errorf("%s, %s: %s, want %s (err %v)", tc.name, d.name, o, want, err)
			}
		}
		table.WriteString("\n")
	}
	t.Log("\n" + table.String())
}
