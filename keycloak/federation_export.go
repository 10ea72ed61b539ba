package keycloak

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/ssoctl/ssoctl/spec"
)

// defaultLDAPMappers are the mappers Keycloak 26.7.3 adds to a new
// provider, as it configures them (measured; "username" maps the
// provider's username attribute). export leaves out the ones unchanged:
// an apply to an empty realm makes them again.
var defaultLDAPMappers = map[string]map[string]string{
	"email":         {"ldap.attribute": "mail", "user.model.attribute": "email", "read.only": "true", "always.read.value.from.ldap": "false", "is.mandatory.in.ldap": "false"},
	"first name":    {"ldap.attribute": "cn", "user.model.attribute": "firstName", "read.only": "true", "always.read.value.from.ldap": "true", "is.mandatory.in.ldap": "true"},
	"last name":     {"ldap.attribute": "sn", "user.model.attribute": "lastName", "read.only": "true", "always.read.value.from.ldap": "true", "is.mandatory.in.ldap": "true"},
	"creation date": {"ldap.attribute": "createTimestamp", "user.model.attribute": "createTimestamp", "read.only": "true", "always.read.value.from.ldap": "true", "is.mandatory.in.ldap": "false"},
	"modify date":   {"ldap.attribute": "modifyTimestamp", "user.model.attribute": "modifyTimestamp", "read.only": "true", "always.read.value.from.ldap": "true", "is.mandatory.in.ldap": "false"},
}

func first(c map[string][]string, k string) string {
	if v := c[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func boolOf(c map[string][]string, k string) *bool {
	v := first(c, k)
	if v == "" {
		return nil
	}
	b := v == "true"
	return &b
}

func splitClasses(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// exportFederations writes the realm's LDAP providers back as the file's
// user_federation, by name, with the mappers Keycloak did not add as they
// are. The bind credential is named, never read: bind_credential_env:
// LDAP_BIND_PASSWORD (a second provider: LDAP_BIND_PASSWORD_2, …).
func exportFederations(st *State) []spec.Federation {
	var out []spec.Federation
	for i, name := range slices.Sorted(maps.Keys(st.Federations)) {
		fs := st.Federations[name]
		c := fs.Config
		f := spec.Federation{Name: name, Vendor: first(c, "vendor"), ConnectionURL: first(c, "connectionUrl"), BindDN: first(c, "bindDn"),
			UsersDN: first(c, "usersDn"), UsernameAttribute: first(c, "usernameLDAPAttribute"), RDNAttribute: first(c, "rdnLDAPAttribute"),
			UUIDAttribute: first(c, "uuidLDAPAttribute"), UserObjectClasses: splitClasses(first(c, "userObjectClasses")),
			UserFilter: first(c, "customUserSearchFilter"), EditMode: first(c, "editMode"), UseTruststoreSPI: first(c, "useTruststoreSpi"),
			Enabled: boolOf(c, "enabled"), Pagination: boolOf(c, "pagination"), StartTLS: boolOf(c, "startTls")}
		if f.BindDN != "" {
			f.BindCredentialEnv = "LDAP_BIND_PASSWORD"
			if i > 0 {
				f.BindCredentialEnv += "_" + strconv.Itoa(i+1)
			}
		}
		switch first(c, "searchScope") {
		case "1":
			f.SearchScope = "one"
		case "2":
			f.SearchScope = "subtree"
		}
		if p, err := strconv.Atoi(first(c, "priority")); err == nil {
			f.Priority = &p
		}
		if ms, err := strconv.ParseInt(first(c, "connectionTimeout"), 10, 64); err == nil && ms%1000 == 0 {
			f.ConnectionTimeout = spec.FormatSeconds(ms / 1000)
		}
		s := &spec.FederationSync{ImportUsers: boolOf(c, "importEnabled")}
		for _, p := range []struct {
			key string
			dst *string
		}{{"fullSyncPeriod", &s.FullPeriod}, {"changedSyncPeriod", &s.ChangedPeriod}} {
			if n, err := strconv.ParseInt(first(c, p.key), 10, 64); err == nil {
				if n <= 0 {
					*p.dst = "0s"
				} else {
					*p.dst = spec.FormatSeconds(n)
				}
			}
		}
		if *s != (spec.FederationSync{}) {
			f.Sync = s
		}
		for _, mn := range slices.Sorted(maps.Keys(fs.Mappers)) {
			if m, ok := exportLDAPMapper(fs, fs.Mappers[mn]); ok {
				f.Mappers = append(f.Mappers, m)
			}
		}
		out = append(out, f)
	}
	return out
}

// exportLDAPMapper is one mapper as the file writes it; false for one
// Keycloak made and nobody changed, or one of a kind the file lacks.
func exportLDAPMapper(fs *FederationState, m *componentRep) (spec.FederationMapper, bool) {
	c := m.Config
	if def, ok := defaultLDAPMappers[m.Name]; ok && sameConfig(c, def) {
		return spec.FederationMapper{}, false
	}
	switch m.ProviderID {
	case "user-attribute-ldap-mapper":
		if m.Name == "username" && first(c, "user.model.attribute") == "username" && first(c, "ldap.attribute") == first(fs.Config, "usernameLDAPAttribute") {
			return spec.FederationMapper{}, false
		}
		a := &spec.FederationAttributeMapper{LDAP: first(c, "ldap.attribute"), User: first(c, "user.model.attribute"),
			ReadOnly: boolOf(c, "read.only"), AlwaysReadFromLDAP: boolOf(c, "always.read.value.from.ldap"), IsMandatoryInLDAP: boolOf(c, "is.mandatory.in.ldap")}
		if m.Name != a.User {
			a.Name = m.Name
		}
		return spec.FederationMapper{Attribute: a}, true
	case "group-ldap-mapper":
		g := &spec.FederationGroupMapper{GroupsDN: first(c, "groups.dn"), NameAttribute: first(c, "group.name.ldap.attribute"),
			ObjectClasses: splitClasses(first(c, "group.object.classes")), MembershipAttribute: first(c, "membership.ldap.attribute"),
			MembershipType: first(c, "membership.attribute.type"), Mode: first(c, "mode"), PreserveInheritance: boolOf(c, "preserve.group.inheritance")}
		if p := first(c, "groups.path"); p != "/" {
			g.Path = p // "/" is what Keycloak gives a new group mapper
		}
		fm := spec.FederationMapper{Group: g}
		if m.Name != fm.MapperName() {
			g.Name = m.Name
		}
		return fm, true
	case "role-ldap-mapper":
		r := &spec.FederationRoleMapper{RolesDN: first(c, "roles.dn"), NameAttribute: first(c, "role.name.ldap.attribute"),
			ObjectClasses: splitClasses(first(c, "role.object.classes")), MembershipAttribute: first(c, "membership.ldap.attribute"),
			MembershipType: first(c, "membership.attribute.type"), Mode: first(c, "mode")}
		if first(c, "use.realm.roles.mapping") == "false" {
			r.Client = first(c, "client.id")
		}
		fm := spec.FederationMapper{Role: r}
		if m.Name != fm.MapperName() {
			r.Name = m.Name
		}
		return fm, true
	}
	return spec.FederationMapper{}, false
}

func sameConfig(c map[string][]string, def map[string]string) bool {
	if len(c) != len(def) {
		return false
	}
	for k, v := range def {
		if first(c, k) != v {
			return false
		}
	}
	return true
}
