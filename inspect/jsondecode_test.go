package inspect

import (
	"bytes"
	"encoding/json"
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
