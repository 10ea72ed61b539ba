package spec

// Brokered identity providers (keycloak.identity_providers): another IdP,
// OIDC or SAML or a social one, whose users log in to the realm through
// it. Diffed by alias; mappers by name (derived from what they map when the
// file gives none).

// IdentityProvider is one brokered identity provider of the realm.
type IdentityProvider struct {
	Alias string `yaml:"alias"`
	// Type is oidc, keycloak-oidc, saml, github, google or microsoft.
	Type        string `yaml:"type"`
	DisplayName string `yaml:"display_name,omitempty"`
	// Issuer (oidc, keycloak-oidc): the upstream's issuer; its endpoints
	// come from its discovery document.
	Issuer   string `yaml:"issuer,omitempty"`
	ClientID string `yaml:"client_id,omitempty"`
	// ClientSecretEnv names the variable that holds the client secret; it
	// is masked everywhere and sent only when it changed.
	ClientSecretEnv string   `yaml:"client_secret_env,omitempty"`
	DefaultScopes   []string `yaml:"default_scopes,omitempty"`
	// SyncMode is IMPORT (Keycloak's default), FORCE or LEGACY.
	SyncMode   string `yaml:"sync_mode,omitempty"`
	TrustEmail bool   `yaml:"trust_email,omitempty"`
	// FirstBrokerLoginFlow names an existing flow or one of the file's;
	// default Keycloak's "first broker login".
	FirstBrokerLoginFlow string `yaml:"first_broker_login_flow,omitempty"`
	// Enabled defaults to true.
	Enabled     *bool `yaml:"enabled,omitempty"`
	HideOnLogin bool  `yaml:"hide_on_login,omitempty"`

	// SAML: the upstream's entity id and single sign-on URL, and the
	// certificate it signs with (PEM body or base64 DER); or a
	// metadata_url whose descriptor gives all three.
	EntityID           string `yaml:"entity_id,omitempty"`
	MetadataURL        string `yaml:"metadata_url,omitempty"`
	SingleSignOnURL    string `yaml:"single_sign_on_url,omitempty"`
	SigningCertificate string `yaml:"signing_certificate,omitempty"`

	Mappers []IdPMapper `yaml:"mappers,omitempty"`
}

// IdPMapper is one mapper of an identity provider: exactly one of its
// kinds. Name is optional (derived from the mapping).
type IdPMapper struct {
	Name           string          `yaml:"name,omitempty"`
	ClaimToGroup   *ClaimToGroup   `yaml:"claim_to_group,omitempty"`
	ClaimToRole    *ClaimToRole    `yaml:"claim_to_role,omitempty"`
	Attribute      *IdPAttribute   `yaml:"attribute,omitempty"`
	HardcodedGroup *HardcodedGroup `yaml:"hardcoded_group,omitempty"`
	// AttributeToGroup is SAML's claim_to_group: an assertion attribute.
	AttributeToGroup *AttributeToGroup `yaml:"attribute_to_group,omitempty"`
}

// ClaimToGroup puts the user in Group when the token's Claim holds Value.
type ClaimToGroup struct {
	Claim string `yaml:"claim"`
	Value string `yaml:"value"`
	Group string `yaml:"group"`
}

// ClaimToRole grants Role (a realm role, or CLIENT/ROLE) when Claim holds
// Value.
type ClaimToRole struct {
	Claim string `yaml:"claim"`
	Value string `yaml:"value"`
	Role  string `yaml:"role"`
}

// IdPAttribute copies a claim (oidc) or an assertion attribute (saml) to
// a user attribute.
type IdPAttribute struct {
	Claim         string `yaml:"claim,omitempty"`
	Attribute     string `yaml:"attribute,omitempty"`
	UserAttribute string `yaml:"user_attribute"`
}

// HardcodedGroup puts every user of the IdP in Group.
type HardcodedGroup struct {
	Group string `yaml:"group"`
}

// AttributeToGroup puts the user in Group when the SAML assertion's
// Attribute holds Value.
type AttributeToGroup struct {
	Attribute string `yaml:"attribute"`
	Value     string `yaml:"value"`
	Group     string `yaml:"group"`
}

// IdPTypes are the identity provider types the file can name.
var IdPTypes = []string{"oidc", "keycloak-oidc", "saml", "github", "google", "microsoft"}

// IdPSyncModes are Keycloak's sync modes.
var IdPSyncModes = []string{"IMPORT", "FORCE", "LEGACY"}

// Kind is the mapper's kind as the file names it ("" when it names none
// or several).
func (m *IdPMapper) Kind() string {
	k, n := "", 0
	for name, set := range map[string]bool{"claim_to_group": m.ClaimToGroup != nil, "claim_to_role": m.ClaimToRole != nil,
		"attribute": m.Attribute != nil, "hardcoded_group": m.HardcodedGroup != nil, "attribute_to_group": m.AttributeToGroup != nil} {
		if set {
			k, n = name, n+1
		}
	}
	if n != 1 {
		return ""
	}
	return k
}

// MapperName is the mapper's name in Keycloak: the file's, or one made of
// what it maps.
func (m *IdPMapper) MapperName() string {
	if m.Name != "" {
		return m.Name
	}
	switch {
	case m.ClaimToGroup != nil:
		return "group " + m.ClaimToGroup.Group + " from " + m.ClaimToGroup.Claim + "=" + m.ClaimToGroup.Value
	case m.ClaimToRole != nil:
		return "role " + m.ClaimToRole.Role + " from " + m.ClaimToRole.Claim + "=" + m.ClaimToRole.Value
	case m.Attribute != nil:
		return "attribute " + m.Attribute.UserAttribute + " from " + m.Attribute.Claim + m.Attribute.Attribute
	case m.HardcodedGroup != nil:
		return "group " + m.HardcodedGroup.Group
	case m.AttributeToGroup != nil:
		return "group " + m.AttributeToGroup.Group + " from " + m.AttributeToGroup.Attribute + "=" + m.AttributeToGroup.Value
	}
	return ""
}
