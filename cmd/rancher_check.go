package cmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ssoctl/ssoctl/rancher"
)

type rancherCheckOptions struct {
	commonOptions
	Src metadataSource
}

func newRancherCheckCmd(f *Factory, runF func(*rancherCheckOptions) error) *cobra.Command {
	opts := &rancherCheckOptions{commonOptions: newCommonOptions(f)}
	cmd := &cobra.Command{
		Use:   "check FILE|URL|- [--realm R]",
		Short: "Decode metadata exactly as Rancher does and report what would fail",
		Long: `Decode IdP metadata with the same structure Rancher's Keycloak SAML provider
uses and report, with a fix for each: Rancher's own error text when it would
refuse the file, no signing certificate that decodes (an undeclared ds/dsig
prefix makes it vanish silently), a certificate that does not parse, no
SingleSignOnService with the HTTP-Redirect binding Rancher logs in with, and a
certificate that has expired or expires within 30 days (a warning).

Exit codes: 0 usable (warnings may be printed), 3 Rancher would fail, 2 not XML.`,
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Src.Arg = args[0]
			}
			if (opts.Src.Arg == "") == (opts.Src.Realm == "") {
				return usageErrorf("give one of FILE, URL, - or --realm")
			}
			return runCommand(cmd, opts, runF, rancherCheckRun)
		},
	}
	opts.Src.addFlags(cmd)
	return cmd
}

func rancherCheckRun(opts *rancherCheckOptions) error {
	data, name, err := opts.Src.read(opts.Context, opts.IO.In, opts.Getenv, opts.connect)
	if err != nil {
		return err
	}
	findings, err := rancher.Check(data, opts.Now())
	if err != nil {
		return err
	}
	if opts.Globals.JSON() {
		if err := writeJSON(opts.IO.Out, struct {
			Input    string            `json:"input"`
			Usable   bool              `json:"usable"`
			Findings []rancher.Finding `json:"findings"`
		}{name, !rancher.HasErrors(findings), nonNilFindings(findings)}); err != nil {
			return err
		}
	} else {
		writeRancherFindings(opts.IO, name, findings)
	}
	if rancher.HasErrors(findings) {
		return &ExitError{Code: ExitFindings}
	}
	return nil
}

func writeRancherFindings(ios *IOStreams, name string, findings []rancher.Finding) {
	th := ios.OutTheme()
	w := ios.Out
	if len(findings) == 0 {
		fmt.Fprintf(w, "%s %s: Rancher can use this metadata\n", th.OK.Render("✓"), name)
		return
	}
	writeFindingList(w, th, "", findings)
	if !rancher.HasErrors(findings) {
		fmt.Fprintf(w, "%s %s: usable, with the warnings above\n", th.OK.Render("✓"), name)
	}
}
