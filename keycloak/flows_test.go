package keycloak

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/Nerzal/gocloak/v13"

	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
)

const otpFlow = `  flows:
    - alias: browser-otp
      description: cookie or password then OTP
      executions:
        - {authenticator: auth-cookie, requirement: ALTERNATIVE}
        - subflow: browser-otp-forms
          requirement: ALTERNATIVE
          executions:
            - {authenticator: auth-username-password-form}
            - subflow: browser-otp-conditional
              requirement: CONDITIONAL
              executions:
                - {authenticator: conditional-user-configured}
                - {authenticator: auth-otp-form}
`

// flowState is a realm whose flows are the file's as Keycloak would hold
// them after an apply, with the realm's default bindings, plus Keycloak's
// built-in browser flow.
func flowState(t *testing.T, d *Desired) *State {
	t.Helper()
	st := emptyState("demo", true)
	st.Auth = &AuthState{Flows: map[string]*LiveFlow{
		"browser": {ID: "id-browser", Alias: "browser", ProviderID: "basic-flow", BuiltIn: true},
	}, Subflows: map[string]bool{}, Bindings: map[string]string{}}
	for k, v := range defaultBindings {
		st.Auth.Bindings[k] = v
	}
	for _, f := range expandFlows(d.Flows) {
		st.Auth.Flows[f.Alias] = &LiveFlow{ID: "id-" + f.Alias, Alias: f.Alias, Description: f.Description, ProviderID: f.Type, Steps: f.Steps}
	}
	return st
}

func flowChanges(p *plan.Plan) []*plan.Change {
	var out []*plan.Change
	for _, c := range p.Changes {
		if c.Kind == "flow" && c.Action != plan.NoOp {
			out = append(out, c)
		}
	}
	return out
}

func fieldStrings(c *plan.Change) []string {
	var out []string
	for _, f := range c.Fields {
		out = append(out, f.Field+": "+renderAny(f.Old)+" -> "+renderAny(f.New))
	}
	return out
}

func renderAny(v any) string {
	if v == nil {
		return "(none)"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func TestMatchKeepsTheLongestCommonSubsequence(t *testing.T) {
	a := func(names ...string) []flowStep {
		var out []flowStep
		for _, n := range names {
			if sub, ok := strings.CutPrefix(n, "flow:"); ok {
				out = append(out, flowStep{Subflow: sub, Type: "basic-flow"})
				continue
			}
			out = append(out, flowStep{Authenticator: n})
		}
		return out
	}
	for _, tc := range []struct {
		live, want []string
		pairs      []int
	}{
		{[]string{"cookie", "flow:forms"}, []string{"cookie", "spnego", "flow:forms"}, []int{0, -1, 1}},
		{[]string{"cookie", "spnego", "flow:forms"}, []string{"cookie", "flow:forms"}, []int{0, 2}},
		{[]string{"a", "b", "c", "d"}, []string{"b", "a", "c", "d"}, []int{1, -1, 2, 3}},
		{[]string{"a", "a"}, []string{"a"}, []int{0}},
		{nil, []string{"a"}, []int{-1}},
		{[]string{"flow:x"}, []string{"x"}, []int{-1}}, // a subflow is not an authenticator of the same name
	} {
		if got := match(a(tc.live...), a(tc.want...)); !slices.Equal(got, tc.pairs) {
			t.Errorf("match(%v, %v) = %v, want %v", tc.live, tc.want, got, tc.pairs)
		}
	}
	// A subflow of another type is another execution.
	if got := match([]flowStep{{Subflow: "f", Type: "basic-flow"}}, []flowStep{{Subflow: "f", Type: "form-flow", Provider: "registration-page-form"}}); got[0] != -1 {
		t.Errorf("a form-flow does not match a basic-flow of the same alias: %v", got)
	}
}

func TestDiffFlowThatMatchesIsNoOp(t *testing.T) {
	d := desired(t, otpFlow+"  bindings: {browser: browser-otp}\n")
	st := flowState(t, d)
	st.Auth.Bindings["browserFlow"] = "browser-otp"
	p := mustDiff(t, d, st)
	if cs := flowChanges(p); len(cs) != 0 {
		t.Fatalf("a matching flow is a no-op, got %v", fieldStrings(cs[0]))
	}
	if c := find(t, p.Changes, "flow-bindings", "realm"); c.Action != plan.NoOp {
		t.Fatalf("bindings that match are a no-op: %v", c.Fields)
	}
	if flowsDiffer(p) {
		t.Fatal("no flow differs: no server check")
	}
}

func TestDiffFlowChangeIsOneChangeWithItsFields(t *testing.T) {
	d := desired(t, otpFlow)
	st := flowState(t, d)
	// The live flow lacks the OTP form and has the cookie REQUIRED.
	f := st.Auth.Flows["browser-otp"]
	f.Steps = slices.Clone(f.Steps)
	f.Steps[0].Requirement = "REQUIRED"
	forms := &f.Steps[1]
	forms.Steps = slices.Clone(forms.Steps)
	cond := &forms.Steps[1]
	cond.Steps = cond.Steps[:1]
	p := mustDiff(t, d, st)
	cs := flowChanges(p)
	if len(cs) != 1 || cs[0].Action != plan.Update {
		t.Fatalf("want one update of the flow, got %d", len(cs))
	}
	got := fieldStrings(cs[0])
	want := []string{
		`executions[0].requirement: "REQUIRED" -> "ALTERNATIVE"`,
		`executions[1].executions[1].executions[1]: (none) -> "auth-otp-form REQUIRED"`,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("fields:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !flowsDiffer(p) {
		t.Fatal("a flow differs: the server check runs")
	}
	if op, ok := cs[0].Op.(syncFlow); !ok || op.Flow.Alias != "browser-otp" || len(op.Flow.Steps) != 2 {
		t.Fatalf("op: %#v", cs[0].Op)
	}
}

func TestDiffFlowExtraExecutionAndConfig(t *testing.T) {
	d := desired(t, `  flows:
    - alias: idp-first
      executions:
        - {authenticator: identity-provider-redirector, requirement: ALTERNATIVE, config: {defaultProvider: corp}}
        - {authenticator: auth-username-password-form, requirement: ALTERNATIVE}
`)
	st := flowState(t, d)
	f := st.Auth.Flows["idp-first"]
	f.Steps = []flowStep{
		{Authenticator: "identity-provider-redirector", Requirement: "ALTERNATIVE", ConfigAlias: "x", Config: map[string]string{"defaultProvider": "old", "extra": "1"}},
		{Authenticator: "auth-spnego", Requirement: "DISABLED"},
		{Authenticator: "auth-username-password-form", Requirement: "ALTERNATIVE"},
	}
	cs := flowChanges(mustDiff(t, d, st))
	if len(cs) != 1 {
		t.Fatalf("want one change, got %d", len(cs))
	}
	got := fieldStrings(cs[0])
	want := []string{
		`executions[1]: "auth-spnego DISABLED" -> (none)`,
		`executions[0].config.defaultProvider: "old" -> "corp"`,
		`executions[0].config.extra: "1" -> (none)`,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("fields:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if a := cs[0].Op.(syncFlow).Flow.Steps[0].defaultAlias; a != "idp-first-identity-provider-redirector" {
		t.Errorf("default config alias %q", a)
	}
}

func TestDiffNewFlowAndBindingsInANewRealm(t *testing.T) {
	d := desired(t, otpFlow+"  bindings: {browser: browser-otp, direct_grant: direct grant}\n")
	p := mustDiff(t, d, emptyState("demo", false))
	c := find(t, p.Changes, "flow", "browser-otp")
	if c.Action != plan.Create || c.Step != stepFlows {
		t.Fatalf("flow: %s at step %d", c.Action, c.Step)
	}
	got := fieldStrings(c)
	if !slices.Contains(got, `executions[1].executions[1].executions[1]: (none) -> "auth-otp-form REQUIRED"`) || !slices.Contains(got, `type: (none) -> "basic-flow"`) {
		t.Fatalf("create fields: %v", got)
	}
	b := find(t, p.Changes, "flow-bindings", "realm")
	if b.Action != plan.Update || b.Step <= stepFlows || len(b.Fields) != 1 || b.Fields[0].Field != "browserFlow" {
		t.Fatalf("bindings: only the binding that differs from a new realm's, after the flows: %s %v step %d", b.Action, b.Fields, b.Step)
	}
	if body := b.Op.(setBindings).Body; len(body) != 1 || body["browserFlow"] != "browser-otp" {
		t.Fatalf("body %v", body)
	}
	if !named(t, d).Has(flowRef("browser-otp")) {
		t.Fatal("the flow joins the ownership record")
	}
}

func TestDiffBindingToAMissingFlowIsRefused(t *testing.T) {
	d := desired(t, "  bindings: {browser: nowhere}\n")
	_, err := Diff(d, flowState(t, d), DiffOptions{})
	var ie *InputError
	if !errors.As(err, &ie) || ie.Key != "keycloak.bindings.browser" || !strings.Contains(ie.Msg, `"nowhere"`) {
		t.Fatalf("want an InputError on keycloak.bindings.browser, got %v", err)
	}
	d = desired(t, "  clients:\n    - client_id: web\n      flows: {browser: nowhere}\n")
	_, err = Diff(d, flowState(t, d), DiffOptions{})
	if !errors.As(err, &ie) || ie.Key != "keycloak.clients[0].flows.browser" {
		t.Fatalf("want an InputError on keycloak.clients[0].flows.browser, got %v", err)
	}
}

func TestDiffClientFlowOverrideByID(t *testing.T) {
	d := desired(t, otpFlow+"  clients:\n    - client_id: web\n      flows: {browser: browser-otp, direct_grant: ''}\n")
	st := flowState(t, d)
	st.Clients["web"] = &gocloak.Client{ID: gocloak.StringP("uuid-web"), ClientID: gocloak.StringP("web"), Protocol: gocloak.StringP("openid-connect"),
		PublicClient: gocloak.BoolP(false), BearerOnly: gocloak.BoolP(false),
		AuthenticationFlowBindingOverrides: &map[string]string{"direct_grant": "id-browser"}}
	c := find(t, mustDiff(t, d, st).Changes, "client", "web")
	got := fieldStrings(c)
	want := []string{`flows.browser: "" -> "browser-otp"`, `flows.direct_grant: "browser" -> ""`}
	if !slices.Equal(got, want) {
		t.Fatalf("fields %v, want %v", got, want)
	}
	if op := c.Op.(updateClient); !slices.Equal(op.Flows, []clientOverride{{"browser", "browser-otp"}, {"direct_grant", ""}}) {
		t.Fatalf("overrides %v", op.Flows)
	}
	// Once set, by id, it is a no-op.
	(*st.Clients["web"].AuthenticationFlowBindingOverrides) = map[string]string{"browser": "id-browser-otp"}
	if c := find(t, mustDiff(t, d, st).Changes, "client", "web"); c.Action != plan.NoOp {
		t.Fatalf("override by id matches: %v", c.Fields)
	}
}

func TestDiffFlowPruneOnlyOwnedAndUnbound(t *testing.T) {
	d := desired(t, "  realm_roles: [r]\n")
	st := flowState(t, desired(t, otpFlow))
	st.Owned[flowRef("browser-otp")] = true
	p := mustDiff(t, d, st)
	if len(p.Prunable) != 1 || p.Prunable[0].Kind != "flow" || p.Prunable[0].Name != "demo/browser-otp" {
		t.Fatalf("an owned flow the file no longer names is prunable: %v", p.Prunable)
	}
	if op := p.Prunable[0].Op.(deleteFlow); op.ID != "id-browser-otp" {
		t.Fatalf("op %v", op)
	}
	// Bound, it is not pruned.
	st.Auth.Bindings["browserFlow"] = "browser-otp"
	p = mustDiff(t, d, st)
	if len(p.Prunable) != 0 || !strings.Contains(strings.Join(p.Warnings, "\n"), "binds it") {
		t.Fatalf("a bound flow is never pruned: %v %v", p.Prunable, p.Warnings)
	}
	// Not owned: listed as unmanaged, never pruned.
	delete(st.Owned, flowRef("browser-otp"))
	st.Auth.Bindings["browserFlow"] = "browser"
	p = mustDiff(t, d, st)
	if len(p.Prunable) != 0 {
		t.Fatalf("a flow made by hand is not pruned: %v", p.Prunable)
	}
}

func TestDiffFlowTypeCannotChange(t *testing.T) {
	d := desired(t, otpFlow)
	st := flowState(t, d)
	st.Auth.Flows["browser-otp"].ProviderID = "client-flow"
	_, err := Diff(d, st, DiffOptions{})
	var ie *InputError
	if !errors.As(err, &ie) || ie.Key != "keycloak.flows[0].type" {
		t.Fatalf("got %v", err)
	}
}

func TestListedTreeAndExportAgree(t *testing.T) {
	// The shapes measured on Keycloak 26.7.3.
	var list []listedExecution
	json.Unmarshal([]byte(`[
 {"id":"e1","requirement":"ALTERNATIVE","displayName":"Cookie","providerId":"auth-cookie","level":0,"index":0,"priority":10},
 {"id":"e2","requirement":"ALTERNATIVE","displayName":"f-forms","description":"","authenticationFlow":true,"flowId":"f2","level":0,"index":1,"priority":20},
 {"id":"e3","requirement":"REQUIRED","providerId":"auth-username-password-form","level":1,"index":0,"priority":10},
 {"id":"e4","requirement":"REQUIRED","displayName":"f-reg","authenticationFlow":true,"providerId":"registration-page-form","flowId":"f4","level":1,"index":1,"priority":20},
 {"id":"e5","requirement":"REQUIRED","providerId":"registration-user-creation","level":2,"index":0,"priority":10},
 {"id":"e6","requirement":"DISABLED","providerId":"auth-spnego","authenticationConfig":"c6","level":0,"index":2,"priority":30}]`), &list)
	var exp authExport
	json.Unmarshal([]byte(`{"browserFlow":"f","authenticationFlows":[
 {"id":"f1","alias":"f","providerId":"basic-flow","topLevel":true,"authenticationExecutions":[
   {"authenticator":"auth-spnego","requirement":"DISABLED","priority":30,"authenticatorConfig":"cfg"},
   {"authenticator":"auth-cookie","requirement":"ALTERNATIVE","priority":10},
   {"authenticatorFlow":true,"requirement":"ALTERNATIVE","priority":20,"flowAlias":"f-forms"}]},
 {"id":"f2","alias":"f-forms","description":"","providerId":"basic-flow","topLevel":false,"authenticationExecutions":[
   {"authenticator":"auth-username-password-form","requirement":"REQUIRED","priority":10},
   {"authenticator":"registration-page-form","authenticatorFlow":true,"requirement":"REQUIRED","priority":20,"flowAlias":"f-reg"}]},
 {"id":"f4","alias":"f-reg","providerId":"form-flow","topLevel":false,"authenticationExecutions":[
   {"authenticator":"registration-user-creation","requirement":"REQUIRED","priority":10}]}],
 "authenticatorConfig":[{"id":"c6","alias":"cfg","config":{"k":"v"}}]}`), &exp)
	as := exp.authState()
	listed := listedTree(list)
	listed[2].Config, listed[2].ConfigAlias = map[string]string{"k": "v"}, "cfg"
	if fs := compareSteps("executions", listed, as.Flows["f"].Steps); len(fs) != 0 {
		t.Fatalf("the listing and the export read as the same tree, differ in %v", fs)
	}
	if !as.Subflows["f-forms"] || !as.Subflows["f-reg"] || as.Flows["f-forms"] != nil || as.Bindings["browserFlow"] != "f" {
		t.Fatalf("auth state %+v", as)
	}
	if s := listed[1].Steps[1]; s.Type != "form-flow" || s.Provider != "registration-page-form" || s.Steps[0].Authenticator != "registration-user-creation" || s.ID != "e4" {
		t.Fatalf("form-flow subflow read as %+v", s)
	}
}

func TestDiffSubflowAliasTakenByAnotherFlow(t *testing.T) {
	d := desired(t, otpFlow)
	st := flowState(t, desired(t, "  realm_roles: [r]\n"))
	st.Auth.Subflows["browser-otp-conditional"] = true // another flow's subflow
	_, err := Diff(d, st, DiffOptions{})
	var ie *InputError
	if !errors.As(err, &ie) || !strings.Contains(ie.Msg, `"browser-otp-conditional" is taken`) {
		t.Fatalf("got %v", err)
	}
	// Its own subflows are no conflict.
	st = flowState(t, d)
	st.Auth.Subflows["browser-otp-conditional"] = true
	if _, err := Diff(d, st, DiffOptions{}); err != nil {
		t.Fatal(err)
	}
}

// examples/realm.yaml's flow and binding, planned for a new realm: the
// flow created with its six executions in file order, then bound.
func TestDiffExampleRealmFlow(t *testing.T) {
	f, err := spec.Load("../examples/realm.yaml", nil, func(k string) string {
		return map[string]string{"KEYCLOAK_URL": "http://kc", "SMTP_PASSWORD": "x"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	d := Expand(f.Keycloak, nil)
	p := mustDiff(t, d, emptyState(d.Realm, false))
	var c *plan.Change
	for _, ch := range p.Changes {
		if ch.Kind == "flow" {
			c = ch
		}
	}
	if c == nil || c.Action != plan.Create {
		t.Fatalf("no flow created: %v", c)
	}
	var steps []string
	for _, fd := range c.Fields {
		if strings.HasPrefix(fd.Field, "executions") {
			steps = append(steps, fd.Field+" "+fd.New.(string))
		}
	}
	want := []string{
		"executions[0] auth-cookie ALTERNATIVE",
		"executions[1] subflow browser-otp-forms ALTERNATIVE",
		"executions[1].executions[0] auth-username-password-form REQUIRED",
		"executions[1].executions[1] subflow browser-otp-conditional CONDITIONAL",
		"executions[1].executions[1].executions[0] conditional-user-configured REQUIRED",
		"executions[1].executions[1].executions[1] auth-otp-form REQUIRED",
	}
	if !slices.Equal(steps, want) {
		t.Fatalf("steps:\n%s", strings.Join(steps, "\n"))
	}
	var bound bool
	for _, ch := range p.Changes {
		if ch.Kind == "flow-bindings" && ch.Action == plan.Update && len(ch.Fields) == 1 && ch.Fields[0].New == "browser-otp" {
			bound = true
		}
	}
	if !bound {
		t.Fatal("the browser binding is not planned")
	}
}
