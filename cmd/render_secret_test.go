package cmd

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// hostileValues are realms, client ids and URLs that a shell would run or
// split if the next-steps line pasted them unquoted.
var hostileValues = []string{
	"shop", "$(touch pwned-1)", "`touch pwned-2`", "a'; touch pwned-3; echo '", `"; touch pwned-4; echo "`, "two words",
	"it's", `back\slash`, "-x", "--show-secrets", "tab\there", "semi;colon|pipe&amp", "~root", "*", "$HOME", "line\nbreak", "'", "''",
}

// pasteLine runs line in sh with a fake ssoctl first on PATH that records
// its arguments and prints a secret, and returns the arguments it got and
// the variable env's value after the line ran.
func pasteLine(t *testing.T, line, env string) (args []string, value string) {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal("no sh to paste the line into:", err)
	}
	dir := t.TempDir()
	fake := "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\0' \"$a\"; done > \"$ARGS_OUT\"\nprintf 'the-secret-0123456789abcdefgh'\n"
	if err := os.WriteFile(filepath.Join(dir, "ssoctl"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(sh, "-n", "-c", line).CombinedOutput(); err != nil {
		t.Fatalf("sh -n: %v %s\n%s", err, out, line)
	}
	argsOut := filepath.Join(dir, "args")
	cmd := exec.Command(sh, "-c", line+"\nprintf '%s' \"$"+env+"\"")
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + dir + string(os.PathListSeparator) + os.Getenv("PATH"), "ARGS_OUT=" + argsOut, "HOME=" + dir}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sh: %v\n%s", err, line)
	}
	raw, err := os.ReadFile(argsOut)
	if err != nil {
		t.Fatalf("the fake ssoctl did not run: %v\n%s", err, line)
	}
	for _, a := range bytes.Split(bytes.TrimSuffix(raw, []byte{0}), []byte{0}) {
		args = append(args, string(a))
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("the line made files: %v\n%s", entries, line)
	}
	return args, string(out)
}

// The export line render prints hands ssoctl the realm, client and URL
// unchanged, whatever they hold, and runs nothing else.
func TestSecretExportLineQuotes(t *testing.T) {
	for _, v := range hostileValues {
		line := secretExportLine("SHOP_OIDC_SECRET", "http://kc:8080/"+v, "http://other", v, v)
		args, value := pasteLine(t, line, "SHOP_OIDC_SECRET")
		want := []string{"keycloak", "client-secret", "--url=http://kc:8080/" + v, "--realm=" + v, "--client=" + v, "--show-secrets"}
		if !slices.Equal(args, want) || value != "the-secret-0123456789abcdefgh" {
			t.Errorf("%q: args %q, want %q; $SHOP_OIDC_SECRET %q\n%s", v, args, want, value, line)
		}
	}
	// The default URL ($KEYCLOAK_URL) is left out; plain values are not quoted.
	if got := secretExportLine("X", "http://kc", "http://kc", "shop", "web"); got != `export X="$(ssoctl keycloak client-secret --realm=shop --client=web --show-secrets)"` {
		t.Errorf("plain values: %s", got)
	}
}

// render django prints that line, with the variable the rendered settings
// read, for every library it renders.
func TestRenderDjangoPrintsTheSecretLine(t *testing.T) {
	// Realm r's document, which also serves as its /realms/r (social-auth
	// reads the public key there).
	key := testPublicKey(t)
	srv := discoveryServer(t, func(_ string, doc map[string]string) { doc["public_key"] = key })
	for _, lib := range []string{"mozilla-django-oidc", "django-keycloak-oidc", "social-auth", "social-auth-oidc", "allauth"} {
		extra := "      client_secret_env: SITE_" + strings.ToUpper(strings.NewReplacer("-", "_").Replace(lib)) + "\n"
		p := renderSiteFile(t, srv.URL, extra)
		data, _ := os.ReadFile(p)
		os.WriteFile(p, []byte(strings.Replace(string(data), "library: mozilla-django-oidc", "library: "+lib, 1)), 0o600)
		out := t.TempDir()
		code, _, stderr := run(t, "render", "django", "-f", p, "--out", out)
		env := strings.TrimSpace(strings.TrimPrefix(extra, "      client_secret_env: "))
		settings, err := os.ReadFile(filepath.Join(out, "keycloak_sso", "settings.py"))
		if code != 0 || err != nil {
			t.Fatalf("%s: exit %d %v\n%s", lib, code, err, stderr)
		}
		// The settings read the secret from the variable the line sets.
		if !strings.Contains(string(settings), `SECRET_ENV = "`+env+`"`) || !strings.Contains(string(settings), "os.environ.get(SECRET_ENV") {
			t.Errorf("%s: settings.py does not read $%s", lib, env)
		}
		line := `    export ` + env + `="$(ssoctl keycloak client-secret --url=` + srv.URL + ` --realm=r --client=app --show-secrets)"` + "\n"
		if !strings.Contains(stderr, line) || !strings.Contains(stderr, "read from $"+env+" ") {
			t.Errorf("%s: no line %q in\n%s", lib, line, stderr)
		}
	}
}

// testPublicKey is a fresh RSA public key as Keycloak's realm page gives
// it: base64 DER, no PEM armour.
func testPublicKey(t *testing.T) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

// A hostile client id from the file, pasted from render's own output,
// reaches ssoctl unchanged and runs nothing.
func TestRenderDjangoSecretLineFromTheFile(t *testing.T) {
	srv := discoveryServer(t, func(string, map[string]string) {})
	client := `app'$(touch pwned) "x y"` + "`touch pwned-2`"
	p := filepath.Join(t.TempDir(), "sso.yaml")
	os.WriteFile(p, []byte(`keycloak:
  url: `+srv.URL+`
  realm: r
  clients: [{client_id: '`+strings.ReplaceAll(client, "'", "''")+`'}]
django:
  sites:
    - name: moz
      client: '`+strings.ReplaceAll(client, "'", "''")+`'
      library: mozilla-django-oidc
      url: http://127.0.0.1:8000
`), 0o600)
	code, _, stderr := run(t, "render", "django", "-f", p, "--out", t.TempDir())
	i := strings.Index(stderr, "    export MOZ_OIDC_SECRET=")
	if code != 0 || i < 0 {
		t.Fatalf("exit %d, no export line:\n%s", code, stderr)
	}
	line := strings.TrimSpace(stderr[i : i+strings.Index(stderr[i:], "\n")])
	args, value := pasteLine(t, line, "MOZ_OIDC_SECRET")
	want := []string{"keycloak", "client-secret", "--url=" + srv.URL, "--realm=r", "--client=" + client, "--show-secrets"}
	if !slices.Equal(args, want) || value != "the-secret-0123456789abcdefgh" {
		t.Errorf("args %q, want %q; value %q\n%s", args, want, value, line)
	}
}
