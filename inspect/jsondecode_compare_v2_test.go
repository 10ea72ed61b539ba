//go:build goexperiment.jsonv2

package inspect

// encoding/json/v2 joins the comparison in jsondecode_compare_test.go when the build has
// GOEXPERIMENT=jsonv2 (Go 1.26 still keeps the package behind it, so ssoctl cannot use it in
// a plain `go install`).

import (
	"encoding/json"
	"encoding/json/jsontext"
	jsonv2 "encoding/json/v2"
	"errors"
)

// v2Options make v2 decode as the token decoder does: duplicate names allowed (the last
// wins), invalid UTF-8 replaced, and numbers kept exact as json.Number.
var v2Options = jsonv2.JoinOptions(
	jsontext.AllowDuplicateNames(true),
	jsontext.AllowInvalidUTF8(true),
	jsonv2.WithUnmarshalers(jsonv2.UnmarshalFromFunc(func(dec *jsontext.Decoder, v *any) error {
		if dec.PeekKind() != '0' {
			return jsonv2.SkipFunc
		}
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		*v = json.Number(tok.String())
		return nil
	})),
)

func init() {
	tokenDecoders = append(tokenDecoders, tokenDecoder{"json-v2", func(b []byte) (map[string]any, error) {
		var m map[string]any
		if err := jsonv2.Unmarshal(b, &m, v2Options); err != nil {
			return nil, err
		}
		if m == nil {
			return nil, errors.New("not an object")
		}
		return m, nil
	}})
}
