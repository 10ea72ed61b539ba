package inspect

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"testing"
)

// BenchmarkVerifyRS256 compares, in one run:
//
//	raw-rsa:   crypto/rsa.VerifyPKCS1v15 on a precomputed SHA-256 digest, RSA-2048 — the floor;
//	full-path: ParseInput + Verify with a cached KeySet + CheckClaims (times, iss, aud, one claim
//	           assertion, Keycloak pitfalls) on a realistic Keycloak access token.
//
// The target is full-path at ≥ 75% of raw-rsa's rate, i.e. full-path ns/op ≤ raw-rsa ns/op / 0.75.
func BenchmarkVerifyRS256(b *testing.B) {
	k := testKeys(b)
	raw := signJWT(b, "RS256", k.rsaA, map[string]any{"kid": "a"}, kcAccessClaims())
	input := []byte("Bearer " + raw + "\n")
	ks := mustKeySet(b, jwksJSON(b, jwkOf(b, &k.rsaA.PublicKey, map[string]any{"kid": "a", "alg": "RS256", "use": "sig"}),
		jwkOf(b, &k.rsaB.PublicKey, map[string]any{"kid": "b", "alg": "RS256", "use": "sig"})))
	assertion, err := ParseClaimAssertion("/resource_access/vault-dev/roles=secret_manager")
	if err != nil {
		b.Fatal(err)
	}
	opts := CheckOptions{Now: testNow, Issuer: testIssuer, Audiences: []string{"vault"}, Claims: []ClaimAssertion{assertion}}

	b.Run("raw-rsa", func(b *testing.B) {
		tok := mustParse(b, raw)
		digest := sha256.Sum256(tok.SigningInput)
		pub := &k.rsaA.PublicKey
		b.ReportAllocs()
		for b.Loop() {
			if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], tok.Signature); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("full-path", func(b *testing.B) {
		// One checked run first: the benchmark must measure a token that passes everything.
		tok, err := ParseInput(input, PickDefault)
		if err != nil {
			b.Fatal(err)
		}
		res, fs, err := Verify(bg, tok, ks)
		if err != nil || !res.Verified || len(fs) != 0 {
			b.Fatalf("verify: %v %+v", err, fs)
		}
		if fs := CheckClaims(tok, opts); len(fs) != 0 {
			b.Fatalf("checks: %+v", fs)
		}
		b.ReportAllocs()
		for b.Loop() {
			tok, err := ParseInput(input, PickDefault)
			if err != nil {
				b.Fatal(err)
			}
			res, fs, err := Verify(bg, tok, ks)
			if err != nil || !res.Verified || len(fs) != 0 {
				b.Fatal("not verified")
			}
			if fs := CheckClaims(tok, opts); len(fs) != 0 {
				b.Fatal("checks failed")
			}
		}
	})
}
