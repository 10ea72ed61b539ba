//go:build integration

package keycloak_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
	"github.com/ssoctl/ssoctl/testbed"
)

// The flows read from the realm's partial export are the flows read from
// the executions listings (the fallback when the export is refused): the
// same trees, configs, subflows and bindings, for the file's flows (one
// with a config, one copied from the registration flow with its
// form-flow) and Keycloak's built-in ones.
func TestIntegrationFlowsExportReadMatchesListings(t *testing.T) {
	env := testbed.Load(t)
	cnt := &counter{base: http.DefaultTransport}
	hc := &http.Client{Transport: cnt, Timeout: time.Minute}
	admin := keycloak.NewAdmin(env.KeycloakURL, hc, keycloak.Credentials{Username: env.KeycloakAdmin, Password: env.KeycloakAdminPassword, Source: "testbed"})
	realm := fmt.Sprintf("hflow-kc-%d", time.Now().UnixNano()%1e8)
	t.Cleanup(func() { env.DeleteRealm(context.Background(), realm) })
	f, err := spec.Parse("sso.yaml", []byte(`keycloak:
  url: `+env.KeycloakURL+`
  realm: `+realm+`
  create_realm: true
  flows:
    - alias: browser-otp
      executions:
        - {authenticator: auth-cookie, requirement: ALTERNATIVE}
        - subflow: browser-otp-forms
          requirement: ALTERNATIVE
          description: the forms
          executions:
            - {authenticator: auth-username-password-form}
            - subflow: browser-otp-conditional
              requirement: CONDITIONAL
              executions:
                - {authenticator: conditional-user-configured}
                - {authenticator: auth-otp-form}
    - alias: idp-first
      executions:
        - {authenticator: identity-provider-redirector, requirement: ALTERNATIVE, config: {defaultProvider: corp}, config_alias: corp-first}
        - subflow: idp-first-forms      # auth-username-password-form allows only REQUIRED
          requirement: ALTERNATIVE
          executions:
            - {authenticator: auth-username-password-form}
    - alias: my-registration
      copy_of: registration
  bindings: {browser: browser-otp, registration: my-registration}
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	out, err := admin.Plan(ctx, f.Keycloak, keycloak.PlanOptions{ForApply: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := out.Plan.Execute(ctx, 8, nil); err != nil {
		t.Fatalf("apply: %v", err)
	}
	bulk, err := admin.ReadState(ctx, realm, keycloak.ReadOptions{Flows: true})
	if err != nil {
		t.Fatal(err)
	}
	each, err := admin.ReadState(ctx, realm, keycloak.ReadOptions{Flows: true, PerObject: true})
	if err != nil {
		t.Fatal(err)
	}
	if bulk.Auth == nil || each.Auth == nil {
		t.Fatalf("flows not read: %v %v", bulk.Auth, each.Auth)
	}
	// Keycloak 26.7.3's flow listing hides its built-in top-level flow
	// "saml ecp", which the export holds.
	if f := bulk.Auth.Flows["saml ecp"]; f == nil || !f.BuiltIn || each.Auth.Flows["saml ecp"] != nil {
		t.Errorf("saml ecp: in the export %v, in the listing %v", f != nil, each.Auth.Flows["saml ecp"] != nil)
	}
	delete(bulk.Auth.Flows, "saml ecp")
	if !reflect.DeepEqual(bulk.Auth, each.Auth) {
		for alias := range each.Auth.Flows {
			jb, _ := json.Marshal(bulk.Auth.Flows[alias])
			je, _ := json.Marshal(each.Auth.Flows[alias])
			if !reflect.DeepEqual(bulk.Auth.Flows[alias], each.Auth.Flows[alias]) {
				t.Logf("flow %s: not deeply equal:\n%#v\n%#v", alias, bulk.Auth.Flows[alias], each.Auth.Flows[alias])
			}
			if string(jb) != string(je) {
				t.Errorf("flow %s:\n export:   %s\n listings: %s", alias, jb, je)
			}
		}
		for alias := range bulk.Auth.Flows {
			if each.Auth.Flows[alias] == nil {
				t.Errorf("flow %s: only in the export", alias)
			}
		}
		if !reflect.DeepEqual(bulk.Auth.Bindings, each.Auth.Bindings) {
			t.Errorf("bindings differ")
		}
		if !reflect.DeepEqual(bulk.Auth.Subflows, each.Auth.Subflows) {
			t.Errorf("subflows:\n export:   %v\n listings: %v", bulk.Auth.Subflows, each.Auth.Subflows)
		}
		t.Fatalf("the export's flows differ from the listings' (bindings %v / %v)", bulk.Auth.Bindings, each.Auth.Bindings)
	}
	if got := bulk.Auth.Bindings["browserFlow"] + "," + bulk.Auth.Bindings["registrationFlow"]; got != "browser-otp,my-registration" {
		t.Fatalf("bindings %s", got)
	}
	// Re-planned from either read: nothing to do.
	for _, po := range []bool{false, true} {
		out, err := admin.Plan(ctx, f.Keycloak, keycloak.PlanOptions{ForApply: true, PerObject: po})
		if err != nil {
			t.Fatal(err)
		}
		if out.Plan.HasChanges() {
			var b strings.Builder
			out.Plan.WriteText(&b, plan.RenderOptions{})
			t.Fatalf("per object %v: a re-plan has changes:\n%s", po, b.String())
		}
	}
}
