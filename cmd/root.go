// Package cmd is the ssoctl command tree: flag parsing, calls into the domain
// packages, rendering, and the mapping of errors to exit codes. It holds no
// domain logic of its own.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/ssoctl/ssoctl/internal/secret"
)

// Main runs ssoctl with the process's arguments and streams and returns the
// exit code.
func Main() int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		// The first signal cancels the command's context; work that does
		// not watch it (a blocking read, a long parse) gets a moment, and a
		// second signal or the end of that moment ends the process.
		<-sigs
		cancel()
		select {
		case <-sigs:
		case <-time.After(signalGrace):
		}
		fmt.Fprintln(os.Stderr, "Error: interrupted")
		os.Exit(ExitFailure)
	}()
	f := NewFactory(SystemIO())
	f.Context = ctx
	return Run(f, os.Args[1:])
}

// signalGrace is how long a cancelled command may take to stop by itself.
const signalGrace = 2 * time.Second

// Run executes the command line args against f and returns the exit code.
// Errors are printed once, here, on stderr.
func Run(f *Factory, args []string) int {
	root := NewRootCmd(f)
	root.SetArgs(args)
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	cmd, err := root.ExecuteContextC(f.Context)
	if werr := f.IO.outErr(); werr != nil && (err == nil || exitCode(err) != ExitFailure) {
		err = &outputError{werr}
	}
	if err == nil {
		return ExitOK
	}
	code := exitCode(err)
	var ee *ExitError
	if errors.As(err, &ee) && ee.Err == nil {
		return code // already reported
	}
	if f.Globals.NoColor {
		f.IO.DisableColor() // parsed before the flag that failed
	}
	th := f.IO.ErrTheme()
	// Errors quote servers, files and tokens: no secret, no credential in a
	// URL and no terminal control sequence gets through.
	msg := secret.MaskURLs(f.Redactor.Redact(err.Error()))
	lines := strings.Split(msg, "\n")
	for i := range lines {
		lines[i] = termSafe(lines[i])
	}
	msg = strings.Join(lines, "\n")
	if errors.Is(err, context.Canceled) {
		msg = "interrupted"
	}
	fmt.Fprintln(f.IO.ErrOut, th.Fail.Render("Error:")+" "+msg)
	if code == ExitUsage && isUsageProblem(err) {
		if cmd == nil {
			cmd = root
		}
		fmt.Fprintf(f.IO.ErrOut, "\nUsage:  %s\nRun '%s --help' for more.\n", cmd.UseLine(), cmd.CommandPath())
	}
	return code
}

// isUsageProblem separates flag and argument mistakes (worth a usage line)
// from bad input files (where the usage line is noise).
func isUsageProblem(err error) bool {
	var ue *UsageError
	return errors.As(err, &ue) || isCobraUsageError(err)
}

// NewRootCmd builds the whole command tree explicitly.
func NewRootCmd(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "ssoctl <command> [flags]",
		Short: "Set up and debug single sign-on across Keycloak, Vault and Rancher",
		Long: `ssoctl provisions Keycloak clients, configures Vault's OIDC/JWT auth, reshapes SAML
metadata for Rancher, and explains why a token is rejected.

Exit codes: 0 ok, 1 runtime failure, 2 bad usage or input, 3 a check found
problems, 4 plan --detailed-exitcode found changes.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		// Without a Run, cobra treats unknown subcommands as help; make them errors.
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			switch f.Globals.Output {
			case "text", "json":
			default:
				return usageErrorf("invalid value %q for --output: want text or json", f.Globals.Output)
			}
			if f.Globals.NoColor {
				f.IO.DisableColor()
			}
			return nil
		},
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &UsageError{Err: err}
	})
	pf := root.PersistentFlags()
	pf.StringVarP(&f.Globals.Output, "output", "o", "text", "output format: text or json")
	pf.BoolVar(&f.Globals.NoColor, "no-color", false, "disable colors (also NO_COLOR)")
	pf.BoolVar(&f.Globals.Debug, "debug", false, "log every HTTP request to stderr, secrets masked (also SSOCTL_DEBUG=1)")
	pf.BoolVar(&f.Globals.ShowSecrets, "show-secrets", false, "print client secrets and tokens unmasked")

	root.AddCommand(
		newPlanCmd(f, nil),
		newApplyCmd(f, nil),
		newGroupCmd("export <system>", "Write a system's current state as an sso.yaml fragment",
			newExportKeycloakCmd(f, nil), newExportAuthzCmd(f, nil)),
		newGroupCmd("inspect <command>", "Explain tokens and OIDC providers: why a login is rejected, and the fix",
			newInspectTokenCmd(f, nil), newInspectDiscoveryCmd(f, nil)),
		newGroupCmd("keycloak <command>", "Fetch tokens, keys and SAML metadata from Keycloak, and its authorization decisions",
			newKeycloakTokenCmd(f, nil), newKeycloakDescriptorCmd(f, nil), newKeycloakPublicKeyCmd(f, nil), newKeycloakAuthzCmd(f, nil)),
		newGroupCmd("vault <command>", "Log in to Vault with a JWT and show what it grants",
			newVaultLoginCmd(f, nil)),
		newGroupCmd("rancher <command>", "Make Keycloak's SAML metadata work for Rancher",
			newRancherConvertCmd(f, nil), newRancherCheckCmd(f, nil), newRancherConfigCmd(f, nil), newRancherLoginCmd(f, nil)),
		newDoctorCmd(f, nil),
		newGroupCmd("render <kind>", "Write the files an application needs to log in through Keycloak",
			newRenderDjangoCmd(f, nil)),
		newVersionCmd(f, nil),
		newCompletionCmd(f),
	)
	return root
}

// newGroupCmd is a noun that only groups its subcommands; run alone it
// prints its help.
func newGroupCmd(use, short string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  exactArgs(0),
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(subs...)
	return cmd
}

// exactArgs is cobra.ExactArgs with a usage error.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErrorf("%s takes %d argument(s), got %d: %s", cmd.CommandPath(), n, len(args), strings.Join(args, " "))
		}
		return nil
	}
}

// maxArgs is cobra.MaximumNArgs with a usage error.
func maxArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > n {
			return usageErrorf("%s takes at most %d argument(s), got %d: %s", cmd.CommandPath(), n, len(args), strings.Join(args, " "))
		}
		return nil
	}
}
