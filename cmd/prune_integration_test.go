//go:build integration

package cmd

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
)

// Objects made by hand next to the ones ssoctl manages survive apply
// --prune; the managed ones the file no longer names do not.
func TestIntegrationPruneKeepsHandMadeObjects(t *testing.T) {
	e := newE2E(t)
	e.apply(t)
	ctx := context.Background()
	tb := e.tb
	r := "/" + url.PathEscape(e.realm)
	kc := func(method, path string, body, out any) {
		t.Helper()
		if err := tb.KeycloakAdminRequest(ctx, method, r+path, body, out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	type rep struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	one := func(path string) rep {
		t.Helper()
		var found []rep
		kc(http.MethodGet, path, nil, &found)
		if len(found) != 1 {
			t.Fatalf("%s: %d results", path, len(found))
		}
		return found[0]
	}
	vaultUUID := one("/clients?clientId=vault").ID

	// By hand, in Keycloak: one object of every kind ssoctl prunes.
	kc(http.MethodPost, "/clients", map[string]any{"clientId": "handmade-app"}, nil)
	kc(http.MethodPost, "/roles", map[string]any{"name": "handmade-role"}, nil)
	kc(http.MethodPost, "/clients/"+vaultUUID+"/roles", map[string]any{"name": "handmade_role"}, nil)
	kc(http.MethodPost, "/clients/"+vaultUUID+"/protocol-mappers/models", map[string]any{"name": "handmade-claim", "protocol": "openid-connect",
		"protocolMapper": "oidc-hardcoded-claim-mapper", "config": map[string]string{"claim.name": "tier", "claim.value": "gold", "id.token.claim": "true"}}, nil)
	kc(http.MethodPost, "/groups", map[string]any{"name": "handmade-group"}, nil)
	var role rep
	kc(http.MethodGet, "/roles/handmade-role", nil, &role)
	managers := one("/groups?search=kv-managers&exact=true").ID
	kc(http.MethodPost, "/groups/"+managers+"/role-mappings/realm", []rep{role}, nil)
	alice := one("/users?username=alice&exact=true").ID
	kc(http.MethodPut, "/users/"+alice+"/groups/"+one("/groups?search=handmade-group&exact=true").ID, nil, nil)

	// By hand, in Vault: a role on the managed jwt mount, and an external
	// group with an alias there.
	v := tb.Vault()
	if _, err := v.Logical().Write("auth/"+e.jwtMnt+"/role/handmade", map[string]any{"role_type": "jwt", "user_claim": "sub", "bound_audiences": []string{"x"}}); err != nil {
		t.Fatal(err)
	}
	handGroup := "handmade-" + e.jwtMnt
	t.Cleanup(func() { v.Logical().Delete("identity/group/name/" + handGroup) })
	g, err := v.Logical().Write("identity/group/name/"+handGroup, map[string]any{"type": "external"})
	if err != nil {
		t.Fatal(err)
	}
	mounts, _ := v.Sys().ListAuth()
	if _, err := v.Logical().Write("identity/group-alias", map[string]any{"name": "secret_reader", "mount_accessor": mounts[e.jwtMnt+"/"].Accessor, "canonical_id": g.Data["id"]}); err != nil {
		t.Fatal(err)
	}

	// The file drops managed objects of both systems.
	data, _ := os.ReadFile(e.path)
	text := string(data)
	for _, cut := range []string{
		"    - client_id: noaud-app\n      direct_access_grants: true\n",
		"    - {name: kv-readers, client_roles: {vault: [secret_reader]}}\n",
		"    - {username: bob, password_env: BOB_PASSWORD, groups: [kv-readers]}\n",
		"        wrongaud:\n          groups_claim: /resource_access/vault/roles\n          bound_audiences: [not-vault]\n          policies: [reader]\n",
	} {
		if !strings.Contains(text, cut) {
			t.Fatalf("the test file lacks %q", cut)
		}
		text = strings.Replace(text, cut, "", 1)
	}
	os.WriteFile(e.path, []byte(text), 0o600)

	code, stdout, stderr := runEnv(t, e.env, "", "plan", "-f", e.path, "-o", "json", "--detailed-exitcode")
	var doc struct {
		Prunable  []struct{ System, Kind, Name string } `json:"prunable"`
		Unmanaged []struct{ System, Kind, Name string } `json:"unmanaged"`
		Summary   map[string]int                        `json:"summary"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &doc) != nil {
		t.Fatalf("plan: exit %d\n%s\n%s", code, stdout, stderr)
	}
	var prunable, unmanaged []string
	for _, p := range doc.Prunable {
		prunable = append(prunable, p.System+" "+p.Kind+" "+p.Name)
	}
	for _, u := range doc.Unmanaged {
		unmanaged = append(unmanaged, u.System+" "+u.Kind+" "+u.Name)
	}
	wantPrunable := []string{"keycloak client " + e.realm + "/noaud-app", "keycloak group " + e.realm + "/kv-readers", "vault role " + e.jwtMnt + "/wrongaud"}
	slices.Sort(prunable)
	if !slices.Equal(prunable, wantPrunable) {
		t.Errorf("prunable:\n got %q\nwant %q", prunable, wantPrunable)
	}
	for _, want := range []string{
		"keycloak client " + e.realm + "/handmade-app", "keycloak realm-role " + e.realm + "/handmade-role",
		"keycloak client-role " + e.realm + "/vault/handmade_role", "keycloak mapper " + e.realm + "/vault/handmade-claim",
		"keycloak group " + e.realm + "/handmade-group", "keycloak group-role-binding " + e.realm + "/kv-managers realm-roles/handmade-role",
		"keycloak user-group " + e.realm + "/alice in handmade-group", "vault role " + e.jwtMnt + "/handmade",
		"vault group " + handGroup + ` (alias "secret_reader" on ` + e.jwtMnt + "/)",
	} {
		if !slices.Contains(unmanaged, want) {
			t.Errorf("not listed as unmanaged: %s\n(have %q)", want, unmanaged)
		}
	}
	code, stdout, _ = runEnv(t, e.env, "", "plan", "-f", e.path)
	if !strings.Contains(stdout, "Not managed by ssoctl, left alone") || !strings.Contains(stdout, "? keycloak client "+e.realm+"/handmade-app") {
		t.Errorf("the text plan lists the hand-made objects:\n%s", stdout)
	}

	if code, stdout, stderr := runEnv(t, e.env, "", "apply", "-f", e.path, "--prune"); code != 0 {
		t.Fatalf("apply --prune: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// The managed objects are gone.
	var clients []rep
	kc(http.MethodGet, "/clients?clientId=noaud-app", nil, &clients)
	if len(clients) != 0 {
		t.Error("noaud-app survived --prune")
	}
	if role, _ := e.vc.ReadRole(ctx, e.jwtMnt, "wrongaud"); role != nil {
		t.Error("role wrongaud survived --prune")
	}
	// The hand-made ones are all there.
	one("/clients?clientId=handmade-app")
	kc(http.MethodGet, "/roles/handmade-role", nil, &role)
	kc(http.MethodGet, "/clients/"+vaultUUID+"/roles/handmade_role", nil, &role)
	var mappers []rep
	kc(http.MethodGet, "/clients/"+vaultUUID+"/protocol-mappers/models", nil, &mappers)
	if !slices.ContainsFunc(mappers, func(m rep) bool { return m.Name == "handmade-claim" }) {
		t.Error("the hand-made mapper was deleted")
	}
	var bound []rep
	kc(http.MethodGet, "/groups/"+managers+"/role-mappings/realm", nil, &bound)
	if !slices.ContainsFunc(bound, func(m rep) bool { return m.Name == "handmade-role" }) {
		t.Error("the hand-made binding was removed")
	}
	var groups []rep
	kc(http.MethodGet, "/users/"+alice+"/groups", nil, &groups)
	if !slices.ContainsFunc(groups, func(m rep) bool { return m.Name == "handmade-group" }) {
		t.Error("alice left the hand-made group")
	}
	if role, _ := e.vc.ReadRole(ctx, e.jwtMnt, "handmade"); role == nil {
		t.Error("the hand-made Vault role was deleted")
	}
	if g, _ := v.Logical().Read("identity/group/name/" + handGroup); g == nil {
		t.Error("the hand-made Vault group was deleted")
	}
	// Converged: nothing to do, nothing to prune; the hand-made objects
	// are still listed and left alone.
	code, stdout, _ = runEnv(t, e.env, "", "plan", "-f", e.path, "-o", "json", "--detailed-exitcode")
	doc.Prunable, doc.Unmanaged = nil, nil
	if code != 0 || json.Unmarshal([]byte(stdout), &doc) != nil || len(doc.Prunable) != 0 || len(doc.Unmanaged) != len(unmanaged) {
		t.Fatalf("after prune: exit %d, prunable %v, unmanaged %d (was %d)\n%s", code, doc.Prunable, len(doc.Unmanaged), len(unmanaged), stdout)
	}
	if w := countWrites(t, e, ctx); w != 0 {
		t.Errorf("a re-apply after prune wrote %d times", w)
	}
}
