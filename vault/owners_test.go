package vault

import (
	"strings"
	"testing"

	"github.com/ssoctl/ssoctl/plan"
)

// Two files share the jwt mount: each owner's roles are an option of its
// own; a file prunes only its own, lists the other's with its owner, and
// refuses to declare one until it adopts it.
func TestDiffVaultRolesPerOwner(t *testing.T) {
	v := demoVault(t)
	st := vaultFor(t, v)
	st.RoleNames["jwt"] = append(st.RoleNames["jwt"], "blog-role", "legacy", "shop-old")
	st.Mounts["jwt"].Options = map[string]string{RolesOptionOf("shop"): "default,shop-old", RolesOptionOf("blog"): "blog-role", RolesOption: "legacy"}
	o := demoOpts
	o.Owner = "shop"
	p := mustDiff(t, v, st, o)
	if got := describe(p.Prunable); got != "delete role jwt/shop-old" {
		t.Errorf("prunable: %s", got)
	}
	owners := map[string]string{}
	for _, u := range p.Unmanaged {
		owners[u.Name] = u.Owner
	}
	if owners["jwt/blog-role"] != "blog" || owners["jwt/legacy"] != plan.Unowned {
		t.Errorf("left alone: %+v", p.Unmanaged)
	}
	after := p.AfterPrune[0].Op.(recordRoles).Options
	if len(after) != 1 || after[RolesOptionOf("shop")] != "default" {
		t.Errorf("the prune rewrites only shop's option: %v", after)
	}

	// Declaring blog's role is refused, with the fix; the fix moves it.
	for _, a := range v.Auth {
		if a.Path == "jwt" {
			a.Roles["blog-role"] = a.Roles["default"]
		}
	}
	_, err := Diff(v, st, o)
	if err == nil || !strings.Contains(err.Error(), "role jwt/blog-role (owned by blog)") || !strings.Contains(err.Error(), "adopt_from: [blog]") {
		t.Fatalf("conflict: %v", err)
	}
	o.AdoptFrom = []string{"blog"}
	p = mustDiff(t, v, st, o)
	rec := find(t, p.Changes, "ownership-record", "jwt/ option "+RolesOptionOf("shop")).Op.(recordRoles).Options
	if rec[RolesOptionOf("shop")] != "blog-role,default,shop-old" || rec[RolesOptionOf("blog")] != "" || len(rec) != 2 {
		t.Errorf("adopting moves the role out of blog's option: %v", rec)
	}
}

func TestRoleOwnersReadsEveryOption(t *testing.T) {
	st := emptyVault()
	st.Mounts["m"] = nil
	if got := st.RoleOwners("m"); len(got) != 0 {
		t.Errorf("no mount: %v", got)
	}
	st = vaultFor(t, demoVault(t))
	st.Mounts["jwt"].Options = map[string]string{RolesOption: "a,,b", RolesOptionOf("x/y"): "c", RolesOption + ".": "d", "other": "e"}
	got := st.RoleOwners("jwt")
	if len(got) != 3 || got["a"] != "" || got["b"] != "" || got["c"] != "x/y" {
		t.Errorf("RoleOwners: %v", got)
	}
}
