package testbed

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, ".env")
	os.WriteFile(p, []byte("# comment\nKEYCLOAK_URL=http://127.0.0.1:1\nKEYCLOAK_ADMIN=admin\nKEYCLOAK_ADMIN_PASSWORD=pw=with=equals\nVAULT_ADDR=http://127.0.0.1:2\nVAULT_TOKEN=t\n"), 0o600)
	env, err := Read(p)
	if err != nil {
		t.Fatal(err)
	}
	if env.KeycloakAdminPassword != "pw=with=equals" || env.VaultAddr != "http://127.0.0.1:2" {
		t.Fatalf("env = %+v", env)
	}

	os.WriteFile(p, []byte("KEYCLOAK_URL=x\n"), 0o600)
	if _, err := Read(p); err == nil || !strings.Contains(err.Error(), "is missing") {
		t.Fatalf("incomplete file: err = %v", err)
	}
	os.WriteFile(p, []byte("garbage\n"), 0o600)
	if _, err := Read(p); err == nil || !strings.Contains(err.Error(), ":1:") {
		t.Fatalf("bad line: err = %v", err)
	}
}

func TestInCI(t *testing.T) {
	for v, want := range map[string]bool{"": false, "true": true, "1": true, "false": false, "0": false} {
		t.Setenv("CI", v)
		if got := inCI(); got != want {
			t.Errorf("CI=%q: inCI() = %v, want %v", v, got, want)
		}
	}
}
