package keycloak

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/Nerzal/gocloak/v13"

	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
)

// Authentication flows and their bindings.
//
// Planning reads the flows from the realm's partial export, which holds
// every flow (top-level ones and subflows, each with its executions by
// priority and the alias of each execution's config) and every
// authenticator config: a no-op plan makes no request for them. Apply
// changes a flow IN PLACE: it re-reads the flow's executions, matches them
// to the file level by level, keeps the executions that stay (and their
// ids), adds and deletes the others and sets every requirement and
// priority. Measured on Keycloak 26.7.3 (cmd/flows_integration_test.go):
// logins between their first and last form page survive such a change,
// and fail when the flow is deleted and re-created, or rebuilt beside the
// old one and the binding switched to the new one.

// flowStep is one execution of a flow, as ssoctl compares them: an
// authenticator, or a subflow with its own steps. The same type holds the
// file's executions and the realm's; the ids are the realm's, when read
// from an executions listing.
type flowStep struct {
	Authenticator string
	Subflow       string
	Requirement   string
	// Type (basic-flow, form-flow), Provider (a form-flow's form) and
	// Description are a subflow's.
	Type, Provider, Description string
	// Config nil is not managed (the file names none); ConfigAlias "" in
	// the file is any alias (a new config gets a default one).
	Config      map[string]string
	ConfigAlias string
	Steps       []flowStep
	// defaultAlias is the alias a new config of a file's step gets when
	// the file names none.
	defaultAlias string

	// Read from an executions listing: the execution's id, a subflow's
	// flow id, the config's id, the priority and the requirements the
	// execution offers.
	ID, FlowID, ConfigID string
	Priority             int
	Choices              []string
}

// key says whether two steps are the same execution: the same
// authenticator, or the same subflow (alias, type and form).
func (s *flowStep) key() string {
	if s.Subflow != "" {
		return "flow\x00" + s.Subflow + "\x00" + cmp.Or(s.Type, "basic-flow") + "\x00" + s.Provider
	}
	return "auth\x00" + s.Authenticator
}

// label is a step as the plan shows it: "auth-otp-form REQUIRED",
// "subflow browser-otp-forms ALTERNATIVE".
func (s *flowStep) label() string {
	if s.Subflow != "" {
		t := ""
		if s.Type == "form-flow" {
			t = " form-flow " + s.Provider
		}
		return "subflow " + s.Subflow + t + " " + s.Requirement
	}
	return s.Authenticator + " " + s.Requirement
}

// LiveFlow is a top-level flow of the realm as planning read it, its
// executions as a tree.
type LiveFlow struct {
	ID, Alias, Description string
	// ProviderID is basic-flow or client-flow.
	ProviderID string
	BuiltIn    bool
	Steps      []flowStep
}

// AuthState is the realm's authentication flows and their bindings, as
// planning reads them.
type AuthState struct {
	// Flows are the top-level flows by alias; Subflows every subflow's
	// alias (a subflow alias is unique in the realm too).
	Flows    map[string]*LiveFlow
	Subflows map[string]bool
	// Bindings are the realm's flow bindings by the realm field
	// (browserFlow, …), as flow aliases.
	Bindings map[string]string
}

// flowByID finds a top-level flow by id.
func (as *AuthState) flowByID(id string) *LiveFlow {
	for _, f := range as.Flows {
		if f.ID == id {
			return f
		}
	}
	return nil
}

// bindingFields maps the file's binding names to the realm's fields, in
// the order the plan shows them.
var bindingFields = []struct{ key, field string }{
	{"browser", "browserFlow"},
	{"registration", "registrationFlow"},
	{"direct_grant", "directGrantFlow"},
	{"reset_credentials", "resetCredentialsFlow"},
	{"client_authentication", "clientAuthenticationFlow"},
	{"docker_authentication", "dockerAuthenticationFlow"},
	{"first_broker_login", "firstBrokerLoginFlow"},
}

// defaultBindings are the bindings of a new realm (Keycloak 26).
var defaultBindings = map[string]string{
	"browserFlow": "browser", "registrationFlow": "registration", "directGrantFlow": "direct grant",
	"resetCredentialsFlow": "reset credentials", "clientAuthenticationFlow": "clients",
	"dockerAuthenticationFlow": "docker auth", "firstBrokerLoginFlow": "first broker login",
}

// bindingValues lists the file's bindings by realm field ("" not managed).
func bindingValues(b *spec.FlowBindings) map[string]string {
	if b == nil {
		return nil
	}
	v := map[string]string{
		"browserFlow": b.Browser, "registrationFlow": b.Registration, "directGrantFlow": b.DirectGrant,
		"resetCredentialsFlow": b.ResetCredentials, "clientAuthenticationFlow": b.ClientAuthentication,
		"dockerAuthenticationFlow": b.DockerAuthentication, "firstBrokerLoginFlow": b.FirstBrokerLogin,
	}
	maps.DeleteFunc(v, func(_, alias string) bool { return alias == "" })
	return v
}

// authExport is the part of a partial export that holds the flows; it is
// embedded in exportedRealm.
type authExport struct {
	AuthenticationFlows []exportedFlow   `json:"authenticationFlows"`
	AuthenticatorConfig []exportedConfig `json:"authenticatorConfig"`
	BrowserFlow         string           `json:"browserFlow"`
	RegistrationFlow    string           `json:"registrationFlow"`
	DirectGrantFlow     string           `json:"directGrantFlow"`
	ResetCredentials    string           `json:"resetCredentialsFlow"`
	ClientAuthFlow      string           `json:"clientAuthenticationFlow"`
	DockerAuthFlow      string           `json:"dockerAuthenticationFlow"`
	FirstBrokerLogin    string           `json:"firstBrokerLoginFlow"`
}

type exportedFlow struct {
	ID          string              `json:"id"`
	Alias       string              `json:"alias"`
	Description string              `json:"description"`
	ProviderID  string              `json:"providerId"`
	TopLevel    bool                `json:"topLevel"`
	BuiltIn     bool                `json:"builtIn"`
	Executions  []exportedExecution `json:"authenticationExecutions"`
}

type exportedExecution struct {
	Authenticator string `json:"authenticator"`
	IsFlow        bool   `json:"authenticatorFlow"`
	FlowAlias     string `json:"flowAlias"`
	Requirement   string `json:"requirement"`
	Priority      int    `json:"priority"`
	Config        string `json:"authenticatorConfig"` // the config's alias
}

type exportedConfig struct {
	ID     string            `json:"id"`
	Alias  string            `json:"alias"`
	Config map[string]string `json:"config"`
}

// authState builds the flows' trees from the export; nil when the export
// holds no flows (not the export this was written against).
func (e *authExport) authState() *AuthState {
	if len(e.AuthenticationFlows) == 0 {
		return nil
	}
	byAlias := map[string]*exportedFlow{}
	for i := range e.AuthenticationFlows {
		byAlias[e.AuthenticationFlows[i].Alias] = &e.AuthenticationFlows[i]
	}
	configs := map[string]*exportedConfig{}
	for i := range e.AuthenticatorConfig {
		configs[e.AuthenticatorConfig[i].Alias] = &e.AuthenticatorConfig[i]
	}
	as := &AuthState{Flows: map[string]*LiveFlow{}, Subflows: map[string]bool{}, Bindings: map[string]string{
		"browserFlow": e.BrowserFlow, "registrationFlow": e.RegistrationFlow, "directGrantFlow": e.DirectGrantFlow,
		"resetCredentialsFlow": e.ResetCredentials, "clientAuthenticationFlow": e.ClientAuthFlow,
		"dockerAuthenticationFlow": e.DockerAuthFlow, "firstBrokerLoginFlow": e.FirstBrokerLogin,
	}}
	var steps func(f *exportedFlow, depth int) []flowStep
	steps = func(f *exportedFlow, depth int) []flowStep {
		es := slices.Clone(f.Executions)
		slices.SortStableFunc(es, func(a, b exportedExecution) int { return a.Priority - b.Priority })
		var out []flowStep
		for _, x := range es {
			s := flowStep{Requirement: x.Requirement, Priority: x.Priority}
			if x.IsFlow {
				s.Subflow = x.FlowAlias
				if sub := byAlias[x.FlowAlias]; sub != nil && depth < spec.MaxFlowDepth+2 {
					s.Type, s.Description, s.FlowID = cmp.Or(sub.ProviderID, "basic-flow"), sub.Description, sub.ID
					s.Steps = steps(sub, depth+1)
				}
				if s.Type == "form-flow" {
					s.Provider = x.Authenticator
				}
			} else {
				s.Authenticator = x.Authenticator
				if c := configs[x.Config]; x.Config != "" && c != nil {
					s.ConfigAlias, s.Config, s.ConfigID = c.Alias, c.Config, c.ID
				}
			}
			out = append(out, s)
		}
		return out
	}
	for i := range e.AuthenticationFlows {
		f := &e.AuthenticationFlows[i]
		if !f.TopLevel {
			as.Subflows[f.Alias] = true
			continue
		}
		as.Flows[f.Alias] = &LiveFlow{ID: f.ID, Alias: f.Alias, Description: f.Description, ProviderID: cmp.Or(f.ProviderID, "basic-flow"),
			BuiltIn: f.BuiltIn, Steps: steps(f, 0)}
	}
	return as
}

// listedExecution is one entry of GET /authentication/flows/{alias}/executions:
// the flow's executions depth first, each with its level.
type listedExecution struct {
	ID          string   `json:"id"`
	Requirement string   `json:"requirement"`
	DisplayName string   `json:"displayName"`
	Description string   `json:"description"`
	Choices     []string `json:"requirementChoices"`
	IsFlow      bool     `json:"authenticationFlow"`
	ProviderID  string   `json:"providerId"`
	FlowID      string   `json:"flowId"`
	ConfigID    string   `json:"authenticationConfig"`
	Level       int      `json:"level"`
	Priority    int      `json:"priority"`
}

// listedTree turns an executions listing into steps. A subflow's alias is
// its displayName; a form-flow subflow lists its form as providerId, a
// basic-flow one none (measured on 26.7.3).
func listedTree(list []listedExecution) []flowStep {
	var build func(i *int, level int) []flowStep
	build = func(i *int, level int) []flowStep {
		var out []flowStep
		for *i < len(list) && list[*i].Level >= level {
			e := list[*i]
			if e.Level > level {
				// A level skipped: malformed; attach to nothing.
				*i++
				continue
			}
			*i++
			s := flowStep{Requirement: e.Requirement, ID: e.ID, Priority: e.Priority, Choices: e.Choices}
			if e.IsFlow {
				s.Subflow, s.Description, s.FlowID = e.DisplayName, e.Description, e.FlowID
				s.Type = "basic-flow"
				if e.ProviderID != "" {
					s.Type, s.Provider = "form-flow", e.ProviderID
				}
				s.Steps = build(i, level+1)
			} else {
				s.Authenticator, s.ConfigID = e.ProviderID, e.ConfigID
			}
			out = append(out, s)
		}
		return out
	}
	i := 0
	return build(&i, 0)
}

// readFlowListings reads the flows without the export (the fallback of
// ReadState): the top-level flows, each flow's executions listing, and
// the configs they name.
func (r *reader) readFlowListings() error {
	var flows []struct {
		ID          string `json:"id"`
		Alias       string `json:"alias"`
		Description string `json:"description"`
		ProviderID  string `json:"providerId"`
		BuiltIn     bool   `json:"builtIn"`
	}
	if err := r.get("/"+esc(r.realm)+"/authentication/flows", &flows); err != nil {
		return err
	}
	var realm map[string]any
	if err := r.get("/"+esc(r.realm), &realm); err != nil {
		return err
	}
	as := &AuthState{Flows: map[string]*LiveFlow{}, Subflows: map[string]bool{}, Bindings: map[string]string{}}
	for _, b := range bindingFields {
		as.Bindings[b.field], _ = realm[b.field].(string)
	}
	for _, f := range flows {
		var list []listedExecution
		if err := r.get("/"+esc(r.realm)+"/authentication/flows/"+esc(f.Alias)+"/executions", &list); err != nil {
			return err
		}
		lf := &LiveFlow{ID: f.ID, Alias: f.Alias, Description: f.Description, ProviderID: cmp.Or(f.ProviderID, "basic-flow"), BuiltIn: f.BuiltIn, Steps: listedTree(list)}
		if err := walkSteps(lf.Steps, func(s *flowStep) error {
			if s.Subflow != "" {
				as.Subflows[s.Subflow] = true
			}
			// As the export reads them: without the executions' ids and
			// choices.
			s.ID, s.Choices = "", nil
			if s.ConfigID == "" {
				return nil
			}
			var c exportedConfig
			if err := r.get("/"+esc(r.realm)+"/authentication/config/"+esc(s.ConfigID), &c); err != nil {
				return err
			}
			s.ConfigAlias, s.Config = c.Alias, c.Config
			return nil
		}); err != nil {
			return err
		}
		as.Flows[f.Alias] = lf
	}
	r.mu.Lock()
	r.st.Auth = as
	r.mu.Unlock()
	return nil
}

// walkSteps calls fn on every step, depth first.
func walkSteps(ss []flowStep, fn func(*flowStep) error) error {
	for i := range ss {
		if err := fn(&ss[i]); err != nil {
			return err
		}
		if err := walkSteps(ss[i].Steps, fn); err != nil {
			return err
		}
	}
	return nil
}

// desiredFlow is a file's flow as apply wants it.
type desiredFlow struct {
	Alias, Description, Type, CopyOf string
	// Steps nil with CopyOf: the flow is kept as the copy made.
	Steps []flowStep
	// Key is the flow's place in the file (keycloak.flows[0]).
	Key string
}

// expandFlows turns the file's flows into desired flows.
func expandFlows(fs []spec.Flow) []desiredFlow {
	var out []desiredFlow
	for i, f := range fs {
		out = append(out, desiredFlow{Alias: f.Alias, Description: f.Description, Type: cmp.Or(f.Type, "basic-flow"), CopyOf: f.CopyOf,
			Steps: expandSteps(f.Alias, f.Executions, map[string]int{}), Key: fmt.Sprintf("keycloak.flows[%d]", i)})
	}
	return out
}

// expandSteps turns one level of a file's executions into steps; seen
// counts each authenticator's configs in the flow, for default aliases.
func expandSteps(flow string, es []spec.Execution, seen map[string]int) []flowStep {
	var out []flowStep
	for _, e := range es {
		s := flowStep{Authenticator: e.Authenticator, Subflow: e.Subflow, Requirement: cmp.Or(strings.ToUpper(e.Requirement), "REQUIRED"),
			Description: e.Description, Config: e.Config, ConfigAlias: e.ConfigAlias}
		if e.Config != nil {
			seen[e.Authenticator]++
			s.defaultAlias = defaultConfigAlias(flow, e.Authenticator, seen[e.Authenticator])
		}
		if e.Subflow != "" {
			s.Type = cmp.Or(e.Type, "basic-flow")
			if s.Type == "form-flow" {
				s.Provider = cmp.Or(e.Provider, "registration-page-form")
			}
			s.Steps = expandSteps(flow, e.Executions, seen)
		}
		out = append(out, s)
	}
	return out
}

// defaultConfigAlias names a config the file does not name: the flow, the
// authenticator and, from its second config on in the flow, a number.
func defaultConfigAlias(flow, authenticator string, n int) string {
	if n <= 1 {
		return flow + "-" + authenticator
	}
	return fmt.Sprintf("%s-%s-%d", flow, authenticator, n)
}

// match pairs live and wanted steps by key, in order, keeping as many as
// a longest common subsequence allows. pairs[j] is the live index matched
// to want[j], or -1.
func match(live, want []flowStep) []int {
	n, m := len(live), len(want)
	l := make([][]int, n+1)
	for i := range l {
		l[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if live[i].key() == want[j].key() {
				l[i][j] = l[i+1][j+1] + 1
			} else {
				l[i][j] = max(l[i+1][j], l[i][j+1])
			}
		}
	}
	pairs := make([]int, m)
	for j := range pairs {
		pairs[j] = -1
	}
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case live[i].key() == want[j].key():
			pairs[j] = i
			i++
			j++
		case l[i+1][j] >= l[i][j+1]:
			i++
		default:
			j++
		}
	}
	return pairs
}

// compareSteps lists how the live steps differ from the wanted ones, with
// the file's paths (executions[1].executions[0].requirement).
func compareSteps(prefix string, live, want []flowStep) []plan.FieldDiff {
	var fs []plan.FieldDiff
	pairs := match(live, want)
	used := make([]bool, len(live))
	for _, i := range pairs {
		if i >= 0 {
			used[i] = true
		}
	}
	for i := range live {
		if !used[i] {
			fs = append(fs, plan.FieldDiff{Field: fmt.Sprintf("%s[%d]", prefix, i), Old: live[i].label()})
		}
	}
	for j, i := range pairs {
		key := fmt.Sprintf("%s[%d]", prefix, j)
		w := want[j]
		if i < 0 {
			fs = append(fs, plan.FieldDiff{Field: key, New: w.label()})
			fs = append(fs, createSteps(key+".executions", w.Steps)...)
			continue
		}
		fs = append(fs, compareStep(key, &live[i], &w)...)
	}
	return fs
}

// compareStep compares one matched step.
func compareStep(key string, l, w *flowStep) []plan.FieldDiff {
	var fs []plan.FieldDiff
	fs = plan.Diff(fs, key+".requirement", l.Requirement, w.Requirement)
	if w.Subflow != "" {
		if w.Description != "" {
			fs = plan.Diff(fs, key+".description", l.Description, w.Description)
		}
		return append(fs, compareSteps(key+".executions", l.Steps, w.Steps)...)
	}
	if w.Config != nil {
		if w.ConfigAlias != "" {
			fs = plan.Diff(fs, key+".config_alias", l.ConfigAlias, w.ConfigAlias)
		}
		for _, k := range slices.Sorted(maps.Keys(w.Config)) {
			old, ok := l.Config[k]
			if !ok || old != w.Config[k] {
				var o any
				if ok {
					o = old
				}
				fs = append(fs, plan.FieldDiff{Field: key + ".config." + k, Old: o, New: w.Config[k]})
			}
		}
		for _, k := range slices.Sorted(maps.Keys(l.Config)) {
			if _, ok := w.Config[k]; !ok {
				fs = append(fs, plan.FieldDiff{Field: key + ".config." + k, Old: l.Config[k]})
			}
		}
	}
	return fs
}

// createSteps lists the steps of a new flow or subflow.
func createSteps(prefix string, want []flowStep) []plan.FieldDiff {
	var fs []plan.FieldDiff
	for j, w := range want {
		key := fmt.Sprintf("%s[%d]", prefix, j)
		fs = append(fs, plan.FieldDiff{Field: key, New: w.label()})
		for _, k := range slices.Sorted(maps.Keys(w.Config)) {
			fs = append(fs, plan.FieldDiff{Field: key + ".config." + k, New: w.Config[k]})
		}
		fs = append(fs, createSteps(key+".executions", w.Steps)...)
	}
	return fs
}

// flowRef names a top-level flow in the ownership record and the id
// registry.
func flowRef(alias string) plan.Ref { return plan.Ref{Kind: "flow", Name: alias} }

// stepFlows is when flows are created and changed: with the realm roles,
// before the clients that override their flows and the realm bindings.
const stepFlows = stepRoles

// flows plans the file's flows, the realm's bindings and the prune of the
// flows ssoctl created that the file no longer names.
func (b *builder) flows() error {
	as := b.st.Auth
	if as == nil {
		as = &AuthState{Flows: map[string]*LiveFlow{}, Subflows: map[string]bool{}, Bindings: map[string]string{}}
	}
	want := expandFlows(b.d.Flows)
	named := map[string]bool{}
	for _, f := range want {
		named[f.Alias] = true
		b.name(flowRef(f.Alias))
		cur := as.Flows[f.Alias]
		if err := b.checkSubflowAliases(f, cur, as); err != nil {
			return err
		}
		if cur == nil {
			if f.CopyOf != "" && as.Flows[f.CopyOf] == nil && (b.st.RealmExists || !slices.Contains(spec.BuiltinFlows, f.CopyOf)) {
				return &InputError{Key: f.Key + ".copy_of", Msg: fmt.Sprintf("flow %s: copy_of names flow %s, which realm %s does not have", spec.Quote(f.Alias), spec.Quote(f.CopyOf), b.d.Realm)}
			}
			if as.Subflows[f.Alias] {
				return &InputError{Key: f.Key + ".alias", Msg: fmt.Sprintf("flow alias %s is a subflow's in realm %s: flow aliases are unique in a realm", spec.Quote(f.Alias), b.d.Realm)}
			}
			fields := []plan.FieldDiff{}
			if f.CopyOf != "" {
				fields = append(fields, plan.FieldDiff{Field: "copy_of", New: f.CopyOf})
			}
			if f.Description != "" {
				fields = append(fields, plan.FieldDiff{Field: "description", New: f.Description})
			}
			fields = append(fields, plan.FieldDiff{Field: "type", New: f.Type})
			fields = append(fields, createSteps("executions", f.Steps)...)
			b.p.Add(b.change("flow", f.Alias, plan.Create, stepFlows, fields, syncFlow{Flow: f}))
			continue
		}
		if cur.BuiltIn {
			return &InputError{Key: f.Key + ".alias", Msg: fmt.Sprintf("%s is a built-in flow of realm %s, which ssoctl never edits; copy it under another alias (copy_of)", spec.Quote(f.Alias), b.d.Realm)}
		}
		if cur.ProviderID != f.Type {
			return &InputError{Key: f.Key + ".type", Msg: fmt.Sprintf("flow %s is a %s in realm %s; a flow's type cannot change: give the %s another alias", spec.Quote(f.Alias), cur.ProviderID, b.d.Realm, f.Type)}
		}
		var fields []plan.FieldDiff
		if f.Description != "" {
			fields = plan.Diff(fields, "description", cur.Description, f.Description)
		}
		if f.Steps != nil {
			fields = append(fields, compareSteps("executions", cur.Steps, f.Steps)...)
		}
		action := plan.NoOp
		if len(fields) > 0 {
			action = plan.Update
		}
		b.p.Add(b.change("flow", f.Alias, action, stepFlows, fields, syncFlow{Flow: f}))
	}
	if err := b.flowBindings(as, named); err != nil {
		return err
	}
	if b.d.Partial {
		return nil
	}
	bound := b.boundFlows(as)
	for _, alias := range slices.Sorted(maps.Keys(as.Flows)) {
		f := as.Flows[alias]
		if named[alias] || f.BuiltIn || !b.st.Owned.Has(flowRef(alias)) {
			continue
		}
		c := b.change("flow", alias, plan.Delete, stepPrune+2, nil, deleteFlow{Alias: alias, ID: f.ID})
		if by := bound[alias]; by != "" && b.mine[flowRef(alias)] {
			// Kept in the record: pruned once nothing binds it.
			b.p.Warn("keycloak flow %q: no longer in the file, but %s binds it; it is not pruned until nothing does", alias, by)
			continue
		}
		b.extra(c, flowRef(alias))
	}
	return nil
}

// boundFlows says what binds each flow after this plan: the realm's
// bindings as the file leaves them, and the clients' overrides.
func (b *builder) boundFlows(as *AuthState) map[string]string {
	bound := map[string]string{}
	want := bindingValues(b.d.Bindings)
	for _, bf := range bindingFields {
		alias := cmp.Or(want[bf.field], as.Bindings[bf.field])
		if alias != "" && bound[alias] == "" {
			bound[alias] = "the realm's " + bf.key + " binding"
		}
	}
	// A client's override, as the file leaves it. Keycloak 26.7.3
	// answers 500 to the deletion of a flow a client's override names.
	for _, c := range b.d.Clients {
		for _, o := range clientOverrides(c.Flows) {
			if o.alias != "" && bound[o.alias] == "" {
				bound[o.alias] = "client " + c.ClientID
			}
		}
	}
	for _, cid := range slices.Sorted(maps.Keys(b.st.Clients)) {
		dc := b.d.client(cid)
		for key, id := range deref(b.st.Clients[cid].AuthenticationFlowBindingOverrides) {
			if dc != nil && slices.ContainsFunc(clientOverrides(dc.Flows), func(o clientOverride) bool { return o.key == key }) {
				continue
			}
			if f := as.flowByID(id); f != nil && bound[f.Alias] == "" {
				bound[f.Alias] = "client " + cid
			}
		}
	}
	return bound
}

// flowBindings plans the realm's flow bindings: one change with the fields
// that differ. A binding names a flow of the file or of the realm.
func (b *builder) flowBindings(as *AuthState, named map[string]bool) error {
	want := bindingValues(b.d.Bindings)
	if len(want) == 0 {
		return nil
	}
	var fields []plan.FieldDiff
	body := map[string]any{}
	for _, bf := range bindingFields {
		alias, ok := want[bf.field]
		if !ok {
			continue
		}
		exists := named[alias] || as.Flows[alias] != nil || (!b.st.RealmExists && slices.Contains(spec.BuiltinFlows, alias))
		if !exists {
			return &InputError{Key: "keycloak.bindings." + bf.key, Msg: fmt.Sprintf("bindings.%s names flow %s, which neither the file nor realm %s has", bf.key, spec.Quote(alias), b.d.Realm)}
		}
		cur := as.Bindings[bf.field]
		if !b.st.RealmExists {
			cur = defaultBindings[bf.field]
		}
		if cur != alias {
			fields = append(fields, plan.FieldDiff{Field: bf.field, Old: cur, New: alias})
			body[bf.field] = alias
		}
	}
	action := plan.NoOp
	if len(fields) > 0 {
		action = plan.Update
	}
	b.p.Add(b.change("flow-bindings", "realm", action, stepClients, fields, setBindings{Body: body}))
	return nil
}

// clientFlowDiff compares a client's flow overrides with the file's; the
// client's overrides are flow ids, the file's aliases.
func (b *builder) clientFlowDiff(d DesiredClient, cur *gocloak.Client) []plan.FieldDiff {
	if d.Flows == nil {
		return nil
	}
	have := map[string]string{}
	if cur != nil {
		for k, id := range deref(cur.AuthenticationFlowBindingOverrides) {
			have[k] = id
			if b.st.Auth != nil {
				if f := b.st.Auth.flowByID(id); f != nil {
					have[k] = f.Alias
				}
			}
		}
	}
	var fs []plan.FieldDiff
	for _, o := range clientOverrides(d.Flows) {
		fs = plan.Diff(fs, "flows."+o.key, have[o.key], o.alias)
	}
	return fs
}

// clientOverride is one override a file sets on a client: the override's
// key (browser, direct_grant) and the flow alias ("" removes it).
type clientOverride struct{ key, alias string }

func clientOverrides(f *spec.ClientFlows) []clientOverride {
	var out []clientOverride
	if f == nil {
		return nil
	}
	if f.Browser != nil {
		out = append(out, clientOverride{"browser", *f.Browser})
	}
	if f.DirectGrant != nil {
		out = append(out, clientOverride{"direct_grant", *f.DirectGrant})
	}
	return out
}

// checkClientFlows refuses a client override naming a flow neither the
// file nor the realm has.
func (b *builder) checkClientFlows() error {
	named := map[string]bool{}
	for _, f := range b.d.Flows {
		named[f.Alias] = true
	}
	for _, c := range b.d.Clients {
		for _, o := range clientOverrides(c.Flows) {
			if o.alias == "" || named[o.alias] || (b.st.Auth != nil && b.st.Auth.Flows[o.alias] != nil) || (!b.st.RealmExists && slices.Contains(spec.BuiltinFlows, o.alias)) {
				continue
			}
			return &InputError{Key: c.Key + ".flows." + o.key, Msg: fmt.Sprintf("client %s: flows.%s names flow %s, which neither the file nor realm %s has", spec.Quote(c.ClientID), o.key, spec.Quote(o.alias), b.d.Realm)}
		}
	}
	return nil
}

// flowsDiffer reports whether the plan creates or changes a flow: only
// then does planning check authenticators with the server.
func flowsDiffer(p *plan.Plan) bool {
	for _, c := range p.Changes {
		if c.Kind == "flow" && (c.Action == plan.Create || c.Action == plan.Update) && c.System == "keycloak" {
			return true
		}
	}
	return false
}

// providerListings are the admin API's lists of what may be an execution.
var providerListings = []string{"authenticator-providers", "form-action-providers", "client-authenticator-providers"}

// checkFlowsWithServer checks the file's authenticators against what the
// server offers, and each requirement against the requirements the
// authenticator allows (requirementChoices, as the realm's executions
// listings show them; Keycloak itself accepts any requirement). Called
// only when some flow differs.
func (a *Admin) checkFlowsWithServer(ctx context.Context, d *Desired, st *State) error {
	// A realm still to be created has Keycloak's providers and built-in
	// flows: master's tell the same.
	realm := d.Realm
	if !st.RealmExists {
		realm = "master"
	}
	offered := map[string]bool{}
	for _, l := range providerListings {
		var ps []struct {
			ID string `json:"id"`
		}
		if err := a.get(ctx, "/"+esc(realm)+"/authentication/"+l, &ps); err != nil {
			if refused(err) {
				return nil // an admin who may not list them: Keycloak's own error at apply
			}
			return err
		}
		for _, p := range ps {
			offered[p.ID] = true
		}
	}
	var unknown error
	choices := map[string][]string{}
	needChoices := false
	for i, f := range d.Flows {
		_ = walkSpec(fmt.Sprintf("keycloak.flows[%d].executions", i), f.Executions, func(key string, e *spec.Execution) error {
			if e.Authenticator == "" || unknown != nil {
				return nil
			}
			if !offered[e.Authenticator] {
				unknown = &InputError{Key: key + ".authenticator", Msg: fmt.Sprintf("flow %s: Keycloak offers no authenticator %s; it offers %s", spec.Quote(f.Alias), spec.Quote(e.Authenticator), strings.Join(slices.Sorted(maps.Keys(offered)), ", "))}
			}
			needChoices = true
			return nil
		})
	}
	if unknown != nil {
		return unknown
	}
	if !needChoices {
		return nil
	}
	var flows []string
	if st.Auth != nil {
		flows = slices.Sorted(maps.Keys(st.Auth.Flows))
	} else {
		var top []struct {
			Alias string `json:"alias"`
		}
		if err := a.get(ctx, "/"+esc(realm)+"/authentication/flows", &top); err != nil {
			if refused(err) {
				return nil
			}
			return err
		}
		for _, f := range top {
			flows = append(flows, f.Alias)
		}
	}
	for _, alias := range flows {
		var list []listedExecution
		if err := a.get(ctx, "/"+esc(realm)+"/authentication/flows/"+esc(alias)+"/executions", &list); err != nil {
			if IsNotFound(err) {
				continue
			}
			return err
		}
		for _, e := range list {
			if !e.IsFlow && e.ProviderID != "" && len(e.Choices) > 0 {
				choices[e.ProviderID] = e.Choices
			}
		}
	}
	for i, f := range d.Flows {
		if err := walkSpec(fmt.Sprintf("keycloak.flows[%d].executions", i), f.Executions, func(key string, e *spec.Execution) error {
			req := cmp.Or(strings.ToUpper(e.Requirement), "REQUIRED")
			if cs, seen := choices[e.Authenticator]; e.Authenticator != "" && seen && !slices.Contains(cs, req) {
				return &InputError{Key: key + ".requirement", Msg: fmt.Sprintf("flow %s: authenticator %s cannot be %s; Keycloak allows %s", spec.Quote(f.Alias), e.Authenticator, req, strings.Join(cs, ", "))}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// walkSpec calls fn on every execution of a file's flow with its key.
func walkSpec(prefix string, es []spec.Execution, fn func(key string, e *spec.Execution) error) error {
	for j := range es {
		key := fmt.Sprintf("%s[%d]", prefix, j)
		if err := fn(key, &es[j]); err != nil {
			return err
		}
		if err := walkSpec(key+".executions", es[j].Executions, fn); err != nil {
			return err
		}
	}
	return nil
}

// usesFlows reports whether the file manages flows, bindings or a client's
// flow overrides.
func (d *Desired) usesFlows() bool {
	if len(d.Flows) > 0 || d.Bindings != nil {
		return true
	}
	for _, c := range d.Clients {
		if c.Flows != nil {
			return true
		}
	}
	return false
}

// bindFlows registers the realm's top-level flow ids.
func (x *executor) bindFlows(st *State) {
	if st.Auth == nil {
		return
	}
	for alias, f := range st.Auth.Flows {
		x.ids.Set(flowRef(alias), f.ID)
	}
}

// ownsFlows reports whether the ownership record lists a flow: planning
// then reads the flows (to prune them) even when the file names none.
func ownsFlows(o plan.Owned) bool {
	for r := range o {
		if r.Kind == "flow" {
			return true
		}
	}
	return false
}

// checkSubflowAliases refuses a subflow alias that another flow of the
// realm already uses (Keycloak refuses it when the subflow is added).
func (b *builder) checkSubflowAliases(f desiredFlow, cur *LiveFlow, as *AuthState) error {
	mine := map[string]bool{}
	if cur != nil {
		_ = walkSteps(slices.Clone(cur.Steps), func(s *flowStep) error {
			mine[s.Subflow] = true
			return nil
		})
	}
	return walkSteps(slices.Clone(f.Steps), func(s *flowStep) error {
		if s.Subflow != "" && !mine[s.Subflow] && (as.Subflows[s.Subflow] || as.Flows[s.Subflow] != nil) {
			return &InputError{Key: f.Key + ".executions", Msg: fmt.Sprintf("flow %s: subflow alias %s is taken in realm %s by another flow; flow aliases are unique in a realm", spec.Quote(f.Alias), spec.Quote(s.Subflow), b.d.Realm)}
		}
		return nil
	})
}
