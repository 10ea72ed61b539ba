package spec

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultOwner(t *testing.T) {
	for _, tt := range []struct{ path, want string }{
		{"/src/shop/sso.yaml", "shop/sso"},
		{"/src/blog/sso.yml", "blog/sso"},
		{"/sso.yaml", "sso"},
		{"-", "stdin"},
		{"<stdin>", "stdin"},
		{"/x/my site/sso prod.yaml", "my-site/sso-prod"},
		{"/x/.hidden/sso.yaml", "hidden/sso"},
		{"/x/" + strings.Repeat("d", 80) + "/s.yaml", strings.Repeat("d", 64)},
		{"/x/unowned.yaml", "x/unowned"},
		{"/unowned.yaml", "file"},
	} {
		if got := DefaultOwner(tt.path); got != tt.want {
			t.Errorf("DefaultOwner(%q) = %q, want %q", tt.path, got, tt.want)
		}
		if got := DefaultOwner(tt.path); got != "stdin" && !ownerPattern.MatchString(got) {
			t.Errorf("DefaultOwner(%q) = %q, not a valid owner", tt.path, got)
		}
	}
	// A relative path is taken from the working directory.
	abs, _ := filepath.Abs("sso.yaml")
	if got, want := DefaultOwner("sso.yaml"), filepath.Base(filepath.Dir(abs))+"/sso"; got != want {
		t.Errorf("relative: %q, want %q", got, want)
	}
}

func TestOwnerKeys(t *testing.T) {
	const kc = "keycloak: {url: http://k, realm: r}\n"
	f, err := Parse("/src/shop/sso.yaml", []byte(kc), nil)
	if err != nil || f.Owner != "shop/sso" || !f.OwnerDerived {
		t.Fatalf("derived owner: %+v %v", f, err)
	}
	f, err = Parse("sso.yaml", []byte("owner: shop-site\nadopt_from: [old/sso, unowned]\n"+kc), nil)
	if err != nil || f.Owner != "shop-site" || f.OwnerDerived || len(f.AdoptFrom) != 2 {
		t.Fatalf("set owner: %+v %v", f, err)
	}
	for _, tt := range []struct{ yaml, want string }{
		{"owner: -x\n", `sso.yaml:1: owner: an owner holds letters, digits and . _ - / and starts with a letter or digit, got "-x"`},
		{"owner: " + strings.Repeat("a", 65) + "\n", "sso.yaml:1: owner: an owner is at most 64 characters, got 65"},
		{"owner: unowned\n", `sso.yaml:1: owner: "unowned" is reserved`},
		{"owner: a\nadopt_from: [a]\n", `sso.yaml:2: adopt_from[0]: adopt_from names this file's own owner "a"`},
		{"owner: a\nadopt_from: [b, b]\n", `sso.yaml:2: adopt_from[1]: owner "b" is listed twice`},
		{"owner: a\nadopt_from: [\"$(id)\"]\n", `sso.yaml:2: adopt_from[0]: an owner holds letters`},
		{"owner: [a]\n", "sso.yaml:1: owner: want a string"},
	} {
		_, err := Parse("sso.yaml", []byte(tt.yaml+kc), nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: got %v, want %q", tt.yaml, err, tt.want)
		}
	}
}
