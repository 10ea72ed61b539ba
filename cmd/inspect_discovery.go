package cmd

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ssoctl/ssoctl/inspect"
)

type inspectDiscoveryOptions struct {
	commonOptions
	Issuer string
}

func newInspectDiscoveryCmd(f *Factory, runF func(*inspectDiscoveryOptions) error) *cobra.Command {
	opts := &inspectDiscoveryOptions{commonOptions: newCommonOptions(f)}
	return &cobra.Command{
		Use:   "discovery ISSUER",
		Short: "Fetch and check an issuer's OIDC discovery document and JWKS",
		Long: `Fetch ISSUER/.well-known/openid-configuration and check it the way Vault does
when oidc_discovery_url is written: the document's issuer equals ISSUER exactly
(a trailing slash matters), the JWKS at jwks_uri can be fetched and holds
signing keys. Lists the keys and the supported signing algorithms.

Exit codes: 0 ok, 3 a check failed, 1 the document could not be fetched.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Issuer = args[0]
			return runCommand(cmd, opts, runF, inspectDiscoveryRun)
		},
	}
}

func inspectDiscoveryRun(opts *inspectDiscoveryOptions) error {
	hc, err := opts.connect.plainHTTP()
	if err != nil {
		return err
	}
	rep, err := inspect.CheckDiscovery(opts.Context, hc, opts.Issuer)
	if err != nil {
		return err
	}
	if opts.Globals.JSON() {
		if err := writeJSON(opts.IO.Out, rep); err != nil {
			return err
		}
	} else {
		th := opts.IO.OutTheme()
		w := opts.IO.Out
		mark := th.OK.Render("✓")
		if rep.DocumentIssuer != rep.Issuer {
			mark = th.Fail.Render("✗")
		}
		fmt.Fprintf(w, "%s issuer   %s\n", mark, rep.DocumentIssuer)
		fmt.Fprintf(w, "  document %s\n", rep.URL)
		fmt.Fprintf(w, "  jwks_uri %s\n", rep.JWKSURI)
		for _, k := range rep.Keys {
			fmt.Fprintf(w, "  key      %s %s %d bits alg=%s use=%s\n", k.ID, k.Type, k.Bits, orNone(k.Alg), orNone(k.Use))
		}
		fmt.Fprintf(w, "  signing algorithms: %s\n", strings.Join(rep.SigningAlgs, ", "))
		writeFindings(opts.IO, "Findings:", rep.Findings)
	}
	if inspect.HasErrors(rep.Findings) {
		return &ExitError{Code: ExitFindings}
	}
	return nil
}
