package cmd

import (
	"github.com/spf13/cobra"

	"github.com/ssoctl/ssoctl/keycloak"
)

type keycloakDescriptorOptions struct {
	keycloakOptions
}

func newKeycloakDescriptorCmd(f *Factory, runF func(*keycloakDescriptorOptions) error) *cobra.Command {
	opts := &keycloakDescriptorOptions{newKeycloakOptions(f)}
	cmd := &cobra.Command{
		Use:   "descriptor --realm R",
		Short: "Print the realm's SAML IdP metadata, raw",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.resolveTarget(); err != nil {
				return err
			}
			return runCommand(cmd, opts, runF, keycloakDescriptorRun)
		},
	}
	opts.addFlags(cmd, "realm")
	return cmd
}

func keycloakDescriptorRun(opts *keycloakDescriptorOptions) error {
	hc, err := opts.connect.plainHTTP()
	if err != nil {
		return err
	}
	xml, err := keycloak.Descriptor(opts.Context, hc, opts.URL, opts.Realm)
	if err != nil {
		return err
	}
	_, err = opts.IO.Out.Write(xml)
	return err
}
