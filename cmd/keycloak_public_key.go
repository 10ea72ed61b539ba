package cmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ssoctl/ssoctl/keycloak"
)

// keycloak public-key: the realm's key as PEM.

type publicKeyOptions struct {
	keycloakOptions
}

func newKeycloakPublicKeyCmd(f *Factory, runF func(*publicKeyOptions) error) *cobra.Command {
	opts := &publicKeyOptions{newKeycloakOptions(f)}
	cmd := &cobra.Command{
		Use:   "public-key --realm R",
		Short: "Print the realm's active RS256 key as a PEM block",
		Long: `Print the realm's active RS256 public key as a "BEGIN PUBLIC KEY" PEM block
with 64-character lines, the form python-keycloak's decode_token accepts
(a bare base64 key, as the console shows it, fails there with an unrelated
error). -o json gives {kid, alg, pem, certificate}.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.resolveTarget(); err != nil {
				return err
			}
			return runCommand(cmd, opts, runF, publicKeyRun)
		},
	}
	opts.addFlags(cmd, "realm")
	return cmd
}

func publicKeyRun(opts *publicKeyOptions) error {
	hc, err := opts.connect.plainHTTP()
	if err != nil {
		return err
	}
	k, err := keycloak.ActiveRSAKey(opts.Context, hc, opts.URL, opts.Realm)
	if err != nil {
		return err
	}
	if opts.Globals.JSON() {
		return writeJSON(opts.IO.Out, k)
	}
	_, err = fmt.Fprint(opts.IO.Out, k.PEM)
	return err
}
