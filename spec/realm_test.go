package spec

import (
	"fmt"
	"strings"
	"testing"
)

func TestRealmExampleParses(t *testing.T) {
	f, err := Load("../examples/realm.yaml", nil, env("KEYCLOAK_URL", "http://kc:8080"))
	if err != nil {
		t.Fatal(err)
	}
	k := f.Keycloak
	if k.Settings == nil || *k.Settings.Tokens.SSOSessionIdle != "30m" || *k.Settings.BruteForce.MaxFailures != 5 {
		t.Fatalf("settings = %+v", k.Settings)
	}
	if len(k.RequiredActions) != 2 || !*k.RequiredActions[0].Default {
		t.Fatalf("required actions = %+v", k.RequiredActions)
	}
	cond := k.Flows[0].Executions[1].Executions[1]
	if cond.Subflow != "browser-otp-conditional" || cond.Executions[1].Authenticator != "auth-otp-form" || cond.Executions[1].Requirement != "REQUIRED" {
		t.Fatalf("nested subflow = %+v", cond)
	}
	if k.Bindings.Browser != "browser-otp" {
		t.Fatalf("bindings = %+v", k.Bindings)
	}
}

func TestRealmValidation(t *testing.T) {
	cases := []struct {
		body, want string
		line       int
	}{
		{"settings:\n    tokens: {sso_session_idle: 30x}\n", "want a duration like 30s, 5m, 10h or 30d", 5},
		{"settings:\n    tokens: {sso_session_max: 30000000d}\n", "longer than Keycloak keeps", 5},
		{"settings:\n    tokens: {access_token_lifespan: 1.5s}\n", "whole number of seconds", 5},
		{"settings:\n    otp_policy: {digits: 7}\n", "want 6 or 8", 5},
		{"settings:\n    smtp: {host: m, from: a@b, user: u}\n", "needs password_env", 5},
		{"settings:\n    attributes: {ssoctl.owned: x}\n", "ssoctl's own records", 5},
		{"required_actions:\n    - {alias: CONFIGURE_TOTP}\n    - {alias: CONFIGURE_TOTP}\n", "listed twice", 6},
		{"flows:\n    - alias: browser\n      copy_of: browser\n", "built-in flows", 5},
		{"flows:\n    - alias: f\n      executions:\n        - {authenticator: auth-cookie, requirement: SOMETIMES}\n", "want one of REQUIRED", 7},
		{"flows:\n    - alias: f\n      executions:\n        - {authenticator: a, subflow: b}\n", "not both", 7},
		{"flows:\n    - alias: f\n      executions:\n        - subflow: f\n          executions: [{authenticator: a}]\n", "already taken", 7},
		{"flows:\n    - alias: f\n      executions:\n        - subflow: g\n          requirement: CONDITIONAL\n          executions: [{authenticator: auth-otp-form}]\n", "starts with its condition", 9},
		{"flows:\n    - alias: f\n", "needs executions", 5},
	}
	for _, c := range cases {
		src := "keycloak:\n  url: http://kc\n  realm: r\n  " + c.body
		_, err := Parse("sso.yaml", []byte(src), env())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err = %v, want %q", c.body, err, c.want)
			continue
		}
		if want := fmt.Sprintf("sso.yaml:%d:", c.line); !strings.Contains(err.Error(), want) {
			t.Errorf("%q: want %s in %v", c.body, want, err)
		}
	}
}

func TestSecondsParsesKeycloakDurations(t *testing.T) {
	for in, want := range map[string]int64{"30s": 30, "5m": 300, "10h": 36000, "30d": 2592000, "90": 90, "1h30m": 5400} {
		if got, err := Seconds(in); err != nil || got != want {
			t.Errorf("Seconds(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for n, want := range map[int64]string{30: "30s", 300: "5m", 36000: "10h", 2592000: "30d", 5400: "90m", 61: "61s"} {
		if got := FormatSeconds(n); got != want {
			t.Errorf("FormatSeconds(%d) = %q, want %q", n, got, want)
		}
	}
}
