// Package templates holds the Vault ACL policies ssoctl ships (reader,
// manager), embedded in the binary. The Django app ssoctl renders for a
// site is not here: it lives, with the model of what each Django library
// needs from Keycloak, in the subpackage templates/django.
package templates

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

//go:embed vault
var files embed.FS

// Read returns the template at name, e.g. "vault/reader.hcl".
func Read(name string) (string, error) {
	b, err := files.ReadFile(strings.TrimPrefix(name, "/"))
	if err != nil {
		return "", fmt.Errorf("no template %q (have: %s)", name, strings.Join(List(), ", "))
	}
	return string(b), nil
}

// List names every shipped template.
func List() []string {
	var out []string
	fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	return out
}
