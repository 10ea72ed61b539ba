// Package templates holds the text ssoctl ships: Vault ACL policies and,
// later, Django settings. Everything is embedded in the binary.
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
