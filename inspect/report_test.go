package inspect

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestReportJSONSchema(t *testing.T) {
	k := testKeys(t)
	claims := with(kcAccessClaims(), "aud", "account", "big", json.Number("123456789012345678901234567890"))
	tok := mustParse(t, signJWT(t, "RS256", k.rsaA, map[string]any{"kid": "a"}, claims))
	keys := mustKeySet(t, jwksJSON(t, jwkOf(t, &k.rsaA.PublicKey, map[string]any{"kid": "a", "alg": "RS256", "use": "sig"})))
	role, _ := VaultRoleFromMap(baseRole())
	cfg, _ := VaultConfigFromMap(baseConfig(t))
	a, _ := ParseClaimAssertion("/email_verified=true")
	rep, err := Inspect(bg, tok, InspectOptions{
		Keys:  keys,
		Check: CheckOptions{Now: testNow, Issuer: testIssuer, Audiences: []string{"vault"}, Claims: []ClaimAssertion{a}},
		Vault: &VaultInput{Role: role, Config: cfg, Options: VaultOptions{RoleName: "dev", Mount: "jwt"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Failed() || !rep.Verified || rep.Vault == nil || rep.Vault.Accepted {
		t.Fatalf("report %+v", rep)
	}
	out, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte(`"big":123456789012345678901234567890`)) {
		t.Errorf("large integer not kept exactly: %s", out)
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	if got, want := keysOf(m), []string{"claims", "findings", "header", "kind", "vault", "verification", "verified"}; !slices.Equal(got, want) {
		t.Errorf("report keys %v, want %v", got, want)
	}
	if got, want := keysOf(m["verification"].(map[string]any)), []string{"alg", "key", "keys_tried", "kid", "source", "verified"}; !slices.Equal(got, want) {
		t.Errorf("verification keys %v, want %v", got, want)
	}
	if got, want := keysOf(m["verification"].(map[string]any)["key"].(map[string]any)), []string{"alg", "bits", "kid", "kty", "use"}; !slices.Equal(got, want) {
		t.Errorf("key keys %v, want %v", got, want)
	}
	f0 := m["findings"].([]any)[0].(map[string]any)
	if got, want := keysOf(f0), []string{"fix", "id", "message", "severity"}; !slices.Equal(got, want) {
		t.Errorf("finding keys %v, want %v (vault_message omitted when empty)", got, want)
	}
	v := m["vault"].(map[string]any)
	if got, want := keysOf(v), []string{"accepted", "findings", "http_status", "login", "message", "role", "step"}; !slices.Equal(got, want) {
		t.Errorf("vault keys %v, want %v", got, want)
	}
	vf := v["findings"].([]any)[0].(map[string]any)
	if got, want := keysOf(vf), []string{"fix", "id", "message", "severity", "vault_message"}; !slices.Equal(got, want) {
		t.Errorf("vault finding keys %v, want %v", got, want)
	}
	if vf["vault_message"] != msgAud || v["message"] != msgAud || v["step"] != "audience" || v["http_status"] != float64(400) {
		t.Errorf("vault object %v", v)
	}

	// An accepted verdict carries the identity fields.
	ok := mustParse(t, signJWT(t, "RS256", k.rsaA, map[string]any{"kid": "a"}, kcAccessClaims()))
	rep, err = Inspect(bg, ok, InspectOptions{Keys: keys, Check: CheckOptions{Now: testNow}, Vault: &VaultInput{Role: role, Config: cfg, Options: VaultOptions{RoleName: "dev"}}})
	if err != nil {
		t.Fatal(err)
	}
	out, _ = json.Marshal(rep.Vault)
	m = nil
	json.Unmarshal(out, &m)
	if got, want := keysOf(m), []string{"accepted", "alias", "findings", "group_aliases", "login", "metadata", "policies", "role"}; !slices.Equal(got, want) {
		t.Errorf("accepted vault keys %v, want %v", got, want)
	}
	if rep.Failed() {
		t.Errorf("a clean token and an accepting Vault must not fail: %+v", rep.Findings)
	}
}

func TestInspectWithoutKeys(t *testing.T) {
	tok := mustParse(t, signJWT(t, "RS256", testKeys(t).rsaA, nil, kcAccessClaims()))
	rep, err := Inspect(bg, tok, InspectOptions{Check: CheckOptions{Now: testNow}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verified || rep.Verification != nil || hasFinding(rep.Findings, FindingUnverified) == nil || rep.Failed() {
		t.Errorf("report %+v", rep)
	}
	out, _ := json.Marshal(rep)
	var m map[string]any
	json.Unmarshal(out, &m)
	if got, want := keysOf(m), []string{"claims", "findings", "header", "kind", "verified"}; !slices.Equal(got, want) {
		t.Errorf("keys %v, want %v (no optional objects)", got, want)
	}
}

func TestFindingIDsAreStable(t *testing.T) {
	// IDs are part of the JSON contract: dotted, lower case, grouped by prefix.
	ids := []string{FindingAlgNone, FindingAlgHMAC, FindingAlgUnsupported, FindingUnsigned, FindingKidUnknown, FindingNoKey,
		FindingAlgKeyMismatch, FindingSignature, FindingUnverified, FindingExpired, FindingNotYetValid, FindingIssuedInFuture,
		FindingNoExpiry, FindingTimeClaimType, FindingIssuer, FindingAudience, FindingRefreshToken,
		FindingClaimMissing, FindingClaimMismatch, FindingClaimType,
		FindingKeycloakAudAccount, FindingKeycloakRolesOnlyInAccess, FindingKeycloakGroupFullPath, FindingKeycloakGroupsMissing,
		FindingDiscoveryIssuer, FindingDiscoveryWellKnown, FindingDiscoveryJWKS, FindingDiscoveryJWKSEmpty, FindingDiscoveryAlgs,
		FindingVaultConfigUnknown, FindingVaultRoleType, FindingVaultValidator, FindingVaultBoundCIDRs, FindingVaultSignature,
		FindingVaultSignatureUnchecked, FindingVaultKeyAlgLenient, FindingVaultAlgorithm, FindingVaultClaimsDecode,
		FindingVaultBoundIssuer, FindingVaultNoBoundIssuer, FindingVaultBoundSubject, FindingVaultBoundAudiences,
		FindingVaultAudienceUnbound, FindingVaultTime, FindingVaultUserClaim, FindingVaultClaimMappings, FindingVaultGroupsClaim,
		FindingVaultBoundClaims, FindingVaultOIDCNotConfigured, FindingVaultOIDCAccessToken, FindingVaultOIDCIDToken,
		FindingVaultOIDCNotes, FindingVaultGroupAliases, FindingVaultAccepted}
	seen := map[string]bool{}
	for _, id := range ids {
		prefix, _, ok := strings.Cut(id, ".")
		if !ok || strings.ToLower(id) != id || !slices.Contains([]string{"token", "claim", "keycloak", "discovery", "vault"}, prefix) {
			t.Errorf("bad id %q", id)
		}
		if seen[id] {
			t.Errorf("duplicate id %q", id)
		}
		seen[id] = true
	}
	for _, id := range []string{"token.expired", "token.audience", "keycloak.access-token-aud-account", "vault.bound-audiences"} {
		if !seen[id] {
			t.Errorf("id %q named in the design is missing", id)
		}
	}
}
