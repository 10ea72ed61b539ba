package cmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ssoctl/ssoctl/rancher"
)

type rancherConvertOptions struct {
	commonOptions
	Src      metadataSource
	EntityID string
	Out      string
}

func newRancherConvertCmd(f *Factory, runF func(*rancherConvertOptions) error) *cobra.Command {
	opts := &rancherConvertOptions{commonOptions: newCommonOptions(f)}
	cmd := &cobra.Command{
		Use:   "convert [FILE|URL|-] [--realm R] [--entity-id ID] [--out FILE]",
		Short: "Reshape Keycloak's SAML metadata into the EntityDescriptor Rancher decodes",
		Long: `Read Keycloak SAML IdP metadata (a file, a URL, stdin, or --realm to fetch it
from Keycloak) and write the single <EntityDescriptor> root Rancher's Keycloak
provider decodes, with every namespace prefix it uses declared on it and the
whole IDPSSODescriptor intact. Keycloak 6-13's <EntitiesDescriptor> wrapper and
the md:-prefixed variant are unwrapped; a Keycloak 14+ EntityDescriptor passes
through unchanged. With several EntityDescriptors, pick one with --entity-id.

The result goes to stdout or --out FILE (-o is the global text|json switch;
-o json prints {shape, entity_id, changed, warnings, metadata}).`,
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Src.Arg = args[0]
			}
			if opts.Src.Realm != "" && opts.Src.Arg != "" {
				return usageErrorf("give a FILE/URL or --realm, not both")
			}
			return runCommand(cmd, opts, runF, rancherConvertRun)
		},
	}
	opts.Src.addFlags(cmd)
	cmd.Flags().StringVar(&opts.EntityID, "entity-id", "", "the EntityDescriptor to keep when there are several")
	cmd.Flags().StringVar(&opts.Out, "out", "", "write the metadata to FILE instead of stdout")
	return cmd
}

func rancherConvertRun(opts *rancherConvertOptions) error {
	data, _, err := opts.Src.read(opts.Context, opts.IO.In, opts.Getenv, opts.connect)
	if err != nil {
		return err
	}
	res, err := rancher.Convert(data, rancher.ConvertOptions{EntityID: opts.EntityID})
	if err != nil {
		return err
	}
	th := opts.IO.ErrTheme()
	for _, w := range res.Warnings {
		fmt.Fprintf(opts.IO.ErrOut, "%s %s\n", th.Warn.Render("warning:"), w.Message)
	}
	if opts.Globals.JSON() {
		return writeJSON(opts.IO.Out, struct {
			Shape    rancher.Shape     `json:"shape"`
			EntityID string            `json:"entity_id"`
			Changed  bool              `json:"changed"`
			Warnings []rancher.Finding `json:"warnings"`
			Metadata string            `json:"metadata"`
		}{res.Shape, res.EntityID, res.Changed, nonNilFindings(res.Warnings), string(res.Metadata)})
	}
	if opts.Out != "" {
		if err := writeFileAtomic(opts.Out, res.Metadata); err != nil {
			return err
		}
		fmt.Fprintf(opts.IO.ErrOut, "%s wrote %s (%s, entityID %s)\n", th.OK.Render("✓"), opts.Out, res.Shape, res.EntityID)
		return nil
	}
	_, err = opts.IO.Out.Write(res.Metadata)
	return err
}
