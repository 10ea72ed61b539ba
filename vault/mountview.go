package vault

import (
	"context"
	"slices"
	"strings"
)

// MountView is one JWT/OIDC auth mount as Vault holds it: its type, its
// config, its roles, and the group aliases that point at it.
type MountView struct {
	Path, Type, Accessor string
	Config               map[string]any
	Roles                map[string]map[string]any
	Aliases              []MountAlias
}

// MountAlias is a group alias on a mount, with its group's name.
type MountAlias struct {
	Name, Group string
}

// ReadMount reads the mount at path and the named roles (every role when
// roles is empty). A mount that does not exist is nil.
func (c *Conn) ReadMount(ctx context.Context, path string, roles []string) (*MountView, error) {
	path = strings.Trim(path, "/")
	mounts, err := c.api.Sys().ListAuthWithContext(ctx)
	if err != nil {
		return nil, c.wrap("GET", "sys/auth", err)
	}
	m := mounts[path+"/"]
	if m == nil {
		return nil, nil
	}
	v := &MountView{Path: path, Type: m.Type, Accessor: m.Accessor, Roles: map[string]map[string]any{}}
	if v.Config, err = c.read(ctx, "auth/"+path+"/config"); err != nil {
		return nil, err
	}
	if len(roles) == 0 {
		data, err := c.list(ctx, "auth/"+path+"/role")
		if err != nil {
			return nil, err
		}
		roles = stringList(data["keys"])
	}
	for _, name := range roles {
		r, err := c.read(ctx, "auth/"+path+"/role/"+name)
		if err != nil {
			return nil, err
		}
		if r != nil {
			v.Roles[name] = r
		}
	}
	data, err := c.list(ctx, "identity/group-alias/id")
	if err != nil {
		return nil, err
	}
	info, _ := data["key_info"].(map[string]any)
	for _, raw := range info {
		a, _ := raw.(map[string]any)
		if str(a["mount_accessor"]) != v.Accessor {
			continue
		}
		g, err := c.read(ctx, "identity/group/id/"+str(a["canonical_id"]))
		if err != nil {
			return nil, err
		}
		v.Aliases = append(v.Aliases, MountAlias{Name: str(a["name"]), Group: str(g["name"])})
	}
	slices.SortFunc(v.Aliases, func(a, b MountAlias) int { return strings.Compare(a.Name, b.Name) })
	return v, nil
}

// Health reads sys/health and returns the server's Date header too (for
// clock checks).
func (c *Conn) Health(ctx context.Context) (map[string]any, string, error) {
	// ReadRaw keeps the response of a standby or sealed server (429, 503).
	resp, err := c.api.Logical().ReadRawWithContext(ctx, "sys/health")
	if resp != nil {
		defer resp.Body.Close()
	}
	if err != nil && resp == nil {
		return nil, "", c.wrap("GET", "sys/health", err)
	}
	var body map[string]any
	if resp != nil {
		resp.DecodeJSON(&body)
		return body, resp.Header.Get("Date"), nil
	}
	return nil, "", nil
}

// OIDCAuthURL asks an OIDC mount for the authorization URL of role with
// redirect (the first step of Vault's browser login).
func (c *Conn) OIDCAuthURL(ctx context.Context, mount, role, redirect string) (string, error) {
	anon, err := c.api.Clone()
	if err != nil {
		return "", err
	}
	anon.ClearToken()
	s, err := anon.Logical().WriteWithContext(ctx, "auth/"+mount+"/oidc/auth_url", map[string]any{"role": role, "redirect_uri": redirect})
	if err != nil {
		return "", c.wrap("PUT", "auth/"+mount+"/oidc/auth_url", err)
	}
	if s == nil {
		return "", nil
	}
	return str(s.Data["auth_url"]), nil
}

// OIDCCallback finishes Vault's browser login with the state and code
// Keycloak sent back, as the CLI's local listener does.
func (c *Conn) OIDCCallback(ctx context.Context, mount, state, code string) (*LoginResult, error) {
	anon, err := c.api.Clone()
	if err != nil {
		return nil, err
	}
	anon.ClearToken()
	s, err := anon.Logical().ReadWithDataWithContext(ctx, "auth/"+mount+"/oidc/callback", map[string][]string{"state": {state}, "code": {code}})
	if err != nil {
		return nil, c.wrap("GET", "auth/"+mount+"/oidc/callback", err)
	}
	if s == nil || s.Auth == nil {
		return nil, nil
	}
	r := &LoginResult{Token: s.Auth.ClientToken, EntityID: s.Auth.EntityID, TokenPolicies: s.Auth.TokenPolicies, IdentityPolicies: s.Auth.IdentityPolicies}
	return r, nil
}
