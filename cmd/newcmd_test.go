package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// parse runs one command's constructor with argv and returns the options it
// handed to runF, or the parse error. Nothing runs: these tests pin flag
// parsing and validation, as gh's TestNewCmd tables do.
func parse[O any](t *testing.T, newCmd func(*Factory, func(*O) error) *cobra.Command, env map[string]string, argv ...string) (*O, error) {
	t.Helper()
	ios, _, _, _ := TestIO()
	f := NewFactory(ios)
	f.Getenv = func(k string) string { return env[k] }
	var got *O
	cmd := newCmd(f, func(o *O) error { got = o; return nil })
	cmd.SetArgs(argv)
	cmd.SetOut(ios.Out)
	cmd.SetErr(ios.ErrOut)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &UsageError{Err: err} })
	_, err := cmd.ExecuteC()
	return got, err
}

func TestNewCmdPlanAndApply(t *testing.T) {
	tests := []struct {
		name    string
		newCmd  func(*Factory, func(*planOptions) error) *cobra.Command
		argv    []string
		wantErr string
		check   func(*planOptions) bool
	}{
		{"plan defaults", newPlanCmd, nil, "", func(o *planOptions) bool { return o.File == "sso.yaml" && o.Parallel == 8 && o.Only == "" }},
		{"plan flags", newPlanCmd, []string{"-f", "x.yaml", "--only", "vault", "--detailed-exitcode", "--parallel", "3"}, "",
			func(o *planOptions) bool {
				return o.File == "x.yaml" && o.Only == "vault" && o.DetailedExitcode && o.Parallel == 3
			}},
		{"plan only rancher", newPlanCmd, []string{"--only", "rancher"}, "", func(o *planOptions) bool { return o.Only == "rancher" }},
		{"plan bad only", newPlanCmd, []string{"--only", "rancherr"}, "invalid value \"rancherr\" for --only", nil},
		{"plan parallel 0", newPlanCmd, []string{"--parallel", "0"}, "--parallel must be between 1 and 64", nil},
		{"plan parallel 65", newPlanCmd, []string{"--parallel", "65"}, "--parallel must be between 1 and 64", nil},
		{"plan extra arg", newPlanCmd, []string{"extra"}, "takes 0 argument(s)", nil},
		{"plan has no prune", newPlanCmd, []string{"--prune"}, "unknown flag: --prune", nil},
		{"apply flags", newApplyCmd, []string{"-f", "-", "--prune", "--dry-run"}, "",
			func(o *planOptions) bool { return o.File == "-" && o.Prune && o.DryRun }},
		{"apply has no detailed exit code", newApplyCmd, []string{"--detailed-exitcode"}, "unknown flag", nil},
	}
	for _, tt := range tests {
		got, err := parse(t, tt.newCmd, nil, tt.argv...)
		switch {
		case tt.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || exitCode(err) != ExitUsage {
				t.Errorf("%s: err %v, want %q (exit 2)", tt.name, err, tt.wantErr)
			}
		case err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case !tt.check(got):
			t.Errorf("%s: options %+v", tt.name, got)
		}
	}
}

func TestNewCmdKeycloakAndExport(t *testing.T) {
	env := map[string]string{"KEYCLOAK_URL": "http://kc", "KEYCLOAK_REALM": "demo"}
	tok, err := parse(t, newKeycloakTokenCmd, env, "--client", "vault", "--user", "alice", "--id-token", "--scope", "profile", "--client-secret-env", "S")
	if err != nil || tok.URL != "http://kc" || tok.Realm != "demo" || tok.ClientID != "vault" || tok.User != "alice" || !tok.IDToken || tok.Scope != "profile" || tok.ClientSecretEnv != "S" {
		t.Errorf("token: %+v %v", tok, err)
	}
	if _, err := parse(t, newKeycloakTokenCmd, env); err == nil || !strings.Contains(err.Error(), "--client is required") {
		t.Errorf("token without --client: %v", err)
	}
	if _, err := parse(t, newKeycloakTokenCmd, nil, "--client", "x"); err == nil || !strings.Contains(err.Error(), "$KEYCLOAK_URL") {
		t.Errorf("token without a server: %v", err)
	}
	d, err := parse(t, newKeycloakDescriptorCmd, nil, "--url", "http://other", "--realm", "r")
	if err != nil || d.URL != "http://other" || d.Realm != "r" {
		t.Errorf("descriptor: %+v %v", d, err)
	}
	x, err := parse(t, newExportKeycloakCmd, env, "--client", "a", "--client", "b")
	if err != nil || len(x.Clients) != 2 || x.Realm != "demo" {
		t.Errorf("export: %+v %v", x, err)
	}
}

func TestNewCmdInspect(t *testing.T) {
	o, err := parse(t, newInspectTokenCmd, nil, "tok.jwt", "--issuer", "https://kc/realms/demo", "--audience", "a", "--audience", "b",
		"--claim", "/groups=x", "--vault-role", "r", "--vault-mount", "/jwt/", "--leeway", "5s", "--access-token")
	if err != nil || o.Input != "tok.jwt" || len(o.Audiences) != 2 || o.VaultMount != "jwt" || o.Leeway != 5*time.Second || !o.AccessToken {
		t.Errorf("inspect token: %+v %v", o, err)
	}
	if o, err := parse(t, newInspectTokenCmd, nil, "--jwks", "k.json"); err != nil || o.Input != "-" || o.Leeway != time.Minute {
		t.Errorf("defaults: %+v %v", o, err)
	}
	for _, tt := range []struct {
		argv []string
		want string
	}{
		{[]string{"--id-token", "--access-token", "--jwks", "k"}, "mutually exclusive"},
		{[]string{"--issuer", "i", "--jwks", "k"}, "mutually exclusive"},
		{[]string{"--vault-role", "r", "--vault-role-file", "f"}, "mutually exclusive"},
		{[]string{"--insecure-no-verify", "--jwks", "k"}, "contradicts"},
		{nil, "nothing to verify the signature with"},
		{[]string{"a", "b", "--jwks", "k"}, "at most 1"},
	} {
		if _, err := parse(t, newInspectTokenCmd, nil, tt.argv...); err == nil || !strings.Contains(err.Error(), tt.want) || exitCode(err) != ExitUsage {
			t.Errorf("%v: %v, want %q", tt.argv, err, tt.want)
		}
	}
	d, err := parse(t, newInspectDiscoveryCmd, nil, "https://kc/realms/demo")
	if err != nil || d.Issuer != "https://kc/realms/demo" {
		t.Errorf("discovery: %+v %v", d, err)
	}
	if _, err := parse(t, newInspectDiscoveryCmd, nil); err == nil {
		t.Error("discovery needs its issuer")
	}
}

func TestNewCmdVaultAndRancher(t *testing.T) {
	v, err := parse(t, newVaultLoginCmd, nil, "--mount", "/jwt/", "tok")
	if err != nil || v.Mount != "jwt" || v.Role != "" || v.Input != "tok" {
		t.Errorf("vault login: %+v %v", v, err)
	}
	if _, err := parse(t, newVaultLoginCmd, nil); err == nil || !strings.Contains(err.Error(), "--mount is required") {
		t.Errorf("vault login without --mount: %v", err)
	}
	c, err := parse(t, newRancherConvertCmd, nil, "in.xml", "--entity-id", "e", "--out", "o.xml")
	if err != nil || c.Src.Arg != "in.xml" || c.EntityID != "e" || c.Out != "o.xml" {
		t.Errorf("convert: %+v %v", c, err)
	}
	if _, err := parse(t, newRancherConvertCmd, nil, "in.xml", "--realm", "r"); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Errorf("convert with a file and --realm: %v", err)
	}
	if _, err := parse(t, newRancherCheckCmd, nil); err == nil || !strings.Contains(err.Error(), "give one of") {
		t.Errorf("check with nothing: %v", err)
	}
	if k, err := parse(t, newRancherCheckCmd, nil, "--realm", "r"); err != nil || k.Src.Realm != "r" {
		t.Errorf("check --realm: %+v %v", k, err)
	}
	g, err := parse(t, newRancherConfigCmd, nil, "-f", "r.yaml", "--sp-cert", "c", "--sp-key", "k")
	if err != nil || g.File != "r.yaml" || g.SPCert != "c" || g.SPKey != "k" {
		t.Errorf("config: %+v %v", g, err)
	}
	if l, err := parse(t, newRancherLoginCmd, nil, "-f", "r.yaml", "--user", "carol", "--sp-cert", "c", "--sp-key", "k"); err != nil ||
		l.File != "r.yaml" || l.User != "carol" || l.SPCert != "c" || l.SPKey != "k" {
		t.Errorf("login: %+v %v", l, err)
	}
	if _, err := parse(t, newRancherLoginCmd, nil, "-f", "r.yaml"); err == nil || !strings.Contains(err.Error(), "needs --user") {
		t.Errorf("login without --user: %v", err)
	}
	if _, err := parse(t, newRancherLoginCmd, nil, "--user", "carol", "--sp-cert", "c"); err == nil || !strings.Contains(err.Error(), "go together") {
		t.Errorf("login with half a pair: %v", err)
	}
	if ver, err := parse(t, newVersionCmd, nil); err != nil || ver.info == nil {
		t.Errorf("version: %v", err)
	}
}

// A credential variable that is not set is bad input named in one line,
// not a usage block.
func TestMissingCredentialsAreOneLine(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sso.yaml")
	os.WriteFile(p, []byte("keycloak:\n  url: http://127.0.0.1:1\n  realm: r\nvault:\n  addr: http://127.0.0.1:1\n  policies: {p: {hcl: x}}\n"), 0o600)
	for _, tt := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{}, []string{"plan", "-f", p}, "$KEYCLOAK_ADMIN, which is not set"},
		{map[string]string{"KEYCLOAK_ADMIN": "admin"}, []string{"plan", "-f", p}, `the Keycloak admin login as "admin" needs $KEYCLOAK_ADMIN_PASSWORD, which is not set`},
		{map[string]string{"KEYCLOAK_CLIENT_ID": "bot"}, []string{"plan", "-f", p}, "$KEYCLOAK_CLIENT_SECRET, which is not set"},
		{map[string]string{}, []string{"plan", "-f", p, "--only", "vault"}, "Vault at http://127.0.0.1:1 needs $VAULT_TOKEN, which is not set"},
		{map[string]string{"KEYCLOAK_URL": "http://kc"}, []string{"keycloak", "token", "--realm", "r", "--client", "c", "--client-secret-env", "C_SECRET"}, "$C_SECRET, which is not set"},
	} {
		code, stdout, stderr := runWith(t, tt.env, "", tt.args...)
		if code != ExitUsage || !strings.Contains(stderr, tt.want) || strings.Contains(stderr, "Usage:") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || stdout != "" {
			t.Errorf("%v with %v: exit %d, stderr %q", tt.args, tt.env, code, stderr)
		}
	}
}

func TestOnlyRancherNeedsItsSection(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sso.yaml")
	os.WriteFile(p, []byte("keycloak:\n  url: http://127.0.0.1:1\n  realm: r\n"), 0o600)
	code, _, stderr := runWith(t, map[string]string{"KEYCLOAK_ADMIN": "a", "KEYCLOAK_ADMIN_PASSWORD": "b"}, "", "plan", "-f", p, "--only", "rancher")
	if code != ExitUsage || !strings.Contains(stderr, "--only rancher needs a rancher: section") {
		t.Errorf("exit %d %q", code, stderr)
	}
	os.WriteFile(p, []byte("keycloak:\n  url: http://127.0.0.1:1\n  realm: r\nrancher:\n  url: https://rancher.example.com\n"), 0o600)
	code, _, stderr = runWith(t, map[string]string{"KEYCLOAK_ADMIN": "a", "KEYCLOAK_ADMIN_PASSWORD": "b"}, "", "plan", "-f", p, "--only", "rancher")
	if code != ExitUsage || !strings.Contains(stderr, "rancher.saml_client: no client") {
		t.Errorf("exit %d %q", code, stderr)
	}
}

// The file may come on stdin, the command's input stream.
func TestPlanReadsTheFileFromStdin(t *testing.T) {
	code, _, stderr := runWith(t, nil, "keycloak:\n  url: http://127.0.0.1:1\n  realm: r\n  clients: [{client_id: a, acess: x}]\n", "plan", "-f", "-")
	if code != ExitUsage || !strings.Contains(stderr, "<stdin>:4:") || !strings.Contains(stderr, `unknown key "acess"`) {
		t.Errorf("exit %d %q", code, stderr)
	}
}

// On a terminal, errors are styled; piped or with --no-color they are not.
func TestTerminalStyling(t *testing.T) {
	for _, tt := range []struct {
		tty    bool
		args   []string
		styled bool
	}{
		{true, []string{"--bogus"}, true},
		{true, []string{"--no-color", "--bogus"}, false},
		{false, []string{"--bogus"}, false},
	} {
		ios, _, _, errOut := TestIO()
		ios.SetTTY(false, tt.tty, tt.tty)
		f := NewFactory(ios)
		f.Getenv = func(string) string { return "" }
		Run(f, tt.args)
		if got := strings.Contains(errOut.String(), "\x1b["); got != tt.styled {
			t.Errorf("tty %v %v: styled %v: %q", tt.tty, tt.args, got, errOut.String())
		}
	}
}

func runWith(t *testing.T, env map[string]string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	ios, in, out, errOut := TestIO()
	in.WriteString(stdin)
	f := NewFactory(ios)
	f.Getenv = func(k string) string { return env[k] }
	return Run(f, args), out.String(), errOut.String()
}
