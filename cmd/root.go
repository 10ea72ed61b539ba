// Package cmd is the ssoctl command tree: flag parsing, calls into the domain
// packages, rendering, and the mapping of errors to exit codes. It holds no
// domain logic of its own.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/ssoctl/ssoctl/internal/httpclient"
	"github.com/ssoctl/ssoctl/internal/secret"
)

// Main runs ssoctl with the process's arguments and streams and returns the
// exit code.
func Main() int {
	runtimeLimits(os.Getenv)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	watch := sync.OnceFunc(func() { watchSignals(cancel) })
	// Signals are watched from the first HTTP client on, and from
	// signalDelay on for everything else: setting up os/signal starts a
	// locked OS thread, measured at about 1 ms of a 7 ms `inspect token`,
	// and a command that is done sooner has nothing to interrupt.
	timer := time.AfterFunc(signalDelay, watch)
	defer timer.Stop()
	f := NewFactory(SystemIO())
	f.Context = ctx
	base := f.HTTPClient
	f.HTTPClient = func(opts httpclient.Options) (*http.Client, error) {
		watch()
		return base(opts)
	}
	return Run(f, os.Args[1:])
}

// MemoryLimit is the soft memory limit ssoctl runs under (Go's
// runtime/debug.SetMemoryLimit) unless $GOMEMLIMIT sets another: the GC
// works harder to stay below it. Every input is bounded far below it (the
// largest realm's plan peaks at 64 MB of heap); a 256 MiB Keycloak listing
// is what comes near.
const MemoryLimit = 1 << 30

// runtimeLimits sets the soft memory limit, and makes the Go runtime's own
// failures (out of memory, a panic outside the command's goroutine) end
// the process with SIGABRT: left alone it exits 2, ssoctl's code for bad
// input. A panic on the command's goroutine is recovered by Run (exit 1).
func runtimeLimits(getenv func(string) string) {
	if getenv("GOMEMLIMIT") == "" { // the runtime has read it already
		debug.SetMemoryLimit(MemoryLimit)
	}
	debug.SetTraceback("crash")
}

// watchSignals makes the first SIGINT or SIGTERM cancel the command's
// context; work that does not watch it (a blocking read, a long parse) gets
// a moment, and a second signal or the end of that moment ends the process.
func watchSignals(cancel context.CancelFunc) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		cancel()
		select {
		case <-sigs:
		case <-time.After(signalGrace):
		}
		fmt.Fprintln(os.Stderr, "Error: interrupted")
		os.Exit(ExitFailure)
	}()
}

// signalDelay is how long a command runs before signals are watched (when
// no HTTP client made it sooner).
const signalDelay = 30 * time.Millisecond

// signalGrace is how long a cancelled command may take to stop by itself.
const signalGrace = 2 * time.Second

// Run executes the command line args against f and returns the exit code.
// Errors are printed once, here, on stderr.
func Run(f *Factory, args []string) int {
	root := newRootFor(f, args)
	root.SetArgs(args)
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	cmd, err := execute(root, f)
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
	msg = capError(msg)
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

// execute runs the command tree, turning a panic into an internalError
// (exit 1): a bug is a runtime failure, never bad input.
func execute(root *cobra.Command, f *Factory) (cmd *cobra.Command, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &internalError{value: p, stack: debug.Stack()}
		}
	}()
	return root.ExecuteContextC(f.Context)
}

// maxErrorBytes bounds the error text of one run. An error quotes values
// cut short, and a file's errors list 20 at most, so only a server's long
// message comes near it.
const maxErrorBytes = 64 << 10

// capError cuts msg, masked and escaped already, to maxErrorBytes.
func capError(msg string) string {
	if len(msg) <= maxErrorBytes {
		return msg
	}
	cut := maxErrorBytes
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (the error is cut here; %d bytes in all)", msg[:cut], len(msg))
}

// isUsageProblem separates flag and argument mistakes (worth a usage line)
// from bad input files (where the usage line is noise).
func isUsageProblem(err error) bool {
	var ue *UsageError
	return errors.As(err, &ue) || isCobraUsageError(err)
}

// NewRootCmd builds the whole command tree explicitly.
func NewRootCmd(f *Factory) *cobra.Command {
	root := newRoot(f)
	for _, c := range topCommands(f) {
		root.AddCommand(c.build())
	}
	return root
}

// newRoot is the root command with its global flags and no subcommands.
func newRoot(f *Factory) *cobra.Command {
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
	return root
}

// topCommand is a top-level command, built on demand.
type topCommand struct {
	name  string
	build func() *cobra.Command
}

// topCommands lists the top-level commands in the order help shows them.
func topCommands(f *Factory) []topCommand {
	return []topCommand{
		{"plan", func() *cobra.Command { return newPlanCmd(f, nil) }},
		{"apply", func() *cobra.Command { return newApplyCmd(f, nil) }},
		{"export", func() *cobra.Command {
			return newGroupCmd("export <system>", "Write a system's current state as an sso.yaml fragment",
				newExportKeycloakCmd(f, nil), newExportAuthzCmd(f, nil))
		}},
		{"inspect", func() *cobra.Command {
			return newGroupCmd("inspect <command>", "Explain tokens and OIDC providers: why a login is rejected, and the fix",
				newInspectTokenCmd(f, nil), newInspectDiscoveryCmd(f, nil))
		}},
		{"keycloak", func() *cobra.Command {
			return newGroupCmd("keycloak <command>", "Fetch tokens, client secrets, keys and SAML metadata from Keycloak, and its authorization decisions",
				newKeycloakTokenCmd(f, nil), newKeycloakClientSecretCmd(f, nil), newKeycloakDescriptorCmd(f, nil), newKeycloakPublicKeyCmd(f, nil), newKeycloakAuthzCmd(f, nil), newKeycloakFederationCmd(f))
		}},
		{"vault", func() *cobra.Command {
			return newGroupCmd("vault <command>", "Log in to Vault with a JWT and show what it grants", newVaultLoginCmd(f, nil))
		}},
		{"rancher", func() *cobra.Command {
			return newGroupCmd("rancher <command>", "Make Keycloak's SAML metadata work for Rancher, and log in as Rancher would",
				newRancherConvertCmd(f, nil), newRancherCheckCmd(f, nil), newRancherConfigCmd(f, nil), newRancherLoginCmd(f, nil))
		}},
		{"doctor", func() *cobra.Command { return newDoctorCmd(f, nil) }},
		{"render", func() *cobra.Command {
			return newGroupCmd("render <kind>", "Write the files an application needs to log in through Keycloak", newRenderDjangoCmd(f, nil))
		}},
		{"version", func() *cobra.Command { return newVersionCmd(f, nil) }},
		{"completion", func() *cobra.Command { return newCompletionCmd(f) }},
	}
}

// newRootFor is the tree a run needs: the root with only the top-level
// command args name, when they name one plainly; the whole tree otherwise
// (help, completion, an unknown or misspelt command), so that help and
// suggestions see every command. Building one branch instead of all of
// them is measurable in a whole-process run (bench/startup.sh).
func newRootFor(f *Factory, args []string) *cobra.Command {
	name := firstCommand(args)
	if name == "" || name == "completion" {
		return NewRootCmd(f)
	}
	for _, c := range topCommands(f) {
		if c.name == name {
			root := newRoot(f)
			root.AddCommand(c.build())
			return root
		}
	}
	return NewRootCmd(f)
}

// firstCommand is the first argument that is not a global flag or its
// value ("" when there is none, or a flag comes first that the root does
// not know).
func firstCommand(args []string) string {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-o" || a == "--output":
			i++ // its value
		case strings.HasPrefix(a, "--output=") || (strings.HasPrefix(a, "-o") && len(a) > 2),
			a == "--no-color", a == "--debug", a == "--show-secrets":
		case strings.HasPrefix(a, "-"):
			return "" // not a global flag: let the whole tree say so
		default:
			return a
		}
	}
	return ""
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
