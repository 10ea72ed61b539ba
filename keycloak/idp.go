package keycloak

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
)

// Brokered identity providers (keycloak.identity_providers). Measured on
// Keycloak 26.7.3: the partial export that planning reads anyway holds
// identityProviders (alias, providerId, displayName, enabled, config with
// clientSecret as "**********"; trustEmail, hideOnLogin and
// firstBrokerLoginFlowAlias left out while unset) and
// identityProviderMappers (id, name, identityProviderAlias,
// identityProviderMapper, config): a no-op plan of providers and mappers
// costs no request of its own. A partial IMPORT drops IdP mappers
// (Keycloak issue 47255), so mappers are created one request each
// (POST identity-provider/instances/{alias}/mappers). A provider is
// updated in place with a PUT of the whole representation as read, the
// changed keys replaced and config.clientSecret left at the mask unless the
// secret changed (the same convention as the SMTP password). ssoctl knows
// whether the secret changed from its fingerprint (fingerprint.go) in the
// realm attribute ssoctl.fp.idp.<alias>, never the value.

// IdPRep is an identity provider as the export and the admin API give it:
// the fields planning reads, and Raw, the whole representation, which an
// update sends back.
type IdPRep struct {
	Alias                     string            `json:"alias"`
	ProviderID                string            `json:"providerId"`
	DisplayName               string            `json:"displayName"`
	Enabled                   bool              `json:"enabled"`
	TrustEmail                bool              `json:"trustEmail"`
	HideOnLogin               bool              `json:"hideOnLogin"`
	FirstBrokerLoginFlowAlias string            `json:"firstBrokerLoginFlowAlias"`
	Config                    map[string]string `json:"config"`
	Raw                       map[string]any    `json:"-"`
}

// IdPMapperRep is a mapper of an identity provider.
type IdPMapperRep struct {
	ID     string            `json:"id,omitempty"`
	Name   string            `json:"name"`
	Alias  string            `json:"identityProviderAlias"`
	Type   string            `json:"identityProviderMapper"`
	Config map[string]string `json:"config"`
}

// idpExport is the part of the partial export that holds the providers.
type idpExport struct {
	IdentityProviders       []json.RawMessage `json:"identityProviders"`
	IdentityProviderMappers []*IdPMapperRep   `json:"identityProviderMappers"`
}

// IdPState is the realm's identity providers by alias and their mappers
// by alias then name.
type IdPState struct {
	Providers map[string]*IdPRep
	Mappers   map[string]map[string]*IdPMapperRep
}

// idpState decodes the export's providers; nil when one does not decode.
func (e *idpExport) idpState() *IdPState {
	s := &IdPState{Providers: map[string]*IdPRep{}, Mappers: map[string]map[string]*IdPMapperRep{}}
	for _, raw := range e.IdentityProviders {
		p, err := decodeIdP(raw)
		if err != nil {
			return nil
		}
		s.Providers[p.Alias] = p
	}
	for _, m := range e.IdentityProviderMappers {
		if m == nil || m.Alias == "" {
			continue
		}
		if s.Mappers[m.Alias] == nil {
			s.Mappers[m.Alias] = map[string]*IdPMapperRep{}
		}
		s.Mappers[m.Alias][m.Name] = m
	}
	return s
}

func decodeIdP(raw json.RawMessage) (*IdPRep, error) {
	var p IdPRep
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &p.Raw); err != nil {
		return nil, err
	}
	if p.Alias == "" {
		return nil, fmt.Errorf("an identity provider without alias")
	}
	return &p, nil
}

// IdPFingerprintAttribute is the realm attribute that holds the
// fingerprint of the client secret ssoctl last sent to provider alias.
func IdPFingerprintAttribute(alias string) string { return "ssoctl.fp.idp." + alias }

// DesiredIdP is one provider of the file, its secret read from the
// environment and, when planning read them, the upstream's endpoints.
type DesiredIdP struct {
	spec.IdentityProvider
	Key    string // keycloak.identity_providers[i]
	Secret string
	// Discovered are config keys read from the upstream (the OIDC
	// discovery document, the SAML descriptor) at plan time: only for a
	// new provider or one whose issuer or metadata_url changed.
	Discovered map[string]string
}

// expandIdPs is Expand's part for identity_providers.
func expandIdPs(ps []spec.IdentityProvider, getenv func(string) string) []DesiredIdP {
	var out []DesiredIdP
	for i, p := range ps {
		d := DesiredIdP{IdentityProvider: p, Key: fmt.Sprintf("keycloak.identity_providers[%d]", i)}
		if p.ClientSecretEnv != "" {
			d.Secret = getenv(p.ClientSecretEnv)
		}
		out = append(out, d)
	}
	return out
}

func idpRef(alias string) plan.Ref { return plan.Ref{Kind: "idp", Name: alias} }
func idpMapperRef(alias, name string) plan.Ref {
	return plan.Ref{Kind: "idp-mapper", Scope: alias, Name: name}
}

// Steps: after the groups and roles that mappers name and the flows a
// provider binds, before the users.
const (
	stepIdPs       = stepBindings - 2
	stepIdPMappers = stepBindings - 1
)

// idpTop are the provider's own fields the file manages, by file key.
var idpTop = []struct{ key, json string }{
	{"display_name", "displayName"}, {"enabled", "enabled"}, {"trust_email", "trustEmail"},
	{"hide_on_login", "hideOnLogin"}, {"first_broker_login_flow", "firstBrokerLoginFlowAlias"},
}

// idpWant is the file's provider as Keycloak's fields: top-level ones and
// config keys (the client secret apart).
func idpWant(p *DesiredIdP) (top map[string]any, config map[string]string) {
	top = map[string]any{"displayName": p.DisplayName, "enabled": p.Enabled == nil || *p.Enabled,
		"trustEmail": p.TrustEmail, "hideOnLogin": p.HideOnLogin}
	if p.FirstBrokerLoginFlow != "" {
		top["firstBrokerLoginFlowAlias"] = p.FirstBrokerLoginFlow
	}
	config = map[string]string{}
	sync := p.SyncMode
	if sync == "" {
		sync = "IMPORT"
	}
	config["syncMode"] = sync
	switch p.Type {
	case "saml":
		if p.MetadataURL != "" {
			config["metadataDescriptorUrl"] = p.MetadataURL
		}
		if p.EntityID != "" {
			config["idpEntityId"] = p.EntityID
		}
		if p.SingleSignOnURL != "" {
			config["singleSignOnServiceUrl"] = p.SingleSignOnURL
		}
		if p.SigningCertificate != "" {
			config["signingCertificate"] = p.SigningCertificate
			config["validateSignature"] = "true"
		}
	default:
		config["clientId"] = p.ClientID
		if p.Issuer != "" {
			config["issuer"] = p.Issuer
		}
		if len(p.DefaultScopes) > 0 {
			config["defaultScope"] = strings.Join(p.DefaultScopes, " ")
		}
	}
	// What planning read from the upstream, unless the file says it.
	for k, v := range p.Discovered {
		if _, set := config[k]; !set {
			config[k] = v
		}
	}
	return top, config
}

// idpTopValue reads a top-level field of a provider as read.
func idpTopValue(cur *IdPRep, json string) any {
	switch json {
	case "displayName":
		return cur.DisplayName
	case "enabled":
		return cur.Enabled
	case "trustEmail":
		return cur.TrustEmail
	case "hideOnLogin":
		return cur.HideOnLogin
	case "firstBrokerLoginFlowAlias":
		return cur.FirstBrokerLoginFlowAlias
	}
	return nil
}

// identityProviders plans the file's providers and their mappers, and the
// prune of those ssoctl made that the file no longer names.
func (b *builder) identityProviders() error {
	is := b.st.IdPs
	if is == nil {
		is = &IdPState{Providers: map[string]*IdPRep{}, Mappers: map[string]map[string]*IdPMapperRep{}}
	}
	named := map[string]bool{}
	for i := range b.d.IdPs {
		p := &b.d.IdPs[i]
		named[p.Alias] = true
		b.name(idpRef(p.Alias))
		if err := b.checkIdPRefs(p); err != nil {
			return err
		}
		cur := is.Providers[p.Alias]
		if cur != nil && cur.ProviderID != p.Type {
			return &InputError{Key: p.Key + ".type", Msg: fmt.Sprintf("identity provider %s is a %s in realm %s; a provider's type cannot change: give the %s another alias", spec.Quote(p.Alias), cur.ProviderID, b.d.Realm, p.Type)}
		}
		if err := b.identityProvider(p, cur); err != nil {
			return err
		}
		b.idpMappers(p, cur, is.Mappers[p.Alias])
	}
	for _, alias := range slices.Sorted(maps.Keys(is.Providers)) {
		if named[alias] || !b.st.Owned.Has(idpRef(alias)) {
			continue
		}
		b.extra(b.change("identity-provider", alias, plan.Delete, stepPrune+2, nil, deleteIdP{Alias: alias}), idpRef(alias))
	}
	return nil
}

// identityProvider plans one provider's create or update.
func (b *builder) identityProvider(p *DesiredIdP, cur *IdPRep) error {
	top, config := idpWant(p)
	needsSecret := p.Type != "saml"
	if needsSecret && p.Secret == "" {
		err := &plan.MissingSecretError{Object: "identity provider " + p.Alias + " (its client secret)", Env: p.ClientSecretEnv}
		if b.o.ForApply {
			return err
		}
		b.p.Warn("%v; apply will stop before writing anything", err)
	}
	if cur == nil {
		var fields []plan.FieldDiff
		fields = append(fields, plan.FieldDiff{Field: "type", New: p.Type})
		for _, t := range idpTop {
			if v, ok := top[t.json]; ok && v != "" && v != false {
				fields = append(fields, plan.FieldDiff{Field: t.key, New: v})
			}
		}
		for _, k := range slices.Sorted(maps.Keys(config)) {
			fields = append(fields, plan.FieldDiff{Field: "config." + k, New: config[k]})
		}
		if needsSecret {
			fields = append(fields, plan.FieldDiff{Field: "client_secret", New: p.Secret, Secret: true})
		}
		body := map[string]any{"alias": p.Alias, "providerId": p.Type}
		maps.Copy(body, top)
		cfg := maps.Clone(config)
		if p.Type == "oidc" || p.Type == "keycloak-oidc" {
			for k, v := range map[string]string{"clientAuthMethod": "client_secret_post", "validateSignature": "true", "useJwksUrl": "true"} {
				if _, set := cfg[k]; !set {
					cfg[k] = v
				}
			}
		}
		body["config"] = cfg
		op := saveIdP{Alias: p.Alias, Body: body, Create: true}
		if needsSecret {
			op.Secret = p.Secret
		}
		b.p.Add(b.change("identity-provider", p.Alias, plan.Create, stepIdPs, fields, op))
		return nil
	}
	var fields []plan.FieldDiff
	body := maps.Clone(cur.Raw)
	cfg := map[string]any{}
	for k, v := range cur.Config {
		cfg[k] = v
	}
	for _, t := range idpTop {
		v, ok := top[t.json]
		if !ok {
			continue
		}
		if old := idpTopValue(cur, t.json); old != v {
			fields = append(fields, plan.FieldDiff{Field: t.key, Old: old, New: v})
			body[t.json] = v
		}
	}
	for _, k := range slices.Sorted(maps.Keys(config)) {
		if old, ok := cur.Config[k]; !ok || old != config[k] {
			fields = append(fields, plan.FieldDiff{Field: "config." + k, Old: nilIfEmpty(old), New: config[k]})
			cfg[k] = config[k]
		}
	}
	op := saveIdP{Alias: p.Alias}
	if needsSecret && p.Secret != "" {
		fp := b.attribute(b.st.RealmRep, IdPFingerprintAttribute(p.Alias))
		if cur.Config["clientSecret"] == "" || !fingerprintMatches(fp, p.Secret) {
			var old any
			switch {
			case cur.Config["clientSecret"] == "":
			case fp == "":
				old = "(set, not by ssoctl)"
			default:
				old = "(differs)"
			}
			fields = append(fields, plan.FieldDiff{Field: "client_secret", Old: old, New: p.Secret, Secret: true})
			op.Secret = p.Secret
		}
	}
	action := plan.NoOp
	if len(fields) > 0 {
		action = plan.Update
		body["config"] = cfg
		op.Body = body
	}
	b.p.Add(b.change("identity-provider", p.Alias, action, stepIdPs, fields, op))
	return nil
}

// checkIdPRefs checks what a provider names in the realm: its first broker
// login flow and the groups of its mappers.
func (b *builder) checkIdPRefs(p *DesiredIdP) error {
	if f := p.FirstBrokerLoginFlow; f != "" && !slices.Contains(spec.BuiltinFlows, f) &&
		!slices.ContainsFunc(b.d.Flows, func(sf spec.Flow) bool { return sf.Alias == f }) &&
		(b.st.Auth == nil || b.st.Auth.Flows[f] == nil) {
		return &InputError{Key: p.Key + ".first_broker_login_flow", Msg: fmt.Sprintf("identity provider %s: first broker login flow %s is neither in realm %s nor among the file's flows", spec.Quote(p.Alias), spec.Quote(f), b.d.Realm)}
	}
	groups := desiredGroupPaths(b.d.Groups)
	for j, m := range p.Mappers {
		g := ""
		switch {
		case m.ClaimToGroup != nil:
			g = m.ClaimToGroup.Group
		case m.HardcodedGroup != nil:
			g = m.HardcodedGroup.Group
		case m.AttributeToGroup != nil:
			g = m.AttributeToGroup.Group
		}
		path := strings.TrimPrefix(g, "/")
		if g != "" && !groups[path] && b.st.Groups[path] == nil {
			return &InputError{Key: fmt.Sprintf("%s.mappers[%d]", p.Key, j), Msg: fmt.Sprintf("identity provider %s: group %s is neither in realm %s nor among the file's groups", spec.Quote(p.Alias), spec.Quote(g), b.d.Realm)}
		}
	}
	return nil
}

// desiredGroupPaths are the paths (no leading slash) of the file's groups
// and the parents they imply.
func desiredGroupPaths(gs []spec.Group) map[string]bool {
	out := map[string]bool{}
	for _, g := range gs {
		p := strings.Trim(g.Name, "/")
		for p != "" {
			out[p] = true
			i := strings.LastIndexByte(p, '/')
			if i < 0 {
				break
			}
			p = p[:i]
		}
	}
	return out
}

// idpMapperWant is the file's mapper as Keycloak's type and config.
func (b *builder) idpMapperWant(p *DesiredIdP, m *spec.IdPMapper) (typ string, config map[string]string) {
	config = map[string]string{"syncMode": "INHERIT"}
	pairs := func(k, v string) string {
		data, _ := json.Marshal([]map[string]string{{"key": k, "value": v}})
		return string(data)
	}
	switch {
	case m.ClaimToGroup != nil:
		c := m.ClaimToGroup
		typ = "oidc-advanced-group-idp-mapper"
		config["claims"], config["group"], config["are.claim.values.regex"] = pairs(c.Claim, c.Value), c.Group, "false"
	case m.ClaimToRole != nil:
		c := m.ClaimToRole
		typ = "oidc-role-idp-mapper"
		config["claim"], config["claim.value"], config["role"] = c.Claim, c.Value, b.kcRole(c.Role)
	case m.Attribute != nil && p.Type == "saml":
		typ = "saml-user-attribute-idp-mapper"
		config["attribute.name"], config["user.attribute"] = m.Attribute.Attribute, m.Attribute.UserAttribute
	case m.Attribute != nil:
		typ = "oidc-user-attribute-idp-mapper"
		config["claim"], config["user.attribute"] = m.Attribute.Claim, m.Attribute.UserAttribute
	case m.HardcodedGroup != nil:
		typ = "oidc-hardcoded-group-idp-mapper"
		config["group"] = m.HardcodedGroup.Group
	case m.AttributeToGroup != nil:
		a := m.AttributeToGroup
		typ = "saml-advanced-group-idp-mapper"
		config["attributes"], config["group"], config["are.attribute.values.regex"] = pairs(a.Attribute, a.Value), a.Group, "false"
	}
	return typ, config
}

// kcRole turns the file's role reference (a realm role, or CLIENT/ROLE as
// spec.SplitRoleRef reads it) into the mappers' CLIENT.ROLE notation.
func (b *builder) kcRole(ref string) string {
	client, role := spec.SplitRoleRef(ref, func(cid string) bool { return b.d.client(cid) != nil || b.st.Clients[cid] != nil })
	if client == "" {
		return role
	}
	return client + "." + role
}

// idpMappers plans one provider's mappers by name.
func (b *builder) idpMappers(p *DesiredIdP, cur *IdPRep, live map[string]*IdPMapperRep) {
	named := map[string]bool{}
	for j := range p.Mappers {
		m := &p.Mappers[j]
		name := m.MapperName()
		named[name] = true
		ref := idpMapperRef(p.Alias, name)
		b.name(ref)
		typ, config := b.idpMapperWant(p, m)
		obj := p.Alias + "/" + name
		l := live[name]
		if cur == nil || l == nil {
			fields := []plan.FieldDiff{{Field: "type", New: typ}}
			for _, k := range slices.Sorted(maps.Keys(config)) {
				fields = append(fields, plan.FieldDiff{Field: "config." + k, New: config[k]})
			}
			rep := &IdPMapperRep{Name: name, Alias: p.Alias, Type: typ, Config: config}
			b.p.Add(b.change("idp-mapper", obj, plan.Create, stepIdPMappers, fields, saveIdPMapper{Rep: rep}))
			continue
		}
		if l.Type != typ {
			// A mapper holds no users: its type changes by a new one.
			b.p.Add(b.change("idp-mapper", obj, plan.Update, stepIdPMappers, []plan.FieldDiff{{Field: "type", Old: l.Type, New: typ}},
				replaceIdPMapper{Old: l.ID, Rep: &IdPMapperRep{Name: name, Alias: p.Alias, Type: typ, Config: config}}))
			continue
		}
		var fields []plan.FieldDiff
		rep := &IdPMapperRep{ID: l.ID, Name: name, Alias: p.Alias, Type: typ, Config: maps.Clone(l.Config)}
		if rep.Config == nil {
			rep.Config = map[string]string{}
		}
		for _, k := range slices.Sorted(maps.Keys(config)) {
			if old, ok := l.Config[k]; !ok || old != config[k] {
				fields = append(fields, plan.FieldDiff{Field: "config." + k, Old: nilIfEmpty(old), New: config[k]})
				rep.Config[k] = config[k]
			}
		}
		action := plan.NoOp
		if len(fields) > 0 {
			action = plan.Update
		}
		b.p.Add(b.change("idp-mapper", obj, action, stepIdPMappers, fields, saveIdPMapper{Rep: rep}))
	}
	if cur == nil || b.d.Partial {
		return
	}
	for _, name := range slices.Sorted(maps.Keys(live)) {
		if named[name] {
			continue
		}
		ref := idpMapperRef(p.Alias, name)
		c := b.change("idp-mapper", p.Alias+"/"+name, plan.Delete, stepIdPMappers, nil, deleteIdPMapper{Alias: p.Alias, ID: live[name].ID})
		b.drop(ref, c, c)
	}
}

// idpGone tells gone about providers and their mappers.
func (st *State) idpGone(r plan.Ref) bool {
	if st.IdPs == nil {
		return false
	}
	switch r.Kind {
	case "idp":
		return st.IdPs.Providers[r.Name] == nil
	case "idp-mapper":
		return st.IdPs.Mappers[r.Scope][r.Name] == nil
	}
	return false
}

// ownsIdPs reports whether the ownership record lists a provider.
func ownsIdPs(o plan.Owned) bool {
	for r := range o {
		if r.Kind == "idp" {
			return true
		}
	}
	return false
}
