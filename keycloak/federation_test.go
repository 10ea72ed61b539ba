package keycloak

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/ssoctl/ssoctl/spec"
)

// testdata/federation-export.json is Keycloak 26.7.3's partial export of a
// realm with one LDAP provider made with the file's fields (and the
// mappers Keycloak adds).
func exportedFederations(t *testing.T) map[string]*FederationState {
	t.Helper()
	raw, err := os.ReadFile("testdata/federation-export.json")
	if err != nil {
		t.Fatal(err)
	}
	var ex struct {
		Components map[string][]componentRep `json:"components"`
	}
	if err := json.Unmarshal(raw, &ex); err != nil {
		t.Fatal(err)
	}
	return decodeFederations(ex.Components)
}

func ldapExample(t *testing.T) *spec.Federation {
	t.Helper()
	f, err := spec.Load("../examples/ldap.yaml", nil, func(k string) string {
		return map[string]string{"KEYCLOAK_URL": "http://kc", "LDAP_BIND_PASSWORD": "pw"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	return &f.Keycloak.UserFederation[0]
}

func TestDecodeFederationsFromExport(t *testing.T) {
	fs := exportedFederations(t)
	f := fs["corp-ldap"]
	if f == nil || f.ID == "" || f.Config["usersDn"][0] != "ou=people,dc=corp,dc=test" || f.Config[bindCredentialKey][0] != maskedSecret {
		t.Fatalf("decoded = %+v", f)
	}
	for _, n := range []string{"username", "email", "first name", "last name", "creation date", "modify date", "Kerberos principal attribute mapper"} {
		if f.Mappers[n] == nil {
			t.Errorf("mapper %q missing; have %v", n, f.Mappers)
		}
	}
}

func TestFederationDiffOfTheExampleAgainstWhatKeycloakMade(t *testing.T) {
	have := exportedFederations(t)["corp-ldap"]
	want, err := federationConfig(ldapExample(t))
	if err != nil {
		t.Fatal(err)
	}
	diffs, unsafe := federationDiff(want, have, false)
	var fields []string
	for _, d := range diffs {
		fields = append(fields, d.Field)
	}
	// The export's provider had no sync periods and another port.
	if !slices.Equal(fields, []string{"changedSyncPeriod", "connectionUrl", "fullSyncPeriod"}) || len(unsafe) != 0 {
		t.Fatalf("diffs = %v, unsafe = %v", diffs, unsafe)
	}
	if diffs[0].New != "300" || diffs[2].New != "86400" {
		t.Fatalf("periods = %v", diffs)
	}
	// The same config read back: no change; the credential unchanged: none either.
	have.Config = mergedConfig(have.Config, want, "")
	if d, _ := federationDiff(want, have, false); len(d) != 0 {
		t.Fatalf("no-op diff = %v", d)
	}
	d, _ := federationDiff(want, have, true)
	if len(d) != 1 || !d[0].Secret || d[0].Field != bindCredentialKey || strings.Contains(d[0].New.(string), "pw") {
		t.Fatalf("credential diff = %+v", d)
	}
}

func TestFederationUnsafeFieldsAreNamed(t *testing.T) {
	have := exportedFederations(t)["corp-ldap"]
	want := map[string][]string{"uuidLDAPAttribute": {"objectGUID"}, "vendor": {"ad"}, "editMode": {"READ_ONLY"}}
	_, unsafe := federationDiff(want, have, false)
	if !slices.Equal(unsafe, []string{"uuidLDAPAttribute", "vendor"}) {
		t.Fatalf("unsafe = %v", unsafe)
	}
}

func TestMergedConfigNeverResendsTheMaskedCredential(t *testing.T) {
	have := map[string][]string{"bindCredential": {maskedSecret}, "krbPrincipalAttribute": {"krb5PrincipalName"}, "editMode": {"READ_ONLY"}}
	got := mergedConfig(have, map[string][]string{"editMode": {"WRITABLE"}}, "")
	if got["bindCredential"][0] != maskedSecret || got["krbPrincipalAttribute"][0] != "krb5PrincipalName" || got["editMode"][0] != "WRITABLE" {
		t.Fatalf("merged = %v", got)
	}
	if got := mergedConfig(have, nil, "new-pw"); got["bindCredential"][0] != "new-pw" {
		t.Fatalf("merged with secret = %v", got)
	}
	if have["editMode"][0] != "READ_ONLY" {
		t.Fatal("mergedConfig changed what was read")
	}
}

func TestFederationMappersOfTheExample(t *testing.T) {
	ms := federationMappers(ldapExample(t))
	if len(ms) != 3 {
		t.Fatalf("mappers = %+v", ms)
	}
	g, a, r := ms[0], ms[1], ms[2]
	if g.ProviderID != "group-ldap-mapper" || g.Config["preserve.group.inheritance"][0] != "true" || g.Config["membership.attribute.type"][0] != "DN" {
		t.Errorf("group = %+v", g)
	}
	if a.ProviderID != "user-attribute-ldap-mapper" || a.Config["ldap.attribute"][0] != "mail" || a.Config["user.model.attribute"][0] != "email" {
		t.Errorf("attribute = %+v", a)
	}
	if r.ProviderID != "role-ldap-mapper" || r.Config["client.id"][0] != "vault" || r.Config["use.realm.roles.mapping"][0] != "false" {
		t.Errorf("role = %+v", r)
	}
	// Keycloak's own email mapper, as exported, against the file's.
	have := exportedFederations(t)["corp-ldap"].Mappers["email"]
	if d, err := fedMapperDiff(a, have); err != nil || len(d) != 0 {
		t.Errorf("email mapper diff = %v, %v", d, err)
	}
	if _, err := fedMapperDiff(g, have); err == nil {
		t.Error("a group mapper over an attribute mapper of the same name was not refused")
	}
}

func TestCredentialChangedByFingerprint(t *testing.T) {
	fp, err := fingerprint("pw1")
	if err != nil {
		t.Fatal(err)
	}
	attrs := map[string]string{federationFingerprintAttr("corp-ldap"): fp}
	if credentialChanged(attrs, "corp-ldap", "pw1") || !credentialChanged(attrs, "corp-ldap", "pw2") || !credentialChanged(nil, "corp-ldap", "pw1") {
		t.Fatal("fingerprint comparison wrong")
	}
}
