package provision

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ssoctl/ssoctl/inspect"
	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/spec"
)

// AliasWarnings checks each group alias against the values the roles'
// groups claims can carry, as far as the keycloak section tells: Vault adds
// a user to an external group only when a value of the role's groups claim
// equals the alias name, and skips the other values silently.
func AliasWarnings(v *spec.Vault, k *spec.Keycloak) []string {
	var out []string
	for _, a := range v.Auth {
		var claims []string
		for _, name := range slices.Sorted(maps.Keys(a.Roles)) {
			if gc := a.Roles[name].GroupsClaim; gc != "" && !slices.Contains(claims, gc) {
				claims = append(claims, gc)
			}
		}
		for _, g := range a.Groups {
			if g.Alias == "" {
				continue
			}
			if len(claims) == 0 && len(a.Roles) > 0 {
				out = append(out, fmt.Sprintf("vault.auth %q group %q: no role on this mount sets groups_claim, so alias %q never matches", a.Path, g.Name, g.Alias))
				continue
			}
			// One role whose claim can carry the alias is enough: each role
			// of the mount serves its own logins.
			var misses []string
			hint := ""
			for _, gc := range claims {
				values, what, ok := ClaimValues(k, gc)
				if !ok || slices.ContainsFunc(values, func(v string) bool { return strings.EqualFold(v, g.Alias) }) {
					misses = nil
					break
				}
				if slices.ContainsFunc(values, func(v string) bool {
					return strings.EqualFold(strings.TrimPrefix(v, "/"), strings.TrimPrefix(g.Alias, "/"))
				}) {
					hint = " (a leading / appears only with the groups mapper's full_path: true)"
				}
				misses = append(misses, fmt.Sprintf("groups_claim %q, which carries %s: %v", gc, what, values))
			}
			if len(misses) > 0 {
				out = append(out, fmt.Sprintf("vault.auth %q group %q: alias %q never matches %s%s", a.Path, g.Name, g.Alias, strings.Join(misses, ", nor "), hint))
			}
		}
	}
	return out
}

// ClaimValues finds the keycloak mapper that emits the claim Vault reads as
// groupsClaim and returns the values it can carry. ok is false when the
// file does not say (no keycloak section, or no such mapper).
func ClaimValues(k *spec.Keycloak, groupsClaim string) (values []string, what string, ok bool) {
	if k == nil {
		return nil, "", false
	}
	want := inspect.VaultClaimPointer(groupsClaim)
	for i := range k.Clients {
		c := &k.Clients[i]
		for _, exp := range tokenMappers(k, c) {
			tc, ok := keycloak.MapperClaim(exp, c.ClientID)
			if !ok {
				continue
			}
			claim := tc.Name
			switch exp.ProtocolMapper {
			case "oidc-usermodel-client-role-mapper":
				src := tc.RoleClient
				if inspect.KeycloakClaimPointer(claim).String() == want {
					roles := []string{}
					if sc := k.Client(src); sc != nil {
						for _, r := range sc.Roles {
							roles = append(roles, exp.Config["usermodel.clientRoleMapping.rolePrefix"]+r)
						}
					}
					return roles, "the roles of client " + src, true
				}
			case "oidc-usermodel-realm-role-mapper":
				if inspect.KeycloakClaimPointer(claim).String() == want {
					return k.RealmRoles, "realm roles", true
				}
			case "oidc-group-membership-mapper":
				if inspect.KeycloakClaimPointer(claim).String() == want {
					full := exp.Config["full.path"] == "true"
					var names []string
					for _, g := range k.Groups {
						if full {
							names = append(names, "/"+g.Name)
						} else {
							names = append(names, g.Name[strings.LastIndex(g.Name, "/")+1:])
						}
					}
					return names, "group names", true
				}
			}
		}
	}
	return nil, "", false
}

// tokenMappers are the mappers whose claims c's tokens carry, as far as the
// file tells: its own, those of the file's scopes among its default scopes,
// and the built-in roles scope's client and realm roles (in the access
// token) when the client has that scope (or its default scopes are not
// managed, and the realm's defaults include it as Keycloak's do).
func tokenMappers(k *spec.Keycloak, c *spec.Client) []keycloak.Mapper {
	var out []keycloak.Mapper
	for _, m := range c.Mappers {
		out = append(out, keycloak.ExpandMapper(m, c.ClientID, c.Protocol))
	}
	for _, sm := range k.DefaultScopeMappers(c) {
		out = append(out, keycloak.ExpandMapper(sm.Mapper, "", c.Protocol))
	}
	if c.Protocol == spec.ProtocolOIDC && k.ClientScope("roles") == nil && (c.DefaultScopes == nil || slices.Contains(c.DefaultScopes, "roles")) {
		off := false
		for _, m := range []spec.Mapper{
			{ClientRoles: &spec.ClientRolesMapper{TokenFlags: spec.TokenFlags{IDToken: &off, Userinfo: &off}}},
			{RealmRoles: &spec.RealmRolesMapper{TokenFlags: spec.TokenFlags{IDToken: &off, Userinfo: &off}}},
		} {
			out = append(out, keycloak.ExpandMapper(m, "", c.Protocol))
		}
	}
	return out
}
