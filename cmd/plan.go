package cmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ssoctl/ssoctl/cmd/provision"
	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
	"github.com/ssoctl/ssoctl/vault"
)

// planOptions are the flags and dependencies of plan and apply.
type planOptions struct {
	fileOptions
	Only             string
	Parallel         int
	DetailedExitcode bool // plan
	Prune            bool // apply
	DryRun           bool // apply

	// loaded is the file already read and parsed (doctor --fix plans what
	// it wrote), in place of reading File.
	loaded *spec.File
}

func newPlanOptions(f *Factory) *planOptions {
	return &planOptions{fileOptions: newFileOptions(f)}
}

func addSpecFlags(cmd *cobra.Command, opts *planOptions) {
	opts.addFileFlag(cmd, "sso.yaml", "the sso.yaml to read (- for stdin)")
	cmd.Flags().StringVar(&opts.Only, "only", "", "restrict to one section: keycloak, vault, or rancher (the rancher section's SAML client in Keycloak)")
	cmd.Flags().IntVar(&opts.Parallel, "parallel", 8, "requests in flight at once, while reading and while applying")
}

func validatePlanOptions(opts *planOptions) error {
	switch opts.Only {
	case "", provision.OnlyKeycloak, provision.OnlyVault, provision.OnlyRancher:
	default:
		return usageErrorf("invalid value %q for --only: want keycloak, vault or rancher", opts.Only)
	}
	if opts.Parallel < 1 || opts.Parallel > 64 {
		return usageErrorf("--parallel must be between 1 and 64")
	}
	return nil
}

func newPlanCmd(f *Factory, runF func(*planOptions) error) *cobra.Command {
	opts := newPlanOptions(f)
	cmd := &cobra.Command{
		Use:   "plan -f sso.yaml",
		Short: "Show what apply would change, without changing anything",
		Long: `Read the current state of every system the file names and print the changes
that apply would make: + create, ~ update (with old -> new values), the objects
that only apply --prune would delete (those ssoctl created or adopted and the
file no longer names), and the objects it leaves alone because ssoctl does not
manage them. Secrets are masked.

With --detailed-exitcode the exit code is 4 when there are changes and 0 when
there are none, for scripts and CI.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validatePlanOptions(opts); err != nil {
				return err
			}
			return runCommand(cmd, opts, runF, planRun)
		},
	}
	addSpecFlags(cmd, opts)
	cmd.Flags().BoolVar(&opts.DetailedExitcode, "detailed-exitcode", false, "exit 4 when there are changes")
	return cmd
}

// buildPlan loads the file and plans every selected system.
func buildPlan(opts *planOptions, forApply bool) (*plan.Plan, error) {
	file, err := opts.loaded, error(nil)
	if file == nil {
		if file, err = opts.load(); err != nil {
			return nil, err
		}
	}
	check, err := opts.connect.discoveryChecker()
	if err != nil {
		return nil, err
	}
	// Every credential the run needs is resolved before the first request:
	// a variable that is not set is bad input, not a half-done run.
	var kc *keycloak.Admin
	if file.Keycloak != nil && opts.Only != provision.OnlyVault {
		if kc, err = opts.connect.keycloakAdmin(file.Keycloak.URL, file.Keycloak.Admin); err != nil {
			return nil, err
		}
	}
	var vc *vault.Conn
	if file.Vault != nil && (opts.Only == "" || opts.Only == provision.OnlyVault) {
		if vc, err = opts.connect.vaultConn(file.Vault.Addr, file.Vault.Namespace, true); err != nil {
			return nil, err
		}
	}
	if forApply && file.Keycloak != nil && opts.Only != provision.OnlyVault && opts.Only != provision.OnlyRancher {
		for _, u := range file.Keycloak.Users {
			if u.PasswordEnv != "" && opts.Getenv(u.PasswordEnv) == "" {
				return nil, &plan.MissingSecretError{Object: "user " + u.Username, Env: u.PasswordEnv}
			}
			if u.TOTPSecretEnv != "" && opts.Getenv(u.TOTPSecretEnv) == "" {
				return nil, &plan.MissingSecretError{Object: "user " + u.Username + "'s OTP credential", Env: u.TOTPSecretEnv}
			}
		}
	}
	sys := provision.Systems{
		Keycloak: func(k *spec.Keycloak) (*keycloak.Admin, error) {
			a, err := kc, error(nil)
			if a == nil {
				if a, err = opts.connect.keycloakAdmin(k.URL, k.Admin); err != nil {
					return nil, err
				}
			}
			// Another file's apply may hold the ownership record's lock.
			a.OnWait(func(msg string) { fmt.Fprintln(opts.IO.ErrOut, "ssoctl: "+msg) })
			return a, nil
		},
		Vault: func(v *spec.Vault) (*vault.Conn, error) {
			if vc != nil {
				return vc, nil
			}
			return opts.connect.vaultConn(v.Addr, v.Namespace, true)
		},
		CheckDiscovery: check,
	}
	return provision.Plan(opts.Context, file, sys, provision.Options{
		Only: opts.Only, ForApply: forApply, Concurrency: opts.Parallel, Getenv: opts.Getenv,
		OnSecret: func(s string) { opts.Redactor.Add(s) },
	})
}

func planRun(opts *planOptions) error {
	p, err := buildPlan(opts, false)
	if err != nil {
		return err
	}
	return writePlan(opts, p)
}

// writePlan prints p for plan and apply --dry-run. apply --prune --dry-run
// shows what that apply would do: the prunable deletions (and the record
// updates after them) move into the change list and the summary, as
// applyPlan moves them.
func writePlan(opts *planOptions, p *plan.Plan) error {
	if opts.DryRun && opts.Prune {
		p.IncludePrunable()
	}
	if opts.Globals.JSON() {
		if err := writeJSON(opts.IO.Out, p.JSON(opts.Globals.ShowSecrets)); err != nil {
			return err
		}
	} else if err := p.WriteText(opts.IO.Out, renderOptions(opts)); err != nil {
		return err
	}
	if opts.DetailedExitcode && p.HasChanges() {
		return &ExitError{Code: ExitChanges}
	}
	return nil
}

func renderOptions(opts *planOptions) plan.RenderOptions {
	return plan.RenderOptions{ShowSecrets: opts.Globals.ShowSecrets, Style: planStyle(opts.IO.OutTheme())}
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
