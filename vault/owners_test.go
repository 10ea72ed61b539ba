package vault

import (
	"strings"
	"testing"

	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
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

// External groups carry their owner in their metadata: a file prunes only
// its own, lists another's with its owner, refuses to declare one until it
// adopts it, and marks the groups it writes.
func TestDiffVaultGroupsPerOwner(t *testing.T) {
	v := demoVault(t)
	st := vaultFor(t, v)
	var mount *spec.AuthMount
	for i := range v.Auth {
		if len(v.Auth[i].Groups) > 0 {
			mount = &v.Auth[i]
		}
	}
	if mount == nil {
		t.Fatal("the demo file has no mount with groups")
	}
	name := mount.Groups[0].Name
	for _, g := range []struct{ name, owner string }{{"blog-group", "blog"}, {"shop-old", "shop"}, {"legacy-group", ""}} {
		id := "gid-" + g.name
		md := map[string]any{ManagedByKey: ManagedByThis}
		if g.owner != "" {
			md[OwnerKey] = g.owner
		}
		st.Others[id] = map[string]any{"id": id, "name": g.name, "metadata": md, "alias": map[string]any{"name": "a-" + g.name}}
		st.Aliases = append(st.Aliases, GroupAlias{ID: "al-" + g.name, Name: "a-" + g.name, MountAccessor: "acc-" + mount.Path, CanonicalID: id})
	}
	o := demoOpts
	o.Owner = "shop"
	p := mustDiff(t, v, st, o)
	if len(p.Prunable) != 1 || !strings.HasPrefix(p.Prunable[0].Name, "shop-old") {
		t.Errorf("prunable: %s", describe(p.Prunable))
	}
	owners := map[string]string{}
	for _, u := range p.Unmanaged {
		owners[strings.Fields(u.Name)[0]] = u.Owner
	}
	if owners["blog-group"] != "blog" || owners["legacy-group"] != plan.Unowned {
		t.Errorf("left alone: %+v", p.Unmanaged)
	}
	// The file's own group gains the owner's mark.
	c := find(t, p.Changes, "group", name)
	if c.Action != plan.Update || c.Fields[len(c.Fields)-1].Field != "metadata."+OwnerKey || c.Op.(upsertGroup).Body["metadata"].(map[string]string)[OwnerKey] != "shop" {
		t.Errorf("the file's group: %+v", c)
	}
	// Declaring blog's group is refused until the file adopts from blog.
	st.Groups[name]["metadata"] = map[string]any{ManagedByKey: ManagedByThis, OwnerKey: "blog"}
	if _, err := Diff(v, st, o); err == nil || !strings.Contains(err.Error(), "group "+name+" (owned by blog)") || !strings.Contains(err.Error(), "adopt_from: [blog]") {
		t.Fatalf("conflict: %v", err)
	}
	o.AdoptFrom = []string{"blog"}
	if c := find(t, mustDiff(t, v, st, o).Changes, "group", name); c.Op.(upsertGroup).Body["metadata"].(map[string]string)[OwnerKey] != "shop" {
		t.Errorf("adopting: %+v", c)
	}
}
