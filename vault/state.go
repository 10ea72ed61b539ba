package vault

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	vaultapi "github.com/hashicorp/vault/api"
	"golang.org/x/sync/errgroup"

	"github.com/ssoctl/ssoctl/spec"
)

// Markers of what ssoctl owns in Vault. A role has no metadata of its own,
// so the roles ssoctl created or adopted are listed in an option of their
// mount (sys/auth/<path>/tune options, which Vault stores with the mount
// and shows in `vault auth list -detailed`); an identity group carries the
// marker in its metadata.
const (
	RolesOption   = "ssoctl.roles"
	ManagedByKey  = "managed-by"
	ManagedByThis = "ssoctl"
	// OwnerKey is the metadata key that names the owner (spec.File.Owner)
	// of an external group ssoctl manages.
	OwnerKey = "ssoctl-owner"
)

// State is what Vault holds now for the objects a file manages.
type State struct {
	Mounts   map[string]*vaultapi.AuthMount // by path without the trailing slash
	Policies map[string]string              // managed name -> HCL ("" when missing)
	Configs  map[string]map[string]any      // mount -> auth config
	Roles    map[string]map[string]map[string]any
	// RoleNames lists every role on each managed mount (for prune).
	RoleNames map[string][]string
	Groups    map[string]map[string]any // managed name -> identity group (nil when missing)
	Aliases   []GroupAlias              // every group alias
	// Others are the groups, by id, that hold an alias on a managed mount
	// and that the file does not name: prunable when ssoctl owns them.
	Others map[string]map[string]any
}

// GroupAlias is one entry of the group-alias listing.
type GroupAlias struct {
	ID, Name, MountAccessor, CanonicalID string
}

// OwnedRoles returns the roles that the mount at path records as ssoctl's.
func (st *State) OwnedRoles(path string) map[string]bool {
	out := map[string]bool{}
	for n := range st.RoleOwners(path) {
		out[n] = true
	}
	return out
}

// RoleOwners returns the roles that the mount at path records, by owner
// (see spec.File.Owner): each owner's roles are in an option of its own,
// RolesOption + "." + owner, and the option RolesOption holds the roles
// recorded before owners (owner "").
func (st *State) RoleOwners(path string) map[string]string {
	out := map[string]string{}
	m := st.Mounts[path]
	if m == nil {
		return out
	}
	for key, val := range m.Options {
		owner, ok := "", key == RolesOption
		if rest, found := strings.CutPrefix(key, RolesOption+"."); found && rest != "" {
			owner, ok = rest, true
		}
		if !ok {
			continue
		}
		for _, n := range strings.Split(val, ",") {
			if n != "" {
				out[n] = owner
			}
		}
	}
	return out
}

// RolesOptionOf is the mount option that lists owner's roles.
func RolesOptionOf(owner string) string {
	if owner == "" {
		return RolesOption
	}
	return RolesOption + "." + owner
}

// ReadState reads the mounts, policies, configs, roles, groups and aliases
// that v names, with up to conc requests in flight: one listing of mounts,
// one read per managed policy, config, role and group, one role listing per
// mount, one listing of all group aliases, and one read per group that has
// an alias on a managed mount but is not in the file.
func (c *Conn) ReadState(ctx context.Context, v *spec.Vault, conc int) (*State, error) {
	st := &State{Policies: map[string]string{}, Configs: map[string]map[string]any{}, Roles: map[string]map[string]map[string]any{},
		RoleNames: map[string][]string{}, Groups: map[string]map[string]any{}, Mounts: map[string]*vaultapi.AuthMount{}, Others: map[string]map[string]any{}}
	mounts, err := c.api.Sys().ListAuthWithContext(ctx)
	if err != nil {
		return nil, c.wrap("GET", "sys/auth", err)
	}
	for p, m := range mounts {
		st.Mounts[strings.TrimSuffix(p, "/")] = m
	}
	if conc <= 0 {
		conc = 8
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(conc)
	for name := range v.Policies {
		g.Go(func() error {
			hcl, err := c.api.Sys().GetPolicyWithContext(gctx, name)
			if err != nil {
				return c.wrap("GET", "sys/policies/acl/"+name, err)
			}
			mu.Lock()
			st.Policies[name] = hcl
			mu.Unlock()
			return nil
		})
	}
	for _, a := range v.Auth {
		if _, ok := st.Mounts[a.Path]; !ok {
			continue
		}
		g.Go(func() error {
			cfg, err := c.read(gctx, "auth/"+a.Path+"/config")
			if err != nil {
				return err
			}
			mu.Lock()
			st.Configs[a.Path] = cfg
			mu.Unlock()
			return nil
		})
		g.Go(func() error {
			data, err := c.list(gctx, "auth/"+a.Path+"/role")
			if err != nil {
				return err
			}
			names := stringList(data["keys"])
			mu.Lock()
			st.RoleNames[a.Path] = names
			mu.Unlock()
			return nil
		})
		for name := range a.Roles {
			g.Go(func() error {
				r, err := c.read(gctx, "auth/"+a.Path+"/role/"+name)
				if err != nil {
					return err
				}
				mu.Lock()
				if st.Roles[a.Path] == nil {
					st.Roles[a.Path] = map[string]map[string]any{}
				}
				if r != nil {
					st.Roles[a.Path][name] = r
				}
				mu.Unlock()
				return nil
			})
		}
	}
	// Groups are global: read them whether or not their mount exists yet.
	for _, a := range v.Auth {
		for _, grp := range a.Groups {
			g.Go(func() error {
				data, err := c.read(gctx, "identity/group/name/"+grp.Name)
				if err != nil {
					return err
				}
				mu.Lock()
				st.Groups[grp.Name] = data
				mu.Unlock()
				return nil
			})
		}
	}
	if len(v.Auth) > 0 {
		g.Go(func() error {
			data, err := c.list(gctx, "identity/group-alias/id")
			if err != nil {
				return err
			}
			info, _ := data["key_info"].(map[string]any)
			var out []GroupAlias
			for id, raw := range info {
				m, _ := raw.(map[string]any)
				out = append(out, GroupAlias{ID: id, Name: str(m["name"]), MountAccessor: str(m["mount_accessor"]), CanonicalID: str(m["canonical_id"])})
			}
			slices.SortFunc(out, func(a, b GroupAlias) int { return strings.Compare(a.ID, b.ID) })
			mu.Lock()
			st.Aliases = out
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return st, c.readOthers(ctx, v, st, conc)
}

// readOthers reads the groups that hold an alias on a managed mount but
// are not named in the file, to tell ssoctl's own from the rest.
func (c *Conn) readOthers(ctx context.Context, v *spec.Vault, st *State, conc int) error {
	accessors := map[string]bool{}
	for _, a := range v.Auth {
		if m := st.Mounts[a.Path]; m != nil {
			accessors[m.Accessor] = true
		}
	}
	named := map[string]bool{}
	for _, grp := range st.Groups {
		if id := str(grp["id"]); id != "" {
			named[id] = true
		}
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(conc)
	seen := map[string]bool{}
	for _, al := range st.Aliases {
		id := al.CanonicalID
		if !accessors[al.MountAccessor] || named[id] || seen[id] {
			continue
		}
		seen[id] = true
		g.Go(func() error {
			data, err := c.read(gctx, "identity/group/id/"+id)
			if err != nil {
				return err
			}
			if data != nil {
				mu.Lock()
				st.Others[id] = data
				mu.Unlock()
			}
			return nil
		})
	}
	return g.Wait()
}

// ownedGroup reports whether a group carries ssoctl's marker.
func ownedGroup(grp map[string]any) bool {
	managed, _ := groupOwner(grp)
	return managed
}

// groupOwner reads a group's metadata: whether ssoctl manages it, and for
// which owner ("" for a group marked before owners).
func groupOwner(grp map[string]any) (managed bool, owner string) {
	md, _ := grp["metadata"].(map[string]any)
	return str(md[ManagedByKey]) == ManagedByThis, str(md[OwnerKey])
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func stringList(v any) []string {
	switch x := v.(type) {
	case []string:
		return x
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			out = append(out, fmt.Sprint(e))
		}
		return out
	}
	return nil
}
