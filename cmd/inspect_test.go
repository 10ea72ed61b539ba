package cmd

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ssoctl/ssoctl/inspect"
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

// signedWith signs claims with inspect's test key rsa-a under header hdr (alg RS256 and kid
// rsa-a unless hdr says otherwise).
func signedWith(t testing.TB, hdr, claims map[string]any) string {
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
	h := map[string]any{"alg": "RS256", "typ": "JWT", "kid": "rsa-a"}
	for name, v := range hdr {
		h[name] = v
	}
	hj, _ := json.Marshal(h)
	cj, _ := json.Marshal(claims)
	input := base64.RawURLEncoding.EncodeToString(hj) + "." + base64.RawURLEncoding.EncodeToString(cj)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(nil, k.(*rsa.PrivateKey), crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// hardeningClaims are valid claims for the hardening tests, issued a minute ago.
func hardeningClaims(now time.Time, kv ...any) map[string]any {
	c := map[string]any{"iss": "http://kc/realms/demo", "sub": "3f6c", "aud": "vault", "azp": "vault", "typ": "ID",
		"iat": now.Add(-time.Minute).Unix(), "exp": now.Add(4 * time.Minute).Unix(),
		"resource_access": map[string]any{"vault": map[string]any{"roles": []string{"secret_manager"}}}}
	for i := 0; i+1 < len(kv); i += 2 {
		c[kv[i].(string)] = kv[i+1]
	}
	return c
}

func nested(levels int) any {
	var v any = "x"
	for range levels {
		v = []any{v}
	}
	return v
}

func TestInspectTokenHardening(t *testing.T) {
	now := time.Now()
	keys := []string{"inspect", "token", "-", "--jwks", "testdata/rsa-a.pub.pem"}

	// Claims nested past the limit are malformed input (exit 2), named with the limit; at the
	// limit -o json stays small.
	code, stdout, stderr := runIn(t, signedWith(t, nil, hardeningClaims(now, "deep", nested(9990))), append([]string{"-o", "json"}, keys...)...)
	if code != ExitUsage || stdout != "" || !strings.Contains(stderr, "nested deeper than 64 levels") {
		t.Errorf("9990 levels: exit %d, %d bytes of output, stderr %q", code, len(stdout), stderr)
	}
	tok := signedWith(t, nil, hardeningClaims(now, "deep", nested(63)))
	if code, stdout, _ = runIn(t, tok, append([]string{"-o", "json"}, keys...)...); code != ExitOK || len(stdout) > 20000 {
		t.Errorf("63 levels below the claims: exit %d, %d bytes", code, len(stdout))
	}

	// crit: refused, never "✓ verified".
	tok = signedWith(t, map[string]any{"crit": []string{"exp"}, "exp": 1}, hardeningClaims(now))
	code, stdout, _ = runIn(t, tok, append(keys, "--vault-role-file", "testdata/role-default.json")...)
	if code != ExitFindings || strings.Contains(stdout, "✓ verified") || !strings.Contains(stdout, "[token.crit]") || !strings.Contains(stdout, "Signature: ✗ failed") {
		t.Errorf("crit: exit %d\n%s", code, stdout)
	}

	// Control characters from the token never reach the terminal raw.
	evil := "\x1b]0;pwned\x07\x1b[2J\r✓ verified\n\u009b31m\u202e"
	tok = signedWith(t, map[string]any{"kid": "k\x1b[1m", "x-note": evil}, hardeningClaims(now, "name", evil, "groups", []any{evil}, "aud", "vault"))
	code, stdout, _ = runIn(t, tok, append(keys, "--vault-role-file", "testdata/role-default.json", "--claim", "/name=x")...)
	if code != ExitFindings { // the claim check fails
		t.Errorf("escaping: exit %d", code)
	}
	for i, r := range stdout {
		if r != '\n' && (r < 0x20 || (r >= 0x7f && r < 0xa0) || r == 0x202e) {
			t.Fatalf("raw control character %U at byte %d of\n%s", r, i, stdout)
		}
	}
	for _, want := range []string{`\x1b]0;pwned\x07\x1b[2J\r✓ verified\n\u009b31m\u202e`, `kid        k\x1b[1m`} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	// JSON output keeps the exact values.
	_, stdout, _ = runIn(t, tok, append([]string{"-o", "json"}, keys...)...)
	var rep struct {
		Claims map[string]any `json:"claims"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || rep.Claims["name"] != evil {
		t.Errorf("json: %v %q", err, rep.Claims["name"])
	}

	// exp out of range: a finding, shown as written, no nonsense year.
	tok = signedWith(t, nil, hardeningClaims(now, "exp", 1e38))
	code, stdout, _ = runIn(t, tok, append(keys, "--vault-role-file", "testdata/role-default.json")...)
	if code != ExitFindings || !strings.Contains(stdout, "1e+38 (out of range") || !strings.Contains(stdout, "[token.time-range]") ||
		!strings.Contains(stdout, "invalid expiration time (exp) claim: token is expired") || strings.Contains(stdout, "292277026596") {
		t.Errorf("exp 1e38: exit %d\n%s", code, stdout)
	}

	// Several failing bound claims: every message Vault may give.
	role := filepath.Join(t.TempDir(), "role.json")
	os.WriteFile(role, []byte(`{"role_type":"jwt","user_claim":"sub","bound_audiences":["vault"],"bound_claims":{"team":"a","site":"b"}}`), 0o600)
	code, stdout, _ = runIn(t, signedWith(t, nil, hardeningClaims(now)), append(keys, "--vault-role-file", role)...)
	if code != ExitFindings || !strings.Contains(stdout, "Vault says one of") || !strings.Contains(stdout, `claim "site" is missing`) || !strings.Contains(stdout, `claim "team" is missing`) {
		t.Errorf("two bound claims: exit %d\n%s", code, stdout)
	}
}

// TestTermSafe pins the escapes of text output.
func TestTermSafe(t *testing.T) {
	for in, want := range map[string]string{
		"plain ✓ text":       "plain ✓ text",
		"a\x1b[31mb":         `a\x1b[31mb`,
		"\x07\x00\x7f":       `\x07\x00\x7f`,
		"l1\nl2\r\t":         `l1\nl2\r\t`,
		"\u009b\u0085":       `\u009b\u0085`,
		"\u202eevil\u2066":   `\u202eevil\u2066`,
		"\u2028":             `\u2028`,
		"bad \xff utf8":      `bad \xff utf8`,
		`C:\path \x1b as is`: `C:\path \x1b as is`,
	} {
		if got := termSafe(in); got != want {
			t.Errorf("termSafe(%q) = %q, want %q", in, got, want)
		}
	}
}

// fuzzSeeds are the probe inputs of the hardening issue and everyday tokens.
func fuzzSeeds(f *testing.F) []string {
	now := time.Now()
	return []string{
		signedWith(f, nil, hardeningClaims(now)),
		signedWith(f, nil, hardeningClaims(now, "deep", nested(63))),
		signedWith(f, nil, hardeningClaims(now, "deep", nested(64))),
		signedWith(f, nil, hardeningClaims(now, "deep", nested(9990))),
		signedWith(f, map[string]any{"crit": []string{"exp"}, "exp": 1}, hardeningClaims(now)),
		signedWith(f, map[string]any{"crit": "b64", "b64": false}, hardeningClaims(now)),
		signedWith(f, map[string]any{"kid": "\x1b]0;t\x07"}, hardeningClaims(now, "name", "\x1b[2J\r\u009b\u202e", "groups", []any{"\x07", 5})),
		signedWith(f, nil, hardeningClaims(now, "exp", 1e38, "nbf", nil)),
		signedWith(f, nil, hardeningClaims(now, "exp", nil, "iat", nil, "nbf", -5)),
		signedWith(f, nil, hardeningClaims(now, "aud", []any{"a", "b", "c"}, "team", []any{1, 2.5, true})),
		`{"access_token":"x.y.z","id_token":"` + signedWith(f, nil, hardeningClaims(now)) + `"}`,
		"e30.e30.", "a.b.c",
	}
}

// fuzzReport builds a token from a fuzzed header and payload (signed with rsa-a when sign is
// set, else with a signature that does not verify), parses and inspects it as `inspect token`
// would, with keys and a Vault role whose bound_claims and claim_mappings can fail several at
// once. It returns the raw token, or nil when the token does not parse.
func fuzzReport(t *testing.T, header, payload []byte, sign bool) ([]byte, *inspect.Token, *inspect.Report) {
	input := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	sig := []byte("not a signature")
	if sign {
		sum := sha256.Sum256([]byte(input))
		var err error
		if sig, err = rsa.SignPKCS1v15(nil, fuzzKey(t), crypto.SHA256, sum[:]); err != nil {
			t.Fatal(err)
		}
	}
	raw := []byte(input + "." + base64.RawURLEncoding.EncodeToString(sig))
	tok, err := inspect.ParseInput(raw, inspect.PickDefault)
	if err != nil {
		return nil, nil, nil
	}
	pub, err := os.ReadFile("testdata/rsa-a.pub.pem")
	if err != nil {
		t.Fatal(err)
	}
	ks, err := inspect.ParseKeys(pub)
	if err != nil {
		t.Fatal(err)
	}
	role, err := inspect.VaultRoleFromMap(map[string]any{"role_type": "jwt", "user_claim": "sub", "bound_audiences": []any{"vault"},
		"groups_claim": "groups", "bound_claims": map[string]any{"team": "a", "/resource_access/vault/roles": "secret_manager"},
		"claim_mappings": map[string]any{"name": "n", "email": "e"}})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := inspect.ParseClaimAssertion("/groups=x")
	rep, err := inspect.Inspect(context.Background(), tok, inspect.InspectOptions{Keys: ks,
		Check: inspect.CheckOptions{Now: goldenNow, Issuer: "http://kc/realms/demo", Audiences: []string{"vault"}, Claims: []inspect.ClaimAssertion{a}},
		Vault: &inspect.VaultInput{Role: role, Config: &inspect.VaultConfig{JWTValidationPubKeys: []string{string(pub)}, BoundIssuer: "http://kc/realms/demo"}}})
	if err != nil {
		t.Fatalf("Inspect: %v", err)
	}
	return raw, tok, rep
}

var fuzzKeyOnce = sync.OnceValues(func() (*rsa.PrivateKey, error) {
	raw, err := os.ReadFile("../inspect/testdata/rsa-a.pem")
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(raw)
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	return k.(*rsa.PrivateKey), nil
})

func fuzzKey(t *testing.T) *rsa.PrivateKey {
	k, err := fuzzKeyOnce()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// addFuzzSeeds adds each seed token as (header, payload, signed).
func addFuzzSeeds(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		parts := strings.Split(s, ".")
		h, _ := base64.RawURLEncoding.DecodeString(parts[0])
		p, _ := base64.RawURLEncoding.DecodeString(parts[1])
		f.Add(h, p, true)
		f.Add(h, p, false)
	}
}

// maxOutput is the size bound of one rendering of a token of input bytes: linear. -o json
// indents each level by two bytes and a token nests at most inspect.MaxTokenDepth (64) levels,
// so a leaf "[]," of three bytes (four in base64url) takes at most about 132 bytes: 33 times
// its size; a token value is quoted by a bounded number of findings.
func maxOutput(input int) int { return 64<<10 + 64*input }

// FuzzInspectTokenJSON: every parsed token renders as valid JSON of a size linear in the token.
func FuzzInspectTokenJSON(f *testing.F) {
	addFuzzSeeds(f)
	f.Fuzz(func(t *testing.T, header, payload []byte, sign bool) {
		raw, _, rep := fuzzReport(t, header, payload, sign)
		if rep == nil {
			return
		}
		var out bytes.Buffer
		if err := writeJSON(&out, rep); err != nil {
			t.Fatalf("writeJSON: %v", err)
		}
		if out.Len() > maxOutput(len(raw)) {
			t.Fatalf("%d bytes of JSON for a token of %d bytes", out.Len(), len(raw))
		}
		if !json.Valid(out.Bytes()) {
			t.Fatal("invalid JSON")
		}
	})
}

// FuzzInspectTokenText: every parsed token renders as text of a size linear in the token,
// with no character a terminal would act on but the line ends.
func FuzzInspectTokenText(f *testing.F) {
	addFuzzSeeds(f)
	f.Fuzz(func(t *testing.T, header, payload []byte, sign bool) {
		raw, tok, rep := fuzzReport(t, header, payload, sign)
		if rep == nil {
			return
		}
		ios, _, out, _ := TestIO()
		writeReport(ios, goldenNow, tok, rep)
		if out.Len() > maxOutput(len(raw)) {
			t.Fatalf("%d bytes of text for a token of %d bytes", out.Len(), len(raw))
		}
		if !utf8.Valid(out.Bytes()) {
			t.Fatal("the text is not UTF-8")
		}
		for i, r := range out.String() {
			if r != '\n' && unsafeRune(r, utf8.RuneLen(r)) {
				t.Fatalf("raw %U at byte %d", r, i)
			}
		}
	})
}

// TestInspectTokenTemplatePastBudget: an OpenBao role whose policy template
// ssoctl cannot evaluate is bad input in a role file (exit 2), and a warning
// for a role read from a server (the verdict is no prediction: exit 3), where
// nothing is sent to the login endpoint.
func TestInspectTokenTemplatePastBudget(t *testing.T) {
	now := time.Now()
	tok, keyFile := testToken(t, map[string]any{"iss": "https://kc/realms/demo", "sub": "u1", "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()})
	roleData := map[string]any{"role_type": "jwt", "user_claim": "sub", "token_policies_template_claims": true,
		"token_policies": []string{"reader", "{{range 1000000000}}x{{end}}"}}
	body, _ := json.Marshal(map[string]any{"data": roleData})
	role := filepath.Join(t.TempDir(), "role.json")
	os.WriteFile(role, body, 0o600)

	code, stdout, stderr := runIn(t, tok, "inspect", "token", "--jwks", keyFile, "--vault-role-file", role, "--flavor", "openbao")
	if code != ExitUsage || stdout != "" || !strings.Contains(stderr, "--vault-role-file "+role+": ssoctl cannot evaluate this template: token_policies template [1] goes past ssoctl's budget of 65536 bytes of output") {
		t.Errorf("role file: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// Vault takes the policies literally.
	if code, stdout, stderr := runIn(t, tok, "inspect", "token", "--jwks", keyFile, "--vault-role-file", role); code != ExitOK {
		t.Errorf("role file on Vault: exit %d\n%s\n%s", code, stdout, stderr)
	}

	// The same role on a live OpenBao (sys/seal-status has commit_date).
	pemKey, _ := os.ReadFile(keyFile)
	var logins atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answer := map[string]any{}
		switch r.URL.Path {
		case "/v1/sys/seal-status":
			answer = map[string]any{"type": "shamir", "initialized": true, "sealed": false, "version": "2.7.2", "commit_date": "2026-01-01T00:00:00Z"}
		case "/v1/sys/auth":
			answer = map[string]any{"data": map[string]any{"jwt/": map[string]any{"type": "jwt", "accessor": "auth_jwt_1"}}}
		case "/v1/auth/jwt/role/r":
			answer = map[string]any{"data": roleData}
		case "/v1/auth/jwt/config":
			answer = map[string]any{"data": map[string]any{"jwt_validation_pubkeys": []string{string(pemKey)}}}
		default:
			logins.Add(1)
			w.WriteHeader(http.StatusNotFound)
		}
		json.NewEncoder(w).Encode(answer)
	}))
	defer srv.Close()
	env := map[string]string{"BAO_ADDR": srv.URL, "BAO_TOKEN": "t"}
	runEnv := func(args ...string) (int, string, string) {
		ios, in, out, errOut := TestIO()
		in.WriteString(tok)
		f := NewFactory(ios)
		f.Getenv = func(k string) string { return env[k] }
		return Run(f, args), out.String(), errOut.String()
	}
	code, stdout, stderr = runEnv("inspect", "token", "--vault-role", "r")
	if code != ExitFindings || logins.Load() != 0 || !strings.Contains(stdout, "? ssoctl cannot evaluate the role's token_policies templates") ||
		!strings.Contains(stdout, "! ssoctl cannot evaluate this template: token_policies template [1]") || strings.Contains(stdout, "Vault would reject") {
		t.Errorf("live role: exit %d, %d other requests\n%s\n%s", code, logins.Load(), stdout, stderr)
	}
	code, stdout, _ = runEnv("-o", "json", "inspect", "token", "--vault-role", "r")
	var rep struct {
		Vault struct {
			Accepted bool
			Step     string
			Message  string
			Findings []struct{ ID, Severity string }
		}
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != ExitFindings || rep.Vault.Accepted || rep.Vault.Step != "policy-template" || rep.Vault.Message != "" ||
		len(rep.Vault.Findings) == 0 || rep.Vault.Findings[0].ID != inspect.FindingVaultPolicyTemplate || rep.Vault.Findings[0].Severity != "warning" {
		t.Errorf("live role, json: exit %d %v %+v", code, err, rep.Vault)
	}
}
