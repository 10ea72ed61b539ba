package spec

// Federation is one entry of keycloak.user_federation: an LDAP or Active
// Directory user storage provider (Keycloak's component of providerType
// org.keycloak.storage.UserStorageProvider, providerId "ldap") and its
// mappers. Each field left out keeps the value Keycloak gives a new
// provider.
type Federation struct {
	Name string `yaml:"name"`
	// Vendor is other, ad, rhds, tivoli or edirectory, as Keycloak names them.
	Vendor        string `yaml:"vendor,omitempty"`
	ConnectionURL string `yaml:"connection_url"`
	BindDN        string `yaml:"bind_dn,omitempty"`
	// BindCredentialEnv names the variable holding the bind password. It is
	// sent only when its fingerprint differs from the one kept in the realm.
	BindCredentialEnv string             `yaml:"bind_credential_env,omitempty"`
	UsersDN           string             `yaml:"users_dn"`
	UsernameAttribute string             `yaml:"username_attribute,omitempty"`
	RDNAttribute      string             `yaml:"rdn_attribute,omitempty"`
	UUIDAttribute     string             `yaml:"uuid_attribute,omitempty"`
	UserObjectClasses []string           `yaml:"user_object_classes,omitempty"`
	UserFilter        string             `yaml:"user_filter,omitempty"`
	EditMode          string             `yaml:"edit_mode,omitempty"`    // READ_ONLY | WRITABLE | UNSYNCED
	SearchScope       string             `yaml:"search_scope,omitempty"` // one | subtree
	Enabled           *bool              `yaml:"enabled,omitempty"`
	Priority          *int               `yaml:"priority,omitempty"`
	Pagination        *bool              `yaml:"pagination,omitempty"`
	StartTLS          *bool              `yaml:"start_tls,omitempty"`
	UseTruststoreSPI  string             `yaml:"use_truststore_spi,omitempty"` // always | never
	ConnectionTimeout string             `yaml:"connection_timeout,omitempty"` // a duration; Keycloak keeps ms
	Sync              *FederationSync    `yaml:"sync,omitempty"`
	Mappers           []FederationMapper `yaml:"mappers,omitempty"`
}

// FederationSync is when Keycloak syncs the directory, and whether it
// imports its users at all.
type FederationSync struct {
	// FullPeriod and ChangedPeriod are durations (1d, 5m); 0 or left out
	// turns the periodic sync off.
	FullPeriod    string `yaml:"full_period,omitempty"`
	ChangedPeriod string `yaml:"changed_period,omitempty"`
	ImportUsers   *bool  `yaml:"import_users,omitempty"`
}

// FederationMapper is one mapper: exactly one of its kinds.
type FederationMapper struct {
	Group     *FederationGroupMapper     `yaml:"group,omitempty"`
	Attribute *FederationAttributeMapper `yaml:"attribute,omitempty"`
	Role      *FederationRoleMapper      `yaml:"role,omitempty"`
}

// FederationGroupMapper is Keycloak's group-ldap-mapper.
type FederationGroupMapper struct {
	Name                string   `yaml:"name,omitempty"`
	GroupsDN            string   `yaml:"groups_dn"`
	NameAttribute       string   `yaml:"name_attribute,omitempty"`       // default cn
	ObjectClasses       []string `yaml:"object_classes,omitempty"`       // default groupOfNames
	MembershipAttribute string   `yaml:"membership_attribute,omitempty"` // default member
	MembershipType      string   `yaml:"membership_type,omitempty"`      // DN | UID
	Mode                string   `yaml:"mode,omitempty"`                 // READ_ONLY | LDAP_ONLY | IMPORT
	PreserveInheritance *bool    `yaml:"preserve_inheritance,omitempty"`
	// Path is the Keycloak group the LDAP groups go under; default /.
	Path string `yaml:"path,omitempty"`
}

// FederationAttributeMapper is Keycloak's user-attribute-ldap-mapper.
type FederationAttributeMapper struct {
	Name     string `yaml:"name,omitempty"`
	LDAP     string `yaml:"ldap"`
	User     string `yaml:"user"`
	ReadOnly *bool  `yaml:"read_only,omitempty"`
	// AlwaysReadFromLDAP defaults to true, as the console's.
	AlwaysReadFromLDAP *bool `yaml:"always_read_from_ldap,omitempty"`
	IsMandatoryInLDAP  *bool `yaml:"mandatory_in_ldap,omitempty"`
}

// FederationRoleMapper is Keycloak's role-ldap-mapper: LDAP entries under
// roles_dn become roles of client (realm roles when client is empty).
type FederationRoleMapper struct {
	Name                string   `yaml:"name,omitempty"`
	RolesDN             string   `yaml:"roles_dn"`
	Client              string   `yaml:"client,omitempty"`
	NameAttribute       string   `yaml:"name_attribute,omitempty"`
	ObjectClasses       []string `yaml:"object_classes,omitempty"`
	MembershipAttribute string   `yaml:"membership_attribute,omitempty"`
	MembershipType      string   `yaml:"membership_type,omitempty"`
	Mode                string   `yaml:"mode,omitempty"`
}

// Kind is the mapper's kind as the file writes it.
func (m *FederationMapper) Kind() string {
	switch {
	case m.Group != nil:
		return "group"
	case m.Attribute != nil:
		return "attribute"
	case m.Role != nil:
		return "role"
	}
	return ""
}

// MapperName is the mapper's name in Keycloak: the one given, or one made
// from its kind and what it maps ("group ou=groups,…", "role vault"). An
// attribute mapper is named after its Keycloak attribute, which is how
// Keycloak names the mappers it adds to a new provider ("email",
// "username"), so that the file's {ldap: mail, user: email} is Keycloak's
// own email mapper.
func (m *FederationMapper) MapperName() string {
	switch {
	case m.Group != nil:
		if m.Group.Name != "" {
			return m.Group.Name
		}
		return "group " + m.Group.GroupsDN
	case m.Attribute != nil:
		if m.Attribute.Name != "" {
			return m.Attribute.Name
		}
		return m.Attribute.User
	case m.Role != nil:
		if m.Role.Name != "" {
			return m.Role.Name
		}
		if m.Role.Client != "" {
			return "role " + m.Role.Client
		}
		return "role " + m.Role.RolesDN
	}
	return ""
}

// FederationVendors, FederationEditModes, … are the values Keycloak takes.
var (
	FederationVendors     = []string{"other", "ad", "rhds", "tivoli", "edirectory"}
	FederationEditModes   = []string{"READ_ONLY", "WRITABLE", "UNSYNCED"}
	FederationGroupModes  = []string{"READ_ONLY", "LDAP_ONLY", "IMPORT"}
	FederationMemberships = []string{"DN", "UID"}
	FederationScopes      = []string{"one", "subtree"}
	FederationTruststore  = []string{"always", "never"}
)
