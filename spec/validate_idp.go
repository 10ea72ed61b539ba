package spec

import (
	"fmt"
	"slices"
	"strings"
)

// Limits of identity_providers: more than these is a mistake (Keycloak's
// login page shows one button per provider).
const (
	MaxIdentityProviders = 50
	MaxIdPMappers        = 100 // per provider
	MaxIdPScopes         = 50
	MaxIdPString         = 2048  // an alias, a URL, a claim name, a group path
	MaxIdPCertificate    = 16384 // a PEM certificate
)

// identityProviders checks keycloak.identity_providers for what needs no
// server; planning checks the rest (the first broker login flow, the
// groups and roles the mappers name, the upstream's discovery document).
func (v *validator) identityProviders(k *Keycloak) {
	if len(k.IdentityProviders) > MaxIdentityProviders {
		v.errorf("keycloak.identity_providers", "%d identity providers; at most %d", len(k.IdentityProviders), MaxIdentityProviders)
		return
	}
	seen := map[string]bool{}
	for i := range k.IdentityProviders {
		p := &k.IdentityProviders[i]
		key := fmt.Sprintf("keycloak.identity_providers[%d]", i)
		v.idpStrings(key, map[string]string{"alias": p.Alias, "display_name": p.DisplayName, "issuer": p.Issuer, "client_id": p.ClientID,
			"first_broker_login_flow": p.FirstBrokerLoginFlow, "entity_id": p.EntityID, "metadata_url": p.MetadataURL, "single_sign_on_url": p.SingleSignOnURL})
		if len(p.SigningCertificate) > MaxIdPCertificate {
			v.errorf(key+".signing_certificate", "%d bytes; at most %d", len(p.SigningCertificate), MaxIdPCertificate)
		}
		switch {
		case p.Alias == "":
			v.errorf(key, "alias is required (it names the provider in the broker URL /realms/R/broker/ALIAS/endpoint)")
		case seen[p.Alias]:
			v.errorf(key+".alias", "identity provider %s is declared twice", Quote(p.Alias))
		case strings.ContainsAny(p.Alias, "/?#% "):
			v.errorf(key+".alias", "an alias is part of the broker's URL: no /, ?, #, %% or space")
		}
		seen[p.Alias] = true
		if !slices.Contains(IdPTypes, p.Type) {
			v.errorf(key+".type", "type %s: want one of %s", Quote(p.Type), strings.Join(IdPTypes, ", "))
			continue
		}
		if p.SyncMode != "" && !slices.Contains(IdPSyncModes, p.SyncMode) {
			v.errorf(key+".sync_mode", "sync_mode %s: want one of %s", Quote(p.SyncMode), strings.Join(IdPSyncModes, ", "))
		}
		if len(p.DefaultScopes) > MaxIdPScopes {
			v.errorf(key+".default_scopes", "%d scopes; at most %d", len(p.DefaultScopes), MaxIdPScopes)
		}
		for j, s := range p.DefaultScopes {
			if s == "" || strings.ContainsAny(s, " \t\n") || len(s) > 256 {
				v.errorf(fmt.Sprintf("%s.default_scopes[%d]", key, j), "a scope is one word of at most 256 bytes")
			}
		}
		saml := p.Type == "saml"
		oidc := p.Type == "oidc" || p.Type == "keycloak-oidc"
		switch {
		case saml:
			if p.MetadataURL == "" && (p.EntityID == "" || p.SingleSignOnURL == "") {
				v.errorf(key, "a saml provider needs metadata_url, or entity_id and single_sign_on_url")
			}
			for f, s := range map[string]string{"metadata_url": p.MetadataURL, "single_sign_on_url": p.SingleSignOnURL} {
				if s != "" {
					v.checkURL(key+"."+f, s)
				}
			}
			if p.Issuer != "" || p.ClientSecretEnv != "" || len(p.DefaultScopes) > 0 {
				v.errorf(key, "issuer, client_secret_env and default_scopes are for OIDC providers, not saml")
			}
		default:
			if oidc {
				if p.Issuer == "" {
					v.errorf(key, "issuer is required for an %s provider (its endpoints come from ISSUER/.well-known/openid-configuration)", p.Type)
				} else {
					v.checkURL(key+".issuer", p.Issuer)
				}
			} else if p.Issuer != "" {
				v.errorf(key+".issuer", "a %s provider's endpoints are Keycloak's own: no issuer", p.Type)
			}
			if p.ClientID == "" {
				v.errorf(key, "client_id is required")
			}
			if p.ClientSecretEnv == "" {
				v.errorf(key, "client_secret_env is required: the variable that holds the client secret")
			}
			if p.EntityID != "" || p.MetadataURL != "" || p.SingleSignOnURL != "" || p.SigningCertificate != "" {
				v.errorf(key, "entity_id, metadata_url, single_sign_on_url and signing_certificate are for saml providers")
			}
		}
		v.idpMappers(key, p, oidc, saml)
	}
}

// idpStrings checks the provider's strings: bounded and plain.
func (v *validator) idpStrings(key string, fields map[string]string) {
	for _, f := range slices.Sorted(func(yield func(string) bool) {
		for k := range fields {
			if !yield(k) {
				return
			}
		}
	}) {
		s := fields[f]
		if len(s) > MaxIdPString {
			v.errorf(key+"."+f, "%d bytes; at most %d", len(s), MaxIdPString)
			continue
		}
		v.plainText(key+"."+f, s)
	}
}

// idpMappers checks one provider's mappers: one kind each, the kinds its
// type takes, names unique.
func (v *validator) idpMappers(key string, p *IdentityProvider, oidc, saml bool) {
	if len(p.Mappers) > MaxIdPMappers {
		v.errorf(key+".mappers", "%d mappers; at most %d", len(p.Mappers), MaxIdPMappers)
		return
	}
	names := map[string]bool{}
	for j := range p.Mappers {
		m := &p.Mappers[j]
		mk := fmt.Sprintf("%s.mappers[%d]", key, j)
		kind := m.Kind()
		if kind == "" {
			v.errorf(mk, "give exactly one of claim_to_group, claim_to_role, attribute, hardcoded_group, attribute_to_group")
			continue
		}
		switch {
		case (kind == "claim_to_group" || kind == "claim_to_role") && !oidc:
			v.errorf(mk+"."+kind, "%s reads a token claim: for oidc and keycloak-oidc providers (saml: attribute_to_group)", kind)
		case kind == "attribute_to_group" && !saml:
			v.errorf(mk+"."+kind, "attribute_to_group reads a SAML assertion: for saml providers (oidc: claim_to_group)")
		case kind == "attribute" && !oidc && !saml:
			v.errorf(mk+".attribute", "attribute mappers are for oidc, keycloak-oidc and saml providers")
		}
		var req map[string]string
		switch kind {
		case "claim_to_group":
			c := m.ClaimToGroup
			req = map[string]string{"claim": c.Claim, "value": c.Value, "group": c.Group}
		case "claim_to_role":
			c := m.ClaimToRole
			req = map[string]string{"claim": c.Claim, "value": c.Value, "role": c.Role}
		case "attribute":
			a := m.Attribute
			req = map[string]string{"user_attribute": a.UserAttribute}
			switch {
			case saml && a.Attribute == "":
				v.errorf(mk+".attribute", "attribute (the assertion's attribute name) is required")
			case !saml && a.Claim == "":
				v.errorf(mk+".attribute", "claim is required")
			}
		case "hardcoded_group":
			req = map[string]string{"group": m.HardcodedGroup.Group}
		case "attribute_to_group":
			a := m.AttributeToGroup
			req = map[string]string{"attribute": a.Attribute, "value": a.Value, "group": a.Group}
		}
		for _, f := range slices.Sorted(func(yield func(string) bool) {
			for k := range req {
				if !yield(k) {
					return
				}
			}
		}) {
			s := req[f]
			switch {
			case s == "":
				v.errorf(mk+"."+kind, "%s is required", f)
			case len(s) > MaxIdPString:
				v.errorf(mk+"."+kind+"."+f, "%d bytes; at most %d", len(s), MaxIdPString)
			case f == "group" && !strings.HasPrefix(s, "/"):
				v.errorf(mk+"."+kind+".group", "a group is named by its path: /%s", s)
			default:
				v.plainText(mk+"."+kind+"."+f, s)
			}
		}
		name := m.MapperName()
		if len(name) > 255 {
			v.errorf(mk, "the mapper's name is %d bytes; at most 255 (give a shorter name:)", len(name))
		}
		if names[name] {
			v.errorf(mk, "mapper %s is declared twice in identity provider %s", Quote(name), Quote(p.Alias))
		}
		names[name] = true
	}
}
