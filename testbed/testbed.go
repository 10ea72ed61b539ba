// Package testbed gives integration tests the addresses and credentials of
// the real Keycloak and Vault that testbed/up started.
package testbed

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Env describes the running testbed, as written to testbed/.env.
type Env struct {
	KeycloakURL           string
	KeycloakAdmin         string
	KeycloakAdminPassword string
	KeycloakHome          string // the unpacked distribution, for bin/kcadm.sh
	KeycloakJavaHome      string
	VaultAddr             string
	VaultToken            string
	VaultBin              string
	// BaoAddr, BaoToken and BaoBin are OpenBao's dev server, the second
	// Vault-compatible target.
	BaoAddr, BaoToken, BaoBin string
	// DjangoPython is the python of the venv with the pinned Django
	// libraries (testbed/django/requirements.txt).
	DjangoPython string
	// LDAPURL (ldap://127.0.0.1:PORT), LDAPBaseDN, LDAPBindDN and
	// LDAPBindPassword describe the directory testbed/ldap-up started
	// (UnboundID's in-memory server, seeded from testbed/ldap/seed.ldif).
	LDAPURL, LDAPBaseDN, LDAPBindDN, LDAPBindPassword string
}

// EnvFile is the path of testbed/.env in this checkout, or the file named by
// $SSOCTL_TESTBED_ENV.
func EnvFile() string {
	if p := os.Getenv("SSOCTL_TESTBED_ENV"); p != "" {
		return p
	}
	_, self, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(self), ".env")
}

// inCI reports whether the tests run under CI, where a missing testbed is a
// failure rather than a reason to skip.
func inCI() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v != "" && v != "false" && v != "0"
}

// Load reads the testbed's env file. When it is missing or incomplete the
// test fails under CI=true and is skipped otherwise, with the command that
// starts the testbed.
func Load(t testing.TB) Env {
	t.Helper()
	env, err := Read(EnvFile())
	if err != nil {
		msg := fmt.Sprintf("testbed not available (%v); start it with testbed/up or make testbed-up", err)
		if inCI() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return env
}

// Read parses an env file of KEY=VALUE lines and checks that every server
// address and credential is present.
func Read(path string) (Env, error) {
	f, err := os.Open(path)
	if err != nil {
		return Env{}, err
	}
	defer f.Close()
	kv := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return Env{}, fmt.Errorf("%s:%d: want KEY=VALUE, got %q", path, n, line)
		}
		kv[k] = v
	}
	if err := sc.Err(); err != nil {
		return Env{}, err
	}
	env := Env{
		KeycloakURL:           kv["KEYCLOAK_URL"],
		KeycloakAdmin:         kv["KEYCLOAK_ADMIN"],
		KeycloakAdminPassword: kv["KEYCLOAK_ADMIN_PASSWORD"],
		KeycloakHome:          kv["KEYCLOAK_HOME"],
		KeycloakJavaHome:      kv["KEYCLOAK_JAVA_HOME"],
		VaultAddr:             kv["VAULT_ADDR"],
		VaultToken:            kv["VAULT_TOKEN"],
		VaultBin:              kv["VAULT_BIN"],
		BaoAddr:               kv["BAO_ADDR"],
		BaoToken:              kv["BAO_TOKEN"],
		BaoBin:                kv["BAO_BIN"],
		DjangoPython:          kv["DJANGO_PYTHON"],
		LDAPURL:               kv["LDAP_URL"],
		LDAPBaseDN:            kv["LDAP_BASE_DN"],
		LDAPBindDN:            kv["LDAP_BIND_DN"],
		LDAPBindPassword:      kv["LDAP_BIND_PASSWORD"],
	}
	for k, v := range map[string]string{
		"KEYCLOAK_URL": env.KeycloakURL, "KEYCLOAK_ADMIN": env.KeycloakAdmin,
		"KEYCLOAK_ADMIN_PASSWORD": env.KeycloakAdminPassword, "VAULT_ADDR": env.VaultAddr,
		"VAULT_TOKEN": env.VaultToken,
	} {
		if v == "" {
			return Env{}, fmt.Errorf("%s: %s is missing", path, k)
		}
	}
	return env, nil
}

// NeedOpenBao fails the test under CI, and skips it otherwise, when the
// testbed has no OpenBao.
func (e Env) NeedOpenBao(t testing.TB) {
	t.Helper()
	if e.BaoAddr != "" && e.BaoToken != "" {
		return
	}
	msg := "the testbed has no OpenBao (BAO_ADDR in testbed/.env); run testbed/up"
	if inCI() {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// NeedDjango fails the test under CI, and skips it otherwise, when the
// testbed has no Django venv.
func (e Env) NeedDjango(t testing.TB) {
	t.Helper()
	if e.DjangoPython != "" {
		if _, err := os.Stat(e.DjangoPython); err == nil {
			return
		}
	}
	msg := "the testbed has no Django venv (DJANGO_PYTHON in testbed/.env); run testbed/up"
	if inCI() {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// NeedLDAP fails the test under CI, and skips it otherwise, when the testbed
// has no LDAP server (LDAP_URL, LDAP_BASE_DN, LDAP_BIND_DN and
// LDAP_BIND_PASSWORD in testbed/.env).
func (e Env) NeedLDAP(t testing.TB) {
	t.Helper()
	if err := e.ldapMissing(); err != "" {
		msg := "the testbed has no LDAP server (" + err + " missing in testbed/.env); run testbed/up"
		if inCI() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// ldapMissing names the first LDAP setting that is empty, or returns "".
func (e Env) ldapMissing() string {
	for _, kv := range [][2]string{
		{"LDAP_URL", e.LDAPURL}, {"LDAP_BASE_DN", e.LDAPBaseDN},
		{"LDAP_BIND_DN", e.LDAPBindDN}, {"LDAP_BIND_PASSWORD", e.LDAPBindPassword},
	} {
		if kv[1] == "" {
			return kv[0]
		}
	}
	return ""
}
