package inspect

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// vaultCase is one login predicted by the model. Roles and configs are written as the data maps
// `vault read -format=json` prints, so the same cases can be replayed against a real Vault.
type vaultCase struct {
	name   string
	claims map[string]any
	alg    string         // default RS256
	signer any            // default the realm key rsa-a; a []byte is an HMAC secret; nil with alg none
	hdr    map[string]any // extra header members
	role   map[string]any // overrides of baseRole; a nil value deletes the field
	config map[string]any // overrides of baseConfig; nil value deletes
	jwks   bool           // use a JWKS key source (jwks_url config) instead of jwt_validation_pubkeys
	login  VaultLogin

	want    string // Vault's exact message; "" means accepted
	step    VaultStep
	fix     string // substring of the first finding's fix
	alias   string
	groups  []string
	meta    map[string]string
	hintIDs []string // findings that must also be present
}

func baseRole() map[string]any {
	return map[string]any{
		"role_type": "jwt", "user_claim": "sub", "bound_audiences": []any{"vault"},
		"groups_claim": "/resource_access/vault-dev/roles", "token_policies": []any{"default", "reader"},
		"bound_claims_type": "string", "clock_skew_leeway": json.Number("0"),
		"expiration_leeway": json.Number("0"), "not_before_leeway": json.Number("0"),
	}
}

func baseConfig(t testing.TB) map[string]any {
	return map[string]any{
		"jwt_validation_pubkeys": []any{publicPEM(t, &testKeys(t).rsaA.PublicKey)},
		"bound_issuer":           testIssuer,
	}
}

func overlay(base, over map[string]any) map[string]any {
	out := maps.Clone(base)
	for k, v := range over {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}

const (
	msgAud        = "error validating token: invalid audience (aud) claim: audience claim does not match any expected audience"
	msgUnbound    = "audience claim found in JWT but no audiences bound to the role"
	msgExpired    = "error validating token: invalid expiration time (exp) claim: token is expired"
	msgNotYet     = "error validating token: invalid not before (nbf) claim: token not yet valid"
	msgFuture     = "error validating token: invalid issued at (iat) claim: token issued in the future"
	msgNoTimes    = "error validating token: no issued at (iat), not before (nbf), or expiration time (exp) claims in token"
	msgIssuer     = "error validating token: invalid issuer (iss) claim"
	msgSubject    = "error validating token: invalid subject (sub) claim"
	msgStaticSig  = "error validating token: error verifying token signature: no known key successfully validated the token signature"
	msgJWKSSig    = "error validating token: error verifying token signature: failed to verify id token signature"
	msgAlg        = "error validating token: invalid algorithm (alg) header parameter: token signed with unexpected algorithm"
	msgOIDCRole   = "role with oidc role_type is not allowed"
	msgFlowConfig = "error configuring token validator: unsupported config type"
)

func vaultCases(t testing.TB) []vaultCase {
	k := testKeys(t)
	now := testNow.Unix()
	c := kcAccessClaims
	pubPEM := []byte(publicPEM(t, &k.rsaA.PublicKey))
	return []vaultCase{
		{name: "valid", alias: "4f2b9c3e-8d8a-4a53-9f43-3b0d1c1a2e01", groups: []string{"secret_manager"}, meta: map[string]string{"role": "dev"}},
		{name: "wrong audience", claims: with(c(), "aud", []any{"account"}), want: msgAud, step: VaultStepAudience,
			fix: "add `- audience: vault` to client vault-dev's mappers in sso.yaml", hintIDs: []string{FindingKeycloakAudAccount}},
		{name: "wrong audience lists the token's audiences", claims: with(c(), "aud", []any{"account", "broker"}), role: map[string]any{"bound_audiences": []any{"vault"}}, want: msgAud, step: VaultStepAudience,
			fix: `one of the token's audiences ["account", "broker"]`},
		{name: "audience compare is case-sensitive", claims: with(c(), "aud", "Vault"), want: msgAud, step: VaultStepAudience},
		{name: "string aud matching bound_audiences", claims: with(c(), "aud", "vault"), alias: "4f2b9c3e-8d8a-4a53-9f43-3b0d1c1a2e01", groups: []string{"secret_manager"}},
		{name: "any bound audience may match", claims: with(c(), "aud", []any{"x", "account"}), role: map[string]any{"bound_audiences": []any{"vault", "account"}}, alias: "4f2b9c3e-8d8a-4a53-9f43-3b0d1c1a2e01"},
		{name: "no bound audiences with aud list", role: map[string]any{"bound_audiences": nil}, want: msgUnbound, step: VaultStepAudienceUnbound, fix: "`bound_audiences: [vault, account]`"},
		{name: "no bound audiences with string aud", claims: with(c(), "aud", "vault"), role: map[string]any{"bound_audiences": nil}, want: msgUnbound, step: VaultStepAudienceUnbound},
		{name: "no bound audiences and empty aud", claims: with(c(), "aud", []any{}), role: map[string]any{"bound_audiences": nil}, alias: "4f2b9c3e-8d8a-4a53-9f43-3b0d1c1a2e01"},
		{name: "no bound audiences and no aud", claims: with(c(), "aud", deleteClaim), role: map[string]any{"bound_audiences": nil}, alias: "4f2b9c3e-8d8a-4a53-9f43-3b0d1c1a2e01"},
		{name: "expired", claims: with(c(), "exp", now-120), want: msgExpired, step: VaultStepTime, fix: "clock_skew_leeway"},
		{name: "expired within default leeway", claims: with(c(), "exp", now-45), alias: "4f2b9c3e-8d8a-4a53-9f43-3b0d1c1a2e01"},
		{name: "expired within a raised clock_skew_leeway", claims: with(c(), "exp", now-200), role: map[string]any{"clock_skew_leeway": json.Number("300")}, alias: "4f2b9c3e-8d8a-4a53-9f43-3b0d1c1a2e01"},
		{name: "clock_skew_leeway -1 disables the leeway", claims: with(c(), "exp", now-1), role: map[string]any{"clock_skew_leeway": json.Number("-1")}, want: msgExpired, step: VaultStepTime},
		{name: "expiration_leeway does not widen the exp check", claims: with(c(), "exp", now-120), role: map[string]any{"expiration_leeway": json.Number("600")}, want: msgExpired, step: VaultStepTime},
		{name: "not yet valid", claims: with(c(), "nbf", now+120), want: msgNotYet, step: VaultStepTime},
		{name: "nbf within leeway", claims: with(c(), "nbf", now+30), alias: "4f2b9c3e-8d8a-4a53-9f43-3b0d1c1a2e01"},
		{name: "iat in the future without nbf reads as nbf", claims: with(c(), "iat", now+120), want: msgNotYet, step: VaultStepTime},
		{name: "iat in the future with nbf now", claims: with(c(), "iat", now+120, "nbf", now), want: msgFuture, step: VaultStepTime},
		{name: "no iat nbf exp", claims: with(c(), "iat", deleteClaim, "exp", deleteClaim), want: msgNoTimes, step: VaultStepTime},
		{name: "zero exp and iat count as absent", claims: with(c(), "iat", 0, "exp", 0), want: msgNoTimes, step: VaultStepTime},
		{name: "no exp: made up from iat plus expiration_leeway (valid)", claims: with(c(), "exp", deleteClaim, "iat", now-100), alias: "4f2b9c3e-8d8a-4a53-9f43-3b0d1c1a2e01"},
		{name: "no exp: made up from iat plus expiration_leeway (expired)", claims: with(c(), "exp", deleteClaim, "iat", now-300), want: msgExpired, step: VaultStepTime},
		{name: "wrong issuer with bound_issuer", claims: with(c(), "iss", "http://localhost:8080/realms/demo"), want: msgIssuer, step: VaultStepIssuer, fix: `bound_issuer on auth/jwt/config to "http://localhost:8080/realms/demo"`},
		{name: "issuer with a trailing slash", claims: with(c(), "iss", testIssuer+"/"), want: msgIssuer, step: VaultStepIssuer},
		{name: "wrong issuer without bound_issuer is not checked", claims: with(c(), "iss", "http://evil/realms/demo"), config: map[string]any{"bound_issuer": nil}, alias: "4f2b9c3e-8d8a-4a53-9f43-3b0d1c1a2e01"},
		{name: "bound_subject mismatch", role: map[string]any{"bound_subject": "someone-else"}, want: msgSubject, step: VaultStepSubject},
		{name: "bound_subject match", role: map[string]any{"bound_subject": "4f2b9c3e-8d8a-4a53-9f43-3b0d1c1a2e01"}, alias: "4f2b9c3e-8d8a-4a53-9f43-3b0d1c1a2e01"},
		{name: "missing user claim", role: map[string]any{"user_claim": "upn"}, want: `claim "upn" not found in token`, step: VaultStepUserClaim},
		{name: "user claim preferred_username", role: map[string]any{"user_claim": "preferred_username"}, alias: "alice"},
		{name: "user claim pointer", claims: with(c(), "user", map[string]any{"login": "alice@corp"}), role: map[string]any{"user_claim": "/user/login", "user_claim_json_pointer": true}, alias: "alice@corp"},
		{name: "user claim pointer without user_claim_json_pointer", claims: with(c(), "user", map[string]any{"login": "alice@corp"}), role: map[string]any{"user_claim": "/user/login"},
			want: `claim "/user/login" not found in token`, step: VaultStepUserClaim, fix: "user_claim_json_pointer=true"},
		{name: "user claim not a string", claims: with(c(), "uid", 1001), role: map[string]any{"user_claim": "uid"}, want: `claim "uid" could not be converted to string`, step: VaultStepUserClaim},
		{name: "groups missing", role: map[string]any{"groups_claim": "teams"}, claims: with(c(), "teams", deleteClaim),
			want: `failed to fetch groups: "teams" claim not found in token`, step: VaultStepGroupsClaim},
		{name: "groups missing because Keycloak omits an empty list", role: map[string]any{"groups_claim": "groups"}, claims: with(c(), "groups", deleteClaim),
			want: `failed to fetch groups: "groups" claim not found in token`, step: VaultStepGroupsClaim, hintIDs: []string{FindingKeycloakGroupsMissing}},
		{name: "groups not a list (object)", role: map[string]any{"groups_claim": "realm_access"},
			want: `"realm_access" claim could not be converted to string list`, step: VaultStepGroupsClaim, fix: "groups_claim must be `/realm_access/roles`"},
		{name: "groups single string", claims: with(c(), "team", "kv-managers"), role: map[string]any{"groups_claim": "team"}, groups: []string{"kv-managers"}, alias: "4f2b9c3e-8d8a-4a53-9f43-3b0d1c1a2e01"},
		{name: "groups number becomes a one-element list", claims: with(c(), "team", 7), role: map[string]any{"groups_claim": "team"}, want: "value 7 in groups claim could not be parsed as string", step: VaultStepGroupsClaim},
		{name: "non-string group element", claims: with(c(), "groups", []any{"kv-managers", 5}), role: map[string]any{"groups_claim": "groups"}, want: "value 5 in groups claim could not be parsed as string", step: VaultStepGroupsClaim},
		{name: "object group element", claims: with(c(), "groups", []any{map[string]any{"name": "x", "id": 2}}), role: map[string]any{"groups_claim": "groups"}, want: "value map[id:2 name:x] in groups claim could not be parsed as string", step: VaultStepGroupsClaim},
		{name: "empty group names are skipped", claims: with(c(), "groups", []any{"", "a"}), role: map[string]any{"groups_claim": "groups"}, groups: []string{"a"}, alias: "4f2b9c3e-8d8a-4a53-9f43-3b0d1c1a2e01"},
		{name: "non-pointer groups claim on nested roles", role: map[string]any{"groups_claim": "roles"},
			want: `failed to fetch groups: "roles" claim not found in token`, step: VaultStepGroupsClaim, fix: "groups_claim must be `/resource_access/vault-dev/roles`"},
		{name: "dotted groups claim", role: map[string]any{"groups_claim": "realm_access.roles"},
			want: `failed to fetch groups: "realm_access.roles" claim not found in token`, step: VaultStepGroupsClaim, fix: "groups_claim must be `/realm_access/roles`"},
		{name: "pointer groups claim with a lenient index", role: map[string]any{"groups_claim": "/realm_access/roles/0x2"}, groups: []string{"vault-admin"}, alias: "4f2b9c3e-8d8a-4a53-9f43-3b0d1c1a2e01"},
		{name: "full-path groups are accepted but flagged", claims: with(c(), "groups", []any{"/kv-managers"}), role: map[string]any{"groups_claim": "groups"}, groups: []string{"/kv-managers"},
			alias: "4f2b9c3e-8d8a-4a53-9f43-3b0d1c1a2e01", hintIDs: []string{FindingKeycloakGroupFullPath}},
		{name: "bound_claims string mismatch", role: map[string]any{"bound_claims": map[string]any{"department": "ops"}},
			want: `error validating claims: claim "department" does not match any associated bound claim values`, step: VaultStepBoundClaims},
		{name: "bound_claims list of expected values", role: map[string]any{"bound_claims": map[string]any{"department": []any{"ops", "eng"}}}, alias: "4f2b9c3e-8d8a-4a53-9f43-3b0d1c1a2e01"},
		{name: "bound_claims pointer into a list claim", role: map[string]any{"bound_claims": map[string]any{"/realm_access/roles": "vault-admin"}}, alias: "4f2b9c3e-8d8a-4a53-9f43-3b0d1c1a2e01"},
		{name: "bound_claims missing claim", role: map[string]any{"bound_claims": map[string]any{"team": "x"}}, want: `error validating claims: claim "team" is missing`, step: VaultStepBoundClaims},
		{name: "bound_claims on an object claim", role: map[string]any{"bound_claims": map[string]any{"realm_access": "x"}},
			want: "error validating claims: received claim is not a string, bool, int or list: map[roles:[default-roles-demo offline_access vault-admin]]", step: VaultStepBoundClaims},
		{name: "bound_claims bool", role: map[string]any{"bound_claims": map[string]any{"email_verified": true}}, alias: "4f2b9c3e-8d8a-4a53-9f43-3b0d1c1a2e01"},
		{name: "bound_claims number (top-level number becomes json.Number)", claims: with(c(), "level", 3), role: map[string]any{"bound_claims": map[string]any{"level": json.Number("3")}}, alias: "4f2b9c3e-8d8a-4a53-9f43-3b0d1c1a2e01"},
		{name: "bound_claims number inside a list never matches (float64 vs json.Number)", claims: with(c(), "levels", []any{3}), role: map[string]any{"bound_claims": map[string]any{"levels": json.Number("3")}},
			want: `error validating claims: claim "levels" does not match any associated bound claim values`, step: VaultStepBoundClaims},
		{name: "glob match", role: map[string]any{"bound_claims_type": "glob", "bound_claims": map[string]any{"email": "*@example.com"}}, alias: "4f2b9c3e-8d8a-4a53-9f43-3b0d1c1a2e01"},
		{name: "glob mismatch", role: map[string]any{"bound_claims_type": "glob", "bound_claims": map[string]any{"email": "*@corp.example"}},
			want: `error validating claims: claim "email" does not match any associated bound claim values`, step: VaultStepBoundClaims},
		{name: "glob on a list claim", role: map[string]any{"bound_claims_type": "glob", "bound_claims": map[string]any{"/realm_access/roles": "vault-*"}}, alias: "4f2b9c3e-8d8a-4a53-9f43-3b0d1c1a2e01"},
		{name: "glob with a non-string expected value", role: map[string]any{"bound_claims_type": "glob", "bound_claims": map[string]any{"email": json.Number("5")}},
			want: "error validating claims: received claim is not a glob string: %!e(json.Number=5)xpVal", step: VaultStepBoundClaims},
		{name: "oidc role_type on jwt login", role: map[string]any{"role_type": "oidc"}, login: VaultLoginJWT, want: msgOIDCRole, step: VaultStepRole, fix: "role_type=jwt"},
		{name: "role without role_type is oidc", role: map[string]any{"role_type": nil}, login: VaultLoginJWT, want: msgOIDCRole, step: VaultStepRole},
		{name: "jwt login on an OIDC-flow mount", config: map[string]any{"jwt_validation_pubkeys": nil, "oidc_discovery_url": testIssuer, "oidc_client_id": "vault"},
			want: msgFlowConfig, step: VaultStepValidator, fix: "second auth mount of `type: jwt`"},
		{name: "discovery mount without client works for jwt login", config: map[string]any{"jwt_validation_pubkeys": nil, "oidc_discovery_url": testIssuer}, jwks: true, alias: "4f2b9c3e-8d8a-4a53-9f43-3b0d1c1a2e01"},
		{name: "bad signature", signer: k.rsaB, want: msgStaticSig, step: VaultStepSignature},
		{name: "alg none", alg: "none", want: msgStaticSig, step: VaultStepSignature},
		{name: "HS256 with the public key as secret", alg: "HS256", signer: pubPEM, want: msgStaticSig, step: VaultStepSignature},
		{name: "unexpected alg vs jwt_supported_algs", alg: "PS256", config: map[string]any{"jwt_supported_algs": []any{"RS256"}}, want: msgAlg, step: VaultStepAlgorithm, fix: "add PS256 to jwt_supported_algs"},
		{name: "PS256 allowed by default", alg: "PS256", alias: "4f2b9c3e-8d8a-4a53-9f43-3b0d1c1a2e01"},
		{name: "claim_mappings non-string", role: map[string]any{"claim_mappings": map[string]any{"email_verified": "verified"}}, want: "error converting claim 'email_verified' to string", step: VaultStepClaimMappings},
		{name: "claim_mappings into metadata", role: map[string]any{"claim_mappings": map[string]any{"email": "email", "/resource_access/vault-dev/roles/0": "first_role", "absent": "x"}},
			alias: "4f2b9c3e-8d8a-4a53-9f43-3b0d1c1a2e01", meta: map[string]string{"email": "alice@example.com", "first_role": "secret_manager", "role": "dev"}},
		{name: "aud null cannot be decoded", claims: with(c(), "aud", nil), want: "error validating token: go-jose/go-jose/jwt: expected string or array value to unmarshal to Audience", step: VaultStepClaims},
		{name: "iss of the wrong type", claims: with(c(), "iss", 5), want: "error validating token: json: cannot unmarshal number into Go struct field Claims.iss of type string", step: VaultStepClaims},
		{name: "exp as a string", claims: with(c(), "exp", "soon"), want: "error validating token: go-jose/go-jose/jwt: expected number value to unmarshal NumericDate", step: VaultStepClaims},
		{name: "JWKS mount: signed by an unknown key", signer: k.rsaB, hdr: map[string]any{"kid": "a"}, jwks: true, want: msgJWKSSig, step: VaultStepSignature},
		{name: "JWKS mount: unknown kid", hdr: map[string]any{"kid": "rotated-away"}, jwks: true, want: msgJWKSSig, step: VaultStepSignature},
		{name: "JWKS mount: alg none", alg: "none", jwks: true, step: VaultStepSignature,
			want: `error validating token: error verifying token signature: oidc: malformed jwt: go-jose/go-jose: unexpected signature algorithm "none"; expected ["RS256" "RS384" "RS512" "ES256" "ES384" "ES512" "PS256" "PS384" "PS512" "EdDSA"]`},
		{name: "JWKS mount: PS256 with a key registered for RS256 (Vault ignores the JWK alg)", alg: "PS256", jwks: true, alias: "4f2b9c3e-8d8a-4a53-9f43-3b0d1c1a2e01", hintIDs: []string{FindingVaultKeyAlgLenient}},
		// Order: Vault stops at the first failing check.
		{name: "order: audience before time", claims: with(c(), "aud", "account", "exp", now-3600), want: msgAud, step: VaultStepAudience},
		{name: "order: time before unbound audience", claims: with(c(), "exp", now-3600), role: map[string]any{"bound_audiences": nil}, want: msgExpired, step: VaultStepTime},
		{name: "order: issuer before audience", claims: with(c(), "iss", "http://x/realms/demo", "aud", "account"), want: msgIssuer, step: VaultStepIssuer},
		{name: "order: signature before everything", signer: k.rsaB, claims: with(c(), "aud", "account", "exp", now-3600), want: msgStaticSig, step: VaultStepSignature},
		{name: "order: user claim before bound_claims", role: map[string]any{"user_claim": "upn", "bound_claims": map[string]any{"team": "x"}}, want: `claim "upn" not found in token`, step: VaultStepUserClaim},
		{name: "order: claim_mappings before groups", role: map[string]any{"claim_mappings": map[string]any{"email_verified": "v"}, "groups_claim": "nope"}, want: "error converting claim 'email_verified' to string", step: VaultStepClaimMappings},
		{name: "order: groups before bound_claims", role: map[string]any{"groups_claim": "nope", "bound_claims": map[string]any{"team": "x"}}, want: `failed to fetch groups: "nope" claim not found in token`, step: VaultStepGroupsClaim},
	}
}

func TestEvaluateVaultJWT(t *testing.T) {
	k := testKeys(t)
	jwks := mustKeySet(t, jwksJSON(t, jwkOf(t, &k.rsaA.PublicKey, map[string]any{"kid": "a", "alg": "RS256", "use": "sig"})))
	cases := vaultCases(t)
	if len(cases) < 30 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, v, err := tc.evaluate(t, k, jwks)
			if err != nil {
				t.Fatal(err)
			}
			if len(v.Findings) == 0 {
				t.Fatal("no findings")
			}
			first := v.Findings[0]
			if tc.want == "" {
				if !v.Accepted || v.Message != "" || v.Step != "" {
					t.Fatalf("want accepted, got step %q message %q (%+v)", v.Step, v.Message, v.Findings)
				}
				if first.ID != FindingVaultAccepted {
					t.Errorf("first finding %+v", first)
				}
				if tc.alias != "" && v.Alias != tc.alias {
					t.Errorf("alias %q, want %q", v.Alias, tc.alias)
				}
				if tc.groups != nil && !slices.Equal(v.GroupAliases, tc.groups) {
					t.Errorf("groups %v, want %v", v.GroupAliases, tc.groups)
				}
				if tc.meta != nil && !maps.Equal(v.Metadata, tc.meta) {
					t.Errorf("metadata %v, want %v", v.Metadata, tc.meta)
				}
				if !slices.Equal(v.Policies, []string{"default", "reader"}) {
					t.Errorf("policies %v", v.Policies)
				}
			} else {
				if v.Accepted {
					t.Fatalf("accepted, want %q", tc.want)
				}
				if v.Message != tc.want {
					t.Errorf("message\n got %q\nwant %q", v.Message, tc.want)
				}
				if v.Step != tc.step {
					t.Errorf("step %q, want %q", v.Step, tc.step)
				}
				if first.Severity != SeverityError || first.VaultMessage != tc.want || first.Fix == "" || first.Message == "" {
					t.Errorf("first finding %+v must be an error quoting the message, with a fix", first)
				}
				if !strings.HasPrefix(first.ID, "vault.") {
					t.Errorf("first finding id %q", first.ID)
				}
				if tc.fix != "" && !strings.Contains(first.Fix, tc.fix) {
					t.Errorf("fix %q does not contain %q", first.Fix, tc.fix)
				}
				if v.HTTPStatus != 400 {
					t.Errorf("status %d", v.HTTPStatus)
				}
				if v.Alias != "" || v.GroupAliases != nil {
					t.Errorf("rejected verdict carries alias %q groups %v", v.Alias, v.GroupAliases)
				}
			}
			for _, id := range tc.hintIDs {
				if hasFinding(v.Findings, id) == nil {
					t.Errorf("missing finding %s in %v", id, findingIDs(v.Findings))
				}
			}
		})
	}
}

func TestEvaluateVaultIsDeterministic(t *testing.T) {
	tok := mustParse(t, signJWT(t, "RS256", testKeys(t).rsaA, nil, kcAccessClaims()))
	role, _ := VaultRoleFromMap(overlay(baseRole(), map[string]any{"bound_claims": map[string]any{"a": "x", "b": "y", "c": "z", "department": "ops"}}))
	cfg, _ := VaultConfigFromMap(baseConfig(t))
	var first string
	for i := range 20 {
		v, err := EvaluateVault(bg, tok, role, cfg, nil, VaultOptions{Now: testNow})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = v.Message
		} else if v.Message != first {
			t.Fatalf("message changed between runs: %q vs %q", first, v.Message)
		}
	}
	if first != `error validating claims: claim "a" is missing` {
		t.Errorf("message %q", first)
	}
}

// TestEvaluateVaultOneOfSeveral: Vault loops over bound_claims and claim_mappings in Go's
// random map order and names the first failure, so with several failing the model lists every
// message Vault may give.
func TestEvaluateVaultOneOfSeveral(t *testing.T) {
	tok := mustParse(t, signJWT(t, "RS256", testKeys(t).rsaA, nil, with(kcAccessClaims(), "n1", 1, "n2", true)))
	cfg, _ := VaultConfigFromMap(baseConfig(t))
	for _, tc := range []struct {
		name string
		role map[string]any
		want []string
		what string
	}{
		{name: "two bound claims missing, one matching", role: map[string]any{"bound_claims": map[string]any{"b": "y", "a": "x", "department": "eng"}},
			want: []string{`error validating claims: claim "a" is missing`, `error validating claims: claim "b" is missing`}, what: "Several bound claims fail"},
		{name: "a missing and a wrong bound claim", role: map[string]any{"bound_claims": map[string]any{"team": "x", "department": "ops"}},
			want: []string{`error validating claims: claim "department" does not match any associated bound claim values`, `error validating claims: claim "team" is missing`}, what: "Several bound claims fail"},
		{name: "one failing bound claim", role: map[string]any{"bound_claims": map[string]any{"team": "x", "department": "eng"}},
			want: []string{`error validating claims: claim "team" is missing`}},
		{name: "two claim_mappings sources not strings", role: map[string]any{"claim_mappings": map[string]any{"n2": "m2", "n1": "m1", "email": "e"}},
			want: []string{"error converting claim 'n1' to string", "error converting claim 'n2' to string"}, what: "Several claim_mappings sources are not strings"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			role, err := VaultRoleFromMap(overlay(baseRole(), tc.role))
			if err != nil {
				t.Fatal(err)
			}
			v, err := EvaluateVault(bg, tok, role, cfg, nil, VaultOptions{Now: testNow})
			if err != nil {
				t.Fatal(err)
			}
			f := v.Findings[0]
			if v.Accepted || v.Message != tc.want[0] || f.VaultMessage != tc.want[0] {
				t.Fatalf("message %q (finding %q), want %q", v.Message, f.VaultMessage, tc.want[0])
			}
			if len(tc.want) == 1 {
				if v.Messages != nil || f.VaultMessages != nil || strings.Contains(f.Message, "one of") {
					t.Errorf("a single failure lists messages: %v %v %q", v.Messages, f.VaultMessages, f.Message)
				}
				return
			}
			if !slices.Equal(v.Messages, tc.want) || !slices.Equal(f.VaultMessages, tc.want) {
				t.Errorf("messages %q / %q, want %q", v.Messages, f.VaultMessages, tc.want)
			}
			quoted := make([]string, len(tc.want))
			for i, m := range tc.want {
				quoted[i] = strconv.Quote(m)
			}
			if suffix := ". " + tc.what + ", and Vault names the first one it meets in Go's random map order, so Vault names one of: " + strings.Join(quoted, ", "); !strings.HasSuffix(f.Message, suffix) {
				t.Errorf("finding message %q\nwant suffix %q", f.Message, suffix)
			}
		})
	}
}

func TestEvaluateVaultOIDC(t *testing.T) {
	k := testKeys(t)
	jwks := mustKeySet(t, jwksJSON(t, jwkOf(t, &k.rsaA.PublicKey, map[string]any{"kid": "a", "alg": "RS256"})))
	oidcRole := map[string]any{"role_type": "oidc", "user_claim": "preferred_username", "groups_claim": "/resource_access/vault-dev/roles",
		"allowed_redirect_uris": []any{"http://localhost:8250/oidc/callback"}, "token_policies": []any{"default"}}
	flowConfig := map[string]any{"oidc_discovery_url": testIssuer, "oidc_client_id": "vault-dev", "default_role": "default"}
	id := func(c map[string]any) string { return signJWT(t, "RS256", k.rsaA, map[string]any{"kid": "a"}, c) }
	access := signJWT(t, "RS256", k.rsaA, map[string]any{"kid": "a"}, kcAccessClaims())
	response := func(idTok string) string {
		b, _ := json.Marshal(map[string]string{"access_token": access, "id_token": idTok})
		return string(b)
	}
	exchange := func(inner string) string {
		return "Vault login failed. Error exchanging oidc code: " + strconv.Quote("Provider.Exchange: id_token failed verification: Provider.VerifyIDToken: "+inner) + "."
	}
	now := testNow.Unix()
	tests := []struct {
		name    string
		input   string
		pick    Pick
		role    map[string]any
		config  map[string]any
		want    string
		step    VaultStep
		alias   string
		groups  []string
		hintIDs []string
	}{
		{name: "ID token with roles in it", input: id(with(kcIDClaims(), "resource_access", map[string]any{"vault-dev": map[string]any{"roles": []any{"secret_manager"}}})),
			alias: "alice", groups: []string{"secret_manager"}},
		{name: "access token is never read", input: access, step: VaultStepTokenKind, hintIDs: nil},
		{name: "roles only in the access token of the response", input: response(id(kcIDClaims())),
			want: `failed to fetch groups: "/resource_access/vault-dev/roles" claim not found in token`, step: VaultStepGroupsClaim, hintIDs: []string{FindingKeycloakRolesOnlyInAccess}},
		{name: "access token picked from a response is swapped for the ID token", input: response(id(kcIDClaims())), pick: PickAccessToken,
			want: `failed to fetch groups: "/resource_access/vault-dev/roles" claim not found in token`, step: VaultStepGroupsClaim, hintIDs: []string{FindingVaultOIDCAccessToken}},
		{name: "expired ID token gets no leeway", input: id(with(kcIDClaims(), "exp", now-10)), role: map[string]any{"groups_claim": nil},
			want: exchange("invalid id_token: oidc: token is expired (Token Expiry: " + time.Unix(now-10, 0).UTC().String() + "): token is expired"), step: VaultStepIDToken},
		{name: "issuer differs from the discovery URL", input: id(with(kcIDClaims(), "iss", testIssuer+"/")), role: map[string]any{"groups_claim": nil},
			want: exchange(`invalid id_token: oidc: id token issued by a different provider, expected "` + testIssuer + `" got "` + testIssuer + `/": invalid issuer`), step: VaultStepIDToken},
		{name: "PS256 needs jwt_supported_algs", input: signJWT(t, "PS256", k.rsaA, map[string]any{"kid": "a"}, kcIDClaims()), role: map[string]any{"groups_claim": nil},
			want: exchange(`invalid id_token: oidc: malformed jwt: go-jose/go-jose: unexpected signature algorithm "PS256"; expected ["RS256"]: unsupported signing algorithm`), step: VaultStepIDToken},
		{name: "azp is not the mount's client", input: id(with(kcIDClaims(), "azp", "other", "aud", "vault-dev")), role: map[string]any{"groups_claim": nil},
			want: exchange("invalid id_token: authorized party (other) is not equal client_id (vault-dev): invalid authorized party (azp)"), step: VaultStepIDToken},
		{name: "single audience that is not the client and no azp", input: id(with(kcIDClaims(), "azp", deleteClaim, "aud", "other")), role: map[string]any{"groups_claim": nil},
			want: exchange("invalid id_token: one audience (other) which is not the client_id (vault-dev) and authorized party (%!s(<nil>)) is not equal client_id (vault-dev): invalid authorized party (azp)"), step: VaultStepIDToken},
		{name: "bound_audiences on an oidc role", input: id(kcIDClaims()), role: map[string]any{"groups_claim": nil, "bound_audiences": []any{"vault"}},
			want: exchange("invalid id_token audiences: verifyAudiences: invalid id_token audiences: invalid audience"), step: VaultStepIDToken},
		{name: "bound_subject answers 500", input: id(kcIDClaims()), role: map[string]any{"groups_claim": nil, "bound_subject": "x"}, want: "sub claim does not match bound subject", step: VaultStepSubject},
		{name: "oidc role on a mount without the browser flow", input: id(kcIDClaims()), config: map[string]any{"oidc_client_id": nil}, want: "OIDC login is not configured for this mount", step: VaultStepOIDCConfig},
		{name: "signed by another key", input: signJWT(t, "RS256", k.rsaB, map[string]any{"kid": "a"}, kcIDClaims()), role: map[string]any{"groups_claim": nil},
			want: exchange("invalid id_token: failed to verify signature: failed to verify id token signature: invalid signature"), step: VaultStepIDToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := ParseInput([]byte(tc.input), tc.pick)
			if err != nil {
				t.Fatal(err)
			}
			role, err := VaultRoleFromMap(overlay(oidcRole, tc.role))
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := VaultConfigFromMap(overlay(flowConfig, tc.config))
			if err != nil {
				t.Fatal(err)
			}
			v, err := EvaluateVault(bg, tok, role, cfg, jwks, VaultOptions{Now: testNow, RoleName: "default", Mount: "oidc"})
			if err != nil {
				t.Fatal(err)
			}
			if v.Login != VaultLoginOIDC {
				t.Errorf("login %q", v.Login)
			}
			if tc.step == VaultStepTokenKind {
				if v.Accepted || v.Step != VaultStepTokenKind || v.Message != "" || v.Findings[0].ID != FindingVaultOIDCAccessToken || !strings.Contains(v.Findings[0].Message, "never the access token") {
					t.Fatalf("verdict %+v", v)
				}
				return
			}
			if tc.want == "" {
				if !v.Accepted || v.Alias != tc.alias || !slices.Equal(v.GroupAliases, tc.groups) {
					t.Fatalf("verdict %+v", v)
				}
				if hasFinding(v.Findings, FindingVaultOIDCNotes) == nil {
					t.Errorf("no OIDC notes: %v", findingIDs(v.Findings))
				}
				return
			}
			if v.Accepted || v.Message != tc.want || v.Step != tc.step {
				t.Fatalf("got step %q message\n%q\nwant %q\n%q", v.Step, v.Message, tc.step, tc.want)
			}
			if tc.step == VaultStepSubject && v.HTTPStatus != 500 {
				t.Errorf("status %d, want 500", v.HTTPStatus)
			}
			for _, id := range tc.hintIDs {
				if hasFinding(v.Findings, id) == nil {
					t.Errorf("missing %s in %v", id, findingIDs(v.Findings))
				}
			}
		})
	}
}

func TestParseVaultRoleFile(t *testing.T) {
	envelope := `{"request_id":"8c1f","lease_id":"","renewable":false,"lease_duration":0,"data":{
		"role_type":"jwt","user_claim":"sub","bound_audiences":["vault"],"groups_claim":"/resource_access/vault/roles",
		"bound_claims":{"/realm_access/roles":["a","b"],"level":3},"bound_claims_type":"string","claim_mappings":{"email":"email"},
		"clock_skew_leeway":0,"expiration_leeway":150,"not_before_leeway":150,"token_policies":["reader"],"token_bound_cidrs":[],
		"user_claim_json_pointer":false,"max_age":0,"oidc_scopes":null,"allowed_redirect_uris":[]},"wrap_info":null,"warnings":null,"auth":null}`
	r, err := ParseVaultRoleFile([]byte(envelope))
	if err != nil {
		t.Fatal(err)
	}
	if r.RoleType != "jwt" || r.UserClaim != "sub" || r.GroupsClaim != "/resource_access/vault/roles" || !slices.Equal(r.BoundAudiences, []string{"vault"}) ||
		r.ExpirationLeeway != 150*time.Second || r.ClaimMappings["email"] != "email" || !slices.Equal(r.TokenPolicies, []string{"reader"}) {
		t.Errorf("role %+v", r)
	}
	if r.BoundClaims["level"] != json.Number("3") {
		t.Errorf("bound claim numbers must be json.Number: %#v", r.BoundClaims["level"])
	}
	bare, err := ParseVaultRoleFile([]byte(`{"user_claim":"email","bound_audiences":"vault, other","clock_skew_leeway":"2m","data":"x"}`))
	if err == nil {
		t.Errorf("a bare role with a non-object data field parsed: %+v", bare)
	}
	bare, err = ParseVaultRoleFile([]byte(`{"user_claim":"email","bound_audiences":"vault, other","clock_skew_leeway":"2m"}`))
	if err != nil {
		t.Fatal(err)
	}
	if !bare.RoleTypeDefaulted || bare.RoleType != "oidc" || !slices.Equal(bare.BoundAudiences, []string{"vault", "other"}) || bare.ClockSkewLeeway != 2*time.Minute || bare.BoundClaimsType != "string" {
		t.Errorf("bare role %+v", bare)
	}
	for _, bad := range []string{
		``, `[]`, `{"data":null}`, `{"role_type":"jwt"}`, `{"user_claim":5}`, `{"user_claim":"sub","role_type":"saml"}`,
		`{"user_claim":"sub","bound_claims_type":"regex"}`, `{"user_claim":"sub","bound_audiences":[1]}`,
		`{"user_claim":"sub","claim_mappings":{"a":"role"}}`, `{"user_claim":"sub","claim_mappings":{"a":"x","b":"x"}}`,
		`{"user_claim":"sub","clock_skew_leeway":"soon"}`, `{"user_claim":"sub","bound_claims":[1]}`,
	} {
		if _, err := ParseVaultRoleFile([]byte(bad)); err == nil || !isBadInput(err) {
			t.Errorf("ParseVaultRoleFile(%s): err = %v, want BadInput", bad, err)
		}
	}
}

func TestVaultConfigFromMap(t *testing.T) {
	cfg, err := ParseVaultConfigFile([]byte(`{"data":{"bound_issuer":"","default_role":"Default","jwks_ca_pem":"","jwks_url":"","jwt_supported_algs":[],
		"jwt_validation_pubkeys":[],"oidc_client_id":"vault","oidc_discovery_url":"http://kc/realms/demo","namespace_in_state":true}}`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AuthType() != VaultAuthOIDCFlow || !cfg.OIDCClientSecretSet || cfg.DefaultRole != "default" {
		t.Errorf("config %+v type %s", cfg, cfg.AuthType())
	}
	for m, want := range map[string]VaultAuthType{
		`{"jwt_validation_pubkeys":["x"],"jwks_url":"u"}`:     VaultAuthStaticKeys,
		`{"jwks_url":"u","oidc_discovery_url":"d"}`:           VaultAuthJWKS,
		`{"jwks_pairs":[{}]}`:                                 VaultAuthMultiJWKS,
		`{"oidc_discovery_url":"d"}`:                          VaultAuthOIDCDiscovery,
		`{"oidc_discovery_url":"d","oidc_client_secret":"s"}`: VaultAuthOIDCDiscovery,
		`{}`: VaultAuthUnconfigured,
	} {
		c, err := ParseVaultConfigFile([]byte(m))
		if err != nil || c.AuthType() != want {
			t.Errorf("%s: %v %v, want %s", m, c, err, want)
		}
	}
}

// evaluate builds the case's token, role, config and keys and runs the
// model on them.
func (tc vaultCase) evaluate(t *testing.T, k *testKeySet, jwks KeySource) (*Token, VaultVerdict, error) {
	t.Helper()
	claims := tc.claims
	if claims == nil {
		claims = kcAccessClaims()
	}
	alg := tc.alg
	if alg == "" {
		alg = "RS256"
	}
	signer := tc.signer
	if signer == nil && alg != "none" {
		signer = k.rsaA
	}
	hdr := map[string]any{"kid": "a"}
	maps.Copy(hdr, tc.hdr)
	tok := mustParse(t, signJWT(t, alg, signer, hdr, claims))
	role, err := VaultRoleFromMap(overlay(baseRole(), tc.role))
	if err != nil {
		return nil, VaultVerdict{}, fmt.Errorf("role: %w", err)
	}
	cfgMap := overlay(baseConfig(t), tc.config)
	var keys KeySource
	if tc.jwks {
		delete(cfgMap, "jwt_validation_pubkeys")
		if _, disc := cfgMap["oidc_discovery_url"]; !disc {
			cfgMap["jwks_url"] = "http://127.0.0.1:8080/realms/demo/protocol/openid-connect/certs"
		}
		keys = jwks
	}
	cfg, err := VaultConfigFromMap(cfgMap)
	if err != nil {
		return nil, VaultVerdict{}, fmt.Errorf("config: %w", err)
	}
	v, err := EvaluateVault(bg, tok, role, cfg, keys, VaultOptions{Now: testNow, Login: tc.login, RoleName: "dev", Mount: "jwt"})
	if err != nil {
		return nil, VaultVerdict{}, fmt.Errorf("EvaluateVault: %w", err)
	}
	return tok, v, nil
}
