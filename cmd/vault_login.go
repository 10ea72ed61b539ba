package cmd

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ssoctl/ssoctl/inspect"
	"github.com/ssoctl/ssoctl/internal/secret"
)

type vaultLoginOptions struct {
	commonOptions
	Mount string
	Role  string
	Input string
}

func newVaultLoginCmd(f *Factory, runF func(*vaultLoginOptions) error) *cobra.Command {
	opts := &vaultLoginOptions{commonOptions: newCommonOptions(f)}
	cmd := &cobra.Command{
		Use:   "login --mount PATH --role NAME [TOKEN-FILE|-]",
		Short: "Log in to Vault's JWT auth with a token; print the entity, policies and TTL",
		Long: `Log in to auth/<mount>/login on the real Vault ($VAULT_ADDR) with a JWT read
from a file or stdin (a compact token, "Bearer <token>", or a token-endpoint
JSON response, whose ID token is used). Prints the entity, the token's
policies (from the role) and identity policies (from external groups), and
the TTL. The Vault token received is printed only with --show-secrets.

When Vault rejects the login its own message is printed and the exit code
is 1; ssoctl inspect token --vault-role explains why.`,
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Mount == "" {
				return usageErrorf("--mount is required")
			}
			opts.Mount = strings.Trim(opts.Mount, "/")
			opts.Input = "-"
			if len(args) == 1 {
				opts.Input = args[0]
			}
			return runCommand(cmd, opts, runF, vaultLoginRun)
		},
	}
	cmd.Flags().StringVar(&opts.Mount, "mount", "", "the JWT auth mount path, e.g. jwt")
	cmd.Flags().StringVar(&opts.Role, "role", "", "the role to log in with (default: the mount's default_role)")
	return cmd
}

func vaultLoginRun(opts *vaultLoginOptions) error {
	data, err := readInput(opts.IO.In, opts.Input, maxInput)
	if err != nil {
		return err
	}
	tok, err := inspect.ParseInput(data, inspect.PickDefault)
	if err != nil {
		return err
	}
	opts.Redactor.Add(tok.Raw)
	conn, err := opts.connect.vaultConn("", "", false)
	if err != nil {
		return err
	}
	res, err := conn.Login(opts.Context, opts.Mount, opts.Role, tok.Raw)
	if err != nil {
		return err
	}
	opts.Redactor.Add(res.Token)
	if !opts.Globals.ShowSecrets {
		res.Token = secret.Mask(res.Token)
	}
	if opts.Globals.JSON() {
		return writeJSON(opts.IO.Out, res)
	}
	th := opts.IO.OutTheme()
	w := opts.IO.Out
	role := "the mount's default role"
	if opts.Role != "" {
		role = "role " + strconv.Quote(opts.Role)
	}
	fmt.Fprintf(w, "%s logged in to %s/ as %s\n", th.OK.Render("✓"), opts.Mount, role)
	fmt.Fprintf(w, "entity:            %s (%s)\n", res.DisplayName, res.EntityID)
	fmt.Fprintf(w, "token policies:    %s\n", strings.Join(res.TokenPolicies, ", "))
	fmt.Fprintf(w, "identity policies: %s\n", orNone(strings.Join(res.IdentityPolicies, ", ")))
	if len(res.GroupNames) > 0 {
		fmt.Fprintf(w, "groups:            %s\n", strings.Join(res.GroupNames, ", "))
	}
	fmt.Fprintf(w, "ttl:               %s\n", res.TTL.Round(time.Second))
	fmt.Fprintf(w, "token:             %s\n", res.Token)
	return nil
}
