package spec

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Limits of keycloak.user_federation.
const (
	MaxFederations       = 20
	MaxFederationMappers = 100
	MaxFederationString  = 1024 // a DN, a URL, a filter
	MaxObjectClasses     = 20
	MaxLDAPPriority      = 1 << 30
)

// federation checks keycloak.user_federation for what needs no server;
// planning checks the rest (a role mapper's client the realm lacks, fields
// Keycloak cannot change in place).
// The bind credential's variable is read at plan, like every secret.
func (v *validator) federation(k *Keycloak) {
	if len(k.UserFederation) > MaxFederations {
		v.errorf("keycloak.user_federation", "%d federations; at most %d", len(k.UserFederation), MaxFederations)
		return
	}
	names := map[string]bool{}
	for i := range k.UserFederation {
		f := &k.UserFederation[i]
		key := fmt.Sprintf("keycloak.user_federation[%d]", i)
		switch {
		case f.Name == "":
			v.errorf(key, "name is required")
		case names[f.Name]:
			v.errorf(key+".name", "federation %s is declared twice", Quote(f.Name))
		default:
			v.fedString(key+".name", f.Name, 255)
		}
		names[f.Name] = true
		v.oneOf(key+".vendor", f.Vendor, FederationVendors)
		if f.ConnectionURL == "" {
			v.errorf(key, "connection_url is required (ldap://host:port or ldaps://host:port)")
		} else if v.fedString(key+".connection_url", f.ConnectionURL, MaxFederationString) {
			for _, one := range strings.Fields(f.ConnectionURL) { // Keycloak takes several, space-separated
				u, err := url.Parse(one)
				if err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Host == "" {
					v.errorf(key+".connection_url", "want ldap://host:port or ldaps://host:port, got %s", Quote(one))
					break
				}
			}
		}
		if f.UsersDN == "" {
			v.errorf(key, "users_dn is required (ou=people,dc=example,dc=com)")
		}
		for _, s := range []struct{ k, v string }{
			{"bind_dn", f.BindDN}, {"users_dn", f.UsersDN}, {"username_attribute", f.UsernameAttribute},
			{"rdn_attribute", f.RDNAttribute}, {"uuid_attribute", f.UUIDAttribute}, {"user_filter", f.UserFilter},
		} {
			v.fedString(key+"."+s.k, s.v, MaxFederationString)
		}
		if f.UserFilter != "" && (!strings.HasPrefix(f.UserFilter, "(") || !strings.HasSuffix(f.UserFilter, ")")) {
			v.errorf(key+".user_filter", "an LDAP filter is in parentheses, like (memberOf=cn=ops,ou=groups,dc=corp,dc=test); got %s", Quote(f.UserFilter))
		}
		switch {
		case f.BindCredentialEnv != "" && f.BindDN == "":
			v.errorf(key+".bind_credential_env", "bind_credential_env without bind_dn: an anonymous bind takes no password")
		case f.BindDN != "" && f.BindCredentialEnv == "":
			v.errorf(key+".bind_dn", "bind_dn needs bind_credential_env, the variable holding its password")
		}
		if len(f.UserObjectClasses) > MaxObjectClasses {
			v.errorf(key+".user_object_classes", "%d object classes; at most %d", len(f.UserObjectClasses), MaxObjectClasses)
		} else {
			v.unique(key+".user_object_classes", f.UserObjectClasses)
			for j, c := range f.UserObjectClasses {
				v.fedString(fmt.Sprintf("%s.user_object_classes[%d]", key, j), c, 255)
			}
		}
		v.oneOf(key+".edit_mode", f.EditMode, FederationEditModes)
		v.oneOf(key+".search_scope", f.SearchScope, FederationScopes)
		v.oneOf(key+".use_truststore_spi", f.UseTruststoreSPI, FederationTruststore)
		if f.Priority != nil && (*f.Priority < 0 || *f.Priority > MaxLDAPPriority) {
			v.errorf(key+".priority", "want 0 to %d, got %d", MaxLDAPPriority, *f.Priority)
		}
		if f.ConnectionTimeout != "" {
			v.fedDuration(key+".connection_timeout", f.ConnectionTimeout)
		}
		if s := f.Sync; s != nil {
			if s.FullPeriod != "" {
				v.fedDuration(key+".sync.full_period", s.FullPeriod)
			}
			if s.ChangedPeriod != "" {
				v.fedDuration(key+".sync.changed_period", s.ChangedPeriod)
			}
		}
		v.federationMappers(key, f)
	}
}

func (v *validator) federationMappers(key string, f *Federation) {
	if len(f.Mappers) > MaxFederationMappers {
		v.errorf(key+".mappers", "%d mappers; at most %d", len(f.Mappers), MaxFederationMappers)
		return
	}
	seen := map[string]bool{}
	for j := range f.Mappers {
		m := &f.Mappers[j]
		mk := fmt.Sprintf("%s.mappers[%d]", key, j)
		n := 0
		for _, set := range []bool{m.Group != nil, m.Attribute != nil, m.Role != nil} {
			if set {
				n++
			}
		}
		if n != 1 {
			v.errorf(mk, "a mapper is exactly one of group:, attribute:, role:")
			continue
		}
		switch {
		case m.Group != nil:
			g, gk := m.Group, mk+".group"
			if g.GroupsDN == "" {
				v.errorf(gk, "groups_dn is required")
			}
			v.fedString(gk+".groups_dn", g.GroupsDN, MaxFederationString)
			v.fedString(gk+".name_attribute", g.NameAttribute, 255)
			v.fedString(gk+".membership_attribute", g.MembershipAttribute, 255)
			v.fedString(gk+".path", g.Path, MaxFederationString)
			v.oneOf(gk+".membership_type", g.MembershipType, FederationMemberships)
			v.oneOf(gk+".mode", g.Mode, FederationGroupModes)
			v.objectClasses(gk+".object_classes", g.ObjectClasses)
			if g.Path != "" && !strings.HasPrefix(g.Path, "/") {
				v.errorf(gk+".path", "a group path starts with /, got %s", Quote(g.Path))
			}
		case m.Attribute != nil:
			a, ak := m.Attribute, mk+".attribute"
			if a.LDAP == "" || a.User == "" {
				v.errorf(ak, "both ldap: (the LDAP attribute) and user: (the Keycloak user attribute) are required")
			}
			v.fedString(ak+".ldap", a.LDAP, 255)
			v.fedString(ak+".user", a.User, 255)
		case m.Role != nil:
			r, rk := m.Role, mk+".role"
			if r.RolesDN == "" {
				v.errorf(rk, "roles_dn is required")
			}
			v.fedString(rk+".roles_dn", r.RolesDN, MaxFederationString)
			v.fedString(rk+".name_attribute", r.NameAttribute, 255)
			v.fedString(rk+".membership_attribute", r.MembershipAttribute, 255)
			v.oneOf(rk+".membership_type", r.MembershipType, FederationMemberships)
			v.oneOf(rk+".mode", r.Mode, FederationGroupModes)
			v.objectClasses(rk+".object_classes", r.ObjectClasses)
			// A client the file does not declare is checked at plan
			// against the realm's clients.
			if r.Client != "" {
				v.fedString(rk+".client", r.Client, 255)
			}
		}
		name := m.MapperName()
		if len(name) > 255 {
			v.errorf(mk, "the mapper's name is %d bytes long; give it a name: of at most 255", len(name))
		} else if seen[name] {
			v.errorf(mk, "two mappers are named %s; give one a name:", Quote(name))
		}
		seen[name] = true
	}
}

func (v *validator) objectClasses(key string, cs []string) {
	if len(cs) > MaxObjectClasses {
		v.errorf(key, "%d object classes; at most %d", len(cs), MaxObjectClasses)
		return
	}
	v.unique(key, cs)
	for i, c := range cs {
		v.fedString(fmt.Sprintf("%s[%d]", key, i), c, 255)
	}
}

// fedString checks one string of a federation: plain text of at most max
// bytes. It says whether s passed.
func (v *validator) fedString(key, s string, max int) bool {
	if len(s) > max {
		v.errorf(key, "%d bytes; at most %d", len(s), max)
		return false
	}
	n := len(v.errs)
	v.plainText(key, s)
	return len(v.errs) == n
}

func (v *validator) oneOf(key, s string, allowed []string) {
	if s != "" && !slices.Contains(allowed, s) {
		v.errorf(key, "want one of %s, got %s", strings.Join(allowed, ", "), Quote(clip(s)))
	}
}

func (v *validator) fedDuration(key, s string) {
	n, err := Seconds(s)
	switch {
	case err != nil:
		v.errorf(key, "%v", err)
	case n < 0 || n > MaxKeycloakSeconds:
		v.errorf(key, "want 0 to %d seconds, got %s", MaxKeycloakSeconds, Quote(s))
	}
}
