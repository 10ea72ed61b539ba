package spec

import (
	"strings"
	"testing"
)

func TestUserTOTPSecretEnv(t *testing.T) {
	src := "keycloak:\n  url: http://kc\n  realm: r\n  users:\n    - {username: Alice, totp_secret_env: ALICE_TOTP}\n"
	f, err := Parse("sso.yaml", []byte(src), env())
	if err != nil || f.Keycloak.Users[0].TOTPSecretEnv != "ALICE_TOTP" {
		t.Fatalf("err %v, users %+v", err, f.Keycloak.Users)
	}
	for body, want := range map[string]string{
		"users:\n    - {username: a1b, totp_secret_env: not-a-name}\n":                                        "sso.yaml:5:",
		"settings:\n    otp_policy: {type: hotp}\n  users:\n    - {username: a1b, totp_secret_env: A_TOTP}\n": "settings.otp_policy.type is hotp",
	} {
		_, err := Parse("sso.yaml", []byte("keycloak:\n  url: http://kc\n  realm: r\n  "+body), env())
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", body, err, want)
		}
	}
}
