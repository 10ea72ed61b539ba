package cmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ssoctl/ssoctl/internal/secret"
	"github.com/ssoctl/ssoctl/spec"
)

// keycloak client-secret: a confidential client's secret, for an
// environment variable.

type clientSecretOptions struct {
	keycloakOptions
	ClientID string
}

// clientSecretDoc is the documented -o json shape of keycloak client-secret.
type clientSecretDoc struct {
	Client string `json:"client"`
	Realm  string `json:"realm"`
	Secret string `json:"secret"`
	// Masked is true when Secret is the masked form (no --show-secrets).
	Masked bool `json:"masked"`
}

func newKeycloakClientSecretCmd(f *Factory, runF func(*clientSecretOptions) error) *cobra.Command {
	opts := &clientSecretOptions{keycloakOptions: newKeycloakOptions(f)}
	cmd := &cobra.Command{
		Use:   "client-secret --realm R --client ID [--show-secrets]",
		Short: "Print a confidential client's secret (masked unless --show-secrets)",
		Long: `Print the secret of a confidential client, read through the admin API (with
$KEYCLOAK_ADMIN and $KEYCLOAK_ADMIN_PASSWORD), on one line:

  export SHOP_OIDC_SECRET=$(ssoctl keycloak client-secret --realm shop --client shop --show-secrets)

Without --show-secrets the secret is masked (abcd…wxyz), on a terminal or
not, and stderr says so: the exit code is still 0, so check stderr (or the
"masked" field of -o json) in a script that forgets the flag. -o json gives
{client, realm, secret, masked}.

A public or bearer-only client, or one that authenticates with a signed JWT
or a certificate, has no secret: exit code 2. A client or realm that does
not exist: exit code 1.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.resolveClientTarget(opts.ClientID); err != nil {
				return err
			}
			return runCommand(cmd, opts, runF, clientSecretRun)
		},
	}
	opts.addFlags(cmd, "realm")
	cmd.Flags().StringVar(&opts.ClientID, "client", "", "client_id of the confidential client")
	return cmd
}

func clientSecretRun(opts *clientSecretOptions) error {
	admin, err := opts.connect.keycloakAdmin(opts.URL, spec.Admin{})
	if err != nil {
		return err
	}
	s, err := admin.RequiredClientSecret(opts.Context, opts.Realm, opts.ClientID)
	if err != nil {
		return err
	}
	opts.Redactor.Add(s)
	doc := clientSecretDoc{Client: opts.ClientID, Realm: opts.Realm, Secret: s}
	if !opts.Globals.ShowSecrets {
		doc.Secret, doc.Masked = secret.Mask(s), true
		eth := opts.IO.ErrTheme()
		fmt.Fprintf(opts.IO.ErrOut, "%s the secret is masked; pass --show-secrets to print it whole (e.g. in export VAR=$(ssoctl keycloak client-secret … --show-secrets))\n",
			eth.Warn.Render("note:"))
	}
	if opts.Globals.JSON() {
		return writeJSON(opts.IO.Out, doc)
	}
	_, err = fmt.Fprintln(opts.IO.Out, doc.Secret)
	return err
}
