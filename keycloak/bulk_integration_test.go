//go:build integration

package keycloak_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/Nerzal/gocloak/v13"

	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/spec"
)

// anyPassword gives every user of the examples a password.
func anyPassword(k string) string {
	if v := getenv(k); v != "" {
		return v
	}
	return "Pw-" + strings.ToLower(k) + "-1"
}

// allReads asks ReadState for everything it can read.
func allReads(perObject bool, users ...string) keycloak.ReadOptions {
	ro := keycloak.ReadOptions{AllClientRoles: true, ClientScopes: true, RealmScopes: true, AllScopeMappings: true, AllAuthz: true, UserProfile: true, PerObject: perObject}
	for _, u := range users {
		ro.Users = append(ro.Users, keycloak.UserRead{Username: u})
	}
	return ro
}

// sameState fails the test unless the two reads of a realm hold the same
// objects, naming each one that differs.
func sameState(t *testing.T, bulk, each *keycloak.State) {
	t.Helper()
	if reflect.DeepEqual(bulk, each) {
		return
	}
	diffMaps(t, "realm role", bulk.RealmRoles, each.RealmRoles)
	diffMaps(t, "client", bulk.Clients, each.Clients)
	diffMaps(t, "client roles", bulk.ClientRoles, each.ClientRoles)
	diffMaps(t, "group", bulk.Groups, each.Groups)
	diffMaps(t, "user", bulk.Users, each.Users)
	diffMaps(t, "client scope", bulk.ClientScopes, each.ClientScopes)
	diffMaps(t, "authz", bulk.Authz, each.Authz)
	if !reflect.DeepEqual(bulk.ScopeMappings, each.ScopeMappings) || !reflect.DeepEqual(bulk.Owned, each.Owned) ||
		!slices.Equal(bulk.RealmDefaultScopes, each.RealmDefaultScopes) || !slices.Equal(bulk.RealmOptionalScopes, each.RealmOptionalScopes) {
		t.Errorf("scope mappings, realm scopes or the record differ")
	}
	bv, ev := reflect.ValueOf(bulk).Elem(), reflect.ValueOf(each).Elem()
	for i := range bv.NumField() {
		if !reflect.DeepEqual(bv.Field(i).Interface(), ev.Field(i).Interface()) {
			t.Errorf("State.%s differs: bulk %+v, object by object %+v", bv.Type().Field(i).Name, bv.Field(i).Interface(), ev.Field(i).Interface())
		}
	}
	t.Fatalf("the bulk read differs from the reads object by object")
}

func diffMaps[V any](t *testing.T, kind string, bulk, each map[string]V) {
	t.Helper()
	for _, k := range slices.Sorted(maps.Keys(each)) {
		b, ok := bulk[k]
		if !ok {
			t.Errorf("%s %s: only in the reads object by object", kind, k)
			continue
		}
		if !reflect.DeepEqual(b, each[k]) {
			bj, _ := json.Marshal(b)
			ej, _ := json.Marshal(each[k])
			t.Errorf("%s %s differs:\n bulk:       %s\n per object: %s", kind, k, bj, ej)
		}
	}
	for k := range bulk {
		if _, ok := each[k]; !ok {
			t.Errorf("%s %s: only in the bulk read", kind, k)
		}
	}
}

// The realm read from its export is the realm read object by object, for
// every example and for objects made by hand that the examples lack: a
// composite client role with a description, groups three deep, a client
// made by hand with a role. The plans made from the two reads are the same.
func TestIntegrationBulkReadMatchesPerObjectReads(t *testing.T) {
	for _, ex := range []string{"sso.yaml", "client-scopes.yaml", "authz.yaml", "rancher.yaml", "single-sign-out.yaml"} {
		t.Run(strings.TrimSuffix(ex, ".yaml"), func(t *testing.T) {
			h := newHarness(t)
			ctx := context.Background()
			f := h.load(t, "../examples/"+ex)
			f.Keycloak.CreateRealm = true
			out, err := h.admin.Plan(ctx, f.Keycloak, keycloak.PlanOptions{Getenv: anyPassword, ForApply: true})
			if err != nil {
				t.Fatal(err)
			}
			if err := out.Plan.Execute(ctx, 8, nil); err != nil {
				t.Fatalf("apply: %v", err)
			}
			handMade(t, h)
			var users []string
			for _, u := range f.Keycloak.Users {
				users = append(users, u.Username)
			}
			h.cnt.reads.Store(0)
			bulk, err := h.admin.ReadState(ctx, h.realm, allReads(false, users...))
			if err != nil {
				t.Fatal(err)
			}
			bulkReads := h.cnt.reads.Load()
			h.cnt.reads.Store(0)
			each, err := h.admin.ReadState(ctx, h.realm, allReads(true, users...))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %d requests in bulk, %d object by object", ex, bulkReads, h.cnt.reads.Load())
			sameState(t, bulk, each)
			d := keycloak.Expand(f.Keycloak, anyPassword)
			pb, err1 := keycloak.Diff(d, bulk, keycloak.DiffOptions{})
			pe, err2 := keycloak.Diff(d, each, keycloak.DiffOptions{})
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			jb, _ := json.Marshal(pb)
			je, _ := json.Marshal(pe)
			if string(jb) != string(je) {
				t.Errorf("the plans differ:\n bulk:       %s\n per object: %s", jb, je)
			}
		})
	}
}

// handMade adds to h's realm what no example makes: a client with a
// composite role that has a description, a group three deep with bindings.
func handMade(t *testing.T, h *harness) {
	t.Helper()
	ctx := context.Background()
	req := func(method, path string, body, out any) {
		t.Helper()
		if err := h.env.KeycloakAdminRequest(ctx, method, "/"+url.PathEscape(h.realm)+path, body, out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	req(http.MethodPost, "/clients", map[string]any{"clientId": "hand-made", "protocol": "openid-connect"}, nil)
	var cs []gocloak.Client
	req(http.MethodGet, "/clients?clientId=hand-made", nil, &cs)
	id := *cs[0].ID
	req(http.MethodPost, "/clients/"+id+"/roles", map[string]any{"name": "base"}, nil)
	req(http.MethodPost, "/clients/"+id+"/roles", map[string]any{"name": "boss", "description": "all of base"}, nil)
	var base gocloak.Role
	req(http.MethodGet, "/clients/"+id+"/roles/base", nil, &base)
	req(http.MethodPost, "/clients/"+id+"/roles/boss/composites", []gocloak.Role{base}, nil)
	req(http.MethodPost, "/groups", map[string]any{"name": "hand"}, nil)
	var g struct{ ID string }
	req(http.MethodGet, "/group-by-path/hand", nil, &g)
	parent := g.ID
	for _, name := range []string{"two", "three"} {
		req(http.MethodPost, "/groups/"+parent+"/children", map[string]any{"name": name}, nil)
		var kids []struct{ ID, Name string }
		req(http.MethodGet, "/groups/"+parent+"/children", nil, &kids)
		parent = kids[0].ID
	}
	var boss gocloak.Role
	req(http.MethodGet, "/clients/"+id+"/roles/boss", nil, &boss)
	req(http.MethodPost, "/groups/"+parent+"/role-mappings/clients/"+id, []gocloak.Role{boss}, nil)
}

// bulkWorkload is n clients with 4 mappers and 2 roles each, n/4 groups,
// a fifth of them nested, each bound to a client role and every tenth to a
// realm role, and a member of two of them.
func bulkWorkload(realm string, n int) *spec.Keycloak {
	var s strings.Builder
	fmt.Fprintf(&s, "keycloak:\n  url: http://127.0.0.1:1\n  realm: %s\n  create_realm: true\n  realm_roles: [auditor]\n  clients:\n", realm)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&s, "    - client_id: app-%03d\n      redirect_uris: [https://app-%03d.example.com/callback]\n      roles: [reader, writer]\n      mappers:\n", i, i)
		fmt.Fprintf(&s, "        - audience: app-%03d\n        - client_roles: {claim: roles}\n        - groups: {claim: groups}\n        - attribute: {user_attribute: department, claim: department}\n", i)
	}
	fmt.Fprintf(&s, "    - {client_id: spa, access: public, redirect_uris: [\"https://spa.example.com/*\"], web_origins: [+], direct_access_grants: false}\n")
	s.WriteString("  groups:\n")
	for i := 1; i <= n/4; i++ {
		name := fmt.Sprintf("team-%03d", i)
		if i%5 == 0 {
			name = fmt.Sprintf("team-%03d/squad", i-1)
		}
		if i%10 == 0 {
			fmt.Fprintf(&s, "    - {name: %s, realm_roles: [auditor], client_roles: {app-%03d: [reader]}}\n", name, i)
		} else {
			fmt.Fprintf(&s, "    - {name: %s, client_roles: {app-%03d: [reader]}}\n", name, i)
		}
	}
	// Members of an imported subgroup: the import does not give its id.
	fmt.Fprintf(&s, "  users:\n    - {username: member-1, groups: [team-004/squad, team-001]}\n")
	f, err := spec.Parse("sso.yaml", []byte(s.String()), nil)
	if err != nil {
		panic(err)
	}
	return f.Keycloak
}

// comparable is a realm's state without what differs between two realms
// made from the same file: ids, secrets and their creation times, the
// realm's name.
func comparable(t *testing.T, st *keycloak.State) map[string]any {
	t.Helper()
	data, err := json.Marshal(map[string]any{"realmRoles": slices.Sorted(maps.Keys(st.RealmRoles)), "clients": st.Clients, "clientRoles": st.ClientRoles,
		"groups": st.Groups, "scopes": st.ClientScopes, "owned": st.Owned})
	if err != nil {
		t.Fatal(err)
	}
	// The realm's name is in its built-in clients and default roles.
	data = []byte(strings.ReplaceAll(string(data), st.Realm, "REALM"))
	var v any
	json.Unmarshal(data, &v)
	var strip func(any) any
	strip = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for _, k := range []string{"id", "ID", "containerId", "client.secret.creation.time"} {
				delete(x, k)
			}
			for k, e := range x {
				x[k] = strip(e)
			}
		case []any:
			for i, e := range x {
				x[i] = strip(e)
			}
			// Mappers come in no fixed order.
			slices.SortFunc(x, func(a, b any) int {
				ja, _ := json.Marshal(a)
				jb, _ := json.Marshal(b)
				return strings.Compare(string(ja), string(jb))
			})
		}
		return v
	}
	return strip(v).(map[string]any)
}

// 200 clients made with partial imports (50 each, with their mappers) are
// the clients made object by object: the same fields, attributes, mappers,
// roles, groups and bindings, and the same ownership record. A second apply
// writes nothing, and the first apply sent far fewer writes.
func TestIntegrationBulkCreateMatchesPerObject(t *testing.T) {
	ctx := context.Background()
	hb, he := newHarness(t), newHarness(t)
	var writes [2]int64
	for i, h := range []*harness{hb, he} {
		k := bulkWorkload(h.realm, 200)
		out, err := h.admin.Plan(ctx, k, keycloak.PlanOptions{ForApply: true, PerObject: h == he})
		if err != nil {
			t.Fatal(err)
		}
		if err := out.Plan.Execute(ctx, 8, nil); err != nil {
			t.Fatalf("apply (per object %v): %v", h == he, err)
		}
		writes[i] = h.cnt.writes.Load()
		h.cnt.writes.Store(0)
		p, err := h.apply(t, ctx, k, false)
		if err != nil || p.HasChanges() || h.cnt.writes.Load() != 0 {
			t.Fatalf("re-apply (per object %v): err %v, changes %v, %d writes", h == he, err, p != nil && p.HasChanges(), h.cnt.writes.Load())
		}
	}
	t.Logf("first apply of 200 clients: %d writes with the import, %d object by object", writes[0], writes[1])
	if writes[0] > writes[1]/2 {
		t.Errorf("the import saved too little: %d writes against %d", writes[0], writes[1])
	}
	stb, err := hb.admin.ReadState(ctx, hb.realm, allReads(true))
	if err != nil {
		t.Fatal(err)
	}
	ste, err := he.admin.ReadState(ctx, he.realm, allReads(true))
	if err != nil {
		t.Fatal(err)
	}
	sameObjects(t, comparable(t, stb), comparable(t, ste))
	// The bulk read of the imported realm is its read object by object.
	bulk, err := hb.admin.ReadState(ctx, hb.realm, allReads(false))
	if err != nil {
		t.Fatal(err)
	}
	sameState(t, bulk, stb)
}

// An apply cut off at its partial import of clients or of groups, or one
// whose imports meet objects made meanwhile, converges when run again, and
// the realm is the one an undisturbed apply makes.
func TestIntegrationInterruptedBulkCreateConverges(t *testing.T) {
	ctx := context.Background()
	ref := newHarness(t)
	k := bulkWorkload(ref.realm, 40)
	if _, err := ref.apply(t, ctx, k, false); err != nil {
		t.Fatal(err)
	}
	want, err := ref.admin.ReadState(ctx, ref.realm, allReads(true))
	if err != nil {
		t.Fatal(err)
	}
	for _, cut := range []string{"during", "after", "groups-during", "groups-after"} {
		t.Run(cut, func(t *testing.T) {
			h := newHarness(t)
			k := bulkWorkload(h.realm, 40)
			cctx, cancel := context.WithCancel(ctx)
			when, what := cut, "clients"
			if c, ok := strings.CutPrefix(cut, "groups-"); ok {
				when, what = c, "groups"
			}
			h.hc.Transport = &importCutter{base: h.cnt, cut: when, of: what, cancel: cancel}
			_, err := h.apply(t, cctx, k, false)
			cancel()
			h.hc.Transport = h.cnt
			if err == nil {
				t.Fatalf("apply cut %s the import returned no error", cut)
			}
			convergesTo(t, ctx, h, k, want)
		})
	}
	// A client and a group made by someone else between the plan and the
	// apply make their imports fail (409, nothing imported): each change is
	// then made on its own, adopting what exists, and the apply succeeds.
	t.Run("made-meanwhile", func(t *testing.T) {
		h := newHarness(t)
		k := bulkWorkload(h.realm, 40)
		if err := h.env.KeycloakAdminRequest(ctx, http.MethodPost, "", map[string]any{"realm": h.realm, "enabled": true}, nil); err != nil {
			t.Fatal(err)
		}
		out, err := h.admin.Plan(ctx, k, keycloak.PlanOptions{Getenv: getenv, ForApply: true})
		if err != nil {
			t.Fatal(err)
		}
		base := "/" + url.PathEscape(h.realm)
		for path, body := range map[string]any{"/clients": map[string]any{"clientId": "app-002", "protocol": "openid-connect"}, "/groups": map[string]any{"name": "team-001"}} {
			if err := h.env.KeycloakAdminRequest(ctx, http.MethodPost, base+path, body, nil); err != nil {
				t.Fatal(err)
			}
		}
		before := h.cnt.writes.Load()
		if err := out.Plan.Execute(ctx, 8, nil); err != nil {
			t.Fatalf("apply over objects made meanwhile: %v", err)
		}
		t.Logf("apply after two 409s: %d writes", h.cnt.writes.Load()-before)
		convergesTo(t, ctx, h, k, want)
	})
}

// convergesTo fails the test unless a re-run of k succeeds, the run after
// it writes nothing, and the realm then holds want's objects.
func convergesTo(t *testing.T, ctx context.Context, h *harness, k *spec.Keycloak, want *keycloak.State) {
	t.Helper()
	if _, err := h.apply(t, ctx, k, false); err != nil {
		t.Fatalf("re-run: %v", err)
	}
	h.cnt.writes.Store(0)
	if p, err := h.apply(t, ctx, k, false); err != nil || p.HasChanges() || h.cnt.writes.Load() != 0 {
		t.Fatalf("third run: err %v, %d writes", err, h.cnt.writes.Load())
	}
	got, err := h.admin.ReadState(ctx, h.realm, allReads(true))
	if err != nil {
		t.Fatal(err)
	}
	sameObjects(t, comparable(t, got), comparable(t, want))
}

// importCutter cuts an apply at the first partial import of its kind of
// objects (of "clients" or "groups"): Keycloak makes them, and the answer
// is lost on its way (cut "during"), or arrives and the apply is cancelled
// right after ("after"). An import that Keycloak never made needs nothing
// more than a re-run.
type importCutter struct {
	base   http.RoundTripper
	cut    string
	of     string
	cancel context.CancelFunc
}

func (c *importCutter) RoundTrip(r *http.Request) (*http.Response, error) {
	if !strings.HasSuffix(r.URL.Path, "/partialImport") {
		return c.base.RoundTrip(r)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	var kinds map[string]json.RawMessage
	if json.Unmarshal(body, &kinds) != nil || kinds[c.of] == nil {
		return c.base.RoundTrip(r)
	}
	resp, err := c.base.RoundTrip(r)
	c.cancel()
	if c.cut == "during" && err == nil {
		// Keycloak made the objects; the answer is lost on the way.
		resp.Body.Close()
		return nil, context.Canceled
	}
	return resp, err
}

// sameObjects fails the test unless two comparable states match, naming
// the first object of each kind that differs.
func sameObjects(t *testing.T, got, want map[string]any) {
	t.Helper()
	for _, key := range slices.Sorted(maps.Keys(want)) {
		if reflect.DeepEqual(got[key], want[key]) {
			continue
		}
		gm, _ := got[key].(map[string]any)
		wm, ok := want[key].(map[string]any)
		if !ok {
			gj, _ := json.Marshal(got[key])
			wj, _ := json.Marshal(want[key])
			t.Errorf("%s differs:\n got:  %.2000s\n want: %.2000s", key, gj, wj)
			continue
		}
		for _, name := range slices.Sorted(maps.Keys(wm)) {
			if !reflect.DeepEqual(gm[name], wm[name]) {
				gj, _ := json.Marshal(gm[name])
				wj, _ := json.Marshal(wm[name])
				t.Errorf("%s %s differs:\n got:  %s\n want: %s", key, name, gj, wj)
				break
			}
		}
		if len(gm) != len(wm) {
			t.Errorf("%s: %d objects, want %d", key, len(gm), len(wm))
		}
	}
}
