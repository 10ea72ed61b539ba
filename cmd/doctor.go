package cmd

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ssoctl/ssoctl/inspect/doctor"
	"github.com/ssoctl/ssoctl/internal/totp"
	"github.com/ssoctl/ssoctl/spec"
)

type doctorOptions struct {
	fileOptions
	Fix  bool
	User string
	// TOTPSecretEnv names the variable holding the user's base32 OTP
	// secret (default: the file's totp_secret_env for the user).
	TOTPSecretEnv string
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
	opts := &doctorOptions{fileOptions: newFileOptions(f)}
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

With --user NAME doctor logs in for real (the password: with -f, the variable
the file's users: entry for NAME names in password_env, when it is set; else
$SSOCTL_PASSWORD, a prompt, or stdin): the password grant, Vault JWT logins per JWT role with the ID
token and with the access token, Vault's browser flow per OIDC role (auth_url, Keycloak's login form,
Vault's callback: it proves the redirect URI and the client secret Vault holds),
and each Django site that is running. The step that broke is reported with the
server's own message. Each Keycloak session these logins open is ended when
they are done (the password grant's by its refresh token, the browser logins'
by the admin API's delete of exactly those sessions); one that cannot be is a
warning naming it. A password Keycloak refuses is not tried again in the run,
so a wrong one counts once toward the realm's brute-force lockout.

A user with an OTP credential logs in with one-time codes computed from the
base32 secret in the variable --totp-secret-env names (with -f, default the
file's totp_secret_env for the user): the password grant sends the code,
the browser logins fill Keycloak's one-time-code page, each with a code of
its own (Keycloak refuses a code used before; a run of many logins may wait
for the next time step). Without it, such a login stops and says what to
pass. A user that brute-force detection locked is reported with the time
the lock ends, and no login is tried. When the realm stores LOGIN events,
each login names the event Keycloak stored for it; when it does not, that
is a warning.

--fix (with -f) merges the fixes' sso.yaml lines into the file, keeping its
comments and order, then prints the plan. Doctor itself never writes to
Keycloak or Vault. The file must be a regular file (not -f -); it is read
once. A fix changes only the object it names: a value the file shares through
an anchor or a << merge key is copied first, with a comment saying why.

Exit codes: 0 every check passed (warnings may be printed), 3 a check failed,
1 a system could not be reached, 2 bad usage or input.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validateDoctorOptions(opts, cmd.Flags().Changed("file")); err != nil {
				return err
			}
			return runCommand(cmd, opts, runF, doctorRun)
		},
	}
	fl := cmd.Flags()
	opts.addFileFlag(cmd, "", "check the systems this sso.yaml names")
	fl.BoolVar(&opts.Fix, "fix", false, "merge the fixes into the file (-f), then print the plan")
	fl.StringVar(&opts.User, "user", "", "log in for real as this user (password from the file's password_env, $SSOCTL_PASSWORD, a prompt or stdin)")
	fl.StringVar(&opts.TOTPSecretEnv, "totp-secret-env", "", "the variable holding --user's base32 OTP secret, for logins through an OTP flow")
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

// validateDoctorOptions checks the flags: -f (fileMode) or the flags that
// name a setup made by hand, not both.
func validateDoctorOptions(opts *doctorOptions, fileMode bool) error {
	switch {
	case fileMode && (opts.Realm != "" || opts.Client != "" || len(opts.Mounts) > 0):
		return usageErrorf("give -f, or --realm/--client with the mounts, not both")
	case fileMode && (opts.SiteURL != "" || opts.RancherURL != "" || len(opts.RancherFields) > 0):
		return usageErrorf("with -f, the file names the Django sites and Rancher")
	case opts.TOTPSecretEnv != "" && opts.User == "":
		return usageErrorf("--totp-secret-env is the secret of --user: give --user too")
	case opts.TOTPSecretEnv != "" && !spec.IsVarName(opts.TOTPSecretEnv):
		// Not quoted back: what was given may be the secret itself.
		return usageErrorf("--totp-secret-env takes the name of a variable that holds the secret, not the secret itself")
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
	return nil
}

// doctorInput is what doctor checks: the file (nil without -f) and its
// targets, or the one target the flags name, with the admin login to use.
type doctorInput struct {
	file    *spec.File
	targets []doctor.Target
	admin   spec.Admin
	// --fix merges into the bytes read here: the file is read once.
	fixData []byte
	fixInfo fs.FileInfo
}

func doctorRun(opts *doctorOptions) error {
	in, err := readDoctorInput(opts)
	if err != nil {
		return err
	}
	sys, err := doctorSystems(opts, in)
	if err != nil {
		return err
	}
	o := doctor.Options{User: opts.User}
	if o.Password, err = userPassword(opts.IO, opts.Getenv, opts.Redactor, in.file, opts.User); err != nil {
		return err
	}
	if o.TOTPKey, o.TOTPEnv, err = userTOTP(opts, in.file); err != nil {
		return err
	}
	if opts.RancherMetadata != "" {
		if in.targets[0].RancherMetadata, err = readRancherMetadataFlag(opts, in.targets[0]); err != nil {
			return err
		}
	}
	rep := &doctor.Report{Checks: []doctor.Check{}, Logins: []doctor.Login{}}
	for _, t := range in.targets {
		t.File = in.file
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
		return doctorFix(opts, rep, in.fixData, in.fixInfo)
	}
	if rep.Failed() {
		return &ExitError{Code: ExitFindings}
	}
	return nil
}

// userTOTP reads --user's OTP secret from the variable --totp-secret-env
// names, else the file's totp_secret_env for the user (when set), and
// registers it with the redactor. Without either it returns no key, and the
// variable to name in messages (the file's, when it names one).
func userTOTP(opts *doctorOptions, file *spec.File) ([]byte, string, error) {
	if opts.User == "" {
		return nil, "", nil
	}
	env := opts.TOTPSecretEnv
	if env == "" && file != nil && file.Keycloak != nil {
		for _, u := range file.Keycloak.Users {
			if strings.EqualFold(u.Username, opts.User) && u.TOTPSecretEnv != "" && opts.Getenv(u.TOTPSecretEnv) != "" {
				env = u.TOTPSecretEnv
			}
		}
	}
	if env == "" {
		return nil, "", nil
	}
	v := opts.Getenv(env)
	if v == "" && looksLikeSecret(env) {
		// A base32 secret is also a valid variable name: not quoted back.
		return nil, "", inputErrorf("--totp-secret-env: the variable it names is not set, and its name looks like a base32 secret: give the name of a variable that holds the secret, not the secret itself")
	}
	if v == "" {
		return nil, env, inputErrorf("--totp-secret-env %s: $%s is not set", env, env)
	}
	opts.Redactor.Add(v)
	key, err := totp.DecodeSecret(v)
	if err != nil {
		return nil, env, inputErrorf("$%s (--totp-secret-env): %v", env, err)
	}
	opts.Redactor.Add(string(key))
	return key, env, nil
}

// looksLikeSecret reports whether a variable name could be a base32 OTP
// secret given by mistake: 16 or more characters of the base32 alphabet
// (Keycloak's secrets are 32), as no variable is usually named.
func looksLikeSecret(name string) bool {
	if len(name) < 16 {
		return false
	}
	for _, r := range name {
		if (r < 'A' || r > 'Z') && (r < '2' || r > '7') {
			return false
		}
	}
	return true
}

// readDoctorInput reads the file (-f) and its targets, or builds the
// target the flags name. With -f, the file's Keycloak URL becomes opts.URL.
func readDoctorInput(opts *doctorOptions) (*doctorInput, error) {
	if opts.File == "" {
		t, err := flagTarget(opts)
		if err != nil {
			return nil, err
		}
		return &doctorInput{targets: []doctor.Target{t}}, nil
	}
	in := &doctorInput{}
	var err error
	if opts.Fix {
		if in.fixData, in.fixInfo, err = spec.ReadForEdit(opts.File); err != nil {
			return nil, err
		}
		in.file, err = spec.Parse(opts.File, in.fixData, opts.Getenv)
	} else {
		in.file, err = opts.load()
	}
	if err != nil {
		return nil, err
	}
	if in.file.Keycloak == nil {
		return nil, inputErrorf("%s has no keycloak: section; doctor checks what trusts Keycloak", opts.File)
	}
	if in.targets, err = doctor.FileTargets(in.file); err != nil {
		return nil, err
	}
	in.admin = in.file.Keycloak.Admin
	opts.URL = in.file.Keycloak.URL
	return in, nil
}

// flagTarget is the setup made by hand that the flags name (without -f).
func flagTarget(opts *doctorOptions) (doctor.Target, error) {
	t := doctor.Target{KeycloakURL: opts.URL, Realm: opts.Realm, Client: opts.Client, Mounts: opts.Mounts}
	if opts.SiteURL != "" {
		t.Sites = []spec.DjangoSite{{Name: "site", Client: opts.Client, Library: opts.Library, URL: strings.TrimRight(opts.SiteURL, "/"), Logout: "local"}}
	}
	if opts.RancherURL != "" {
		r := strings.TrimRight(opts.RancherURL, "/")
		t.Rancher = &spec.Rancher{URL: r, SAMLClient: r + "/v1-saml/keycloak/saml/metadata"}
		fields, err := rancherFields(opts.RancherFields)
		if err != nil {
			return t, err
		}
		t.Rancher.Fields = fields
	}
	return t, nil
}

// doctorSystems connects to Keycloak, and to Vault when a target has a
// mount to check.
func doctorSystems(opts *doctorOptions, in *doctorInput) (doctor.Systems, error) {
	kc, err := opts.connect.keycloakAdmin(opts.URL, in.admin)
	if err != nil {
		return doctor.Systems{}, err
	}
	hc, err := opts.connect.plainHTTP()
	if err != nil {
		return doctor.Systems{}, err
	}
	sys := doctor.Systems{Keycloak: kc, HTTP: hc, Now: opts.Now}
	if slices.ContainsFunc(in.targets, func(t doctor.Target) bool { return len(t.Mounts) > 0 }) {
		addr, ns := "", ""
		if in.file != nil && in.file.Vault != nil {
			addr, ns = in.file.Vault.Addr, in.file.Vault.Namespace
		}
		if sys.Vault, err = opts.connect.vaultConn(addr, ns, true); err != nil {
			return doctor.Systems{}, err
		}
	}
	return sys, nil
}

// readRancherMetadataFlag reads --rancher-metadata for the target t.
func readRancherMetadataFlag(opts *doctorOptions, t doctor.Target) ([]byte, error) {
	if t.Rancher == nil {
		return nil, inputErrorf("--rancher-metadata: %s has no rancher: section", opts.File)
	}
	src := metadataSource{Arg: opts.RancherMetadata}
	data, _, err := src.read(opts.Context, opts.IO.In, opts.Getenv, opts.connect)
	return data, err
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
				if l.Evidence != "" {
					fmt.Fprintf(w, "      %s\n", th.Muted.Render("seen: "+l.Evidence))
				}
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
	po := &planOptions{fileOptions: opts.fileOptions, Parallel: 8, loaded: fixed}
	po.Globals = &GlobalOptions{Output: "text", ShowSecrets: opts.Globals.ShowSecrets}
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
