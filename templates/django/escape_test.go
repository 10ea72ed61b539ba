package django

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"strings"
	"testing"
	"text/template"
	"text/template/parse"

	"github.com/ssoctl/ssoctl/spec"
)

// hostile is a value that ends every kind of Python string, comment and
// docstring, and opens every kind of Django template tag; with tag in front
// it tells the fields apart.
func hostile(tag string) string {
	return tag + `"""` + "\n__import__('os').system('touch PWNED')\n" + `'''` + "\n#" + `\N{BULLET}` + "\\\x00" +
		`{% now "Y" %}{{ "INJ"|add:"ECTED" }}{# c #}</script><script>alert(1)</script>` + "\r\n\u2028\u00e9\U0001F600\x7f\\"
}

// No value reaches the rendered source but through its language's one
// escaping function: every action that prints in a .py template is a py
// call, and in the HTML template a text call.
func TestTemplatesPrintOnlyThroughEscapers(t *testing.T) {
	names, err := fs.Glob(appFiles, "app/*.tmpl")
	if err != nil || len(names) == 0 {
		t.Fatal(names, err)
	}
	for _, n := range names {
		want := "py"
		if strings.HasSuffix(n, ".html.tmpl") {
			want = "text"
		}
		b, _ := appFiles.ReadFile(n)
		tmpl, err := template.New(path.Base(n)).Delims("[[", "]]").Funcs(template.FuncMap{"py": py, "text": templateText}).Parse(string(b))
		if err != nil {
			t.Fatal(err)
		}
		actions := 0
		var walk func(parse.Node)
		walk = func(node parse.Node) {
			switch x := node.(type) {
			case *parse.ListNode:
				if x == nil {
					return
				}
				for _, c := range x.Nodes {
					walk(c)
				}
			case *parse.ActionNode:
				actions++
				cmds := x.Pipe.Cmds
				if len(x.Pipe.Decl) > 0 || len(cmds) != 1 || len(cmds[0].Args) < 2 {
					t.Errorf("%s:%d: %s prints without %s", n, x.Line, x, want)
					return
				}
				if id, ok := cmds[0].Args[0].(*parse.IdentifierNode); !ok || id.Ident != want {
					t.Errorf("%s:%d: %s prints without %s", n, x.Line, x, want)
				}
			case *parse.IfNode:
				walk(x.List)
				walk(x.ElseList)
			case *parse.RangeNode, *parse.WithNode, *parse.TemplateNode:
				t.Errorf("%s: %s: the check knows no such node", n, x)
			case *parse.TextNode, *parse.CommentNode:
			default:
				t.Errorf("%s: unexpected node %T", n, x)
			}
		}
		walk(tmpl.Tree.Root)
		if actions == 0 && !strings.HasPrefix(path.Base(n), "apps.") {
			t.Errorf("%s prints nothing: is the walk right?", n)
		}
	}
}

// Every hostile string comes back from the Python literal unchanged, as the
// real Python reads it, and the template text escape leaves no character
// that HTML or Django's template language gives a meaning to.
func TestEscapersHoldHostileValues(t *testing.T) {
	values := []string{"", `"`, `'`, `\`, `\\"`, `"""`, `'''`, "\n", "\r", "\x00", `\N{BULLET}`, `\x41`, `\u0041`,
		"\u2028\u2029\u0085", "\x7f\x1b[0m", "é😀", "{% now 'Y' %}", "{{ x }}", "</script>", hostile("v")}
	for _, v := range values {
		got := templateText(v)
		if strings.ContainsAny(got, "<>\"'{}%\x00") || strings.Count(got, "&") != strings.Count(got, ";") {
			t.Errorf("templateText(%q) = %q", v, got)
		}
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("python3 is needed to read the literals back")
		}
		t.Skip("no python3")
	}
	lits := make([]string, len(values))
	for i, v := range values {
		lits[i] = pyString(v)
	}
	in, _ := json.Marshal(lits)
	cmd := exec.Command(python, "-c", `import ast, json, sys
print(json.dumps([ast.literal_eval(s) for s in json.load(sys.stdin)]))`)
	cmd.Stdin = strings.NewReader(string(in))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v", err)
	}
	var back []string
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	for i, v := range values {
		if back[i] != v {
			t.Errorf("%q reads back as %q from %s", v, back[i], lits[i])
		}
	}
}

// A discovery document or public key that cannot be the realm's is refused,
// naming the field; Keycloak's own passes.
func TestInputCheckRefusesWhatIsNotTheRealms(t *testing.T) {
	good := func() Input {
		return Input{Site: &spec.DjangoSite{Library: spec.LibSocial}, Realm: "demo", Endpoints: testEndpoints,
			PublicKey: "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwsCr1ChvhLNBXUFgPnt1/zsMakkEzpUnaq9YkFQaxDQ1XWsFdrlo6PNYI1V6jLcN0xVx4zhH41WEe5xjuimS8c3TXLcI2JZsmWTrXpVe+Vaa5Hnw7ezJiYWYhTl6W7IGvKJDhwxmv4pZ4JKsTFbgR5RoUvTDSTbUmQvMNK02IXLCUd+53Mvt1SeKOjBhHB9KaQ1nBm3wi0fQoa39VWf+7d8D7Yf6uRnUWsvHUP6LxNKqqWRhjFSi6hbz3CjKG26gdHTeMYt9wEL6pf9CEFcXo2VNm58DR6QUa5iy8CPqmEXZyTPUTOM+Zc4oGeO/WmD9F7bfO8ugwOp8GZxt4RlSIQIDAQAB"}
	}
	if err := good().Check("http://kc/realms/demo/.well-known/openid-configuration"); err != nil {
		t.Fatalf("Keycloak's own document: %v", err)
	}
	// Keycloak's backchannel endpoints may name the host it was asked on.
	in := good()
	in.Endpoints.Token = "http://127.0.0.1:8080/realms/demo/protocol/openid-connect/token"
	if err := in.Check("http://127.0.0.1:8080/realms/demo/.well-known/openid-configuration"); err != nil {
		t.Errorf("a backchannel endpoint on the asked host: %v", err)
	}
	for _, tt := range []struct {
		name  string
		edit  func(*Input)
		field string
	}{
		{"another realm's issuer", func(in *Input) { in.Endpoints.Issuer = "http://kc/realms/other" }, "issuer"},
		{"an issuer that is no URL", func(in *Input) { in.Endpoints.Issuer = "kc/realms/demo" }, "issuer"},
		{"a newline", func(in *Input) { in.Endpoints.Token += "\n__import__('os')" }, "token_endpoint"},
		{"a javascript: URL", func(in *Input) { in.Endpoints.Authorization = "javascript:alert(1)//kc/realms/demo/x" }, "authorization_endpoint"},
		{"another host", func(in *Input) { in.Endpoints.JWKS = "http://evil/realms/demo/protocol/openid-connect/certs" }, "jwks_uri"},
		{"outside the realm", func(in *Input) { in.Endpoints.Userinfo = "http://kc/realms/other/userinfo" }, "userinfo_endpoint"},
		{"credentials", func(in *Input) { in.Endpoints.EndSession = "http://u:p@kc/realms/demo/logout" }, "end_session_endpoint"},
		{"a query", func(in *Input) { in.Endpoints.EndSession = "http://kc/realms/demo/logout?x=1" }, "end_session_endpoint"},
		{"missing", func(in *Input) { in.Endpoints.EndSession = "" }, "end_session_endpoint"},
		{"a key that is no key", func(in *Input) { in.PublicKey = `"""` + "\nimport os" }, "public_key"},
	} {
		in := good()
		tt.edit(&in)
		err := in.Check("http://kc/realms/demo/.well-known/openid-configuration")
		var ie *InputError
		if !errors.As(err, &ie) || ie.Field != tt.field || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

// Values reach the rendered files only as their literals: with every value
// literal swapped for the literal of a plain stand-in, each file is byte for
// byte the render of the stand-ins. A value printed raw anywhere (a
// docstring, a comment, a template tag) would survive the swap.
func FuzzRenderValues(f *testing.F) {
	f.Add("brewery", "preferred_username", "customers", "brewers", "http://kc/realms/demo", 0)
	f.Add(`a"""b`, "x\ny", "{% endcomment %}", `\N{BULLET}`, "http://kc/realms/demo/'''", 2)
	f.Add("\\", "\x00", "</script>", "\r", "é😀\u2028", 4)
	combos := []struct{ lib, api string }{
		{spec.LibMozilla, spec.APIMozilla}, {spec.LibKeycloakOID, ""}, {spec.LibSocial, spec.APIDRFOIDC},
		{spec.LibSocialOIDC, ""}, {spec.LibAllauth, spec.APIKeycloakAut},
	}
	f.Fuzz(func(t *testing.T, a, b, c, d, e string, n int) {
		for _, s := range []string{a, b, c, d, e} {
			if strings.Contains(s, "\x01") {
				t.Skip("\\x01 marks the values")
			}
		}
		combo := combos[(n%len(combos)+len(combos))%len(combos)]
		// Each field gets its own value: a mark, the field's stand-in, the fuzzed text.
		fields := []string{"site", "client", "claim", "staff", "super", "kc", "dj", "gclaim", "url", "env", "kcurl", "realm", "key",
			"issuer", "auth", "token", "userinfo", "jwks", "end"}
		inputs := []string{a, b, c, d, e}
		val := map[string]string{}
		var swap []string
		for i, name := range fields {
			val[name] = "\x01" + name + inputs[i%len(inputs)]
			swap = append(swap, pyString(val[name]), pyString(name), templateText(val[name]), templateText(name))
		}
		// Two values are printed derived: the site's post-logout URI and the server's URL without its trailing slash.
		swap = append([]string{pyString(val["url"] + PostLogoutPath), pyString("url" + PostLogoutPath),
			pyString(strings.TrimRight(val["kcurl"], "/")), pyString("kcurl")}, swap...)
		render := func(v func(string) string) []File {
			site := &spec.DjangoSite{Name: v("site"), Client: v("client"), Library: combo.lib, URL: v("url"), ClientSecretEnv: v("env"),
				UsernameClaim: v("claim"), Staff: []string{v("staff")}, Superuser: []string{v("super")}, Groups: map[string]string{v("kc"): v("dj")},
				Logout: "keycloak", API: combo.api}
			files, err := Render(Input{Site: site, Client: &spec.Client{ClientID: site.Client, Mappers: []spec.Mapper{{Groups: &spec.GroupsMapper{Claim: v("gclaim")}}}},
				KeycloakURL: v("kcurl"), Realm: v("realm"), PublicKey: v("key"), Endpoints: Endpoints{Issuer: v("issuer"), Authorization: v("auth"),
					Token: v("token"), Userinfo: v("userinfo"), JWKS: v("jwks"), EndSession: v("end")}})
			if err != nil {
				t.Fatal(err)
			}
			return files
		}
		got := render(func(name string) string { return val[name] })
		want := render(func(name string) string { return name })
		r := strings.NewReplacer(swap...)
		for i := range got {
			if s := r.Replace(string(got[i].Data)); s != string(want[i].Data) {
				t.Fatalf("%s holds a value other than as its literal:\n%s", got[i].Path, got[i].Data)
			}
		}
	})
}
