package inspect

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// How go-jose, which Vault verifies signatures with, reads the JOSE header members that change
// verification. Its rules are looser than RFC 7515's and are modelled as they are.

// vaultCritRefusal says why go-jose fails every key for the header's "crit", or "" when it
// does not: crit absent or null, or a list whose names are all "b64" (the one extension go-jose
// implements; an empty list passes, and so does "b64" without a b64 member). go-jose decodes
// crit into a list of strings (a null element reads as ""), and fails on anything else.
func vaultCritRefusal(header map[string]any) string {
	v, present := header["crit"]
	if !present || v == nil {
		return ""
	}
	list, isList := v.([]any)
	if !isList {
		return "the header's crit is " + typedValue(v) + "; Vault's go-jose cannot read it as a list of names, so every key fails"
	}
	for _, e := range list {
		var name string
		switch x := e.(type) {
		case string:
			name = x
		case nil:
		default:
			return "the header's crit holds " + typedValue(e) + "; Vault's go-jose cannot read it as a list of names, so every key fails"
		}
		if name != "b64" {
			return "the header's crit marks " + strconv.Quote(name) + " as critical; Vault's go-jose understands only the b64 extension (RFC 7797) and fails every key for any other critical name"
		}
	}
	return ""
}

// vaultSigningInput is what go-jose checks the signature against: "header.payload" as sent,
// except when the header's b64 is false (RFC 7797, honoured with or without crit), where it is
// the header segment, a dot and the decoded payload bytes. unencoded reports that case.
func vaultSigningInput(tok *Token) (input []byte, unencoded bool) {
	if b, isBool := tok.Header.Fields["b64"].(bool); !isBool || b {
		return tok.SigningInput, false
	}
	seg := string(tok.SigningInput)
	dot := strings.IndexByte(seg, '.')
	payload, err := base64.RawURLEncoding.DecodeString(seg[dot+1:])
	if err != nil { // ParseCompact decoded it already; cannot happen
		return tok.SigningInput, true
	}
	out := make([]byte, 0, dot+1+len(payload))
	out = append(append(append(out, seg[:dot]...), '.'), payload...)
	return out, true
}
