package cmd

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ssoctl/ssoctl/templates/django"
)

func TestRenderDjangoRefusesAndPicksSites(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "sso.yaml")
	os.WriteFile(p, []byte(`keycloak:
  url: http://127.0.0.1:1
  realm: r
  clients: [{client_id: app}]
django:
  sites:
    - {name: jwt, client: app, library: django-jwt-oidc, url: http://x}
    - {name: moz, client: app, library: mozilla-django-oidc, url: http://y}
`), 0o600)
	code, stdout, stderr := run(t, "render", "django", "-f", p, "--site", "jwt", "--out", dir)
	if code != ExitFindings || stdout != "" || !strings.Contains(stderr, "does not render django-jwt-oidc") ||
		!strings.Contains(stderr, `"Missing form parameter: grant_type"`) || !strings.Contains(stderr, "Use mozilla-django-oidc instead") {
		t.Errorf("a refused library: exit %d %q", code, stderr)
	}
	if code, _, stderr := run(t, "render", "django", "-f", p, "--out", dir); code != ExitUsage || !strings.Contains(stderr, "--site is required: the file has sites jwt, moz") {
		t.Errorf("two sites without --site: exit %d %q", code, stderr)
	}
	if code, _, stderr := run(t, "render", "django", "-f", p, "--site", "nope", "--out", dir); code != ExitUsage || !strings.Contains(stderr, `no django site "nope" (sites: jwt, moz)`) {
		t.Errorf("an unknown site: exit %d %q", code, stderr)
	}
	if code, _, stderr := run(t, "render", "django", "-f", p, "--site", "moz"); code != ExitUsage || !strings.Contains(stderr, "--out DIR is required") {
		t.Errorf("no --out: exit %d %q", code, stderr)
	}
	// The discovery document is read live: an unreachable Keycloak is exit 1, with the URL.
	code, _, stderr = run(t, "render", "django", "-f", p, "--site", "moz", "--out", dir)
	if code != ExitFailure || !strings.Contains(stderr, "http://127.0.0.1:1/realms/r/.well-known/openid-configuration") {
		t.Errorf("unreachable Keycloak: exit %d %q", code, stderr)
	}
}

func TestWriteRenderedOwnsOnlyItsFiles(t *testing.T) {
	dir := t.TempDir()
	f := func(path, data string) django.File {
		sum := sha256.Sum256([]byte(data))
		return django.File{Path: path, Data: []byte(data), SHA256: hex.EncodeToString(sum[:])}
	}
	v1 := []django.File{f("keycloak_sso/settings.py", "one"), f("keycloak_sso/api.py", "api")}
	if err := writeRendered(dir, v1, false); err != nil {
		t.Fatal(err)
	}
	// Rendering again over its own files is fine; a dropped file goes.
	v2 := []django.File{f("keycloak_sso/settings.py", "two")}
	if err := writeRendered(dir, v2, false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "keycloak_sso/api.py")); !os.IsNotExist(err) {
		t.Error("a file the render no longer writes stays")
	}
	// An edited file is not overwritten without --force.
	os.WriteFile(filepath.Join(dir, "keycloak_sso/settings.py"), []byte("edited by hand"), 0o644)
	err := writeRendered(dir, []django.File{f("keycloak_sso/settings.py", "three")}, false)
	if err == nil || !strings.Contains(err.Error(), "keycloak_sso/settings.py") || !strings.Contains(err.Error(), "--force") || exitCode(err) != ExitUsage {
		t.Fatalf("overwriting an edited file: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "keycloak_sso/settings.py")); string(b) != "edited by hand" {
		t.Error("the edited file was touched")
	}
	if err := writeRendered(dir, []django.File{f("keycloak_sso/settings.py", "three")}, true); err != nil {
		t.Fatal(err)
	}
	// A file that was there before any render is foreign too.
	other := t.TempDir()
	os.MkdirAll(filepath.Join(other, "keycloak_sso"), 0o755)
	os.WriteFile(filepath.Join(other, "keycloak_sso/urls.py"), []byte("mine"), 0o644)
	if err := writeRendered(other, []django.File{f("keycloak_sso/urls.py", "x")}, false); err == nil {
		t.Error("an existing file of someone else's was overwritten")
	}
}
