package cmd

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ssoctl/ssoctl/inspect"
	"github.com/ssoctl/ssoctl/internal/httpclient"
	"github.com/ssoctl/ssoctl/vault"
)

// vaultConn connects to Vault the way the vault CLI does: VAULT_ADDR (or
// the file's addr), VAULT_TOKEN, VAULT_NAMESPACE, VAULT_CACERT and
// VAULT_SKIP_VERIFY.
func (f *Factory) vaultConn(addr, namespace string, needToken bool) (*vault.Conn, error) {
	if addr == "" {
		addr = f.Getenv("VAULT_ADDR")
	}
	if addr == "" {
		return nil, usageErrorf("no Vault server: set $VAULT_ADDR or vault.addr")
	}
	if namespace == "" {
		namespace = f.Getenv("VAULT_NAMESPACE")
	}
	token := f.Getenv("VAULT_TOKEN")
	if needToken && token == "" {
		return nil, usageErrorf("no Vault token: set $VAULT_TOKEN")
	}
	f.Redactor.Add(token)
	skip, _ := strconv.ParseBool(f.Getenv("VAULT_SKIP_VERIFY"))
	hc, err := f.HTTPClient(httpclient.Options{CACertFile: f.Getenv("VAULT_CACERT"), InsecureSkipVerify: skip})
	if err != nil {
		return nil, err
	}
	return vault.Connect(vault.Config{Addr: addr, Token: token, Namespace: namespace, HTTPClient: hc, TokenSource: "$VAULT_TOKEN"})
}

// discoveryChecker fetches a discovery document the way Vault will when
// the mount config is written, and explains what Vault would only call
// "error checking oidc discovery URL".
func (f *Factory) discoveryChecker() (func(ctx context.Context, url string) error, error) {
	hc, err := f.HTTPClient(httpclient.Options{})
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, url string) error {
		rep, err := inspect.CheckDiscovery(ctx, hc, url)
		if err != nil {
			return fmt.Errorf("discovery_url %s: %w (Vault would answer only \"error checking oidc discovery URL\")", url, err)
		}
		for _, fd := range rep.Findings {
			if fd.Severity == inspect.SeverityError {
				return &vault.InputError{Msg: fmt.Sprintf("discovery_url %s: %s; fix: %s", url, fd.Message, fd.Fix)}
			}
		}
		return nil
	}, nil
}

func newVaultCmd(f *Factory) *cobra.Command {
	return newGroupCmd("vault <command>", "Log in to Vault with a JWT and show what it grants", newVaultLoginCmd(f, nil))
}

type vaultLoginOptions struct {
	f     *Factory
	Mount string
	Role  string
	Input string
}

func newVaultLoginCmd(f *Factory, runF func(*vaultLoginOptions) error) *cobra.Command {
	opts := &vaultLoginOptions{f: f}
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
			if runF != nil {
				return runF(opts)
			}
			return vaultLoginRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Mount, "mount", "", "the JWT auth mount path, e.g. jwt")
	cmd.Flags().StringVar(&opts.Role, "role", "", "the role to log in with (default: the mount's default_role)")
	return cmd
}

func vaultLoginRun(opts *vaultLoginOptions) error {
	f := opts.f
	data, err := readInput(f, opts.Input)
	if err != nil {
		return err
	}
	tok, err := inspect.ParseInput(data, inspect.PickDefault)
	if err != nil {
		return err
	}
	f.Redactor.Add(tok.Raw)
	conn, err := f.vaultConn("", "", false)
	if err != nil {
		return err
	}
	res, err := conn.Login(f.Context, opts.Mount, opts.Role, tok.Raw)
	if err != nil {
		return err
	}
	f.Redactor.Add(res.Token)
	if !f.Globals.ShowSecrets {
		res.Token = f.MaskSecret(res.Token)
	}
	if f.Globals.JSON() {
		return writeJSON(f.IO.Out, res)
	}
	th := f.IO.OutTheme()
	w := f.IO.Out
	fmt.Fprintf(w, "%s logged in to %s/ as role %q\n", th.OK.Render("✓"), opts.Mount, opts.Role)
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

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// maxInput bounds what is read from a token file or stdin.
const maxInput = 1 << 20

// readInput reads a file, or stdin for "-", up to maxInput bytes.
func readInput(f *Factory, name string) ([]byte, error) {
	var r io.Reader
	if name == "-" || name == "" {
		r = f.IO.In
	} else {
		file, err := openFile(name)
		if err != nil {
			return nil, err
		}
		defer file.Close()
		r = file
	}
	data, err := io.ReadAll(io.LimitReader(r, maxInput+1))
	if err != nil {
		return nil, &inputError{fmt.Sprintf("reading %s: %v", name, err)}
	}
	if len(data) > maxInput {
		return nil, &inputError{fmt.Sprintf("%s is larger than %d bytes", name, maxInput)}
	}
	return data, nil
}

// inputError is bad input found by the CLI itself (exit 2).
type inputError struct{ msg string }

func (e *inputError) Error() string  { return e.msg }
func (e *inputError) BadInput() bool { return true }

// openFile opens a named input file, reporting a missing one as bad input.
func openFile(name string) (*os.File, error) {
	file, err := os.Open(name)
	if err != nil {
		return nil, &inputError{err.Error()}
	}
	return file, nil
}
