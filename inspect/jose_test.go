package inspect

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"math/big"
	"os"
	"strings"
	"testing"
)

// critCases are the crit headers of the hardening issue, with what RFC 7515 §4.1.11 (ssoctl's
// own verification) and Vault's go-jose (measured on the testbed's Vault) make of them.
var critCases = []struct {
	name     string
	hdr      map[string]any
	ownMsg   string // substring of the token.crit finding
	vaultOK  bool   // Vault accepts the token
	lenient  bool   // the model warns that Vault accepts what RFC 7515 refuses
	vaultWhy string // substring of the model's signature finding when Vault refuses
}{
	{name: "unknown extension", hdr: map[string]any{"crit": []any{"exp"}, "exp": 1}, ownMsg: `marks ["exp"] as critical extensions, which ssoctl does not understand`, vaultWhy: `understands only the b64 extension`},
	{name: "extension absent from the header", hdr: map[string]any{"crit": []any{"foo"}}, ownMsg: `names "foo", which the header does not have`, vaultWhy: `marks "foo" as critical`},
	{name: "not a list", hdr: map[string]any{"crit": "exp", "exp": 1}, ownMsg: `crit is a string "exp"`, vaultWhy: "cannot read it as a list"},
	{name: "a number in the list", hdr: map[string]any{"crit": []any{1}}, ownMsg: "crit holds a number 1", vaultWhy: "cannot read it as a list"},
	{name: "a JWS header name", hdr: map[string]any{"crit": []any{"alg"}}, ownMsg: `names "alg", a header parameter JWS itself defines`, vaultWhy: `marks "alg" as critical`},
	{name: "a name twice", hdr: map[string]any{"crit": []any{"x", "x"}, "x": 1}, ownMsg: `names "x" twice`, vaultWhy: `marks "x" as critical`},
	{name: "empty list", hdr: map[string]any{"crit": []any{}}, ownMsg: "crit is an empty list", vaultOK: true, lenient: true},
	{name: "null", hdr: map[string]any{"crit": nil}, ownMsg: "crit is null", vaultOK: true, lenient: true},
	{name: "b64 without a b64 member", hdr: map[string]any{"crit": []any{"b64"}}, ownMsg: `names "b64", which the header does not have`, vaultOK: true, lenient: true},
	{name: "b64 true", hdr: map[string]any{"crit": []any{"b64"}, "b64": true}, ownMsg: `marks ["b64"] as critical extensions`, vaultOK: true, lenient: true},
	{name: "b64 false", hdr: map[string]any{"crit": []any{"b64"}, "b64": false}, ownMsg: `marks ["b64"] as critical extensions`, vaultWhy: "b64 false"},
}

func TestCritHeader(t *testing.T) {
	k := testKeys(t)
	keys := NewKeySet("test", &Key{Type: "RSA", Bits: 2048, Public: &k.rsaA.PublicKey})
	role, _ := VaultRoleFromMap(baseRole())
	cfg, _ := VaultConfigFromMap(baseConfig(t))
	for _, tc := range critCases {
		t.Run(tc.name, func(t *testing.T) {
			tok := mustParse(t, signJWT(t, "RS256", k.rsaA, tc.hdr, kcAccessClaims()))
			res, fs, err := Verify(bg, tok, keys)
			if err != nil {
				t.Fatal(err)
			}
			if res.Verified || len(fs) != 1 || fs[0].ID != FindingCrit || fs[0].Severity != SeverityError || !strings.Contains(fs[0].Message, tc.ownMsg) || fs[0].Fix == "" {
				t.Fatalf("Verify: verified %v, findings %+v; want one token.crit error containing %q", res.Verified, fs, tc.ownMsg)
			}
			if !strings.Contains(fs[0].Message, "RFC 7515 §4.1.11") {
				t.Errorf("the finding does not cite the RFC: %s", fs[0].Message)
			}
			rep, err := Inspect(bg, tok, InspectOptions{Keys: keys, Check: CheckOptions{Now: testNow}})
			if err != nil || rep.Verified || !rep.Failed() {
				t.Fatalf("Inspect: verified %v failed %v err %v", rep.Verified, rep.Failed(), err)
			}
			v, err := EvaluateVault(bg, tok, role, cfg, nil, VaultOptions{Now: testNow, RoleName: "dev"})
			if err != nil {
				t.Fatal(err)
			}
			if tc.vaultOK {
				if !v.Accepted {
					t.Fatalf("Vault accepts this crit, the model rejects it: %q %+v", v.Message, v.Findings)
				}
				if (hasFinding(v.Findings, FindingVaultCritLenient) != nil) != tc.lenient {
					t.Errorf("crit-lenient warning: want %v, findings %v", tc.lenient, findingIDs(v.Findings))
				}
				return
			}
			if v.Accepted || v.Message != msgStaticSig || v.Step != VaultStepSignature || !strings.Contains(v.Findings[0].Message, tc.vaultWhy) {
				t.Fatalf("model: accepted %v message %q first finding %+v; want %q naming %q", v.Accepted, v.Message, v.Findings[0], msgStaticSig, tc.vaultWhy)
			}
			// The same on a JWKS mount, whose message is go-oidc's.
			jcfg, _ := VaultConfigFromMap(map[string]any{"jwks_url": "http://kc/certs"})
			v, err = EvaluateVault(bg, tok, role, jcfg, keys, VaultOptions{Now: testNow, RoleName: "dev"})
			if err != nil || v.Message != msgJWKSSig {
				t.Errorf("JWKS mount: %q %v, want %q", v.Message, err, msgJWKSSig)
			}
		})
	}
}

// TestVaultB64False: go-jose honours b64 false even without crit and then checks the signature
// over the raw payload, so a normally signed token fails and an RFC 7797 one passes.
func TestVaultB64False(t *testing.T) {
	k := testKeys(t)
	role, _ := VaultRoleFromMap(baseRole())
	cfg, _ := VaultConfigFromMap(baseConfig(t))
	normal := mustParse(t, signJWT(t, "RS256", k.rsaA, map[string]any{"b64": false}, kcAccessClaims()))
	v, err := EvaluateVault(bg, normal, role, cfg, nil, VaultOptions{Now: testNow})
	if err != nil || v.Accepted || v.Message != msgStaticSig || !strings.Contains(v.Findings[0].Message, "over the raw payload") {
		t.Fatalf("b64 false, signed over base64url: %+v %v", v, err)
	}
	unencoded := mustParse(t, signUnencoded(t, k.rsaA, map[string]any{"b64": false, "crit": []any{"b64"}}, kcAccessClaims()))
	if v, err = EvaluateVault(bg, unencoded, role, cfg, nil, VaultOptions{Now: testNow}); err != nil || !v.Accepted {
		t.Fatalf("b64 false, signed over the raw payload: %+v %v", v, err)
	}
}

// signUnencoded signs as RFC 7797 says for b64 false: over "header." followed by the payload bytes.
func signUnencoded(t testing.TB, key *rsa.PrivateKey, hdr, claims map[string]any) string {
	t.Helper()
	h := map[string]any{"alg": "RS256", "typ": "JWT"}
	for k, v := range hdr {
		h[k] = v
	}
	hj, _ := json.Marshal(h)
	cj, _ := json.Marshal(claims)
	sig := rawSign(t, "RS256", key, append([]byte(b64(hj)+"."), cj...))
	return b64(hj) + "." + b64(cj) + "." + b64(sig)
}

// smallRSAKey generates an RSA key Go 1.24 and later refuse to generate or use, by lifting the
// limit (GODEBUG=rsa1024min=0) for the generation only.
func smallRSAKey(t testing.TB, bits int) *rsa.PrivateKey {
	t.Helper()
	old, had := os.LookupEnv("GODEBUG")
	os.Setenv("GODEBUG", "rsa1024min=0")
	defer func() {
		if had {
			os.Setenv("GODEBUG", old)
		} else {
			os.Unsetenv("GODEBUG")
		}
	}()
	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// signSmall signs like signJWT with a key under 1024 bits (the limit lifted while signing).
func signSmall(t testing.TB, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	old, had := os.LookupEnv("GODEBUG")
	os.Setenv("GODEBUG", "rsa1024min=0")
	defer func() {
		if had {
			os.Setenv("GODEBUG", old)
		} else {
			os.Unsetenv("GODEBUG")
		}
	}()
	return signJWT(t, "RS256", key, nil, claims)
}

// exponentOneToken returns an RSA public key with e=1, and a "signature" of the token made without any
// private key: with e=1, s^e mod n is s, so the PKCS #1 v1.5 encoding of the digest is itself a
// valid signature to anyone who does not refuse the key.
func exponentOneToken(t testing.TB, claims map[string]any) (*rsa.PublicKey, string) {
	t.Helper()
	pub := &rsa.PublicKey{N: new(big.Int).Set(testKeys(t).rsaA.N), E: 1}
	hj, _ := json.Marshal(map[string]any{"alg": "RS256", "typ": "JWT"})
	cj, _ := json.Marshal(claims)
	input := b64(hj) + "." + b64(cj)
	digest := sha256.Sum256([]byte(input))
	prefix := []byte{0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}
	em := make([]byte, pub.Size())
	em[1] = 1
	tail := append(append([]byte{0}, prefix...), digest[:]...)
	for i := 2; i < len(em)-len(tail); i++ {
		em[i] = 0xff
	}
	copy(em[len(em)-len(tail):], tail)
	return pub, input + "." + b64(em)
}

func TestUnusableRSAKeys(t *testing.T) {
	small := smallRSAKey(t, 512)
	smallTok := mustParse(t, signSmall(t, small, kcAccessClaims()))
	onePub, oneRaw := exponentOneToken(t, kcAccessClaims())
	oneTok := mustParse(t, oneRaw)
	for _, tc := range []struct {
		name string
		tok  *Token
		pub  *rsa.PublicKey
		msg  string
	}{
		{"512-bit key", smallTok, &small.PublicKey, "(RSA 512-bit) is too small: Go refuses RSA keys under 1024 bits"},
		{"e=1", oneTok, onePub, "has public exponent e=1, which is invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pemKeys := mustKeySet(t, []byte(publicPEM(t, tc.pub)))
			jwks := mustKeySet(t, jwksJSON(t, jwkOf(t, tc.pub, map[string]any{"kid": "k"})))
			for _, godebug := range []string{"", "rsa1024min=0"} {
				if godebug != "" {
					t.Setenv("GODEBUG", godebug) // ssoctl's refusal does not depend on it
				}
				for _, ks := range []*KeySet{pemKeys, jwks} {
					res, fs, err := Verify(bg, tc.tok, ks)
					if err != nil {
						t.Fatal(err)
					}
					if res.Verified || len(fs) != 1 || fs[0].ID != FindingKeyUnusable || !strings.Contains(fs[0].Message, tc.msg) || strings.Contains(fs[0].Fix, "altered") {
						t.Fatalf("GODEBUG=%q %s: verified %v findings %+v; want token.key-unusable saying %q", godebug, ks, res.Verified, fs, tc.msg)
					}
				}
			}
			// Vault (built with Go 1.24 or later, as the testbed's) refuses the key too.
			role, _ := VaultRoleFromMap(baseRole())
			cfg, _ := VaultConfigFromMap(map[string]any{"jwt_validation_pubkeys": []any{publicPEM(t, tc.pub)}, "bound_issuer": testIssuer})
			v, err := EvaluateVault(bg, tc.tok, role, cfg, nil, VaultOptions{Now: testNow})
			if err != nil || v.Accepted || v.Message != msgStaticSig || !strings.Contains(v.Findings[0].Message, tc.msg) {
				t.Fatalf("model: %+v %v", v, err)
			}
		})
	}
	// A usable key next to the small one still verifies; a failed check names the refused key.
	k := testKeys(t)
	both := NewKeySet("two", &Key{Type: "RSA", Bits: 512, Public: &small.PublicKey}, &Key{Type: "RSA", Bits: 2048, Public: &k.rsaA.PublicKey})
	if res, fs, _ := Verify(bg, smallTok, both); res.Verified || len(fs) != 1 || fs[0].ID != FindingSignature || !strings.Contains(fs[0].Message, "too small") {
		t.Errorf("small-key token against two keys: %v %+v", res.Verified, fs)
	}
	if res, _, _ := Verify(bg, mustParse(t, signJWT(t, "RS256", k.rsaA, nil, kcAccessClaims())), both); !res.Verified {
		t.Error("the 2048-bit key no longer verifies next to a small one")
	}
}
