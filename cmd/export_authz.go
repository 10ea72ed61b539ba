package cmd

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/spec"
)

// export authz: the settings JSON for python-keycloak.

type exportAuthzOptions struct {
	keycloakOptions
	Client string
	Out    string
}

func newExportAuthzCmd(f *Factory, runF func(*exportAuthzOptions) error) *cobra.Command {
	opts := &exportAuthzOptions{keycloakOptions: newKeycloakOptions(f)}
	cmd := &cobra.Command{
		Use:   "authz --realm R --client C [--out FILE]",
		Short: "Write a client's Authorization Services settings, as the console's Export does",
		Long: `Write a client's authorization settings (resources, scopes, policies and
permissions by name) as the admin console's Authorization → Export writes them:
the JSON that python-keycloak's load_authorization_config reads
(KEYCLOAK_AUTHORIZATION_CONFIG).

python-keycloak evaluates less than Keycloak does: only role policies on the
client's own client roles, and no logic or decision strategy. Each policy and
permission it would read differently is named on stderr.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.resolveClientTarget(opts.Client); err != nil {
				return err
			}
			return runCommand(cmd, opts, runF, exportAuthzRun)
		},
	}
	opts.addFlags(cmd, "realm")
	cmd.Flags().StringVar(&opts.Client, "client", "", "the client whose authorization settings to export")
	cmd.Flags().StringVar(&opts.Out, "out", "", "write to FILE instead of stdout")
	return cmd
}

func exportAuthzRun(opts *exportAuthzOptions) error {
	admin, err := opts.connect.keycloakAdmin(opts.URL, spec.Admin{})
	if err != nil {
		return err
	}
	raw, err := admin.AuthzExport(opts.Context, opts.Realm, opts.Client)
	if err != nil {
		return err
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, raw, "", "  "); err != nil {
		return err
	}
	pretty.WriteByte('\n')
	settings, err := keycloak.ParseAuthzSettings(raw)
	if err != nil {
		return err
	}
	th := opts.IO.ErrTheme()
	for _, w := range keycloak.PythonKeycloakGaps(settings, opts.Client) {
		fmt.Fprintf(opts.IO.ErrOut, "%s python-keycloak: %s\n", th.Warn.Render("!"), w)
	}
	if opts.Out != "" {
		return writeFileAtomic(opts.Out, pretty.Bytes())
	}
	_, err = opts.IO.Out.Write(pretty.Bytes())
	return err
}
