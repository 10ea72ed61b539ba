// Package spec reads sso.yaml, the one file that describes a single sign-on
// setup across Keycloak, Vault, Rancher and Django sites (its sections
// keycloak:, vault:, rancher: and django:). Loading is strict: an unknown key
// or a value of the wrong type is an error naming the file, the line and the
// key. Secrets are never in the file; *_env keys name environment variables
// that are read when a command needs them.
package spec

import "strings"

// File is a parsed sso.yaml. Every section is optional.
type File struct {
	// Owner names this file in the ownership records that ssoctl keeps in
	// the systems: --prune deletes only this owner's objects, and an object
	// another owner's file declares is refused. Left out, it is derived
	// from the file's path (DefaultOwner).
	Owner string `yaml:"owner,omitempty"`
	// AdoptFrom lists owners whose objects this file may take over: an
	// object it declares that one of them owns moves to this file's owner.
	// The name "unowned" takes every object recorded without an owner (by
	// ssoctl before owners), so that --prune can delete the ones no file
	// names any more.
	AdoptFrom []string  `yaml:"adopt_from,omitempty"`
	Keycloak  *Keycloak `yaml:"keycloak,omitempty"`
	Vault     *Vault    `yaml:"vault,omitempty"`
	Rancher   *Rancher  `yaml:"rancher,omitempty"`
	Django    *Django   `yaml:"django,omitempty"`

	// OwnerDerived is set when Owner was derived from the path.
	OwnerDerived bool `yaml:"-"`

	// Path is the file the spec was read from, for messages.
	Path string `yaml:"-"`
	// lines maps a dotted key path (keycloak.clients[0].access) to its line.
	lines map[string]int
}

// Line returns the line of the key at path (e.g. "keycloak.clients[1].mappers[0]"),
// or of the nearest enclosing key the file has (a key reached through a
// YAML alias is at the alias's line), or 0.
func (f *File) Line(path string) int {
	if f == nil || f.lines == nil {
		return 0
	}
	for path != "" {
		if l, ok := f.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

// Keycloak is the keycloak: section: one realm and what it should contain.
type Keycloak struct {
	// URL is the server's base URL; defaults to $KEYCLOAK_URL.
	URL string `yaml:"url,omitempty"`
	// Realm is the realm to manage; defaults to $KEYCLOAK_REALM.
	Realm string `yaml:"realm,omitempty"`
	// CreateRealm creates the realm when it is missing. Without it a missing
	// realm is an error, so a typo never creates a stray realm.
	CreateRealm bool  `yaml:"create_realm,omitempty"`
	Admin       Admin `yaml:"admin,omitempty"`
	// RealmRoles are realm-level roles to create.
	RealmRoles []string `yaml:"realm_roles,omitempty"`
	// ClientScopes are the realm's client scopes the file manages. A
	// built-in scope (profile, roles, …) named here is adopted: its mappers
	// can be changed, and it is never deleted.
	ClientScopes []ClientScope `yaml:"client_scopes,omitempty"`
	// DefaultClientScopes and OptionalClientScopes are the realm's defaults
	// for new clients: exact sets within each protocol they name (listing
	// only openid-connect scopes leaves the SAML defaults alone). Left out,
	// they are not managed.
	DefaultClientScopes  []string `yaml:"default_client_scopes,omitempty"`
	OptionalClientScopes []string `yaml:"optional_client_scopes,omitempty"`
	Clients              []Client `yaml:"clients,omitempty"`
	Groups               []Group  `yaml:"groups,omitempty"`
	// Users are for demos and test logins only.
	Users []User `yaml:"users,omitempty"`

	// Settings, RequiredActions, Flows and Bindings manage the realm
	// itself (see realm.go); each left out is not managed.
	Settings        *RealmSettings   `yaml:"settings,omitempty"`
	RequiredActions []RequiredAction `yaml:"required_actions,omitempty"`
	Flows           []Flow           `yaml:"flows,omitempty"`
	Bindings        *FlowBindings    `yaml:"bindings,omitempty"`
	// IdentityProviders are brokered identity providers (idp.go).
	IdentityProviders []IdentityProvider `yaml:"identity_providers,omitempty"`
	// UserFederation are LDAP/AD user storage providers (federation.go).
	UserFederation []Federation `yaml:"user_federation,omitempty"`
}

// Admin says how ssoctl logs in to the admin API: a user's password grant
// (through admin-cli) or a service-account client's credentials.
type Admin struct {
	// Realm the admin logs in to; default master.
	Realm string `yaml:"realm,omitempty"`
	// UsernameEnv and PasswordEnv name the variables holding the admin user's
	// credentials; defaults KEYCLOAK_ADMIN and KEYCLOAK_ADMIN_PASSWORD.
	UsernameEnv string `yaml:"username_env,omitempty"`
	PasswordEnv string `yaml:"password_env,omitempty"`
	// ClientID and ClientSecretEnv select the client-credentials grant instead.
	ClientID        string `yaml:"client_id,omitempty"`
	ClientSecretEnv string `yaml:"client_secret_env,omitempty"`
}

// Client is one Keycloak client, OIDC or SAML. Optional settings that are
// left out are not managed: ssoctl neither sets nor resets them.
type Client struct {
	ClientID    string `yaml:"client_id,omitempty"`
	Name        string `yaml:"name,omitempty"`
	Description string `yaml:"description,omitempty"`
	// Protocol is openid-connect (default) or saml.
	Protocol string `yaml:"protocol,omitempty"`
	// Access is confidential (default), public or bearer-only; OIDC only.
	Access  string `yaml:"access,omitempty"`
	Enabled *bool  `yaml:"enabled,omitempty"`

	RootURL                string   `yaml:"root_url,omitempty"`
	BaseURL                string   `yaml:"base_url,omitempty"`
	RedirectURIs           []string `yaml:"redirect_uris,omitempty"`
	WebOrigins             []string `yaml:"web_origins,omitempty"`
	PostLogoutRedirectURIs []string `yaml:"post_logout_redirect_uris,omitempty"`
	BackchannelLogoutURL   *string  `yaml:"backchannel_logout_url,omitempty"`
	// Single sign-out, OIDC only: whether the logout token carries the
	// session id (sid) and whether a backchannel logout also revokes the
	// user's offline tokens; and the URL Keycloak loads in an iframe at
	// logout when frontchannel_logout is on. Keycloak 26 stores true, false
	// and no URL on a client created over REST. "" clears a URL.
	BackchannelLogoutSessionRequired     *bool   `yaml:"backchannel_logout_session_required,omitempty"`
	BackchannelLogoutRevokeOfflineTokens *bool   `yaml:"backchannel_logout_revoke_offline_tokens,omitempty"`
	FrontchannelLogoutURL                *string `yaml:"frontchannel_logout_url,omitempty"`
	// FrontchannelLogout turns browser-based (front-channel) logout on, for
	// either protocol. Keycloak 26 makes it true for a SAML client and false
	// for an OIDC client created over REST.
	FrontchannelLogout *bool `yaml:"frontchannel_logout,omitempty"`
	// UserinfoSigned false makes the userinfo endpoint answer plain JSON,
	// which allauth and mozilla-django-oidc require.
	UserinfoSigned *bool `yaml:"userinfo_signed,omitempty"`
	// PKCE is the required code challenge method: S256, plain, or "" (none).
	PKCE               *string `yaml:"pkce,omitempty"`
	StandardFlow       *bool   `yaml:"standard_flow,omitempty"`
	DirectAccessGrants *bool   `yaml:"direct_access_grants,omitempty"`
	ServiceAccounts    *bool   `yaml:"service_accounts,omitempty"`

	// SAML settings. Their defaults follow Rancher's documentation: documents
	// and assertions signed, everything else off.
	SignDocuments     *bool  `yaml:"sign_documents,omitempty"`
	SignAssertions    *bool  `yaml:"sign_assertions,omitempty"`
	ClientSignature   *bool  `yaml:"client_signature,omitempty"`
	ForcePostBinding  *bool  `yaml:"force_post_binding,omitempty"`
	EncryptAssertions *bool  `yaml:"encrypt_assertions,omitempty"`
	NameIDFormat      string `yaml:"name_id_format,omitempty"`
	// SingleLogoutURLPost and SingleLogoutURLRedirect are the service
	// provider's single logout service for the POST and Redirect bindings
	// (Keycloak's "Logout Service POST/Redirect Binding URL"); none by
	// default. "" clears one.
	SingleLogoutURLPost     *string `yaml:"single_logout_url_post,omitempty"`
	SingleLogoutURLRedirect *string `yaml:"single_logout_url_redirect,omitempty"`

	// Flows overrides the realm's browser and direct grant flows for this
	// client.
	Flows *ClientFlows `yaml:"flows,omitempty"`

	// Attributes are raw Keycloak client attributes, for anything the keys
	// above do not cover. They win over the keys above.
	Attributes map[string]string `yaml:"attributes,omitempty"`
	Roles      []string          `yaml:"roles,omitempty"`
	Mappers    []Mapper          `yaml:"mappers,omitempty"`

	// DefaultScopes and OptionalScopes are the client scopes assigned to the
	// client: exact sets (order never matters). Left out, not managed.
	// Keycloak's own service_account scope of a service-account client is
	// left to Keycloak.
	DefaultScopes  []string `yaml:"default_scopes,omitempty"`
	OptionalScopes []string `yaml:"optional_scopes,omitempty"`
	// FullScopeAllowed false limits the roles in the client's tokens to its
	// scope mappings (Keycloak's default is true: every role of the user).
	FullScopeAllowed *bool `yaml:"full_scope_allowed,omitempty"`
	// ScopeMappings are the roles that may appear in the client's tokens
	// when full_scope_allowed is false: an exact set. Left out, not managed.
	ScopeMappings *ScopeMappings `yaml:"scope_mappings,omitempty"`
	// Authorization turns on Keycloak's Authorization Services for the
	// client (which then needs a service account) and declares its scopes,
	// resources, policies and permissions.
	Authorization *Authorization `yaml:"authorization,omitempty"`

	// RequireRedirectURIs and RequirePostLogoutRedirectURIs are URIs that
	// must be among the client's, added by what other sections need (a
	// Django site's callback) when the file does not list the URIs itself:
	// the client then keeps the ones it has.
	RequireRedirectURIs           []string `yaml:"-"`
	RequirePostLogoutRedirectURIs []string `yaml:"-"`
}

// Authorization is a client's resource server: what it protects and who
// may do what. Objects are matched by name; left out of a list, an object
// ssoctl created is pruned like any other.
type Authorization struct {
	// PolicyEnforcementMode is enforcing (default), permissive or disabled.
	PolicyEnforcementMode string `yaml:"policy_enforcement_mode,omitempty"`
	// DecisionStrategy of the resource server: unanimous (default),
	// affirmative or consensus.
	DecisionStrategy string        `yaml:"decision_strategy,omitempty"`
	Scopes           []string      `yaml:"scopes,omitempty"`
	Resources        []Resource    `yaml:"resources,omitempty"`
	Policies         []AuthzPolicy `yaml:"policies,omitempty"`
	Permissions      []Permission  `yaml:"permissions,omitempty"`
}

// Resource is a protected resource of a resource server.
type Resource struct {
	Name        string   `yaml:"name,omitempty"`
	DisplayName string   `yaml:"display_name,omitempty"`
	Type        string   `yaml:"type,omitempty"`
	URIs        []string `yaml:"uris,omitempty"`
	Scopes      []string `yaml:"scopes,omitempty"`
}

// AuthzPolicy is a policy: who a permission applies to.
type AuthzPolicy struct {
	Name        string `yaml:"name,omitempty"`
	Description string `yaml:"description,omitempty"`
	// Type is role, group, user, client or time.
	Type string `yaml:"type,omitempty"`
	// Logic is positive (default) or negative.
	Logic string `yaml:"logic,omitempty"`
	// Roles are realm roles, or client roles as CLIENT/ROLE (type role).
	Roles []string `yaml:"roles,omitempty"`
	// Groups are group paths (type group); ExtendChildren counts members of
	// their subgroups too.
	Groups         []string `yaml:"groups,omitempty"`
	ExtendChildren bool     `yaml:"extend_children,omitempty"`
	// Users are usernames (type user); Clients are client ids (type client).
	Users   []string `yaml:"users,omitempty"`
	Clients []string `yaml:"clients,omitempty"`
	// The time policy's fields, as Keycloak has them (no day of week):
	// not_before and not_on_or_after as "yyyy-MM-dd HH:mm:ss", and ranges of
	// day of month, month, year, hour and minute.
	NotBefore    string `yaml:"not_before,omitempty"`
	NotOnOrAfter string `yaml:"not_on_or_after,omitempty"`
	DayMonth     string `yaml:"day_month,omitempty"`
	DayMonthEnd  string `yaml:"day_month_end,omitempty"`
	Month        string `yaml:"month,omitempty"`
	MonthEnd     string `yaml:"month_end,omitempty"`
	Year         string `yaml:"year,omitempty"`
	YearEnd      string `yaml:"year_end,omitempty"`
	Hour         string `yaml:"hour,omitempty"`
	HourEnd      string `yaml:"hour_end,omitempty"`
	Minute       string `yaml:"minute,omitempty"`
	MinuteEnd    string `yaml:"minute_end,omitempty"`
}

// Permission grants scopes of resources (type scope) or whole resources
// (type resource) when its policies decide so.
type Permission struct {
	Name        string `yaml:"name,omitempty"`
	Description string `yaml:"description,omitempty"`
	// Type is scope or resource.
	Type      string   `yaml:"type,omitempty"`
	Scopes    []string `yaml:"scopes,omitempty"`
	Resources []string `yaml:"resources,omitempty"`
	// ResourceType applies a resource permission to every resource of the
	// type.
	ResourceType string   `yaml:"resource_type,omitempty"`
	Policies     []string `yaml:"policies,omitempty"`
	// DecisionStrategy is unanimous (default), affirmative or consensus.
	DecisionStrategy string `yaml:"decision_strategy,omitempty"`
}

// ClientScope is a realm client scope: claims (mappers) and role scope
// mappings that every client it is assigned to gets.
type ClientScope struct {
	Name string `yaml:"name,omitempty"`
	// Protocol is openid-connect (default) or saml.
	Protocol    string `yaml:"protocol,omitempty"`
	Description string `yaml:"description,omitempty"`
	// IncludeInTokenScope puts the scope's name into the token's scope
	// claim; DisplayOnConsent and ConsentText are the consent screen's.
	IncludeInTokenScope *bool   `yaml:"include_in_token_scope,omitempty"`
	DisplayOnConsent    *bool   `yaml:"display_on_consent,omitempty"`
	ConsentText         *string `yaml:"consent_text,omitempty"`
	// Attributes are raw scope attributes; they win over the keys above.
	Attributes map[string]string `yaml:"attributes,omitempty"`
	// Mappers use the client mappers' shorthands. In a scope, client_roles
	// without client means the roles of the client a token is for, as the
	// built-in roles scope does.
	Mappers []Mapper `yaml:"mappers,omitempty"`
	// ScopeMappings are roles the scope lets into tokens of clients without
	// full scope: an exact set. Left out, not managed.
	ScopeMappings *ScopeMappings `yaml:"scope_mappings,omitempty"`
}

// ScopeMappings name roles: realm roles, and roles of clients by client_id.
type ScopeMappings struct {
	Realm   []string            `yaml:"realm,omitempty"`
	Clients map[string][]string `yaml:"clients,omitempty"`
}

// Mapper is one protocol mapper in shorthand: exactly one kind key is set.
// Name overrides the default name, which is how an existing mapper is found.
type Mapper struct {
	Name          string               `yaml:"name,omitempty"`
	Audience      *AudienceMapper      `yaml:"audience,omitempty"`
	ClientRoles   *ClientRolesMapper   `yaml:"client_roles,omitempty"`
	RealmRoles    *RealmRolesMapper    `yaml:"realm_roles,omitempty"`
	Groups        *GroupsMapper        `yaml:"groups,omitempty"`
	Attribute     *AttributeMapper     `yaml:"attribute,omitempty"`
	SAMLProperty  *SAMLPropertyMapper  `yaml:"saml_property,omitempty"`
	SAMLAttribute *SAMLAttributeMapper `yaml:"saml_attribute,omitempty"`
	SAMLGroups    *SAMLGroupsMapper    `yaml:"saml_groups,omitempty"`
	Raw           *RawMapper           `yaml:"raw,omitempty"`
}

// TokenFlags choose which OIDC tokens carry a claim. Unset flags take the
// mapper kind's default; every flag is sent to Keycloak explicitly, because
// over the admin API a missing flag means "off".
type TokenFlags struct {
	IDToken       *bool `yaml:"id_token,omitempty"`
	AccessToken   *bool `yaml:"access_token,omitempty"`
	Userinfo      *bool `yaml:"userinfo,omitempty"`
	Introspection *bool `yaml:"introspection,omitempty"`
}

// AudienceMapper adds a client (or a custom string) to the aud claim.
// Written as `audience: vault` or as a mapping.
type AudienceMapper struct {
	Client     string `yaml:"client,omitempty"`
	Custom     string `yaml:"custom,omitempty"`
	TokenFlags `yaml:",inline"`
}

// ClientRolesMapper puts a client's roles of the user into a claim. The
// claim name may contain ${client_id}.
type ClientRolesMapper struct {
	Client      string `yaml:"client,omitempty"`
	Claim       string `yaml:"claim,omitempty"`
	Prefix      string `yaml:"prefix,omitempty"`
	Multivalued *bool  `yaml:"multivalued,omitempty"`
	TokenFlags  `yaml:",inline"`
}

// RealmRolesMapper puts the user's realm roles into a claim.
type RealmRolesMapper struct {
	Claim       string `yaml:"claim,omitempty"`
	Prefix      string `yaml:"prefix,omitempty"`
	Multivalued *bool  `yaml:"multivalued,omitempty"`
	TokenFlags  `yaml:",inline"`
}

// GroupsMapper puts the user's groups into a claim, by name or full path.
type GroupsMapper struct {
	Claim      string `yaml:"claim,omitempty"`
	FullPath   bool   `yaml:"full_path,omitempty"`
	TokenFlags `yaml:",inline"`
}

// AttributeMapper copies a user attribute into a claim.
type AttributeMapper struct {
	UserAttribute string `yaml:"user_attribute,omitempty"`
	Claim         string `yaml:"claim,omitempty"`
	// JSONType is String (default), long, int, boolean or JSON.
	JSONType    string `yaml:"json_type,omitempty"`
	Multivalued bool   `yaml:"multivalued,omitempty"`
	TokenFlags  `yaml:",inline"`
}

// SAMLPropertyMapper sends a user property (firstName, lastName, email,
// username) as a SAML attribute.
type SAMLPropertyMapper struct {
	Property     string `yaml:"property,omitempty"`
	Attribute    string `yaml:"attribute,omitempty"`
	FriendlyName string `yaml:"friendly_name,omitempty"`
	// NameFormat is Basic (default), URI Reference or Unspecified.
	NameFormat string `yaml:"name_format,omitempty"`
}

// SAMLAttributeMapper sends a user attribute as a SAML attribute.
type SAMLAttributeMapper struct {
	UserAttribute string `yaml:"user_attribute,omitempty"`
	Attribute     string `yaml:"attribute,omitempty"`
	FriendlyName  string `yaml:"friendly_name,omitempty"`
	NameFormat    string `yaml:"name_format,omitempty"`
}

// SAMLGroupsMapper sends the user's groups as a SAML attribute.
type SAMLGroupsMapper struct {
	Attribute    string `yaml:"attribute,omitempty"`
	FriendlyName string `yaml:"friendly_name,omitempty"`
	FullPath     bool   `yaml:"full_path,omitempty"`
	// Single sends one attribute with all groups as values (default true).
	Single *bool `yaml:"single,omitempty"`
}

// RawMapper is the escape hatch: a provider id and its config, sent as is.
type RawMapper struct {
	ProtocolMapper string            `yaml:"protocol_mapper,omitempty"`
	Config         map[string]string `yaml:"config,omitempty"`
}

// Group is a Keycloak group, addressed by name or by path ("parent/child")
// for subgroups, with its role bindings.
type Group struct {
	Name string `yaml:"name,omitempty"`
	// RealmRoles are realm roles granted to the group's members.
	RealmRoles []string `yaml:"realm_roles,omitempty"`
	// ClientRoles maps a client_id to the roles of that client granted.
	ClientRoles map[string][]string `yaml:"client_roles,omitempty"`
}

// User is a demo or test user. The password is set when the user is
// created; an existing user's password is left alone.
type User struct {
	Username    string              `yaml:"username,omitempty"`
	Email       string              `yaml:"email,omitempty"`
	FirstName   string              `yaml:"first_name,omitempty"`
	LastName    string              `yaml:"last_name,omitempty"`
	PasswordEnv string              `yaml:"password_env,omitempty"`
	Groups      []string            `yaml:"groups,omitempty"`
	Attributes  map[string][]string `yaml:"attributes,omitempty"`
	// TOTPSecretEnv names the variable holding a base32 OTP secret: the
	// user is created with that TOTP credential (under the file's
	// otp_policy, else Keycloak's default SHA1, 6 digits, 30 s), so that
	// a demo or test user logs in through an OTP flow without setting a
	// device up. An existing user's credentials are left alone.
	TOTPSecretEnv string `yaml:"totp_secret_env,omitempty"`
}

// Vault is the vault: section: ACL policies and JWT/OIDC auth mounts.
type Vault struct {
	// Addr defaults to $VAULT_ADDR; the token comes from $VAULT_TOKEN.
	Addr      string            `yaml:"addr,omitempty"`
	Namespace string            `yaml:"namespace,omitempty"`
	Policies  map[string]Policy `yaml:"policies,omitempty"`
	Auth      []AuthMount       `yaml:"auth,omitempty"`
}

// Policy is an ACL policy from inline HCL or a shipped template.
type Policy struct {
	Template string `yaml:"template,omitempty"`
	HCL      string `yaml:"hcl,omitempty"`
}

// AuthMount is one jwt or oidc auth method with its roles and external
// groups.
type AuthMount struct {
	Path        string `yaml:"path,omitempty"`
	Type        string `yaml:"type,omitempty"`
	Description string `yaml:"description,omitempty"`

	DiscoveryURL         string   `yaml:"discovery_url,omitempty"`
	DiscoveryCAPEM       string   `yaml:"discovery_ca_pem,omitempty"`
	ClientID             string   `yaml:"client_id,omitempty"`
	ClientSecretEnv      string   `yaml:"client_secret_env,omitempty"`
	JWKSURL              string   `yaml:"jwks_url,omitempty"`
	JWTValidationPubkeys []string `yaml:"jwt_validation_pubkeys,omitempty"`
	JWTSupportedAlgs     []string `yaml:"jwt_supported_algs,omitempty"`
	BoundIssuer          string   `yaml:"bound_issuer,omitempty"`
	DefaultRole          string   `yaml:"default_role,omitempty"`

	Roles  map[string]Role `yaml:"roles,omitempty"`
	Groups []ExternalGroup `yaml:"groups,omitempty"`
}

// Role is a Vault JWT/OIDC role.
type Role struct {
	RoleType             string            `yaml:"role_type,omitempty"`
	UserClaim            string            `yaml:"user_claim,omitempty"`
	UserClaimJSONPointer *bool             `yaml:"user_claim_json_pointer,omitempty"`
	GroupsClaim          string            `yaml:"groups_claim,omitempty"`
	BoundAudiences       []string          `yaml:"bound_audiences,omitempty"`
	BoundSubject         string            `yaml:"bound_subject,omitempty"`
	BoundClaims          map[string]any    `yaml:"bound_claims,omitempty"`
	BoundClaimsType      string            `yaml:"bound_claims_type,omitempty"`
	ClaimMappings        map[string]string `yaml:"claim_mappings,omitempty"`
	AllowedRedirectURIs  []string          `yaml:"allowed_redirect_uris,omitempty"`
	OIDCScopes           []string          `yaml:"oidc_scopes,omitempty"`
	Policies             []string          `yaml:"policies,omitempty"`
	TokenTTL             string            `yaml:"token_ttl,omitempty"`
	TokenMaxTTL          string            `yaml:"token_max_ttl,omitempty"`
	ClockSkewLeeway      string            `yaml:"clock_skew_leeway,omitempty"`
	ExpirationLeeway     string            `yaml:"expiration_leeway,omitempty"`
	NotBeforeLeeway      string            `yaml:"not_before_leeway,omitempty"`
	VerboseOIDCLogging   bool              `yaml:"verbose_oidc_logging,omitempty"`
}

// ExternalGroup is a Vault identity group of type external, with the alias
// that links it to a groups-claim value on its mount.
type ExternalGroup struct {
	Name     string   `yaml:"name,omitempty"`
	Policies []string `yaml:"policies,omitempty"`
	Alias    string   `yaml:"alias,omitempty"`
}

// Rancher is the rancher: section for the Keycloak SAML auth provider.
type Rancher struct {
	URL        string        `yaml:"url,omitempty"`
	SAMLClient string        `yaml:"saml_client,omitempty"`
	Fields     RancherFields `yaml:"fields,omitempty"`
}

// RancherFields name the SAML attributes Rancher reads, by friendly name.
type RancherFields struct {
	DisplayName string `yaml:"display_name,omitempty"`
	UserName    string `yaml:"user_name,omitempty"`
	UID         string `yaml:"uid,omitempty"`
	Groups      string `yaml:"groups,omitempty"`
}

// Django is the django: section: Django sites that log in through Keycloak.
// Each site's needs (callback URL, mappers, unsigned userinfo) become part
// of its client's desired state; `ssoctl render django` writes the site's
// keycloak_sso app.
type Django struct {
	Sites []DjangoSite `yaml:"sites,omitempty"`
}

// The Django OIDC libraries a site may use, and the API authentication
// libraries.
const (
	LibMozilla     = "mozilla-django-oidc"
	LibKeycloakOID = "django-keycloak-oidc"
	LibSocial      = "social-auth"
	LibSocialOIDC  = "social-auth-oidc"
	LibAllauth     = "allauth"
	LibJWTOIDC     = "django-jwt-oidc"
	LibAdminSSO    = "django-admin-sso"
	LibDjangoOIDC  = "django-oidc"

	APIDRFOIDC     = "drf-oidc-auth"
	APIMozilla     = "mozilla-django-oidc"
	APIKeycloakAut = "django-keycloak-auth"
)

// DjangoLibraries and DjangoAPIs list the names library: and api: take.
var (
	DjangoLibraries = []string{LibMozilla, LibKeycloakOID, LibSocial, LibSocialOIDC, LibAllauth, LibJWTOIDC, LibAdminSSO, LibDjangoOIDC}
	DjangoAPIs      = []string{APIDRFOIDC, APIMozilla, APIKeycloakAut}
)

// DjangoSite is one Django site.
type DjangoSite struct {
	// Name identifies the site (render django --site NAME).
	Name string `yaml:"name,omitempty"`
	// Client is an openid-connect client of the keycloak: section.
	Client  string `yaml:"client,omitempty"`
	Library string `yaml:"library,omitempty"`
	// URL is where the site is served; the callback and logout URLs derive
	// from it.
	URL string `yaml:"url,omitempty"`
	// ClientSecretEnv names the variable the rendered settings read the
	// client secret from; default NAME_OIDC_SECRET.
	ClientSecretEnv string `yaml:"client_secret_env,omitempty"`
	// UsernameClaim becomes the Django username; default preferred_username.
	UsernameClaim string `yaml:"username_claim,omitempty"`
	// Roles makes staff, superuser and groups name roles of the site's
	// client instead of Keycloak groups.
	Roles bool `yaml:"roles,omitempty"`
	// Staff and Superuser list the Keycloak groups (or client roles) that
	// make a user is_staff or is_superuser.
	Staff     []string `yaml:"staff,omitempty"`
	Superuser []string `yaml:"superuser,omitempty"`
	// Groups maps a Keycloak group (or client role) to a Django group; left
	// out, every Keycloak group maps to the Django group of the same name.
	Groups map[string]string `yaml:"groups,omitempty"`
	// Logout is keycloak (default: logging out of the site also ends the
	// Keycloak session) or local (the Django session only).
	Logout string `yaml:"logout,omitempty"`
	// API protects Django REST framework views with Bearer tokens of the
	// site's client.
	API string `yaml:"api,omitempty"`
}

// Site returns the django site named name, or nil.
func (d *Django) Site(name string) *DjangoSite {
	if d == nil {
		return nil
	}
	for i := range d.Sites {
		if d.Sites[i].Name == name {
			return &d.Sites[i]
		}
	}
	return nil
}
