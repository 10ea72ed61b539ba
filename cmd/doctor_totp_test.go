package cmd

import (
	"strings"
	"testing"

	"github.com/ssoctl/ssoctl/internal/secret"
	"github.com/ssoctl/ssoctl/spec"
)

func TestUserTOTP(t *testing.T) {
	file := &spec.File{Keycloak: &spec.Keycloak{Users: []spec.User{{Username: "alice", TOTPSecretEnv: "FILE_TOTP"}}}}
	env := map[string]string{"FILE_TOTP": "JBSWY3DPEHPK3PXP", "FLAG_TOTP": "jbsw y3dp ehpk 3pxq", "BAD": "not base32!"}
	cases := []struct {
		flag, user string
		file       *spec.File
		wantKey    string
		wantEnv    string
		wantErr    string
	}{
		{"", "alice", file, "Hello!\xde\xad\xbe\xef", "FILE_TOTP", ""},
		{"FLAG_TOTP", "alice", file, "Hello!\xde\xad\xbe\xf0", "FLAG_TOTP", ""},
		{"", "bob", file, "", "", ""},
		{"", "alice", nil, "", "", ""},
		{"UNSET", "alice", nil, "", "UNSET", "$UNSET is not set"},
		{"BAD", "alice", nil, "", "BAD", "not base32"},
	}
	for _, c := range cases {
		opts := &doctorOptions{User: c.user, TOTPSecretEnv: c.flag}
		opts.fileOptions.Getenv = func(k string) string { return env[k] }
		opts.fileOptions.Redactor = &secret.Redactor{}
		key, name, err := userTOTP(opts, c.file)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) || exitCode(err) != ExitUsage {
				t.Errorf("%+v: err %v, want %q exit 2", c, err, c.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), env[c.flag]) && env[c.flag] != "" {
				t.Errorf("the error shows the secret: %v", err)
			}
			continue
		}
		if err != nil || string(key) != c.wantKey || name != c.wantEnv {
			t.Errorf("%+v: key %q env %q err %v", c, key, name, err)
		}
		if c.wantKey != "" && opts.Redactor.Redact(env[name]) == env[name] {
			t.Errorf("%+v: the secret is not registered with the redactor", c)
		}
	}
}
