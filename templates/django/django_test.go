package django

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ssoctl/ssoctl/internal/golden"
	"github.com/ssoctl/ssoctl/spec"
)

func load(t *testing.T, text string) *spec.File {
	t.Helper()
	f, err := spec.Parse("sso.yaml", []byte(text), nil)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func siteFile(lib, api, clientExtra string) string {
	apiLine := ""
	if api != "" {
		apiLine = "      api: " + api + "\n"
	}
	return `keycloak:
  url: http://kc
  realm: demo
  clients:
    - client_id: brewery
` + clientExtra + `django:
  sites:
    - name: brewery
      client: brewery
      library: ` + lib + `
      url: http://127.0.0.1:8000/
      staff: [customers, creators]
      superuser: [brewmasters]
      groups: {customers: customers, creators: creators}
` + apiLine
}

func TestApplyAddsEachLibrarysNeeds(t *testing.T) {
	tests := []struct {
		lib, api string
		callback string
		mappers  []string
		unsigned bool
	}{
		{spec.LibMozilla, "", "http://127.0.0.1:8000/oidc/callback/", []string{"groups"}, false},
		{spec.LibKeycloakOID, "", "http://127.0.0.1:8000/oidc/callback/", []string{"groups", "roles claim for brewery"}, false},
		{spec.LibSocial, "", "http://127.0.0.1:8000/social/complete/keycloak/", []string{"audience brewery", "groups"}, false},
		{spec.LibSocialOIDC, "", "http://127.0.0.1:8000/social/complete/oidc/", []string{"groups"}, true},
		{spec.LibAllauth, spec.APIDRFOIDC, "http://127.0.0.1:8000/accounts/oidc/keycloak/login/callback/", []string{"audience brewery", "groups"}, true},
	}
	for _, tt := range tests {
		f := load(t, siteFile(tt.lib, tt.api, ""))
		k, needs, err := KeycloakWithNeeds(f)
		if err != nil {
			t.Fatalf("%s: %v", tt.lib, err)
		}
		c := k.Client("brewery")
		if c.RedirectURIs != nil || !slices.Equal(c.RequireRedirectURIs, []string{tt.callback}) {
			t.Errorf("%s: an unmanaged redirect list gains a required callback: %v %v", tt.lib, c.RedirectURIs, c.RequireRedirectURIs)
		}
		if !slices.Equal(c.RequirePostLogoutRedirectURIs, []string{"http://127.0.0.1:8000/admin/login/"}) {
			t.Errorf("%s: post-logout %v", tt.lib, c.RequirePostLogoutRedirectURIs)
		}
		var names []string
		for _, m := range c.Mappers {
			names = append(names, m.DefaultName("brewery"))
		}
		slices.Sort(names)
		if !slices.Equal(names, tt.mappers) {
			t.Errorf("%s: mappers %v, want %v", tt.lib, names, tt.mappers)
		}
		if got := c.UserinfoSigned != nil && !*c.UserinfoSigned; got != tt.unsigned {
			t.Errorf("%s: unsigned userinfo %v, want %v", tt.lib, got, tt.unsigned)
		}
		for _, n := range needs {
			by := tt.lib
			if n.Kind == "mapper" && n.Value == "audience brewery" && tt.lib != spec.LibSocial {
				by = tt.api // the API checks the audience, not the library
			}
			if n.Note() != "needed by django site brewery ("+by+")" || n.Why == "" {
				t.Errorf("%s: need %+v", tt.lib, n)
			}
		}
		if len(f.Keycloak.Client("brewery").Mappers) != 0 {
			t.Errorf("%s: KeycloakWithNeeds changed the file's own section", tt.lib)
		}
	}
	// A managed redirect list gets the callback appended; what meets a need already is left alone.
	f := load(t, siteFile(spec.LibSocial, "", "      redirect_uris: [http://other/cb]\n      mappers:\n        - audience: brewery\n        - groups: {claim: team}\n"))
	k, needs, err := KeycloakWithNeeds(f)
	if err != nil {
		t.Fatal(err)
	}
	c := k.Client("brewery")
	if !slices.Equal(c.RedirectURIs, []string{"http://other/cb", "http://127.0.0.1:8000/social/complete/keycloak/"}) || len(c.Mappers) != 2 {
		t.Errorf("managed list %v, mappers %d", c.RedirectURIs, len(c.Mappers))
	}
	if len(needs) != 2 {
		t.Errorf("needs %+v, want the callback and the post-logout URI", needs)
	}
}

func TestApplyRefusesContradictions(t *testing.T) {
	tests := []struct {
		lib, api, extra string
		line            int
		want            string
	}{
		{spec.LibAllauth, "", "      userinfo_signed: true\n", 6, "allauth reads userinfo as plain JSON"},
		{spec.LibMozilla, "", "      mappers:\n        - groups: {userinfo: false}\n", 7, "reads the groups claim from the ID token and userinfo, but this mapper has userinfo: false"},
		{spec.LibSocial, "", "      mappers:\n        - audience: {client: brewery, access_token: false}\n", 7, "this audience mapper has access_token: false"},
		{spec.LibKeycloakOID, "", "      mappers:\n        - client_roles: {claim: roles, id_token: false}\n", 7, "reads the roles claim from the ID token"},
		{spec.LibMozilla, spec.APIDRFOIDC, "      mappers:\n        - audience: {client: brewery, access_token: false}\n", 7, "drf-oidc-auth checks the access token's aud"},
	}
	for _, tt := range tests {
		_, _, err := KeycloakWithNeeds(load(t, siteFile(tt.lib, tt.api, tt.extra)))
		var es spec.Errors
		if !errors.As(err, &es) || len(es) != 1 || es[0].Line != tt.line || !strings.Contains(err.Error(), tt.want) ||
			!strings.Contains(err.Error(), "django site brewery ("+tt.lib+")") || !es.BadInput() {
			t.Errorf("%s %q: %v (line %d)", tt.lib, tt.extra, err, func() int {
				if len(es) > 0 {
					return es[0].Line
				}
				return 0
			}())
		}
	}
}

func TestCheckALiveClient(t *testing.T) {
	site := &spec.DjangoSite{Name: "b", Client: "brewery", Library: spec.LibSocial, URL: "http://app", Logout: "local"}
	live := &spec.Client{ClientID: "brewery", RedirectURIs: []string{"http://app/social/complete/keycloak/"},
		Mappers: []spec.Mapper{{Groups: &spec.GroupsMapper{}}}}
	ps := Check(site, live)
	if len(ps) != 1 || !strings.Contains(ps[0].Message, "audience mapper") || !strings.Contains(ps[0].Message, "Invalid audience") {
		t.Fatalf("a live client without the audience mapper: %+v", ps)
	}
	live.Mappers = append(live.Mappers, spec.Mapper{Audience: &spec.AudienceMapper{Client: "brewery"}})
	if ps := Check(site, live); len(ps) != 0 {
		t.Errorf("a client that meets every need: %+v", ps)
	}
	site.Library = spec.LibJWTOIDC
	if ps := Check(site, live); ps != nil {
		t.Errorf("a refused library has no needs: %+v", ps)
	}
}

func TestRenderRefusesWhatCannotLogIn(t *testing.T) {
	for _, lib := range []string{spec.LibJWTOIDC, spec.LibAdminSSO, spec.LibDjangoOIDC} {
		_, err := Render(Input{Site: &spec.DjangoSite{Name: "b", Library: lib}})
		var re *RefusedError
		if !errors.As(err, &re) || re.Nearest != spec.LibMozilla || !strings.Contains(err.Error(), "Use mozilla-django-oidc instead") {
			t.Errorf("%s: %v", lib, err)
		}
	}
	_, err := Render(Input{Site: &spec.DjangoSite{Name: "b", Library: "nope"}})
	if err == nil {
		t.Error("an unknown library must fail")
	}
}

var testEndpoints = Endpoints{Issuer: "http://kc/realms/demo", Authorization: "http://kc/realms/demo/protocol/openid-connect/auth",
	Token: "http://kc/realms/demo/protocol/openid-connect/token", Userinfo: "http://kc/realms/demo/protocol/openid-connect/userinfo",
	JWKS: "http://kc/realms/demo/protocol/openid-connect/certs", EndSession: "http://kc/realms/demo/protocol/openid-connect/logout"}

// The rendered app of every library and API, pinned by golden files, and
// valid Python.
func TestRenderGolden(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil && os.Getenv("CI") != "" {
		t.Fatal("python3 is needed to check the rendered Python")
	}
	for _, tt := range []struct{ lib, api string }{
		{spec.LibMozilla, spec.APIMozilla}, {spec.LibKeycloakOID, ""}, {spec.LibSocial, spec.APIDRFOIDC},
		{spec.LibSocialOIDC, ""}, {spec.LibAllauth, spec.APIKeycloakAut},
	} {
		f := load(t, siteFile(tt.lib, tt.api, ""))
		k, _, err := KeycloakWithNeeds(f)
		if err != nil {
			t.Fatal(err)
		}
		site := &f.Django.Sites[0]
		in := Input{Site: site, Client: k.Client("brewery"), KeycloakURL: "http://kc", Realm: "demo", Endpoints: testEndpoints, PublicKey: "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIB"}
		files, err := Render(in)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := Render(in)
		var all strings.Builder
		dir := t.TempDir()
		var pyFiles []string
		for i, fl := range files {
			if again[i].SHA256 != fl.SHA256 {
				t.Errorf("%s: %s differs between two renders", tt.lib, fl.Path)
			}
			all.WriteString("=== " + fl.Path + "\n")
			all.Write(fl.Data)
			p := filepath.Join(dir, fl.Path)
			os.MkdirAll(filepath.Dir(p), 0o755)
			os.WriteFile(p, fl.Data, 0o644)
			if strings.HasSuffix(fl.Path, ".py") {
				pyFiles = append(pyFiles, p)
			}
		}
		golden.Assert(t, "render-"+tt.lib+".golden", []byte(all.String()))
		if python != "" {
			out, err := exec.Command(python, append([]string{"-c", "import ast, sys\nfor p in sys.argv[1:]: ast.parse(open(p).read(), p)"}, pyFiles...)...).CombinedOutput()
			if err != nil {
				t.Errorf("%s: the rendered Python does not parse: %v\n%s", tt.lib, err, out)
			}
		}
	}
}

func TestPyLiterals(t *testing.T) {
	for _, tt := range []struct {
		in   any
		want string
	}{
		{nil, "None"}, {true, "True"}, {false, "False"}, {`a"b\c`, `"a\"b\\c"`}, {"é\n", `"\u00e9\n"`},
		{[]string{"a", "b"}, `["a", "b"]`}, {map[string]string{"z": "1", "a": "2"}, `{"a": "2", "z": "1"}`}, {map[string]string(nil), "None"},
	} {
		got, err := py(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("py(%#v) = %s %v, want %s", tt.in, got, err, tt.want)
		}
	}
	if _, err := py(42); err == nil {
		t.Error("an int has no literal here")
	}
}

func TestRequirements(t *testing.T) {
	got := Requirements(&spec.DjangoSite{Library: spec.LibKeycloakOID, API: spec.APIMozilla})
	want := []string{"Django==5.2.19", "mozilla-django-oidc==5.0.2", "django-keycloak-oidc==0.3.255", "djangorestframework==3.18.3"}
	if !slices.Equal(got, want) {
		t.Errorf("%v", got)
	}
}

func TestApplyRolesMode(t *testing.T) {
	f := load(t, `keycloak:
  url: http://kc
  realm: demo
  clients:
    - client_id: brewery
      roles: [brewer, drinker]
django:
  sites:
    - {name: b, client: brewery, library: social-auth, url: http://x, roles: true, staff: [brewer], groups: {brewer: brewers}}
`)
	k, _, err := KeycloakWithNeeds(f)
	if err != nil {
		t.Fatal(err)
	}
	c := k.Client("brewery")
	if !slices.ContainsFunc(c.Mappers, func(m spec.Mapper) bool {
		return m.ClientRoles != nil && m.ClientRoles.Client == "brewery" && m.ClientRoles.Claim == "" && m.ClientRoles.Prefix == ""
	}) || slices.ContainsFunc(c.Mappers, func(m spec.Mapper) bool { return m.Groups != nil }) {
		t.Errorf("roles: true needs the client's roles at resource_access, not a groups mapper: %+v", c.Mappers)
	}
	files, err := Render(Input{Site: &f.Django.Sites[0], Client: c, Endpoints: testEndpoints, PublicKey: "K"})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(files, func(f File) bool { return f.Path == "keycloak_sso/mapping.py" })
	if !strings.Contains(string(files[i].Data), `SOURCE = "roles"`) || !strings.Contains(string(files[i].Data), `GROUP_MAP = {"brewer": "brewers"}`) {
		t.Errorf("mapping.py:\n%s", files[i].Data)
	}
}

// A groups mapper in one of the client's default scopes meets the need; a
// scope mapper that leaves out a token the library reads is refused at its
// own line.
func TestApplyCountsDefaultScopes(t *testing.T) {
	file := func(flags string) string {
		return strings.Replace(siteFile(spec.LibMozilla, "", "      default_scopes: [profile, site-groups]\n"), "  clients:\n",
			"  client_scopes:\n    - name: site-groups\n      mappers:\n        - groups: {claim: groups"+flags+"}\n  clients:\n", 1)
	}
	k, needs, err := KeycloakWithNeeds(load(t, file("")))
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Clients[0].Mappers) != 0 || slices.ContainsFunc(needs, func(n Need) bool { return n.Kind == "mapper" }) {
		t.Errorf("a groups mapper was added although the scope has one: %+v %+v", k.Clients[0].Mappers, needs)
	}
	_, _, err = KeycloakWithNeeds(load(t, file(", userinfo: false")))
	var es spec.Errors
	if !errors.As(err, &es) || len(es) != 1 || es[0].Key != "keycloak.client_scopes[0].mappers[0]" || es[0].Line != 7 || !strings.Contains(err.Error(), "userinfo: false") {
		t.Errorf("scope mapper without userinfo: %v", err)
	}
}
