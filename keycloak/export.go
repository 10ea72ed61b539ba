package keycloak

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/Nerzal/gocloak/v13"

	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
)

// Export reads realm and describes it as the keycloak: section of an
// sso.yaml: realm roles, clients (all but Keycloak's built-in ones, or just
// clientIDs when given) with their roles and mappers, and groups with their
// role bindings. Users are not exported: their passwords cannot be read.
// Applying the result to an empty realm reproduces the exported objects.
func (a *Admin) Export(ctx context.Context, realm string, clientIDs []string) (*spec.Keycloak, error) {
	// One read: with no clients named, every non-built-in client and its roles.
	ro := ReadOptions{ClientRoles: clientIDs, AllClientRoles: len(clientIDs) == 0, ClientScopes: true, RealmScopes: len(clientIDs) == 0,
		AllScopeMappings: true, AllAuthz: true, RequiredActions: true, Flows: true, IdPs: true, Federations: true}
	st, err := a.ReadState(ctx, realm, ro)
	if err != nil {
		return nil, err
	}
	if !st.RealmExists {
		return nil, &NotFoundError{What: "realm " + realm + " on " + a.base}
	}
	return exportState(st, realm, clientIDs)
}

// exportState describes st as a keycloak: section; clientIDs limits the
// clients (all but the built-in ones when empty).
func exportState(st *State, realm string, clientIDs []string) (*spec.Keycloak, error) {
	want := clientIDs
	if len(want) == 0 {
		for cid := range st.Clients {
			if !isBuiltinClient(realm, cid) {
				want = append(want, cid)
			}
		}
	}
	slices.Sort(want)
	for _, cid := range want {
		if st.Clients[cid] == nil {
			return nil, &NotFoundError{What: "client " + cid + " in realm " + realm}
		}
	}
	out := &spec.Keycloak{Realm: realm}
	if len(clientIDs) == 0 {
		out.Settings, out.RequiredActions = exportSettings(st.RealmRep), exportRequiredActions(st)
	}
	for _, name := range slices.Sorted(maps.Keys(st.RealmRoles)) {
		if !defaultRealmRole(realm, name) {
			out.RealmRoles = append(out.RealmRoles, name)
		}
	}
	if len(clientIDs) == 0 {
		out.ClientScopes = exportScopes(st)
		out.DefaultClientScopes = slices.Sorted(slices.Values(st.RealmDefaultScopes))
		out.OptionalClientScopes = slices.Sorted(slices.Values(st.RealmOptionalScopes))
	}
	for _, cid := range want {
		c := exportClient(st.Clients[cid])
		c.Roles = slices.Sorted(maps.Keys(st.ClientRoles[cid]))
		c.ScopeMappings = exportRoleSet(st.ScopeMappings[clientOwner(cid)])
		if a := st.Authz[cid]; a != nil {
			c.Authorization = exportAuthz(a)
		}
		c.Flows = exportClientFlows(st, st.Clients[cid])
		out.Clients = append(out.Clients, c)
	}
	if len(clientIDs) == 0 {
		exportFlows(st, out)
		exportIdPs(st, out)
		out.UserFederation = exportFederations(st)
	}
	for _, p := range slices.Sorted(maps.Keys(st.Groups)) {
		g := st.Groups[p]
		sg := spec.Group{Name: p, RealmRoles: slices.Sorted(slices.Values(g.RealmRoles))}
		for cid, roles := range g.ClientRoles {
			if sg.ClientRoles == nil {
				sg.ClientRoles = map[string][]string{}
			}
			sg.ClientRoles[cid] = slices.Sorted(slices.Values(roles))
		}
		out.Groups = append(out.Groups, sg)
	}
	return out, nil
}

func ptr[T any](v T) *T { return &v }

// nonEmpty is &s, or nil for "".
func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func exportClient(c *gocloak.Client) spec.Client {
	attrs := deref(c.Attributes)
	sc := spec.Client{
		ClientID:    deref(c.ClientID),
		Name:        deref(c.Name),
		Description: deref(c.Description),
		Protocol:    deref(c.Protocol),
		RootURL:     deref(c.RootURL),
		BaseURL:     deref(c.BaseURL),
	}
	if sc.Protocol == "" {
		sc.Protocol = spec.ProtocolOIDC
	}
	if !deref(c.Enabled) {
		sc.Enabled = ptr(false)
	}
	if uris := deref(c.RedirectURIs); len(uris) > 0 {
		sc.RedirectURIs = slices.Sorted(slices.Values(uris))
	}
	if origins := deref(c.WebOrigins); len(origins) > 0 {
		sc.WebOrigins = slices.Sorted(slices.Values(origins))
	}
	if sc.Protocol == spec.ProtocolSAML {
		b := func(k string) *bool { return ptr(attrs[k] == "true") }
		sc.SignDocuments = b(AttrSAMLServerSignature)
		sc.SignAssertions = b(AttrSAMLAssertionSignature)
		sc.ClientSignature = b(AttrSAMLClientSignature)
		sc.ForcePostBinding = b(AttrSAMLForcePostBinding)
		sc.EncryptAssertions = b(AttrSAMLEncrypt)
		sc.NameIDFormat = attrs[AttrSAMLNameIDFormat]
		sc.SingleLogoutURLPost = nonEmpty(attrs[AttrSAMLSingleLogoutURLPost])
		sc.SingleLogoutURLRedirect = nonEmpty(attrs[AttrSAMLSingleLogoutURLRedirect])
		// Keycloak turns front-channel logout on for a new SAML client.
		if c.FrontChannelLogout != nil && !*c.FrontChannelLogout {
			sc.FrontchannelLogout = ptr(false)
		}
	} else {
		switch {
		case deref(c.BearerOnly):
			sc.Access = spec.AccessBearerOnly
		case deref(c.PublicClient):
			sc.Access = spec.AccessPublic
		default:
			sc.Access = spec.AccessConfidential
		}
		sc.StandardFlow = ptr(deref(c.StandardFlowEnabled))
		sc.DirectAccessGrants = ptr(deref(c.DirectAccessGrantsEnabled))
		sc.ServiceAccounts = ptr(deref(c.ServiceAccountsEnabled))
		sc.UserinfoSigned = ptr(attrs[AttrUserinfoSignatureAlg] != "")
		if v := attrs[AttrPostLogoutRedirectURIs]; v != "" && v != "+" {
			sc.PostLogoutRedirectURIs = strings.Split(v, "##")
		}
		if v := attrs[AttrBackchannelLogoutURL]; v != "" {
			sc.BackchannelLogoutURL = ptr(v)
		}
		// Written only where they differ from what Keycloak stores on a new
		// client (session required, offline tokens kept, front channel off),
		// so that a copy made from the export holds the same values.
		if attrs[AttrBackchannelSessionRequired] == "false" {
			sc.BackchannelLogoutSessionRequired = ptr(false)
		}
		if attrs[AttrBackchannelLogoutRevokeOfflineTokens] == "true" {
			sc.BackchannelLogoutRevokeOfflineTokens = ptr(true)
		}
		if deref(c.FrontChannelLogout) {
			sc.FrontchannelLogout = ptr(true)
		}
		sc.FrontchannelLogoutURL = nonEmpty(attrs[AttrFrontchannelURL])
		if v := attrs[AttrPKCEMethod]; v != "" {
			sc.PKCE = ptr(v)
		}
	}
	for _, m := range deref(c.ProtocolMappers) {
		sc.Mappers = append(sc.Mappers, exportMapper(m, sc.ClientID, sc.Protocol))
	}
	keep := func(s string) bool { return s == serviceAccountScope }
	if c.DefaultClientScopes != nil {
		sc.DefaultScopes = slices.Sorted(slices.Values(slices.DeleteFunc(slices.Clone(*c.DefaultClientScopes), keep)))
	}
	if c.OptionalClientScopes != nil {
		sc.OptionalScopes = slices.Sorted(slices.Values(*c.OptionalClientScopes))
	}
	if c.FullScopeAllowed != nil && !*c.FullScopeAllowed {
		sc.FullScopeAllowed = ptr(false)
	}
	slices.SortFunc(sc.Mappers, func(x, y spec.Mapper) int {
		return strings.Compare(x.DefaultName(sc.ClientID), y.DefaultName(sc.ClientID))
	})
	return sc
}

// exportMapper writes a mapper in shorthand when a shorthand expands back to
// exactly the same representation, and as raw otherwise.
func exportMapper(m gocloak.ProtocolMapperRepresentation, clientID, protocol string) spec.Mapper {
	cfg := deref(m.Config)
	name := deref(m.Name)
	raw := spec.Mapper{Name: name, Raw: &spec.RawMapper{ProtocolMapper: deref(m.ProtocolMapper), Config: cfg}}
	sh := shorthand(deref(m.ProtocolMapper), cfg, clientID)
	if sh == nil {
		return raw
	}
	if sh.DefaultName(clientID) != name {
		sh.Name = name
	}
	got := ExpandMapper(*sh, clientID, protocol)
	if got.ProtocolMapper != deref(m.ProtocolMapper) || !maps.Equal(got.Config, cfg) {
		return raw
	}
	return *sh
}

// MapperMeaning reads a mapper (its provider id and config) as the
// shorthand it acts like on client clientID, without requiring its config
// to be exactly the one ssoctl writes: a mapper made in the admin console
// carries keys (lightweight.claim, say) that do not change what lands in
// the token. A new value on every call; nil when no shorthand covers its
// kind.
func MapperMeaning(providerID string, cfg map[string]string, clientID string) *spec.Mapper {
	return shorthand(providerID, cfg, clientID)
}

// exportScopes writes the realm's own client scopes whole, and the built-in
// ones only with the mappers ssoctl created or changed in them (the rest is
// Keycloak's, and comes with every new realm).
func exportScopes(st *State) []spec.ClientScope {
	var out []spec.ClientScope
	for _, name := range slices.Sorted(maps.Keys(st.ClientScopes)) {
		s := st.ClientScopes[name]
		_, builtin := spec.BuiltinClientScopes[name]
		sc := spec.ClientScope{Name: name, Protocol: cmp.Or(s.Protocol, spec.ProtocolOIDC)}
		for _, m := range s.Mappers {
			mn := deref(m.Name)
			if builtin && !st.Owned.Has(scopeOwner(name).ref(mn)) && !st.Owned.Has(plan.Ref{Kind: adoptedScopeMapper, Scope: name, Name: mn}) {
				continue
			}
			sc.Mappers = append(sc.Mappers, exportMapper(m, "", sc.Protocol))
		}
		if builtin {
			if len(sc.Mappers) > 0 {
				out = append(out, spec.ClientScope{Name: name, Protocol: sc.Protocol, Mappers: sc.Mappers})
			}
			continue
		}
		slices.SortFunc(sc.Mappers, func(x, y spec.Mapper) int { return strings.Compare(x.DefaultName(""), y.DefaultName("")) })
		sc.Description = s.Description
		attrs := maps.Clone(s.Attributes)
		b := func(k string) *bool {
			v, ok := attrs[k]
			delete(attrs, k)
			if !ok {
				return nil
			}
			return ptr(v == "true")
		}
		sc.IncludeInTokenScope = b(AttrIncludeInTokenScope)
		sc.DisplayOnConsent = b(AttrDisplayOnConsent)
		if v, ok := attrs[AttrConsentText]; ok {
			sc.ConsentText = ptr(v)
			delete(attrs, AttrConsentText)
		}
		if len(attrs) > 0 {
			sc.Attributes = attrs
		}
		sc.ScopeMappings = exportRoleSet(st.ScopeMappings[scopeOwner(name)])
		out = append(out, sc)
	}
	return out
}

// exportRoleSet writes scope mappings; nil when none were read.
func exportRoleSet(rs *RoleSet) *spec.ScopeMappings {
	if rs == nil {
		return nil
	}
	sm := &spec.ScopeMappings{Realm: slices.Sorted(slices.Values(rs.Realm))}
	for cid, roles := range rs.Clients {
		if sm.Clients == nil {
			sm.Clients = map[string][]string{}
		}
		sm.Clients[cid] = slices.Sorted(slices.Values(roles))
	}
	if len(sm.Realm) == 0 {
		sm.Realm = nil
	}
	return sm
}
