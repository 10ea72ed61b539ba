//go:build integration

package cmd

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ssoctl/ssoctl/spec"
	"github.com/ssoctl/ssoctl/templates/django"
	"github.com/ssoctl/ssoctl/testbed"
)

// hostileSettings is a minimal Django project around the rendered app, so
// that importing it is what Django does at startup.
const hostileSettings = `SECRET_KEY = "hostile"
INSTALLED_APPS = ["django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
                  "django.contrib.sessions", "django.contrib.messages", "django.contrib.staticfiles"]
MIDDLEWARE = ["django.contrib.sessions.middleware.SessionMiddleware",
              "django.contrib.auth.middleware.AuthenticationMiddleware",
              "django.contrib.messages.middleware.MessageMiddleware"]
ROOT_URLCONF = "hostile_urls"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
              "OPTIONS": {"context_processors": ["django.template.context_processors.request",
                                                 "django.contrib.auth.context_processors.auth",
                                                 "django.contrib.messages.context_processors.messages"]}}]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
STATIC_URL = "/static/"
from keycloak_sso.settings import configure  # noqa: E402
configure(globals())
`

const hostileURLs = `from django.contrib import admin
from django.urls import include, path
urlpatterns = [path("", include("keycloak_sso.urls")), path("admin/", admin.site.urls)]
`

// hostileRead imports every module of the app as Django does, renders the
// admin login page, and prints what the app holds.
const hostileRead = `import importlib, json, os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "hostile_settings"
import django
django.setup()
from django.conf import settings
from django.template.loader import get_template
mods = {}
for name in ["settings", "mapping", "views", "urls", "backends", "adapter", "pipeline", "api", "apps"]:
    try:
        mods[name] = importlib.import_module("keycloak_sso." + name)
    except ModuleNotFoundError as e:
        if e.name != "keycloak_sso." + name:
            raise
mods["__init__"] = importlib.import_module("keycloak_sso")
s, m, v = mods["settings"], mods["mapping"], mods["views"]
out = {
    "docs": {n: mod.__doc__ or "" for n, mod in mods.items()},
    "values": {
        "client": [s.CLIENT_ID, m.CLIENT_ID], "claim": [m.USERNAME_CLAIM], "groups_claim": [m.GROUPS_CLAIM],
        "issuer": [s.ISSUER], "authorization": [s.AUTHORIZATION_ENDPOINT], "token": [s.TOKEN_ENDPOINT],
        "userinfo": [s.USERINFO_ENDPOINT], "jwks": [s.JWKS_ENDPOINT], "end_session": [v.END_SESSION_ENDPOINT],
        "post_logout": [v.POST_LOGOUT_REDIRECT_URI], "secret_env": [s.SECRET_ENV],
        "staff": sorted(m.STAFF), "superuser": sorted(m.SUPERUSER),
        "group_map": sorted("%s=%s" % kv for kv in (m.GROUP_MAP or {}).items()),
    },
    "settings": {k: getattr(settings, k, None) for k in ["SOCIAL_AUTH_KEYCLOAK_PUBLIC_KEY", "SOCIAL_AUTH_OIDC_USERNAME_KEY", "KEYCLOAK_CONFIG"]},
    "login": get_template("admin/login.html").render({}),
}
json.dump(out, sys.stdout)
`

type hostileApp struct {
	Docs     map[string]string   `json:"docs"`
	Values   map[string][]string `json:"values"`
	Settings map[string]any      `json:"settings"`
	Login    string              `json:"login"`
}

// importRendered writes files into a fresh project, imports the app in the
// testbed's Python and returns what it read; marker must not exist after.
func importRendered(t *testing.T, tb testbed.Env, dir string, files []django.File, secretEnv string) hostileApp {
	t.Helper()
	for _, f := range files {
		p := filepath.Join(dir, f.Path)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, f.Data, 0o644)
	}
	os.WriteFile(filepath.Join(dir, "hostile_settings.py"), []byte(hostileSettings), 0o644)
	os.WriteFile(filepath.Join(dir, "hostile_urls.py"), []byte(hostileURLs), 0o644)
	cmd := exec.Command(tb.DjangoPython, "-c", hostileRead)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1", "PYTHONPATH="+dir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("importing the app: %v\n%s", err, stderr.String())
	}
	var app hostileApp
	if err := json.Unmarshal(out, &app); err != nil {
		t.Fatalf("%v: %s\n%s", err, out, stderr.String())
	}
	return app
}

// No value from sso.yaml or the discovery document runs when Django imports
// the rendered app, for every library and api:, and each reads back equal.
// Through the CLI the values are what validation lets pass (no control
// characters); through Render itself they hold every hostile character.
func TestIntegrationRenderedAppRunsNoData(t *testing.T) {
	tb := testbed.Load(t)
	tb.NeedDjango(t)
	combos := []struct{ lib, api string }{
		{spec.LibMozilla, spec.APIMozilla}, {spec.LibKeycloakOID, ""}, {spec.LibSocial, spec.APIDRFOIDC},
		{spec.LibSocialOIDC, ""}, {spec.LibAllauth, spec.APIKeycloakAut},
	}
	for _, c := range combos {
		t.Run("cli/"+c.lib, func(t *testing.T) {
			dir := t.TempDir()
			marker := filepath.Join(dir, "PWNED")
			// One line can still end a string and run the rest of it.
			v := func(tag string) string {
				run := "__import__('os').system('touch " + marker + "')"
				return tag + `"""; ` + run + `; """ '''; ` + run + `; ''' # \N{BULLET} {% now "Y" %}{{ "INJ"|add:"ECTED" }}{# c #}</script><script>alert(1)</script> é😀 \`
			}
			q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
			// Keycloak's endpoints under the realm, with the same characters in their
			// paths (a URL holds no % or # unescaped); Keycloak escapes a realm's name in
			// URLs, these need no escaping.
			seg := `x"""'''\N{BULLET}\{{7}}</script>é`
			realm, client, claim := "realm"+seg, v("client"), v("claim")
			// A Django group name has at most 150 characters.
			staff, super, kc, dj := v("staff"), v("superuser"), v("kc"), "dj"+seg
			var srv *httptest.Server
			srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				iss := srv.URL + "/realms/" + realm
				if strings.HasSuffix(r.URL.Path, "/.well-known/openid-configuration") {
					json.NewEncoder(w).Encode(map[string]string{"issuer": iss, "authorization_endpoint": iss + "/auth/" + seg,
						"token_endpoint": iss + "/token/" + seg, "userinfo_endpoint": iss + "/userinfo/" + seg,
						"jwks_uri": iss + "/certs/" + seg, "end_session_endpoint": iss + "/logout/" + seg})
					return
				}
				json.NewEncoder(w).Encode(map[string]string{"public_key": "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwsCr1ChvhLNBXUFgPnt1/zsMakkEzpUnaq9YkFQaxDQ1XWsFdrlo6PNYI1V6jLcN0xVx4zhH41WEe5xjuimS8c3TXLcI2JZsmWTrXpVe+Vaa5Hnw7ezJiYWYhTl6W7IGvKJDhwxmv4pZ4JKsTFbgR5RoUvTDSTbUmQvMNK02IXLCUd+53Mvt1SeKOjBhHB9KaQ1nBm3wi0fQoa39VWf+7d8D7Yf6uRnUWsvHUP6LxNKqqWRhjFSi6hbz3CjKG26gdHTeMYt9wEL6pf9CEFcXo2VNm58DR6QUa5iy8CPqmEXZyTPUTOM+Zc4oGeO/WmD9F7bfO8ugwOp8GZxt4RlSIQIDAQAB"})
			}))
			defer srv.Close()
			api := ""
			if c.api != "" {
				api = "      api: " + c.api + "\n"
			}
			siteURL := `http://127.0.0.1:8000/` + seg
			file := fmt.Sprintf(`keycloak:
  url: %s
  realm: %s
  clients: [{client_id: %s}]
django:
  sites:
    - name: brewery
      client: %s
      library: %s
      url: %s
      username_claim: %s
      staff: [%s]
      superuser: [%s]
      groups: {%s: %s}
%s`, srv.URL, q(realm), q(client), q(client), c.lib, q(siteURL), q(claim), q(staff), q(super), q(kc), q(dj), api)
			p := filepath.Join(dir, "sso.yaml")
			os.WriteFile(p, []byte(file), 0o600)
			code, _, stderr := runWith(t, nil, "", "render", "django", "-f", p, "--out", dir)
			if code != ExitOK {
				t.Fatalf("render: exit %d\n%s", code, stderr)
			}
			app := importRendered(t, tb, dir, nil, "")
			if _, err := os.Stat(marker); err == nil {
				t.Fatal("importing the app ran a value")
			}
			iss := srv.URL + "/realms/" + realm
			want := map[string][]string{
				"client": {client, client}, "claim": {claim}, "groups_claim": {"groups"}, "issuer": {iss},
				"authorization": {iss + "/auth/" + seg}, "token": {iss + "/token/" + seg}, "userinfo": {iss + "/userinfo/" + seg},
				"jwks": {iss + "/certs/" + seg}, "end_session": {iss + "/logout/" + seg}, "post_logout": {siteURL + django.PostLogoutPath},
				"secret_env": {"BREWERY_OIDC_SECRET"}, "staff": {staff}, "superuser": {super}, "group_map": {kc + "=" + dj},
			}
			for _, k := range slices.Sorted(maps.Keys(want)) {
				if !slices.Equal(app.Values[k], want[k]) {
					t.Errorf("%s reads back as %q, want %q", k, app.Values[k], want[k])
				}
			}
			// Docstrings name values only as the same literals: they read back whole.
			for _, mod := range []string{"backends", "adapter"} {
				if doc, ok := app.Docs[mod]; ok && !strings.Contains(doc, `"`+claim+`"`) {
					t.Errorf("%s's docstring lost the claim: %q", mod, doc)
				}
			}
			if doc, ok := app.Docs["api"]; ok && !strings.Contains(doc, `"`+client+`"`) {
				t.Errorf("api's docstring lost the client: %q", doc)
			}
			if c.lib == spec.LibSocialOIDC && app.Settings["SOCIAL_AUTH_OIDC_USERNAME_KEY"] != claim {
				t.Errorf("SOCIAL_AUTH_OIDC_USERNAME_KEY %v", app.Settings["SOCIAL_AUTH_OIDC_USERNAME_KEY"])
			}
			if c.api == spec.APIKeycloakAut {
				kcConf, _ := app.Settings["KEYCLOAK_CONFIG"].(map[string]any)
				if kcConf["KEYCLOAK_REALM"] != realm || kcConf["KEYCLOAK_SERVER_URL"] != srv.URL {
					t.Errorf("KEYCLOAK_CONFIG %v", kcConf)
				}
			}
			if strings.Contains(app.Login, "<script>alert") || !strings.Contains(app.Login, `id="keycloak-sso-login"`) {
				t.Errorf("the login page:\n%s", app.Login)
			}
		})
	}
	// Render itself, past validation: newlines, NUL and DEL too, in every
	// field the templates read.
	for _, c := range combos {
		t.Run("render/"+c.lib, func(t *testing.T) {
			dir := t.TempDir()
			marker := filepath.Join(dir, "PWNED")
			v := func(tag string) string {
				return hostileValue(tag, marker)
			}
			site := &spec.DjangoSite{Name: v("site"), Client: v("client"), Library: c.lib, URL: v("url"), ClientSecretEnv: v("env"),
				UsernameClaim: v("claim"), Staff: []string{v("staff")}, Superuser: []string{v("super")}, Groups: map[string]string{v("kc"): v("dj")},
				Logout: "keycloak", API: c.api}
			e := django.Endpoints{Issuer: v("issuer"), Authorization: v("auth"), Token: v("token"), Userinfo: v("userinfo"), JWKS: v("jwks"), EndSession: v("end")}
			files, err := django.Render(django.Input{Site: site, Client: &spec.Client{ClientID: site.Client, Mappers: []spec.Mapper{{Groups: &spec.GroupsMapper{Claim: v("gclaim")}}}},
				KeycloakURL: v("kcurl"), Realm: v("realm"), Endpoints: e, PublicKey: v("key")})
			if err != nil {
				t.Fatal(err)
			}
			app := importRendered(t, tb, dir, files, site.ClientSecretEnv)
			if _, err := os.Stat(marker); err == nil {
				t.Fatal("importing the app ran a value")
			}
			want := map[string][]string{
				"client": {site.Client, site.Client}, "claim": {site.UsernameClaim}, "groups_claim": {v("gclaim")}, "issuer": {e.Issuer},
				"authorization": {e.Authorization}, "token": {e.Token}, "userinfo": {e.Userinfo}, "jwks": {e.JWKS}, "end_session": {e.EndSession},
				"post_logout": {site.URL + django.PostLogoutPath}, "secret_env": {site.ClientSecretEnv}, "staff": site.Staff, "superuser": site.Superuser,
				"group_map": {v("kc") + "=" + v("dj")},
			}
			for _, k := range slices.Sorted(maps.Keys(want)) {
				if !slices.Equal(app.Values[k], want[k]) {
					t.Errorf("%s reads back as %q, want %q", k, app.Values[k], want[k])
				}
			}
			if doc := app.Docs["__init__"]; !strings.Contains(doc, `"`+site.Name+`"`) {
				t.Errorf("the app's docstring lost the site name: %q", doc)
			}
			if c.lib == spec.LibSocial && app.Settings["SOCIAL_AUTH_KEYCLOAK_PUBLIC_KEY"] != v("key") {
				t.Errorf("the public key reads back as %v", app.Settings["SOCIAL_AUTH_KEYCLOAK_PUBLIC_KEY"])
			}
			if c.api == spec.APIKeycloakAut {
				kcConf, _ := app.Settings["KEYCLOAK_CONFIG"].(map[string]any)
				if kcConf["KEYCLOAK_REALM"] != v("realm") || kcConf["KEYCLOAK_SERVER_URL"] != v("kcurl") {
					t.Errorf("KEYCLOAK_CONFIG %v", kcConf)
				}
			}
			// The site name sits in the login page's {% comment %}: no tag of it ran.
			if strings.Contains(app.Login, "<script>alert") || strings.Contains(app.Login, "INJECTED") || !strings.Contains(app.Login, `id="keycloak-sso-login"`) {
				t.Errorf("the login page:\n%s", app.Login)
			}
		})
	}
}

// hostileValue ends every kind of Python string, comment and docstring, and
// opens every kind of Django template tag; a value that ran would create
// marker. tag in front tells the fields apart.
func hostileValue(tag, marker string) string {
	return tag + `"""` + "\n__import__('os').system('touch " + marker + "')\n" + "\x27\x27\x27" + "\n#" + `\N{BULLET}` + "\\\x00" +
		`{% now "Y" %}{{ "INJ"|add:"ECTED" }}{# c #}</script><script>alert(1)</script>` + "\r\n\u2028\u00e9\U0001F600\x7f\\"
}
