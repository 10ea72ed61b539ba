package inspect

import (
	"encoding/json"
	"reflect"
	"testing"
)

// A role read from a server and the same role saved by `vault read -format=json` become the
// same model: the file goes through the server path's conversion.
func TestVaultRoleFromServerIsTheFileConversion(t *testing.T) {
	data := map[string]any{"role_type": "jwt", "user_claim": "sub", "bound_audiences": []any{"vault"},
		"groups_claim": "/resource_access/vault/roles", "bound_claims": map[string]any{"dept": "ops"}, "clock_skew_leeway": json.Number("30")}
	live, err := VaultRoleFromServer("dev", data)
	if err != nil {
		t.Fatal(err)
	}
	withName := map[string]any{"name": "dev"}
	for k, v := range data {
		withName[k] = v
	}
	b, err := json.Marshal(map[string]any{"request_id": "x", "data": withName})
	if err != nil {
		t.Fatal(err)
	}
	file, err := ParseVaultRoleFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(live, file) {
		t.Errorf("server role %+v\nfile role   %+v", live, file)
	}
	if c, err := VaultConfigFromServer(nil); c != nil || err != nil {
		t.Errorf("no config: %v, %v", c, err)
	}
}

// VaultAudience is the rule EvaluateVault stops at, for both logins.
func TestVaultAudienceRule(t *testing.T) {
	for _, tt := range []struct {
		login   VaultLogin
		bound   []string
		aud     []string
		present bool
		want    VaultStep
	}{
		{VaultLoginJWT, []string{"vault"}, []string{"account", "vault"}, true, ""},
		{VaultLoginJWT, []string{"Vault"}, []string{"vault"}, true, VaultStepAudience},
		{VaultLoginJWT, nil, []string{"account"}, true, VaultStepAudienceUnbound},
		{VaultLoginJWT, nil, []string{""}, false, ""},
		{VaultLoginJWT, nil, nil, false, ""},
		{VaultLoginOIDC, nil, []string{"vault"}, true, ""},
		{VaultLoginOIDC, []string{"other"}, []string{"vault"}, true, VaultStepIDToken},
	} {
		step, msg := VaultAudience(tt.login, tt.bound, tt.aud, tt.present)
		if step != tt.want || (step == "") != (msg == "") {
			t.Errorf("%s %v against %v: %q %q, want step %q", tt.login, tt.bound, tt.aud, step, msg, tt.want)
		}
	}
}
