package cmd

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkStartupInspectToken is the in-process part of a whole
// `ssoctl inspect token --jwks FILE` run: building the command tree, the
// streams and the theme, parsing flags, reading the files, verifying.
func BenchmarkStartupInspectToken(b *testing.B) {
	dir := b.TempDir()
	tok, jwks := startupFixtures(b, dir)
	args := []string{"inspect", "token", tok, "--jwks", jwks, "--audience", "vault"}
	for b.Loop() {
		ios, _, _, _ := TestIO()
		f := NewFactory(ios)
		f.Getenv = func(string) string { return "" }
		if code := Run(f, args); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
}

func startupFixtures(b *testing.B, dir string) (tok, jwks string) {
	for _, n := range []string{"token", "jwks.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", "startup", n))
		if err != nil {
			b.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, n), data, 0o600)
	}
	return filepath.Join(dir, "token"), filepath.Join(dir, "jwks.json")
}
