package inspect

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestTemplatePolicies(t *testing.T) {
	claims := map[string]any{"dept": "ops", "email": "U@Example.com", "iat": json.Number("1700000000"),
		"resource_access": map[string]any{"vault": map[string]any{"roles": []any{"secret_manager"}}}}
	for _, tt := range []struct {
		in          []string
		want        []string
		predictable bool
		err         string
	}{
		{[]string{"team-{{.dept}}", "team-{{.dept}}", "{{ .email | lowercase | replace \"@\" \"-at-\" }}"}, []string{"team-ops", "u-at-example.com"}, true, ""},
		{[]string{"{{ if eq .dept \"finance\" }}finance{{ end }}", "reader"}, []string{"reader"}, true, ""},
		{[]string{"iat-{{.iat}}", "{{ index .resource_access.vault.roles 0 }}"}, []string{"iat-1.7e+09", "secret_manager"}, true, ""},
		{[]string{"{{ .dept | truncate 2 }}", "{{ .email | truncate_sha256 9 }}", "{{ .dept | hex }}"}, []string{"6f7073", "U3136373a", "op"}, true, ""},
		{[]string{"t-{{ uuid }}"}, []string{"t-"}, false, ""},
		{[]string{"team-{{.team}}"}, nil, true, `failed to template policy [0]: unable to apply template: template: template:1:7: executing "template" at <.team>: map has no entry for key "team"`},
		{[]string{"a", "{{ .dept | shout }}"}, nil, true, `failed to parse template policy [1]: unable to parse template: template: template:1: function "shout" not defined`},
		{[]string{"{{ .dept | truncate 0 }}"}, nil, true, "max length must be > 0 but was 0"},
	} {
		got, predictable, err := templatePolicies(tt.in, claims)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: err %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) || predictable != tt.predictable {
			t.Errorf("%q: %q %v %v, want %q", tt.in, got, predictable, err, tt.want)
		}
	}
	if got := sanitizePolicies([]string{" B ", "a", "b", "", "A"}); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("sanitize: %q", got)
	}
}

func TestEvaluateVaultFlavors(t *testing.T) {
	k := testKeys(t)
	claims := kcAccessClaims()
	claims["preferred_username"] = "alice"
	tok := mustParse(t, signJWT(t, "RS256", k.rsaA, nil, claims))
	keys, err := KeySetFromPEMs([]string{publicPEM(t, &k.rsaA.PublicKey)})
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := VaultConfigFromMap(baseConfig(t))
	rm := baseRole()
	rm["token_policies_template_claims"] = true
	rm["token_policies"] = []any{"user-{{.preferred_username}}", "reader"}
	role, err := VaultRoleFromMap(rm)
	if err != nil || !role.TokenPoliciesTemplateClaims {
		t.Fatalf("role: %+v %v", role, err)
	}
	eval := func(flavor string, r *VaultRole) VaultVerdict {
		v, err := EvaluateVault(bg, tok, r, cfg, keys, VaultOptions{Now: testNow, Login: VaultLoginJWT, Flavor: flavor})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := eval(FlavorOpenBao, role); !v.Accepted || !slices.Equal(v.Policies, []string{"reader", "user-alice"}) {
		t.Errorf("openbao: %+v", v)
	}
	v := eval(FlavorVault, role)
	if !v.Accepted || !slices.Equal(v.Policies, []string{"reader", "user-{{.preferred_username}}"}) ||
		!slices.ContainsFunc(v.Findings, func(f Finding) bool { return f.ID == FindingVaultPolicyTemplate && f.Severity == SeverityWarning }) {
		t.Errorf("vault: %+v", v)
	}
	rm["token_policies"] = []any{"team-{{.team}}"}
	role, _ = VaultRoleFromMap(rm)
	if v := eval(FlavorOpenBao, role); v.Accepted || v.Step != VaultStepPolicyTemplate || v.HTTPStatus != 500 || !strings.Contains(v.Message, `map has no entry for key "team"`) {
		t.Errorf("missing claim: %+v", v)
	}
	rm["token_policies"] = []any{"{{ .team"}
	role, _ = VaultRoleFromMap(rm)
	if v := eval(FlavorOpenBao, role); v.Accepted || v.Step != VaultStepRole || !strings.HasPrefix(v.Message, "1 error occurred:\n\t* failed to parse template policy [0]") {
		t.Errorf("bad template: %+v", v)
	}
}
