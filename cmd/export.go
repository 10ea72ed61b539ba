package cmd

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ssoctl/ssoctl/spec"
)

// exportOptions are the flags of export keycloak.
type exportOptions struct {
	keycloakOptions
	Clients []string
}

func newExportKeycloakCmd(f *Factory, runF func(*exportOptions) error) *cobra.Command {
	opts := &exportOptions{keycloakOptions: newKeycloakOptions(f)}
	cmd := &cobra.Command{
		Use:   "keycloak --realm R [--client ID]...",
		Short: "Write a realm's clients, roles, mappers and groups as sso.yaml",
		Long: `Read a realm and print it as the keycloak: section of an sso.yaml: realm
roles, clients (all but the built-in ones, or those named by --client) with
their roles and mappers in shorthand, and groups with their role bindings.
Applying the output to an empty realm reproduces them. Users are not exported.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.resolveTarget(); err != nil {
				return err
			}
			return runCommand(cmd, opts, runF, exportKeycloakRun)
		},
	}
	opts.addFlags(cmd, "realm to export")
	cmd.Flags().StringArrayVar(&opts.Clients, "client", nil, "export only this client_id (repeatable)")
	return cmd
}

func exportKeycloakRun(opts *exportOptions) error {
	admin, err := opts.connect.keycloakAdmin(opts.URL, spec.Admin{})
	if err != nil {
		return err
	}
	k, err := admin.Export(opts.Context, opts.Realm, opts.Clients)
	if err != nil {
		return err
	}
	doc := &spec.File{Keycloak: k}
	if opts.Globals.JSON() {
		return writeJSON(opts.IO.Out, doc)
	}
	return writeYAML(opts.IO.Out, doc, fmt.Sprintf("# exported from realm %s on %s by ssoctl\n", opts.Realm, strings.TrimRight(opts.URL, "/")))
}
