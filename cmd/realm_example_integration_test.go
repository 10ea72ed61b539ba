//go:build integration

package cmd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ssoctl/ssoctl/testbed"
)

// examples/realm.yaml whole (settings, required actions, a flow with OTP,
// its binding and a TOTP user) on a new realm: applied, a re-apply writes
// nothing, and export -> apply to an empty realm -> export is identical,
// with every section of the file in the export.
func TestIntegrationRealmExampleRoundTrip(t *testing.T) {
	tb := testbed.Load(t)
	env := testEnv(tb)
	env["SMTP_PASSWORD"] = "example-smtp-pw"
	env["DANA_PASSWORD"] = "dana-example-pw-1"
	env["DANA_TOTP"] = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	realm := fmt.Sprintf("realm-example-%d", time.Now().UnixNano()%1e8)
	copyRealm := realm + "-copy"
	t.Cleanup(func() {
		tb.DeleteRealm(context.Background(), realm)
		tb.DeleteRealm(context.Background(), copyRealm)
	})
	text, err := os.ReadFile("../examples/realm.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "realm.yaml")
	body := strings.Replace(string(text), "  realm: staff\n", "  realm: "+realm+"\n", 1)
	body = strings.Replace(body, "owner: staff-realm", "owner: "+realm, 1)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	rc := &requestCounter{}
	if code, out := runApply(context.Background(), env, path, rc); code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, out)
	}
	again := &requestCounter{}
	if code, out := runApply(context.Background(), env, path, again); code != 0 || again.writes.Load() != 0 {
		t.Fatalf("re-apply: exit %d, %d writes\n%s", code, again.writes.Load(), out)
	}

	export := func(r string) string {
		t.Helper()
		code, out, errOut := runEnv(t, env, "", "export", "keycloak", "--realm", r)
		if code != 0 {
			t.Fatalf("export %s: exit %d\n%s", r, code, errOut)
		}
		return out
	}
	first := export(realm)
	for _, s := range []string{"display_name: Staff", "password_policy:", "max_failures: 5", "host: mail.example.com",
		"password_env: SMTP_PASSWORD", "expiration: 7d", "alias: CONFIGURE_TOTP", "alias: TERMS_AND_CONDITIONS", "alias: browser-otp",
		"authenticator: auth-otp-form", "browser: browser-otp"} {
		if !strings.Contains(first, s) {
			t.Errorf("export lacks %q:\n%s", s, first)
		}
	}
	copyPath := filepath.Join(dir, "copy.yaml")
	copyText := strings.Replace(first, "realm: "+realm+"\n", "realm: "+copyRealm+"\n  create_realm: true\n", 1)
	if err := os.WriteFile(copyPath, []byte(copyText), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := runEnv(t, env, "", "apply", "-f", copyPath); code != 0 {
		t.Fatalf("apply the export: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if second := strings.ReplaceAll(export(copyRealm), copyRealm, realm); second != first {
		t.Errorf("export -> apply -> export differs:\n%s\n---\n%s", first, second)
	}
}
