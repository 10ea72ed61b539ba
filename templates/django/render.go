package django

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"
	"sync"
	"text/template"

	"github.com/ssoctl/ssoctl/spec"
)

//go:embed all:app
var appFiles embed.FS

// Endpoints are the realm's, from its live discovery document.
type Endpoints struct {
	Issuer        string
	Authorization string
	Token         string
	Userinfo      string
	JWKS          string
	EndSession    string
	Introspection string
}

// Input is everything a render needs besides the file.
type Input struct {
	Site *spec.DjangoSite
	// Client is the site's client as the file describes it, after KeycloakWithNeeds.
	Client *spec.Client
	// KeycloakURL and Realm locate the realm.
	KeycloakURL, Realm string
	Endpoints          Endpoints
	// PublicKey is the realm's RS256 public key (base64 SubjectPublicKeyInfo,
	// as GET /realms/<realm> serves it); social-auth's Keycloak backend
	// verifies with it.
	PublicKey string
}

// File is one rendered file, relative to the output directory.
type File struct {
	Path   string `json:"path"`
	Data   []byte `json:"-"`
	SHA256 string `json:"sha256"`
}

// RefusedError is a library that cannot log in against Keycloak 26 as it
// ships; the CLI reports it with exit code 3.
type RefusedError struct {
	Library, Reason, Nearest string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("ssoctl does not render %s: %s. Use %s instead (library: %s)", e.Library, e.Reason, e.Nearest, e.Nearest)
}

// Render writes the keycloak_sso app for one site: the same input gives
// the same bytes.
func Render(in Input) ([]File, error) {
	s := in.Site
	lib := Libraries[s.Library]
	if lib == nil {
		return nil, fmt.Errorf("unknown library %q", s.Library)
	}
	if lib.Refusal != "" {
		return nil, &RefusedError{Library: lib.Name, Reason: lib.Refusal, Nearest: lib.Nearest}
	}
	data := newData(in, lib)
	t, err := appTemplates()
	if err != nil {
		return nil, err
	}
	names, _ := fs.Glob(appFiles, "app/*.tmpl")
	var out []File
	for _, n := range names {
		base := strings.TrimSuffix(path.Base(n), ".tmpl")
		if !data.wants(base) {
			continue
		}
		var b bytes.Buffer
		if err := t.ExecuteTemplate(&b, path.Base(n), data); err != nil {
			return nil, fmt.Errorf("rendering %s: %w", base, err)
		}
		p := "keycloak_sso/" + base
		if base == "login.html" {
			p = "keycloak_sso/templates/admin/login.html"
		}
		sum := sha256.Sum256(b.Bytes())
		out = append(out, File{Path: p, Data: b.Bytes(), SHA256: hex.EncodeToString(sum[:])})
	}
	slices.SortFunc(out, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

// appTemplates are the app's templates, parsed once (executing a parsed
// template is safe from several goroutines).
var appTemplates = sync.OnceValues(func() (*template.Template, error) {
	return template.New("").Delims("[[", "]]").Funcs(template.FuncMap{"py": py, "text": templateText}).ParseFS(appFiles, "app/*.tmpl")
})

// data is what the templates see.
type data struct {
	Site      *spec.DjangoSite
	Library   *Library
	API       string
	Endpoints Endpoints
	Realm     string
	// KeycloakURL is the server's base URL, without a trailing slash.
	KeycloakURL string
	PublicKey   string
	// Source is "groups" or "roles"; GroupsClaim the claim groups come in.
	Source      string
	GroupsClaim string
	// GroupMap is the Keycloak -> Django group map, nil for "same name".
	GroupMap     map[string]string
	Staff        []string
	Superuser    []string
	PostLogout   string
	Requirements []string
}

func newData(in Input, lib *Library) *data {
	s := in.Site
	d := &data{Site: s, Library: lib, API: s.API, Endpoints: in.Endpoints, Realm: in.Realm, KeycloakURL: strings.TrimRight(in.KeycloakURL, "/"),
		PublicKey: in.PublicKey, Source: "groups", GroupsClaim: "groups", GroupMap: s.Groups,
		Staff: orEmpty(s.Staff), Superuser: orEmpty(s.Superuser), PostLogout: s.URL + PostLogoutPath, Requirements: Requirements(s)}
	if s.Roles {
		d.Source = "roles"
	}
	if in.Client != nil {
		for _, m := range in.Client.Mappers {
			if m.Groups != nil && m.Groups.Claim != "" {
				d.GroupsClaim = m.Groups.Claim
				break
			}
		}
	}
	return d
}

// wants reports whether the site's library and API use a file.
func (d *data) wants(name string) bool {
	switch name {
	case "backends.py":
		return d.Library.Name == spec.LibMozilla || d.Library.Name == spec.LibKeycloakOID
	case "pipeline.py":
		return d.Library.Name == spec.LibSocial || d.Library.Name == spec.LibSocialOIDC
	case "adapter.py":
		return d.Library.Name == spec.LibAllauth
	case "api.py":
		return d.API != ""
	}
	return true
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// py renders a Go value as a Python literal.
func py(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "None", nil
	case bool:
		if x {
			return "True", nil
		}
		return "False", nil
	case string:
		return pyString(x), nil
	case []string:
		parts := make([]string, len(x))
		for i, s := range x {
			parts[i] = pyString(s)
		}
		return "[" + strings.Join(parts, ", ") + "]", nil
	case map[string]string:
		if x == nil {
			return "None", nil
		}
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(x)) {
			parts = append(parts, pyString(k)+": "+pyString(x[k]))
		}
		return "{" + strings.Join(parts, ", ") + "}", nil
	}
	return "", fmt.Errorf("py: no Python literal for %T", v)
}

// templateText escapes s as text of a Django HTML template: the characters
// HTML gives meaning to, and the braces and percent sign that open Django's
// {{ }}, {% %} and {# #}, so a value can neither add markup nor a template
// tag (not even inside {% comment %}). NUL becomes U+FFFD, as in browsers.
func templateText(s string) string {
	return templateEscaper.Replace(s)
}

var templateEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;",
	"}", "&#125;", "{", "&#123;", "%", "&#37;", "\x00", "\ufffd")

// pyString quotes s for Python: strconv's Go escapes are valid Python
// escapes for printable ASCII, \n, \t, \" and \\; anything else is \u-escaped.
func pyString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r < 0x10000:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
