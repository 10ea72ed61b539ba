package vault

import (
	"context"
	"fmt"
	"time"
)

// LoginResult is what Vault granted for a JWT login.
type LoginResult struct {
	// Token is the Vault token; print it only when asked.
	Token            string            `json:"token"`
	Accessor         string            `json:"accessor"`
	EntityID         string            `json:"entity_id"`
	DisplayName      string            `json:"display_name"`
	TokenPolicies    []string          `json:"token_policies"`
	IdentityPolicies []string          `json:"identity_policies"`
	TTL              time.Duration     `json:"-"`
	TTLSeconds       int               `json:"ttl_seconds"`
	Renewable        bool              `json:"renewable"`
	Metadata         map[string]string `json:"metadata,omitempty"`
	// GroupNames are the external groups the entity is in after the login.
	GroupNames []string `json:"groups,omitempty"`
}

// Login logs in to auth/<mount>/login with role and jwt, then looks the new
// token up to report identity policies. A rejected login is an *APIError
// carrying Vault's own message.
func (c *Conn) Login(ctx context.Context, mount, role, jwt string) (*LoginResult, error) {
	path := "auth/" + mount + "/login"
	body := map[string]any{"jwt": jwt}
	if role != "" {
		body["role"] = role
	}
	// The login is unauthenticated: use a client without the admin token.
	anon, err := c.api.Clone()
	if err != nil {
		return nil, err
	}
	anon.ClearToken()
	s, err := anon.Logical().WriteWithContext(ctx, path, body)
	if err != nil {
		return nil, c.wrap("PUT", path, err)
	}
	if s == nil || s.Auth == nil {
		return nil, fmt.Errorf("the login at %s answered without auth data", path)
	}
	r := &LoginResult{IdentityPolicies: []string{},
		Token: s.Auth.ClientToken, Accessor: s.Auth.Accessor, EntityID: s.Auth.EntityID,
		TokenPolicies: s.Auth.TokenPolicies,
		TTL:           time.Duration(s.Auth.LeaseDuration) * time.Second, TTLSeconds: s.Auth.LeaseDuration,
		Renewable: s.Auth.Renewable, Metadata: s.Auth.Metadata,
	}
	if s.Auth.IdentityPolicies != nil {
		r.IdentityPolicies = s.Auth.IdentityPolicies
	}
	// lookup-self with the new token gives the display name and the
	// identity policies as of now (group membership is refreshed at login).
	user, err := c.api.Clone()
	if err != nil {
		return nil, err
	}
	user.SetToken(r.Token)
	self, err := user.Auth().Token().LookupSelfWithContext(ctx)
	if err != nil {
		return nil, c.wrap("GET", "auth/token/lookup-self", err)
	}
	if self != nil {
		r.DisplayName = str(self.Data["display_name"])
		if ip := stringList(self.Data["identity_policies"]); ip != nil {
			r.IdentityPolicies = ip
		}
	}
	if r.EntityID != "" {
		if e, err := c.read(ctx, "identity/entity/id/"+r.EntityID); err == nil && e != nil {
			for _, id := range stringList(e["group_ids"]) {
				if g, err := c.read(ctx, "identity/group/id/"+id); err == nil && g != nil {
					r.GroupNames = append(r.GroupNames, str(g["name"]))
				}
			}
		}
	}
	return r, nil
}

// ReadRole reads auth/<mount>/role/<role>; nil when it does not exist.
func (c *Conn) ReadRole(ctx context.Context, mount, role string) (map[string]any, error) {
	return c.read(ctx, "auth/"+mount+"/role/"+role)
}

// ReadAuthConfig reads auth/<mount>/config; nil when it does not exist.
func (c *Conn) ReadAuthConfig(ctx context.Context, mount string) (map[string]any, error) {
	return c.read(ctx, "auth/"+mount+"/config")
}

// AuthType returns the type (jwt, oidc, …) of the auth mount at path, or ""
// when there is none.
func (c *Conn) AuthType(ctx context.Context, path string) (string, error) {
	mounts, err := c.api.Sys().ListAuthWithContext(ctx)
	if err != nil {
		return "", c.wrap("GET", "sys/auth", err)
	}
	if m := mounts[path+"/"]; m != nil {
		return m.Type, nil
	}
	return "", nil
}
