package inspect

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func FuzzParseInput(f *testing.F) {
	k := testKeys(f)
	access := signJWT(f, "RS256", k.rsaA, map[string]any{"kid": "a"}, kcAccessClaims())
	id := signJWT(f, "ES256", k.ec256, nil, kcIDClaims())
	resp, _ := json.Marshal(map[string]string{"access_token": access, "id_token": id})
	for _, s := range []string{
		access, "Bearer " + access, "  \n" + id + "\n", string(resp), `"` + id + `"`,
		"a.b.c", "a.b.c.d.e", "...", "e30.e30.", "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.",
		`{"access_token":"x.y.z"}`, `{"id_token":""}`, "bearer ", "Bearer\t" + id,
	} {
		f.Add([]byte(s), uint8(0))
	}
	// The probes of the hardening issue: nesting at and past MaxTokenDepth (and the 9,990-deep
	// token), crit headers, control characters, times out of range or null.
	deep := func(levels int) any {
		var v any = 1
		for range levels {
			v = []any{v}
		}
		return v
	}
	for _, s := range []string{
		signJWT(f, "RS256", k.rsaA, nil, with(kcAccessClaims(), "deep", deep(MaxTokenDepth-1))),
		signJWT(f, "RS256", k.rsaA, nil, with(kcAccessClaims(), "deep", deep(MaxTokenDepth))),
		signJWT(f, "RS256", k.rsaA, map[string]any{"x": deep(MaxTokenDepth)}, kcAccessClaims()),
		signJWT(f, "RS256", k.rsaA, nil, with(kcAccessClaims(), "deep", deep(9990))),
		signJWT(f, "RS256", k.rsaA, map[string]any{"crit": []any{"exp"}, "exp": 1}, kcAccessClaims()),
		signJWT(f, "RS256", k.rsaA, map[string]any{"crit": []any{"b64"}, "b64": false}, kcAccessClaims()),
		signJWT(f, "RS256", k.rsaA, map[string]any{"crit": "x"}, kcAccessClaims()),
		signJWT(f, "RS256", k.rsaA, map[string]any{"kid": "\x1b[1m"}, with(kcAccessClaims(), "name", "\x1b]0;t\x07\u009b\u202e")),
		signJWT(f, "RS256", k.rsaA, nil, with(kcAccessClaims(), "exp", 1e38, "nbf", nil, "iat", -1e38)),
		signJWT(f, "RS256", k.rsaA, nil, with(kcAccessClaims(), "exp", deleteClaim, "iat", deleteClaim, "nbf", testNow.Unix())),
		`{"error":"x","error_description":"\u001b]0;t\u0007"}`,
	} {
		f.Add([]byte(s), uint8(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, pick uint8) {
		tok, err := ParseInput(data, Pick(pick%3))
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) || !ie.BadInput() {
				t.Fatalf("error %T %v is not an *InputError", err, err)
			}
			if strings.ContainsAny(err.Error(), "\x1b\x07") {
				t.Fatalf("the error message carries raw control characters: %q", err.Error())
			}
			return
		}
		// Invariants of a parsed token.
		dot := strings.LastIndexByte(tok.Raw, '.')
		if dot < 0 || string(tok.SigningInput) != tok.Raw[:dot] || b64(tok.Signature) != tok.Raw[dot+1:] {
			t.Fatalf("signing input / signature do not match Raw %q", tok.Raw)
		}
		if tok.Claims == nil || tok.Header.Fields == nil {
			t.Fatal("nil claims or header")
		}
		// The claims equal what encoding/json (UseNumber) decodes from the same payload.
		payload := strings.Split(tok.Raw, ".")[1]
		raw, _ := decodeB64(payload)
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		var want map[string]any
		if err := d.Decode(&want); err != nil {
			t.Fatalf("encoding/json rejects claims we accepted: %v", err)
		}
		if !reflect.DeepEqual(tok.Claims, want) {
			t.Fatalf("claims differ from encoding/json:\n got %#v\nwant %#v", tok.Claims, want)
		}
		// Everything downstream must cope with whatever parsed.
		ks := NewKeySet("test", &Key{Type: "RSA", Bits: 2048, Public: &k.rsaA.PublicKey})
		if _, _, err := Verify(bg, tok, ks); err != nil {
			t.Fatalf("Verify: %v", err)
		}
		CheckClaims(tok, CheckOptions{Now: testNow, Issuer: testIssuer, Audiences: []string{"vault"}})
		role := &VaultRole{RoleType: "jwt", UserClaim: "sub", GroupsClaim: "/resource_access/vault/roles", BoundClaimsType: "string",
			BoundClaims: map[string]any{"/realm_access/roles": "x"}, ClaimMappings: map[string]string{"email": "email"}}
		if _, err := EvaluateVault(bg, tok, role, nil, ks, VaultOptions{Now: testNow}); err != nil {
			t.Fatalf("EvaluateVault: %v", err)
		}
		role.RoleType = "oidc"
		if _, err := EvaluateVault(bg, tok, role, &VaultConfig{OIDCDiscoveryURL: testIssuer, OIDCClientID: "vault", OIDCClientSecretSet: true}, ks, VaultOptions{Now: testNow}); err != nil {
			t.Fatalf("EvaluateVault oidc: %v", err)
		}
	})
}

func decodeB64(s string) ([]byte, error) {
	return b64Decoder.DecodeString(s)
}

func FuzzPointer(f *testing.F) {
	for _, s := range []string{"", "/", "/foo/0", "/a~1b", "/m~0n", "/~01", "/foo/-", "/foo/01", "/a~2", "x", "/nested/list/0/x", "//", "/foo/99999999999999999999"} {
		f.Add(s, rfc6901Doc)
	}
	f.Add("/a/b", `{"a":{"b":[1,{"c":null}]}}`)
	f.Fuzz(func(t *testing.T, ptr, doc string) {
		p, err := ParsePointer(ptr)
		if err != nil {
			if !isBadInput(err) {
				t.Fatalf("parse error %v is not BadInput", err)
			}
			return
		}
		if p.String() != ptr {
			t.Fatalf("String() = %q, want %q", p.String(), ptr)
		}
		if ptr != "" {
			q := PointerTo(p.Tokens()...)
			if q.String() != ptr {
				// Escapes are canonical except that the input may not be: re-parse must agree on tokens.
				r, err := ParsePointer(q.String())
				if err != nil || !reflect.DeepEqual(r.Tokens(), p.Tokens()) {
					t.Fatalf("round trip of %q via %q lost tokens", ptr, q.String())
				}
			}
		}
		v, err := decodeJSONValue([]byte(doc))
		if err != nil {
			return
		}
		got, err := p.Eval(v)
		if err != nil {
			var pe *PointerError
			if !errors.As(err, &pe) || pe.Pointer != ptr || !strings.HasPrefix(ptr, pe.Resolved) {
				t.Fatalf("Eval error %#v", err)
			}
			// The resolved prefix itself must resolve.
			if rp, perr := ParsePointer(pe.Resolved); perr != nil {
				t.Fatalf("Resolved %q does not parse: %v", pe.Resolved, perr)
			} else if _, rerr := rp.Eval(v); rerr != nil {
				t.Fatalf("Resolved %q does not resolve: %v", pe.Resolved, rerr)
			}
			return
		}
		// Walking the tokens by hand reaches the same value.
		cur := v
		for _, tok := range p.Tokens() {
			switch c := cur.(type) {
			case map[string]any:
				cur = c[tok]
			case []any:
				i, ok := arrayIndex(tok)
				if !ok || i >= len(c) {
					t.Fatalf("Eval accepted token %q on a list of %d", tok, len(c))
				}
				cur = c[i]
			default:
				t.Fatalf("Eval descended into %T", cur)
			}
		}
		if !reflect.DeepEqual(cur, got) {
			t.Fatalf("Eval(%q) = %#v, walk = %#v", ptr, got, cur)
		}
		// The Vault-compatible lookup agrees whenever strict RFC 6901 resolves an object path.
		if m, isObj := v.(map[string]any); isObj && ptr != "" && !strings.Contains(ptr, "~") {
			vg, ok := vaultPointerGet(m, ptr)
			if !ok || !reflect.DeepEqual(vg, got) {
				t.Fatalf("vaultPointerGet(%q) = %#v %v, strict Eval = %#v", ptr, vg, ok, got)
			}
		}
	})
}

func FuzzParseVaultRoleFile(f *testing.F) {
	for _, s := range []string{
		`{"request_id":"x","data":{"role_type":"jwt","user_claim":"sub","bound_audiences":["vault"],"groups_claim":"/resource_access/vault/roles"}}`,
		`{"user_claim":"/a/b","user_claim_json_pointer":true,"bound_claims_type":"glob","bound_claims":{"/realm_access/roles":["*admin*",3]}}`,
		`{"user_claim":"email","claim_mappings":{"/x/0":"m","y":"n"},"clock_skew_leeway":"-1","bound_claims":{"a":{"b":1}}}`,
		`{"data":{"user_claim":"sub","groups_claim":"realm_access.roles","expiration_leeway":1e3}}`,
		`{"user_claim":"sub","bound_audiences":"a, b,,c","token_policies":"x,y","role_type":"oidc"}`,
		`{"data":null}`, `[]`, `{"user_claim":""}`,
	} {
		f.Add([]byte(s))
	}
	k := testKeys(f)
	claims := with(kcAccessClaims(), "user", map[string]any{"login": "a"}, "nums", []any{1, 2.5, "x"}, "obj", map[string]any{"~": []any{}})
	tok := mustParse(f, signJWT(f, "RS256", k.rsaA, nil, claims))
	ks := NewKeySet("test", &Key{Type: "RSA", Bits: 2048, Public: &k.rsaA.PublicKey})
	f.Fuzz(func(t *testing.T, data []byte) {
		role, err := ParseVaultRoleFile(data)
		if err != nil {
			if !isBadInput(err) {
				t.Fatalf("error %v is not BadInput", err)
			}
			return
		}
		if role.UserClaim == "" || (role.RoleType != "jwt" && role.RoleType != "oidc") || (role.BoundClaimsType != "string" && role.BoundClaimsType != "glob") {
			t.Fatalf("invalid role accepted: %+v", role)
		}
		for _, login := range []VaultLogin{VaultLoginJWT, VaultLoginOIDC} {
			v, err := EvaluateVault(bg, tok, role, nil, ks, VaultOptions{Now: testNow, Login: login})
			if err != nil {
				t.Fatalf("EvaluateVault: %v", err)
			}
			if v.Accepted == (v.Message != "") && v.Step != VaultStepTokenKind {
				t.Fatalf("verdict inconsistent: accepted %v message %q", v.Accepted, v.Message)
			}
			if len(v.Findings) == 0 {
				t.Fatal("verdict without findings")
			}
		}
	})
}
