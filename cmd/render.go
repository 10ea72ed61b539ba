package cmd

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ssoctl/ssoctl/cmd/provision"
	"github.com/ssoctl/ssoctl/inspect"
	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
	"github.com/ssoctl/ssoctl/templates/django"
)

type renderDjangoOptions struct {
	fileOptions
	Site  string
	Out   string
	Force bool
}

func newRenderDjangoCmd(f *Factory, runF func(*renderDjangoOptions) error) *cobra.Command {
	opts := &renderDjangoOptions{fileOptions: newFileOptions(f)}
	cmd := &cobra.Command{
		Use:   "django -f sso.yaml --site NAME --out DIR [--force]",
		Short: "Write the keycloak_sso Django app that logs a site in through Keycloak",
		Long: `Write DIR/keycloak_sso/, a Django app for one site of the file's django:
section: settings.py with configure(settings) (apps, middleware, backends and
every setting the site's library needs, with the endpoints of the realm's live
discovery document and the client secret read from the environment), the
library's group hook (Keycloak groups or client roles to Django groups,
is_staff and is_superuser on every login), urls.py with a logout view that
also ends the Keycloak session (logout: keycloak), and the admin login page
with a "Log in with Keycloak" button.

A second render of the same file writes the same bytes. Files the render did
not write are never overwritten unless --force. When the Keycloak admin
credentials are set, the live client is compared with what the library needs,
and each unmet need is a warning naming the error it would cause.

Libraries that cannot log in against Keycloak 26 as they ship are refused
with exit code 3, the reason, and the library to use instead.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Out == "" {
				return usageErrorf("--out DIR is required")
			}
			return runCommand(cmd, opts, runF, renderDjangoRun)
		},
	}
	opts.addFileFlag(cmd, "sso.yaml", "the sso.yaml to read (- for stdin)")
	cmd.Flags().StringVar(&opts.Site, "site", "", "the django site to render (may be left out when the file has one)")
	cmd.Flags().StringVar(&opts.Out, "out", "", "the directory to write keycloak_sso/ into (usually the Django project's)")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "overwrite files that the render did not write")
	return cmd
}

// renderDoc is the documented -o json shape of render django.
type renderDoc struct {
	Site          string        `json:"site"`
	Library       string        `json:"library"`
	Files         []django.File `json:"files"`
	Requirements  []string      `json:"requirements"`
	KeycloakNeeds []renderNeed  `json:"keycloak_needs"`
	Warnings      []string      `json:"warnings"`

	// keycloakURL and realm are the file's Keycloak, for the next steps.
	keycloakURL, realm string
}

type renderNeed struct {
	Kind  string `json:"kind"`
	Value string `json:"value,omitempty"`
	Why   string `json:"why"`
}

func renderDjangoRun(opts *renderDjangoOptions) error {
	file, err := opts.load()
	if err != nil {
		return err
	}
	site, err := pickSite(file, opts.Site)
	if err != nil {
		return err
	}
	if lib := django.Libraries[site.Library]; lib.Refusal != "" {
		return &ExitError{Code: ExitFindings, Err: &django.RefusedError{Library: lib.Name, Reason: lib.Refusal, Nearest: lib.Nearest}}
	}
	k, needs, err := django.KeycloakWithNeeds(file)
	if err != nil {
		return err
	}
	in, err := renderInput(opts, k, site)
	if err != nil {
		return err
	}
	files, err := django.Render(in)
	if err != nil {
		return err
	}
	warnings, err := liveWarnings(opts, k, site)
	if err != nil {
		return err
	}
	if err := writeRendered(opts.Out, files, opts.Force); err != nil {
		return err
	}
	doc := renderDoc{Site: site.Name, Library: site.Library, Files: files, Requirements: django.Requirements(site),
		KeycloakNeeds: []renderNeed{}, Warnings: warnings, keycloakURL: k.URL, realm: k.Realm}
	for _, n := range needs {
		if n.Site == site.Name {
			doc.KeycloakNeeds = append(doc.KeycloakNeeds, renderNeed{Kind: n.Kind, Value: n.Value, Why: n.Why})
		}
	}
	return writeRenderDoc(opts, site, doc)
}

// renderInput is what the render reads of the realm: its live discovery
// document's endpoints (and for social-auth its public key), checked
// against the realm.
func renderInput(opts *renderDjangoOptions, k *spec.Keycloak, site *spec.DjangoSite) (django.Input, error) {
	hc, err := opts.connect.plainHTTP()
	if err != nil {
		return django.Input{}, err
	}
	issuer := provision.Issuer(k)
	disc, err := inspect.Discover(opts.Context, hc, issuer)
	if err != nil {
		return django.Input{}, fmt.Errorf("reading the realm's discovery document (render needs its endpoints): %w", err)
	}
	in := django.Input{Site: site, Client: k.Client(site.Client), KeycloakURL: k.URL, Realm: k.Realm, Endpoints: django.Endpoints{
		Issuer: disc.Issuer, Authorization: disc.AuthorizationEndpoint, Token: disc.TokenEndpoint, Userinfo: disc.UserinfoEndpoint,
		JWKS: disc.JWKSURI, EndSession: disc.EndSessionEndpoint}}
	if site.Library == spec.LibSocial {
		if in.PublicKey, err = keycloak.RealmPublicKey(opts.Context, hc, k.URL, k.Realm); err != nil {
			return in, err
		}
	}
	if err := in.Check(disc.URL); err != nil {
		return in, fmt.Errorf("%w: ssoctl renders no app from it", err)
	}
	return in, nil
}

// writeRenderDoc prints the warnings, then the files written (or doc with
// -o json) and the next steps.
func writeRenderDoc(opts *renderDjangoOptions, site *spec.DjangoSite, doc renderDoc) error {
	eth := opts.IO.ErrTheme()
	for _, w := range doc.Warnings {
		fmt.Fprintf(opts.IO.ErrOut, "%s %s\n", eth.Warn.Render("warning:"), w)
	}
	if opts.Globals.JSON() {
		return writeJSON(opts.IO.Out, doc)
	}
	for _, f := range doc.Files {
		fmt.Fprintln(opts.IO.Out, filepath.Join(opts.Out, f.Path))
	}
	fmt.Fprintf(opts.IO.ErrOut, `
Next steps for site %[1]s (%[2]s):
  pip install %[3]s
  In settings.py, last:  from keycloak_sso.settings import configure; configure(globals())
  In urls.py, first:     path("", include("keycloak_sso.urls")),
  The client secret, which the settings read from $%[4]s (with $KEYCLOAK_ADMIN and $KEYCLOAK_ADMIN_PASSWORD set):
    %[5]s
  ssoctl apply -f %[6]s  makes the client meet the site's needs (ssoctl plan shows them).
`, site.Name, site.Library, strings.Join(django.Requirements(site), " "), site.ClientSecretEnv,
		secretExportLine(site.ClientSecretEnv, doc.keycloakURL, opts.Getenv("KEYCLOAK_URL"), doc.realm, site.Client), opts.File)
	return nil
}

// secretExportLine is the shell line that puts client's secret into the
// variable env the rendered settings read: --url is left out when url is
// the default ($KEYCLOAK_URL, defaultURL). Every value from the file is
// shell-quoted, so that pasting the line runs nothing but ssoctl, whatever
// the realm or client id holds; env is a variable name (spec checks it).
func secretExportLine(env, url, defaultURL, realm, client string) string {
	args := []string{"ssoctl", "keycloak", "client-secret"}
	if url != defaultURL {
		args = append(args, shellWord("--url="+url))
	}
	// --flag=value: a value that starts with - stays the flag's.
	args = append(args, shellWord("--realm="+realm), shellWord("--client="+client), "--show-secrets")
	return fmt.Sprintf(`export %s="$(%s)"`, env, strings.Join(args, " "))
}

// shellWord quotes s as one word for a POSIX shell: as is when it holds
// only characters no shell treats specially, else in single quotes (inside
// which nothing is special), each ' in s replaced by a closing quote, an
// escaped quote and an opening quote.
func shellWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:@%+,=") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func pickSite(file *spec.File, name string) (*spec.DjangoSite, error) {
	if file.Django == nil || len(file.Django.Sites) == 0 {
		return nil, inputErrorf("%s has no django: sites", file.Path)
	}
	var names []string
	for _, s := range file.Django.Sites {
		names = append(names, s.Name)
	}
	if name == "" {
		if len(names) == 1 {
			return &file.Django.Sites[0], nil
		}
		return nil, usageErrorf("--site is required: the file has sites %s", strings.Join(names, ", "))
	}
	if s := file.Django.Site(name); s != nil {
		return s, nil
	}
	return nil, inputErrorf("%s has no django site %q (sites: %s)", file.Path, name, strings.Join(names, ", "))
}

// liveWarnings compares the live client with what the site needs, when the
// admin credentials are there to read it.
func liveWarnings(opts *renderDjangoOptions, k *spec.Keycloak, site *spec.DjangoSite) ([]string, error) {
	admin, err := opts.connect.keycloakAdmin(k.URL, k.Admin)
	var missing *plan.MissingSecretError
	if errors.As(err, &missing) {
		return []string{fmt.Sprintf("Keycloak's live client %s was not checked (%v)", site.Client, err)}, nil
	}
	if err != nil {
		return nil, err
	}
	live, err := admin.ReadClient(opts.Context, k.Realm, site.Client)
	var nf *keycloak.NotFoundError
	if errors.As(err, &nf) {
		return []string{fmt.Sprintf("client %s does not exist in Keycloak yet: run ssoctl apply -f %s", site.Client, opts.File)}, nil
	}
	if err != nil {
		return nil, err
	}
	tc := live.TokenClient()
	var out []string
	for _, p := range django.Check(site, &tc) {
		out = append(out, fmt.Sprintf("Keycloak's client %s: %s (ssoctl apply -f %s fixes it)", site.Client, p.Message, opts.File))
	}
	return out, nil
}
