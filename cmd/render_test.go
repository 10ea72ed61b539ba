package cmd

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
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

// renderSiteFile is a one-site file against the Keycloak at url; extra is
// added to the site.
func renderSiteFile(t *testing.T, url, extra string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sso.yaml")
	os.WriteFile(p, []byte(`keycloak:
  url: `+url+`
  realm: r
  clients: [{client_id: app}]
django:
  sites:
    - name: moz
      client: app
      library: mozilla-django-oidc
      url: http://127.0.0.1:8000
`+extra), 0o600)
	return p
}

// discoveryServer serves the realm r's discovery document, with edit
// applied to Keycloak's endpoints.
func discoveryServer(t *testing.T, edit func(base string, doc map[string]string)) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(nil)
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		iss := srv.URL + "/realms/r"
		doc := map[string]string{"issuer": iss, "authorization_endpoint": iss + "/protocol/openid-connect/auth",
			"token_endpoint": iss + "/protocol/openid-connect/token", "userinfo_endpoint": iss + "/protocol/openid-connect/userinfo",
			"jwks_uri": iss + "/protocol/openid-connect/certs", "end_session_endpoint": iss + "/protocol/openid-connect/logout"}
		edit(srv.URL, doc)
		json.NewEncoder(w).Encode(doc)
	})
	t.Cleanup(srv.Close)
	return srv
}

// Values that no server or library takes are refused with exit 2 before a
// file is written: from sso.yaml with their line, from the discovery
// document with the field.
func TestRenderDjangoRefusesWhatCannotBeValid(t *testing.T) {
	for _, tt := range []struct {
		name, extra string
		edit        func(base string, doc map[string]string)
		want        string
	}{
		{"a claim name with a newline", `      username_claim: "sub\n__import__('os')"` + "\n", nil, "sso.yaml:11: django.sites[0].username_claim: a name cannot hold the control character U+000A"},
		{"a group with NUL", `      staff: ["a\x00b"]` + "\n", nil, "sso.yaml:11: django.sites[0].staff[0]: a name cannot hold the control character U+0000"},
		{"a Django group too long", `      groups: {a: ` + strings.Repeat("g", 151) + `}` + "\n", nil, "a Django group name has at most 150 characters, got 151"},
		{"an issuer of another realm", "", func(base string, doc map[string]string) { doc["issuer"] = base + "/realms/other" }, `the realm's issuer "http://127.0.0.1:`},
		{"an endpoint with code in it", "", func(base string, doc map[string]string) {
			doc["token_endpoint"] = base + "/realms/r/token\"\"\"\n__import__('os').system('id')"
		}, `the realm's token_endpoint "http://127.0.0.1:`},
		{"an endpoint on another host", "", func(base string, doc map[string]string) {
			doc["end_session_endpoint"] = "http://evil.example/realms/r/protocol/openid-connect/logout"
		}, `is not on the realm's host`},
	} {
		url := "http://127.0.0.1:1"
		if tt.edit != nil {
			url = discoveryServer(t, tt.edit).URL
		}
		p := renderSiteFile(t, url, tt.extra)
		out := t.TempDir()
		code, stdout, stderr := run(t, "render", "django", "-f", p, "--out", out)
		if code != ExitUsage || stdout != "" || !strings.Contains(stderr, tt.want) || strings.Count(stderr, "\n") > 1 {
			t.Errorf("%s: exit %d %q, want %q", tt.name, code, stderr, tt.want)
		}
		if entries, _ := os.ReadDir(out); len(entries) != 0 {
			t.Errorf("%s: %d entries written", tt.name, len(entries))
		}
	}
	// Keycloak's own document renders.
	srv := discoveryServer(t, func(string, map[string]string) {})
	out := t.TempDir()
	if code, _, stderr := run(t, "render", "django", "-f", renderSiteFile(t, srv.URL, ""), "--out", out); code != ExitOK {
		t.Errorf("a good document: exit %d %s", code, stderr)
	}
}

// tree lists every path below dir with its type and content, to show that
// a refused render left the directory as it was.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, _ := d.Info()
		v := fi.Mode().Type().String()
		if fi.Mode().IsRegular() {
			b, _ := os.ReadFile(p)
			v += " " + string(b)
		}
		out[strings.TrimPrefix(p, dir)] = v
		return nil
	})
	return out
}

// Every target is checked before anything is written: a planted manifest,
// a symlinked directory or file, a FIFO or a device in place of a rendered
// file, or an --out that is a file, is exit 2 with nothing written or
// deleted, with --force too.
func TestWriteRenderedChecksEveryTargetFirst(t *testing.T) {
	f := func(path, data string) django.File {
		sum := sha256.Sum256([]byte(data))
		return django.File{Path: path, Data: []byte(data), SHA256: hex.EncodeToString(sum[:])}
	}
	files := []django.File{f("keycloak_sso/a.py", "a"), f("keycloak_sso/settings.py", "s"), f("keycloak_sso/templates/admin/login.html", "l"), f("keycloak_sso/urls.py", "u")}
	outside := t.TempDir()
	victim := filepath.Join(outside, "victim")
	for _, tt := range []struct {
		name  string
		setup func(dir string)
		want  string
	}{
		{"a manifest path outside the app", func(dir string) {
			os.WriteFile(victim, []byte("keep"), 0o600)
			rel, _ := filepath.Rel(filepath.Join(dir, "keycloak_sso"), victim)
			sum := sha256.Sum256([]byte("keep"))
			m, _ := json.Marshal([]django.File{{Path: "keycloak_sso/" + filepath.ToSlash(rel), SHA256: hex.EncodeToString(sum[:])}})
			os.MkdirAll(filepath.Join(dir, "keycloak_sso"), 0o755)
			os.WriteFile(filepath.Join(dir, renderManifest), m, 0o644)
		}, "which is not a clean path inside keycloak_sso/"},
		{"an absolute manifest path", func(dir string) {
			os.MkdirAll(filepath.Join(dir, "keycloak_sso"), 0o755)
			os.WriteFile(filepath.Join(dir, renderManifest), []byte(`[{"path":"/etc/passwd","sha256":"`+strings.Repeat("0", 64)+`"}]`), 0o644)
		}, "not a clean path"},
		{"a manifest that is not one", func(dir string) {
			os.MkdirAll(filepath.Join(dir, "keycloak_sso"), 0o755)
			os.WriteFile(filepath.Join(dir, renderManifest), []byte(`{"path": 1}`), 0o644)
		}, "is not a render manifest"},
		{"the manifest a symlink to /dev/zero", func(dir string) {
			os.MkdirAll(filepath.Join(dir, "keycloak_sso"), 0o755)
			os.Symlink("/dev/zero", filepath.Join(dir, renderManifest))
		}, ".ssoctl-render.json is a symlink"},
		{"the app directory a symlink", func(dir string) { os.Symlink(outside, filepath.Join(dir, "keycloak_sso")) }, "keycloak_sso is a symlink"},
		{"a directory below it a symlink", func(dir string) {
			os.MkdirAll(filepath.Join(dir, "keycloak_sso"), 0o755)
			os.Symlink(outside, filepath.Join(dir, "keycloak_sso", "templates"))
		}, "templates is a symlink"},
		{"settings.py a symlink to /dev/zero", func(dir string) {
			os.MkdirAll(filepath.Join(dir, "keycloak_sso"), 0o755)
			os.Symlink("/dev/zero", filepath.Join(dir, "keycloak_sso", "settings.py"))
		}, "settings.py is a symlink"},
		{"the last file a FIFO, the first foreign", func(dir string) {
			os.MkdirAll(filepath.Join(dir, "keycloak_sso"), 0o755)
			os.WriteFile(filepath.Join(dir, "keycloak_sso", "a.py"), []byte("mine"), 0o644)
			syscall.Mkfifo(filepath.Join(dir, "keycloak_sso", "urls.py"), 0o600)
		}, "urls.py is a FIFO"},
		{"a directory where a file goes", func(dir string) { os.MkdirAll(filepath.Join(dir, "keycloak_sso", "settings.py"), 0o755) }, "settings.py is a directory"},
		{"a file where a directory goes", func(dir string) {
			os.MkdirAll(filepath.Join(dir, "keycloak_sso"), 0o755)
			os.WriteFile(filepath.Join(dir, "keycloak_sso", "templates"), nil, 0o644)
		}, "templates is a regular file, where render needs a directory"},
	} {
		dir := t.TempDir()
		tt.setup(dir)
		before, beforeOutside := tree(t, dir), tree(t, outside)
		err := writeRendered(dir, files, true)
		if err == nil || exitCode(err) != ExitUsage || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
		if after := tree(t, dir); !maps.Equal(before, after) {
			t.Errorf("%s: the directory changed:\n%v\n%v", tt.name, before, after)
		}
		if after := tree(t, outside); !maps.Equal(beforeOutside, after) {
			t.Errorf("%s: a file outside --out changed: %v", tt.name, after)
		}
	}
	reg := filepath.Join(t.TempDir(), "project.py")
	os.WriteFile(reg, nil, 0o644)
	if err := writeRendered(reg, files, false); err == nil || exitCode(err) != ExitUsage || !strings.Contains(err.Error(), "project.py is a regular file, not a directory") {
		t.Errorf("--out a regular file: %v", err)
	}
	// A large file in place of a rendered one is not the render's, and is not read whole.
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "keycloak_sso"), 0o755)
	os.WriteFile(filepath.Join(dir, "keycloak_sso", "settings.py"), make([]byte, 2*maxRenderedFile), 0o644)
	if err := writeRendered(dir, files, false); err == nil || !strings.Contains(err.Error(), "keycloak_sso/settings.py") {
		t.Errorf("a large foreign file: %v", err)
	}
}
