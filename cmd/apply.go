package cmd

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
	"github.com/ssoctl/ssoctl/vault"
)

type applyOptions struct {
	f                *Factory
	File             string
	Only             string
	Prune            bool
	DryRun           bool
	DetailedExitcode bool
	Parallel         int
	apply            bool
}

func addSpecFlags(cmd *cobra.Command, opts *applyOptions) {
	cmd.Flags().StringVarP(&opts.File, "file", "f", "sso.yaml", "the sso.yaml to read (- for stdin)")
	cmd.Flags().StringVar(&opts.Only, "only", "", "restrict to one system: keycloak or vault")
	cmd.Flags().IntVar(&opts.Parallel, "parallel", 8, "requests in flight at once")
}

func validateApplyOptions(opts *applyOptions) error {
	switch opts.Only {
	case "", "keycloak", "vault", "rancher":
	default:
		return usageErrorf("invalid value %q for --only: want keycloak, vault or rancher", opts.Only)
	}
	if opts.Parallel < 1 || opts.Parallel > 64 {
		return usageErrorf("--parallel must be between 1 and 64")
	}
	return nil
}

func newPlanCmd(f *Factory, runF func(*applyOptions) error) *cobra.Command {
	opts := &applyOptions{f: f}
	cmd := &cobra.Command{
		Use:   "plan -f sso.yaml",
		Short: "Show what apply would change, without changing anything",
		Long: `Read the current state of every system the file names and print the changes
that apply would make: + create, ~ update (with old -> new values), and the
objects that only apply --prune would delete. Secrets are masked.

With --detailed-exitcode the exit code is 4 when there are changes and 0 when
there are none, for scripts and CI.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validateApplyOptions(opts); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return applyRun(opts)
		},
	}
	addSpecFlags(cmd, opts)
	cmd.Flags().BoolVar(&opts.DetailedExitcode, "detailed-exitcode", false, "exit 4 when there are changes")
	return cmd
}

func newApplyCmd(f *Factory, runF func(*applyOptions) error) *cobra.Command {
	opts := &applyOptions{f: f, apply: true}
	cmd := &cobra.Command{
		Use:   "apply -f sso.yaml",
		Short: "Make Keycloak and Vault match sso.yaml",
		Long: `Print the plan, then apply it in dependency order (realm, roles, clients,
mappers, groups, bindings, users; Vault policies, mounts, roles, groups).
A second apply of the same file changes nothing and writes nothing.

Nothing is deleted unless --prune is given; then objects of the kinds the file
manages that it no longer names are deleted (never Keycloak's built-in
clients and roles, never users). An interrupted apply converges when run again.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validateApplyOptions(opts); err != nil {
				return err
			}
			if opts.DryRun {
				opts.apply = false
			}
			if runF != nil {
				return runF(opts)
			}
			return applyRun(opts)
		},
	}
	addSpecFlags(cmd, opts)
	cmd.Flags().BoolVar(&opts.Prune, "prune", false, "also delete managed objects the file no longer names")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "only print the plan (same as ssoctl plan)")
	return cmd
}

// buildPlan reads every selected system and returns the combined plan.
func buildPlan(opts *applyOptions, file *spec.File) (*plan.Plan, error) {
	f := opts.f
	p := &plan.Plan{}
	var admin *keycloak.Admin
	newClients := map[string]bool{}
	pendingIssuers := map[string]bool{}
	if file.Keycloak != nil && (opts.Only == "" || opts.Only == "keycloak" || opts.Only == "vault") {
		var err error
		admin, err = f.keycloakAdmin(file.Keycloak.URL, file.Keycloak.Admin)
		if err != nil {
			return nil, err
		}
	}
	if file.Keycloak != nil && (opts.Only == "" || opts.Only == "keycloak") {
		kp, _, err := admin.Plan(f.Context, file.Keycloak, keycloak.PlanOptions{Getenv: f.Getenv, ForApply: opts.apply})
		if err != nil {
			return nil, err
		}
		for _, c := range kp.Changes {
			if c.Kind == "realm" && c.Action == plan.Create {
				pendingIssuers[strings.TrimRight(file.Keycloak.URL, "/")+"/realms/"+file.Keycloak.Realm] = true
			}
			if c.Kind == "client" && c.Action == plan.Create {
				newClients[strings.TrimPrefix(c.Name, file.Keycloak.Realm+"/")] = true
			}
		}
		p.Merge(kp)
	}
	if file.Vault != nil && (opts.Only == "" || opts.Only == "vault") {
		conn, err := f.vaultConn(file.Vault.Addr, file.Vault.Namespace, true)
		if err != nil {
			return nil, err
		}
		check, err := f.discoveryChecker()
		if err != nil {
			return nil, err
		}
		vo := vault.PlanOptions{Getenv: f.Getenv, NewSecrets: newClients, CheckDiscovery: check, PendingIssuers: pendingIssuers, Keycloak: file.Keycloak, ForApply: opts.apply}
		if admin != nil {
			realm := file.Keycloak.Realm
			vo.ClientSecret = func(ctx context.Context, clientID string) (string, error) {
				s, err := admin.ClientSecret(ctx, realm, clientID)
				f.Redactor.Add(s)
				return s, err
			}
		}
		vp, err := conn.Plan(f.Context, file.Vault, vo)
		if err != nil {
			return nil, err
		}
		p.Merge(vp)
	}
	return p, nil
}

func applyRun(opts *applyOptions) error {
	f := opts.f
	file, err := spec.Load(opts.File, f.Getenv)
	if err != nil {
		return err
	}
	p, err := buildPlan(opts, file)
	if err != nil {
		return err
	}
	if opts.apply && opts.Prune {
		p.IncludePrunable()
	}
	th := f.IO.OutTheme()
	renderOpts := plan.RenderOptions{ShowSecrets: f.Globals.ShowSecrets, Style: planStyle(th)}

	if !opts.apply {
		if f.Globals.JSON() {
			if err := writeJSON(f.IO.Out, p.JSON(f.Globals.ShowSecrets)); err != nil {
				return err
			}
		} else if err := p.WriteText(f.IO.Out, renderOpts); err != nil {
			return err
		}
		if opts.DetailedExitcode && p.HasChanges() {
			return &ExitError{Code: ExitChanges}
		}
		return nil
	}

	if !f.Globals.JSON() {
		if err := p.WriteText(f.IO.Out, renderOpts); err != nil {
			return err
		}
	}
	if !p.HasChanges() {
		if f.Globals.JSON() {
			applied := true
			doc := p.JSON(f.Globals.ShowSecrets)
			doc.Applied = &applied
			return writeJSON(f.IO.Out, doc)
		}
		fmt.Fprintln(f.IO.Out, "Nothing to apply.")
		return nil
	}
	eth := f.IO.ErrTheme()
	execErr := p.Execute(f.Context, opts.Parallel, func(r plan.Result) {
		c := r.Change
		if r.Err != nil {
			fmt.Fprintf(f.IO.ErrOut, "%s %s %s %s: %s\n", eth.Fail.Render("✗"), c.Action, c.Kind, c.Name, f.Redactor.Redact(r.Err.Error()))
			return
		}
		fmt.Fprintf(f.IO.ErrOut, "%s %s %s %s\n", eth.OK.Render("✓"), pastTense(c.Action), c.Kind, c.Name)
	})
	if f.Globals.JSON() {
		applied := execErr == nil
		doc := p.JSON(f.Globals.ShowSecrets)
		doc.Applied = &applied
		if err := writeJSON(f.IO.Out, doc); err != nil {
			return err
		}
	}
	if execErr != nil {
		return execErr
	}
	if !f.Globals.JSON() {
		s := p.Summary()
		fmt.Fprintf(f.IO.Out, "Apply complete: %d created, %d updated, %d deleted.\n", s.Create, s.Update, s.Delete)
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

// planStyle maps plan roles to the theme.
func planStyle(th *Theme) func(role, s string) string {
	return func(role, s string) string {
		switch role {
		case "create":
			return th.OK.Render(s)
		case "update":
			return th.Warn.Render(s)
		case "delete":
			return th.Fail.Render(s)
		case "muted":
			return th.Muted.Render(s)
		}
		return s
	}
}

// exportOptions are the flags of export keycloak.
type exportOptions struct {
	f *Factory
	keycloakTarget
	Clients []string
}

func newExportCmd(f *Factory) *cobra.Command {
	return newGroupCmd("export <system>", "Write a system's current state as an sso.yaml fragment", newExportKeycloakCmd(f, nil))
}

func newExportKeycloakCmd(f *Factory, runF func(*exportOptions) error) *cobra.Command {
	opts := &exportOptions{f: f}
	cmd := &cobra.Command{
		Use:   "keycloak --realm R [--client ID]...",
		Short: "Write a realm's clients, roles, mappers and groups as sso.yaml",
		Long: `Read a realm and print it as the keycloak: section of an sso.yaml: realm
roles, clients (all but the built-in ones, or those named by --client) with
their roles and mappers in shorthand, and groups with their role bindings.
Applying the output to an empty realm reproduces them. Users are not exported.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.resolve(f); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return exportKeycloakRun(opts)
		},
	}
	opts.addFlags(cmd, "realm to export")
	cmd.Flags().StringArrayVar(&opts.Clients, "client", nil, "export only this client_id (repeatable)")
	return cmd
}

func exportKeycloakRun(opts *exportOptions) error {
	f := opts.f
	admin, err := f.keycloakAdmin(opts.URL, spec.Admin{})
	if err != nil {
		return err
	}
	k, err := admin.Export(f.Context, opts.Realm, opts.Clients)
	if err != nil {
		return err
	}
	doc := &spec.File{Keycloak: k}
	if f.Globals.JSON() {
		return writeJSON(f.IO.Out, doc)
	}
	return writeYAML(f.IO.Out, doc, fmt.Sprintf("# exported from realm %s on %s by ssoctl\n", opts.Realm, strings.TrimRight(opts.URL, "/")))
}

// writeYAML writes header and then v as YAML.
func writeYAML(w io.Writer, v any, header string) error {
	b, err := spec.Marshal(v)
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, header+string(b))
	return err
}
