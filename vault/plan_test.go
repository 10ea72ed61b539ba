package vault

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ssoctl/ssoctl/spec"
)

func TestRoleBodyAlwaysSendsRoleTypeAndClaimsType(t *testing.T) {
	body, err := roleBody(spec.Role{RoleType: "jwt", UserClaim: "sub", BoundAudiences: []string{"vault"}, BoundClaimsType: "string", TokenTTL: "1h", ClockSkewLeeway: "90"})
	if err != nil {
		t.Fatal(err)
	}
	if body["role_type"] != "jwt" || body["bound_claims_type"] != "string" {
		t.Fatalf("body = %v", body)
	}
	if body["token_ttl"] != int64(3600) || body["clock_skew_leeway"] != int64(90) {
		t.Fatalf("durations: %v %v", body["token_ttl"], body["clock_skew_leeway"])
	}
	// Cleared fields are sent empty so that Vault's merge-on-write clears them.
	if body["groups_claim"] != "" || len(body["oidc_scopes"].([]string)) != 0 {
		t.Fatalf("unset fields must be sent empty: %v", body)
	}
	if _, err := roleBody(spec.Role{TokenTTL: "soon"}); err == nil {
		t.Fatal("a bad duration must fail")
	}
}

// What Vault returns for a role must compare equal to what the file asks,
// or a no-op would not stay a no-op.
func TestNormalizeMatchesVaultRead(t *testing.T) {
	want, _ := roleBody(spec.Role{RoleType: "jwt", UserClaim: "sub", BoundAudiences: []string{"b", "a"}, BoundClaimsType: "string",
		BoundClaims: map[string]any{"/groups": []any{"x", "y"}}, ClaimMappings: map[string]string{"email": "email"}, TokenTTL: "1h", Policies: []string{"reader"}})
	vaultRead := `{"allowed_redirect_uris":null,"bound_audiences":["a","b"],"bound_claims":{"/groups":["x","y"]},"bound_claims_type":"string",
	"bound_subject":"","claim_mappings":{"email":"email"},"clock_skew_leeway":0,"expiration_leeway":0,"groups_claim":"","max_age":0,
	"not_before_leeway":0,"oidc_scopes":null,"role_type":"jwt","token_max_ttl":0,"token_policies":["reader"],"token_ttl":3600,
	"user_claim":"sub","user_claim_json_pointer":false,"verbose_oidc_logging":false}`
	dec := json.NewDecoder(strings.NewReader(vaultRead))
	dec.UseNumber()
	var have map[string]any
	if err := dec.Decode(&have); err != nil {
		t.Fatal(err)
	}
	for k, v := range want {
		if !equalUnordered(k, normalize(have[k]), normalize(v)) {
			t.Errorf("%s: Vault has %v, file wants %v: would be a spurious update", k, have[k], v)
		}
	}
	if equalUnordered("token_ttl", normalize(have["token_ttl"]), normalize(int64(60))) {
		t.Error("a real difference compared equal")
	}
}
