package spec

import (
	"fmt"
	"slices"
	"strings"
)

// Limits of the realm's sections: a flow deeper or wider than these is a
// mistake, and Keycloak's admin console cannot show it either.
const (
	MaxFlows          = 100
	MaxFlowDepth      = 8
	MaxFlowExecutions = 200 // in one flow, its subflows' included

	// MaxRequiredActions, MaxRealmAttributes and MaxPasswordPolicy bound
	// required_actions, settings.attributes and settings.password_policy.
	MaxRequiredActions = 100
	MaxRealmAttributes = 200
	MaxPasswordPolicy  = 4096
)

// Requirements are an execution's requirements, as Keycloak names them.
var Requirements = []string{"REQUIRED", "ALTERNATIVE", "CONDITIONAL", "DISABLED"}

// BuiltinFlows are the top-level flows Keycloak 26 creates in every realm.
// They are never edited: copy_of starts a managed flow from one.
var BuiltinFlows = []string{"browser", "clients", "direct grant", "docker auth", "first broker login", "registration", "reset credentials"}

// durationCheck is one duration key of settings and its value.
type durationCheck struct {
	key string
	val *string
	// ms: Keycloak keeps it in milliseconds.
	ms bool
}

// realm checks settings:, required_actions:, flows: and bindings: for
// what needs no server; planning checks the rest (authenticators the
// server offers, the password policy, bindings to existing flows).
func (v *validator) realm(k *Keycloak) {
	if s := k.Settings; s != nil {
		v.settings(s)
	}
	if len(k.RequiredActions) > MaxRequiredActions {
		v.errorf("keycloak.required_actions", "%d required actions; at most %d", len(k.RequiredActions), MaxRequiredActions)
		return
	}
	seen := map[string]bool{}
	for i, ra := range k.RequiredActions {
		key := fmt.Sprintf("keycloak.required_actions[%d]", i)
		switch {
		case ra.Alias == "":
			v.errorf(key, "alias is required (CONFIGURE_TOTP, TERMS_AND_CONDITIONS, UPDATE_PASSWORD, …)")
		case seen[ra.Alias]:
			v.errorf(key+".alias", "required action %s is listed twice", Quote(ra.Alias))
		default:
			v.plainText(key+".alias", ra.Alias)
		}
		seen[ra.Alias] = true
		if ra.Default != nil && *ra.Default && ra.Enabled != nil && !*ra.Enabled {
			v.errorf(key, "a disabled required action cannot be a default one")
		}
	}
	if len(k.Flows) > MaxFlows {
		v.errorf("keycloak.flows", "%d flows; at most %d", len(k.Flows), MaxFlows)
		return
	}
	flows := map[string]bool{}
	for i := range k.Flows {
		f := &k.Flows[i]
		key := fmt.Sprintf("keycloak.flows[%d]", i)
		switch {
		case f.Alias == "":
			v.errorf(key, "alias is required")
			continue
		case slices.Contains(BuiltinFlows, f.Alias):
			v.errorf(key+".alias", "%s is one of Keycloak's built-in flows, which ssoctl never edits; copy it: alias: my-%s, copy_of: %s", Quote(f.Alias), strings.ReplaceAll(f.Alias, " ", "-"), f.Alias)
		case flows[f.Alias]:
			v.errorf(key+".alias", "flow %s is declared twice", Quote(f.Alias))
		}
		v.plainText(key+".alias", f.Alias)
		flows[f.Alias] = true
		if f.Type != "" && f.Type != "basic-flow" && f.Type != "client-flow" {
			v.errorf(key+".type", "want basic-flow or client-flow, got %s", Quote(f.Type))
		}
		if f.CopyOf == "" && len(f.Executions) == 0 {
			v.errorf(key, "a flow needs executions, or copy_of: a flow to start from")
		}
		n := 0
		v.executions(key+".executions", f.Executions, 1, &n, flows)
		if n > MaxFlowExecutions {
			v.errorf(key+".executions", "%d executions; at most %d in one flow", n, MaxFlowExecutions)
		}
	}
	for i, c := range k.Clients {
		if c.Flows != nil && c.Protocol == ProtocolSAML && c.Flows.DirectGrant != nil {
			v.errorf(fmt.Sprintf("keycloak.clients[%d].flows.direct_grant", i), "a SAML client has no direct grant flow")
		}
	}
}

// executions checks one level of a flow; subflow aliases share the realm's
// namespace of flow aliases, so they are collected in flows too.
func (v *validator) executions(key string, es []Execution, depth int, n *int, flows map[string]bool) {
	if depth > MaxFlowDepth {
		v.errorf(key, "subflows nest %d deep; at most %d", depth, MaxFlowDepth)
		return
	}
	for j := range es {
		e := &es[j]
		ekey := fmt.Sprintf("%s[%d]", key, j)
		*n++
		if *n > MaxFlowExecutions {
			return
		}
		switch {
		case e.Authenticator == "" && e.Subflow == "":
			v.errorf(ekey, "an execution names an authenticator: or a subflow:")
		case e.Authenticator != "" && e.Subflow != "":
			v.errorf(ekey, "an execution is an authenticator or a subflow, not both")
		}
		if e.Requirement == "" {
			e.Requirement = "REQUIRED"
		}
		e.Requirement = strings.ToUpper(e.Requirement)
		if !slices.Contains(Requirements, e.Requirement) {
			v.errorf(ekey+".requirement", "want one of %s, got %s", strings.Join(Requirements, ", "), Quote(e.Requirement))
		}
		if e.Authenticator != "" {
			v.plainText(ekey+".authenticator", e.Authenticator)
			if len(e.Executions) > 0 || e.Type != "" || e.Provider != "" || e.Description != "" {
				v.errorf(ekey, "executions:, type:, provider: and description: belong to a subflow, not to authenticator %s", Quote(e.Authenticator))
			}
			continue
		}
		if e.Subflow == "" {
			continue
		}
		v.plainText(ekey+".subflow", e.Subflow)
		if flows[e.Subflow] || slices.Contains(BuiltinFlows, e.Subflow) {
			v.errorf(ekey+".subflow", "flow alias %s is already taken: a subflow's alias is unique in the realm", Quote(e.Subflow))
		}
		flows[e.Subflow] = true
		switch e.Type {
		case "", "basic-flow":
			if e.Provider != "" {
				v.errorf(ekey+".provider", "provider: is a form-flow's form; set type: form-flow")
			}
		case "form-flow":
			if e.Provider == "" {
				e.Provider = "registration-page-form"
			}
		default:
			v.errorf(ekey+".type", "want basic-flow or form-flow, got %s", Quote(e.Type))
		}
		if len(e.Config) > 0 {
			v.errorf(ekey+".config", "a subflow has no configuration; configure its authenticators")
		}
		if e.Requirement == "CONDITIONAL" && len(e.Executions) > 0 && !strings.HasPrefix(e.Executions[0].Authenticator, "conditional-") {
			v.errorf(ekey+".executions[0]", "a CONDITIONAL subflow starts with its condition (conditional-user-configured, conditional-user-role, …), got %s", Quote(e.Executions[0].Authenticator+e.Executions[0].Subflow))
		}
		v.executions(ekey+".executions", e.Executions, depth+1, n, flows)
	}
}

// settings checks the realm settings' values.
func (v *validator) settings(s *RealmSettings) {
	var ds []durationCheck
	if t := s.Tokens; t != nil {
		ds = append(ds,
			durationCheck{"access_token_lifespan", t.AccessTokenLifespan, false},
			durationCheck{"access_token_lifespan_implicit", t.AccessTokenLifespanImplicit, false},
			durationCheck{"sso_session_idle", t.SSOSessionIdle, false},
			durationCheck{"sso_session_max", t.SSOSessionMax, false},
			durationCheck{"sso_session_idle_remember_me", t.SSOSessionIdleRememberMe, false},
			durationCheck{"sso_session_max_remember_me", t.SSOSessionMaxRememberMe, false},
			durationCheck{"client_session_idle", t.ClientSessionIdle, false},
			durationCheck{"client_session_max", t.ClientSessionMax, false},
			durationCheck{"offline_session_idle", t.OfflineSessionIdle, false},
			durationCheck{"offline_session_max", t.OfflineSessionMax, false},
			durationCheck{"access_code_lifespan", t.AccessCodeLifespan, false},
			durationCheck{"access_code_lifespan_login", t.AccessCodeLifespanLogin, false},
			durationCheck{"access_code_lifespan_user_action", t.AccessCodeLifespanAction, false},
			durationCheck{"action_token_lifespan_user", t.ActionTokenLifespanUser, false},
			durationCheck{"action_token_lifespan_admin", t.ActionTokenLifespanAdmin, false},
		)
		for i := range ds {
			ds[i].key = "keycloak.settings.tokens." + ds[i].key
		}
		if t.RefreshTokenMaxReuse != nil && *t.RefreshTokenMaxReuse < 0 {
			v.errorf("keycloak.settings.tokens.refresh_token_max_reuse", "want 0 or more, got %d", *t.RefreshTokenMaxReuse)
		}
	}
	if b := s.BruteForce; b != nil {
		for _, d := range []durationCheck{{"wait_increment", b.WaitIncrement, false}, {"max_wait", b.MaxWait, false}, {"failure_reset", b.FailureReset, false}, {"quick_login_check", b.QuickLoginCheck, true}, {"quick_login_wait", b.QuickLoginWait, false}} {
			d.key = "keycloak.settings.brute_force." + d.key
			ds = append(ds, d)
		}
		if b.MaxFailures != nil && *b.MaxFailures < 1 {
			v.errorf("keycloak.settings.brute_force.max_failures", "want 1 or more, got %d", *b.MaxFailures)
		}
	}
	if e := s.Events; e != nil && e.Expiration != nil {
		ds = append(ds, durationCheck{"keycloak.settings.events.expiration", e.Expiration, false})
	}
	for _, d := range ds {
		if d.val == nil {
			continue
		}
		n, err := Seconds(*d.val)
		switch {
		case err != nil:
			v.errorf(d.key, "%v", err)
		case n < 0:
			v.errorf(d.key, "a duration cannot be negative, got %s", Quote(*d.val))
		case d.ms && n > MaxKeycloakSeconds/1000:
			v.errorf(d.key, "%s is longer than Keycloak keeps (%d seconds)", Quote(*d.val), MaxKeycloakSeconds/1000)
		case n > MaxKeycloakSeconds:
			v.errorf(d.key, "%s is longer than Keycloak keeps (%d seconds, about 68 years)", Quote(*d.val), MaxKeycloakSeconds)
		}
	}
	if s.SSLRequired != nil && !slices.Contains([]string{"external", "none", "all"}, *s.SSLRequired) {
		v.errorf("keycloak.settings.ssl_required", "want external, none or all, got %s", Quote(*s.SSLRequired))
	}
	if o := s.OTPPolicy; o != nil {
		if o.Type != nil && *o.Type != "totp" && *o.Type != "hotp" {
			v.errorf("keycloak.settings.otp_policy.type", "want totp or hotp, got %s", Quote(*o.Type))
		}
		if o.Algorithm != nil && !slices.Contains([]string{"HmacSHA1", "HmacSHA256", "HmacSHA512"}, *o.Algorithm) {
			v.errorf("keycloak.settings.otp_policy.algorithm", "want HmacSHA1, HmacSHA256 or HmacSHA512, got %s", Quote(*o.Algorithm))
		}
		if o.Digits != nil && *o.Digits != 6 && *o.Digits != 8 {
			v.errorf("keycloak.settings.otp_policy.digits", "want 6 or 8 (what authenticator apps show), got %d", *o.Digits)
		}
		if o.Period != nil && (*o.Period < 1 || *o.Period > 600) {
			v.errorf("keycloak.settings.otp_policy.period", "want 1 to 600 seconds, got %d", *o.Period)
		}
		if o.LookAheadWindow != nil && (*o.LookAheadWindow < 0 || *o.LookAheadWindow > 10) {
			v.errorf("keycloak.settings.otp_policy.look_ahead_window", "want 0 to 10, got %d", *o.LookAheadWindow)
		}
	}
	if m := s.SMTP; m != nil {
		if m.Host == "" {
			v.errorf("keycloak.settings.smtp", "host is required")
		}
		if m.From == "" {
			v.errorf("keycloak.settings.smtp", "from is required (the sender address)")
		}
		if m.Port < 0 || m.Port > 65535 {
			v.errorf("keycloak.settings.smtp.port", "want a port from 1 to 65535, got %d", m.Port)
		}
		if m.User == "" && m.PasswordEnv != "" {
			v.errorf("keycloak.settings.smtp.password_env", "a password needs user: too")
		}
		if m.User != "" && m.PasswordEnv == "" {
			v.errorf("keycloak.settings.smtp", "user: needs password_env: (the variable holding the SMTP password)")
		}
	}
	if len(s.Attributes) > MaxRealmAttributes {
		v.errorf("keycloak.settings.attributes", "%d attributes; at most %d", len(s.Attributes), MaxRealmAttributes)
	}
	if p := s.PasswordPolicy; p != nil && len(*p) > MaxPasswordPolicy {
		v.errorf("keycloak.settings.password_policy", "the policy is %d characters long; at most %d", len(*p), MaxPasswordPolicy)
	}
	for name := range s.Attributes {
		if strings.HasPrefix(name, "ssoctl.") {
			v.errorf("keycloak.settings.attributes."+clip(name), "attributes named ssoctl.* are ssoctl's own records")
		}
	}
	if e := s.Events; e != nil {
		v.unique("keycloak.settings.events.types", e.Types)
	}
}
