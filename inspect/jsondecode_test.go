package inspect

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// stdDecode is the reference: encoding/json into any with UseNumber.
func stdDecode(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, errTrailing
	}
	// Decoder tolerates trailing whitespace only; anything else must fail as in Unmarshal.
	if err := json.Unmarshal(b, new(any)); err != nil {
		return nil, err
	}
	return v, nil
}

var errTrailing = errorString("trailing data")

func TestDecodeJSONMatchesEncodingJSON(t *testing.T) {
	samples := []string{
		`{}`, `{"a":1}`, ` {"a" : [ 1 , 2.5e3 , -0 , true , false , null , "x" ] } `,
		`{"a":{"b":{"c":[]}}}`, `{"a":[]}`, `{"dup":1,"dup":2}`,
		`{"s":"\u00e9\ud83d\ude00\n\t\"\\\/\b\f\r"}`, `{"lone":"\ud800x"}`, `{"lone2":"\udc00"}`,
		`{"pair-bad":"\ud800\u0041"}`, `{"two-high":"\ud800\ud800\udc00"}`,
		"{\"bad-utf8\":\"\xff\xfe ok\"}", "{\"trunc\":\"\xe2\x82\"}", "{\"ok\":\"\xe2\x82\xac\"}",
		"{\"surrogate-bytes\":\"\xed\xa0\x80\"}",
		`{"big":123456789012345678901234567890,"e":1E+2,"E":1e-2}`,
		`{"a":1,}`, `{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":-}`, `{"a":1e}`, `{"a":"\x"}`,
		"{\"ctl\":\"a\x01b\"}", `{"a":tru}`, `{"a":nul}`, `{a:1}`, `{"a" 1}`, `{"a":1}}`, `[1,2]`, `"x"`, `1`,
		`{"a":[1,]}`, `{"a":[1 2]}`, `{"u":"\u12"}`, `{"u":"\uZZZZ"}`, ``, `   `, `{`, `{"a":"x`,
		`{"a":1} {"b":2}`, "{\"a\":1}\n", `{"\u0000":0}`, `{"":""}`,
	}
	for _, s := range samples {
		want, wantErr := stdDecode([]byte(s))
		got, gotErr := decodeJSONObject([]byte(s))
		wantObj, isObj := want.(map[string]any)
		if wantErr != nil || !isObj {
			if gotErr == nil {
				t.Errorf("%q: decoded %v, encoding/json says %v (object %v)", s, got, wantErr, isObj)
			}
			continue
		}
		if gotErr != nil {
			t.Errorf("%q: error %v, encoding/json decodes %v", s, gotErr, want)
			continue
		}
		if !reflect.DeepEqual(got, wantObj) {
			t.Errorf("%q: got %#v, want %#v", s, got, wantObj)
		}
	}
}

func TestDecodeJSONDepthLimit(t *testing.T) {
	deep := strings.Repeat(`{"a":`, 10001) + "1" + strings.Repeat("}", 10001)
	if _, err := decodeJSONObject([]byte(deep)); err == nil || !strings.Contains(err.Error(), "max depth") {
		t.Errorf("10001 levels: err = %v, want max depth", err)
	}
	ok := strings.Repeat(`{"a":`, 9999) + "1" + strings.Repeat("}", 9999)
	if _, err := decodeJSONObject([]byte(ok)); err != nil {
		t.Errorf("9999 levels: %v", err)
	}
}

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,"x",{"b":null}]}`, `{"s":"\ud83d\ude00"}`, "{\"x\":\"\xff\"}", `{"n":-1.5e+10}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, gotErr := decodeJSONObject(data)
		want, wantErr := stdDecode(data)
		wantObj, isObj := want.(map[string]any)
		if wantErr != nil || !isObj {
			if gotErr == nil {
				t.Fatalf("accepted what encoding/json rejects (%v): %q", wantErr, data)
			}
			return
		}
		if gotErr != nil {
			t.Fatalf("rejected (%v) what encoding/json accepts: %q", gotErr, data)
		}
		if !reflect.DeepEqual(got, wantObj) {
			t.Fatalf("differs from encoding/json on %q:\n got %#v\nwant %#v", data, got, wantObj)
		}
	})
}

func TestTokenDepthLimit(t *testing.T) {
	k := testKeys(t)
	nest := func(levels int) any { // levels containers below the claims object
		var v any = "x"
		for range levels {
			v = []any{v}
		}
		return v
	}
	// The claims object is level 1, so a claim may hold MaxTokenDepth-1 levels.
	ok := signJWT(t, "RS256", k.rsaA, nil, map[string]any{"sub": "u", "deep": nest(MaxTokenDepth - 1)})
	if _, err := ParseInput([]byte(ok), PickDefault); err != nil {
		t.Fatalf("%d levels: %v", MaxTokenDepth, err)
	}
	for name, raw := range map[string]string{
		"claims": signJWT(t, "RS256", k.rsaA, nil, map[string]any{"sub": "u", "deep": nest(MaxTokenDepth)}),
		"header": signJWT(t, "RS256", k.rsaA, map[string]any{"x": nest(MaxTokenDepth)}, map[string]any{"sub": "u"}),
		// The probe of the hardening issue: arrays 9,990 deep (27 KB) gave 200 MB of -o json.
		"9990 levels": signJWT(t, "RS256", k.rsaA, nil, map[string]any{"sub": "u", "deep": nest(9990)}),
	} {
		_, err := ParseInput([]byte(raw), PickDefault)
		var ne *NestingError
		if !errors.As(err, &ne) || ne.Limit != MaxTokenDepth || !isBadInput(err) {
			t.Errorf("%s: err = %v, want a BadInput *NestingError with limit %d", name, err, MaxTokenDepth)
			continue
		}
		if !strings.Contains(err.Error(), "nested deeper than 64 levels") {
			t.Errorf("%s: the message does not name the limit: %v", name, err)
		}
	}
	// Other JSON keeps encoding/json's limit.
	if _, err := decodeJSONObject([]byte(`{"a":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`)); err != nil {
		t.Errorf("a role file 100 deep: %v", err)
	}
}

// A number beyond a 64-bit float is named with its place, not as JSON that is not an object;
// numbers in range stay exact (json.Number).
func TestNumberOutOfRange(t *testing.T) {
	for _, tt := range []struct {
		in, member, pointer, msg string
	}{
		{`{"exp": 1e999999999}`, "exp", "/exp", "number 1e999999999 is out of range for a 64-bit float"},
		{`{"sub":"x","a":{"b/c":[1,-1e400]}}`, "a", "/a/b~1c/1", "number -1e400 at /a/b~1c/1 is out of range for a 64-bit float"},
		{`{"n":1` + strings.Repeat("0", 400) + `}`, "n", "/n", "number 1" + strings.Repeat("0", 31) + "… is out of range"},
	} {
		_, err := decodeTokenJSON([]byte(tt.in), 0)
		var re *NumberRangeError
		if !errors.As(err, &re) || re.Member() != tt.member || re.Pointer() != tt.pointer || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%.60s: err = %v", tt.in, err)
		}
	}
	m, err := decodeTokenJSON([]byte(`{"exp":1.7976931348623157e308,"big":123456789012345678901234567890}`), 0)
	if err != nil || m["big"] != json.Number("123456789012345678901234567890") || m["exp"] != json.Number("1.7976931348623157e308") {
		t.Errorf("in range: %v %#v", err, m)
	}
}
