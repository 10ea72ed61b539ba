package inspect

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"hash"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Test keys live in testdata so that the tokens of the Vault table can be reproduced.
type testKeySet struct {
	rsaA, rsaB *rsa.PrivateKey
	ec256      *ecdsa.PrivateKey
	ec384      *ecdsa.PrivateKey
	ed         ed25519.PrivateKey
}

var (
	testKeysOnce sync.Once
	testKeysVal  *testKeySet
	testKeysErr  error
)

func testKeys(t testing.TB) *testKeySet {
	t.Helper()
	testKeysOnce.Do(func() {
		load := func(name string) (any, error) {
			b, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				return nil, err
			}
			block, _ := pem.Decode(b)
			if block == nil {
				return nil, errors.New("no PEM in " + name)
			}
			return x509.ParsePKCS8PrivateKey(block.Bytes)
		}
		ks := &testKeySet{}
		var k any
		if k, testKeysErr = load("rsa-a.pem"); testKeysErr != nil {
			return
		}
		ks.rsaA = k.(*rsa.PrivateKey)
		if k, testKeysErr = load("rsa-b.pem"); testKeysErr != nil {
			return
		}
		ks.rsaB = k.(*rsa.PrivateKey)
		if k, testKeysErr = load("ec-p256.pem"); testKeysErr != nil {
			return
		}
		ks.ec256 = k.(*ecdsa.PrivateKey)
		if k, testKeysErr = load("ec-p384.pem"); testKeysErr != nil {
			return
		}
		ks.ec384 = k.(*ecdsa.PrivateKey)
		if k, testKeysErr = load("ed25519.pem"); testKeysErr != nil {
			return
		}
		ks.ed = k.(ed25519.PrivateKey)
		testKeysVal = ks
	})
	if testKeysErr != nil {
		t.Fatalf("loading test keys: %v", testKeysErr)
	}
	return testKeysVal
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// signJWT builds a compact JWS. key is an *rsa.PrivateKey, *ecdsa.PrivateKey,
// ed25519.PrivateKey, a []byte HMAC secret, or nil (for alg none: empty signature).
// hdr adds header members (e.g. kid); claims are marshalled with encoding/json.
func signJWT(t testing.TB, alg string, key any, hdr map[string]any, claims map[string]any) string {
	t.Helper()
	h := map[string]any{"alg": alg, "typ": "JWT"}
	for k, v := range hdr {
		h[k] = v
	}
	hj, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	cj, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	input := b64(hj) + "." + b64(cj)
	return input + "." + b64(rawSign(t, alg, key, []byte(input)))
}

func rawSign(t testing.TB, alg string, key any, input []byte) []byte {
	t.Helper()
	if key == nil {
		return nil
	}
	var hid crypto.Hash
	var newHash func() hash.Hash
	switch {
	case strings.HasSuffix(alg, "384"):
		hid, newHash = crypto.SHA384, sha512.New384
	case strings.HasSuffix(alg, "512"):
		hid, newHash = crypto.SHA512, sha512.New
	default:
		hid, newHash = crypto.SHA256, sha256.New
	}
	hh := newHash()
	hh.Write(input)
	digest := hh.Sum(nil)
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if strings.HasPrefix(alg, "PS") {
			sig, err := rsa.SignPSS(rand.Reader, k, hid, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
			if err != nil {
				t.Fatal(err)
			}
			return sig
		}
		sig, err := rsa.SignPKCS1v15(rand.Reader, k, hid, digest)
		if err != nil {
			t.Fatal(err)
		}
		return sig
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, k, digest)
		if err != nil {
			t.Fatal(err)
		}
		size := (k.Curve.Params().BitSize + 7) / 8
		out := make([]byte, 2*size)
		r.FillBytes(out[:size])
		s.FillBytes(out[size:])
		return out
	case ed25519.PrivateKey:
		return ed25519.Sign(k, input)
	case []byte:
		m := hmac.New(newHash, k)
		m.Write(input)
		return m.Sum(nil)
	}
	t.Fatalf("unsupported key %T", key)
	return nil
}

// jwk renders a public key as a JWK object; extra adds members (kid, alg, use).
func jwkOf(t testing.TB, pub any, extra map[string]any) map[string]any {
	t.Helper()
	m := map[string]any{}
	switch p := pub.(type) {
	case *rsa.PublicKey:
		m["kty"], m["n"], m["e"] = "RSA", b64(p.N.Bytes()), b64(big.NewInt(int64(p.E)).Bytes())
	case *ecdsa.PublicKey:
		size := (p.Curve.Params().BitSize + 7) / 8
		ecdh, err := p.ECDH()
		if err != nil {
			t.Fatal(err)
		}
		raw := ecdh.Bytes() // 0x04 || X || Y
		m["kty"], m["crv"], m["x"], m["y"] = "EC", p.Curve.Params().Name, b64(raw[1:1+size]), b64(raw[1+size:])
	case ed25519.PublicKey:
		m["kty"], m["crv"], m["x"] = "OKP", "Ed25519", b64(p)
	default:
		t.Fatalf("unsupported key %T", pub)
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func jwksJSON(t testing.TB, keys ...map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func publicPEM(t testing.TB, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func mustParse(t testing.TB, raw string) *Token {
	t.Helper()
	tok, err := ParseInput([]byte(raw), PickDefault)
	if err != nil {
		t.Fatalf("ParseInput: %v", err)
	}
	return tok
}

func mustKeySet(t testing.TB, data []byte) *KeySet {
	t.Helper()
	ks, err := ParseKeys(data)
	if err != nil {
		t.Fatalf("ParseKeys: %v", err)
	}
	return ks
}

// testNow is the fixed clock of the tests.
var testNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

const testIssuer = "http://127.0.0.1:8080/realms/demo"

// kcAccessClaims are the claims of a Keycloak access token for alice, issued by client vault-dev.
func kcAccessClaims() map[string]any {
	now := testNow.Unix()
	return map[string]any{
		"exp": now + 300, "iat": now - 10, "auth_time": now - 12,
		"jti": "onrtac:7d0c8a4e", "iss": testIssuer,
		"aud": []any{"vault", "account"}, "sub": "4f2b9c3e-8d8a-4a53-9f43-3b0d1c1a2e01",
		"typ": "Bearer", "azp": "vault-dev", "sid": "9a1c7f00",
		"preferred_username": "alice", "email": "alice@example.com", "email_verified": true,
		"department":      "eng",
		"realm_access":    map[string]any{"roles": []any{"default-roles-demo", "offline_access", "vault-admin"}},
		"resource_access": map[string]any{"vault-dev": map[string]any{"roles": []any{"secret_manager"}}, "account": map[string]any{"roles": []any{"manage-account"}}},
		"scope":           "openid profile email",
		"groups":          []any{"kv-managers"},
	}
}

// kcIDClaims are the claims of the matching ID token (no resource_access, aud = client).
func kcIDClaims() map[string]any {
	c := kcAccessClaims()
	delete(c, "resource_access")
	delete(c, "realm_access")
	delete(c, "scope")
	c["typ"] = "ID"
	c["aud"] = "vault-dev"
	c["nonce"] = "n-0S6_WzA2Mj"
	c["at_hash"] = "x"
	return c
}

func with(c map[string]any, kv ...any) map[string]any {
	out := make(map[string]any, len(c))
	for k, v := range c {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		k := kv[i].(string)
		if kv[i+1] == deleteClaim {
			delete(out, k)
			continue
		}
		out[k] = kv[i+1]
	}
	return out
}

type deleteMarker struct{}

var deleteClaim = deleteMarker{}

func findingIDs(fs []Finding) []string {
	ids := make([]string, len(fs))
	for i, f := range fs {
		ids[i] = f.ID
	}
	return ids
}

func hasFinding(fs []Finding, id string) *Finding {
	for i := range fs {
		if fs[i].ID == id {
			return &fs[i]
		}
	}
	return nil
}

func isBadInput(err error) bool {
	var bi interface{ BadInput() bool }
	return errors.As(err, &bi) && bi.BadInput()
}

var bg = context.Background()

var b64Decoder = base64.RawURLEncoding
