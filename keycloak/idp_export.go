package keycloak

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"

	"github.com/ssoctl/ssoctl/spec"
)

// exportIdPs writes the realm's identity providers, in alias order, with
// what differs from a new provider's defaults, and the mappers ssoctl
// knows how to write. The client secret is never read: client_secret_env
// names <ALIAS>_CLIENT_SECRET.
func exportIdPs(st *State, out *spec.Keycloak) {
	if st.IdPs == nil {
		return
	}
	for _, alias := range slices.Sorted(maps.Keys(st.IdPs.Providers)) {
		cur := st.IdPs.Providers[alias]
		if !slices.Contains(spec.IdPTypes, cur.ProviderID) {
			continue
		}
		c := cur.Config
		p := spec.IdentityProvider{Alias: alias, Type: cur.ProviderID, DisplayName: cur.DisplayName, TrustEmail: cur.TrustEmail,
			HideOnLogin: cur.HideOnLogin, FirstBrokerLoginFlow: cur.FirstBrokerLoginFlowAlias}
		if !cur.Enabled {
			p.Enabled = ptr(false)
		}
		if m := c["syncMode"]; m != "IMPORT" && slices.Contains(spec.IdPSyncModes, m) {
			p.SyncMode = m
		}
		if cur.ProviderID == "saml" {
			p.EntityID, p.SingleSignOnURL, p.SigningCertificate = c["idpEntityId"], c["singleSignOnServiceUrl"], c["signingCertificate"]
		} else {
			p.Issuer, p.ClientID = c["issuer"], c["clientId"]
			p.ClientSecretEnv = strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(alias)) + "_CLIENT_SECRET"
			if s := strings.Fields(c["defaultScope"]); len(s) > 0 {
				p.DefaultScopes = s
			}
		}
		ms := st.IdPs.Mappers[alias]
		for _, name := range slices.Sorted(maps.Keys(ms)) {
			if m, ok := exportIdPMapper(ms[name]); ok {
				if m.MapperName() == name {
					m.Name = ""
				} else {
					m.Name = name
				}
				p.Mappers = append(p.Mappers, m)
			}
		}
		out.IdentityProviders = append(out.IdentityProviders, p)
	}
}

// exportIdPMapper reads a mapper back as the file's; false for a kind the
// file cannot say.
func exportIdPMapper(m *IdPMapperRep) (spec.IdPMapper, bool) {
	c := m.Config
	pair := func(key string) (string, string, bool) {
		var ps []map[string]string
		if json.Unmarshal([]byte(c[key]), &ps) != nil || len(ps) != 1 {
			return "", "", false
		}
		return ps[0]["key"], ps[0]["value"], true
	}
	switch m.Type {
	case "oidc-advanced-group-idp-mapper":
		if k, v, ok := pair("claims"); ok && c["are.claim.values.regex"] != "true" {
			return spec.IdPMapper{ClaimToGroup: &spec.ClaimToGroup{Claim: k, Value: v, Group: c["group"]}}, true
		}
	case "saml-advanced-group-idp-mapper":
		if k, v, ok := pair("attributes"); ok && c["are.attribute.values.regex"] != "true" {
			return spec.IdPMapper{AttributeToGroup: &spec.AttributeToGroup{Attribute: k, Value: v, Group: c["group"]}}, true
		}
	case "oidc-role-idp-mapper":
		role := c["role"]
		if client, r, ok := strings.Cut(role, "."); ok {
			role = client + "/" + r
		}
		return spec.IdPMapper{ClaimToRole: &spec.ClaimToRole{Claim: c["claim"], Value: c["claim.value"], Role: role}}, true
	case "oidc-user-attribute-idp-mapper":
		return spec.IdPMapper{Attribute: &spec.IdPAttribute{Claim: c["claim"], UserAttribute: c["user.attribute"]}}, true
	case "saml-user-attribute-idp-mapper":
		return spec.IdPMapper{Attribute: &spec.IdPAttribute{Attribute: c["attribute.name"], UserAttribute: c["user.attribute"]}}, true
	case "oidc-hardcoded-group-idp-mapper":
		return spec.IdPMapper{HardcodedGroup: &spec.HardcodedGroup{Group: c["group"]}}, true
	}
	return spec.IdPMapper{}, false
}
