package keycloak

import (
	"maps"
	"strings"

	"github.com/ssoctl/ssoctl/spec"
)

// Tokens names the tokens of a client that a mapper writes into.
type Tokens struct{ ID, Access, Userinfo bool }

// MapperKind is one kind of protocol mapper in the one table of kinds
// (mapperKinds): its Keycloak provider id, its sso.yaml shorthand read both
// ways, and what it writes into tokens. Expansion, export, MapperMeaning
// and the token model (ClientView.Tokens) all read the table, so a new kind
// is one entry here (and its shorthand field and validation in spec).
type MapperKind struct {
	// Kind is the shorthand's key in sso.yaml (spec.Mapper.Kind); "" for a
	// kind ssoctl only reads for what it writes into tokens.
	Kind string
	// ProviderID is Keycloak's protocolMapper.
	ProviderID string
	// Protocol is the client protocol the kind belongs to.
	Protocol string
	// Tokens are the tokens a shorthand writes into when it leaves its
	// token flags unset.
	Tokens Tokens
	// Claim is the claim the kind writes whatever its config says; "" when
	// it writes its config's claim.name.
	Claim string

	// set reports whether a shorthand is of this kind.
	set func(m *spec.Mapper) bool
	// flags is the shorthand's token choice; nil for kinds without one.
	flags func(m *spec.Mapper) *spec.TokenFlags
	// expand writes the shorthand's config, all but the token flags.
	expand func(m spec.Mapper, clientID string, cfg map[string]string)
	// shorthand reads a config back as the shorthand, all but the token
	// flags.
	shorthand func(cfg map[string]string, clientID string) spec.Mapper
	// claim is the claim name the config writes (${client_id} resolved)
	// and whose roles; nil reads claim.name, or Claim.
	claim func(cfg map[string]string, clientID string) (name, roleClient string)
	// audience is the audience the config adds to aud, for kinds that add
	// one instead of writing a claim.
	audience func(cfg map[string]string) string
}

// all is every token.
var all = Tokens{ID: true, Access: true, Userinfo: true}

// mapperKinds is the one table of mapper kinds, in the order a shorthand
// that names several kinds is read (validation refuses that).
var mapperKinds = []MapperKind{
	{Kind: "audience", ProviderID: "oidc-audience-mapper", Protocol: spec.ProtocolOIDC, Tokens: Tokens{ID: true, Access: true},
		set:   func(m *spec.Mapper) bool { return m.Audience != nil },
		flags: func(m *spec.Mapper) *spec.TokenFlags { return &m.Audience.TokenFlags },
		expand: func(m spec.Mapper, _ string, cfg map[string]string) {
			cfg["included.client.audience"] = m.Audience.Client
			if m.Audience.Custom != "" {
				cfg["included.custom.audience"] = m.Audience.Custom
			}
		},
		shorthand: func(cfg map[string]string, _ string) spec.Mapper {
			return spec.Mapper{Audience: &spec.AudienceMapper{Client: cfg["included.client.audience"], Custom: cfg["included.custom.audience"]}}
		},
		audience: func(cfg map[string]string) string {
			if aud := cfg["included.client.audience"]; aud != "" {
				return aud
			}
			return cfg["included.custom.audience"]
		}},
	{Kind: "client_roles", ProviderID: "oidc-usermodel-client-role-mapper", Protocol: spec.ProtocolOIDC, Tokens: all,
		set:   func(m *spec.Mapper) bool { return m.ClientRoles != nil },
		flags: func(m *spec.Mapper) *spec.TokenFlags { return &m.ClientRoles.TokenFlags },
		expand: func(m spec.Mapper, clientID string, cfg map[string]string) {
			r := m.ClientRoles
			client := r.Client
			if client == "" {
				client = clientID
			}
			if client != "" { // a scope's mapper without a client: the token's client
				cfg["usermodel.clientRoleMapping.clientId"] = client
			}
			cfg["claim.name"] = orDefault(r.Claim, "resource_access.${client_id}.roles")
			cfg["jsonType.label"] = "String"
			cfg["multivalued"] = boolStr(flag(r.Multivalued, true))
			if r.Prefix != "" {
				cfg["usermodel.clientRoleMapping.rolePrefix"] = r.Prefix
			}
		},
		shorthand: func(cfg map[string]string, clientID string) spec.Mapper {
			client := cfg["usermodel.clientRoleMapping.clientId"]
			if client == clientID {
				client = ""
			}
			return spec.Mapper{ClientRoles: &spec.ClientRolesMapper{Client: client, Claim: claimUnless(cfg, "resource_access.${client_id}.roles"),
				Prefix: cfg["usermodel.clientRoleMapping.rolePrefix"], Multivalued: offUnlessTrue(cfg, "multivalued")}}
		},
		claim: func(cfg map[string]string, clientID string) (string, string) {
			client := cfg["usermodel.clientRoleMapping.clientId"]
			if client == "" {
				client = clientID // the roles scope: every client's, this one's included
			}
			return strings.ReplaceAll(cfg["claim.name"], "${client_id}", strings.ReplaceAll(client, ".", `\.`)), client
		}},
	{Kind: "realm_roles", ProviderID: "oidc-usermodel-realm-role-mapper", Protocol: spec.ProtocolOIDC, Tokens: all,
		set:   func(m *spec.Mapper) bool { return m.RealmRoles != nil },
		flags: func(m *spec.Mapper) *spec.TokenFlags { return &m.RealmRoles.TokenFlags },
		expand: func(m spec.Mapper, _ string, cfg map[string]string) {
			r := m.RealmRoles
			cfg["claim.name"] = orDefault(r.Claim, "realm_access.roles")
			cfg["jsonType.label"] = "String"
			cfg["multivalued"] = boolStr(flag(r.Multivalued, true))
			if r.Prefix != "" {
				cfg["usermodel.realmRoleMapping.rolePrefix"] = r.Prefix
			}
		},
		shorthand: func(cfg map[string]string, _ string) spec.Mapper {
			return spec.Mapper{RealmRoles: &spec.RealmRolesMapper{Claim: claimUnless(cfg, "realm_access.roles"),
				Prefix: cfg["usermodel.realmRoleMapping.rolePrefix"], Multivalued: offUnlessTrue(cfg, "multivalued")}}
		}},
	{Kind: "groups", ProviderID: "oidc-group-membership-mapper", Protocol: spec.ProtocolOIDC, Tokens: all,
		set:   func(m *spec.Mapper) bool { return m.Groups != nil },
		flags: func(m *spec.Mapper) *spec.TokenFlags { return &m.Groups.TokenFlags },
		expand: func(m spec.Mapper, _ string, cfg map[string]string) {
			cfg["claim.name"] = orDefault(m.Groups.Claim, "groups")
			cfg["full.path"] = boolStr(m.Groups.FullPath)
			// The mapper does not read it, but Keycloak writes "multivalued":
			// "true" into its config the first time it issues a token with it;
			// sending it keeps the next apply a no-op.
			cfg["multivalued"] = "true"
		},
		shorthand: func(cfg map[string]string, _ string) spec.Mapper {
			return spec.Mapper{Groups: &spec.GroupsMapper{Claim: claimUnless(cfg, "groups"), FullPath: cfg["full.path"] == "true"}}
		}},
	{Kind: "attribute", ProviderID: "oidc-usermodel-attribute-mapper", Protocol: spec.ProtocolOIDC, Tokens: all,
		set:   func(m *spec.Mapper) bool { return m.Attribute != nil },
		flags: func(m *spec.Mapper) *spec.TokenFlags { return &m.Attribute.TokenFlags },
		expand: func(m spec.Mapper, _ string, cfg map[string]string) {
			a := m.Attribute
			cfg["user.attribute"] = a.UserAttribute
			cfg["claim.name"] = orDefault(a.Claim, a.UserAttribute)
			cfg["jsonType.label"] = orDefault(a.JSONType, "String")
			cfg["multivalued"] = boolStr(a.Multivalued)
			cfg["aggregate.attrs"] = "false"
		},
		shorthand: func(cfg map[string]string, _ string) spec.Mapper {
			jt := cfg["jsonType.label"]
			if jt == "String" {
				jt = ""
			}
			return spec.Mapper{Attribute: &spec.AttributeMapper{UserAttribute: cfg["user.attribute"], Claim: claimUnless(cfg, cfg["user.attribute"]),
				JSONType: jt, Multivalued: cfg["multivalued"] == "true"}}
		}},
	{Kind: "saml_property", ProviderID: "saml-user-property-mapper", Protocol: spec.ProtocolSAML,
		set: func(m *spec.Mapper) bool { return m.SAMLProperty != nil },
		expand: func(m spec.Mapper, _ string, cfg map[string]string) {
			p := m.SAMLProperty
			cfg["user.attribute"] = p.Property
			samlAttr(cfg, p.Attribute, p.Property, p.FriendlyName, p.NameFormat)
		},
		shorthand: func(cfg map[string]string, _ string) spec.Mapper {
			return spec.Mapper{SAMLProperty: &spec.SAMLPropertyMapper{Property: cfg["user.attribute"], Attribute: cfg["attribute.name"],
				FriendlyName: cfg["friendly.name"], NameFormat: cfg["attribute.nameformat"]}}
		}},
	{Kind: "saml_attribute", ProviderID: "saml-user-attribute-mapper", Protocol: spec.ProtocolSAML,
		set: func(m *spec.Mapper) bool { return m.SAMLAttribute != nil },
		expand: func(m spec.Mapper, _ string, cfg map[string]string) {
			p := m.SAMLAttribute
			cfg["user.attribute"] = p.UserAttribute
			cfg["aggregate.attrs"] = "false"
			samlAttr(cfg, p.Attribute, p.UserAttribute, p.FriendlyName, p.NameFormat)
		},
		shorthand: func(cfg map[string]string, _ string) spec.Mapper {
			return spec.Mapper{SAMLAttribute: &spec.SAMLAttributeMapper{UserAttribute: cfg["user.attribute"], Attribute: cfg["attribute.name"],
				FriendlyName: cfg["friendly.name"], NameFormat: cfg["attribute.nameformat"]}}
		}},
	{Kind: "saml_groups", ProviderID: "saml-group-membership-mapper", Protocol: spec.ProtocolSAML,
		set: func(m *spec.Mapper) bool { return m.SAMLGroups != nil },
		expand: func(m spec.Mapper, _ string, cfg map[string]string) {
			g := m.SAMLGroups
			samlAttr(cfg, g.Attribute, "member", g.FriendlyName, "")
			cfg["full.path"] = boolStr(g.FullPath)
			cfg["single"] = boolStr(flag(g.Single, true))
		},
		shorthand: func(cfg map[string]string, _ string) spec.Mapper {
			return spec.Mapper{SAMLGroups: &spec.SAMLGroupsMapper{Attribute: cfg["attribute.name"], FriendlyName: cfg["friendly.name"],
				FullPath: cfg["full.path"] == "true", Single: offUnlessTrue(cfg, "single")}}
		}},
	// Keycloak's own kinds that write a fixed claim (the profile and address
	// scopes'); no shorthand writes them.
	{ProviderID: "oidc-full-name-mapper", Protocol: spec.ProtocolOIDC, Claim: "name"},
	{ProviderID: "oidc-address-mapper", Protocol: spec.ProtocolOIDC, Claim: "address"},
}

// MapperKinds lists the table of mapper kinds, for documentation and tests.
func MapperKinds() []MapperKind { return mapperKinds }

// kindOf is the table's entry for shorthand m; nil for raw (and for none).
func kindOf(m *spec.Mapper) *MapperKind {
	for i := range mapperKinds {
		if k := &mapperKinds[i]; k.set != nil && k.set(m) {
			return k
		}
	}
	return nil
}

// kindByProvider is the table's entry for Keycloak's provider id; nil for
// a kind the table lacks.
func kindByProvider(providerID string) *MapperKind {
	for i := range mapperKinds {
		if mapperKinds[i].ProviderID == providerID {
			return &mapperKinds[i]
		}
	}
	return nil
}

// TokenFlagsOf is the token choice of a mapper shorthand: a pointer into m,
// so that setting a flag sets it in m. Nil for kinds without one (and for
// nil).
func TokenFlagsOf(m *spec.Mapper) *spec.TokenFlags {
	if m == nil {
		return nil
	}
	if k := kindOf(m); k != nil && k.flags != nil {
		return k.flags(m)
	}
	return nil
}

// ExpandMapper turns an sso.yaml mapper shorthand on client clientID into
// the full representation Keycloak stores.
func ExpandMapper(m spec.Mapper, clientID, protocol string) Mapper {
	out := Mapper{Name: m.DefaultName(clientID), Protocol: protocol, Config: map[string]string{}}
	k := kindOf(&m)
	switch {
	case k != nil:
		out.ProtocolMapper = k.ProviderID
		k.expand(m, clientID, out.Config)
		if k.flags != nil {
			tokenFlags(*k.flags(&m), k.Tokens, out.Config)
		}
	case m.Raw != nil:
		out.ProtocolMapper = m.Raw.ProtocolMapper
		maps.Copy(out.Config, m.Raw.Config)
	}
	return out
}

// tokenFlags spells out the token-inclusion flags of an OIDC mapper; def
// holds the kind's defaults.
func tokenFlags(f spec.TokenFlags, def Tokens, cfg map[string]string) {
	cfg["id.token.claim"] = boolStr(flag(f.IDToken, def.ID))
	cfg["access.token.claim"] = boolStr(flag(f.AccessToken, def.Access))
	cfg["userinfo.token.claim"] = boolStr(flag(f.Userinfo, def.Userinfo))
	cfg["introspection.token.claim"] = boolStr(flag(f.Introspection, flag(f.AccessToken, def.Access)))
	cfg["lightweight.claim"] = "false"
}

// shorthand guesses the sso.yaml form of a mapper; exportMapper checks it.
// Nil when the table has no shorthand for its kind.
func shorthand(providerID string, cfg map[string]string, clientID string) *spec.Mapper {
	k := kindByProvider(providerID)
	if k == nil || k.shorthand == nil {
		return nil
	}
	m := k.shorthand(cfg, clientID)
	if k.flags != nil {
		*k.flags(&m) = flagsOf(cfg, k.Tokens)
	}
	return &m
}

// flagsOf reads a config's token flags as a shorthand writes them: only
// those that differ from the kind's defaults.
func flagsOf(cfg map[string]string, def Tokens) spec.TokenFlags {
	set := func(key string, def bool) *bool {
		if (cfg[key] == "true") != def {
			return ptr(cfg[key] == "true")
		}
		return nil
	}
	f := spec.TokenFlags{IDToken: set("id.token.claim", def.ID), AccessToken: set("access.token.claim", def.Access),
		Userinfo: set("userinfo.token.claim", def.Userinfo)}
	if (cfg["introspection.token.claim"] == "true") != (cfg["access.token.claim"] == "true") {
		f.Introspection = ptr(cfg["introspection.token.claim"] == "true")
	}
	return f
}

// meaningOf reads what mapper name of kind (a provider id) writes into the
// tokens of client clientID: a claim, or with aud an audience (in Name).
// Name is "" when it writes neither. Scope and Index are left to the
// caller.
func meaningOf(name, kind string, cfg map[string]string, clientID string) (c TokenClaim, aud bool) {
	k := kindByProvider(kind)
	if k == nil {
		k = &MapperKind{}
	}
	c = TokenClaim{Mapper: name, Kind: kind, FullPath: cfg["full.path"] == "true", Tokens: tokensOf(cfg), Config: cfg}
	switch {
	case k.audience != nil:
		c.Name = k.audience(cfg)
		return c, true
	case k.claim != nil:
		c.Name, c.RoleClient = k.claim(cfg, clientID)
	default:
		c.Name = orDefault(k.Claim, cfg["claim.name"])
	}
	return c, false
}

// tokensOf reads which tokens a config writes into.
func tokensOf(cfg map[string]string) Tokens {
	return Tokens{ID: cfg["id.token.claim"] == "true", Access: cfg["access.token.claim"] == "true", Userinfo: cfg["userinfo.token.claim"] == "true"}
}

// orDefault is s, or def for "".
func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// claimUnless is the config's claim.name, or "" when it is the kind's
// default def.
func claimUnless(cfg map[string]string, def string) string {
	if cfg["claim.name"] == def {
		return ""
	}
	return cfg["claim.name"]
}

// offUnlessTrue is nil when the config's key is "true" (the shorthand's
// default), a false flag otherwise.
func offUnlessTrue(cfg map[string]string, key string) *bool {
	if cfg[key] == "true" {
		return nil
	}
	return ptr(false)
}

// samlAttr sets the SAML attribute name, friendly name and name format. The
// friendly name defaults to the attribute name, because Rancher and many
// service providers look attributes up by friendly name first.
func samlAttr(cfg map[string]string, name, def, friendly, format string) {
	cfg["attribute.name"] = orDefault(name, def)
	cfg["friendly.name"] = orDefault(friendly, cfg["attribute.name"])
	cfg["attribute.nameformat"] = orDefault(format, "Basic")
}
