package spec

import (
	"fmt"
	"strings"
	"testing"
)

func TestLDAPExampleParses(t *testing.T) {
	f, err := Load("../examples/ldap.yaml", nil, env("KEYCLOAK_URL", "http://kc:8080", "LDAP_BIND_PASSWORD", "pw"))
	if err != nil {
		t.Fatal(err)
	}
	fs := f.Keycloak.UserFederation
	if len(fs) != 1 || fs[0].Name != "corp-ldap" || fs[0].Sync.ChangedPeriod != "5m" || len(fs[0].Mappers) != 3 {
		t.Fatalf("federation = %+v", fs)
	}
	g := fs[0].Mappers[0]
	if g.Kind() != "group" || !*g.Group.PreserveInheritance || g.MapperName() != "group ou=groups,dc=corp,dc=test" {
		t.Fatalf("group mapper = %+v (%s)", g.Group, g.MapperName())
	}
	if n := fs[0].Mappers[2].MapperName(); n != "role vault" {
		t.Fatalf("role mapper name = %q", n)
	}
}

func TestFederationValidation(t *testing.T) {
	base := "user_federation:\n    - name: l\n      connection_url: ldap://h:389\n      users_dn: ou=p\n"
	cases := []struct {
		body, want string
		line       int
	}{
		{base + "      vendor: openldap\n", "want one of other, ad", 8},
		{"user_federation:\n    - name: l\n      connection_url: http://h\n      users_dn: ou=p\n", "want ldap://host:port", 6},
		{"user_federation:\n    - name: l\n      connection_url: ldap://h\n", "users_dn is required", 5},
		{base + "    - name: l\n      connection_url: ldap://h:389\n      users_dn: ou=p\n", "declared twice", 8},
		{base + "      bind_dn: cn=admin\n", "needs bind_credential_env", 8},
		{base + "      bind_dn: cn=admin\n      bind_credential_env: 1X\n", "not a variable name", 9},
		{base + "      edit_mode: WRITEABLE\n", "READ_ONLY, WRITABLE, UNSYNCED", 8},
		{base + "      sync: {changed_period: 5x}\n", "want a duration", 8},
		{base + "      user_filter: uid=x\n", "in parentheses", 8},
		{base + "      user_filter: \"(" + strings.Repeat("a", 2000) + ")\"\n", "at most 1024", 8},
		{base + "      mappers:\n        - {attribute: {ldap: mail}}\n", "both ldap:", 9},
		{base + "      mappers:\n        - {attribute: {ldap: mail, user: email}, role: {roles_dn: x}}\n", "exactly one of", 9},
		{base + "      mappers:\n        - {attribute: {ldap: mail, user: email}}\n        - {attribute: {ldap: mail2, user: email}}\n", "give one a name", 10},
		{base + "      mappers:\n        - {group: {groups_dn: ou=g, membership_type: CN}}\n", "want one of DN, UID", 9},
	}
	for _, c := range cases {
		src := "keycloak:\n  url: http://kc\n  realm: r\n  " + c.body
		_, err := Parse("sso.yaml", []byte(src), env())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err = %v, want %q", c.body, err, c.want)
			continue
		}
		if want := fmt.Sprintf("sso.yaml:%d:", c.line); !strings.Contains(err.Error(), want) {
			t.Errorf("%q: want %s in %v", c.body, want, err)
		}
	}
}
