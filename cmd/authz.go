package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ssoctl/ssoctl/internal/secret"
	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/spec"
)

// export authz: the settings JSON for python-keycloak.

type exportAuthzOptions struct {
	IO      *IOStreams
	Getenv  func(string) string
	Context context.Context
	connect *connector
	keycloakTarget
	Client string
	Out    string
}

func newExportAuthzCmd(f *Factory, runF func(*exportAuthzOptions) error) *cobra.Command {
	opts := &exportAuthzOptions{IO: f.IO, Getenv: f.Getenv, connect: f.connector()}
	cmd := &cobra.Command{
		Use:   "authz --realm R --client C [--out FILE]",
		Short: "Write a client's Authorization Services settings, as the console's Export does",
		Long: `Write a client's authorization settings (resources, scopes, policies and
permissions by name) as the admin console's Authorization → Export writes them:
the JSON that python-keycloak's load_authorization_config reads
(KEYCLOAK_AUTHORIZATION_CONFIG).

python-keycloak evaluates less than Keycloak does: only role policies on the
client's own client roles, and no logic or decision strategy. Each policy and
permission it would read differently is named on stderr.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.resolve(opts.Getenv); err != nil {
				return err
			}
			if opts.Client == "" {
				return usageErrorf("--client is required")
			}
			opts.Context = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return exportAuthzRun(opts)
		},
	}
	opts.addFlags(cmd, "realm")
	cmd.Flags().StringVar(&opts.Client, "client", "", "the client whose authorization settings to export")
	cmd.Flags().StringVar(&opts.Out, "out", "", "write to FILE instead of stdout")
	return cmd
}

func exportAuthzRun(opts *exportAuthzOptions) error {
	admin, err := opts.connect.keycloakAdmin(opts.URL, spec.Admin{})
	if err != nil {
		return err
	}
	raw, err := admin.AuthzExport(opts.Context, opts.Realm, opts.Client)
	if err != nil {
		return err
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, raw, "", "  "); err != nil {
		return err
	}
	pretty.WriteByte('\n')
	settings, err := keycloak.ParseAuthzSettings(raw)
	if err != nil {
		return err
	}
	th := opts.IO.ErrTheme()
	for _, w := range keycloak.PythonKeycloakGaps(settings, opts.Client) {
		fmt.Fprintf(opts.IO.ErrOut, "%s python-keycloak: %s\n", th.Warn.Render("!"), w)
	}
	if opts.Out != "" {
		return writeFileAtomic(opts.Out, pretty.Bytes())
	}
	_, err = opts.IO.Out.Write(pretty.Bytes())
	return err
}

// keycloak public-key: the realm's key as PEM.

type publicKeyOptions struct {
	IO      *IOStreams
	Globals *GlobalOptions
	Getenv  func(string) string
	Context context.Context
	connect *connector
	keycloakTarget
}

func newKeycloakPublicKeyCmd(f *Factory, runF func(*publicKeyOptions) error) *cobra.Command {
	opts := &publicKeyOptions{IO: f.IO, Globals: f.Globals, Getenv: f.Getenv, connect: f.connector()}
	cmd := &cobra.Command{
		Use:   "public-key --realm R",
		Short: "Print the realm's active RS256 key as a PEM block",
		Long: `Print the realm's active RS256 public key as a "BEGIN PUBLIC KEY" PEM block
with 64-character lines, the form python-keycloak's decode_token accepts
(a bare base64 key, as the console shows it, fails there with an unrelated
error). -o json gives {kid, alg, pem, certificate}.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.resolve(opts.Getenv); err != nil {
				return err
			}
			opts.Context = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return publicKeyRun(opts)
		},
	}
	opts.addFlags(cmd, "realm")
	return cmd
}

func publicKeyRun(opts *publicKeyOptions) error {
	hc, err := opts.connect.plainHTTP()
	if err != nil {
		return err
	}
	k, err := keycloak.ActiveRSAKey(opts.Context, hc, opts.URL, opts.Realm)
	if err != nil {
		return err
	}
	if opts.Globals.JSON() {
		return writeJSON(opts.IO.Out, k)
	}
	_, err = fmt.Fprint(opts.IO.Out, k.PEM)
	return err
}

// keycloak authz: Keycloak's own decision.

type keycloakAuthzOptions struct {
	IO       *IOStreams
	Globals  *GlobalOptions
	Getenv   func(string) string
	Redactor *secret.Redactor
	Context  context.Context
	connect  *connector
	keycloakTarget
	Client   string
	User     string
	Scopes   []string
	Resource string
	Explain  bool
}

func newKeycloakAuthzCmd(f *Factory, runF func(*keycloakAuthzOptions) error) *cobra.Command {
	opts := &keycloakAuthzOptions{IO: f.IO, Globals: f.Globals, Getenv: f.Getenv, Redactor: f.Redactor, connect: f.connector()}
	cmd := &cobra.Command{
		Use:   "authz --realm R --client C --user U [--scope S]... [--resource NAME] [--explain]",
		Short: "Ask Keycloak whether a user may use each resource and scope",
		Long: `Ask the real Keycloak for the decision: the user logs in (password from
$SSOCTL_PASSWORD, a prompt, or stdin), then the UMA grant
(grant_type=urn:ietf:params:oauth:grant-type:uma-ticket, audience=C) returns
the permissions granted. Every resource and scope of the client (or those
--resource and --scope name) is printed as granted or denied.

--explain runs the admin console's policy evaluator too and names the
permissions and policies that decided.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.resolve(opts.Getenv); err != nil {
				return err
			}
			if opts.Client == "" || opts.User == "" {
				return usageErrorf("--client and --user are required")
			}
			opts.Context = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return keycloakAuthzRun(opts)
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

// Decision is one resource and scope, granted or not.
type Decision struct {
	Resource string `json:"resource"`
	Scope    string `json:"scope,omitempty"`
	Granted  bool   `json:"granted"`
}

type authzReport struct {
	User      string                     `json:"user"`
	Client    string                     `json:"client"`
	Decisions []Decision                 `json:"decisions"`
	Explain   []keycloak.EvaluatedPolicy `json:"explain,omitempty"`
}

func keycloakAuthzRun(opts *keycloakAuthzOptions) error {
	ctx := opts.Context
	admin, err := opts.connect.keycloakAdmin(opts.URL, spec.Admin{})
	if err != nil {
		return err
	}
	password, err := userPassword(opts.IO, opts.Getenv, opts.Redactor, opts.User)
	if err != nil {
		return err
	}
	raw, err := admin.AuthzExport(ctx, opts.Realm, opts.Client)
	if err != nil {
		return err
	}
	settings, err := keycloak.ParseAuthzSettings(raw)
	if err != nil {
		return err
	}
	var pairs [][2]string
	for _, p := range settings.ResourceScopes() {
		if (opts.Resource == "" || p[0] == opts.Resource) && (len(opts.Scopes) == 0 || slices.Contains(opts.Scopes, p[1])) {
			pairs = append(pairs, p)
		}
	}
	if len(pairs) == 0 {
		return inputErrorf("client %s has no resource %q with the scopes %v", opts.Client, opts.Resource, opts.Scopes)
	}
	hc, err := opts.connect.plainHTTP()
	if err != nil {
		return err
	}
	// The user logs in to the resource server itself: role policies read
	// the roles in the user's token, and another client's token carries only
	// the roles that client's scope lets through (admin-cli's: none).
	clientSecret, err := admin.ClientSecret(ctx, opts.Realm, opts.Client)
	if err != nil {
		return err
	}
	opts.Redactor.Add(clientSecret)
	tok, err := keycloak.TokenGrant(ctx, hc, opts.URL, opts.Realm, url.Values{"grant_type": {"password"}, "client_id": {opts.Client},
		"client_secret": {clientSecret}, "username": {opts.User}, "password": {password}})
	if err != nil {
		return fmt.Errorf("logging in as %s to client %s (it needs direct_access_grants: true): %w", opts.User, opts.Client, err)
	}
	opts.Redactor.Add(tok.AccessToken)
	var ask []string
	for _, p := range pairs {
		ask = append(ask, p[0]+"#"+p[1])
	}
	granted, err := keycloak.UMAPermissions(ctx, hc, opts.URL, opts.Realm, tok.AccessToken, opts.Client, ask)
	if err != nil {
		return err
	}
	rep := authzReport{User: opts.User, Client: opts.Client, Decisions: []Decision{}}
	for _, p := range pairs {
		ok := slices.ContainsFunc(granted, func(g keycloak.UMAPermission) bool {
			return g.Resource == p[0] && (p[1] == "" || slices.Contains(g.Scopes, p[1]))
		})
		rep.Decisions = append(rep.Decisions, Decision{Resource: p[0], Scope: p[1], Granted: ok})
	}
	if opts.Explain {
		ev, err := admin.EvaluatePolicies(ctx, opts.Realm, opts.Client, opts.User)
		if err != nil {
			return err
		}
		for _, r := range ev.Results {
			if opts.Resource == "" || r.Resource.Name == opts.Resource {
				rep.Explain = append(rep.Explain, r.Policies...)
			}
		}
	}
	if opts.Globals.JSON() {
		return writeJSON(opts.IO.Out, rep)
	}
	th := opts.IO.OutTheme()
	w := opts.IO.Out
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
	return nil
}
