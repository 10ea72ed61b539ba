package cmd

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"testing"
	"time"

	"github.com/ssoctl/ssoctl/internal/golden"
)

// goldenNow is the clock of the golden runs: the token below was issued a
// minute before it.
var goldenNow = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// signedToken signs claims with inspect's test key rsa-a (PKCS#1 v1.5 is
// deterministic, so the token, and the output, are the same every run).
func signedToken(t *testing.T, claims map[string]any) string {
	t.Helper()
	raw, err := os.ReadFile("../inspect/testdata/rsa-a.pem")
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(raw)
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := json.Marshal(map[string]any{"alg": "RS256", "typ": "JWT", "kid": "rsa-a"})
	c, _ := json.Marshal(claims)
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(nil, k.(*rsa.PrivateKey), crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestInspectTokenTextGolden(t *testing.T) {
	claims := map[string]any{"iss": "http://kc/realms/demo", "sub": "3f6c", "aud": "vault", "azp": "vault", "typ": "ID",
		"iat": goldenNow.Add(-time.Minute).Unix(), "exp": goldenNow.Add(4 * time.Minute).Unix(), "preferred_username": "alice",
		"resource_access": map[string]any{"vault": map[string]any{"roles": []string{"secret_manager"}}}}
	tok := signedToken(t, claims)
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"inspect-token-accepted", []string{"--audience", "vault", "--vault-role-file", "testdata/role-default.json"}},
		{"inspect-token-findings", []string{"--audience", "other", "--claim", "/groups=ops", "--vault-role-file", "testdata/role-default.json"}},
	} {
		args := append([]string{"inspect", "token", "-", "--jwks", "testdata/rsa-a.pub.pem"}, tt.args...)
		ios, in, out, _ := TestIO()
		in.WriteString(tok)
		f := NewFactory(ios)
		f.Getenv = func(string) string { return "" }
		f.Now = func() time.Time { return goldenNow }
		Run(f, args)
		golden.Assert(t, tt.name+".golden", out.Bytes())
	}
}
