package cmd

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testToken signs claims with a fresh RSA key and writes the key as a PEM
// file; it returns the token and the key file.
func testToken(t *testing.T, claims map[string]any) (string, string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := json.Marshal(map[string]any{"alg": "RS256", "typ": "JWT"})
	c, _ := json.Marshal(claims)
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	sum := sha256.Sum256([]byte(input))
	sig, _ := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	p := filepath.Join(t.TempDir(), "key.pem")
	os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600)
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), p
}

func runIn(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	ios, in, out, errOut := TestIO()
	in.WriteString(stdin)
	f := NewFactory(ios)
	f.Getenv = func(string) string { return "" }
	return Run(f, args), out.String(), errOut.String()
}

func TestInspectTokenCLI(t *testing.T) {
	now := time.Now()
	good := map[string]any{"iss": "https://kc/realms/demo", "sub": "u1", "aud": "vault", "azp": "vault", "typ": "ID",
		"iat": now.Unix(), "exp": now.Add(4*time.Minute + 30*time.Second).Unix(), "groups": []string{"kv"}}
	tok, keyFile := testToken(t, good)

	code, stdout, stderr := runIn(t, "Bearer "+tok+"\n", "inspect", "token", "-", "--jwks", keyFile, "--audience", "vault", "--claim", "/groups=kv")
	if code != 0 || !strings.Contains(stdout, "✓ verified with RS256") || !strings.Contains(stdout, "expires in 4m") {
		t.Fatalf("good token: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, _ = runIn(t, tok, "inspect", "token", "--jwks", keyFile, "--audience", "other")
	if code != ExitFindings || !strings.Contains(stdout, "token.audience") {
		t.Fatalf("wrong audience: exit %d\n%s", code, stdout)
	}
	// The JSON schema: {header, claims, verified, findings[{id, severity, message, fix}]}.
	code, stdout, _ = runIn(t, tok, "-o", "json", "inspect", "token", "--jwks", keyFile, "--audience", "other")
	var rep struct {
		Header   map[string]any `json:"header"`
		Claims   map[string]any `json:"claims"`
		Verified *bool          `json:"verified"`
		Findings []struct {
			ID, Severity, Message, Fix string
		} `json:"findings"`
	}
	if code != ExitFindings || json.Unmarshal([]byte(stdout), &rep) != nil || rep.Verified == nil || !*rep.Verified ||
		rep.Header["alg"] != "RS256" || rep.Claims["sub"] != "u1" || len(rep.Findings) == 0 || rep.Findings[0].Fix == "" {
		t.Fatalf("json: exit %d\n%s", code, stdout)
	}
	// Nothing verified: claims shown, said plainly, exit 3.
	code, stdout, _ = runIn(t, tok, "inspect", "token", "--insecure-no-verify")
	if code != ExitFindings || !strings.Contains(stdout, "NOT verified") || !strings.Contains(stdout, "u1") {
		t.Fatalf("--insecure-no-verify: exit %d\n%s", code, stdout)
	}
	// A signature by another key fails as a check (exit 3).
	other, _ := testToken(t, good)
	if code, stdout, _ = runIn(t, other, "inspect", "token", "--jwks", keyFile); code != ExitFindings {
		t.Fatalf("foreign signature: exit %d\n%s", code, stdout)
	}
	// alg none is refused as a check.
	parts := strings.Split(tok, ".")
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." + parts[1] + "."
	if code, stdout, _ = runIn(t, none, "inspect", "token", "--jwks", keyFile); code != ExitFindings {
		t.Fatalf("alg none: exit %d\n%s", code, stdout)
	}
	// Malformed input is exit 2.
	for _, bad := range []string{"not-a-jwt", "a.b", "!!!.@@@.###", parts[0] + ".bm90IGpzb24." + parts[2], ""} {
		if code, _, stderr := runIn(t, bad, "inspect", "token", "--jwks", keyFile); code != ExitUsage {
			t.Errorf("input %q: exit %d (%s)", bad, code, stderr)
		}
	}
	// Usage errors.
	if code, _, stderr := runIn(t, tok, "inspect", "token"); code != ExitUsage || !strings.Contains(stderr, "--insecure-no-verify") {
		t.Fatalf("no keys: exit %d %q", code, stderr)
	}
	if code, _, _ := runIn(t, tok, "inspect", "token", "--insecure-no-verify", "--id-token", "--access-token"); code != ExitUsage {
		t.Fatal("--id-token with --access-token must be a usage error")
	}
}

func TestInspectTokenVaultRoleFile(t *testing.T) {
	now := time.Now()
	tok, keyFile := testToken(t, map[string]any{"iss": "https://kc/realms/demo", "sub": "u1", "aud": "vault",
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "resource_access": map[string]any{"vault": map[string]any{"roles": []string{"secret_manager"}}}})
	role := filepath.Join(t.TempDir(), "role.json")
	os.WriteFile(role, []byte(`{"request_id":"x","data":{"role_type":"jwt","user_claim":"sub","groups_claim":"roles","bound_audiences":["vault"],"bound_claims_type":"string","token_policies":["reader"]}}`), 0o600)
	code, stdout, _ := runIn(t, tok, "inspect", "token", "--jwks", keyFile, "--vault-role-file", role)
	if code != ExitFindings || !strings.Contains(stdout, `failed to fetch groups: "roles" claim not found in token`) || !strings.Contains(stdout, "/resource_access/vault/roles") {
		t.Fatalf("exit %d\n%s", code, stdout)
	}
}
