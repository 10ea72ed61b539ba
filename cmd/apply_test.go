package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestApplyBadFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "sso.yaml")
	os.WriteFile(p, []byte("keycloak:\n  url: http://127.0.0.1:1\n  realm: r\n  clients:\n    - client_id: a\n      acess: public\n"), 0o600)
	code, stdout, stderr := run(t, "plan", "-f", p)
	if code != ExitUsage || !strings.Contains(stderr, p+":6:") || !strings.Contains(stderr, `unknown key "acess"`) {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if stdout != "" || strings.Contains(stderr, "Usage:") {
		t.Fatalf("a bad file is not a usage mistake: stdout %q stderr %q", stdout, stderr)
	}
	code, _, stderr = run(t, "apply", "-f", filepath.Join(dir, "missing.yaml"))
	if code != ExitUsage || !strings.Contains(stderr, "missing.yaml") {
		t.Fatalf("missing file: exit %d, %q", code, stderr)
	}
	code, _, stderr = run(t, "plan", "-f", p, "--only", "rancherr")
	if code != ExitUsage || !strings.Contains(stderr, "--only") {
		t.Fatalf("bad --only: exit %d %q", code, stderr)
	}
}

func TestKeycloakTokenNeedsFlags(t *testing.T) {
	code, _, stderr := run(t, "keycloak", "token", "--realm", "r")
	if code != ExitUsage || !strings.Contains(stderr, "--client") {
		t.Fatalf("exit %d %q", code, stderr)
	}
}
