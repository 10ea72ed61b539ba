package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ssoctl/ssoctl/cmd/provision"
	"github.com/ssoctl/ssoctl/inspect/doctor"
	"github.com/ssoctl/ssoctl/internal/secret"
	"github.com/ssoctl/ssoctl/spec"
	"github.com/ssoctl/ssoctl/templates/django"
)

type doctorOptions struct {
	IO       *IOStreams
	Globals  *GlobalOptions
	Getenv   func(string) string
	Redactor *secret.Redactor
	Now      func() time.Time
	Context  context.Context
	connect  *connector

	File string
	Fix  bool
	User string
	keycloakTarget
	Client          string
	Mounts          []doctor.Mount
	SiteURL         string
	Library         string
	RancherURL      string
	RancherMetadata string
	RancherFields   map[string]string
}

// mountFlag collects --vault-mount M [--vault-role R]... in order: a role
// belongs to the mount before it.
type mountFlag struct {
	opts *doctorOptions
	role bool
}

func (m *mountFlag) String() string { return "" }
func (m *mountFlag) Type() string   { return "string" }
func (m *mountFlag) Set(v string) error {
	if !m.role {
		m.opts.Mounts = append(m.opts.Mounts, doctor.Mount{Path: strings.Trim(v, "/")})
		return nil
	}
	if len(m.opts.Mounts) == 0 {
		return errors.New("--vault-role must follow the --vault-mount it belongs to")
	}
	last := &m.opts.Mounts[len(m.opts.Mounts)-1]
	last.Roles = append(last.Roles, v)
	return nil
}

func newDoctorCmd(f *Factory, runF func(*doctorOptions) error) *cobra.Command {
	opts := &doctorOptions{IO: f.IO, Globals: f.Globals, Getenv: f.Getenv, Redactor: f.Redactor, Now: f.Now, connect: f.connector()}
	cmd := &cobra.Command{
		Use:   "doctor [-f sso.yaml | --realm R --client C [--vault-mount M [--vault-role ROLE]...]...] [--user NAME] [--fix]",
		Short: "Find what is wrong across Keycloak, Vault, Django sites and Rancher, and name the fix",
		Long: `Read the live configuration of every system involved, check them against each
other, and name each broken link with the evidence and the fix: the Keycloak or
Vault setting, and the sso.yaml lines (fix_yaml) that make it.

With -f, the systems the file names are checked (one client at a time: the
Vault mounts that trust it, the Django sites and Rancher). Without it, a setup
made by hand: --realm and --client, each --vault-mount with its --vault-role(s)
(all roles when none is named), --site-url with --library for a Django site,
--rancher-url (with --rancher-metadata and --rancher-fields) for Rancher.

With --user NAME (password from $SSOCTL_PASSWORD, a prompt, or stdin) doctor
logs in for real: the password grant, Vault JWT logins per JWT role with the ID
token and with the access token, Vault's browser flow per OIDC role (auth_url, Keycloak's login form,
Vault's callback: it proves the redirect URI and the client secret Vault holds),
and each Django site that is running. The step that broke is reported with the
server's own message.

--fix (with -f) merges the fixes' sso.yaml lines into the file, keeping its
comments and order, then prints the plan. Doctor itself never writes to
Keycloak or Vault. The file must be a regular file (not -f -); it is read
once. A fix changes only the object it names: a value the file shares through
an anchor or a << merge key is copied first, with a comment saying why.

Exit codes: 0 every check passed (warnings may be printed), 3 a check failed,
1 a system could not be reached, 2 bad usage or input.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			fileMode := cmd.Flags().Changed("file")
			switch {
			case fileMode && (opts.Realm != "" || opts.Client != "" || len(opts.Mounts) > 0):
				return usageErrorf("give -f, or --realm/--client with the mounts, not both")
			case fileMode && (opts.SiteURL != "" || opts.RancherURL != "" || len(opts.RancherFields) > 0):
				return usageErrorf("with -f, the file names the Django sites and Rancher")
			case opts.Fix && !fileMode:
				return usageErrorf("--fix edits the file: it needs -f")
			case opts.Fix && opts.File == "-":
				return usageErrorf("--fix edits the file: give its path, not -f - (stdin)")
			case !fileMode:
				if err := opts.resolve(opts.Getenv); errors.Is(err, errNoTarget) {
					return usageErrorf("without -f, doctor needs --realm and --client (and --url or $KEYCLOAK_URL)")
				} else if err != nil {
					return err
				}
				if opts.Client == "" {
					return usageErrorf("without -f, doctor needs --client")
				}
				if opts.RancherURL == "" && (opts.RancherMetadata != "" || len(opts.RancherFields) > 0) {
					return usageErrorf("--rancher-metadata and --rancher-fields need --rancher-url")
				}
				if (opts.SiteURL == "") != (opts.Library == "") {
					return usageErrorf("--site-url and --library go together")
				}
				if opts.Library != "" && !slices.Contains(spec.DjangoLibraries, opts.Library) {
					return usageErrorf("unknown --library %q: want one of %s", opts.Library, strings.Join(spec.DjangoLibraries, ", "))
				}
			}
			opts.Context = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return doctorRun(opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.File, "file", "f", "", "check the systems this sso.yaml names")
	fl.BoolVar(&opts.Fix, "fix", false, "merge the fixes into the file (-f), then print the plan")
	fl.StringVar(&opts.User, "user", "", "log in for real as this user (password from $SSOCTL_PASSWORD, a prompt or stdin)")
	opts.addFlags(cmd, "the realm to check")
	fl.StringVar(&opts.Client, "client", "", "the client to check (without -f)")
	fl.Var(&mountFlag{opts: opts}, "vault-mount", "a Vault auth mount that trusts the client (repeatable)")
	fl.Var(&mountFlag{opts: opts, role: true}, "vault-role", "a role of the --vault-mount before it (repeatable; default all)")
	fl.StringVar(&opts.SiteURL, "site-url", "", "a Django site that logs in with the client")
	fl.StringVar(&opts.Library, "library", "", "the Django site's library")
	fl.StringVar(&opts.RancherURL, "rancher-url", "", "Rancher's URL, when the realm serves its SAML login")
	fl.StringVar(&opts.RancherMetadata, "rancher-metadata", "", "the IdP metadata Rancher holds (FILE or URL; default the realm's)")
	fl.StringToStringVar(&opts.RancherFields, "rancher-fields", nil, "Rancher's attribute fields, to check against the mappers: display_name=,user_name=,uid=,groups=")
	cmd.AddCommand(newDoctorLogoutCmd(f, nil))
	return cmd
}

func doctorRun(opts *doctorOptions) error {
	var file *spec.File
	var targets []doctor.Target
	var admin = spec.Admin{}
	// --fix merges into the bytes read here: the file is read once.
	var fixData []byte
	var fixInfo fs.FileInfo
	if opts.File != "" {
		var err error
		if opts.Fix {
			if fixData, fixInfo, err = spec.ReadForEdit(opts.File); err != nil {
				return err
			}
			file, err = spec.Parse(opts.File, fixData, opts.Getenv)
		} else {
			file, err = spec.Load(opts.File, opts.IO.In, opts.Getenv)
		}
		if err != nil {
			return err
		}
		if file.Keycloak == nil {
			return inputErrorf("%s has no keycloak: section; doctor checks what trusts Keycloak", opts.File)
		}
		if targets, err = fileTargets(file); err != nil {
			return err
		}
		admin = file.Keycloak.Admin
		opts.URL = file.Keycloak.URL
	} else {
		t := doctor.Target{KeycloakURL: opts.URL, Realm: opts.Realm, Client: opts.Client, Mounts: opts.Mounts}
		if opts.SiteURL != "" {
			t.Sites = []spec.DjangoSite{{Name: "site", Client: opts.Client, Library: opts.Library, URL: strings.TrimRight(opts.SiteURL, "/"), Logout: "local"}}
		}
		if opts.RancherURL != "" {
			r := strings.TrimRight(opts.RancherURL, "/")
			t.Rancher = &spec.Rancher{URL: r, SAMLClient: r + "/v1-saml/keycloak/saml/metadata"}
			fields, err := rancherFields(opts.RancherFields)
			if err != nil {
				return err
			}
			t.Rancher.Fields = fields
		}
		targets = []doctor.Target{t}
	}
	kc, err := opts.connect.keycloakAdmin(opts.URL, admin)
	if err != nil {
		return err
	}
	hc, err := opts.connect.plainHTTP()
	if err != nil {
		return err
	}
	sys := doctor.Systems{Keycloak: kc, HTTP: hc, Now: opts.Now}
	if slices.ContainsFunc(targets, func(t doctor.Target) bool { return len(t.Mounts) > 0 }) {
		addr, ns := "", ""
		if file != nil && file.Vault != nil {
			addr, ns = file.Vault.Addr, file.Vault.Namespace
		}
		if sys.Vault, err = opts.connect.vaultConn(addr, ns, true); err != nil {
			return err
		}
	}
	o := doctor.Options{User: opts.User}
	if o.Password, err = userPassword(opts.IO, opts.Getenv, opts.Redactor, opts.User); err != nil {
		return err
	}
	if opts.RancherMetadata != "" {
		if targets[0].Rancher == nil {
			return inputErrorf("--rancher-metadata: %s has no rancher: section", opts.File)
		}
		src := metadataSource{Arg: opts.RancherMetadata}
		data, _, err := src.read(opts.Context, opts.IO.In, opts.Getenv, opts.connect)
		if err != nil {
			return err
		}
		targets[0].RancherMetadata = data
	}
	rep := &doctor.Report{Checks: []doctor.Check{}, Logins: []doctor.Login{}}
	for _, t := range targets {
		t.File = file
		r, err := doctor.Run(opts.Context, t, sys, o)
		if err != nil {
			return err
		}
		rep.Checks = append(rep.Checks, r.Checks...)
		rep.Logins = append(rep.Logins, r.Logins...)
	}
	if opts.Globals.JSON() {
		if err := writeJSON(opts.IO.Out, rep); err != nil {
			return err
		}
	} else {
		writeDoctor(opts.IO, rep)
	}
	if opts.Fix {
		return doctorFix(opts, rep, fixData, fixInfo)
	}
	if rep.Failed() {
		return &ExitError{Code: ExitFindings}
	}
	return nil
}

// rancherFields reads --rancher-fields.
func rancherFields(in map[string]string) (spec.RancherFields, error) {
	var f spec.RancherFields
	dst := map[string]*string{"display_name": &f.DisplayName, "user_name": &f.UserName, "uid": &f.UID, "groups": &f.Groups}
	for k, v := range in {
		p := dst[k]
		if p == nil {
			return f, inputErrorf("--rancher-fields: unknown field %q (want display_name, user_name, uid or groups)", k)
		}
		*p = v
	}
	return f, nil
}

// fileTargets turns a file into one target per client that something
// trusts: the Vault mounts that name it (client_id) or bind its audience,
// its Django sites, and the Rancher SAML login.
func fileTargets(f *spec.File) ([]doctor.Target, error) {
	k, _, err := django.Apply(f)
	if err != nil {
		return nil, err
	}
	base := doctor.Target{KeycloakURL: k.URL, Realm: k.Realm}
	byClient := map[string]*doctor.Target{}
	var order []string
	target := func(c string) *doctor.Target {
		if t := byClient[c]; t != nil {
			return t
		}
		t := base
		t.Client = c
		byClient[c] = &t
		order = append(order, c)
		return &t
	}
	if f.Vault != nil {
		for _, a := range f.Vault.Auth {
			if a.DiscoveryURL != "" && strings.TrimRight(a.DiscoveryURL, "/") != provision.Issuer(k) {
				continue // trusts another realm
			}
			clients := map[string]bool{}
			if a.ClientID != "" {
				clients[a.ClientID] = true
			}
			for _, r := range a.Roles {
				for _, aud := range r.BoundAudiences {
					if k.Client(aud) != nil {
						clients[aud] = true
					}
				}
			}
			// The file's roles: others on the mount are not the file's business.
			roles := slices.Sorted(maps.Keys(a.Roles))
			for _, c := range slices.Sorted(maps.Keys(clients)) {
				t := target(c)
				t.Mounts = append(t.Mounts, doctor.Mount{Path: a.Path, Roles: roles})
			}
		}
	}
	if f.Django != nil {
		for _, s := range f.Django.Sites {
			if lib := django.Libraries[s.Library]; lib != nil && lib.Refusal == "" {
				t := target(s.Client)
				t.Sites = append(t.Sites, s)
			}
		}
	}
	if len(order) == 0 {
		switch {
		case f.Rancher != nil:
			target(f.Rancher.SAMLClient)
		case len(k.Clients) > 0:
			target(k.Clients[0].ClientID)
		default:
			return nil, inputErrorf("%s names no client that Vault, a Django site or Rancher uses; doctor has nothing to check", f.Path)
		}
	}
	if f.Rancher != nil {
		byClient[order[0]].Rancher = f.Rancher
	}
	var out []doctor.Target
	for _, c := range order {
		out = append(out, *byClient[c])
	}
	return out, nil
}

// writeDoctor prints the checks grouped by system, then the logins.
func writeDoctor(ios *IOStreams, rep *doctor.Report) {
	th := ios.OutTheme()
	w := ios.Out
	for _, system := range []string{"keycloak", "vault", "django", "rancher"} {
		var cs []doctor.Check
		for _, c := range rep.Checks {
			// A login that worked is listed once, under Logins.
			if c.System == system && (c.Status != doctor.OK || !strings.HasPrefix(c.ID, "login.")) {
				cs = append(cs, c)
			}
		}
		if len(cs) == 0 {
			continue
		}
		fmt.Fprintf(w, "%s\n", th.Bold.Render(strings.ToUpper(system[:1])+system[1:]))
		for _, c := range cs {
			mark := th.OK.Render("✓")
			switch c.Status {
			case doctor.Warn:
				mark = th.Warn.Render("!")
			case doctor.Fail:
				mark = th.Fail.Render("✗")
			}
			fmt.Fprintf(w, "  %s %s %s\n", mark, c.Message, th.Muted.Render("["+c.ID+"]"))
			if c.Status == doctor.OK {
				continue
			}
			writeCheckDetail(w, "      ", c)
		}
	}
	if len(rep.Logins) > 0 {
		fmt.Fprintf(w, "%s\n", th.Bold.Render("Logins"))
		for _, l := range rep.Logins {
			if l.OK {
				fmt.Fprintf(w, "  %s %s as %s: %s\n", th.OK.Render("✓"), l.Path, l.User, l.Granted)
			} else {
				fmt.Fprintf(w, "  %s %s as %s broke at %s: %s\n", th.Fail.Render("✗"), l.Path, l.User, l.Step, l.Message)
			}
		}
	}
	var fails, warns int
	for _, c := range rep.Checks {
		switch c.Status {
		case doctor.Fail:
			fails++
		case doctor.Warn:
			warns++
		}
	}
	fmt.Fprintf(w, "%d checks: %d failed, %d warnings.\n", len(rep.Checks), fails, warns)
}

// doctorFix merges the failed checks' fix_yaml into data, the file as
// doctor read it (info), writes the result in its place unless the file
// changed meanwhile, and prints the plan of the result.
func doctorFix(opts *doctorOptions, rep *doctor.Report, data []byte, info fs.FileInfo) error {
	// A fix counts once, and only when it changes the file (the same
	// mapper missing for two roles is one fix).
	// The file as yaml.v3 writes it: the baseline a fix must change.
	base, err := spec.MergeFragment(data, []byte("{}"))
	if err != nil {
		return inputErrorf("%s: %v", opts.File, err)
	}
	merged, n := base, 0
	for _, c := range rep.Checks {
		if c.Status != doctor.Fail || c.FixYAML == "" {
			continue
		}
		next, err := spec.MergeFragment(merged, []byte(c.FixYAML))
		if err != nil {
			return fmt.Errorf("merging the fix of %s: %w", c.ID, err)
		}
		if string(next) != string(merged) {
			merged, n = next, n+1
		}
	}
	if n == 0 {
		if rep.Failed() {
			fmt.Fprintf(opts.IO.ErrOut, "%s already holds every fix doctor found; ssoctl apply -f %s makes the live systems match it.\n", opts.File, opts.File)
			return &ExitError{Code: ExitFindings}
		}
		fmt.Fprintln(opts.IO.ErrOut, "Nothing in sso.yaml to fix.")
		return nil
	}
	fixed, err := spec.Parse(opts.File, merged, opts.Getenv)
	if err != nil {
		return fmt.Errorf("the fixed file would not load, so it was not written: %w", err)
	}
	if now, err := os.Lstat(opts.File); err != nil || !os.SameFile(now, info) || now.Size() != info.Size() || !now.ModTime().Equal(info.ModTime()) {
		return fmt.Errorf("%s changed while doctor ran, so the fixes were not written: run doctor --fix again", opts.File)
	}
	if err := writeFileAtomic(opts.File, merged); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "Wrote %d fix(es) into %s; ssoctl apply -f %s makes them:\n", n, opts.File, opts.File)
	po := &planOptions{IO: opts.IO, Globals: &GlobalOptions{Output: "text", ShowSecrets: opts.Globals.ShowSecrets}, Getenv: opts.Getenv,
		Redactor: opts.Redactor, Context: opts.Context, connect: opts.connect, File: opts.File, Parallel: 8, loaded: fixed}
	return planRun(po)
}

// writeCheckDetail prints a check's evidence, fix and sso.yaml lines under
// it, each line starting with indent.
func writeCheckDetail(w io.Writer, indent string, c doctor.Check) {
	if c.Evidence != "" {
		fmt.Fprintf(w, "%sseen: %s\n", indent, c.Evidence)
	}
	if c.Fix != "" {
		fmt.Fprintf(w, "%sfix:  %s\n", indent, c.Fix)
	}
	if c.FixYAML != "" {
		body := strings.ReplaceAll(strings.TrimRight(c.FixYAML, "\n"), "\n", "\n"+indent+"  ")
		fmt.Fprintf(w, "%ssso.yaml:\n%s  %s\n", indent, indent, body)
	}
}
