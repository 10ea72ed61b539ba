package cmd

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ssoctl/ssoctl/inspect/doctor"
	"github.com/ssoctl/ssoctl/internal/secret"
	"github.com/ssoctl/ssoctl/spec"
)

func TestNewCmdDoctor(t *testing.T) {
	env := map[string]string{"KEYCLOAK_URL": "http://kc"}
	tests := []struct {
		name    string
		argv    []string
		wantErr string
		check   func(*doctorOptions) bool
	}{
		{"file", []string{"-f", "sso.yaml", "--user", "alice", "--fix"}, "", func(o *doctorOptions) bool { return o.File == "sso.yaml" && o.User == "alice" && o.Fix }},
		{"a role belongs to the mount before it", []string{"--realm", "demo", "--client", "vault", "--vault-mount", "/oidc/", "--vault-role", "a",
			"--vault-mount", "jwt", "--vault-role", "b", "--vault-role", "c", "--vault-mount", "jwt2"}, "", func(o *doctorOptions) bool {
			return slices.EqualFunc(o.Mounts, []doctor.Mount{{Path: "oidc", Roles: []string{"a"}}, {Path: "jwt", Roles: []string{"b", "c"}}, {Path: "jwt2"}},
				func(a, b doctor.Mount) bool { return a.Path == b.Path && slices.Equal(a.Roles, b.Roles) }) && o.URL == "http://kc"
		}},
		{"rancher fields", []string{"--realm", "demo", "--client", "x", "--rancher-url", "https://r", "--rancher-fields", "uid=email,groups=member"}, "",
			func(o *doctorOptions) bool {
				return o.RancherFields["uid"] == "email" && o.RancherFields["groups"] == "member"
			}},
		{"a role before any mount", []string{"--realm", "demo", "--client", "vault", "--vault-role", "a"}, "--vault-role must follow the --vault-mount", nil},
		{"file and flags", []string{"-f", "sso.yaml", "--realm", "demo"}, "not both", nil},
		{"file and a site", []string{"-f", "sso.yaml", "--site-url", "http://s"}, "the file names the Django sites", nil},
		{"fix without a file", []string{"--realm", "demo", "--client", "vault", "--fix"}, "--fix edits the file", nil},
		{"fix of stdin", []string{"-f", "-", "--fix"}, "give its path, not -f - (stdin)", nil},
		{"no client", []string{"--realm", "demo"}, "needs --client", nil},
		{"site without a library", []string{"--realm", "demo", "--client", "vault", "--site-url", "http://s"}, "go together", nil},
		{"unknown library", []string{"--realm", "demo", "--client", "vault", "--site-url", "http://s", "--library", "flask"}, `unknown --library "flask"`, nil},
		{"metadata without rancher", []string{"--realm", "demo", "--client", "vault", "--rancher-metadata", "idp.xml"}, "need --rancher-url", nil},
		{"extra argument", []string{"x"}, "takes 0 argument(s)", nil},
		{"totp secret", []string{"-f", "sso.yaml", "--user", "alice", "--totp-secret-env", "ALICE_TOTP"}, "", func(o *doctorOptions) bool { return o.TOTPSecretEnv == "ALICE_TOTP" }},
		{"totp secret without a user", []string{"-f", "sso.yaml", "--totp-secret-env", "ALICE_TOTP"}, "give --user too", nil},
		{"totp secret given as a value", []string{"-f", "sso.yaml", "--user", "alice", "--totp-secret-env", "JBSW Y3DP"}, "not the secret itself", nil},
	}
	for _, tt := range tests {
		got, err := parse(t, newDoctorCmd, env, tt.argv...)
		if err != nil && strings.Contains(err.Error(), "JBSW") {
			t.Errorf("%s: the error quotes what may be the secret: %v", tt.name, err)
		}
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
	// An unknown Rancher field is bad input, named with the valid ones.
	if _, err := rancherFields(map[string]string{"username": "email"}); err == nil || exitCode(err) != ExitUsage || !strings.Contains(err.Error(), "display_name, user_name, uid or groups") {
		t.Errorf("unknown field: %v", err)
	}
}

// doctor --fix reads only a regular file, once: a FIFO (before: doctor hung
// in open), device, symlink or directory is refused at once, and -f - before
// stdin is read; nothing is asked of a server.
func TestDoctorFixRefusesOtherFiles(t *testing.T) {
	dir := t.TempDir()
	reg := filepath.Join(dir, "sso.yaml")
	os.WriteFile(reg, []byte("keycloak:\n  url: http://127.0.0.1:1\n  realm: demo\n"), 0o600)
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.yaml")
	os.Symlink(reg, link)
	for _, tt := range []struct {
		file, stdin, want string
	}{
		{fifo, "", "fifo.yaml: not a regular file (a FIFO)"},
		{"/dev/null", "", "not a regular file (a device)"},
		{link, "", "not a regular file (a symlink)"},
		{dir, "", "not a regular file (a directory)"},
		{"-", "keycloak:\n  realm: demo\n", "give its path, not -f - (stdin)"},
	} {
		code, stderr := runBounded(t, nil, tt.stdin, "doctor", "-f", tt.file, "--fix")
		if code != ExitUsage || !strings.Contains(stderr, tt.want) {
			t.Errorf("%s: exit %d, stderr %q, want %q", tt.file, code, stderr, tt.want)
		}
	}
}

// A FIFO that something writes is read, as for -f <(…): plan reads it and
// names its lines.
func TestPlanReadsAFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	go func() {
		if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			w.WriteString("keycloak:\n  bogus: 1\n")
			w.Close()
		}
	}()
	code, stderr := runBounded(t, nil, "", "plan", "-f", fifo)
	if code != ExitUsage || !strings.Contains(stderr, `fifo.yaml:2: keycloak.bogus: unknown key "bogus"`) {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// runBounded runs ssoctl in-process and fails the test, instead of hanging,
// when the command does not end.
func runBounded(t *testing.T, env map[string]string, stdin string, args ...string) (int, string) {
	t.Helper()
	type result struct {
		code   int
		stderr string
	}
	done := make(chan result, 1)
	go func() {
		code, _, stderr := runWith(t, env, stdin, args...)
		done <- result{code, stderr}
	}()
	select {
	case r := <-done:
		return r.code, r.stderr
	case <-time.After(30 * time.Second):
		t.Fatalf("%v did not end", args)
		return 0, ""
	}
}

// --fix merges into the bytes doctor read, never into a second reading of
// the file; a file changed meanwhile is left alone; the write keeps every
// other object's meaning and the plan reads what was written, not the file.
func TestDoctorFixMergesTheBytesItRead(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }))
	defer srv.Close()
	doc := "# the file\nkeycloak:\n  url: " + srv.URL + "\n  realm: demo\n  clients:\n    - client_id: vault\n      redirect_uris: &r [http://a/cb]\n    - client_id: app\n      redirect_uris: *r\n"
	rep := &doctor.Report{Checks: []doctor.Check{{ID: "redirect.oidc", Status: doctor.Fail,
		FixYAML: "keycloak:\n  clients:\n    - client_id: app\n      redirect_uris: [http://localhost:8250/oidc/callback]\n"}}}
	path := filepath.Join(t.TempDir(), "sso.yaml")
	newOpts := func() *doctorOptions {
		ios, _, _, _ := TestIO()
		f := NewFactory(ios)
		f.Getenv = func(k string) string {
			return map[string]string{"KEYCLOAK_ADMIN": "a", "KEYCLOAK_ADMIN_PASSWORD": "b"}[k]
		}
		opts := &doctorOptions{fileOptions: fileOptions{commonOptions: newCommonOptions(f), File: path}, Fix: true}
		opts.Context = context.Background()
		return opts
	}

	// The file on disk is swapped for other bytes of the same size and
	// time after doctor read it: the fix still merges what doctor read.
	os.WriteFile(path, []byte(doc), 0o600)
	data, info, err := spec.ReadForEdit(path)
	if err != nil {
		t.Fatal(err)
	}
	swapped := strings.Replace(doc, "# the file", "# SWAPPED!", 1)
	os.WriteFile(path, []byte(swapped), 0o600)
	os.Chtimes(path, info.ModTime(), info.ModTime())
	opts := newOpts()
	err = doctorFix(opts, rep, data, info)
	got, _ := os.ReadFile(path)
	if !strings.Contains(string(got), "# the file") || strings.Contains(string(got), "SWAPPED") || !strings.Contains(string(got), "localhost:8250") {
		t.Fatalf("the fix did not merge the bytes doctor read: %v\n%s", err, got)
	}
	// The plan ran on what was written (here it fails at the Keycloak
	// login, after the write).
	if err == nil || !strings.Contains(err.Error(), "Keycloak answered 500") {
		t.Errorf("plan: %v", err)
	}
	f, err := spec.Parse("sso.yaml", got, nil)
	if err != nil || !slices.Equal(f.Keycloak.Client("vault").RedirectURIs, []string{"http://a/cb"}) ||
		!slices.Equal(f.Keycloak.Client("app").RedirectURIs, []string{"http://a/cb", "http://localhost:8250/oidc/callback"}) {
		t.Errorf("the fix of app reached vault, or dropped app's URI: %v\n%s", err, got)
	}

	// Changed after doctor read it: not written.
	os.WriteFile(path, []byte(doc), 0o600)
	data, info, _ = spec.ReadForEdit(path)
	os.WriteFile(path, []byte(doc+"# edited meanwhile\n"), 0o600)
	opts = newOpts()
	err = doctorFix(opts, rep, data, info)
	got, _ = os.ReadFile(path)
	if err == nil || !strings.Contains(err.Error(), "changed while doctor ran") || string(got) != doc+"# edited meanwhile\n" {
		t.Errorf("a file changed meanwhile: %v\n%s", err, got)
	}
}

// A base32 secret passed as --totp-secret-env's variable name is a valid
// name: the error that it is unset does not quote it.
func TestDoctorTOTPSecretGivenAsName(t *testing.T) {
	value := "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	opts := &doctorOptions{User: "alice", TOTPSecretEnv: value}
	opts.Getenv, opts.Redactor = func(string) string { return "" }, &secret.Redactor{}
	_, _, err := userTOTP(opts, nil)
	if err == nil || exitCode(err) != ExitUsage || strings.Contains(err.Error(), value) || !strings.Contains(err.Error(), "not the secret itself") {
		t.Fatalf("err = %v", err)
	}
	opts.TOTPSecretEnv = "ALICE_TOTP"
	if _, _, err := userTOTP(opts, nil); err == nil || !strings.Contains(err.Error(), "$ALICE_TOTP is not set") {
		t.Fatalf("an unset variable: %v", err)
	}
}
