package keycloak

import (
	"cmp"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/Nerzal/gocloak/v13"

	"github.com/ssoctl/ssoctl/spec"
)

// kindSamples holds one shorthand per kind of the table, each away from
// the kind's defaults where it can be, in the form export writes (a value
// left at its default is unset). A kind added to the table needs one here.
func kindSamples() map[string]spec.Mapper {
	f := false
	return map[string]spec.Mapper{
		"audience":       {Audience: &spec.AudienceMapper{Client: "api", TokenFlags: spec.TokenFlags{AccessToken: &f}}},
		"client_roles":   {ClientRoles: &spec.ClientRolesMapper{Client: "other", Claim: "roles", Prefix: "p:", Multivalued: &f, TokenFlags: spec.TokenFlags{Userinfo: &f}}},
		"realm_roles":    {RealmRoles: &spec.RealmRolesMapper{Claim: "realm_roles", Prefix: "r:", Multivalued: &f, TokenFlags: spec.TokenFlags{IDToken: &f}}},
		"groups":         {Groups: &spec.GroupsMapper{Claim: "teams", FullPath: true, TokenFlags: spec.TokenFlags{Introspection: &f}}},
		"attribute":      {Attribute: &spec.AttributeMapper{UserAttribute: "department", Claim: "dept", JSONType: "JSON", Multivalued: true}},
		"saml_property":  {SAMLProperty: &spec.SAMLPropertyMapper{Property: "email", Attribute: "mail", FriendlyName: "Mail", NameFormat: "URI Reference"}},
		"saml_attribute": {SAMLAttribute: &spec.SAMLAttributeMapper{UserAttribute: "department", Attribute: "dept", FriendlyName: "d", NameFormat: "Unspecified"}},
		"saml_groups":    {SAMLGroups: &spec.SAMLGroupsMapper{Attribute: "memberOf", FriendlyName: "groups", FullPath: true, Single: &f}},
	}
}

// tokensOfView is the token model of a client vault holding the one mapper m.
func tokensOfView(m Mapper) TokenModel {
	v := &ClientView{Client: &gocloak.Client{ClientID: ptr("vault"), ProtocolMappers: &[]gocloak.ProtocolMapperRepresentation{repOf(m)}}}
	return v.Tokens()
}

// ownClaims drops the claims Keycloak always writes.
func ownClaims(tm TokenModel) []TokenClaim {
	return slices.DeleteFunc(tm.Claims, func(c TokenClaim) bool { return c.Mapper == "(always)" })
}

// Every kind of the table: the shorthand expands to the kind's provider id
// and reads back as itself; what it writes into tokens is what its expanded
// flags say, the kind's default tokens when the shorthand sets none.
func TestEveryMapperKind(t *testing.T) {
	samples := kindSamples()
	for _, k := range MapperKinds() {
		if k.Kind == "" {
			continue
		}
		t.Run(k.Kind, func(t *testing.T) {
			m, ok := samples[k.Kind]
			if !ok {
				t.Fatalf("no sample shorthand for kind %s", k.Kind)
			}
			if m.Kind() != k.Kind || kindOf(&m) == nil || kindOf(&m).Kind != k.Kind {
				t.Fatalf("the sample is of kind %s", m.Kind())
			}
			exp := ExpandMapper(m, "vault", k.Protocol)
			if exp.ProtocolMapper != k.ProviderID {
				t.Fatalf("expands to %s, want %s", exp.ProtocolMapper, k.ProviderID)
			}
			back := shorthand(exp.ProtocolMapper, exp.Config, "vault")
			if back == nil || !reflect.DeepEqual(*back, m) {
				t.Fatalf("round trip: %+v, want %+v (config %v)", back, m, exp.Config)
			}
			if got := exportMapper(repOf(exp), "vault", k.Protocol); got.Raw != nil {
				t.Errorf("exported as raw: %+v", got.Raw)
			}

			tm := tokensOfView(exp)
			claims := ownClaims(tm)
			if k.Protocol != spec.ProtocolOIDC {
				if len(claims) != 0 || len(tm.IDAud) != 0 || len(tm.AccessAud) != 0 {
					t.Fatalf("a %s mapper writes into OIDC tokens: %+v", k.Protocol, tm)
				}
				return
			}
			// The meaning follows the expanded flags, and without flags the
			// kind's defaults.
			for _, flags := range []spec.TokenFlags{*TokenFlagsOf(&m), {}} {
				*TokenFlagsOf(&m) = flags
				exp := ExpandMapper(m, "vault", k.Protocol)
				want := tokensOf(exp.Config)
				if flags == (spec.TokenFlags{}) && want != k.Tokens {
					t.Errorf("without flags the shorthand writes %+v, the table says %+v", want, k.Tokens)
				}
				tm := tokensOfView(exp)
				claims := ownClaims(tm)
				if k.Kind == "audience" {
					aud := m.Audience.Client
					if len(claims) != 0 || slices.Contains(tm.IDAud, aud) != want.ID || slices.Contains(tm.AccessAud, aud) != want.Access {
						t.Errorf("flags %+v: aud %v / %v, claims %+v", want, tm.IDAud, tm.AccessAud, claims)
					}
					continue
				}
				if len(claims) != 1 || claims[0].Tokens != want || claims[0].Kind != k.ProviderID || claims[0].Index != 0 {
					t.Fatalf("flags %+v: claims %+v", want, claims)
				}
				name := strings.ReplaceAll(exp.Config["claim.name"], "${client_id}", cmp.Or(claims[0].RoleClient, "vault"))
				if claims[0].Name != name {
					t.Errorf("claim %q, the config writes %q", claims[0].Name, name)
				}
			}
		})
	}
}

// The kinds read only for their meaning write a fixed claim, whatever
// their config holds.
func TestFixedClaimKinds(t *testing.T) {
	for _, k := range MapperKinds() {
		if k.Kind != "" {
			continue
		}
		tm := tokensOfView(Mapper{Name: "x", ProtocolMapper: k.ProviderID, Config: map[string]string{"id.token.claim": "true"}})
		if c := ownClaims(tm); len(c) != 1 || c[0].Name != k.Claim || c[0].Tokens != (Tokens{ID: true}) {
			t.Errorf("%s: claims %+v, want %s in the ID token", k.ProviderID, c, k.Claim)
		}
	}
}

// A client roles mapper's ${client_id} is its client's, dots escaped; a
// scope's mapper without a client writes the token's client's roles.
func TestClientRolesClaimResolvesClientID(t *testing.T) {
	exp := ExpandMapper(spec.Mapper{ClientRoles: &spec.ClientRolesMapper{Client: "a.b"}}, "vault", spec.ProtocolOIDC)
	if c := ownClaims(tokensOfView(exp)); len(c) != 1 || c[0].Name != `resource_access.a\.b.roles` || c[0].RoleClient != "a.b" {
		t.Errorf("claims %+v", c)
	}
	if c, ok := MapperClaim(exp, "vault"); !ok || c.Name != `resource_access.a\.b.roles` {
		t.Errorf("MapperClaim: %+v %v", c, ok)
	}
	if c, ok := MapperClaim(ExpandMapper(spec.Mapper{Audience: &spec.AudienceMapper{Client: "api"}}, "vault", spec.ProtocolOIDC), "vault"); ok {
		t.Errorf("an audience mapper writes claim %q", c.Name)
	}
	scope := ExpandMapper(spec.Mapper{ClientRoles: &spec.ClientRolesMapper{}}, "", spec.ProtocolOIDC)
	v := &ClientView{Client: &gocloak.Client{ClientID: ptr("vault")}, DefaultScopes: []ClientScope{{Name: "roles", Mappers: []gocloak.ProtocolMapperRepresentation{repOf(scope)}}}}
	if c := ownClaims(v.Tokens()); len(c) != 1 || c[0].Name != "resource_access.vault.roles" || c[0].RoleClient != "vault" || c[0].Scope != "roles" || c[0].Index != -1 {
		t.Errorf("the scope's: %+v", c)
	}
}
