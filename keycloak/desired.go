package keycloak

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/Nerzal/gocloak/v13"
	"github.com/ssoctl/ssoctl/internal/totp"
	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
)

// Client attribute keys ssoctl manages (see shared/reference/keycloak-rancher.md).
const (
	AttrPostLogoutRedirectURIs = "post.logout.redirect.uris"
	AttrBackchannelLogoutURL   = "backchannel.logout.url"
	AttrUserinfoSignatureAlg   = "user.info.response.signature.alg"
	AttrPKCEMethod             = "pkce.code.challenge.method"
	AttrSAMLServerSignature    = "saml.server.signature"
	AttrSAMLAssertionSignature = "saml.assertion.signature"
	AttrSAMLClientSignature    = "saml.client.signature"
	AttrSAMLForcePostBinding   = "saml.force.post.binding"
	AttrSAMLEncrypt            = "saml.encrypt"
	AttrSAMLNameIDFormat       = "saml_name_id_format"
)

// Single sign-out attribute keys. On a client created over REST with a
// protocol, Keycloak 26.7.3 stores the two backchannel flags as "true" and
// "false" for OIDC, and none of the URLs.
const (
	AttrBackchannelSessionRequired           = "backchannel.logout.session.required"
	AttrBackchannelLogoutRevokeOfflineTokens = "backchannel.logout.revoke.offline.tokens"
	AttrFrontchannelURL                      = "frontchannel.logout.url"
	AttrSAMLSingleLogoutURLPost              = "saml_single_logout_service_url_post"
	AttrSAMLSingleLogoutURLRedirect          = "saml_single_logout_service_url_redirect"
)

// DesiredClient is a client as the file wants it. Only the fields that are
// set are managed; Attributes holds only managed attribute keys.
type DesiredClient struct {
	ClientID     string
	Protocol     string
	Name         *string
	Description  *string
	Enabled      *bool
	PublicClient *bool
	BearerOnly   *bool
	StandardFlow *bool
	DirectGrants *bool
	ServiceAccts *bool
	RootURL      *string
	BaseURL      *string
	RedirectURIs []string // nil = unmanaged
	WebOrigins   []string // nil = unmanaged
	Attributes   map[string]string
	// UserinfoSigned is compared by meaning, not by value: any algorithm
	// counts as signed, absent or "" as unsigned.
	UserinfoSigned *bool
	Roles          []string
	Mappers        []Mapper
	// RequiredRedirectURIs and RequiredPostLogout must be among the
	// client's URIs when the file leaves the lists unmanaged: they are added
	// to what the client has (a Django site's callback, say).
	RequiredRedirectURIs []string
	RequiredPostLogout   []string
	// DefaultScopes and OptionalScopes are exact sets; nil = unmanaged.
	DefaultScopes, OptionalScopes []string
	FullScopeAllowed              *bool
	// ScopeMappings nil is unmanaged.
	ScopeMappings *RoleSet
	// Key is the client's place in the file (keycloak.clients[0]), for
	// errors that only planning finds.
	Key string
	// Authz is the client's Authorization Services section; nil = none
	// managed.
	Authz *DesiredAuthz

	// FrontchannelLogout is the client's top-level frontchannelLogout.
	FrontchannelLogout *bool

	// Flows are the client's flow overrides, by alias; nil = unmanaged.
	Flows *spec.ClientFlows
}

// resolve turns the required URIs of d into managed lists against the
// client as it is (cur, nil when it is to be created): the client keeps
// what it has and gains what is required.
func resolve(d DesiredClient, cur *gocloak.Client) DesiredClient {
	if d.RedirectURIs == nil && len(d.RequiredRedirectURIs) > 0 {
		var have []string
		if cur != nil {
			have = deref(cur.RedirectURIs)
		}
		d.RedirectURIs = union(have, d.RequiredRedirectURIs)
	}
	if _, managed := d.Attributes[AttrPostLogoutRedirectURIs]; !managed && len(d.RequiredPostLogout) > 0 {
		var have []string
		if cur != nil {
			if v := deref(cur.Attributes)[AttrPostLogoutRedirectURIs]; v != "" && v != "+" {
				have = strings.Split(v, "##")
			}
		}
		d.Attributes = maps.Clone(d.Attributes)
		if d.Attributes == nil {
			d.Attributes = map[string]string{}
		}
		d.Attributes[AttrPostLogoutRedirectURIs] = strings.Join(union(have, d.RequiredPostLogout), "##")
	}
	return d
}

// union is a followed by the elements of b it lacks.
func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, x := range b {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// Mapper is a protocol mapper in Keycloak's terms, with every config flag
// spelled out: over the admin API a missing flag means "off".
type Mapper struct {
	Name           string
	Protocol       string
	ProtocolMapper string
	Config         map[string]string
}

func boolStr(b bool) string { return strconv.FormatBool(b) }

func flag(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}

// ExpandClient turns an sso.yaml client into its desired state.
func ExpandClient(c spec.Client) DesiredClient {
	d := DesiredClient{
		ClientID:     c.ClientID,
		Protocol:     c.Protocol,
		Enabled:      c.Enabled,
		StandardFlow: c.StandardFlow,
		DirectGrants: c.DirectAccessGrants,
		ServiceAccts: c.ServiceAccounts,
		RedirectURIs: c.RedirectURIs,
		WebOrigins:   c.WebOrigins,
		Attributes:   map[string]string{},
		Roles:        c.Roles,

		RequiredRedirectURIs: c.RequireRedirectURIs,
		RequiredPostLogout:   c.RequirePostLogoutRedirectURIs,

		DefaultScopes:    c.DefaultScopes,
		OptionalScopes:   c.OptionalScopes,
		FullScopeAllowed: c.FullScopeAllowed,
		ScopeMappings:    roleSet(c.ScopeMappings),

		FrontchannelLogout: c.FrontchannelLogout,

		Flows: c.Flows,
	}
	if c.Authorization != nil {
		d.Authz = ExpandAuthz(c.Authorization)
	}
	if c.Name != "" {
		d.Name = &c.Name
	}
	if c.Description != "" {
		d.Description = &c.Description
	}
	if c.RootURL != "" {
		d.RootURL = &c.RootURL
	}
	if c.BaseURL != "" {
		d.BaseURL = &c.BaseURL
	}
	t, f := true, false
	if c.Protocol == spec.ProtocolSAML {
		// Keycloak's REST defaults would require signed client requests and
		// POST binding; Rancher's documentation wants both off.
		d.Attributes[AttrSAMLServerSignature] = boolStr(flag(c.SignDocuments, true))
		d.Attributes[AttrSAMLAssertionSignature] = boolStr(flag(c.SignAssertions, true))
		d.Attributes[AttrSAMLClientSignature] = boolStr(flag(c.ClientSignature, false))
		d.Attributes[AttrSAMLForcePostBinding] = boolStr(flag(c.ForcePostBinding, false))
		d.Attributes[AttrSAMLEncrypt] = boolStr(flag(c.EncryptAssertions, false))
		if c.NameIDFormat != "" {
			d.Attributes[AttrSAMLNameIDFormat] = c.NameIDFormat
		}
		setStr(d.Attributes, AttrSAMLSingleLogoutURLPost, c.SingleLogoutURLPost)
		setStr(d.Attributes, AttrSAMLSingleLogoutURLRedirect, c.SingleLogoutURLRedirect)
	} else {
		switch c.Access {
		case spec.AccessPublic:
			d.PublicClient, d.BearerOnly = &t, &f
		case spec.AccessBearerOnly:
			d.PublicClient, d.BearerOnly = &f, &t
		default:
			d.PublicClient, d.BearerOnly = &f, &f
		}
		if c.PostLogoutRedirectURIs != nil {
			d.Attributes[AttrPostLogoutRedirectURIs] = strings.Join(c.PostLogoutRedirectURIs, "##")
		}
		if c.BackchannelLogoutURL != nil {
			d.Attributes[AttrBackchannelLogoutURL] = *c.BackchannelLogoutURL
		}
		if c.BackchannelLogoutSessionRequired != nil {
			d.Attributes[AttrBackchannelSessionRequired] = boolStr(*c.BackchannelLogoutSessionRequired)
		}
		if c.BackchannelLogoutRevokeOfflineTokens != nil {
			d.Attributes[AttrBackchannelLogoutRevokeOfflineTokens] = boolStr(*c.BackchannelLogoutRevokeOfflineTokens)
		}
		setStr(d.Attributes, AttrFrontchannelURL, c.FrontchannelLogoutURL)
		if c.PKCE != nil {
			d.Attributes[AttrPKCEMethod] = *c.PKCE
		}
		d.UserinfoSigned = c.UserinfoSigned
	}
	for k, v := range c.Attributes {
		d.Attributes[k] = v
	}
	for _, m := range c.Mappers {
		d.Mappers = append(d.Mappers, ExpandMapper(m, c.ClientID, c.Protocol))
	}
	return d
}

// setStr sets attrs[k] to *v when the file sets v.
func setStr(attrs map[string]string, k string, v *string) {
	if v != nil {
		attrs[k] = *v
	}
}

// Desired is the keycloak: section expanded into what the realm should
// hold, with the passwords it names read from the environment.
type Desired struct {
	Realm       string
	CreateRealm bool
	RealmRoles  []string
	Clients     []DesiredClient
	// Groups are addressed by path ("parent/child"), with their role
	// bindings; parents that the file does not list are implied.
	Groups []spec.Group
	Users  []DesiredUser
	// ClientScopes are the file's client scopes; DefaultScopes and
	// OptionalScopes the realm's lists for new clients (nil = unmanaged).
	ClientScopes                  []DesiredScope
	DefaultScopes, OptionalScopes []string
	// Owner is the file's owner in the ownership record ("" is the owner
	// of objects recorded before owners), and AdoptFrom the owners whose
	// objects the file may take over (spec.File).
	Owner     string
	AdoptFrom []string
	// Flows and Bindings are the file's authentication flows and the
	// realm's flow bindings (flows.go).
	Flows    []spec.Flow
	Bindings *spec.FlowBindings
	// Settings and RequiredActions are the realm's own (realm_settings.go,
	// required_actions.go); SMTPPassword is read from settings.smtp's
	// password_env ("" when not set).
	Settings        *spec.RealmSettings
	RequiredActions []spec.RequiredAction
	SMTPPassword    string
	// IdPs are the file's identity providers (idp.go).
	IdPs []DesiredIdP
	// Federations are the file's LDAP providers; FederationSecrets their
	// bind credentials by name, read from bind_credential_env.
	Federations       []spec.Federation
	FederationSecrets map[string]string
	// Partial limits the plan to Clients (apply --only rancher): realm
	// roles, groups, users and other clients are left as they are, and
	// nothing is pruned.
	Partial bool
}

// DesiredUser is a file's user and its password ("" when the file names no
// variable, or the variable is not set).
type DesiredUser struct {
	spec.User
	Password string
	// TOTPSecret is the base32 secret totp_secret_env holds ("" none),
	// OTPPolicy the policy its credential is created under (users.go).
	TOTPSecret string
	OTPPolicy  totp.Policy
}

// Expand turns the keycloak: section into its desired state. getenv reads
// the users' password variables; nil reads nothing.
func Expand(k *spec.Keycloak, getenv func(string) string) *Desired {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	d := &Desired{Realm: k.Realm, CreateRealm: k.CreateRealm, RealmRoles: k.RealmRoles, Groups: k.Groups,
		DefaultScopes: k.DefaultClientScopes, OptionalScopes: k.OptionalClientScopes}
	d.Flows, d.Bindings = k.Flows, k.Bindings
	d.IdPs = expandIdPs(k.IdentityProviders, getenv)
	for i, c := range k.Clients {
		dc := ExpandClient(c)
		dc.Key = fmt.Sprintf("keycloak.clients[%d]", i)
		d.Clients = append(d.Clients, dc)
	}
	for _, sc := range k.ClientScopes {
		d.ClientScopes = append(d.ClientScopes, ExpandScope(sc))
	}
	d.Settings, d.RequiredActions = k.Settings, k.RequiredActions
	d.Federations, d.FederationSecrets = expandFederations(k.UserFederation, getenv)
	if s := k.Settings; s != nil && s.SMTP != nil && s.SMTP.PasswordEnv != "" {
		d.SMTPPassword = getenv(s.SMTP.PasswordEnv)
	}
	for _, u := range k.Users {
		du := DesiredUser{User: u}
		if u.PasswordEnv != "" {
			du.Password = getenv(u.PasswordEnv)
		}
		du.TOTPSecret, du.OTPPolicy = userOTP(k, u, getenv)
		d.Users = append(d.Users, du)
	}
	return d
}

// claimant is the file as the ownership record sees it.
func (d *Desired) claimant() plan.Claimant {
	return plan.Claimant{Owner: d.Owner, AdoptFrom: d.AdoptFrom}
}

// client returns the desired client with clientID, or nil.
func (d *Desired) client(clientID string) *DesiredClient {
	for i := range d.Clients {
		if d.Clients[i].ClientID == clientID {
			return &d.Clients[i]
		}
	}
	return nil
}
