package cmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/spec"
)

// keycloak federation sync|test NAME: a user federation's sync, and
// Keycloak's own connection and bind test.

type federationOptions struct {
	keycloakOptions
	Name    string
	Full    bool
	Changed bool
}

func newKeycloakFederationCmd(f *Factory) *cobra.Command {
	return newGroupCmd("federation <command>", "Sync or test a user federation (LDAP / Active Directory)",
		newKeycloakFederationSyncCmd(f, nil), newKeycloakFederationTestCmd(f, nil))
}

// federationSyncDoc is the documented -o json shape of federation sync.
type federationSyncDoc struct {
	Federation string `json:"federation"`
	Realm      string `json:"realm"`
	Mode       string `json:"mode"` // full | changed
	keycloak.SyncResult
}

func newKeycloakFederationSyncCmd(f *Factory, runF func(*federationOptions) error) *cobra.Command {
	opts := &federationOptions{keycloakOptions: newKeycloakOptions(f)}
	cmd := &cobra.Command{
		Use:   "sync NAME --realm R [--full|--changed]",
		Short: "Sync a user federation now and print the users added, updated, removed and failed",
		Long: `Trigger a sync of the realm's user federation NAME (keycloak.user_federation's
name): --full (the default) reads every user of the directory, --changed only
those changed since the last sync. Prints Keycloak's counts; -o json gives
{federation, realm, mode, ignored, added, updated, removed, failed, status}.
Exit code 3 when some users failed; 1 when the federation does not exist.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.resolveTarget(); err != nil {
				return err
			}
			if opts.Full && opts.Changed {
				return usageErrorf("--full and --changed exclude each other")
			}
			opts.Name = args[0]
			return runCommand(cmd, opts, runF, federationSyncRun)
		},
	}
	opts.addFlags(cmd, "realm")
	cmd.Flags().BoolVar(&opts.Full, "full", false, "sync every user (the default)")
	cmd.Flags().BoolVar(&opts.Changed, "changed", false, "sync only the users changed since the last sync")
	return cmd
}

func federationSyncRun(opts *federationOptions) error {
	admin, err := opts.connect.keycloakAdmin(opts.URL, spec.Admin{})
	if err != nil {
		return err
	}
	res, err := admin.SyncFederation(opts.Context, opts.Realm, opts.Name, !opts.Changed)
	if err != nil {
		return err
	}
	doc := federationSyncDoc{Federation: opts.Name, Realm: opts.Realm, Mode: "full", SyncResult: *res}
	if opts.Changed {
		doc.Mode = "changed"
	}
	if opts.Globals.JSON() {
		if err := writeJSON(opts.IO.Out, doc); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(opts.IO.Out, "%s sync of %s: %d added, %d updated, %d removed, %d failed\n", doc.Mode, opts.Name, res.Added, res.Updated, res.Removed, res.Failed)
		if res.Ignored {
			fmt.Fprintln(opts.IO.Out, "Keycloak ignored it: another sync of this federation is running")
		}
	}
	if res.Failed > 0 {
		return &ExitError{Code: 3}
	}
	return nil
}

// federationTestDoc is the documented -o json shape of federation test.
type federationTestDoc struct {
	Federation string                    `json:"federation"`
	Realm      string                    `json:"realm"`
	OK         bool                      `json:"ok"`
	Steps      []keycloak.FederationTest `json:"steps"`
}

func newKeycloakFederationTestCmd(f *Factory, runF func(*federationOptions) error) *cobra.Command {
	opts := &federationOptions{keycloakOptions: newKeycloakOptions(f)}
	cmd := &cobra.Command{
		Use:   "test NAME --realm R",
		Short: "Run Keycloak's connection and authentication test of a user federation",
		Long: `Ask Keycloak to connect to the directory of user federation NAME, then to bind
with its bind DN and the credential Keycloak keeps (ssoctl never reads it back).
Prints ok or Keycloak's error for each step; -o json gives {federation, realm,
ok, steps: [{step, error}]}. Exit code 3 when a step fails.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.resolveTarget(); err != nil {
				return err
			}
			opts.Name = args[0]
			return runCommand(cmd, opts, runF, federationTestRun)
		},
	}
	opts.addFlags(cmd, "realm")
	return cmd
}

func federationTestRun(opts *federationOptions) error {
	admin, err := opts.connect.keycloakAdmin(opts.URL, spec.Admin{})
	if err != nil {
		return err
	}
	steps, err := admin.TestFederation(opts.Context, opts.Realm, opts.Name)
	if err != nil {
		return err
	}
	doc := federationTestDoc{Federation: opts.Name, Realm: opts.Realm, OK: true, Steps: steps}
	for _, s := range steps {
		if s.Err != "" {
			doc.OK = false
		}
	}
	if opts.Globals.JSON() {
		if err := writeJSON(opts.IO.Out, doc); err != nil {
			return err
		}
	} else {
		for _, s := range steps {
			res := "ok"
			if s.Err != "" {
				res = "failed: " + s.Err
			}
			fmt.Fprintf(opts.IO.Out, "%s: %s\n", s.Step, res)
		}
	}
	if !doc.OK {
		return &ExitError{Code: 3}
	}
	return nil
}
