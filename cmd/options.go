package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ssoctl/ssoctl/internal/secret"
	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/spec"
)

// commonOptions are the dependencies every command's options carry, taken
// from the Factory: streams, global flags, environment, redactor, clock,
// the context of the run and the connector. Each command's options struct
// embeds it, so opts.IO, opts.Getenv, … read as before.
type commonOptions struct {
	IO       *IOStreams
	Globals  *GlobalOptions
	Getenv   func(string) string
	Redactor *secret.Redactor
	Now      func() time.Time
	Context  context.Context
	connect  *connector
}

func newCommonOptions(f *Factory) commonOptions {
	return commonOptions{IO: f.IO, Globals: f.Globals, Getenv: f.Getenv, Redactor: f.Redactor, Now: f.Now, connect: f.connector()}
}

func (o *commonOptions) common() *commonOptions { return o }

// commandOptions is any options struct that embeds commonOptions.
type commandOptions interface{ common() *commonOptions }

// runCommand is the step every RunE ends with, once the flags are checked:
// the command's context into opts, then runF when a test gave one, else
// run; then the admin sessions the run opened are logged out (a failure
// there is a warning, never the run's error).
func runCommand[T commandOptions](cmd *cobra.Command, opts T, runF, run func(T) error) error {
	c := opts.common()
	c.Context = cmd.Context()
	if runF != nil {
		return runF(opts)
	}
	defer c.closeConnections()
	return run(opts)
}

// closeConnections logs out the admin connections of the run and warns on
// stderr about each session it could not end.
func (o *commonOptions) closeConnections() {
	for _, err := range o.connect.close(o.Context) {
		o.warn(err)
	}
}

// warn prints a warning line on stderr, secrets redacted.
func (o *commonOptions) warn(err error) {
	if o.IO == nil {
		return
	}
	msg := err.Error()
	if o.Redactor != nil {
		msg = o.Redactor.Redact(msg)
	}
	fmt.Fprintf(o.IO.ErrOut, "%s %s\n", o.IO.ErrTheme().Warn.Render("warning:"), msg)
}

// keycloakOptions are the options of a command that talks to one realm:
// --url and --realm, resolved from the environment before the run.
type keycloakOptions struct {
	commonOptions
	keycloakTarget
}

func newKeycloakOptions(f *Factory) keycloakOptions {
	return keycloakOptions{commonOptions: newCommonOptions(f)}
}

// resolveTarget fills --url and --realm from the environment and checks
// them (resolve, with the command's environment).
func (o *keycloakOptions) resolveTarget() error {
	return o.resolve(o.Getenv)
}

// resolveClientTarget is resolveTarget for a command about one client,
// which --client (its value, client) must name.
func (o *keycloakOptions) resolveClientTarget(client string) error {
	if err := o.resolveTarget(); err != nil {
		return err
	}
	if client == "" {
		return usageErrorf("--client is required")
	}
	return nil
}

// fileOptions are the options of a command that reads an sso.yaml: -f.
type fileOptions struct {
	commonOptions
	File string
}

func newFileOptions(f *Factory) fileOptions {
	return fileOptions{commonOptions: newCommonOptions(f)}
}

// addFileFlag adds -f/--file with its default and usage.
func (o *fileOptions) addFileFlag(cmd *cobra.Command, value, usage string) {
	cmd.Flags().StringVarP(&o.File, "file", "f", value, usage)
}

// load reads and checks the file -f names (- is stdin).
func (o *fileOptions) load() (*spec.File, error) {
	return spec.Load(o.File, o.IO.In, o.Getenv)
}

// endBrowserSessions ends the Keycloak sessions a browser login of user
// opened (their ids from the login's cookies), through the admin API of the
// file's Keycloak, one by one: no other session of the user is touched.
// Each one left (no admin credentials, a refusal) is a warning naming it.
func (o *commonOptions) endBrowserSessions(k *spec.Keycloak, user string, sids []string) {
	if len(sids) == 0 {
		return
	}
	admin, err := o.connect.keycloakAdmin(k.URL, k.Admin)
	if err != nil {
		for _, sid := range sids {
			o.warn(&keycloak.SessionLeftError{Realm: k.Realm, User: user, Session: sid, Err: fmt.Errorf("no admin login to end it: %w", err)})
		}
		return
	}
	for _, err := range admin.EndSessions(o.Context, k.Realm, user, sids) {
		o.warn(err)
	}
}
