package keycloak

// User federation (issue 25): LDAP/AD user storage providers and their
// mappers, as keycloak.user_federation declares them.
//
// Measured on Keycloak 26.7.3 (design-notes, "User federation"):
//   - the partial export holds every provider under
//     components["org.keycloak.storage.UserStorageProvider"], its mappers
//     nested in subComponents["org.keycloak.storage.ldap.mappers.LDAPStorageMapper"],
//     with their whole config (map of lists): no request more for a plan;
//   - the bind credential reads back as "**********" (export and GET); a
//     PUT that carries "**********" keeps the stored one;
//   - a new provider gets krbPrincipalAttribute=krb5PrincipalName and seven
//     mappers (username, first name, last name, email, creation date,
//     modify date, Kerberos principal attribute mapper); a new
//     group-ldap-mapper gets groups.path=/;
//   - component ids are short base64url ids, not UUIDs;
//   - Keycloak takes every field in place (vendor, uuidLDAPAttribute,
//     importEnabled, editMode: 204 each), and keeps the imported users.

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
)

const (
	userStorageType = "org.keycloak.storage.UserStorageProvider"
	ldapMapperType  = "org.keycloak.storage.ldap.mappers.LDAPStorageMapper"
	// bindCredentialKey is the provider's config key of the bind password.
	bindCredentialKey = "bindCredential"
)

// componentRep is one component of the partial export.
type componentRep struct {
	ID            string                    `json:"id,omitempty"`
	Name          string                    `json:"name"`
	ProviderID    string                    `json:"providerId"`
	ProviderType  string                    `json:"providerType,omitempty"`
	ParentID      string                    `json:"parentId,omitempty"`
	SubType       string                    `json:"subType,omitempty"`
	SubComponents map[string][]componentRep `json:"subComponents,omitempty"`
	Config        map[string][]string       `json:"config"`
}

// FederationState is one LDAP provider of the realm and its mappers by name.
type FederationState struct {
	ID      string
	Name    string
	Config  map[string][]string
	Mappers map[string]*componentRep
}

// decodeFederations reads the realm's LDAP providers from the export's
// components, by name.
func decodeFederations(components map[string][]componentRep) map[string]*FederationState {
	out := map[string]*FederationState{}
	for i := range components[userStorageType] {
		c := &components[userStorageType][i]
		if c.ProviderID != "ldap" {
			continue
		}
		fs := &FederationState{ID: c.ID, Name: c.Name, Config: c.Config, Mappers: map[string]*componentRep{}}
		for j := range c.SubComponents[ldapMapperType] {
			m := &c.SubComponents[ldapMapperType][j]
			fs.Mappers[m.Name] = m
		}
		out[c.Name] = fs
	}
	return out
}

// desiredMapper is one mapper as the file wants it: only the keys it sets.
type desiredMapper struct {
	Name       string
	ProviderID string
	Config     map[string][]string
}

// federationConfig is the provider's config keys that f sets, in Keycloak's
// names (the bind credential aside).
func federationConfig(f *spec.Federation) (map[string][]string, error) {
	c := map[string][]string{}
	set := func(k, v string) {
		if v != "" {
			c[k] = []string{v}
		}
	}
	setBool := func(k string, b *bool) {
		if b != nil {
			c[k] = []string{strconv.FormatBool(*b)}
		}
	}
	set("connectionUrl", f.ConnectionURL)
	set("bindDn", f.BindDN)
	if f.BindDN != "" {
		c["authType"] = []string{"simple"}
	}
	set("usersDn", f.UsersDN)
	set("vendor", f.Vendor)
	set("usernameLDAPAttribute", f.UsernameAttribute)
	set("rdnLDAPAttribute", f.RDNAttribute)
	set("uuidLDAPAttribute", f.UUIDAttribute)
	if len(f.UserObjectClasses) > 0 {
		c["userObjectClasses"] = []string{strings.Join(f.UserObjectClasses, ", ")}
	}
	set("customUserSearchFilter", f.UserFilter)
	set("editMode", f.EditMode)
	switch f.SearchScope {
	case "one":
		c["searchScope"] = []string{"1"}
	case "subtree":
		c["searchScope"] = []string{"2"}
	}
	setBool("enabled", f.Enabled)
	if f.Priority != nil {
		c["priority"] = []string{strconv.Itoa(*f.Priority)}
	}
	setBool("pagination", f.Pagination)
	setBool("startTls", f.StartTLS)
	set("useTruststoreSpi", f.UseTruststoreSPI)
	if f.ConnectionTimeout != "" {
		n, err := spec.Seconds(f.ConnectionTimeout)
		if err != nil {
			return nil, err
		}
		c["connectionTimeout"] = []string{strconv.FormatInt(n*1000, 10)}
	}
	if s := f.Sync; s != nil {
		for _, p := range []struct{ key, val string }{{"fullSyncPeriod", s.FullPeriod}, {"changedSyncPeriod", s.ChangedPeriod}} {
			if p.val == "" {
				continue
			}
			n, err := spec.Seconds(p.val)
			if err != nil {
				return nil, err
			}
			if n == 0 {
				n = -1 // Keycloak's "off" (UserStorageProviderModel's default)
			}
			c[p.key] = []string{strconv.FormatInt(n, 10)}
		}
		setBool("importEnabled", s.ImportUsers)
	}
	return c, nil
}

// federationMappers is f's mappers in Keycloak's terms.
func federationMappers(f *spec.Federation) []desiredMapper {
	var out []desiredMapper
	for i := range f.Mappers {
		m := &f.Mappers[i]
		c := map[string][]string{}
		set := func(k, v string) {
			if v != "" {
				c[k] = []string{v}
			}
		}
		d := desiredMapper{Name: m.MapperName(), Config: c}
		switch {
		case m.Group != nil:
			g := m.Group
			d.ProviderID = "group-ldap-mapper"
			set("groups.dn", g.GroupsDN)
			set("group.name.ldap.attribute", g.NameAttribute)
			set("group.object.classes", strings.Join(g.ObjectClasses, ", "))
			set("membership.ldap.attribute", g.MembershipAttribute)
			set("membership.attribute.type", g.MembershipType)
			set("mode", cmp.Or(g.Mode, "READ_ONLY"))
			set("groups.path", g.Path)
			if g.PreserveInheritance != nil {
				c["preserve.group.inheritance"] = []string{strconv.FormatBool(*g.PreserveInheritance)}
			}
		case m.Attribute != nil:
			a := m.Attribute
			d.ProviderID = "user-attribute-ldap-mapper"
			set("ldap.attribute", a.LDAP)
			set("user.model.attribute", a.User)
			for k, b := range map[string]*bool{"read.only": a.ReadOnly, "always.read.value.from.ldap": a.AlwaysReadFromLDAP, "is.mandatory.in.ldap": a.IsMandatoryInLDAP} {
				if b != nil {
					c[k] = []string{strconv.FormatBool(*b)}
				}
			}
		case m.Role != nil:
			r := m.Role
			d.ProviderID = "role-ldap-mapper"
			set("roles.dn", r.RolesDN)
			set("role.name.ldap.attribute", r.NameAttribute)
			set("role.object.classes", strings.Join(r.ObjectClasses, ", "))
			set("membership.ldap.attribute", r.MembershipAttribute)
			set("membership.attribute.type", r.MembershipType)
			// Keycloak refuses a role-ldap-mapper without a mode ("Missing
			// configuration for Mode", measured); READ_ONLY is the console's.
			set("mode", cmp.Or(r.Mode, "READ_ONLY"))
			if r.Client != "" {
				c["use.realm.roles.mapping"] = []string{"false"}
				c["client.id"] = []string{r.Client}
			} else {
				c["use.realm.roles.mapping"] = []string{"true"}
			}
		}
		out = append(out, d)
	}
	return out
}

// configDiffs are the keys of want whose value differs from have's, in
// key order. A missing key of have counts as "".
func configDiffs(prefix string, want, have map[string][]string) []plan.FieldDiff {
	var out []plan.FieldDiff
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !slices.Equal(want[k], have[k]) {
			out = append(out, plan.FieldDiff{Field: prefix + k, Old: strings.Join(have[k], ","), New: strings.Join(want[k], ",")})
		}
	}
	return out
}

// unsafeInPlace are the provider's keys that Keycloak changes in place but
// that cut the link to the users it imported: their LDAP_ID (the uuid
// attribute), the vendor's defaults, or import itself. Planning refuses to
// change them on a provider unless --replace-federation names it.
var unsafeInPlace = map[string]string{
	"uuidLDAPAttribute": "the imported users keep the old attribute's value as LDAP_ID, so the next sync no longer finds them",
	"vendor":            "the vendor decides how Keycloak reads the directory (its uuid, its object classes); the imported users were read the other way",
	"importEnabled":     "users imported before stay in Keycloak's database and are no longer refreshed (or, turned on, are imported again)",
}

// federationDiff is one federation's field diffs: config keys, the bind
// credential (masked: credentialChanged says whether its fingerprint
// differs), and the keys refused in place.
func federationDiff(want map[string][]string, have *FederationState, credentialChanged bool) (diffs []plan.FieldDiff, unsafe []string) {
	diffs = configDiffs("", want, have.Config)
	for _, d := range diffs {
		if _, bad := unsafeInPlace[d.Field]; bad {
			unsafe = append(unsafe, d.Field)
		}
	}
	if credentialChanged {
		diffs = append(diffs, plan.FieldDiff{Field: bindCredentialKey, Old: secretMask, New: secretMask, Secret: true})
	}
	return diffs, unsafe
}

// fedMapperDiff is one mapper's field diffs; a mapper of another provider id
// under the same name cannot be changed (Keycloak keeps a component's
// provider id).
func fedMapperDiff(want desiredMapper, have *componentRep) ([]plan.FieldDiff, error) {
	if have.ProviderID != want.ProviderID {
		return nil, fmt.Errorf("mapper %s is a %s in Keycloak, not a %s; rename one of them", spec.Quote(want.Name), have.ProviderID, want.ProviderID)
	}
	return configDiffs("", want.Config, have.Config), nil
}

// mergedConfig is have's config with want's keys replaced: the whole
// component as read, for a PUT. The bind credential stays "**********"
// (Keycloak then keeps the stored one) unless secret is set.
func mergedConfig(have, want map[string][]string, secret string) map[string][]string {
	out := make(map[string][]string, len(have)+len(want))
	for k, v := range have {
		out[k] = v
	}
	for k, v := range want {
		out[k] = v
	}
	if secret != "" {
		out[bindCredentialKey] = []string{secret}
	} else if _, ok := out[bindCredentialKey]; ok {
		out[bindCredentialKey] = []string{secretMask}
	}
	return out
}

// federationFingerprintAttr is the realm attribute that keeps the bind
// credential's fingerprint of federation name.
func federationFingerprintAttr(name string) string { return "ssoctl.fp.federation." + name }

// credentialChanged says whether secret differs from the one whose
// fingerprint attrs keeps for federation name (no fingerprint: changed).
func credentialChanged(attrs map[string]string, name, secret string) bool {
	fp, ok := attrs[federationFingerprintAttr(name)]
	return !ok || !fingerprintMatches(fp, secret)
}
