//go:build integration

package keycloak_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
	"github.com/ssoctl/ssoctl/testbed"
)

// bodyRecorder keeps every write's method, path and body.
type bodyRecorder struct {
	base   http.RoundTripper
	mu     sync.Mutex
	writes []string
	reads  int
}

func (b *bodyRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodGet || strings.HasSuffix(r.URL.Path, "/partial-export") {
		b.mu.Lock()
		b.reads++
		b.mu.Unlock()
	}
	if r.Method != http.MethodGet && !strings.HasSuffix(r.URL.Path, "/partial-export") && !strings.Contains(r.URL.Path, "/protocol/openid-connect/") {
		var body []byte
		if r.Body != nil {
			body, _ = io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		b.mu.Lock()
		b.writes = append(b.writes, r.Method+" "+r.URL.Path+" "+string(body))
		b.mu.Unlock()
	}
	return b.base.RoundTrip(r)
}

func (b *bodyRecorder) take() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	w := b.writes
	b.writes = nil
	return w
}

func carrying(writes []string, s string) int {
	n := 0
	for _, w := range writes {
		if strings.Contains(w, s) {
			n++
		}
	}
	return n
}

func ldapEnv(t *testing.T, env testbed.Env) (url, bindDN, password string) {
	env.NeedLDAP(t)
	return env.LDAPURL, env.LDAPBindDN, env.LDAPBindPassword
}

func TestIntegrationFederationInPlaceAndCredential(t *testing.T) {
	env := testbed.Load(t)
	ldapURL, bindDN, password := ldapEnv(t, env)
	rec := &bodyRecorder{base: http.DefaultTransport}
	hc := &http.Client{Transport: rec, Timeout: time.Minute}
	admin := keycloak.NewAdmin(env.KeycloakURL, hc, keycloak.Credentials{Username: env.KeycloakAdmin, Password: env.KeycloakAdminPassword, Source: "testbed"})
	realm := fmt.Sprintf("hfed-kc-%d", time.Now().UnixNano()%1e8)
	t.Cleanup(func() { env.DeleteRealm(context.Background(), realm) })
	vars := map[string]string{"LDAP_BIND_PASSWORD": password}
	getenv := func(k string) string { return vars[k] }
	file := func(changed string) *spec.Keycloak {
		f, err := spec.Parse("sso.yaml", []byte(`keycloak:
  url: `+env.KeycloakURL+`
  realm: `+realm+`
  create_realm: true
  clients:
    - client_id: vault
      redirect_uris: ["http://127.0.0.1:8250/oidc/callback"]
  user_federation:
    - name: corp-ldap
      vendor: other
      connection_url: `+ldapURL+`
      bind_dn: `+bindDN+`
      bind_credential_env: LDAP_BIND_PASSWORD
      users_dn: ou=people,dc=corp,dc=test
      username_attribute: uid
      rdn_attribute: uid
      uuid_attribute: entryUUID
      user_object_classes: [inetOrgPerson, organizationalPerson]
      edit_mode: READ_ONLY
      sync: {full_period: 1d, changed_period: `+changed+`, import_users: true}
      mappers:
        - group: {groups_dn: "ou=groups,dc=corp,dc=test", membership_attribute: member,
                  membership_type: DN, mode: READ_ONLY, preserve_inheritance: true}
        - attribute: {ldap: mail, user: email}
        - role: {roles_dn: "ou=roles,dc=corp,dc=test", client: vault}
`), getenv)
		if err != nil {
			t.Fatal(err)
		}
		return f.Keycloak
	}
	ctx := context.Background()
	apply := func(k *spec.Keycloak) *plan.Plan {
		t.Helper()
		out, err := admin.Plan(ctx, k, keycloak.PlanOptions{ForApply: true, Getenv: getenv})
		if err != nil {
			t.Fatal(err)
		}
		if err := out.Plan.Execute(ctx, 8, nil); err != nil {
			t.Fatalf("apply: %v", err)
		}
		return out.Plan
	}
	apply(file("5m"))
	if n := carrying(rec.take(), password); n != 1 {
		t.Fatalf("the first apply sent the bind password %d times, want 1", n)
	}
	// Keycloak syncs with the stored credential: the seeded users come.
	st, err := admin.ReadState(ctx, realm, keycloak.ReadOptions{Federations: true})
	if err != nil || st.Federations["corp-ldap"] == nil {
		t.Fatalf("federation not read back: %v %v", st, err)
	}
	fed := st.Federations["corp-ldap"]
	for _, m := range []string{"group ou=groups,dc=corp,dc=test", "email", "role vault"} {
		if fed.Mappers[m] == nil {
			t.Errorf("mapper %q missing", m)
		}
	}
	tests, err := admin.TestFederation(ctx, realm, "corp-ldap")
	if err != nil || len(tests) != 2 || tests[0].Err != "" || tests[1].Err != "" {
		t.Fatalf("federation test: %+v %v", tests, err)
	}
	res, err := admin.SyncFederation(ctx, realm, "corp-ldap", true)
	if err != nil {
		t.Fatal(err)
	}
	if res.Added < 4 || res.Failed != 0 {
		t.Fatalf("full sync: %+v", res)
	}
	// The group mapper brings the LDAP groups, the nested one under its parent.
	gst, err := admin.ReadState(ctx, realm, keycloak.ReadOptions{Federations: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []string{"ops", "dev", "ops/sre"} {
		if gst.Groups[g] == nil {
			t.Errorf("group %s not in Keycloak after the sync; groups: %v", g, gst.Groups)
		}
	}
	rec.take()
	ids := func() map[string]string {
		m, err := admin.FederatedUsers(ctx, realm, "corp-ldap")
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	before := ids()
	if before["lena"] == "" || before["quinn"] == "" {
		t.Fatalf("users after sync: %v", before)
	}
	// A re-apply writes nothing and carries no password.
	p := apply(file("5m"))
	if p.HasChanges() {
		var b strings.Builder
		p.WriteText(&b, plan.RenderOptions{})
		t.Fatalf("re-apply has changes:\n%s", b.String())
	}
	if w := rec.take(); len(w) != 0 {
		t.Fatalf("re-apply wrote %v", w)
	}
	// The federation and its 3 mappers cost a no-op plan no request.
	countReads := func(k *spec.Keycloak) int {
		rec.mu.Lock()
		rec.reads = 0
		rec.mu.Unlock()
		if _, err := admin.Plan(ctx, k, keycloak.PlanOptions{ForApply: true, Getenv: getenv}); err != nil {
			t.Fatal(err)
		}
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return rec.reads
	}
	without := file("5m")
	without.UserFederation = nil
	if with, wo := countReads(file("5m")), countReads(without); with != wo {
		t.Errorf("a no-op plan reads %d times with the federation, %d without", with, wo)
	} else {
		t.Logf("no-op plan: %d reads with the federation and without", with)
	}
	// changed_period changed in place: one PUT, the same users.
	p = apply(file("10m"))
	w := rec.take()
	if carrying(w, password) != 0 || carrying(w, "PUT /admin/realms/"+realm+"/components/"+fed.ID) != 1 {
		t.Fatalf("in-place change wrote %v", w)
	}
	if after := ids(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("users changed: %v -> %v", before, after)
	}
	// The password changed in the environment only: one masked change, sent once.
	vars["LDAP_BIND_PASSWORD"] = password + "-new"
	out, err := admin.Plan(ctx, file("10m"), keycloak.PlanOptions{ForApply: true, Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	var txt strings.Builder
	out.Plan.WriteText(&txt, plan.RenderOptions{})
	if strings.Contains(txt.String(), password) || !strings.Contains(txt.String(), "bindCredential") {
		t.Fatalf("plan of a new password:\n%s", txt.String())
	}
	if err := out.Plan.Execute(ctx, 8, nil); err != nil {
		t.Fatal(err)
	}
	if n := carrying(rec.take(), password+"-new"); n != 1 {
		t.Fatalf("the new password was sent %d times, want 1", n)
	}
	vars["LDAP_BIND_PASSWORD"] = password
	apply(file("10m"))
	rec.take()
	if p := apply(file("10m")); p.HasChanges() || len(rec.take()) != 0 {
		t.Fatal("a re-apply after the password's return writes")
	}
	// export -> apply to an empty realm -> export: the same federation.
	ex, err := admin.Export(ctx, realm, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ex.UserFederation) != 1 || ex.UserFederation[0].BindCredentialEnv != "LDAP_BIND_PASSWORD" || len(ex.UserFederation[0].Mappers) != 2 {
		t.Fatalf("exported: %+v", ex.UserFederation)
	}
	realm2 := realm + "-copy"
	t.Cleanup(func() { env.DeleteRealm(context.Background(), realm2) })
	ex2 := *ex
	ex2.URL, ex2.Realm, ex2.CreateRealm = env.KeycloakURL, realm2, true
	ex2.Settings, ex2.RequiredActions = nil, nil
	apply(&ex2)
	back, err := admin.Export(ctx, realm2, nil)
	if err != nil {
		t.Fatal(err)
	}
	ja, _ := json.Marshal(ex.UserFederation)
	jb, _ := json.Marshal(back.UserFederation)
	if string(ja) != string(jb) {
		t.Fatalf("export round trip:\n%s\n%s", ja, jb)
	}
}
