package rancher

import (
	"bytes"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ssoctl/ssoctl/internal/golden"
)

// fixedNow is the clock for golden checks: the passive realm certificate in
// the Keycloak 26 fixture expires 19 days later.
var fixedNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// assertGolden compares got with testdata/name, rewriting it under -update.
func assertGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Assert(t, name, got)
}

// certBody returns the base64 body of a PEM certificate fixture, the form
// Keycloak writes into <X509Certificate>.
func certBody(t testing.TB, name string) string {
	t.Helper()
	block, _ := pem.Decode(readTestdata(t, name))
	if block == nil {
		t.Fatalf("%s: no PEM block", name)
	}
	var b bytes.Buffer
	for _, line := range bytes.Split(readTestdata(t, name), []byte("\n")) {
		if len(line) > 0 && !bytes.HasPrefix(line, []byte("-----")) {
			b.Write(line)
		}
	}
	return b.String()
}

// assertBadInput requires err to carry BadInput() == true, as the CLI needs
// for exit code 2.
func assertBadInput(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("want an error, got nil")
	}
	var bi interface{ BadInput() bool }
	if !errors.As(err, &bi) || !bi.BadInput() {
		t.Fatalf("error %T (%v) does not report BadInput", err, err)
	}
}

func findingIDs(fs []Finding) []string {
	ids := make([]string, len(fs))
	for i, f := range fs {
		ids[i] = f.ID
	}
	return ids
}
