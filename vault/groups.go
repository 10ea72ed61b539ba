package vault

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"strings"

	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
)

// groups plans a mount's external groups with their one alias each, and the
// groups that hold an alias on this mount but are no longer in the file:
// pruned when they carry ssoctl's marker, left alone otherwise.
func (b *builder) groups(a spec.AuthMount) error {
	have := map[string]map[string]any{}
	for _, g := range a.Groups {
		cur := b.st.Groups[g.Name]
		if cur == nil {
			continue
		}
		if str(cur["type"]) != "external" {
			return &InputError{Msg: fmt.Sprintf("vault.auth %q group %q: Vault already has it as an %s group, and aliases can only be set on external groups; rename the group in the file or delete it in Vault", a.Path, g.Name, str(cur["type"]))}
		}
		have[g.Name] = cur
	}
	if m := b.st.Mounts[a.Path]; m != nil {
		for _, al := range b.st.Aliases {
			if grp := b.st.Others[al.CanonicalID]; grp != nil && al.MountAccessor == m.Accessor {
				have[str(grp["name"])] = grp
			}
		}
	}
	if err := b.groupConflicts(a, have); err != nil {
		return err
	}
	for _, it := range plan.Reconcile(plan.Set[spec.ExternalGroup, map[string]any]{
		Want: a.Groups,
		Have: have,
		Name: func(g spec.ExternalGroup) string { return g.Name },
		Diff: func(g spec.ExternalGroup, cur map[string]any) []plan.FieldDiff { return groupDiff(g, cur, b.o.Owner) },
		Owned: func(name string) bool {
			managed, owner := groupOwner(have[name])
			return managed && b.o.claimant().Prunes(owner)
		},
	}) {
		g, cur := it.Want, it.Have
		switch it.Action {
		case plan.Delete:
			alias, _ := cur["alias"].(map[string]any)
			label := fmt.Sprintf("%s (alias %q on %s/)", it.Name, str(alias["name"]), a.Path)
			c := b.change("group", label, plan.Delete, stepPrune, nil, deleteGroup{ID: str(cur["id"])})
			if managed, owner := groupOwner(cur); managed && !it.Owned {
				b.p.AddOthers(c, cmp.Or(owner, plan.Unowned))
				continue
			}
			b.p.AddExtra(c, it.Owned)
			continue
		case plan.Create:
			fields := []plan.FieldDiff{{Field: "type", New: "external"}, {Field: "policies", New: nonNil(g.Policies)}, {Field: "metadata." + ManagedByKey, New: ManagedByThis}}
			if b.o.Owner != "" {
				fields = append(fields, plan.FieldDiff{Field: "metadata." + OwnerKey, New: b.o.Owner})
			}
			b.p.Add(b.change("group", g.Name, plan.Create, stepGroups, fields, upsertGroup{g.Name, groupBody(g, nil, b.o.Owner)}))
		default:
			b.p.Add(b.change("group", g.Name, it.Action, stepGroups, it.Fields, upsertGroup{g.Name, groupBody(g, cur, b.o.Owner)}))
		}
		if g.Alias != "" {
			if err := b.alias(a, g, cur); err != nil {
				return err
			}
		}
	}
	return nil
}

// groupBody is an external group as the name endpoint takes it: the file's
// policies, and the group's metadata with ssoctl's marker and the file's
// owner added.
func groupBody(g spec.ExternalGroup, cur map[string]any, owner string) map[string]any {
	md := map[string]string{}
	have, _ := cur["metadata"].(map[string]any)
	for k, v := range have {
		md[k] = str(v)
	}
	md[ManagedByKey] = ManagedByThis
	if owner != "" {
		md[OwnerKey] = owner
	}
	return map[string]any{"type": "external", "policies": nonNil(g.Policies), "metadata": md}
}

// groupConflicts refuses groups the file names that another owner's
// marker claims, unless the file adopts from that owner.
func (b *builder) groupConflicts(a spec.AuthMount, have map[string]map[string]any) error {
	var taken, others []string
	for _, g := range a.Groups {
		if managed, o := groupOwner(have[g.Name]); managed && b.o.claimant().Refuses(o) {
			taken = append(taken, fmt.Sprintf("group %s (owned by %s)", g.Name, o))
			others = append(others, o)
		}
	}
	if len(taken) == 0 {
		return nil
	}
	return &InputError{Msg: b.o.claimant().Conflict("Vault groups", taken, others)}
}

// groupDiff compares a group's policies, as a set, ssoctl's marker (a
// group named in the file without it is adopted) and its owner.
func groupDiff(g spec.ExternalGroup, cur map[string]any, owner string) []plan.FieldDiff {
	var fields []plan.FieldDiff
	havePol := stringList(cur["policies"])
	if !plan.Equal(sortedAny(normalize(havePol)), sortedAny(normalize(nonNil(g.Policies)))) {
		fields = append(fields, plan.FieldDiff{Field: "policies", Old: havePol, New: nonNil(g.Policies)})
	}
	if !ownedGroup(cur) {
		var old any
		if md, _ := cur["metadata"].(map[string]any); str(md[ManagedByKey]) != "" {
			old = str(md[ManagedByKey])
		}
		fields = append(fields, plan.FieldDiff{Field: "metadata." + ManagedByKey, Old: old, New: ManagedByThis})
	}
	if _, have := groupOwner(cur); owner != "" && have != owner {
		var old any
		if have != "" {
			old = have
		}
		fields = append(fields, plan.FieldDiff{Field: "metadata." + OwnerKey, Old: old, New: owner})
	}
	return fields
}

// alias plans a group's one alias: external groups have exactly one, and
// alias creation is not idempotent, so it is looked up before it is written.
func (b *builder) alias(a spec.AuthMount, g spec.ExternalGroup, cur map[string]any) error {
	var haveAlias map[string]any
	if cur != nil {
		haveAlias, _ = cur["alias"].(map[string]any)
	}
	acc := ""
	if m := b.st.Mounts[a.Path]; m != nil {
		acc = m.Accessor
	}
	label := g.Name + " <- " + a.Path + "/" + g.Alias
	if haveAlias != nil && strings.EqualFold(str(haveAlias["name"]), g.Alias) && acc != "" && str(haveAlias["mount_accessor"]) == acc {
		b.p.Add(b.change("group-alias", label, plan.NoOp, stepAliases, nil, nil))
		return nil
	}
	if acc != "" {
		for _, al := range b.st.Aliases {
			if al.MountAccessor == acc && strings.EqualFold(al.Name, g.Alias) && (cur == nil || al.CanonicalID != str(cur["id"])) {
				return &InputError{Msg: fmt.Sprintf("vault.auth %q group %q: alias %q on %s/ already belongs to another group (id %s); name that group in the file instead, or delete it", a.Path, g.Name, g.Alias, a.Path, al.CanonicalID)}
			}
		}
	}
	o := writeAlias{Mount: a.Path, Group: g.Name, Alias: g.Alias}
	var old any
	if haveAlias != nil && str(haveAlias["id"]) != "" {
		o.ID = str(haveAlias["id"])
		old = fmt.Sprintf("%s on %s", str(haveAlias["name"]), str(haveAlias["mount_path"]))
	}
	action := plan.Create
	if o.ID != "" {
		action = plan.Update
	}
	b.p.Add(b.change("group-alias", label, action, stepAliases, []plan.FieldDiff{{Field: "alias", Old: old, New: g.Alias + " on " + a.Path + "/"}}, o))
	return nil
}

// upsertGroup writes an external group by name (the name endpoint
// upserts) and records its id; an update answers 204, so the id is read
// back.
type upsertGroup struct {
	Name string
	Body map[string]any
}

func (o upsertGroup) apply(ctx context.Context, x *executor) error {
	if _, err := x.c.write(ctx, "identity/group/name/"+o.Name, maps.Clone(o.Body)); err != nil {
		return err
	}
	data, err := x.c.read(ctx, "identity/group/name/"+o.Name)
	if err != nil {
		return err
	}
	x.ids.Set(groupRef(o.Name), str(data["id"]))
	return nil
}

type deleteGroup struct{ ID string }

func (o deleteGroup) apply(ctx context.Context, x *executor) error {
	return x.c.delete(ctx, "identity/group/id/"+o.ID)
}

// writeAlias creates a group's alias on a mount, or moves the existing one
// (ID set) there.
//
// Creating an alias is not idempotent: Vault refuses a second one for the
// same mount and name ("already in use"). When a create fails, say because
// its answer was lost after Vault stored it and the client sent it again,
// the group is read back, and an alias of the right name on the right
// mount is adopted as the one this create made.
type writeAlias struct {
	Mount, Group, Alias string
	ID                  string
}

func (o writeAlias) apply(ctx context.Context, x *executor) error {
	accessor, _ := x.ids.Get(mountRef(o.Mount))
	gid, _ := x.ids.Get(groupRef(o.Group))
	if accessor == "" || gid == "" {
		return fmt.Errorf("group alias %s: mount %s/ or group %s is missing", o.Alias, o.Mount, o.Group)
	}
	path := "identity/group-alias"
	if o.ID != "" {
		path += "/id/" + o.ID
	}
	_, err := x.c.write(ctx, path, map[string]any{"name": o.Alias, "mount_accessor": accessor, "canonical_id": gid})
	if err != nil && o.ID == "" && ctx.Err() == nil {
		if grp, rerr := x.c.read(ctx, "identity/group/id/"+gid); rerr == nil && grp != nil {
			if al, _ := grp["alias"].(map[string]any); al != nil && strings.EqualFold(str(al["name"]), o.Alias) && str(al["mount_accessor"]) == accessor {
				return nil
			}
		}
	}
	return err
}
