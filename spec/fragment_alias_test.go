package spec

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// Fixes exactly as inspect/doctor renders them (clientFix, mapperFix,
// roleFix, mountFix in inspect/doctor/fixes.go).
func clientFixYAML(client string, lines ...string) string {
	return "keycloak:\n  clients:\n    - client_id: " + client + "\n" + indentLines(lines)
}

func roleFixYAML(mount, role string, lines ...string) string {
	out := "vault:\n  auth:\n    - path: " + mount + "\n      roles:\n        " + role + ":\n"
	for _, l := range lines {
		out += "          " + l + "\n"
	}
	return out
}

func indentLines(lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString("      " + l + "\n")
	}
	return b.String()
}

const (
	callback      = "http://localhost:8250/oidc/callback"
	clientRolesFx = `client_roles: {client: vault, claim: "resource_access.${client_id}.roles", id_token: true, access_token: true, userinfo: true}`
)

var (
	redirectFix = func(client string) string { return clientFixYAML(client, "redirect_uris: ["+callback+"]") }
	audienceFix = func(client string) string { return clientFixYAML(client, "mappers:", "  - audience: vault") }
	rolesFix    = func(client string) string { return clientFixYAML(client, "mappers:", "  - "+clientRolesFx) }
)

// ssoFile is a whole sso.yaml around clients (list items at 4 spaces) and
// the oidc mount's roles (mapping entries at 8 spaces), with groups, users,
// a second mount, a Django site and Rancher that no fix touches.
func ssoFile(clients, roles string) string {
	return `# shared values
keycloak:
  url: http://kc
  realm: demo
  clients:
` + clients + `    - client_id: https://rancher.example.com/v1-saml/keycloak/saml/metadata
      protocol: saml
      redirect_uris: [https://rancher.example.com/v1-saml/keycloak/saml/acs]
  groups:
    - {name: kv-readers, client_roles: {vault: [secret_reader]}}
  users:
    - {username: alice, password_env: ALICE_PASSWORD, groups: [kv-readers]}
vault:
  addr: http://v
  auth:
    - path: oidc
      type: oidc
      discovery_url: http://kc/realms/demo
      client_id: vault
      roles:
` + roles + `      groups:
        - {name: manager, policies: [manager], alias: secret_reader}
    - path: jwt
      type: jwt
      discovery_url: http://kc/realms/demo
      roles:
        default: {user_claim: sub, bound_audiences: [vault], policies: [reader]}
django:
  sites:
    - {name: shop, client: shop, library: mozilla-django-oidc, url: "http://127.0.0.1:8000"}
rancher:
  url: https://rancher.example.com
  fields: {display_name: givenName, user_name: email, uid: email, groups: member}
`
}

const plainRoles = "        default: {user_claim: sub, bound_audiences: [vault], allowed_redirect_uris: [http://a/cb], policies: [reader]}\n"

const shopClient = "    - client_id: shop\n      redirect_uris: [http://127.0.0.1:8000/oidc/callback/]\n"

// The cases: a fix through an alias, at an anchor others alias,
// under << merge keys, through an aliased item or mapper, nested anchors.
// For each, the fixed object means what it meant plus the fix, everything
// else what it meant before (checkMerge), and the file still loads.
func TestMergeFragmentThroughAnchors(t *testing.T) {
	uris := func(f *File, client string) []string { return f.Keycloak.Client(client).RedirectURIs }
	// Nested anchors: vault owns &c1, which app inherits with <<, and &r inside it, which app2 aliases.
	nested := ssoFile(`    - &c1
      client_id: vault
      roles: [secret_reader]
      redirect_uris: &r [http://a/cb]
    - <<: *c1
      client_id: app
    - client_id: app2
      redirect_uris: *r
`+shopClient, plainRoles)
	for _, tt := range []struct {
		name, doc, fix string
		comment        string // the comment the merge leaves ("" for none)
		check          func(t *testing.T, before, after *File)
	}{
		{"the list to extend is an alias", ssoFile(`    - client_id: vault
      roles: [secret_reader]
      redirect_uris: &r [http://a/cb, http://b/cb]
    - client_id: app
      redirect_uris: *r
`+shopClient, plainRoles), redirectFix("app"), "# expanded from *r by ssoctl doctor --fix: the fix changes this copy only",
			func(t *testing.T, before, after *File) {
				if got := uris(after, "app"); !slices.Equal(got, []string{"http://a/cb", "http://b/cb", callback}) {
					t.Errorf("app's redirect_uris %v: a URI was dropped", got)
				}
			}},
		{"the anchor's owner is fixed", ssoFile(`    - client_id: vault
      roles: [secret_reader]
      redirect_uris: &r [http://a/cb, http://b/cb]
    - client_id: app
      redirect_uris: *r
    - client_id: app2
      redirect_uris: *r
`+shopClient, plainRoles), redirectFix("vault"), "# &r moved here from keycloak.clients[vault].redirect_uris by ssoctl doctor --fix: the fix changes that one only",
			func(t *testing.T, before, after *File) {
				if got := uris(after, "app"); len(got) != 2 || len(uris(after, "app2")) != 2 || len(uris(after, "vault")) != 3 {
					t.Errorf("app %v app2 %v vault %v: the fix reached the aliases", got, uris(after, "app2"), uris(after, "vault"))
				}
			}},
		{"a merge key: the fixed key is only in the base", ssoFile(`    - &base
      client_id: vault
      roles: [secret_reader]
      redirect_uris: [http://a/cb]
      mappers:
        - audience: vault
    - <<: *base
      client_id: app
`+shopClient, plainRoles), rolesFix("app"), "# copied from <<: *base by ssoctl doctor --fix: the fix changes this copy only",
			func(t *testing.T, before, after *File) {
				app := after.Keycloak.Client("app")
				if len(app.Mappers) != 2 || app.Mappers[0].Audience == nil || app.Mappers[1].ClientRoles == nil || len(after.Keycloak.Client("vault").Mappers) != 1 {
					t.Errorf("app's mappers %+v: the inherited audience mapper was lost", app.Mappers)
				}
			}},
		{"a merge key: a redirect URI under the base", ssoFile(`    - &base
      client_id: vault
      roles: [secret_reader]
      redirect_uris: [http://a/cb]
    - <<: *base
      client_id: app
`+shopClient, plainRoles), redirectFix("app"), "# copied from <<: *base",
			func(t *testing.T, before, after *File) {
				if got := uris(after, "app"); !slices.Equal(got, []string{"http://a/cb", callback}) || len(uris(after, "vault")) != 1 {
					t.Errorf("app %v vault %v", got, uris(after, "vault"))
				}
			}},
		{"the merge base's owner is fixed", ssoFile(`    - &base
      client_id: vault
      roles: [secret_reader]
      redirect_uris: [http://a/cb]
    - <<: *base
      client_id: app
`+shopClient, plainRoles), redirectFix("vault"), "# &base moved here",
			func(t *testing.T, before, after *File) {
				if len(uris(after, "app")) != 1 || len(uris(after, "vault")) != 2 {
					t.Errorf("app %v vault %v", uris(after, "app"), uris(after, "vault"))
				}
			}},
		{"a merge list: the first source that has the key wins", ssoFile(`    - &a {client_id: vault, roles: [secret_reader], redirect_uris: [http://a/cb]}
    - &b {client_id: b, redirect_uris: [http://b/cb], mappers: [{audience: vault}]}
    - <<: [*a, *b]
      client_id: app
`+shopClient, plainRoles), redirectFix("app"), "# copied from <<: *a",
			func(t *testing.T, before, after *File) {
				app := after.Keycloak.Client("app")
				if !slices.Equal(app.RedirectURIs, []string{"http://a/cb", callback}) || len(app.Mappers) != 1 {
					t.Errorf("app %+v", app)
				}
			}},
		{"a merge list: the key from the second source", ssoFile(`    - &a {client_id: vault, roles: [secret_reader], redirect_uris: [http://a/cb]}
    - &b {client_id: b, redirect_uris: [http://b/cb], mappers: [{audience: vault}]}
    - <<: [*a, *b]
      client_id: app
`+shopClient, plainRoles), rolesFix("app"), "# copied from <<: *b",
			func(t *testing.T, before, after *File) {
				if app := after.Keycloak.Client("app"); len(app.Mappers) != 2 || len(after.Keycloak.Client("b").Mappers) != 1 {
					t.Errorf("app %+v", app.Mappers)
				}
			}},
		{"an alias of a whole role", ssoFile(shopClient+"    - {client_id: vault, roles: [secret_reader]}\n", `        default: &role
          user_claim: email
          allowed_redirect_uris: [http://a/cb]
          policies: [reader]
        admin: *role
`), roleFixYAML("oidc", "admin", "allowed_redirect_uris: ["+callback+"]"), "# expanded from *role",
			func(t *testing.T, before, after *File) {
				admin, def := after.Vault.Auth[0].Roles["admin"], after.Vault.Auth[0].Roles["default"]
				if admin.UserClaim != "email" || len(admin.Policies) != 1 || len(admin.AllowedRedirectURIs) != 2 || len(def.AllowedRedirectURIs) != 1 {
					t.Errorf("admin %+v default %+v", admin, def)
				}
			}},
		{"the whole role's owner, a scalar replaced", ssoFile(shopClient+"    - {client_id: vault, roles: [secret_reader]}\n", `        default: &role
          user_claim: email
          allowed_redirect_uris: [http://a/cb]
          policies: [reader]
        admin: *role
`), roleFixYAML("oidc", "default", "user_claim: sub"), "# &role moved here",
			func(t *testing.T, before, after *File) {
				if r := after.Vault.Auth[0].Roles; r["default"].UserClaim != "sub" || r["admin"].UserClaim != "email" {
					t.Errorf("roles %+v", r)
				}
			}},
		{"an anchored scalar replaced", ssoFile(shopClient+"    - {client_id: vault, roles: [secret_reader]}\n", `        default: {user_claim: &uc email, allowed_redirect_uris: [http://a/cb], policies: [reader]}
        admin: {user_claim: *uc, allowed_redirect_uris: [http://a/cb], policies: [reader]}
`), roleFixYAML("oidc", "default", "user_claim: sub"), "# &uc moved here",
			func(t *testing.T, before, after *File) {
				if r := after.Vault.Auth[0].Roles; r["default"].UserClaim != "sub" || r["admin"].UserClaim != "email" {
					t.Errorf("roles %+v", r)
				}
			}},
		{"an alias of a mapper, replaced by its name", ssoFile(`    - client_id: vault
      roles: [secret_reader]
      mappers:
        - &cr {client_roles: {client: vault, claim: "resource_access.${client_id}.roles"}}
    - client_id: app
      mappers:
        - *cr
`+shopClient, plainRoles), rolesFix("app"), "",
			func(t *testing.T, before, after *File) {
				app, vault := after.Keycloak.Client("app").Mappers, after.Keycloak.Client("vault").Mappers
				if len(app) != 1 || app[0].ClientRoles.IDToken == nil || vault[0].ClientRoles.IDToken != nil {
					t.Errorf("app %+v vault %+v", app, vault)
				}
			}},
		{"an anchored mapper replaced at its owner", ssoFile(`    - client_id: vault
      roles: [secret_reader]
      mappers:
        - &cr {client_roles: {client: vault, claim: "resource_access.${client_id}.roles"}}
    - client_id: app
      mappers:
        - *cr
`+shopClient, plainRoles), rolesFix("vault"), "# &cr moved here",
			func(t *testing.T, before, after *File) {
				app, vault := after.Keycloak.Client("app").Mappers, after.Keycloak.Client("vault").Mappers
				if len(app) != 1 || app[0].ClientRoles.IDToken != nil || vault[0].ClientRoles.IDToken == nil {
					t.Errorf("app %+v vault %+v", app, vault)
				}
			}},
		{"an alias of a whole mappers list", ssoFile(`    - client_id: vault
      roles: [secret_reader]
      mappers: &ms
        - realm_roles: {claim: realm_roles}
    - client_id: app
      mappers: *ms
`+shopClient, plainRoles), audienceFix("app"), "# expanded from *ms",
			func(t *testing.T, before, after *File) {
				if len(after.Keycloak.Client("app").Mappers) != 2 || len(after.Keycloak.Client("vault").Mappers) != 1 {
					t.Error("mappers")
				}
			}},
		{"nested anchors: the owner of both", nested, redirectFix("vault"), "# &r moved here",
			func(t *testing.T, before, after *File) {
				if len(uris(after, "vault")) != 2 || len(uris(after, "app")) != 1 || len(uris(after, "app2")) != 1 {
					t.Errorf("vault %v app %v app2 %v", uris(after, "vault"), uris(after, "app"), uris(after, "app2"))
				}
			}},
		{"nested anchors: inherited, itself an anchor", nested, redirectFix("app"), "# copied from <<: *c1",
			func(t *testing.T, before, after *File) {
				if len(uris(after, "vault")) != 1 || len(uris(after, "app")) != 2 || len(uris(after, "app2")) != 1 {
					t.Errorf("vault %v app %v app2 %v", uris(after, "vault"), uris(after, "app"), uris(after, "app2"))
				}
			}},
		{"an aliased list inside an alias", ssoFile(`    - client_id: vault
      roles: [secret_reader]
      redirect_uris: &r [http://a/cb]
    - &app {client_id: app, redirect_uris: *r, enabled: true}
`+shopClient, plainRoles+"        admin: {user_claim: sub, allowed_redirect_uris: *r}\n"), roleFixYAML("oidc", "admin", "allowed_redirect_uris: ["+callback+"]"), "# expanded from *r",
			func(t *testing.T, before, after *File) {
				if len(after.Vault.Auth[0].Roles["admin"].AllowedRedirectURIs) != 2 || len(uris(after, "app")) != 1 {
					t.Error("admin's URIs")
				}
			}},
		{"a fix already there through an alias changes nothing", ssoFile(`    - client_id: vault
      roles: [secret_reader]
      redirect_uris: &r [http://a/cb, `+callback+`]
    - client_id: app
      redirect_uris: *r
`+shopClient, plainRoles), redirectFix("app"), "",
			func(t *testing.T, before, after *File) {}},
		{"a fix already inherited changes nothing", ssoFile(`    - &base {client_id: vault, roles: [secret_reader], enabled: true, mappers: [{audience: vault}]}
    - {<<: *base, client_id: app}
`+shopClient, plainRoles), clientFixYAML("app", "enabled: true") + audienceFix("app")[len("keycloak:\n  clients:\n    - client_id: app\n"):], "",
			func(t *testing.T, before, after *File) {}},
		{"a scalar inherited through << is set on the client only", ssoFile(`    - &base {client_id: vault, roles: [secret_reader], enabled: false}
    - {<<: *base, client_id: app}
`+shopClient, plainRoles), clientFixYAML("app", "enabled: true"), "",
			func(t *testing.T, before, after *File) {
				if !*after.Keycloak.Client("app").Enabled || *after.Keycloak.Client("vault").Enabled {
					t.Error("enabled")
				}
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before, err := Parse("sso.yaml", []byte(tt.doc), nil)
			if err != nil {
				t.Fatalf("the file does not load before the fix: %v\n%s", err, tt.doc)
			}
			out := checkMerge(t, []byte(tt.doc), []byte(tt.fix))
			after, err := Parse("sso.yaml", out, nil)
			if err != nil {
				t.Fatalf("the fixed file does not load: %v\n%s", err, out)
			}
			tt.check(t, before, after)
			if tt.comment != "" && !strings.Contains(string(out), tt.comment) {
				t.Errorf("no %q in\n%s", tt.comment, out)
			}
			if tt.comment == "" && strings.Contains(string(out), "by ssoctl doctor --fix") {
				t.Errorf("a comment where nothing was copied:\n%s", out)
			}
			if !strings.Contains(string(out), "# shared values") || strings.Contains(string(out), "!!merge") {
				t.Errorf("the file's comment lost, or !!merge written:\n%s", out)
			}
		})
	}
}

// checkMerge merges fix into doc and checks the result's meaning: the same
// as merging fix into doc with every alias and merge key written out, and,
// for everything the fix does not name, the same as doc. It returns the
// merged text.
func checkMerge(t *testing.T, doc, fix []byte) []byte {
	t.Helper()
	out, err := MergeFragment(doc, fix)
	if err != nil {
		t.Fatalf("merge: %v\n%s", err, fix)
	}
	plain, err := expandText(doc)
	if err != nil {
		t.Fatal(err)
	}
	want, err := MergeFragment(plain, fix)
	if err != nil {
		t.Fatalf("merge into the expanded file: %v", err)
	}
	got, wantM, beforeM := mustMeaning(t, out), mustMeaning(t, want), mustMeaning(t, doc)
	if !reflect.DeepEqual(got, wantM) {
		t.Errorf("the fixed file means\n%v\nwant (the fix merged into the file with its aliases written out)\n%v\nfile:\n%s", got, wantM, out)
	}
	var f yaml.Node
	yaml.Unmarshal(fix, &f)
	for _, d := range sameOutside("", beforeM, got, meaningOf(f.Content[0])) {
		t.Errorf("changed, though the fix does not name it: %s\n%s", d, out)
	}
	return out
}

func mustMeaning(t *testing.T, data []byte) any {
	t.Helper()
	m, err := meaning(data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	return m
}

// meaning is what YAML text means, aliases and merge keys resolved: maps,
// lists and tagged scalars.
func meaning(data []byte) (any, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		return nil, err
	}
	if n.Kind == 0 {
		return nil, nil
	}
	e, err := expand(n.Content[0])
	if err != nil {
		return nil, err
	}
	return meaningOf(e), nil
}

func meaningOf(n *yaml.Node) any {
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = meaningOf(n.Content[i+1])
		}
		return m
	case yaml.SequenceNode:
		l := []any{}
		for _, c := range n.Content {
			l = append(l, meaningOf(c))
		}
		return l
	}
	return n.ShortTag() + ":" + n.Value
}

// expandText writes data out with every alias and merge key expanded.
func expandText(data []byte) ([]byte, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		return nil, err
	}
	e, err := expand(&n)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(e); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// expand copies n with aliases replaced by their values and merge keys by
// the keys they merge, the way yaml.v3 reads them (a mapping's own keys,
// then each source's in order, the first one wins).
func expand(n *yaml.Node) (*yaml.Node, error) {
	budget := countNodes(n) + MaxAliasExpansion
	var ex func(n *yaml.Node, depth int) (*yaml.Node, error)
	ex = func(n *yaml.Node, depth int) (*yaml.Node, error) {
		if budget--; budget < 0 || depth > 1000 {
			return nil, fmt.Errorf("expansion limit")
		}
		n = resolve(n)
		cp := *n
		cp.Anchor, cp.Content = "", nil
		if n.Kind != yaml.MappingNode {
			for _, c := range n.Content {
				e, err := ex(c, depth+1)
				if err != nil {
					return nil, err
				}
				cp.Content = append(cp.Content, e)
			}
			return &cp, nil
		}
		seen := map[string]bool{}
		var merge *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if isMergeKey(n.Content[i]) {
				merge = n.Content[i+1]
				continue
			}
			k, err := ex(n.Content[i], depth+1)
			if err != nil {
				return nil, err
			}
			v, err := ex(n.Content[i+1], depth+1)
			if err != nil {
				return nil, err
			}
			seen[k.Value] = true
			cp.Content = append(cp.Content, k, v)
		}
		if merge != nil {
			sources := []*yaml.Node{merge}
			if r := resolve(merge); r.Kind == yaml.SequenceNode {
				sources = r.Content
			}
			for _, s := range sources {
				e, err := ex(s, depth+1)
				if err != nil {
					return nil, err
				}
				for i := 0; i+1 < len(e.Content); i += 2 {
					if !seen[e.Content[i].Value] {
						seen[e.Content[i].Value] = true
						cp.Content = append(cp.Content, e.Content[i], e.Content[i+1])
					}
				}
			}
		}
		return &cp, nil
	}
	return ex(n, 0)
}

// sameOutside lists what differs between before and after (meanings) in
// the parts that fix (a fragment's meaning) does not name. A key the
// fragment has is named (and compared below it when both are mappings); a
// list item is named when a fragment item has the same client_id, path,
// name or username; a list whose fragment items have no such key is named
// whole.
func sameOutside(where string, before, after, fix any) []string {
	var diffs []string
	switch f := fix.(type) {
	case map[string]any:
		b, ok1 := before.(map[string]any)
		a, ok2 := after.(map[string]any)
		if !ok1 || !ok2 {
			return nil
		}
		for _, k := range unionKeys(b, a) {
			if fv, named := f[k]; named {
				diffs = append(diffs, sameOutside(where+"."+k, b[k], a[k], fv)...)
			} else if !reflect.DeepEqual(b[k], a[k]) {
				diffs = append(diffs, fmt.Sprintf("%s.%s: %v -> %v", where, k, b[k], a[k]))
			}
		}
	case []any:
		b, ok1 := before.([]any)
		a, ok2 := after.([]any)
		if !ok1 || !ok2 {
			return nil
		}
		for _, fi := range f {
			if m, ok := fi.(map[string]any); !ok || identity(m) == "" || isMapperMeaning(m) {
				return nil // named whole
			}
		}
		named := func(item any) map[string]any {
			m, ok := item.(map[string]any)
			if !ok {
				return nil
			}
			for _, fi := range f {
				fm := fi.(map[string]any)
				for _, k := range itemKeys {
					x, ok1 := m[k]
					y, ok2 := fm[k]
					if ok1 && ok2 {
						if x == y {
							return fm
						}
						break
					}
				}
			}
			return nil
		}
		var restB, restA []any
		for _, it := range b {
			if named(it) == nil {
				restB = append(restB, it)
			}
		}
		for _, it := range a {
			if named(it) == nil {
				restA = append(restA, it)
			}
		}
		if !reflect.DeepEqual(restB, restA) {
			diffs = append(diffs, fmt.Sprintf("%s: the items the fix does not name: %v -> %v", where, restB, restA))
		}
		for _, bi := range b {
			fm := named(bi)
			if fm == nil {
				continue
			}
			for _, ai := range a {
				if named(ai) != nil && identity(ai.(map[string]any)) == identity(bi.(map[string]any)) {
					diffs = append(diffs, sameOutside(where+"["+identity(fm)+"]", bi, ai, fm)...)
				}
			}
		}
	}
	return diffs
}

func identity(m map[string]any) string {
	for _, k := range itemKeys {
		if v, ok := m[k]; ok {
			return fmt.Sprint(k, "=", v)
		}
	}
	return ""
}

func isMapperMeaning(m map[string]any) bool {
	for _, k := range mapperKinds {
		if _, ok := m[k]; ok {
			return true
		}
	}
	return false
}

func unionKeys(a, b map[string]any) []string {
	var out []string
	for k := range a {
		out = append(out, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// A document that is not one plain sso.yaml document, and fragments that
// are not plain YAML, are refused; a root anchor changes nothing.
func TestMergeFragmentRefuses(t *testing.T) {
	fix := []byte(redirectFix("app"))
	for _, tt := range []struct{ name, doc, fix, want string }{
		{"two documents", "keycloak: {realm: r}\n---\nkeycloak: {realm: s}\n", string(fix), "a second YAML document"},
		{"a top-level alias", "*a\n", string(fix), "unknown anchor"},
		{"a document that is not a mapping", "[a, b]\n", string(fix), "want a mapping"},
		{"an unknown key in the file", "keycloak: {realm: r, bogus: 1}\n", string(fix), `unknown key "bogus"`},
		{"an alias bomb in the file", string(aliasBomb(1000)), string(fix), "alias expansion limit"},
		{"an alias in the fragment", "keycloak: {realm: r}\n", "keycloak:\n  clients:\n    - client_id: &a app\n      name: *a\n", "plain YAML"},
		{"a merge key in the fragment", "keycloak: {realm: r}\n", "keycloak:\n  clients:\n    - <<: {client_id: app}\n", "plain YAML"},
	} {
		if _, err := MergeFragment([]byte(tt.doc), []byte(tt.fix)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
	doc := ssoFile("    - {client_id: vault, roles: [secret_reader]}\n    - {client_id: app}\n"+shopClient, plainRoles)
	doc = strings.Replace(doc, "keycloak:\n", "&top\nkeycloak:\n", 1)
	out := checkMerge(t, []byte(doc), fix)
	if f, err := Parse("sso.yaml", out, nil); err != nil || !slices.Equal(f.Keycloak.Client("app").RedirectURIs, []string{callback}) {
		t.Errorf("a root anchor: %v\n%s", err, out)
	}
}

// The comment names the object the fix changed, on one line, also when
// the name holds a newline and YAML.
func TestMergeFragmentCommentIsOneLine(t *testing.T) {
	id := "x\nvault: {addr: http://evil}"
	doc := "keycloak:\n  clients:\n    - client_id: " + strconv.Quote(id) + "\n      redirect_uris: &r [http://a/cb]\n    - client_id: app\n      redirect_uris: *r\n"
	out := checkMerge(t, []byte(doc), []byte(clientFixYAML(strconv.Quote(id), "redirect_uris: ["+callback+"]")))
	if !strings.Contains(string(out), `# &r moved here from keycloak.clients[x\nvault: {addr: http://evil}].redirect_uris by ssoctl`) {
		t.Errorf("the comment:\n%s", out)
	}
	if f, err := ParseFragment("sso.yaml", out); err != nil || f.Vault != nil {
		t.Errorf("a vault: section appeared: %v\n%s", err, out)
	}
}

// FuzzMergeFragment merges a fragment into a document: no panic; an error,
// or a result that loads as an sso.yaml's keys and types; and then what the
// fragment does not name means what it meant, and the result means what
// merging into the document with its aliases written out means.
func FuzzMergeFragment(f *testing.F) {
	fixes := []string{redirectFix("app"), redirectFix("vault"), audienceFix("app"), rolesFix("vault"), rolesFix("app"),
		clientFixYAML("app", "enabled: true"), roleFixYAML("oidc", "admin", "allowed_redirect_uris: ["+callback+"]"),
		roleFixYAML("oidc", "default", "user_claim: sub"), "vault:\n  auth:\n    - path: oidc\n      groups:\n        - {name: manager, alias: managers}\n"}
	docs := []string{fileWithComments,
		"keycloak:\n  clients:\n    - client_id: vault\n      redirect_uris: &r [http://a/cb]\n    - client_id: app\n      redirect_uris: *r\n",
		"keycloak:\n  clients:\n    - &b {client_id: vault, mappers: [&m {audience: vault}]}\n    - {<<: *b, client_id: app, enabled: false}\n    - {client_id: c, mappers: [*m]}\n",
		"keycloak:\n  clients:\n    - &a {client_id: a, redirect_uris: [x]}\n    - &b {client_id: b, mappers: [{client_roles: {client: vault}}]}\n    - {<<: [*a, *b], client_id: app}\n",
		"vault:\n  auth:\n    - path: oidc\n      roles: {default: &role {user_claim: &u email, allowed_redirect_uris: [x]}, admin: *role, other: {user_claim: *u}}\n",
		"keycloak: {realm: r}\n---\nvault: {}\n",
		"",
	}
	for _, d := range docs {
		for _, fx := range fixes {
			f.Add([]byte(d), []byte(fx))
		}
	}
	f.Fuzz(func(t *testing.T, doc, fragment []byte) {
		if len(doc) > 64<<10 || len(fragment) > 16<<10 {
			return
		}
		out, err := MergeFragment(doc, fragment)
		if err != nil {
			return
		}
		if _, err := decode("merged", out, "empty"); err != nil {
			t.Fatalf("the merged file does not parse: %v\n%s", err, out)
		}
		var d yaml.Node
		if yaml.Unmarshal(doc, &d) != nil || d.Kind == 0 {
			return
		}
		before, err1 := meaning(doc)
		after, err2 := meaning(out)
		fm, err3 := meaning(fragment)
		if err1 != nil || err2 != nil || err3 != nil {
			return // beyond the expansion limit
		}
		for _, diff := range sameOutside("", before, after, fm) {
			t.Errorf("changed, though the fragment does not name it: %s\n--- doc\n%s\n--- fragment\n%s\n--- merged\n%s", diff, doc, fragment, out)
		}
		if notPlain(&d) == nil {
			return
		}
		plain, err := expandText(doc)
		if err != nil {
			return
		}
		want, err := MergeFragment(plain, fragment)
		if err != nil {
			return
		}
		if wm, _ := meaning(want); !reflect.DeepEqual(after, wm) {
			t.Errorf("the merge means\n%v\nwant (merged into the document with its aliases written out)\n%v\n--- doc\n%s\n--- fragment\n%s\n--- merged\n%s", after, wm, doc, fragment, out)
		}
	})
}
