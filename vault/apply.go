package vault

import (
	"context"
	"fmt"

	"github.com/ssoctl/ssoctl/plan"
)

// op is one Vault operation as data; apply turns it into requests.
type op interface {
	apply(ctx context.Context, x *executor) error
}

// executor applies a plan's operations to one Vault. Its ids (mount
// accessors, group ids) start from the state read at planning time and
// grow as mounts and groups are created.
type executor struct {
	c   *Conn
	o   PlanOptions
	ids *plan.IDs
}

func mountRef(path string) plan.Ref { return plan.Ref{Kind: "auth-mount", Name: path} }
func groupRef(name string) plan.Ref { return plan.Ref{Kind: "group", Name: name} }

// bind makes the plan's Vault changes apply to c. o supplies the client
// secrets and the discovery check the config writes need.
func (c *Conn) bind(p *plan.Plan, st *State, o PlanOptions) {
	x := &executor{c: c, o: o, ids: plan.NewIDs()}
	for path, m := range st.Mounts {
		x.ids.Set(mountRef(path), m.Accessor)
	}
	for name, g := range st.Groups {
		if g != nil {
			x.ids.Set(groupRef(name), str(g["id"]))
		}
	}
	p.Bind("vault", func(ctx context.Context, ch *plan.Change) error {
		o, ok := ch.Op.(op)
		if !ok {
			return fmt.Errorf("vault: %s %s carries no Vault operation", ch.Kind, ch.Name)
		}
		return o.apply(ctx, x)
	})
}
