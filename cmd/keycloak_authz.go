package cmd

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/spec"
)

// keycloak authz: Keycloak's own decision.

type keycloakAuthzOptions struct {
	keycloakOptions
	Client   string
	User     string
	Scopes   []string
	Resource string
	Explain  bool
}

func newKeycloakAuthzCmd(f *Factory, runF func(*keycloakAuthzOptions) error) *cobra.Command {
	opts := &keycloakAuthzOptions{keycloakOptions: newKeycloakOptions(f)}
	cmd := &cobra.Command{
		Use:   "authz --realm R --client C --user U [--scope S]... [--resource NAME] [--explain]",
		Short: "Ask Keycloak whether a user may use each resource and scope",
		Long: `Ask the real Keycloak for the decision: the user logs in (password from
$SSOCTL_PASSWORD, a prompt, or stdin), then the UMA grant
(grant_type=urn:ietf:params:oauth:grant-type:uma-ticket, audience=C) returns
the permissions granted. Every resource and scope of the client (or those
--resource and --scope name) is printed as granted or denied. The user's
login is logged out when the answer is in (its refresh token, else the admin
API's delete of that one session), so the run leaves no session.

--explain runs the admin console's policy evaluator too and names the
permissions and policies that decided.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.resolveTarget(); err != nil {
				return err
			}
			if opts.Client == "" || opts.User == "" {
				return usageErrorf("--client and --user are required")
			}
			return runCommand(cmd, opts, runF, keycloakAuthzRun)
		},
	}
	opts.addFlags(cmd, "realm")
	fl := cmd.Flags()
	fl.StringVar(&opts.Client, "client", "", "the resource server (a client with Authorization Services)")
	fl.StringVar(&opts.User, "user", "", "the user to decide for")
	fl.StringArrayVar(&opts.Scopes, "scope", nil, "only this scope (repeatable)")
	fl.StringVar(&opts.Resource, "resource", "", "only this resource")
	fl.BoolVar(&opts.Explain, "explain", false, "also name the permissions and policies that decided (the admin policy evaluator)")
	return cmd
}

// authzReport is the -o json shape of keycloak authz.
type authzReport = keycloak.Decisions

func keycloakAuthzRun(opts *keycloakAuthzOptions) error {
	admin, err := opts.connect.keycloakAdmin(opts.URL, spec.Admin{})
	if err != nil {
		return err
	}
	password, err := userPassword(opts.IO, opts.Getenv, opts.Redactor, nil, opts.User)
	if err != nil {
		return err
	}
	hc, err := opts.connect.plainHTTP()
	if err != nil {
		return err
	}
	q := keycloak.DecisionQuery{Realm: opts.Realm, Client: opts.Client, User: opts.User, Password: password,
		Resource: opts.Resource, Scopes: opts.Scopes, Explain: opts.Explain}
	rep, err := admin.Decide(opts.Context, hc, q, func(s string) { opts.Redactor.Add(s) })
	if err != nil {
		return err
	}
	for _, w := range rep.Warnings {
		opts.warn(errors.New(w))
	}
	if opts.Globals.JSON() {
		return writeJSON(opts.IO.Out, rep)
	}
	writeDecisions(opts.IO.Out, opts.IO.OutTheme(), rep)
	return nil
}

// writeDecisions prints each decision, then the policies that decided.
func writeDecisions(w io.Writer, th *Theme, rep *authzReport) {
	for _, d := range rep.Decisions {
		mark, word := th.OK.Render("✓"), "granted"
		if !d.Granted {
			mark, word = th.Fail.Render("✗"), "denied"
		}
		what := d.Resource
		if d.Scope != "" {
			what += " " + d.Scope
		}
		fmt.Fprintf(w, "%s %s: %s\n", mark, termSafe(what), word)
	}
	for _, p := range rep.Explain {
		var under []string
		for _, a := range p.Associated {
			under = append(under, a.Policy.Name+" "+a.Status)
		}
		on := ""
		if len(p.Scopes) > 0 {
			on = " on " + strings.Join(p.Scopes, ", ")
		}
		fmt.Fprintf(w, "  %s (%s permission, %s)%s: %s", termSafe(p.Policy.Name), p.Policy.Type, strings.ToLower(p.Policy.DecisionStrategy), termSafe(on), p.Status)
		if len(under) > 0 {
			fmt.Fprintf(w, " (%s)", termSafe(strings.Join(under, ", ")))
		}
		fmt.Fprintln(w)
	}
}
