// Command verify-floor is the Go floor of `ssoctl inspect token --jwks`:
// the same RS256 check written with Go's standard library alone (the key
// picked by kid, the signature verified, the claims printed), and nothing
// else linked. bench/startup.sh times it beside ssoctl and jwt-cli: what it
// takes is what any Go binary doing this work takes.
//
//	verify-floor TOKEN-FILE JWKS-FILE
package main

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"strings"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: verify-floor TOKEN-FILE JWKS-FILE")
		os.Exit(2)
	}
	claims, err := verify(os.Args[1], os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "verify-floor:", err)
		os.Exit(1)
	}
	fmt.Printf("signature valid\n%s\n", claims)
}

func verify(tokenFile, jwksFile string) ([]byte, error) {
	tok, err := os.ReadFile(tokenFile)
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(jwksFile)
	if err != nil {
		return nil, err
	}
	var set struct {
		Keys []struct{ Kid, Kty, N, E string } `json:"keys"`
	}
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, err
	}
	parts := strings.Split(strings.TrimSpace(string(tok)), ".")
	if len(parts) != 3 {
		return nil, errors.New("not a JWS compact token")
	}
	var hdr struct{ Alg, Kid string }
	if h, err := base64.RawURLEncoding.DecodeString(parts[0]); err != nil || json.Unmarshal(h, &hdr) != nil {
		return nil, errors.New("bad header")
	}
	if hdr.Alg != "RS256" {
		return nil, fmt.Errorf("alg %q is not RS256", hdr.Alg)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	for _, k := range set.Keys {
		if k.Kid != hdr.Kid || k.Kty != "RSA" {
			continue
		}
		n, errN := base64.RawURLEncoding.DecodeString(k.N)
		e, errE := base64.RawURLEncoding.DecodeString(k.E)
		if errN != nil || errE != nil {
			return nil, errors.New("bad key")
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
			return nil, err
		}
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			return nil, err
		}
		var claims map[string]any
		if err := json.Unmarshal(payload, &claims); err != nil {
			return nil, err
		}
		return json.MarshalIndent(claims, "", "  ")
	}
	return nil, fmt.Errorf("no RSA key %q in the JWKS", hdr.Kid)
}
