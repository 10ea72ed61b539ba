package cmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/ssoctl/ssoctl/keycloak"
)

type keycloakDescriptorOptions struct {
	IO      *IOStreams
	Getenv  func(string) string
	Context context.Context
	connect *connector
	keycloakTarget
}

func newKeycloakDescriptorCmd(f *Factory, runF func(*keycloakDescriptorOptions) error) *cobra.Command {
	opts := &keycloakDescriptorOptions{IO: f.IO, Getenv: f.Getenv, connect: f.connector()}
	cmd := &cobra.Command{
		Use:   "descriptor --realm R",
		Short: "Print the realm's SAML IdP metadata, raw",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.resolve(opts.Getenv); err != nil {
				return err
			}
			opts.Context = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return keycloakDescriptorRun(opts)
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
