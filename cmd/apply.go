package cmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ssoctl/ssoctl/plan"
)

func newApplyCmd(f *Factory, runF func(*planOptions) error) *cobra.Command {
	opts := newPlanOptions(f)
	cmd := &cobra.Command{
		Use:   "apply -f sso.yaml",
		Short: "Make Keycloak and Vault match sso.yaml",
		Long: `Print the plan, then apply it in dependency order (realm, roles, clients,
mappers, groups, bindings, users; Vault policies, mounts, roles, groups).
A second apply of the same file changes nothing and writes nothing.

ssoctl records what it creates or adopts in the systems themselves (a realm
attribute, a mount option, group metadata). Nothing is deleted unless --prune
is given; then the recorded objects that the file no longer names are deleted,
never objects made by hand, never Keycloak's built-in clients and roles, never
users. An interrupted apply converges when run again.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validatePlanOptions(opts); err != nil {
				return err
			}
			return runCommand(cmd, opts, runF, applyOrPlanRun)
		},
	}
	addSpecFlags(cmd, opts)
	cmd.Flags().BoolVar(&opts.Prune, "prune", false, "also delete the objects ssoctl manages that the file no longer names")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "only print what apply would do (ssoctl plan, with --prune's deletions counted when --prune is given)")
	return cmd
}

// applyOrPlanRun is apply, or with --dry-run plan.
func applyOrPlanRun(opts *planOptions) error {
	if opts.DryRun {
		return planRun(opts)
	}
	return applyRun(opts)
}

func applyRun(opts *planOptions) error {
	p, err := buildPlan(opts, true)
	if err != nil {
		return err
	}
	return applyPlan(opts, p)
}

// applyPlan prints p, applies it (with --prune, its prunable deletions
// too) and prints the outcome.
func applyPlan(opts *planOptions, p *plan.Plan) error {
	if opts.Prune {
		p.IncludePrunable()
	}
	out, json := opts.IO.Out, opts.Globals.JSON()
	if !json {
		if err := p.WriteText(out, renderOptions(opts)); err != nil {
			return err
		}
	}
	if !p.HasChanges() {
		if json {
			applied := true
			doc := p.JSON(opts.Globals.ShowSecrets)
			doc.Applied = &applied
			return writeJSON(out, doc)
		}
		fmt.Fprintln(out, "Nothing to apply.")
		return nil
	}
	eth := opts.IO.ErrTheme()
	execErr := p.Execute(opts.Context, opts.Parallel, func(r plan.Result) {
		c := r.Change
		if r.Err != nil {
			fmt.Fprintf(opts.IO.ErrOut, "%s %s %s %s: %s\n", eth.Fail.Render("✗"), c.Action, c.Kind, c.Name, opts.Redactor.Redact(r.Err.Error()))
			return
		}
		fmt.Fprintf(opts.IO.ErrOut, "%s %s %s %s\n", eth.OK.Render("✓"), pastTense(c.Action), c.Kind, c.Name)
	})
	if json {
		applied := execErr == nil
		doc := p.JSON(opts.Globals.ShowSecrets)
		doc.Applied = &applied
		if err := writeJSON(out, doc); err != nil {
			return err
		}
	}
	if execErr != nil {
		return execErr
	}
	if !json {
		s := p.Summary()
		fmt.Fprintf(out, "Apply complete: %d created, %d updated, %d deleted.\n", s.Create, s.Update, s.Delete)
	}
	return nil
}

func pastTense(a plan.Action) string {
	switch a {
	case plan.Create:
		return "created"
	case plan.Update:
		return "updated"
	case plan.Delete:
		return "deleted"
	}
	return string(a)
}
