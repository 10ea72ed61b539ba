package inspect

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseInput(t *testing.T) {
	k := testKeys(t)
	access := signJWT(t, "RS256", k.rsaA, map[string]any{"kid": "a"}, kcAccessClaims())
	id := signJWT(t, "RS256", k.rsaA, map[string]any{"kid": "a"}, kcIDClaims())
	plain := signJWT(t, "RS256", k.rsaA, nil, map[string]any{"sub": "x", "big": json.Number("123456789012345678901234567890")})
	resp := func(fields map[string]any) string {
		b, _ := json.Marshal(fields)
		return string(b)
	}
	parts := strings.Split(plain, ".")

	tests := []struct {
		name          string
		in            string
		pick          Pick
		wantRaw       string
		wantKind      Kind
		wantCompanion Kind // "" for none
		wantErr       string
	}{
		{name: "bare JWT", in: plain, wantRaw: plain, wantKind: KindUnknown},
		{name: "surrounding whitespace", in: "\n\t  " + plain + " \r\n", wantRaw: plain, wantKind: KindUnknown},
		{name: "Bearer prefix", in: "Bearer " + access, wantRaw: access, wantKind: KindAccess},
		{name: "bearer lowercase with tab", in: "  bearer\t" + access + "\n", wantRaw: access, wantKind: KindAccess},
		{name: "BEARER uppercase", in: "BEARER   " + access, wantRaw: access, wantKind: KindAccess},
		{name: "JSON string", in: `"` + id + `"`, wantRaw: id, wantKind: KindID},
		{name: "response picks ID token by default", in: resp(map[string]any{"access_token": access, "id_token": id, "token_type": "Bearer"}), wantRaw: id, wantKind: KindID, wantCompanion: KindAccess},
		{name: "response --access-token", in: resp(map[string]any{"access_token": access, "id_token": id}), pick: PickAccessToken, wantRaw: access, wantKind: KindAccess, wantCompanion: KindID},
		{name: "response --id-token", in: resp(map[string]any{"access_token": access, "id_token": id}), pick: PickIDToken, wantRaw: id, wantKind: KindID, wantCompanion: KindAccess},
		{name: "response without id_token defaults to access token", in: resp(map[string]any{"access_token": access, "expires_in": 300}), wantRaw: access, wantKind: KindAccess},
		{name: "response kind from field when typ absent", in: resp(map[string]any{"access_token": plain}), wantRaw: plain, wantKind: KindAccess},
		{name: "response with opaque access token keeps no companion", in: resp(map[string]any{"access_token": "opaque-abc", "id_token": id}), wantRaw: id, wantKind: KindID},
		{name: "response --id-token without id_token", in: resp(map[string]any{"access_token": access}), pick: PickIDToken, wantErr: "no id_token"},
		{name: "response --access-token without access_token", in: resp(map[string]any{"id_token": id}), pick: PickAccessToken, wantErr: "no access_token"},
		{name: "error response", in: `{"error":"invalid_grant","error_description":"Invalid user credentials"}`, wantErr: "invalid_grant"},
		{name: "JSON object without tokens", in: `{"foo":1}`, wantErr: "neither access_token nor id_token"},
		{name: "broken JSON object", in: `{"access_token":`, wantErr: "not a token-endpoint JSON response"},
		{name: "single access token with --id-token", in: access, pick: PickIDToken, wantErr: "an ID token was asked for"},
		{name: "single ID token with --access-token", in: id, pick: PickAccessToken, wantErr: "an access token was asked for"},
		{name: "empty", in: " \n ", wantErr: "empty"},
		{name: "JWE with five segments", in: "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d", wantErr: "JWE"},
		{name: "two segments", in: parts[0] + "." + parts[1], wantErr: "has 2"},
		{name: "four segments", in: plain + ".x", wantErr: "has 4"},
		{name: "one segment", in: "notatoken", wantErr: "has 1"},
		{name: "empty payload", in: parts[0] + ".." + parts[2], wantErr: "empty header or payload"},
		{name: "bad base64 in payload", in: parts[0] + ".#$%." + parts[2], wantErr: "not base64url"},
		{name: "padded base64", in: parts[0] + "." + parts[1] + "==." + parts[2], wantErr: "padding"},
		{name: "standard base64 alphabet", in: parts[0] + "." + parts[1] + "." + strings.NewReplacer("-", "+", "_", "/").Replace(parts[2]) + "+/", wantErr: "standard base64"},
		{name: "non-canonical base64 (tampered last character)", in: parts[0] + "." + parts[1] + "." + flipUnusedBits(parts[2]), wantErr: "non-canonical"},
		{name: "line break inside the signature (base64 would skip it)", in: parts[0] + "." + parts[1] + "." + parts[2][:4] + "\r" + parts[2][4:], wantErr: "line break"},
		{name: "line break inside the payload", in: parts[0] + "." + parts[1][:4] + "\n" + parts[1][4:] + "." + parts[2], wantErr: "line break"},
		{name: "header not JSON", in: b64([]byte("not json")) + "." + parts[1] + "." + parts[2], wantErr: "token header"},
		{name: "header is a JSON array", in: b64([]byte(`["RS256"]`)) + "." + parts[1] + "." + parts[2], wantErr: "token header"},
		{name: "header alg not a string", in: b64([]byte(`{"alg":5}`)) + "." + parts[1] + "." + parts[2], wantErr: `"alg" is not a string`},
		{name: "header with enc is a JWE", in: b64([]byte(`{"alg":"dir","enc":"A256GCM"}`)) + "." + parts[1] + "." + parts[2], wantErr: "JWE"},
		{name: "claims are an array", in: parts[0] + "." + b64([]byte(`[1,2]`)) + "." + parts[2], wantErr: "claims are not a JSON object"},
		{name: "claims with trailing garbage", in: parts[0] + "." + b64([]byte(`{"a":1}x`)) + "." + parts[2], wantErr: "claims are not a JSON object"},
		{name: "quoted garbage", in: `"abc`, wantErr: "JSON string"},
		{name: "a claim out of range", in: parts[0] + "." + b64([]byte(`{"exp": 1e999999999}`)) + "." + parts[2],
			wantErr: `malformed token payload: claim "exp": number 1e999999999 is out of range for a 64-bit float`},
		{name: "a header member out of range", in: b64([]byte(`{"alg":"RS256","x":[-1e400]}`)) + "." + parts[1] + "." + parts[2],
			wantErr: `malformed token header: member "x": number -1e400 at /x/0 is out of range`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := ParseInput([]byte(tc.in), tc.pick)
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("want error containing %q, got token", tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %q does not contain %q", err, tc.wantErr)
				}
				if !isBadInput(err) {
					t.Errorf("error %T is not BadInput", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tok.Raw != tc.wantRaw {
				t.Errorf("Raw = %.40q…, want %.40q…", tok.Raw, tc.wantRaw)
			}
			if tok.Kind != tc.wantKind {
				t.Errorf("Kind = %q, want %q", tok.Kind, tc.wantKind)
			}
			switch {
			case tc.wantCompanion == "" && tok.Companion != nil:
				t.Errorf("unexpected companion of kind %q", tok.Companion.Kind)
			case tc.wantCompanion != "" && (tok.Companion == nil || tok.Companion.Kind != tc.wantCompanion):
				t.Errorf("companion = %+v, want kind %q", tok.Companion, tc.wantCompanion)
			}
			dot := strings.LastIndexByte(tok.Raw, '.')
			if string(tok.SigningInput) != tok.Raw[:dot] {
				t.Errorf("SigningInput is not header.payload")
			}
			if b64(tok.Signature) != tok.Raw[dot+1:] {
				t.Errorf("Signature does not re-encode to the third segment")
			}
		})
	}
}

func TestParseInputKeepsLargeIntegers(t *testing.T) {
	raw := b64([]byte(`{"alg":"RS256","kid":"k1","typ":"JWT"}`)) + "." +
		b64([]byte(`{"big":123456789012345678901234567890,"exp":1795000000,"f":1.5,"neg":-0,"nested":{"n":[9007199254740993]}}`)) + ".c2ln"
	tok := mustParse(t, raw)
	if got := tok.Claims["big"]; got != json.Number("123456789012345678901234567890") {
		t.Errorf("big = %#v", got)
	}
	if got := tok.Claims["nested"].(map[string]any)["n"].([]any)[0]; got != json.Number("9007199254740993") {
		t.Errorf("nested = %#v (2^53+1 must survive)", got)
	}
	if got := tok.Claims["f"]; got != json.Number("1.5") {
		t.Errorf("f = %#v", got)
	}
	if tok.Header.Alg != "RS256" || tok.Header.Kid != "k1" || tok.Header.Typ != "JWT" {
		t.Errorf("header = %+v", tok.Header)
	}
	if string(tok.Signature) != "sig" {
		t.Errorf("signature = %q", tok.Signature)
	}
}

func TestParseInputKind(t *testing.T) {
	for _, tc := range []struct {
		typClaim, typHeader string
		want                Kind
	}{
		{"ID", "JWT", KindID}, {"Bearer", "JWT", KindAccess}, {"Refresh", "JWT", KindRefresh},
		{"", "at+jwt", KindAccess}, {"", "JWT", KindUnknown}, {"Logout", "JWT", KindUnknown},
	} {
		claims := map[string]any{"sub": "x"}
		if tc.typClaim != "" {
			claims["typ"] = tc.typClaim
		}
		raw := signJWT(t, "RS256", testKeys(t).rsaA, map[string]any{"typ": tc.typHeader}, claims)
		if got := mustParse(t, raw).Kind; got != tc.want {
			t.Errorf("typ claim %q header %q: kind %q, want %q", tc.typClaim, tc.typHeader, got, tc.want)
		}
	}
}

// flipUnusedBits changes the last character of an unpadded base64url segment whose length is
// not a multiple of 4, setting a bit that decoding ignores: same bytes, different text.
func flipUnusedBits(seg string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	if len(seg)%4 == 0 {
		panic("segment has no unused bits")
	}
	v := strings.IndexByte(alphabet, seg[len(seg)-1])
	return seg[:len(seg)-1] + string(alphabet[v^1])
}
