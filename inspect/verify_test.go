package inspect

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func TestVerify(t *testing.T) {
	k := testKeys(t)
	claims := kcAccessClaims()
	jwksA := mustKeySet(t, jwksJSON(t, jwkOf(t, &k.rsaA.PublicKey, map[string]any{"kid": "a", "alg": "RS256", "use": "sig"})))
	jwksNoAlg := mustKeySet(t, jwksJSON(t, jwkOf(t, &k.rsaA.PublicKey, map[string]any{"kid": "a"})))
	jwksMixed := mustKeySet(t, jwksJSON(t,
		jwkOf(t, &k.rsaB.PublicKey, map[string]any{"kid": "b", "alg": "RS256"}),
		jwkOf(t, &k.ec256.PublicKey, map[string]any{"kid": "ec"}),
		jwkOf(t, &k.ec384.PublicKey, map[string]any{"kid": "ec384"}),
		jwkOf(t, k.ed.Public(), map[string]any{"kid": "ed"}),
		jwkOf(t, &k.rsaA.PublicKey, map[string]any{"kid": "enc", "use": "enc", "alg": "RSA-OAEP"}),
	))
	pemA := mustKeySet(t, []byte(publicPEM(t, &k.rsaA.PublicKey)))
	pubPEM := []byte(publicPEM(t, &k.rsaA.PublicKey))

	// The key-confusion token: HS256 whose HMAC secret is the RSA public key's PEM bytes, which
	// a naive verifier that feeds "the key" to the header's algorithm would accept.
	confused := signJWT(t, "HS256", pubPEM, map[string]any{"kid": "a"}, claims)
	parts := strings.Split(confused, ".")
	mac := hmac.New(sha256.New, pubPEM)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	if b64(mac.Sum(nil)) != parts[2] {
		t.Fatal("test setup: the HS256 token is not a valid HMAC under the public key bytes")
	}
	tampered := func(raw string) string {
		p := strings.Split(raw, ".")
		c := with(claims, "preferred_username", "mallory")
		forged := strings.Split(signJWT(t, "RS256", nil, nil, c), ".")[1]
		return p[0] + "." + forged + "." + p[2]
	}

	tests := []struct {
		name     string
		raw      string
		keys     KeySource
		verified bool
		wantID   string
		msg      string
	}{
		{name: "RS256 with JWKS kid", raw: signJWT(t, "RS256", k.rsaA, map[string]any{"kid": "a"}, claims), keys: jwksA, verified: true},
		{name: "RS256 with PEM key, no kid", raw: signJWT(t, "RS256", k.rsaA, nil, claims), keys: pemA, verified: true},
		{name: "RS256 with PEM key, token has a kid", raw: signJWT(t, "RS256", k.rsaA, map[string]any{"kid": "zz"}, claims), keys: pemA, verified: true},
		{name: "RS512 with alg-less RSA key", raw: signJWT(t, "RS512", k.rsaA, map[string]any{"kid": "a"}, claims), keys: jwksNoAlg, verified: true},
		{name: "PS256 with alg-less RSA key", raw: signJWT(t, "PS256", k.rsaA, map[string]any{"kid": "a"}, claims), keys: jwksNoAlg, verified: true},
		{name: "PS256 refused by a key registered for RS256", raw: signJWT(t, "PS256", k.rsaA, map[string]any{"kid": "a"}, claims), keys: jwksA, wantID: FindingAlgKeyMismatch, msg: "registered for alg RS256, not PS256"},
		{name: "ES256 with P-256", raw: signJWT(t, "ES256", k.ec256, map[string]any{"kid": "ec"}, claims), keys: jwksMixed, verified: true},
		{name: "ES384 with P-384", raw: signJWT(t, "ES384", k.ec384, map[string]any{"kid": "ec384"}, claims), keys: jwksMixed, verified: true},
		{name: "ES384 header against a P-256 key", raw: signJWT(t, "ES384", k.ec384, map[string]any{"kid": "ec"}, claims), keys: jwksMixed, wantID: FindingAlgKeyMismatch, msg: "EC P-256) cannot verify ES384"},
		{name: "ES256 header against a P-384 key", raw: signJWT(t, "ES256", k.ec256, map[string]any{"kid": "ec384"}, claims), keys: jwksMixed, wantID: FindingAlgKeyMismatch, msg: "EC P-384) cannot verify ES256"},
		{name: "ES256 header against an RSA key", raw: signJWT(t, "ES256", k.ec256, map[string]any{"kid": "b"}, claims), keys: jwksMixed, wantID: FindingAlgKeyMismatch, msg: "registered for alg RS256"},
		{name: "RS256 header against an EC key", raw: signJWT(t, "RS256", k.rsaA, map[string]any{"kid": "ec"}, claims), keys: jwksMixed, wantID: FindingAlgKeyMismatch, msg: "cannot verify RS256"},
		{name: "EdDSA", raw: signJWT(t, "EdDSA", k.ed, map[string]any{"kid": "ed"}, claims), keys: jwksMixed, verified: true},
		{name: "EdDSA header against an RSA key without alg", raw: signJWT(t, "EdDSA", k.ed, map[string]any{"kid": "a"}, claims), keys: jwksNoAlg, wantID: FindingAlgKeyMismatch},
		{name: "encryption key never verifies", raw: signJWT(t, "RS256", k.rsaA, map[string]any{"kid": "enc"}, claims), keys: jwksMixed, wantID: FindingAlgKeyMismatch, msg: `use "enc"`},
		{name: "no kid: key chosen by alg", raw: signJWT(t, "ES256", k.ec256, nil, claims), keys: jwksMixed, verified: true},
		{name: "alg none", raw: signJWT(t, "none", nil, nil, claims), keys: jwksA, wantID: FindingAlgNone},
		{name: "alg NONE with a signature", raw: signJWT(t, "NONE", k.rsaA, map[string]any{"kid": "a"}, claims), keys: jwksA, wantID: FindingAlgNone},
		{name: "HS256 with the RSA public key as secret (key confusion)", raw: confused, keys: jwksA, wantID: FindingAlgHMAC, msg: "key-confusion"},
		{name: "HS256 confusion against PEM keys", raw: confused, keys: pemA, wantID: FindingAlgHMAC},
		{name: "unknown alg", raw: signJWT(t, "ES256K", k.ec256, nil, claims), keys: jwksMixed, wantID: FindingAlgUnsupported},
		{name: "empty signature", raw: strings.TrimRight(signJWT(t, "RS256", nil, nil, claims), "."), keys: jwksA},
		{name: "tampered payload", raw: tampered(signJWT(t, "RS256", k.rsaA, map[string]any{"kid": "a"}, claims)), keys: jwksA, wantID: FindingSignature},
		{name: "signed by another key with the same kid", raw: signJWT(t, "RS256", k.rsaB, map[string]any{"kid": "a"}, claims), keys: jwksA, wantID: FindingSignature},
		{name: "unknown kid in a static set", raw: signJWT(t, "RS256", k.rsaA, map[string]any{"kid": "nope"}, claims), keys: jwksA, wantID: FindingKidUnknown},
		{name: "no keys given", raw: signJWT(t, "RS256", k.rsaA, nil, claims), keys: nil, wantID: FindingUnverified},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw := tc.raw
			if tc.name == "empty signature" {
				raw += "."
				tc.wantID = FindingUnsigned
			}
			tok := mustParse(t, raw)
			res, fs, err := Verify(bg, tok, tc.keys)
			if err != nil {
				t.Fatalf("Verify error: %v", err)
			}
			if res.Verified != tc.verified {
				t.Errorf("Verified = %v, want %v (findings %+v)", res.Verified, tc.verified, fs)
			}
			if tc.verified {
				if len(fs) != 0 || res.Key == nil {
					t.Errorf("verified with findings %+v / key %v", fs, res.Key)
				}
				return
			}
			if len(fs) != 1 || fs[0].ID != tc.wantID || !strings.Contains(fs[0].Message, tc.msg) {
				t.Fatalf("findings %+v, want one %s containing %q", fs, tc.wantID, tc.msg)
			}
			if fs[0].Fix == "" {
				t.Error("finding without fix")
			}
		})
	}
}

// jwksServer serves the current JWKS and counts requests.
type jwksServer struct {
	*httptest.Server
	hits atomic.Int32
	body atomic.Value // []byte
	code atomic.Int32
}

func newJWKSServer(t *testing.T, body []byte) *jwksServer {
	s := &jwksServer{}
	s.body.Store(body)
	s.code.Store(200)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(int(s.code.Load()))
		w.Write(s.body.Load().([]byte))
	}))
	t.Cleanup(s.Close)
	return s
}

func TestRemoteJWKSRefetchesOnceForUnknownKid(t *testing.T) {
	k := testKeys(t)
	oldSet := jwksJSON(t, jwkOf(t, &k.rsaA.PublicKey, map[string]any{"kid": "a", "alg": "RS256"}))
	rotated := jwksJSON(t, jwkOf(t, &k.rsaA.PublicKey, map[string]any{"kid": "a", "alg": "RS256"}), jwkOf(t, &k.rsaB.PublicKey, map[string]any{"kid": "b", "alg": "RS256"}))

	t.Run("known kid: one fetch, cached", func(t *testing.T) {
		srv := newJWKSServer(t, oldSet)
		src := NewRemoteJWKS(srv.Client(), srv.URL)
		tok := mustParse(t, signJWT(t, "RS256", k.rsaA, map[string]any{"kid": "a"}, kcAccessClaims()))
		for range 3 {
			res, fs, err := Verify(bg, tok, src)
			if err != nil || !res.Verified || len(fs) != 0 {
				t.Fatalf("verify: %v %v %+v", err, res.Verified, fs)
			}
		}
		if got := srv.hits.Load(); got != 1 {
			t.Errorf("requests = %d, want 1", got)
		}
	})
	t.Run("rotated key: found on the refetch", func(t *testing.T) {
		srv := newJWKSServer(t, oldSet)
		src := NewRemoteJWKS(srv.Client(), srv.URL)
		if _, err := src.KeySet(bg); err != nil {
			t.Fatal(err)
		}
		srv.body.Store(rotated) // Keycloak rotated its keys after the first fetch
		tok := mustParse(t, signJWT(t, "RS256", k.rsaB, map[string]any{"kid": "b"}, kcAccessClaims()))
		res, fs, err := Verify(bg, tok, src)
		if err != nil || !res.Verified {
			t.Fatalf("verify after rotation: %v %+v", err, fs)
		}
		if got := srv.hits.Load(); got != 2 {
			t.Errorf("requests = %d, want 2 (initial + exactly one refetch)", got)
		}
	})
	t.Run("unknown kid: exactly one refetch, then reported", func(t *testing.T) {
		srv := newJWKSServer(t, oldSet)
		src := NewRemoteJWKS(srv.Client(), srv.URL)
		tok := mustParse(t, signJWT(t, "RS256", k.rsaB, map[string]any{"kid": "gone"}, kcAccessClaims()))
		_, fs, err := Verify(bg, tok, src)
		if err != nil {
			t.Fatal(err)
		}
		if len(fs) != 1 || fs[0].ID != FindingKidUnknown || !strings.Contains(fs[0].Message, "also after fetching the JWKS again") {
			t.Fatalf("findings %+v", fs)
		}
		if got := srv.hits.Load(); got != 2 {
			t.Errorf("requests = %d, want 2", got)
		}
		if _, _, err := Verify(bg, tok, src); err != nil { // the same kid again: no third fetch
			t.Fatal(err)
		}
		if got := srv.hits.Load(); got != 2 {
			t.Errorf("requests after a second lookup = %d, want still 2", got)
		}
		if src.Fetches() != 2 {
			t.Errorf("Fetches() = %d", src.Fetches())
		}
	})
	t.Run("server error is a runtime error, not bad input", func(t *testing.T) {
		srv := newJWKSServer(t, []byte("oops"))
		srv.code.Store(503)
		tok := mustParse(t, signJWT(t, "RS256", k.rsaA, map[string]any{"kid": "a"}, kcAccessClaims()))
		_, _, err := Verify(bg, tok, NewRemoteJWKS(srv.Client(), srv.URL))
		var fe *FetchError
		if !errors.As(err, &fe) || fe.StatusCode != 503 || isBadInput(err) {
			t.Fatalf("err = %v, want *FetchError 503", err)
		}
	})
	t.Run("garbage JWKS is a fetch error", func(t *testing.T) {
		srv := newJWKSServer(t, []byte(`{"keys":[{"kty":"RSA"}]}`))
		tok := mustParse(t, signJWT(t, "RS256", k.rsaA, map[string]any{"kid": "a"}, kcAccessClaims()))
		_, _, err := Verify(bg, tok, NewRemoteJWKS(srv.Client(), srv.URL))
		var fe *FetchError
		if !errors.As(err, &fe) || isBadInput(err) {
			t.Fatalf("err = %v, want *FetchError", err)
		}
	})
}

func TestParseKeys(t *testing.T) {
	k := testKeys(t)
	set, err := ParseJWKS(jwksJSON(t,
		jwkOf(t, &k.rsaA.PublicKey, map[string]any{"kid": "a", "alg": "RS256", "use": "sig"}),
		map[string]any{"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
		jwkOf(t, &k.ec256.PublicKey, map[string]any{"kid": "ec"}),
	))
	if err != nil {
		t.Fatal(err)
	}
	if set.Len() != 2 || len(set.Skipped()) != 1 || !strings.Contains(set.Skipped()[0], "hmac") {
		t.Errorf("keys %d skipped %v", set.Len(), set.Skipped())
	}
	if a := set.Keys()[0]; a.ID != "a" || a.Alg != "RS256" || a.Type != "RSA" || a.Bits != 2048 || a.Use != "sig" {
		t.Errorf("key a = %+v", a)
	}
	if ec := set.Keys()[1]; ec.Type != "EC" || ec.Curve != "P-256" {
		t.Errorf("key ec = %+v", ec)
	}
	if got := set.Lookup("", "ES256"); len(got) != 1 || got[0].ID != "ec" {
		t.Errorf("Lookup by alg = %v", got)
	}
	if got := set.Lookup("a", ""); len(got) != 1 || got[0].ID != "a" {
		t.Errorf("Lookup by kid = %v", got)
	}

	// a single JWK and a private JWK reduce to public keys
	priv := jwkOf(t, &k.rsaA.PublicKey, map[string]any{"kid": "p"})
	priv["d"] = b64(k.rsaA.D.Bytes())
	priv["p"] = b64(k.rsaA.Primes[0].Bytes())
	priv["q"] = b64(k.rsaA.Primes[1].Bytes())
	single, _ := json.Marshal(priv) // a bare JWK object, not a set
	one, err := ParseKeys(single)
	if err != nil || one.Len() != 1 || one.Keys()[0].ID != "p" {
		t.Fatalf("single private JWK: %v %v", one, err)
	}

	pems := publicPEM(t, &k.rsaA.PublicKey) + publicPEM(t, &k.ec384.PublicKey) + publicPEM(t, k.ed.Public())
	ps, err := ParseKeys([]byte(pems))
	if err != nil || ps.Len() != 3 {
		t.Fatalf("PEM keys: %v %v", ps, err)
	}
	for _, bad := range []string{"", "{", `{"keys":[{"kty":"RSA","n":"!!"}]}`, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", publicPEM(t, &k.rsaA.PublicKey) + "trailing junk"} {
		if _, err := ParseKeys([]byte(bad)); err == nil || !isBadInput(err) {
			t.Errorf("ParseKeys(%.30q): err = %v, want BadInput", bad, err)
		}
	}
}
