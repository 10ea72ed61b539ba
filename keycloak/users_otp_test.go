package keycloak

import (
	"encoding/base32"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/ssoctl/ssoctl/spec"
)

func TestDiffUserOTPCredential(t *testing.T) {
	body := `  realm_roles: [r]
  settings:
    otp_policy: {algorithm: HmacSHA256, digits: 8, period: 45}
  users:
    - {username: alice, password_env: ALICE_PASSWORD, totp_secret_env: ALICE_TOTP}
    - {username: bob, password_env: BOB_PASSWORD, totp_secret_env: BOB_TOTP}
`
	f, err := spec.Parse("sso.yaml", []byte("keycloak:\n  url: http://kc\n  realm: demo\n  create_realm: true\n"+body), nil)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"ALICE_PASSWORD": "alice-Pw-1", "BOB_PASSWORD": "bob-Pw-2", "ALICE_TOTP": "jbsw y3dp ehpk 3pxp", "BOB_TOTP": "JBSWY3DPEHPK3PXP"}
	d := Expand(f.Keycloak, func(k string) string { return env[k] })
	st := stateFor(t, d)
	delete(st.Users, "alice") // alice is new, bob exists without OTP
	p := mustDiff(t, d, st)
	c := find(t, p.Changes, "user", "alice")
	creds := c.Op.(createUser).Body["credentials"].([]map[string]any)
	if len(creds) != 2 || creds[1]["type"] != "otp" {
		t.Fatalf("credentials %v", creds)
	}
	var data map[string]any
	if err := json.Unmarshal([]byte(creds[1]["credentialData"].(string)), &data); err != nil {
		t.Fatal(err)
	}
	if data["algorithm"] != "HmacSHA256" || data["digits"] != 8.0 || data["period"] != 45.0 || data["subType"] != "totp" || data["secretEncoding"] != "BASE32" {
		t.Errorf("credentialData %v", data)
	}
	var secret map[string]string
	json.Unmarshal([]byte(creds[1]["secretData"].(string)), &secret)
	key, _ := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret["value"])
	if string(key) != "Hello!\xde\xad\xbe\xef" {
		t.Errorf("secretData %v: the page's groups and case are folded into canonical base32", secret)
	}
	shown := ""
	for _, fd := range c.Fields {
		if fd.Field == "otp" {
			shown = fmt.Sprint(fd.New)
		}
		if strings.Contains(fmt.Sprint(fd.New), "JBSW") || strings.Contains(strings.ToUpper(fmt.Sprint(fd.New)), "3PXP") {
			t.Errorf("the plan shows the OTP secret, or its ends: %+v", fd)
		}
	}
	if shown != "a TOTP secret from $ALICE_TOTP" {
		t.Errorf("the otp field says %q", shown)
	}
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "demo/bob exists without an OTP credential") {
		t.Errorf("warnings %v", p.Warnings)
	}
	// A user that has OTP already is not warned about.
	st.Users["bob"].Rep.Totp = ptr(true)
	if p := mustDiff(t, d, st); len(p.Warnings) != 0 {
		t.Errorf("warnings %v", p.Warnings)
	}
}

func TestDiffUserOTPSecretErrors(t *testing.T) {
	for _, tt := range []struct{ secret, want string }{
		{"not base32!", "not base32"},
		{"JBSWY3DP", "want at least 10"},
		{"", "$ALICE_TOTP, which is not set"},
	} {
		f, err := spec.Parse("sso.yaml", []byte("keycloak:\n  url: http://kc\n  realm: demo\n  create_realm: true\n  users:\n    - {username: alice, totp_secret_env: ALICE_TOTP}\n"), nil)
		if err != nil {
			t.Fatal(err)
		}
		d := Expand(f.Keycloak, func(k string) string { return map[string]string{"ALICE_TOTP": tt.secret}[k] })
		st := emptyState("demo", true)
		_, err = Diff(d, st, DiffOptions{ForApply: true})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want %q", tt.secret, err, tt.want)
			continue
		}
		if strings.Contains(err.Error(), tt.secret) && tt.secret != "" {
			t.Errorf("the error shows the secret: %v", err)
		}
		var ie *InputError
		if tt.secret != "" && (!asError(err, &ie) || ie.Key != "keycloak.users[0].totp_secret_env") {
			t.Errorf("%q: want an InputError at keycloak.users[0].totp_secret_env, got %#v", tt.secret, err)
		}
	}
}
