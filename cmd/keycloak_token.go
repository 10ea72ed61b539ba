package cmd

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/ssoctl/ssoctl/internal/secret"
	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
)

type keycloakTokenOptions struct {
	keycloakOptions
	ClientID        string
	ClientSecretEnv string
	User            string
	IDToken         bool
	Scope           string
}

func newKeycloakTokenCmd(f *Factory, runF func(*keycloakTokenOptions) error) *cobra.Command {
	opts := &keycloakTokenOptions{keycloakOptions: newKeycloakOptions(f)}
	cmd := &cobra.Command{
		Use:   "token --realm R --client ID [--user U] [--id-token]",
		Short: "Get a token from Keycloak (password or client-credentials grant)",
		Long: `Get a token from a realm's token endpoint.

With --user, the password grant logs the user in (the client needs
direct_access_grants: true); the password is read from $SSOCTL_PASSWORD, or
prompted for on a terminal, or read from the first line of stdin. Without
--user, the client-credentials grant is used (service_accounts: true).

The password grant opens a Keycloak session for the user, and this command
hands it to you with the tokens: unlike ssoctl's other logins it does not end
it (stderr says so). End it with the refresh token (-o json prints it):
POST /realms/R/protocol/openid-connect/logout with client_id, client_secret
and refresh_token; or let it expire at the realm's SSO idle timeout.

The client's secret is read from the variable named by --client-secret-env,
or else fetched through the admin API (with $KEYCLOAK_ADMIN and
$KEYCLOAK_ADMIN_PASSWORD).

The access token (or the ID token with --id-token) is printed; -o json prints
the whole token response. On a terminal the token is masked unless
--show-secrets; piped, it is printed whole so that it feeds the next command:

  ssoctl keycloak token --realm demo --client vault --user alice -o json | ssoctl inspect token -`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.resolveClientTarget(opts.ClientID); err != nil {
				return err
			}
			if opts.ClientSecretEnv != "" && !spec.IsVarName(opts.ClientSecretEnv) {
				// The value may be the secret itself: never echo it.
				return usageErrorf("--client-secret-env is not a variable name: give the name of the environment variable that holds the secret")
			}
			return runCommand(cmd, opts, runF, keycloakTokenRun)
		},
	}
	opts.addFlags(cmd, "realm")
	fl := cmd.Flags()
	fl.StringVar(&opts.ClientID, "client", "", "client_id to get the token for")
	fl.StringVar(&opts.ClientSecretEnv, "client-secret-env", "", "environment variable holding the client's secret (default: read it through the admin API)")
	fl.StringVar(&opts.User, "user", "", "log in as this user (password grant)")
	fl.BoolVar(&opts.IDToken, "id-token", false, "print the ID token instead of the access token")
	fl.StringVar(&opts.Scope, "scope", "", "extra scopes to request (openid is always requested)")
	return cmd
}

func keycloakTokenRun(opts *keycloakTokenOptions) error {
	ctx := opts.Context
	hc, err := opts.connect.plainHTTP()
	if err != nil {
		return err
	}
	req := keycloak.TokenRequest{Realm: opts.Realm, ClientID: opts.ClientID, Username: opts.User, Scope: opts.Scope}
	var admin *keycloak.Admin
	if opts.ClientSecretEnv != "" {
		req.ClientSecret = opts.Getenv(opts.ClientSecretEnv)
		if req.ClientSecret == "" {
			return &plan.MissingSecretError{Object: "client " + strconv.Quote(opts.ClientID), Env: opts.ClientSecretEnv}
		}
	} else if admin, err = opts.connect.keycloakAdmin(opts.URL, spec.Admin{}); err != nil {
		return err
	}
	if req.Password, err = userPassword(opts.IO, opts.Getenv, opts.Redactor, nil, opts.User); err != nil {
		return err
	}
	if admin != nil {
		if req.ClientSecret, err = admin.ClientSecret(ctx, opts.Realm, opts.ClientID); err != nil {
			return err
		}
	}
	opts.Redactor.Add(req.ClientSecret)
	tok, err := keycloak.RequestToken(ctx, hc, opts.URL, req)
	if err != nil {
		return err
	}
	opts.Redactor.Add(tok.AccessToken, tok.IDToken, tok.RefreshToken)
	if opts.User != "" {
		fmt.Fprintf(opts.IO.ErrOut, "%s this login opened Keycloak session %s for %s, which stays open with the tokens: its refresh token ends it at /realms/%s/protocol/openid-connect/logout\n",
			opts.IO.ErrTheme().Muted.Render("note:"), orNone(keycloak.SessionID(tok.AccessToken)), opts.User, opts.Realm)
	}
	show := opts.Globals.ShowSecrets || !opts.IO.IsStdoutTTY()
	mask := func(s string) string {
		if show {
			return s
		}
		return secret.Mask(s)
	}
	if opts.Globals.JSON() {
		out := *tok
		out.AccessToken, out.IDToken, out.RefreshToken = mask(tok.AccessToken), mask(tok.IDToken), mask(tok.RefreshToken)
		return writeJSON(opts.IO.Out, out)
	}
	t := tok.AccessToken
	if opts.IDToken {
		if tok.IDToken == "" {
			return fmt.Errorf("no ID token in Keycloak's answer (is the openid scope allowed for client %q?)", opts.ClientID)
		}
		t = tok.IDToken
	}
	_, err = fmt.Fprintln(opts.IO.Out, mask(t))
	return err
}
