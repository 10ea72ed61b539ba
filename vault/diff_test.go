package vault

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/plan/plantest"
	"github.com/ssoctl/ssoctl/spec"
)

// The tests in this file run the pure planner on hand-built states: no
// server is involved. What Vault does with the requests is proven by the
// integration tests against the real Vault.

func demoVault(t *testing.T) *spec.Vault {
	t.Helper()
	f, err := spec.Load("../examples/sso.yaml", nil, func(k string) string {
		return map[string]string{"KEYCLOAK_URL": "http://kc", "VAULT_ADDR": "http://v"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	return f.Vault
}

func vaultSection(t *testing.T, body string) *spec.Vault {
	t.Helper()
	f, err := spec.Parse("sso.yaml", []byte("vault:\n  addr: http://v\n"+body), nil)
	if err != nil {
		t.Fatal(err)
	}
	return f.Vault
}

var demoOpts = PlanOptions{KeycloakClients: map[string]bool{"vault": true}}

func emptyVault() *State {
	return &State{Mounts: map[string]*vaultapi.AuthMount{}, Policies: map[string]string{}, Configs: map[string]map[string]any{},
		Roles: map[string]map[string]map[string]any{}, RoleNames: map[string][]string{}, Groups: map[string]map[string]any{}, Others: map[string]map[string]any{}}
}

func asMap(v any) map[string]any { return normalize(v).(map[string]any) }

// vaultFor builds the state of a Vault that holds exactly what v asks for,
// as Vault reports it, with every role and group marked as ssoctl's.
func vaultFor(t *testing.T, v *spec.Vault) *State {
	t.Helper()
	st := emptyVault()
	for name, p := range v.Policies {
		text, err := PolicyText(p)
		if err != nil {
			t.Fatal(err)
		}
		st.Policies[name] = text
	}
	for _, a := range v.Auth {
		names := slices.Sorted(maps.Keys(a.Roles))
		st.Mounts[a.Path] = &vaultapi.AuthMount{Type: a.Type, Accessor: "acc-" + a.Path, Description: a.Description,
			Options: map[string]string{RolesOption: strings.Join(names, ",")}}
		st.Configs[a.Path] = asMap(configBody(a))
		st.RoleNames[a.Path] = names
		st.Roles[a.Path] = map[string]map[string]any{}
		for _, n := range names {
			body, err := roleBody(a.Roles[n])
			if err != nil {
				t.Fatal(err)
			}
			st.Roles[a.Path][n] = asMap(body)
		}
		for _, g := range a.Groups {
			st.Groups[g.Name] = asMap(map[string]any{"id": "gid-" + g.Name, "name": g.Name, "type": "external", "policies": nonNil(g.Policies),
				"metadata": map[string]string{ManagedByKey: ManagedByThis},
				"alias":    map[string]any{"id": "al-" + g.Name, "name": g.Alias, "mount_accessor": "acc-" + a.Path, "mount_path": "auth/" + a.Path + "/"}})
			st.Aliases = append(st.Aliases, GroupAlias{ID: "al-" + g.Name, Name: g.Alias, MountAccessor: "acc-" + a.Path, CanonicalID: "gid-" + g.Name})
		}
	}
	return st
}

func mustDiff(t *testing.T, v *spec.Vault, st *State, o PlanOptions) *plan.Plan {
	t.Helper()
	p, err := Diff(v, st, o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var find, describe, written = plantest.Find, plantest.Describe, plantest.Written

func TestDiffEmptyVaultCreatesEverything(t *testing.T) {
	v := demoVault(t)
	o := demoOpts
	o.NewSecrets = map[string]bool{"vault": true}
	p := mustDiff(t, v, emptyVault(), o)
	m := find(t, p.Changes, "auth-mount", "oidc").Op.(enableMount)
	if m.Type != "oidc" || !slices.Equal(m.Roles, []string{"default"}) {
		t.Errorf("a new mount carries its roles' record: %+v", m)
	}
	cfg := find(t, p.Changes, "auth-config", "oidc")
	op := cfg.Op.(writeConfig)
	if op.Secret.KeycloakClient != "vault" || op.Body["oidc_discovery_url"] != "http://kc/realms/demo" || op.Body["bound_issuer"] != "http://kc/realms/demo" || cfg.Action != plan.Create {
		t.Errorf("config: %+v", op)
	}
	if !slices.ContainsFunc(cfg.Fields, func(f plan.FieldDiff) bool {
		return f.Field == "oidc_client_secret" && strings.Contains(f.New.(string), "new secret")
	}) {
		t.Errorf("the new client's secret is announced: %+v", cfg.Fields)
	}
	role := find(t, p.Changes, "role", "jwt/default").Op.(writeRole)
	if role.Body["role_type"] != "jwt" || role.Body["token_ttl"] != int64(3600) {
		t.Errorf("role body %v", role.Body)
	}
	g := find(t, p.Changes, "group", "manager").Op.(upsertGroup)
	if g.Body["metadata"].(map[string]string)[ManagedByKey] != ManagedByThis {
		t.Errorf("a new group carries ssoctl's marker: %v", g.Body)
	}
	if a := find(t, p.Changes, "group-alias", "manager <- oidc/secret_manager").Op.(writeAlias); a.ID != "" || a.Mount != "oidc" {
		t.Errorf("alias %+v", a)
	}
	if find(t, p.Changes, "policy", "reader").Action != plan.Create {
		t.Error("policy reader is created")
	}
	for _, c := range p.Changes {
		if c.Phase != plan.PhaseVault {
			t.Errorf("%s %s is not in the Vault phase", c.Kind, c.Name)
		}
	}
}

func TestDiffMatchingVaultIsNoOp(t *testing.T) {
	v := demoVault(t)
	p := mustDiff(t, v, vaultFor(t, v), demoOpts)
	if p.HasChanges() || len(p.Prunable)+len(p.Unmanaged)+len(p.AfterPrune) != 0 {
		t.Errorf("a Vault that matches plans %s; %v %v", describe(written(p.Changes)), p.Prunable, p.Unmanaged)
	}
}

func TestDiffVaultUpdates(t *testing.T) {
	v := demoVault(t)
	st := vaultFor(t, v)
	st.Policies["reader"] = `path "x" {}`
	st.Mounts["jwt"].Description = "old"
	st.Configs["jwt"]["default_role"] = "other"
	st.Roles["jwt"]["default"]["token_ttl"] = float64(60)
	st.Roles["oidc"]["default"]["bound_audiences"] = []any{"other"}
	st.Groups["manager"]["policies"] = []any{"reader"}
	st.Groups["manager-jwt"]["metadata"] = map[string]any{"owner": "ops"}
	p := mustDiff(t, v, st, demoOpts)
	if c := find(t, p.Changes, "policy", "reader"); c.Action != plan.Update || c.Op.(putPolicy).HCL == `path "x" {}` {
		t.Errorf("policy: %+v", c)
	}
	if c := find(t, p.Changes, "auth-mount", "jwt"); c.Op != (tuneMount{"jwt", "Keycloak realm demo (JWT)"}) {
		t.Errorf("description: %+v", c.Op)
	}
	if c := find(t, p.Changes, "auth-config", "jwt"); c.Action != plan.Update || len(c.Fields) != 1 || c.Fields[0].Field != "default_role" {
		t.Errorf("config: %+v", c.Fields)
	}
	if c := find(t, p.Changes, "role", "jwt/default"); c.Action != plan.Update || len(c.Fields) != 1 || c.Fields[0].Field != "token_ttl" {
		t.Errorf("role: %+v", c.Fields)
	}
	if c := find(t, p.Changes, "role", "oidc/default"); len(c.Fields) != 1 || c.Fields[0].Field != "bound_audiences" {
		t.Errorf("role: %+v", c.Fields)
	}
	if c := find(t, p.Changes, "group", "manager"); len(c.Fields) != 1 || c.Fields[0].Field != "policies" {
		t.Errorf("group policies: %+v", c.Fields)
	}
	adopt := find(t, p.Changes, "group", "manager-jwt")
	if len(adopt.Fields) != 1 || adopt.Fields[0].Field != "metadata."+ManagedByKey {
		t.Errorf("a group without the marker is adopted: %+v", adopt.Fields)
	}
	if md := adopt.Op.(upsertGroup).Body["metadata"].(map[string]string); md["owner"] != "ops" || md[ManagedByKey] != ManagedByThis {
		t.Errorf("adopting keeps the group's metadata: %v", md)
	}
	// The OIDC config is written when it changes, with the secret again.
	st.Configs["oidc"]["oidc_client_id"] = "x"
	p = mustDiff(t, v, st, demoOpts)
	cfg := find(t, p.Changes, "auth-config", "oidc")
	if !slices.ContainsFunc(cfg.Fields, func(f plan.FieldDiff) bool { return f.Field == "oidc_client_secret" }) {
		t.Errorf("the write-only secret is sent with the config: %+v", cfg.Fields)
	}
}

func TestDiffVaultPrunesOnlyWhatItOwns(t *testing.T) {
	v := demoVault(t)
	st := vaultFor(t, v)
	st.RoleNames["jwt"] = append(st.RoleNames["jwt"], "old", "handmade")
	st.Mounts["jwt"].Options[RolesOption] = "default,old,gone"
	for _, g := range []struct {
		name  string
		owned bool
	}{{"old-group", true}, {"their-group", false}} {
		md := map[string]any{}
		if g.owned {
			md[ManagedByKey] = ManagedByThis
		}
		id := "gid-" + g.name
		st.Others[id] = map[string]any{"id": id, "name": g.name, "metadata": md, "alias": map[string]any{"name": "team"}}
		st.Aliases = append(st.Aliases, GroupAlias{ID: "al-" + g.name, Name: "team", MountAccessor: "acc-jwt", CanonicalID: id})
	}
	p := mustDiff(t, v, st, demoOpts)
	if p.HasChanges() {
		t.Fatalf("extras change nothing without --prune: %s", describe(written(p.Changes)))
	}
	if got := describe(p.Prunable); got != `delete role jwt/old; delete group old-group (alias "team" on jwt/)` {
		t.Errorf("prunable: %s", got)
	}
	if len(p.Unmanaged) != 2 || p.Unmanaged[0].Name != "jwt/handmade" || !strings.HasPrefix(p.Unmanaged[1].Name, "their-group") {
		t.Errorf("unmanaged: %+v", p.Unmanaged)
	}
	if op := p.Prunable[1].Op.(deleteGroup); op.ID != "gid-old-group" {
		t.Errorf("delete group %+v", op)
	}
	if len(p.AfterPrune) != 1 || p.AfterPrune[0].Op.(recordRoles).Options[RolesOption] != "default" || len(p.AfterPrune[0].Op.(recordRoles).Options) != 1 {
		t.Errorf("after prune the record holds the named roles only: %s %+v", describe(p.AfterPrune), p.AfterPrune)
	}
}

func TestDiffVaultRolesRecordGrows(t *testing.T) {
	v := demoVault(t)
	st := vaultFor(t, v)
	delete(st.Mounts["jwt"].Options, RolesOption) // a mount set up before ssoctl kept records
	p := mustDiff(t, v, st, demoOpts)
	ws := written(p.Changes)
	if len(ws) != 1 || ws[0].Kind != "ownership-record" || ws[0].Op.(recordRoles).Path != "jwt" || ws[0].Step >= stepRoles {
		t.Fatalf("adopting the roles writes the record before the roles: %s", describe(ws))
	}
}

func TestDiffVaultRefusals(t *testing.T) {
	v := demoVault(t)
	var ie *InputError
	st := vaultFor(t, v)
	st.Mounts["jwt"].Type = "userpass"
	if _, err := Diff(v, st, demoOpts); !errors.As(err, &ie) || !strings.Contains(err.Error(), `Vault already has a "userpass" auth method there`) {
		t.Errorf("re-typing a mount: %v", err)
	}
	st = vaultFor(t, v)
	st.Groups["manager"]["type"] = "internal"
	if _, err := Diff(v, st, demoOpts); !errors.As(err, &ie) || !strings.Contains(err.Error(), "internal group") {
		t.Errorf("an internal group: %v", err)
	}
	st = vaultFor(t, v)
	delete(st.Groups["manager-jwt"], "alias")
	st.Aliases = []GroupAlias{{ID: "x", Name: "secret_manager", MountAccessor: "acc-jwt", CanonicalID: "someone-else"}}
	if _, err := Diff(v, st, demoOpts); !errors.As(err, &ie) || !strings.Contains(err.Error(), "already belongs to another group") {
		t.Errorf("an alias held by another group: %v", err)
	}
	if _, err := Diff(v, vaultFor(t, v), PlanOptions{}); !errors.As(err, &ie) || !strings.Contains(err.Error(), "needs a secret") {
		t.Errorf("a client id without a secret source: %v", err)
	}
	bad := vaultSection(t, "  policies:\n    p: {template: vault/nope.hcl}\n")
	if _, err := Diff(bad, emptyVault(), PlanOptions{}); !errors.As(err, &ie) || !strings.Contains(err.Error(), "vault.policies.p") {
		t.Errorf("a missing template: %v", err)
	}
}

func TestDiffVaultSecretFromEnv(t *testing.T) {
	v := vaultSection(t, `  auth:
    - path: oidc
      type: oidc
      discovery_url: http://kc/realms/demo
      client_id: app
      client_secret_env: APP_SECRET
`)
	p := mustDiff(t, v, emptyVault(), PlanOptions{})
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "$APP_SECRET") {
		t.Errorf("plan warns of the missing secret: %v", p.Warnings)
	}
	var mse *plan.MissingSecretError
	if _, err := Diff(v, emptyVault(), PlanOptions{ForApply: true}); !errors.As(err, &mse) || mse.Env != "APP_SECRET" {
		t.Errorf("apply stops: %v", err)
	}
	p = mustDiff(t, v, emptyVault(), PlanOptions{Getenv: func(string) string { return "from-env" }})
	if op := find(t, p.Changes, "auth-config", "oidc").Op.(writeConfig); op.Secret.Value != "from-env" {
		t.Errorf("secret %+v", op.Secret)
	}
}

func TestDiffVaultAliasMoves(t *testing.T) {
	v := demoVault(t)
	st := vaultFor(t, v)
	st.Groups["manager"]["alias"] = map[string]any{"id": "al-manager", "name": "old_role", "mount_accessor": "acc-oidc", "mount_path": "auth/oidc/"}
	st.Aliases[0].Name = "old_role"
	p := mustDiff(t, v, st, demoOpts)
	c := find(t, p.Changes, "group-alias", "manager <- oidc/secret_manager")
	if c.Action != plan.Update || c.Op.(writeAlias).ID != "al-manager" || c.Fields[0].Old != "old_role on auth/oidc/" {
		t.Errorf("alias update: %+v %+v", c.Op, c.Fields)
	}
}
