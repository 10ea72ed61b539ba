package spec

import (
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// BuiltinClientScopes are the client scopes Keycloak 26 creates in every
// realm, with their protocols. They are adopted by name, never deleted.
var BuiltinClientScopes = map[string]string{
	"acr": ProtocolOIDC, "address": ProtocolOIDC, "basic": ProtocolOIDC, "email": ProtocolOIDC,
	"microprofile-jwt": ProtocolOIDC, "offline_access": ProtocolOIDC, "organization": ProtocolOIDC,
	"phone": ProtocolOIDC, "profile": ProtocolOIDC, "roles": ProtocolOIDC, "service_account": ProtocolOIDC,
	"web-origins":          ProtocolOIDC,
	"AuthnContextClassRef": ProtocolSAML, "role_list": ProtocolSAML, "saml_organization": ProtocolSAML,
}

// Protocols and access types.
const (
	ProtocolOIDC = "openid-connect"
	ProtocolSAML = "saml"

	AccessConfidential = "confidential"
	AccessPublic       = "public"
	AccessBearerOnly   = "bearer-only"
)

type validator struct {
	f    *File
	errs Errors
	// roles holds each client's roles as a set, made on first use: a
	// role is looked up, never searched for in a list (a file of 1 MiB
	// can list 100,000 names through aliases).
	roles map[*Client]map[string]bool
}

// hasRole reports whether role is among c's roles.
func (v *validator) hasRole(c *Client, role string) bool {
	set, ok := v.roles[c]
	if !ok {
		set = setOf(c.Roles)
		if v.roles == nil {
			v.roles = map[*Client]map[string]bool{}
		}
		v.roles[c] = set
	}
	return set[role]
}

// setOf returns items as a set.
func setOf(items []string) map[string]bool {
	set := make(map[string]bool, len(items))
	for _, s := range items {
		set[s] = true
	}
	return set
}

func (v *validator) errorf(key, format string, args ...any) {
	v.errs = append(v.errs, &Error{File: v.f.Path, Line: v.f.Line(key), Key: key, Msg: fmt.Sprintf(format, args...)})
}

// validate fills defaults (from the environment too) and checks the rules
// the YAML types cannot express.
func (f *File) validate(getenv func(string) string) Errors {
	v := &validator{f: f}
	if f.Keycloak == nil && f.Vault == nil && f.Rancher == nil && f.Django == nil {
		v.errs = append(v.errs, &Error{File: f.Path, Line: 1, Msg: "nothing to do: the file has none of keycloak:, vault:, rancher:, django:"})
	}
	v.owner(f)
	if f.Keycloak != nil {
		v.keycloak(f.Keycloak, getenv)
	}
	if f.Vault != nil {
		v.vault(f.Vault, getenv)
	}
	if f.Rancher != nil {
		v.rancher(f.Rancher)
	}
	if f.Django != nil {
		v.django(f.Django)
	}
	sort.SliceStable(v.errs, func(i, j int) bool { return v.errs[i].Line < v.errs[j].Line })
	return v.errs
}

func (v *validator) keycloak(k *Keycloak, getenv func(string) string) {
	urlKey := "keycloak.url"
	if k.URL == "" {
		k.URL, urlKey = getenv("KEYCLOAK_URL"), "keycloak"
	}
	if k.Realm == "" {
		k.Realm = getenv("KEYCLOAK_REALM")
	}
	switch p := URLProblem(k.URL); {
	case k.URL == "":
		v.errorf("keycloak", "no server: set keycloak.url or $KEYCLOAK_URL")
	case p != "" && urlKey == "keycloak":
		v.errorf(urlKey, "$KEYCLOAK_URL (keycloak.url is not set): %s", p)
	case p != "":
		v.errorf(urlKey, "%s", p)
	}
	if k.Realm == "" {
		v.errorf("keycloak", "no realm: set keycloak.realm or $KEYCLOAK_REALM")
	} else {
		v.plainText("keycloak.realm", k.Realm)
	}
	if k.Admin.ClientID != "" && (k.Admin.UsernameEnv != "" || k.Admin.PasswordEnv != "") {
		v.errorf("keycloak.admin", "use either client_id/client_secret_env or username_env/password_env, not both")
	}
	v.unique("keycloak.realm_roles", k.RealmRoles)

	clients := map[string]*Client{}
	idLens := map[int]bool{} // the lengths of the client ids, see below
	for i := range k.Clients {
		c := &k.Clients[i]
		key := fmt.Sprintf("keycloak.clients[%d]", i)
		if c.ClientID == "" {
			v.errorf(key, "client_id is required")
			continue
		}
		if _, dup := clients[c.ClientID]; dup {
			v.errorf(key+".client_id", "client %s is declared twice", Quote(c.ClientID))
		}
		clients[c.ClientID] = c
		idLens[len(c.ClientID)] = true
		v.client(key, c)
	}
	protocols := v.clientScopes(k)
	for i := range k.Clients {
		key := fmt.Sprintf("keycloak.clients[%d]", i)
		v.scopeAssignments(key, &k.Clients[i], protocols)
		v.scopeMappings(key+".scope_mappings", k.Clients[i].ScopeMappings, clients)
	}
	for i := range k.ClientScopes {
		v.scopeMappings(fmt.Sprintf("keycloak.client_scopes[%d].scope_mappings", i), k.ClientScopes[i].ScopeMappings, clients)
	}
	for i := range k.Clients {
		a := k.Clients[i].Authorization
		if a == nil {
			continue
		}
		// SplitRoleRef asks about every prefix of ref that ends before a
		// "/": looking each up would hash O(len(ref)²) bytes, so only
		// prefixes as long as some client id are looked up.
		known := func(id string) bool { return idLens[len(id)] && clients[id] != nil }
		for j, p := range a.Policies {
			for n, ref := range p.Roles {
				cid, role := SplitRoleRef(ref, known)
				if c := clients[cid]; c != nil && !v.hasRole(c, role) {
					v.errorf(fmt.Sprintf("keycloak.clients[%d].authorization.policies[%d].roles[%d]", i, j, n), "role %s is not among client %s's roles %s", Quote(role), Quote(cid), quoteList(c.Roles))
				}
			}
		}
	}
	groups := map[string]bool{}
	for i := range k.Groups {
		g := &k.Groups[i]
		key := fmt.Sprintf("keycloak.groups[%d]", i)
		g.Name = strings.Trim(g.Name, "/")
		if g.Name == "" {
			v.errorf(key, "name is required")
			continue
		}
		if groups[g.Name] {
			v.errorf(key+".name", "group %s is declared twice", Quote(g.Name))
		}
		groups[g.Name] = true
		for cid, roles := range g.ClientRoles {
			if c, ok := clients[cid]; ok {
				for _, r := range roles {
					if !v.hasRole(c, r) {
						v.errorf(key+".client_roles."+clip(cid), "role %s is not among client %s's roles %s", Quote(r), Quote(cid), quoteList(c.Roles))
					}
				}
			}
		}
	}
	v.realm(k)
	v.identityProviders(k)
	v.federation(k)
	users := map[string]bool{}
	for i := range k.Users {
		u := &k.Users[i]
		key := fmt.Sprintf("keycloak.users[%d]", i)
		if u.Username == "" {
			v.errorf(key, "username is required")
			continue
		}
		u.Username = strings.ToLower(u.Username) // Keycloak lowercases usernames
		if users[u.Username] {
			v.errorf(key+".username", "user %s is declared twice", Quote(u.Username))
		}
		users[u.Username] = true
		if u.TOTPSecretEnv != "" && k.Settings != nil && k.Settings.OTPPolicy != nil && k.Settings.OTPPolicy.Type != nil && *k.Settings.OTPPolicy.Type == "hotp" {
			v.errorf(key+".totp_secret_env", "totp_secret_env makes a time-based (TOTP) credential, and settings.otp_policy.type is hotp")
		}
		for j := range u.Groups {
			u.Groups[j] = strings.Trim(u.Groups[j], "/")
		}
	}
}

func (v *validator) client(key string, c *Client) {
	switch c.Protocol {
	case "", "oidc", ProtocolOIDC:
		c.Protocol = ProtocolOIDC
	case ProtocolSAML:
	default:
		v.errorf(key+".protocol", "want openid-connect or saml, got %s", Quote(c.Protocol))
	}
	if c.Protocol == ProtocolSAML {
		for _, k := range []struct {
			set  bool
			name string
		}{
			{c.Access != "", "access"}, {c.UserinfoSigned != nil, "userinfo_signed"}, {c.PKCE != nil, "pkce"},
			{c.DirectAccessGrants != nil, "direct_access_grants"}, {c.ServiceAccounts != nil, "service_accounts"},
			{c.BackchannelLogoutURL != nil, "backchannel_logout_url"}, {len(c.PostLogoutRedirectURIs) > 0, "post_logout_redirect_uris"},
			{c.BackchannelLogoutSessionRequired != nil, "backchannel_logout_session_required"},
			{c.BackchannelLogoutRevokeOfflineTokens != nil, "backchannel_logout_revoke_offline_tokens"},
			{c.FrontchannelLogoutURL != nil, "frontchannel_logout_url"},
		} {
			if k.set {
				v.errorf(key+"."+k.name, "%s applies to openid-connect clients, not saml", k.name)
			}
		}
	} else {
		for _, k := range []struct {
			set  bool
			name string
		}{
			{c.SignDocuments != nil, "sign_documents"}, {c.SignAssertions != nil, "sign_assertions"},
			{c.ClientSignature != nil, "client_signature"}, {c.ForcePostBinding != nil, "force_post_binding"},
			{c.EncryptAssertions != nil, "encrypt_assertions"}, {c.NameIDFormat != "", "name_id_format"},
			{c.SingleLogoutURLPost != nil, "single_logout_url_post"}, {c.SingleLogoutURLRedirect != nil, "single_logout_url_redirect"},
		} {
			if k.set {
				v.errorf(key+"."+k.name, "%s applies to saml clients, not openid-connect", k.name)
			}
		}
		switch c.Access {
		case "":
			c.Access = AccessConfidential
		case AccessConfidential, AccessPublic, AccessBearerOnly:
		default:
			v.errorf(key+".access", "want confidential, public or bearer-only, got %s", Quote(c.Access))
		}
		if c.PKCE != nil && *c.PKCE != "" && *c.PKCE != "S256" && *c.PKCE != "plain" {
			v.errorf(key+".pkce", "want S256, plain or \"\", got %s", Quote(*c.PKCE))
		}
	}
	if c.NameIDFormat != "" && !slices.Contains([]string{"username", "email", "transient", "persistent"}, c.NameIDFormat) {
		v.errorf(key+".name_id_format", "want username, email, transient or persistent, got %s", Quote(c.NameIDFormat))
	}
	// The single sign-out URLs are absolute http(s) URLs; "" clears one.
	for _, u := range []struct {
		p    *string
		name string
	}{{c.FrontchannelLogoutURL, "frontchannel_logout_url"}, {c.SingleLogoutURLPost, "single_logout_url_post"}, {c.SingleLogoutURLRedirect, "single_logout_url_redirect"}} {
		if u.p != nil && *u.p != "" {
			v.checkURL(key+"."+u.name, *u.p)
		}
	}
	for i, u := range c.RedirectURIs {
		if strings.TrimSpace(u) == "" {
			v.errorf(fmt.Sprintf("%s.redirect_uris[%d]", key, i), "empty redirect URI")
		}
	}
	v.unique(key+".roles", c.Roles)
	v.mappers(key, "client "+Quote(c.ClientID), c.ClientID, c.Protocol, c.Mappers)
	if c.Authorization != nil {
		v.authorization(key, c)
	}
	v.uniqueScopes(key, "default_scopes", "optional_scopes", c.DefaultScopes, c.OptionalScopes)
}

// mappers checks the mappers of a client (clientID) or of a client scope
// (clientID ""), owner naming it in messages.
func (v *validator) mappers(key, owner, clientID, protocol string, ms []Mapper) {
	names := map[string]bool{}
	for i := range ms {
		m := &ms[i]
		mkey := fmt.Sprintf("%s.mappers[%d]", key, i)
		kind, n := m.kinds()
		if n != 1 {
			v.errorf(mkey, "want exactly one mapper kind (audience, client_roles, realm_roles, groups, attribute, saml_property, saml_attribute, saml_groups, raw), got %d", n)
			continue
		}
		if p := mapperProtocol(kind); p != "" && p != protocol {
			v.errorf(mkey+"."+kind, "%s is a %s mapper, but %s is %s", kind, p, owner, clip(protocol))
			continue
		}
		if msg := m.check(); msg != "" {
			v.errorf(mkey+"."+kind, "%s", msg)
			continue
		}
		name := m.DefaultName(clientID)
		if names[name] {
			v.errorf(mkey, "two mappers are named %s; give one a distinct name with name:", Quote(name))
		}
		names[name] = true
	}
}

// uniqueScopes checks a pair of default and optional scope lists: no name
// twice, none in both.
func (v *validator) uniqueScopes(key, dk, ok string, def, opt []string) {
	v.unique(key+"."+dk, def)
	v.unique(key+"."+ok, opt)
	inDef := setOf(def)
	for i, s := range opt {
		if inDef[s] {
			v.errorf(fmt.Sprintf("%s.%s[%d]", key, ok, i), "scope %s is in %s too; a scope is either default or optional", Quote(s), dk)
		}
	}
}

// clientScopes checks the client_scopes section and returns the protocol
// of every scope the file or Keycloak defines by name.
func (v *validator) clientScopes(k *Keycloak) map[string]string {
	protocols := maps.Clone(BuiltinClientScopes)
	seen := map[string]bool{}
	for i := range k.ClientScopes {
		sc := &k.ClientScopes[i]
		key := fmt.Sprintf("keycloak.client_scopes[%d]", i)
		if sc.Name == "" {
			v.errorf(key, "name is required")
			continue
		}
		if seen[sc.Name] {
			v.errorf(key+".name", "client scope %s is declared twice", Quote(sc.Name))
		}
		seen[sc.Name] = true
		switch sc.Protocol {
		case "", "oidc", ProtocolOIDC:
			sc.Protocol = ProtocolOIDC
		case ProtocolSAML:
		default:
			v.errorf(key+".protocol", "want openid-connect or saml, got %s", Quote(sc.Protocol))
		}
		if p, builtin := BuiltinClientScopes[sc.Name]; builtin && p != sc.Protocol {
			v.errorf(key+".protocol", "Keycloak's built-in scope %s is %s", Quote(sc.Name), p)
		}
		protocols[sc.Name] = sc.Protocol
		v.mappers(key, "client scope "+Quote(sc.Name), "", sc.Protocol, sc.Mappers)
	}
	v.uniqueScopes("keycloak", "default_client_scopes", "optional_client_scopes", k.DefaultClientScopes, k.OptionalClientScopes)
	return protocols
}

// scopeAssignments checks that the scopes a client is given are of its
// protocol, as far as the file and the built-in scopes tell (other names
// are checked against the realm when planning).
func (v *validator) scopeAssignments(key string, c *Client, protocols map[string]string) {
	for _, l := range []struct {
		name  string
		items []string
	}{{"default_scopes", c.DefaultScopes}, {"optional_scopes", c.OptionalScopes}} {
		for i, s := range l.items {
			if p, ok := protocols[s]; ok && p != c.Protocol {
				v.errorf(fmt.Sprintf("%s.%s[%d]", key, l.name, i), "scope %s is %s, but client %s is %s", Quote(s), clip(p), Quote(c.ClientID), clip(c.Protocol))
			}
		}
	}
}

// scopeMappings checks that roles of the file's clients are among their
// roles.
func (v *validator) scopeMappings(key string, sm *ScopeMappings, clients map[string]*Client) {
	if sm == nil {
		return
	}
	v.unique(key+".realm", sm.Realm)
	for cid, roles := range sm.Clients {
		v.unique(key+".clients."+clip(cid), roles)
		if c, ok := clients[cid]; ok {
			for _, r := range roles {
				if !v.hasRole(c, r) {
					v.errorf(key+".clients."+clip(cid), "role %s is not among client %s's roles %s", Quote(r), Quote(cid), quoteList(c.Roles))
				}
			}
		}
	}
}

// kinds returns the one kind set on m (the last one when several are) and
// how many are set.
func (m *Mapper) kinds() (string, int) {
	kind, n := "", 0
	for _, k := range []struct {
		set  bool
		name string
	}{
		{m.Audience != nil, "audience"}, {m.ClientRoles != nil, "client_roles"}, {m.RealmRoles != nil, "realm_roles"},
		{m.Groups != nil, "groups"}, {m.Attribute != nil, "attribute"}, {m.SAMLProperty != nil, "saml_property"},
		{m.SAMLAttribute != nil, "saml_attribute"}, {m.SAMLGroups != nil, "saml_groups"}, {m.Raw != nil, "raw"},
	} {
		if k.set {
			kind = k.name
			n++
		}
	}
	return kind, n
}

// Kind returns the mapper's shorthand kind, e.g. "audience".
func (m *Mapper) Kind() string { k, _ := m.kinds(); return k }

func mapperProtocol(kind string) string {
	switch kind {
	case "saml_property", "saml_attribute", "saml_groups":
		return ProtocolSAML
	case "raw":
		return ""
	}
	return ProtocolOIDC
}

func (m *Mapper) check() string {
	switch {
	case m.Audience != nil:
		if m.Audience.Client == "" && m.Audience.Custom == "" {
			return "set client (a client_id) or custom (any string)"
		}
		if m.Audience.Client != "" && m.Audience.Custom != "" {
			return "set client or custom, not both"
		}
	case m.Attribute != nil:
		if m.Attribute.UserAttribute == "" {
			return "user_attribute is required"
		}
		if jt := m.Attribute.JSONType; jt != "" && !slices.Contains([]string{"String", "long", "int", "boolean", "JSON"}, jt) {
			return fmt.Sprintf("json_type must be String, long, int, boolean or JSON, got %s", Quote(jt))
		}
	case m.SAMLProperty != nil:
		if m.SAMLProperty.Property == "" {
			return "property is required (firstName, lastName, email, username)"
		}
		return checkNameFormat(m.SAMLProperty.NameFormat)
	case m.SAMLAttribute != nil:
		if m.SAMLAttribute.UserAttribute == "" {
			return "user_attribute is required"
		}
		return checkNameFormat(m.SAMLAttribute.NameFormat)
	case m.Raw != nil:
		if m.Raw.ProtocolMapper == "" {
			return "protocol_mapper is required (a provider id such as oidc-hardcoded-claim-mapper)"
		}
		if m.Name == "" {
			return "a raw mapper needs a name"
		}
	}
	return ""
}

func checkNameFormat(f string) string {
	if f != "" && !slices.Contains([]string{"Basic", "URI Reference", "Unspecified"}, f) {
		return fmt.Sprintf("name_format must be Basic, URI Reference or Unspecified, got %s", Quote(f))
	}
	return ""
}

// DefaultName is the mapper's name in Keycloak: Name when set, otherwise a
// name derived from its kind and target. Existing mappers are matched by it.
func (m *Mapper) DefaultName(clientID string) string {
	if m.Name != "" {
		return m.Name
	}
	switch {
	case m.Audience != nil:
		if m.Audience.Client != "" {
			return "audience " + m.Audience.Client
		}
		return "audience " + m.Audience.Custom
	case m.ClientRoles != nil:
		c := m.ClientRoles.Client
		if c == "" {
			c = clientID
		}
		if c == "" {
			return "client roles" // a scope's, as in the built-in roles scope
		}
		return "client roles " + c
	case m.RealmRoles != nil:
		return "realm roles"
	case m.Groups != nil:
		return "groups"
	case m.Attribute != nil:
		return "attribute " + m.Attribute.UserAttribute
	case m.SAMLProperty != nil:
		return "property " + m.SAMLProperty.Property
	case m.SAMLAttribute != nil:
		return "attribute " + m.SAMLAttribute.UserAttribute
	case m.SAMLGroups != nil:
		return "groups"
	}
	return ""
}

func (v *validator) unique(key string, items []string) {
	seen := map[string]bool{}
	for i, s := range items {
		if s == "" {
			v.errorf(fmt.Sprintf("%s[%d]", key, i), "empty name")
		}
		if seen[s] {
			v.errorf(fmt.Sprintf("%s[%d]", key, i), "%s is listed twice", Quote(s))
		}
		seen[s] = true
	}
}

// maxDjangoGroupName is the length of django.contrib.auth's Group.name.
const maxDjangoGroupName = 150

// plainText refuses a name that no server or library takes: one that is not
// UTF-8 or holds a control character (a newline, NUL, DEL, C1).
func (v *validator) plainText(key, s string) {
	if !utf8.ValidString(s) {
		v.errorf(key, "not valid UTF-8")
		return
	}
	if i := strings.IndexFunc(s, unicode.IsControl); i >= 0 {
		v.errorf(key, "a name cannot hold the control character %U (at byte %d)", []rune(s[i:])[0], i)
	}
}

func (v *validator) checkURL(key, s string) {
	if p := URLProblem(s); p != "" {
		v.errorf(key, "%s", p)
	}
}

// URLProblem says why s is not a server address ssoctl talks to (an
// absolute http or https URL with a host), or returns "". Every server URL
// is checked by it: the file's, and $KEYCLOAK_URL's and $VAULT_ADDR's
// before any request.
func URLProblem(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "want an http(s) URL, got " + Quote(s)
	}
	return ""
}

func (v *validator) vault(vs *Vault, getenv func(string) string) {
	from := ""
	if vs.Addr == "" {
		vs.Addr, from = VaultEnv(getenv, "ADDR")
	}
	if vs.Namespace == "" {
		vs.Namespace, _ = VaultEnv(getenv, "NAMESPACE")
	}
	switch p := URLProblem(vs.Addr); {
	case vs.Addr == "":
		v.errorf("vault", "no server: set vault.addr or $VAULT_ADDR (or OpenBao's $BAO_ADDR)")
	case p != "" && from != "":
		v.errorf("vault", "$%s (vault.addr is not set): %s", from, p)
	case p != "":
		v.errorf("vault.addr", "%s", p)
	}
	for name, p := range vs.Policies {
		key := "vault.policies." + clip(name)
		if (p.HCL == "") == (p.Template == "") {
			v.errorf(key, "set exactly one of hcl or template")
		}
		if name == "root" || name == "default" {
			v.errorf(key, "policy %s is built into Vault and cannot be managed", Quote(name))
		}
	}
	paths := map[string]bool{}
	groupMount := map[string]string{} // Vault group names are global
	for i := range vs.Auth {
		a := &vs.Auth[i]
		key := fmt.Sprintf("vault.auth[%d]", i)
		a.Path = strings.Trim(a.Path, "/")
		if a.Path == "" {
			v.errorf(key, "path is required")
			continue
		}
		if paths[a.Path] {
			v.errorf(key+".path", "auth path %s is declared twice", Quote(a.Path))
		}
		paths[a.Path] = true
		switch a.Type {
		case "jwt", "oidc":
		case "":
			v.errorf(key, "type is required: jwt or oidc")
		default:
			v.errorf(key+".type", "want jwt or oidc, got %s", Quote(a.Type))
		}
		if a.DiscoveryURL == "" && a.JWKSURL == "" && len(a.JWTValidationPubkeys) == 0 && v.f.Keycloak != nil && v.f.Keycloak.URL != "" && v.f.Keycloak.Realm != "" {
			// Default: the issuer of the realm the file provisions.
			a.DiscoveryURL = strings.TrimRight(v.f.Keycloak.URL, "/") + "/realms/" + v.f.Keycloak.Realm
		}
		keySources := 0
		for _, set := range []bool{a.DiscoveryURL != "", a.JWKSURL != "", len(a.JWTValidationPubkeys) > 0} {
			if set {
				keySources++
			}
		}
		if keySources != 1 {
			v.errorf(key, "set exactly one of discovery_url, jwks_url or jwt_validation_pubkeys")
		}
		if a.Type == "oidc" && (a.DiscoveryURL == "" || a.ClientID == "") {
			v.errorf(key, "an oidc mount needs discovery_url and client_id")
		}
		if a.DiscoveryURL != "" {
			v.checkURL(key+".discovery_url", a.DiscoveryURL)
		}
		if a.DefaultRole != "" {
			if _, ok := a.Roles[a.DefaultRole]; !ok {
				v.errorf(key+".default_role", "role %s is not among this mount's roles", Quote(a.DefaultRole))
			}
		}
		for name := range a.Roles {
			r := a.Roles[name]
			rkey := key + ".roles." + clip(name)
			if name != strings.ToLower(name) {
				v.errorf(rkey, "Vault lowercases role names; write %s", Quote(strings.ToLower(name)))
			}
			if r.RoleType == "" {
				r.RoleType = a.Type
			}
			if r.RoleType != "jwt" && r.RoleType != "oidc" {
				v.errorf(rkey+".role_type", "want jwt or oidc, got %s", Quote(r.RoleType))
			}
			if r.RoleType == "oidc" && len(r.AllowedRedirectURIs) == 0 {
				v.errorf(rkey, "an oidc role needs allowed_redirect_uris")
			}
			if r.UserClaim == "" {
				r.UserClaim = "sub"
			}
			if r.BoundClaimsType == "" {
				r.BoundClaimsType = "string"
			} else if r.BoundClaimsType != "string" && r.BoundClaimsType != "glob" {
				v.errorf(rkey+".bound_claims_type", "want string or glob, got %s", Quote(r.BoundClaimsType))
			}
			if r.RoleType == "jwt" && len(r.BoundAudiences) == 0 && r.BoundSubject == "" && len(r.BoundClaims) == 0 {
				v.errorf(rkey, "a jwt role needs at least one of bound_audiences, bound_subject or bound_claims (Vault refuses it otherwise)")
			}
			if r.RoleType == "jwt" && a.ClientID != "" && a.DiscoveryURL != "" {
				v.errorf(rkey, "jwt logins fail on a mount with client_id and discovery_url (Vault: \"error configuring token validator: unsupported config type\"); put jwt roles on a mount without client_id")
			}
			for _, d := range []struct{ k, val string }{{"token_ttl", r.TokenTTL}, {"token_max_ttl", r.TokenMaxTTL}, {"clock_skew_leeway", r.ClockSkewLeeway}, {"expiration_leeway", r.ExpirationLeeway}, {"not_before_leeway", r.NotBeforeLeeway}} {
				if d.val != "" && !validDuration(d.val) {
					v.errorf(rkey+"."+d.k, "want a duration like 1h, 90s or 3600, got %s", Quote(d.val))
				}
			}
			a.Roles[name] = r
		}
		groups := map[string]bool{}
		for j, g := range a.Groups {
			gkey := fmt.Sprintf("%s.groups[%d]", key, j)
			if g.Name == "" {
				v.errorf(gkey, "name is required")
			}
			if groups[g.Name] {
				v.errorf(gkey+".name", "group %s is declared twice on this mount", Quote(g.Name))
			} else if other, ok := groupMount[g.Name]; ok && g.Name != "" {
				v.errorf(gkey+".name", "group %s is also declared on mount %s: a Vault external group has exactly one alias, so each mount needs its own group (e.g. name: %s-%s)", Quote(g.Name), Quote(other), clip(g.Name), clip(a.Path))
			}
			groups[g.Name] = true
			groupMount[g.Name] = a.Path
		}
	}
}

func validDuration(s string) bool {
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		return true
	}
	_, err := time.ParseDuration(s)
	return err == nil
}

func (v *validator) rancher(r *Rancher) {
	if r.URL == "" {
		v.errorf("rancher", "url is required (Rancher's server URL)")
	} else {
		v.checkURL("rancher.url", r.URL)
		r.URL = strings.TrimRight(r.URL, "/")
	}
	if r.SAMLClient == "" && r.URL != "" {
		r.SAMLClient = r.URL + "/v1-saml/keycloak/saml/metadata"
	}
	if k := v.f.Keycloak; k != nil {
		var found *Client
		for i := range k.Clients {
			if k.Clients[i].ClientID == r.SAMLClient {
				found = &k.Clients[i]
			}
		}
		if found == nil {
			v.errorf("rancher.saml_client", "no client %s in keycloak.clients", Quote(r.SAMLClient))
		} else if found.Protocol != ProtocolSAML {
			v.errorf("rancher.saml_client", "client %s is %s; Rancher's Keycloak provider needs a saml client", Quote(r.SAMLClient), clip(found.Protocol))
		}
	}
}

// ClientScope returns the file's client scope named name, or nil.
func (k *Keycloak) ClientScope(name string) *ClientScope {
	if k == nil {
		return nil
	}
	for i := range k.ClientScopes {
		if k.ClientScopes[i].Name == name {
			return &k.ClientScopes[i]
		}
	}
	return nil
}

// ScopeMapper is a mapper a client gets from one of its default scopes.
type ScopeMapper struct {
	Mapper Mapper
	// Key is the mapper's place in the file (keycloak.client_scopes[0].mappers[1]).
	Key string
}

// DefaultScopeMappers lists the mappers that c gets from the scopes of the
// file among its default scopes (the tokens of its every login carry them).
func (k *Keycloak) DefaultScopeMappers(c *Client) []ScopeMapper {
	var out []ScopeMapper
	for _, name := range c.DefaultScopes {
		for i := range k.ClientScopes {
			if k.ClientScopes[i].Name != name {
				continue
			}
			for j, m := range k.ClientScopes[i].Mappers {
				out = append(out, ScopeMapper{Mapper: m, Key: fmt.Sprintf("keycloak.client_scopes[%d].mappers[%d]", i, j)})
			}
		}
	}
	return out
}

// Client returns the file's client with clientID, or nil.
func (k *Keycloak) Client(clientID string) *Client {
	if k == nil {
		return nil
	}
	for i := range k.Clients {
		if k.Clients[i].ClientID == clientID {
			return &k.Clients[i]
		}
	}
	return nil
}

var siteName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`) })

func (v *validator) django(d *Django) {
	k := v.f.Keycloak
	names := map[string]bool{}
	for i := range d.Sites {
		s := &d.Sites[i]
		key := fmt.Sprintf("django.sites[%d]", i)
		switch {
		case s.Name == "":
			v.errorf(key, "name is required")
		case !siteName().MatchString(s.Name):
			v.errorf(key+".name", "want lower-case letters, digits, - and _, got %s", Quote(s.Name))
		case names[s.Name]:
			v.errorf(key+".name", "site %s is declared twice", Quote(s.Name))
		}
		names[s.Name] = true
		if !slices.Contains(DjangoLibraries, s.Library) {
			v.errorf(key+".library", "unknown library %s: want one of %s", Quote(s.Library), strings.Join(DjangoLibraries, ", "))
		}
		if s.API != "" && !slices.Contains(DjangoAPIs, s.API) {
			v.errorf(key+".api", "unknown api %s: want one of %s", Quote(s.API), strings.Join(DjangoAPIs, ", "))
		}
		if s.URL == "" {
			v.errorf(key, "url is required (where the site is served, e.g. http://127.0.0.1:8000)")
		} else {
			v.checkURL(key+".url", s.URL)
			s.URL = strings.TrimRight(s.URL, "/")
		}
		switch s.Logout {
		case "":
			s.Logout = "keycloak"
		case "keycloak", "local":
		default:
			v.errorf(key+".logout", "want keycloak (also end the Keycloak session) or local, got %s", Quote(s.Logout))
		}
		if s.UsernameClaim == "" {
			s.UsernameClaim = "preferred_username"
		}
		if s.ClientSecretEnv == "" { // a name given is checked as every *_env is
			s.ClientSecretEnv = strings.ToUpper(strings.ReplaceAll(s.Name, "-", "_")) + "_OIDC_SECRET"
		}
		v.unique(key+".staff", s.Staff)
		v.unique(key+".superuser", s.Superuser)
		// These reach the rendered app's Python source (as literals).
		v.plainText(key+".username_claim", s.UsernameClaim)
		v.plainText(key+".client", s.Client)
		for j, n := range s.Staff {
			v.plainText(fmt.Sprintf("%s.staff[%d]", key, j), n)
		}
		for j, n := range s.Superuser {
			v.plainText(fmt.Sprintf("%s.superuser[%d]", key, j), n)
		}
		for _, kc := range slices.Sorted(maps.Keys(s.Groups)) {
			v.plainText(key+".groups", kc)
			v.plainText(key+".groups."+clip(kc), s.Groups[kc])
			if n := utf8.RuneCountInString(s.Groups[kc]); n > maxDjangoGroupName {
				v.errorf(key+".groups."+clip(kc), "a Django group name has at most %d characters, got %d", maxDjangoGroupName, n)
			}
		}
		c := k.Client(s.Client)
		switch {
		case s.Client == "":
			v.errorf(key, "client is required (an openid-connect client of the keycloak: section)")
		case k == nil:
			v.errorf(key+".client", "the site needs a keycloak: section with client %s", Quote(s.Client))
		case c == nil:
			v.errorf(key+".client", "no client %s in keycloak.clients", Quote(s.Client))
		case c.Protocol != ProtocolOIDC:
			v.errorf(key+".client", "client %s is %s; a Django site needs an openid-connect client", Quote(s.Client), clip(c.Protocol))
		case c.Access != AccessConfidential:
			v.errorf(key+".client", "client %s is %s; a Django site logs in with a confidential client (access: confidential)", Quote(s.Client), clip(c.Access))
		case c.StandardFlow != nil && !*c.StandardFlow:
			v.errorf(key+".client", "client %s has standard_flow: false; a Django site logs in with the authorization-code flow", Quote(s.Client))
		}
		if s.Roles && c != nil {
			for _, list := range [][]string{s.Staff, s.Superuser, slices.Collect(maps.Keys(s.Groups))} {
				for _, r := range list {
					if !v.hasRole(c, r) {
						v.errorf(key, "roles: true, but %s is not a role of client %s (its roles: %s)", Quote(r), Quote(s.Client), quoteList(c.Roles))
					}
				}
			}
		}
	}
}

// Authorization values, as sso.yaml spells them (Keycloak's in upper case).
var (
	EnforcementModes   = []string{"enforcing", "permissive", "disabled"}
	DecisionStrategies = []string{"unanimous", "affirmative", "consensus"}
	PolicyTypes        = []string{"role", "group", "user", "client", "time"}
	PermissionTypes    = []string{"scope", "resource"}
)

// authorization checks a client's resource server: names unique (policies
// and permissions share one namespace in Keycloak), every reference to a
// scope, resource or policy of the same section, and each policy type's
// fields. Keycloak refuses Authorization Services on a client without a
// service account (a 500), so one is turned on unless the file says no.
func (v *validator) authorization(key string, c *Client) {
	a := c.Authorization
	key += ".authorization"
	if c.Protocol != ProtocolOIDC || c.Access != AccessConfidential {
		v.errorf(key, "Authorization Services need a confidential openid-connect client")
	}
	if c.ServiceAccounts != nil && !*c.ServiceAccounts {
		v.errorf(key, "Authorization Services need the client's service account: remove service_accounts: false")
	} else {
		yes := true
		c.ServiceAccounts = &yes
	}
	oneOf := func(k, val string, valid []string) string {
		val = strings.ToLower(val)
		if val != "" && !slices.Contains(valid, val) {
			v.errorf(k, "want %s, got %s", strings.Join(valid, ", "), Quote(val))
		}
		return val
	}
	a.PolicyEnforcementMode = oneOf(key+".policy_enforcement_mode", a.PolicyEnforcementMode, EnforcementModes)
	a.DecisionStrategy = oneOf(key+".decision_strategy", a.DecisionStrategy, DecisionStrategies)
	v.unique(key+".scopes", a.Scopes)
	names := map[string]bool{}
	named := func(k, kind, name string) bool {
		if name == "" {
			v.errorf(k, "name is required")
			return false
		}
		if names[kind+"\n"+name] {
			v.errorf(k+".name", "%s %s is declared twice", kind, Quote(name))
		}
		names[kind+"\n"+name] = true
		return true
	}
	refs := func(k, what string, items []string, known map[string]bool) {
		for i, it := range items {
			if !known[it] {
				v.errorf(fmt.Sprintf("%s[%d]", k, i), "no %s %s in this authorization section", what, Quote(it))
			}
		}
	}
	scopes, resources, policies := setOf(a.Scopes), map[string]bool{}, map[string]bool{}
	for i := range a.Resources {
		r := &a.Resources[i]
		rk := fmt.Sprintf("%s.resources[%d]", key, i)
		if named(rk, "resource", r.Name) {
			resources[r.Name] = true
		}
		refs(rk+".scopes", "scope", r.Scopes, scopes)
	}
	for i := range a.Policies {
		p := &a.Policies[i]
		pk := fmt.Sprintf("%s.policies[%d]", key, i)
		if named(pk, "policy", p.Name) {
			policies[p.Name] = true
		}
		p.Type = oneOf(pk+".type", p.Type, PolicyTypes)
		p.Logic = oneOf(pk+".logic", p.Logic, []string{"positive", "negative"})
		times := []string{p.NotBefore, p.NotOnOrAfter, p.DayMonth, p.DayMonthEnd, p.Month, p.MonthEnd, p.Year, p.YearEnd, p.Hour, p.HourEnd, p.Minute, p.MinuteEnd}
		hasTime := slices.ContainsFunc(times, func(s string) bool { return s != "" })
		for _, f := range []struct {
			field, kind string
			set         bool
		}{{"roles", "role", len(p.Roles) > 0}, {"groups", "group", len(p.Groups) > 0 || p.ExtendChildren}, {"users", "user", len(p.Users) > 0},
			{"clients", "client", len(p.Clients) > 0}, {"not_before and the other time fields", "time", hasTime}} {
			switch {
			case p.Type == "":
				v.errorf(pk+".type", "a policy needs a type: %s", strings.Join(PolicyTypes, ", "))
			case f.kind == p.Type && !f.set:
				v.errorf(pk, "a %s policy needs %s", clip(p.Type), f.field)
			case f.kind != p.Type && f.set:
				v.errorf(pk, "%s belong to %s policies, not %s", f.field, f.kind, clip(p.Type))
			}
			if p.Type == "" {
				break
			}
		}
		v.unique(pk+".roles", p.Roles)
	}
	for i := range a.Permissions {
		p := &a.Permissions[i]
		pk := fmt.Sprintf("%s.permissions[%d]", key, i)
		named(pk, "policy", p.Name) // permissions are policies in Keycloak
		p.Type = oneOf(pk+".type", p.Type, PermissionTypes)
		p.DecisionStrategy = oneOf(pk+".decision_strategy", p.DecisionStrategy, DecisionStrategies)
		switch p.Type {
		case "":
			v.errorf(pk+".type", "a permission needs a type: scope or resource")
		case "scope":
			if len(p.Scopes) == 0 {
				v.errorf(pk, "a scope permission needs scopes")
			}
		case "resource":
			if len(p.Resources) == 0 && p.ResourceType == "" {
				v.errorf(pk, "a resource permission needs resources or resource_type")
			}
			if len(p.Scopes) > 0 {
				v.errorf(pk+".scopes", "scopes belong to scope permissions")
			}
		}
		if len(p.Policies) == 0 {
			v.errorf(pk, "a permission needs policies: without one it never grants")
		}
		refs(pk+".scopes", "scope", p.Scopes, scopes)
		refs(pk+".resources", "resource", p.Resources, resources)
		refs(pk+".policies", "policy", p.Policies, policies)
	}
}

// SplitRoleRef reads a role policy's role as Keycloak writes it: "ROLE" for
// a realm role, "CLIENT/ROLE" for a client role. A client id may hold "/"
// itself (Rancher's is a URL), so a known client id that prefixes ref wins,
// the longest first; otherwise the last "/" splits. client is "" for a realm
// role.
func SplitRoleRef(ref string, known func(clientID string) bool) (client, role string) {
	best := -1
	for i := len(ref) - 1; i > 0; i-- {
		if ref[i] == '/' && known != nil && known(ref[:i]) {
			best = i
			break
		}
	}
	if best < 0 {
		best = strings.LastIndexByte(ref, '/')
	}
	if best <= 0 {
		return "", ref
	}
	return ref[:best], ref[best+1:]
}
