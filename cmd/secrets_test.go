package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// No secret reaches an error line: not the credentials of a URL, not a
// secret written where a variable name belongs, not a short password.
func TestErrorsHideSecrets(t *testing.T) {
	dir := t.TempDir()
	tok := filepath.Join(dir, "t.jwt")
	os.WriteFile(tok, []byte("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"), 0o600)
	file := filepath.Join(dir, "sso.yaml")
	os.WriteFile(file, []byte("keycloak:\n  realm: r\n  admin: {client_id: bot, client_secret_env: S3cr3t-V4lue!}\n"), 0o600)
	for _, tt := range []struct {
		name   string
		env    map[string]string
		args   []string
		secret []string
		want   string
	}{
		{"jwks URL credentials", nil, []string{"inspect", "token", tok, "--jwks", "http://user:pa55w0rd@127.0.0.1:1/certs?token=t0ken-v4lue"},
			[]string{"pa55w0rd", "t0ken-v4lue"}, "http://****@127.0.0.1:1/certs?token=****"},
		{"KEYCLOAK_URL credentials", map[string]string{"KEYCLOAK_URL": "http://admin:kc-pa55@127.0.0.1:1", "KEYCLOAK_ADMIN": "a", "KEYCLOAK_ADMIN_PASSWORD": "pw"},
			[]string{"export", "keycloak", "--realm", "r"}, []string{"kc-pa55"}, "http://****@127.0.0.1:1"},
		{"a secret as a variable name in the file", map[string]string{"KEYCLOAK_URL": "http://127.0.0.1:1"}, []string{"plan", "-f", file},
			[]string{"S3cr3t-V4lue!"}, "client_secret_env: not a variable name"},
		{"a secret as --client-secret-env", map[string]string{"KEYCLOAK_URL": "http://127.0.0.1:1"},
			[]string{"keycloak", "token", "--realm", "r", "--client", "c", "--client-secret-env", "Sup3r s3cret"}, []string{"Sup3r s3cret"}, "not a variable name"},
	} {
		code, stdout, stderr := runWith(t, tt.env, "", tt.args...)
		if code == 0 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%s: exit %d, stderr %q, want %q", tt.name, code, stderr, tt.want)
		}
		for _, s := range tt.secret {
			if strings.Contains(stdout+stderr, s) {
				t.Errorf("%s: %q printed:\n%s", tt.name, s, stderr)
			}
		}
	}
}

// Control characters from a server or a file are escaped in error lines.
func TestErrorLinesAreTerminalSafe(t *testing.T) {
	// The file name comes back in the open error as it was given.
	_, _, stderr := runWith(t, nil, "", "inspect", "token", "no-such-\x1b]0;pwned\x07", "--insecure-no-verify")
	if strings.ContainsAny(stderr, "\x1b\x07") || !strings.Contains(stderr, `no-such-\x1b]0;pwned\x07`) {
		t.Errorf("stderr %q", stderr)
	}
}
