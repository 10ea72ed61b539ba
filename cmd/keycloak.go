package cmd

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/ssoctl/ssoctl/internal/httpclient"
	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/spec"
)

// keycloakHTTP returns the HTTP client for Keycloak.
func (f *Factory) keycloakHTTP() (*http.Client, error) {
	return f.HTTPClient(httpclient.Options{})
}

// keycloakCredentials resolves the admin login from the file's admin:
// block and the environment, registering the secrets for masking.
func (f *Factory) keycloakCredentials(admin spec.Admin) (keycloak.Credentials, error) {
	c := keycloak.Credentials{Realm: admin.Realm}
	if admin.ClientID != "" || (admin.UsernameEnv == "" && f.Getenv("KEYCLOAK_ADMIN") == "" && f.Getenv("KEYCLOAK_CLIENT_ID") != "") {
		c.ClientID = admin.ClientID
		if c.ClientID == "" {
			c.ClientID = f.Getenv("KEYCLOAK_CLIENT_ID")
		}
		envName := admin.ClientSecretEnv
		if envName == "" {
			envName = "KEYCLOAK_CLIENT_SECRET"
		}
		c.ClientSecret = f.Getenv(envName)
		c.Source = fmt.Sprintf("client %q with secret from $%s", c.ClientID, envName)
		if c.ClientSecret == "" {
			return c, usageErrorf("no Keycloak admin client secret: $%s is not set (client %q)", envName, c.ClientID)
		}
		f.Redactor.Add(c.ClientSecret)
		return c, nil
	}
	userEnv, passEnv := admin.UsernameEnv, admin.PasswordEnv
	if userEnv == "" {
		userEnv = "KEYCLOAK_ADMIN"
	}
	if passEnv == "" {
		passEnv = "KEYCLOAK_ADMIN_PASSWORD"
	}
	c.Username, c.Password = f.Getenv(userEnv), f.Getenv(passEnv)
	c.Source = fmt.Sprintf("$%s/$%s", userEnv, passEnv)
	if c.Username == "" || c.Password == "" {
		return c, usageErrorf("no Keycloak admin credentials: set $%s and $%s, or keycloak.admin.client_id with $KEYCLOAK_CLIENT_SECRET", userEnv, passEnv)
	}
	f.Redactor.Add(c.Password)
	return c, nil
}

// keycloakAdmin connects to the admin API of the server at url.
func (f *Factory) keycloakAdmin(url string, admin spec.Admin) (*keycloak.Admin, error) {
	if url == "" {
		return nil, usageErrorf("no Keycloak server: pass --url or set $KEYCLOAK_URL")
	}
	creds, err := f.keycloakCredentials(admin)
	if err != nil {
		return nil, err
	}
	hc, err := f.keycloakHTTP()
	if err != nil {
		return nil, err
	}
	return keycloak.NewAdmin(url, hc, creds), nil
}

// keycloakTarget is the server and realm a command talks to: --url and
// --realm, defaulting to $KEYCLOAK_URL and $KEYCLOAK_REALM.
type keycloakTarget struct {
	URL   string
	Realm string
}

func (t *keycloakTarget) addFlags(cmd *cobra.Command, realmUsage string) {
	cmd.Flags().StringVar(&t.URL, "url", "", "Keycloak base URL (default $KEYCLOAK_URL)")
	cmd.Flags().StringVar(&t.Realm, "realm", "", realmUsage+" (default $KEYCLOAK_REALM)")
}

// resolve fills the defaults from the environment and requires both.
func (t *keycloakTarget) resolve(f *Factory) error {
	if t.URL == "" {
		t.URL = f.Getenv("KEYCLOAK_URL")
	}
	if t.Realm == "" {
		t.Realm = f.Getenv("KEYCLOAK_REALM")
	}
	if t.URL == "" || t.Realm == "" {
		return usageErrorf("--url (or $KEYCLOAK_URL) and --realm (or $KEYCLOAK_REALM) are required")
	}
	return nil
}

func newKeycloakCmd(f *Factory) *cobra.Command {
	return newGroupCmd("keycloak <command>", "Fetch tokens and SAML metadata from Keycloak", newKeycloakTokenCmd(f, nil), newKeycloakDescriptorCmd(f, nil))
}

type keycloakTokenOptions struct {
	f *Factory
	keycloakTarget
	ClientID        string
	ClientSecretEnv string
	User            string
	IDToken         bool
	Scope           string
}

func newKeycloakTokenCmd(f *Factory, runF func(*keycloakTokenOptions) error) *cobra.Command {
	opts := &keycloakTokenOptions{f: f}
	cmd := &cobra.Command{
		Use:   "token --realm R --client ID [--user U] [--id-token]",
		Short: "Get a token from Keycloak (password or client-credentials grant)",
		Long: `Get a token from a realm's token endpoint.

With --user, the password grant logs the user in (the client needs
direct_access_grants: true); the password is read from $SSOCTL_PASSWORD, or
prompted for on a terminal, or read from the first line of stdin. Without
--user, the client-credentials grant is used (service_accounts: true).

The client's secret is read from the variable named by --client-secret-env,
or else fetched through the admin API (with $KEYCLOAK_ADMIN and
$KEYCLOAK_ADMIN_PASSWORD).

The access token (or the ID token with --id-token) is printed; -o json prints
the whole token response. On a terminal the token is masked unless
--show-secrets; piped, it is printed whole so that it feeds the next command:

  ssoctl keycloak token --realm demo --client vault --user alice -o json | ssoctl inspect token -`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.resolve(f); err != nil {
				return err
			}
			if opts.ClientID == "" {
				return usageErrorf("--client is required")
			}
			if runF != nil {
				return runF(opts)
			}
			return keycloakTokenRun(opts)
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
	f := opts.f
	ctx := f.Context
	hc, err := f.keycloakHTTP()
	if err != nil {
		return err
	}
	req := keycloak.TokenRequest{Realm: opts.Realm, ClientID: opts.ClientID, Username: opts.User, Scope: opts.Scope}
	if opts.ClientSecretEnv != "" {
		req.ClientSecret = f.Getenv(opts.ClientSecretEnv)
		if req.ClientSecret == "" {
			return usageErrorf("$%s is not set", opts.ClientSecretEnv)
		}
	} else {
		admin, err := f.keycloakAdmin(opts.URL, spec.Admin{})
		if err != nil {
			return err
		}
		req.ClientSecret, err = admin.ClientSecret(ctx, opts.Realm, opts.ClientID)
		if err != nil {
			return err
		}
	}
	f.Redactor.Add(req.ClientSecret)
	if opts.User != "" {
		req.Password, err = f.readPassword("Password for " + opts.User + ": ")
		if err != nil {
			return err
		}
		f.Redactor.Add(req.Password)
	}
	tok, err := keycloak.RequestToken(ctx, hc, opts.URL, req)
	if err != nil {
		return err
	}
	f.Redactor.Add(tok.AccessToken, tok.IDToken, tok.RefreshToken)
	show := f.Globals.ShowSecrets || !f.IO.IsStdoutTTY()
	mask := func(s string) string {
		if show {
			return s
		}
		return f.MaskSecret(s)
	}
	if f.Globals.JSON() {
		out := *tok
		out.AccessToken, out.IDToken, out.RefreshToken = mask(tok.AccessToken), mask(tok.IDToken), mask(tok.RefreshToken)
		return writeJSON(f.IO.Out, out)
	}
	t := tok.AccessToken
	if opts.IDToken {
		if tok.IDToken == "" {
			return fmt.Errorf("no ID token in Keycloak's answer (is the openid scope allowed for client %q?)", opts.ClientID)
		}
		t = tok.IDToken
	}
	_, err = fmt.Fprintln(f.IO.Out, mask(t))
	return err
}

// readPassword reads $SSOCTL_PASSWORD, else prompts on a terminal without
// echo, else reads the first line of stdin.
func (f *Factory) readPassword(prompt string) (string, error) {
	if p := f.Getenv("SSOCTL_PASSWORD"); p != "" {
		return p, nil
	}
	if file, ok := f.IO.In.(*os.File); ok && f.IO.IsStdinTTY() {
		fmt.Fprint(f.IO.ErrOut, prompt)
		b, err := term.ReadPassword(int(file.Fd()))
		fmt.Fprintln(f.IO.ErrOut)
		if err != nil {
			return "", fmt.Errorf("reading password: %w", err)
		}
		return string(b), nil
	}
	line, err := bufio.NewReader(f.IO.In).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("reading password from stdin: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", usageErrorf("no password: set $SSOCTL_PASSWORD or pass it on stdin")
	}
	return line, nil
}

type keycloakDescriptorOptions struct {
	f *Factory
	keycloakTarget
}

func newKeycloakDescriptorCmd(f *Factory, runF func(*keycloakDescriptorOptions) error) *cobra.Command {
	opts := &keycloakDescriptorOptions{f: f}
	cmd := &cobra.Command{
		Use:   "descriptor --realm R",
		Short: "Print the realm's SAML IdP metadata, raw",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.resolve(f); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			hc, err := f.keycloakHTTP()
			if err != nil {
				return err
			}
			xml, err := keycloak.Descriptor(f.Context, hc, opts.URL, opts.Realm)
			if err != nil {
				return err
			}
			_, err = f.IO.Out.Write(xml)
			return err
		},
	}
	opts.addFlags(cmd, "realm")
	return cmd
}

// writeJSON writes v indented, with a trailing newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
