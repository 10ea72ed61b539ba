package keycloak

import (
	"context"
	"fmt"
	"net/url"
	"slices"

	"github.com/Nerzal/gocloak/v13"

	"github.com/ssoctl/ssoctl/spec"
)

// ClientView is one client as its tokens see it: the client with its own
// mappers, its roles, and the client scopes that add mappers of their own
// (the default ones always, the optional ones when a login asks for them).
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

// ExportClient describes a client as the clients: entry of an sso.yaml,
// its mappers in shorthand where they have one.
func ExportClient(c *gocloak.Client) spec.Client { return exportClient(c) }

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
		if sh := MapperMeaning(m, c.ClientID); sh != nil {
			c.Mappers = append(c.Mappers, *sh)
			continue
		}
		c.Mappers = append(c.Mappers, spec.Mapper{Name: deref(m.Name), Raw: &spec.RawMapper{ProtocolMapper: deref(m.ProtocolMapper), Config: deref(m.Config)}})
	}
	return c
}
