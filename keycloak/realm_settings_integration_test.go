//go:build integration

package keycloak_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
)

// newSetHarness is newHarness with a realm named hset-… (this helper's
// prefix on the shared testbed).
func newSetHarness(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t)
	h.realm = fmt.Sprintf("hset-%s-%d", strings.ToLower(strings.TrimPrefix(t.Name(), "TestIntegration")), time.Now().UnixNano()%1e6)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := h.env.DeleteRealm(ctx, h.realm); err != nil {
			t.Errorf("deleting realm %s: %v", h.realm, err)
		}
	})
	return h
}

// realmJSON reads the realm's representation, or one admin path below it.
func (h *harness) realmJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	var out map[string]any
	if err := h.env.KeycloakAdminRequest(context.Background(), http.MethodGet, "/"+h.realm+path, nil, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func (h *harness) requiredActions(t *testing.T) map[string]map[string]any {
	t.Helper()
	var list []map[string]any
	if err := h.env.KeycloakAdminRequest(context.Background(), http.MethodGet, "/"+h.realm+"/authentication/required-actions", nil, &list); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	for _, ra := range list {
		out[ra["alias"].(string)] = ra
	}
	return out
}

func parseKeycloak(t *testing.T, realm, yaml string) *spec.Keycloak {
	t.Helper()
	f, err := spec.Parse("sso.yaml", []byte(yaml), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	f.Keycloak.Realm = realm
	return f.Keycloak
}

// reapplyWritesNothing plans and applies k again and fails on any write.
func (h *harness) reapplyWritesNothing(t *testing.T, ctx context.Context, k *spec.Keycloak) {
	t.Helper()
	h.cnt.writes.Store(0)
	h.cnt.reads.Store(0)
	p, err := h.apply(t, ctx, k, false)
	if err != nil {
		t.Fatal(err)
	}
	if p.HasChanges() {
		var b strings.Builder
		p.WriteText(&b, plan.RenderOptions{})
		t.Errorf("second plan has changes:\n%s", b.String())
	}
	if n := h.cnt.writes.Load(); n != 0 {
		t.Errorf("second apply made %d writes (%v), want 0", n, h.cnt.writeTargets)
	}
}

func TestIntegrationRealmRequiredActionsOTPBruteForce(t *testing.T) {
	h := newSetHarness(t)
	ctx := context.Background()
	k := parseKeycloak(t, h.realm, `
keycloak:
  url: http://unused
  realm: x
  create_realm: true
  settings:
    brute_force: {enabled: true, permanent_lockout: false, max_failures: 5, wait_increment: 1m, max_wait: 15m,
                  failure_reset: 12h, quick_login_check: 2s, quick_login_wait: 2m, max_temporary_lockouts: 3}
    otp_policy: {type: totp, algorithm: HmacSHA256, digits: 8, period: 45, look_ahead_window: 2, code_reusable: true}
  required_actions:
    - {alias: CONFIGURE_TOTP, default: true}
    - {alias: TERMS_AND_CONDITIONS}
    - {alias: UPDATE_PASSWORD, config: {max_auth_age: "120"}}
    - {alias: VERIFY_PROFILE, enabled: false}
`)
	if _, err := h.apply(t, ctx, k, false); err != nil {
		t.Fatal(err)
	}
	r := h.realmJSON(t, "")
	want := map[string]any{"bruteForceProtected": true, "permanentLockout": false, "failureFactor": 5.0, "waitIncrementSeconds": 60.0,
		"maxFailureWaitSeconds": 900.0, "maxDeltaTimeSeconds": 43200.0, "quickLoginCheckMilliSeconds": 2000.0,
		"minimumQuickLoginWaitSeconds": 120.0, "maxTemporaryLockouts": 3.0,
		"otpPolicyType": "totp", "otpPolicyAlgorithm": "HmacSHA256", "otpPolicyDigits": 8.0, "otpPolicyPeriod": 45.0,
		"otpPolicyLookAheadWindow": 2.0, "otpPolicyCodeReusable": true}
	for f, v := range want {
		if r[f] != v {
			t.Errorf("realm %s = %v, want %v", f, r[f], v)
		}
	}
	ras := h.requiredActions(t)
	check := func(alias string, enabled, def bool) {
		ra := ras[alias]
		if ra == nil {
			t.Errorf("required action %s missing", alias)
			return
		}
		if ra["enabled"] != enabled || ra["defaultAction"] != def {
			t.Errorf("required action %s: enabled %v default %v, want %v %v", alias, ra["enabled"], ra["defaultAction"], enabled, def)
		}
	}
	check("CONFIGURE_TOTP", true, true)
	check("TERMS_AND_CONDITIONS", true, false)
	check("UPDATE_PASSWORD", true, false)
	check("VERIFY_PROFILE", false, false)
	check("UPDATE_PROFILE", true, false) // not listed: left alone
	if cfg, _ := ras["UPDATE_PASSWORD"]["config"].(map[string]any); cfg["max_auth_age"] != "120" {
		t.Errorf("UPDATE_PASSWORD config = %v, want max_auth_age 120", ras["UPDATE_PASSWORD"]["config"])
	}
	if ras["CONFIGURE_TOTP"]["name"] != "Configure OTP" || ras["CONFIGURE_TOTP"]["priority"] == 0.0 {
		t.Errorf("CONFIGURE_TOTP lost its name or priority: %v", ras["CONFIGURE_TOTP"])
	}
	h.reapplyWritesNothing(t, ctx, k)

	// An action deleted from the realm is registered again.
	if err := h.env.KeycloakAdminRequest(ctx, http.MethodDelete, "/"+h.realm+"/authentication/required-actions/TERMS_AND_CONDITIONS", nil, nil); err != nil {
		t.Fatal(err)
	}
	p, err := h.apply(t, ctx, k, false)
	if err != nil {
		t.Fatal(err)
	}
	if s := p.Summary(); s.Create != 1 {
		t.Errorf("after the deletion: %+v, want 1 create (the registration)", s)
	}
	check = func(alias string, enabled, def bool) {
		ra := h.requiredActions(t)[alias]
		if ra == nil || ra["enabled"] != enabled || ra["defaultAction"] != def {
			t.Errorf("required action %s = %v, want enabled %v default %v", alias, ra, enabled, def)
		}
	}
	check("TERMS_AND_CONDITIONS", true, false)
	h.reapplyWritesNothing(t, ctx, k)

	// An alias the server does not offer: an input error naming the key
	// and what the server has.
	k.RequiredActions = append(k.RequiredActions, spec.RequiredAction{Alias: "NO_SUCH_ACTION"})
	_, err = h.admin.Plan(ctx, k, keycloak.PlanOptions{Getenv: getenv})
	var ie *keycloak.InputError
	if !errors.As(err, &ie) || ie.Key != "keycloak.required_actions[4].alias" || !strings.Contains(ie.Msg, "CONFIGURE_TOTP") {
		t.Fatalf("unknown alias: %v (%#v), want an InputError at keycloak.required_actions[4].alias listing the offered actions", err, ie)
	}
	t.Log(ie.Msg)
	_ = json.Marshal
	_ = slices.Contains[[]string]
}
