package inspect

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestCheckTimes(t *testing.T) {
	now := testNow
	n := func(d time.Duration) json.Number { return json.Number(itoa(now.Add(d).Unix())) }
	tests := []struct {
		name   string
		claims map[string]any
		leeway time.Duration
		want   []string
	}{
		{"valid", map[string]any{"exp": n(5 * time.Minute), "iat": n(-time.Minute)}, 0, nil},
		{"expired beyond default leeway", map[string]any{"exp": n(-61 * time.Second), "iat": n(-time.Hour)}, 0, []string{FindingExpired}},
		{"expired within default leeway", map[string]any{"exp": n(-59 * time.Second)}, 0, nil},
		{"expired exactly at leeway is still valid", map[string]any{"exp": n(-60 * time.Second)}, 0, nil},
		{"expired within custom leeway", map[string]any{"exp": n(-4 * time.Minute)}, 5 * time.Minute, nil},
		{"no leeway when negative", map[string]any{"exp": n(-time.Second)}, -1, []string{FindingExpired}},
		{"nbf beyond leeway", map[string]any{"exp": n(time.Hour), "nbf": n(2 * time.Minute)}, 0, []string{FindingNotYetValid}},
		{"nbf within leeway", map[string]any{"exp": n(time.Hour), "nbf": n(30 * time.Second)}, 0, nil},
		{"iat in the future", map[string]any{"exp": n(time.Hour), "iat": n(10 * time.Minute)}, 0, []string{FindingIssuedInFuture}},
		{"iat slightly ahead", map[string]any{"exp": n(time.Hour), "iat": n(20 * time.Second)}, 0, nil},
		{"fractional exp", map[string]any{"exp": json.Number(itoa(now.Unix()-61) + ".9")}, 0, []string{FindingExpired}},
		{"no exp", map[string]any{"iat": n(0)}, 0, []string{FindingNoExpiry}},
		{"exp is a string", map[string]any{"exp": "tomorrow"}, 0, []string{FindingTimeClaimType}},
		{"float64 values work too", map[string]any{"exp": float64(now.Unix() - 3600)}, 0, []string{FindingExpired}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := CheckTimes(tc.claims, now, tc.leeway)
			if got := findingIDs(fs); !slices.Equal(got, tc.want) {
				t.Errorf("findings %v, want %v (%+v)", got, tc.want, fs)
			}
			for _, f := range fs {
				if f.Fix == "" || f.Message == "" {
					t.Errorf("finding without message or fix: %+v", f)
				}
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestCheckAudience(t *testing.T) {
	tests := []struct {
		name   string
		aud    any
		want   []string
		ok     bool
		substr string
	}{
		{"string match", "vault", []string{"vault"}, true, ""},
		{"array match", []any{"account", "vault"}, []string{"vault"}, true, ""},
		{"any expected value matches", []any{"b"}, []string{"a", "b"}, true, ""},
		{"string mismatch names azp", "account", []string{"vault"}, false, `azp (the client the token was issued to) is "vault-dev"`},
		{"case matters", "Vault", []string{"vault"}, false, `aud is ["Vault"]`},
		{"array mismatch", []any{"account", "broker"}, []string{"vault"}, false, `["account", "broker"]`},
		{"missing aud", nil, []string{"vault"}, false, "no aud claim"},
		{"aud of wrong type", json.Number("5"), []string{"vault"}, false, "must be a string or a list of strings"},
		{"array with a number", []any{"vault", json.Number("1")}, []string{"vault"}, false, "must be a string"},
	}
	for _, tc := range tests {
		claims := map[string]any{"azp": "vault-dev"}
		if tc.aud != nil {
			claims["aud"] = tc.aud
		}
		fs := CheckAudience(claims, tc.want)
		if tc.ok != (len(fs) == 0) {
			t.Errorf("%s: findings %+v, ok want %v", tc.name, fs, tc.ok)
			continue
		}
		if !tc.ok && (fs[0].ID != FindingAudience || !strings.Contains(fs[0].Message, tc.substr)) {
			t.Errorf("%s: %+v, want message ~%q", tc.name, fs[0], tc.substr)
		}
		if !tc.ok && tc.name == "string mismatch names azp" && !strings.Contains(fs[0].Fix, "`- audience: vault` to client vault-dev's mappers in sso.yaml") {
			t.Errorf("fix does not name the mapper line: %q", fs[0].Fix)
		}
	}
}

func TestCheckIssuer(t *testing.T) {
	tests := []struct {
		iss, want, substr string
	}{
		{testIssuer, testIssuer, ""},
		{testIssuer + "/", testIssuer, "trailing slash"},
		{testIssuer, testIssuer + "/", "trailing slash"},
		{"https://kc.example.com/realms/demo", "http://kc.example.com/realms/demo", "http vs https"},
		{"http://kc/auth/realms/demo", "http://kc/realms/demo", "legacy /auth"},
		{"http://KC/realms/demo", "http://kc/realms/demo", "letter case"},
	}
	for _, tc := range tests {
		fs := CheckIssuer(map[string]any{"iss": tc.iss}, tc.want)
		if tc.substr == "" {
			if len(fs) != 0 {
				t.Errorf("%q vs %q: %+v", tc.iss, tc.want, fs)
			}
			continue
		}
		if len(fs) != 1 || fs[0].ID != FindingIssuer || !strings.Contains(fs[0].Message, tc.substr) {
			t.Errorf("%q vs %q: %+v, want ~%q", tc.iss, tc.want, fs, tc.substr)
		}
	}
	if fs := CheckIssuer(map[string]any{}, testIssuer); len(fs) != 1 {
		t.Errorf("missing iss: %+v", fs)
	}
}

func TestCheckClaimsKeycloakTraps(t *testing.T) {
	k := testKeys(t)
	access := signJWT(t, "RS256", k.rsaA, nil, with(kcAccessClaims(), "aud", "account", "groups", []any{"/admins", "/team/dev"}))
	id := signJWT(t, "RS256", k.rsaA, nil, kcIDClaims())
	resp, _ := json.Marshal(map[string]string{"access_token": access, "id_token": id})

	t.Run("access token aud only account", func(t *testing.T) {
		tok := mustParse(t, access)
		fs := CheckClaims(tok, CheckOptions{Now: testNow})
		f := hasFinding(fs, FindingKeycloakAudAccount)
		if f == nil || !strings.Contains(f.Fix, "`- audience: vault-dev` to client vault-dev's mappers in sso.yaml") {
			t.Fatalf("want %s naming the mapper line, got %+v", FindingKeycloakAudAccount, fs)
		}
		g := hasFinding(fs, FindingKeycloakGroupFullPath)
		if g == nil || !strings.Contains(g.Fix, "full_path: false") {
			t.Errorf("want %s with full_path: false, got %+v", FindingKeycloakGroupFullPath, fs)
		}
	})
	t.Run("aud with the client is fine", func(t *testing.T) {
		tok := mustParse(t, signJWT(t, "RS256", k.rsaA, nil, kcAccessClaims()))
		if f := hasFinding(CheckClaims(tok, CheckOptions{Now: testNow}), FindingKeycloakAudAccount); f != nil {
			t.Errorf("unexpected %+v", f)
		}
	})
	t.Run("roles only in the access token of a response", func(t *testing.T) {
		tok, err := ParseInput(resp, PickDefault)
		if err != nil {
			t.Fatal(err)
		}
		fs := CheckClaims(tok, CheckOptions{Now: testNow})
		var clientRoles *Finding
		for i := range fs {
			if fs[i].ID == FindingKeycloakRolesOnlyInAccess && strings.Contains(fs[i].Message, "vault-dev") {
				clientRoles = &fs[i]
			}
		}
		if clientRoles == nil || !strings.Contains(clientRoles.Fix, "client_roles: {client: vault-dev") || !strings.Contains(clientRoles.Fix, "id_token: true") {
			t.Fatalf("want roles-only finding for vault-dev with the mapper fix, got %+v", fs)
		}
		for _, f := range fs {
			if f.ID == FindingKeycloakRolesOnlyInAccess && strings.Contains(f.Message, `"account"`) {
				t.Errorf("the account client's roles should not be reported: %+v", f)
			}
		}
	})
	t.Run("pointer under resource_access missing from an ID token", func(t *testing.T) {
		tok := mustParse(t, id)
		a, _ := ParseClaimAssertion("/resource_access/vault-dev/roles=secret_manager")
		fs := CheckClaims(tok, CheckOptions{Now: testNow, Claims: []ClaimAssertion{a}})
		if hasFinding(fs, FindingClaimMissing) == nil {
			t.Fatalf("want claim.missing, got %v", findingIDs(fs))
		}
		f := hasFinding(fs, FindingKeycloakRolesOnlyInAccess)
		if f == nil || !strings.Contains(f.Message, "access token only") {
			t.Errorf("want the ID-token roles hint, got %+v", fs)
		}
	})
	t.Run("groups claim missing", func(t *testing.T) {
		tok := mustParse(t, signJWT(t, "RS256", k.rsaA, nil, with(kcAccessClaims(), "groups", deleteClaim)))
		a, _ := ParseClaimAssertion("/groups")
		fs := CheckClaims(tok, CheckOptions{Now: testNow, Claims: []ClaimAssertion{a}})
		f := hasFinding(fs, FindingKeycloakGroupsMissing)
		if f == nil || !strings.Contains(f.Message, "empty") {
			t.Errorf("want %s, got %+v", FindingKeycloakGroupsMissing, fs)
		}
	})
	t.Run("refresh token", func(t *testing.T) {
		tok := mustParse(t, signJWT(t, "RS256", k.rsaA, nil, with(kcAccessClaims(), "typ", "Refresh")))
		if hasFinding(CheckClaims(tok, CheckOptions{Now: testNow}), FindingRefreshToken) == nil {
			t.Error("want token.refresh")
		}
	})
}

func TestRealmRolesCopiedIntoIDTokenAreNotATrap(t *testing.T) {
	roles := []any{"offline_access", "auditor"}
	id := &Token{Kind: KindID, Claims: map[string]any{"realm_roles": []any{"auditor", "offline_access"}}}
	access := &Token{Kind: KindAccess, Claims: map[string]any{"realm_access": map[string]any{"roles": roles}}}
	id.Companion = access
	for _, f := range rolesOnlyInAccessFindings(id) {
		if strings.Contains(f.Message, "realm roles") {
			t.Fatalf("the ID token carries the realm roles as realm_roles, yet: %s", f.Message)
		}
	}
	id.Claims = map[string]any{}
	found := false
	for _, f := range rolesOnlyInAccessFindings(id) {
		found = found || strings.Contains(f.Message, "realm roles")
	}
	if !found {
		t.Fatal("realm roles only in the access token must be reported")
	}
}
