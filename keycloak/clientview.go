package keycloak

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/Nerzal/gocloak/v13"

	"github.com/ssoctl/ssoctl/spec"
)

// ClientView is one client as its tokens see it: the client with its own
// mappers, its roles, and the client scopes that add mappers of their own
// (the default ones always, the optional ones when a login asks for them).
// Its readers (doctor, render, the access matrix) take the typed view:
// Settings, Tokens, TokenClient, Export. Client and the scopes' mappers
// are the representations as read, which that view is computed from on
// every call (tests build a view from them).
type ClientView struct {
	Client         *gocloak.Client
	Roles          []string
	DefaultScopes  []ClientScope
	OptionalScopes []ClientScope
}

// ClientScope is a client scope and its mappers.
type ClientScope struct {
	Name    string
	Mappers []gocloak.ProtocolMapperRepresentation
}

// ReadClient reads the client clientID of realm with its roles and client
// scopes: four requests (the client, its roles, its default and optional
// scope links) and one listing of the realm's client scopes.
func (a *Admin) ReadClient(ctx context.Context, realm, clientID string) (*ClientView, error) {
	r := "/" + esc(realm)
	var found []*gocloak.Client
	if err := a.get(ctx, r+"/clients?clientId="+url.QueryEscape(clientID), &found); err != nil {
		if IsNotFound(err) {
			return nil, notFound("realm %q on %s", realm, a.base)
		}
		return nil, err
	}
	i := slices.IndexFunc(found, func(c *gocloak.Client) bool { return deref(c.ClientID) == clientID })
	if i < 0 {
		return nil, notFound("client %q in realm %q on %s", clientID, realm, a.base)
	}
	v := &ClientView{Client: found[i]}
	id := deref(v.Client.ID)
	var roles []gocloak.Role
	if err := a.get(ctx, r+"/clients/"+esc(id)+"/roles?briefRepresentation=true&first=0&max=-1", &roles); err != nil {
		return nil, err
	}
	for _, role := range roles {
		v.Roles = append(v.Roles, deref(role.Name))
	}
	slices.Sort(v.Roles)
	var scopes []struct {
		ID      string                                 `json:"id"`
		Name    string                                 `json:"name"`
		Mappers []gocloak.ProtocolMapperRepresentation `json:"protocolMappers"`
	}
	if err := a.get(ctx, r+"/client-scopes", &scopes); err != nil {
		return nil, err
	}
	byID := map[string]ClientScope{}
	for _, s := range scopes {
		byID[s.ID] = ClientScope{Name: s.Name, Mappers: s.Mappers}
	}
	for _, kind := range []struct {
		path string
		into *[]ClientScope
	}{{"default-client-scopes", &v.DefaultScopes}, {"optional-client-scopes", &v.OptionalScopes}} {
		var links []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		}
		if err := a.get(ctx, r+"/clients/"+esc(id)+"/"+kind.path, &links); err != nil {
			return nil, err
		}
		for _, l := range links {
			s, ok := byID[l.ID]
			if !ok {
				return nil, fmt.Errorf("client %s links client scope %s, which the realm does not list", clientID, l.Name)
			}
			*kind.into = append(*kind.into, s)
		}
	}
	return v, nil
}

// Export describes the client as the clients: entry of an sso.yaml, its
// mappers in shorthand where they have one.
func (v *ClientView) Export() spec.Client { return exportClient(v.Client) }

// ClientSettings are the settings of a client that decide how its logins
// go, read from the client as it is.
type ClientSettings struct {
	ClientID, Protocol                string
	Enabled, PublicClient, BearerOnly bool
	StandardFlow, DirectGrants        bool
	RedirectURIs                      []string
	RootURL                           string
	// PostLogoutRedirectURIs is the post-logout list as Keycloak stores it,
	// "+" (the redirect URIs) included.
	PostLogoutRedirectURIs []string
	BackchannelLogoutURL   string
	// BackchannelLogoutSessionRequired is on when logout tokens carry sid.
	BackchannelLogoutSessionRequired bool
}

// Settings reads the client's settings; zero when the view holds no client.
func (v *ClientView) Settings() ClientSettings {
	if v == nil || v.Client == nil {
		return ClientSettings{}
	}
	c := v.Client
	attrs := deref(c.Attributes)
	s := ClientSettings{ClientID: deref(c.ClientID), Protocol: deref(c.Protocol), Enabled: deref(c.Enabled), PublicClient: deref(c.PublicClient),
		BearerOnly: deref(c.BearerOnly), StandardFlow: deref(c.StandardFlowEnabled), DirectGrants: deref(c.DirectAccessGrantsEnabled),
		RedirectURIs: deref(c.RedirectURIs), RootURL: deref(c.RootURL), BackchannelLogoutURL: attrs[AttrBackchannelLogoutURL],
		BackchannelLogoutSessionRequired: attrs[AttrBackchannelSessionRequired] == "true"}
	for _, u := range strings.Split(attrs[AttrPostLogoutRedirectURIs], "##") {
		if u != "" {
			s.PostLogoutRedirectURIs = append(s.PostLogoutRedirectURIs, u)
		}
	}
	return s
}

// HasMapper reports whether the client has a mapper of its own named name.
func (v *ClientView) HasMapper(name string) bool {
	return slices.ContainsFunc(deref(v.Client.ProtocolMappers), func(m gocloak.ProtocolMapperRepresentation) bool { return deref(m.Name) == name })
}

// TokenClaim is one claim a client's tokens can carry, the mapper that
// writes it, and which tokens.
type TokenClaim struct {
	// Name is the claim as Keycloak names it: dots nest, "\." is a dot;
	// a client roles mapper's ${client_id} is resolved.
	Name string
	// Mapper is the mapper's name, Scope its client scope's ("" for the
	// client's own), Kind its provider id.
	Mapper, Scope, Kind string
	// RoleClient is whose roles a client roles mapper writes.
	RoleClient string
	// FullPath is a group membership mapper's full group path.
	FullPath bool
	// Index is the mapper's index among the client's own; -1 for a scope's
	// (and for the claims Keycloak always writes).
	Index int
	// Tokens are the tokens it writes into.
	Tokens
	// Config is the mapper's config, as read (MapperMeaning reads it as a
	// shorthand).
	Config map[string]string
}

// MapperClaim is the claim mapper m writes on client clientID, read through
// the table of mapper kinds (a client roles mapper's ${client_id}
// resolved); ok is false for a mapper that writes no claim (an audience
// mapper adds to aud).
func MapperClaim(m Mapper, clientID string) (c TokenClaim, ok bool) {
	c, aud := meaningOf(m.Name, m.ProtocolMapper, m.Config, clientID)
	return c, !aud && c.Name != ""
}

// TokenModel is what a client's own mappers and its default scopes put into
// the ID token, the access token and userinfo (optional scopes join only
// when a login asks for them), read through the table of mapper kinds.
type TokenModel struct {
	Claims []TokenClaim
	// IDAud and AccessAud are the audiences audience mappers add.
	IDAud, AccessAud []string
}

// Tokens derives the token model from the client's mappers and its default
// client scopes, and adds the claims Keycloak always writes.
func (v *ClientView) Tokens() TokenModel {
	var m TokenModel
	clientID := deref(v.Client.ClientID)
	add := func(p gocloak.ProtocolMapperRepresentation, scope string, index int) {
		c, aud := meaningOf(deref(p.Name), deref(p.ProtocolMapper), deref(p.Config), clientID)
		switch {
		case aud:
			if c.ID {
				m.IDAud = append(m.IDAud, c.Name)
			}
			if c.Access {
				m.AccessAud = append(m.AccessAud, c.Name)
			}
		case c.Name != "":
			c.Scope, c.Index = scope, index
			m.Claims = append(m.Claims, c)
		}
	}
	for i, p := range deref(v.Client.ProtocolMappers) {
		add(p, "", i)
	}
	for _, s := range v.DefaultScopes {
		for _, p := range s.Mappers {
			add(p, s.Name, -1)
		}
	}
	for _, name := range []string{"sub", "iss", "azp", "exp", "iat"} {
		m.Claims = append(m.Claims, TokenClaim{Name: name, Mapper: "(always)", Index: -1, Tokens: Tokens{ID: true, Access: true, Userinfo: name == "sub"}})
	}
	return m
}

// TokenClient describes the client as the clients: entry of an sso.yaml for
// checks of what its tokens carry: its own mappers and those of its default
// scopes, each read for what it puts into tokens (MapperMeaning), so that a
// console-made mapper whose config differs from ssoctl's in keys that do
// not matter still counts as the mapper it acts as.
func (v *ClientView) TokenClient() spec.Client {
	c := exportClient(v.Client)
	c.Mappers = nil
	all := slices.Clone(deref(v.Client.ProtocolMappers))
	for _, s := range v.DefaultScopes {
		all = append(all, s.Mappers...)
	}
	for _, m := range all {
		if sh := MapperMeaning(deref(m.ProtocolMapper), deref(m.Config), c.ClientID); sh != nil {
			c.Mappers = append(c.Mappers, *sh)
			continue
		}
		c.Mappers = append(c.Mappers, spec.Mapper{Name: deref(m.Name), Raw: &spec.RawMapper{ProtocolMapper: deref(m.ProtocolMapper), Config: deref(m.Config)}})
	}
	return c
}
