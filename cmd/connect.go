package cmd

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/ssoctl/ssoctl/inspect"
	"github.com/ssoctl/ssoctl/internal/httpclient"
	"github.com/ssoctl/ssoctl/internal/secret"
	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
	"github.com/ssoctl/ssoctl/vault"
)

// connector builds the connections commands make, from the environment and
// the HTTP client factory. Every secret it resolves is registered with the
// redactor, so no error line or debug log shows it.
type connector struct {
	getenv     func(string) string
	httpClient func(httpclient.Options) (*http.Client, error)
	redactor   *secret.Redactor
	// admins are the admin connections made so far, logged out by close.
	admins []*keycloak.Admin
}

func (f *Factory) connector() *connector {
	return &connector{getenv: f.Getenv, httpClient: f.HTTPClient, redactor: f.Redactor}
}

// plainHTTP is the client for public endpoints (tokens, discovery, JWKS,
// metadata): TLS verified, no extra CA.
func (c *connector) plainHTTP() (*http.Client, error) {
	return c.httpClient(httpclient.Options{})
}

// keycloakCredentials resolves the admin login from the file's admin:
// block and the environment. A variable that is not set is bad input
// naming the variable (exit 2).
func (c *connector) keycloakCredentials(admin spec.Admin) (keycloak.Credentials, error) {
	cr := keycloak.Credentials{Realm: admin.Realm}
	if admin.ClientID != "" || (admin.UsernameEnv == "" && c.getenv("KEYCLOAK_ADMIN") == "" && c.getenv("KEYCLOAK_CLIENT_ID") != "") {
		cr.ClientID = admin.ClientID
		if cr.ClientID == "" {
			cr.ClientID = c.getenv("KEYCLOAK_CLIENT_ID")
		}
		envName := admin.ClientSecretEnv
		if envName == "" {
			envName = "KEYCLOAK_CLIENT_SECRET"
		}
		cr.ClientSecret = c.getenv(envName)
		cr.Source = fmt.Sprintf("client %q with secret from $%s", cr.ClientID, envName)
		if cr.ClientSecret == "" {
			return cr, &plan.MissingSecretError{Object: fmt.Sprintf("the Keycloak admin login (client %q)", cr.ClientID), Env: envName}
		}
		c.redactor.Add(cr.ClientSecret)
		return cr, nil
	}
	userEnv, passEnv := admin.UsernameEnv, admin.PasswordEnv
	if userEnv == "" {
		userEnv = "KEYCLOAK_ADMIN"
	}
	if passEnv == "" {
		passEnv = "KEYCLOAK_ADMIN_PASSWORD"
	}
	cr.Username, cr.Password = c.getenv(userEnv), c.getenv(passEnv)
	cr.Source = fmt.Sprintf("$%s/$%s", userEnv, passEnv)
	hint := "or log in as a client: keycloak.admin.client_id (or $KEYCLOAK_CLIENT_ID) with $KEYCLOAK_CLIENT_SECRET"
	switch {
	case cr.Username == "":
		return cr, &plan.MissingSecretError{Object: "the Keycloak admin login", Env: userEnv, Hint: "set it with $" + passEnv + ", " + hint}
	case cr.Password == "":
		return cr, &plan.MissingSecretError{Object: "the Keycloak admin login as " + strconv.Quote(cr.Username), Env: passEnv, Hint: hint}
	}
	c.redactor.Add(cr.Password)
	return cr, nil
}

// keycloakAdmin connects to the admin API of the server at url.
func (c *connector) keycloakAdmin(url string, admin spec.Admin) (*keycloak.Admin, error) {
	if url == "" {
		return nil, usageErrorf("no Keycloak server: pass --url or set $KEYCLOAK_URL")
	}
	creds, err := c.keycloakCredentials(admin)
	if err != nil {
		return nil, err
	}
	hc, err := c.plainHTTP()
	if err != nil {
		return nil, err
	}
	a := keycloak.NewAdmin(url, hc, creds)
	c.admins = append(c.admins, a)
	return a, nil
}

// close ends the admin sessions the command's connections opened (one per
// admin that logged in with a password) and returns what it could not end.
// It runs after the command, so it gets a context of its own, bounded, that
// an interrupted run's cancellation does not end.
func (c *connector) close(parent context.Context) []error {
	if c == nil || len(c.admins) == 0 {
		return nil
	}
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), 10*time.Second)
	defer cancel()
	var errs []error
	for _, a := range c.admins {
		if err := a.Close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	c.admins = nil
	return errs
}

// vaultConn connects to Vault (or OpenBao) the way their CLIs do:
// VAULT_ADDR (or the file's addr), VAULT_TOKEN, VAULT_NAMESPACE,
// VAULT_CACERT and VAULT_SKIP_VERIFY, each falling back to OpenBao's BAO_*
// variable when unset.
func (c *connector) vaultConn(addr, namespace string, needToken bool) (*vault.Conn, error) {
	from := "vault.addr"
	if addr == "" {
		addr, from = spec.VaultEnv(c.getenv, "ADDR")
		from = "$" + from
	}
	if addr == "" {
		return nil, inputErrorf("no Vault server: set $VAULT_ADDR (or $BAO_ADDR) or vault.addr")
	}
	if err := checkServerURL(from, addr); err != nil {
		return nil, err
	}
	if namespace == "" {
		namespace, _ = spec.VaultEnv(c.getenv, "NAMESPACE")
	}
	token, from := spec.VaultEnv(c.getenv, "TOKEN")
	if needToken && token == "" {
		return nil, &plan.MissingSecretError{Object: "Vault at " + addr, Env: "VAULT_TOKEN"}
	}
	c.redactor.Add(token)
	skipVar, _ := spec.VaultEnv(c.getenv, "SKIP_VERIFY")
	skip, _ := strconv.ParseBool(skipVar)
	caCert, _ := spec.VaultEnv(c.getenv, "CACERT")
	hc, err := c.httpClient(httpclient.Options{CACertFile: caCert, InsecureSkipVerify: skip})
	if err != nil {
		return nil, err
	}
	return vault.Connect(vault.Config{Addr: addr, Token: token, Namespace: namespace, HTTPClient: hc, TokenSource: "$" + from})
}

// discoveryChecker fetches a discovery document the way Vault will when
// the mount config is written, and explains what Vault would only call
// "error checking oidc discovery URL".
func (c *connector) discoveryChecker() (func(ctx context.Context, url string) error, error) {
	hc, err := c.plainHTTP()
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

// errNoTarget is resolve's error when the server or the realm is not given.
var errNoTarget = errors.New("--url (or $KEYCLOAK_URL) and --realm (or $KEYCLOAK_REALM) are required")

// resolve fills the defaults from the environment, requires both, and
// checks the URL.
func (t *keycloakTarget) resolve(getenv func(string) string) error {
	from := "--url"
	if t.URL == "" {
		t.URL, from = getenv("KEYCLOAK_URL"), "$KEYCLOAK_URL"
	}
	if t.Realm == "" {
		t.Realm = getenv("KEYCLOAK_REALM")
	}
	if t.URL == "" || t.Realm == "" {
		return &UsageError{Err: errNoTarget}
	}
	return checkServerURL(from, t.URL)
}

// checkServerURL checks a server URL that from ("--url", "$KEYCLOAK_URL",
// "$VAULT_ADDR") gives, before any request: ftp://… is bad input (exit 2),
// not a failure to connect. The file's URLs are checked by spec alike.
func checkServerURL(from, u string) error {
	if p := spec.URLProblem(u); p != "" {
		return inputErrorf("%s: %s", from, p)
	}
	return nil
}
