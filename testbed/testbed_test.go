package testbed

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, ".env")
	os.WriteFile(p, []byte("# comment\nKEYCLOAK_URL=http://127.0.0.1:1\nKEYCLOAK_ADMIN=admin\nKEYCLOAK_ADMIN_PASSWORD=pw=with=equals\nVAULT_ADDR=http://127.0.0.1:2\nVAULT_TOKEN=t\n"), 0o600)
	env, err := Read(p)
	if err != nil {
		t.Fatal(err)
	}
	if env.KeycloakAdminPassword != "pw=with=equals" || env.VaultAddr != "http://127.0.0.1:2" {
		t.Fatalf("env = %+v", env)
	}

	os.WriteFile(p, []byte("KEYCLOAK_URL=x\n"), 0o600)
	if _, err := Read(p); err == nil || !strings.Contains(err.Error(), "is missing") {
		t.Fatalf("incomplete file: err = %v", err)
	}
	os.WriteFile(p, []byte("garbage\n"), 0o600)
	if _, err := Read(p); err == nil || !strings.Contains(err.Error(), ":1:") {
		t.Fatalf("bad line: err = %v", err)
	}
}

func TestReadLDAP(t *testing.T) {
	p := filepath.Join(t.TempDir(), ".env")
	base := "KEYCLOAK_URL=k\nKEYCLOAK_ADMIN=a\nKEYCLOAK_ADMIN_PASSWORD=p\nVAULT_ADDR=v\nVAULT_TOKEN=t\n"
	os.WriteFile(p, []byte(base+"LDAP_URL=ldap://127.0.0.1:9\nLDAP_BASE_DN=dc=corp,dc=test\nLDAP_BIND_DN=cn=admin,dc=corp,dc=test\nLDAP_BIND_PASSWORD=pw\n"), 0o600)
	env, err := Read(p)
	if err != nil {
		t.Fatal(err)
	}
	if env.LDAPURL != "ldap://127.0.0.1:9" || env.LDAPBaseDN != "dc=corp,dc=test" || env.LDAPBindDN != "cn=admin,dc=corp,dc=test" || env.LDAPBindPassword != "pw" {
		t.Fatalf("env = %+v", env)
	}
	if m := env.ldapMissing(); m != "" {
		t.Fatalf("ldapMissing = %q", m)
	}
	env.LDAPBindPassword = ""
	if m := env.ldapMissing(); m != "LDAP_BIND_PASSWORD" {
		t.Fatalf("ldapMissing = %q, want LDAP_BIND_PASSWORD", m)
	}
}

// Under CI a testbed without LDAP fails the test rather than skipping it.
func TestNeedLDAPFailsUnderCI(t *testing.T) {
	t.Setenv("CI", "true")
	ft := &fakeTB{TB: t}
	func() {
		defer func() { recover() }()
		Env{}.NeedLDAP(ft)
	}()
	if !ft.failed || ft.skipped {
		t.Fatalf("CI=true: failed=%v skipped=%v, want a failure", ft.failed, ft.skipped)
	}
	t.Setenv("CI", "")
	ft = &fakeTB{TB: t}
	func() {
		defer func() { recover() }()
		Env{}.NeedLDAP(ft)
	}()
	if ft.failed || !ft.skipped {
		t.Fatalf("CI unset: failed=%v skipped=%v, want a skip", ft.failed, ft.skipped)
	}
}

// fakeTB records Fatal and Skip instead of ending the test; it panics to
// stop the caller as the real ones do with runtime.Goexit.
type fakeTB struct {
	testing.TB
	failed, skipped bool
}

func (f *fakeTB) Helper()           {}
func (f *fakeTB) Fatal(args ...any) { f.failed = true; panic("fatal") }
func (f *fakeTB) Skip(args ...any)  { f.skipped = true; panic("skip") }

func TestInCI(t *testing.T) {
	for v, want := range map[string]bool{"": false, "true": true, "1": true, "false": false, "0": false} {
		t.Setenv("CI", v)
		if got := inCI(); got != want {
			t.Errorf("CI=%q: inCI() = %v, want %v", v, got, want)
		}
	}
}
