package inspect

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"strings"
	"testing"
	"time"
)

// A logout token as Keycloak 26.7.3 sends it (measured): header typ
// logout+jwt, aud a string, events with an empty object, sid only when the
// client's "Backchannel logout session required" is on.
func logoutClaims(now time.Time) map[string]any {
	return map[string]any{
		"iss": "http://kc.test/realms/demo", "aud": "app-b", "sub": "user-1", "sid": "session-1",
		"iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(), "jti": "j-1", "typ": "Logout",
		"events": map[string]any{BackchannelLogoutEvent: map[string]any{}},
	}
}

func TestVerifyLogoutToken(t *testing.T) {
	// Keys made for this test: the realm's RSA key, another RSA key, an EC key.
	realm, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	keys := mustKeySet(t, jwksJSON(t, jwkOf(t, &realm.PublicKey, map[string]any{"kid": "rsa-1"}), jwkOf(t, &ec.PublicKey, map[string]any{"kid": "ec-1"})))
	rsaDER, err := x509.MarshalPKIXPublicKey(&realm.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	want := LogoutTokenExpect{Issuer: "http://kc.test/realms/demo", Audience: "app-b", SID: "session-1", Subject: "user-1", Now: now}
	hdr := map[string]any{"kid": "rsa-1", "typ": "logout+jwt"}
	base := logoutClaims(now)

	tests := []struct {
		name  string
		token string
		want  LogoutTokenExpect
		fail  string // the rule that must fail ("" none)
		msg   string // in its message
	}{
		{name: "valid", token: signJWT(t, "RS256", realm, hdr, base)},
		{name: "valid without sid, by sub", token: signJWT(t, "RS256", realm, hdr, with(base, "sid", deleteClaim))},
		{name: "valid ES256 with the EC key", token: signJWT(t, "ES256", ec, map[string]any{"kid": "ec-1"}, base)},
		{name: "bad signature", token: signJWT(t, "RS256", other, hdr, base), fail: "signature", msg: "does not verify"},
		{name: "tampered payload", token: tamper(t, signJWT(t, "RS256", realm, hdr, base), with(base, "jti", "j-2")), fail: "signature", msg: "does not verify"},
		{name: "alg none", token: signJWT(t, "none", nil, hdr, base), fail: "signature", msg: "never accepted"},
		{name: "alg NONE with a signature", token: signJWT(t, "NONE", nil, hdr, base) + "c2ln", fail: "signature", msg: "never accepted"},
		{name: "HS256 keyed with the public key", token: signJWT(t, "HS256", rsaDER, hdr, base), fail: "signature", msg: "key-confusion"},
		{name: "the key type does not pick the alg", token: signJWT(t, "RS256", realm, map[string]any{"kid": "ec-1"}, base), fail: "signature", msg: "no candidate key may verify it"},
		{name: "wrong aud", token: signJWT(t, "RS256", realm, hdr, with(base, "aud", "app-a")), fail: "aud", msg: `aud is ["app-a"]`},
		{name: "aud list without the client", token: signJWT(t, "RS256", realm, hdr, with(base, "aud", []string{"x", "y"})), fail: "aud"},
		{name: "aud list with the client", token: signJWT(t, "RS256", realm, hdr, with(base, "aud", []string{"x", "app-b"}))},
		{name: "wrong iss", token: signJWT(t, "RS256", realm, hdr, with(base, "iss", "http://kc.test/realms/other")), fail: "iss"},
		{name: "missing events", token: signJWT(t, "RS256", realm, hdr, with(base, "events", deleteClaim)), fail: "events", msg: "no events claim"},
		{name: "events without the logout event", token: signJWT(t, "RS256", realm, hdr, with(base, "events", map[string]any{"urn:other": map[string]any{}})), fail: "events", msg: "does not hold"},
		{name: "events a list", token: signJWT(t, "RS256", realm, hdr, with(base, "events", []string{BackchannelLogoutEvent})), fail: "events", msg: "not a JSON object"},
		{name: "event member not an object", token: signJWT(t, "RS256", realm, hdr, with(base, "events", map[string]any{BackchannelLogoutEvent: true})), fail: "events"},
		{name: "nonce present", token: signJWT(t, "RS256", realm, hdr, with(base, "nonce", "n-1")), fail: "nonce", msg: "must not have"},
		{name: "other session", token: signJWT(t, "RS256", realm, hdr, with(base, "sid", "session-2")), fail: "sid", msg: `"session-2"`},
		{name: "other user", token: signJWT(t, "RS256", realm, hdr, with(base, "sub", "user-2")), fail: "sub"},
		{name: "neither sid nor sub", token: signJWT(t, "RS256", realm, hdr, with(base, "sid", deleteClaim, "sub", deleteClaim)), fail: "sid", msg: "neither sid nor sub"},
		{name: "no iat", token: signJWT(t, "RS256", realm, hdr, with(base, "iat", deleteClaim)), fail: "times", msg: "no iat"},
		{name: "expired", token: signJWT(t, "RS256", realm, hdr, with(base, "exp", now.Add(-time.Hour).Unix())), fail: "times", msg: "expired"},
		{name: "not a JWT", token: "not-a-token", fail: "format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := want
			if tt.want != (LogoutTokenExpect{}) {
				w = tt.want
			}
			res, err := VerifyLogoutToken(context.Background(), tt.token, keys, w)
			if err != nil {
				t.Fatal(err)
			}
			var failed []string
			for _, c := range res.Checks {
				if !c.OK {
					failed = append(failed, c.Rule)
					if c.Rule == tt.fail && !strings.Contains(c.Message, tt.msg) {
						t.Errorf("%s: %q does not say %q", c.Rule, c.Message, tt.msg)
					}
				}
			}
			switch {
			case tt.fail == "" && (!res.Valid || len(failed) > 0):
				t.Errorf("valid token refused: %v %+v", failed, res.Checks)
			case tt.fail != "" && (res.Valid || len(failed) != 1 || failed[0] != tt.fail):
				t.Errorf("failed rules %v, want only %s (%+v)", failed, tt.fail, res.Checks)
			}
			if tt.fail != "format" && len(res.Checks) != 8 {
				t.Errorf("%d checks, want every rule checked: %+v", len(res.Checks), res.Checks)
			}
		})
	}
}

// tamper replaces the payload of a signed token, keeping its signature.
func tamper(t *testing.T, token string, claims map[string]any) string {
	parts := strings.Split(token, ".")
	forged := strings.Split(signJWT(t, "none", nil, nil, claims), ".")
	return parts[0] + "." + forged[1] + "." + parts[2]
}

// FuzzVerifyLogoutToken: a logout token is whatever was POSTed to the
// endpoint; no input may panic, and none without a valid signature passes.
func FuzzVerifyLogoutToken(f *testing.F) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	keys := NewKeySet("test", &Key{ID: "k", Type: "RSA", Bits: 2048, Public: &key.PublicKey})
	now := time.Unix(1_800_000_000, 0)
	f.Add(signJWT(f, "RS256", key, map[string]any{"kid": "k"}, logoutClaims(now)))
	f.Add(signJWT(f, "none", nil, nil, logoutClaims(now)))
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, raw string) {
		res, err := VerifyLogoutToken(context.Background(), raw, keys, LogoutTokenExpect{Issuer: "http://kc.test/realms/demo", Audience: "app-b", Now: now})
		if err != nil {
			t.Fatal(err)
		}
		if res.Valid && (len(res.Checks) == 0 || res.Checks[0].Rule != "signature" || !res.Checks[0].OK) {
			t.Fatalf("valid without a verified signature: %+v", res.Checks)
		}
	})
}
