package keycloak

import (
	"maps"
	"slices"

	"github.com/Nerzal/gocloak/v13"

	"github.com/ssoctl/ssoctl/spec"
)

// exportFlows writes the realm's own top-level flows (not the built-in
// ones) as the file's flows:, in alias order, and the bindings that
// differ from a new realm's.
func exportFlows(st *State, out *spec.Keycloak) {
	as := st.Auth
	if as == nil {
		return
	}
	for _, alias := range slices.Sorted(maps.Keys(as.Flows)) {
		f := as.Flows[alias]
		if f.BuiltIn {
			continue
		}
		sf := spec.Flow{Alias: alias, Description: f.Description, Executions: exportSteps(alias, f.Steps, map[string]int{})}
		if f.ProviderID != "basic-flow" {
			sf.Type = f.ProviderID
		}
		if len(sf.Executions) == 0 {
			// An empty flow: the file cannot say so (a flow needs
			// executions); a copy of itself is the nearest.
			continue
		}
		out.Flows = append(out.Flows, sf)
	}
	var b spec.FlowBindings
	set := map[string]*string{
		"browserFlow": &b.Browser, "registrationFlow": &b.Registration, "directGrantFlow": &b.DirectGrant,
		"resetCredentialsFlow": &b.ResetCredentials, "clientAuthenticationFlow": &b.ClientAuthentication,
		"dockerAuthenticationFlow": &b.DockerAuthentication, "firstBrokerLoginFlow": &b.FirstBrokerLogin,
	}
	some := false
	for _, bf := range bindingFields {
		if v := as.Bindings[bf.field]; v != "" && v != defaultBindings[bf.field] {
			*set[bf.field] = v
			some = true
		}
	}
	if some {
		out.Bindings = &b
	}
}

// exportSteps writes one level of a flow as the file's executions; a
// config alias is written only when it is not the one apply would give.
func exportSteps(flow string, ss []flowStep, seen map[string]int) []spec.Execution {
	var out []spec.Execution
	for _, s := range ss {
		e := spec.Execution{Authenticator: s.Authenticator, Subflow: s.Subflow, Requirement: s.Requirement}
		if s.Subflow != "" {
			e.Description = s.Description
			if s.Type == "form-flow" {
				e.Type = s.Type
				if s.Provider != "registration-page-form" {
					e.Provider = s.Provider
				}
			}
			e.Executions = exportSteps(flow, s.Steps, seen)
		} else if s.Config != nil {
			seen[s.Authenticator]++
			e.Config = maps.Clone(s.Config)
			if e.Config == nil {
				e.Config = map[string]string{}
			}
			if s.ConfigAlias != defaultConfigAlias(flow, s.Authenticator, seen[s.Authenticator]) {
				e.ConfigAlias = s.ConfigAlias
			}
		}
		out = append(out, e)
	}
	return out
}

// exportClientFlows writes a client's flow overrides by alias; nil when
// it has none (or only ones naming flows that are gone).
func exportClientFlows(st *State, c *gocloak.Client) *spec.ClientFlows {
	if st.Auth == nil {
		return nil
	}
	var cf spec.ClientFlows
	for k, id := range deref(c.AuthenticationFlowBindingOverrides) {
		f := st.Auth.flowByID(id)
		if f == nil {
			continue
		}
		alias := f.Alias
		switch k {
		case "browser":
			cf.Browser = &alias
		case "direct_grant":
			cf.DirectGrant = &alias
		}
	}
	if cf.Browser == nil && cf.DirectGrant == nil {
		return nil
	}
	return &cf
}
