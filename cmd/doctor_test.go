package cmd

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ssoctl/ssoctl/inspect/doctor"
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
		{"no client", []string{"--realm", "demo"}, "needs --client", nil},
		{"site without a library", []string{"--realm", "demo", "--client", "vault", "--site-url", "http://s"}, "go together", nil},
		{"unknown library", []string{"--realm", "demo", "--client", "vault", "--site-url", "http://s", "--library", "flask"}, `unknown --library "flask"`, nil},
		{"metadata without rancher", []string{"--realm", "demo", "--client", "vault", "--rancher-metadata", "idp.xml"}, "need --rancher-url", nil},
		{"extra argument", []string{"x"}, "takes 0 argument(s)", nil},
	}
	for _, tt := range tests {
		got, err := parse(t, newDoctorCmd, env, tt.argv...)
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

// The file's targets: a Rancher-only file checks the SAML client; a mount
// that trusts another realm is not this file's to check.
func TestDoctorFileTargets(t *testing.T) {
	getenv := func(k string) string {
		return map[string]string{"KEYCLOAK_URL": "http://kc", "VAULT_ADDR": "http://v"}[k]
	}
	data, err := os.ReadFile(filepath.Join("..", "examples", "rancher.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := spec.Parse("rancher.yaml", data, getenv)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := fileTargets(f)
	if err != nil || len(ts) != 1 || ts[0].Client != "https://rancher.example.com/v1-saml/keycloak/saml/metadata" || ts[0].Rancher == nil {
		t.Fatalf("rancher.yaml: %+v %v", ts, err)
	}
	data, err = os.ReadFile(filepath.Join("..", "examples", "sso.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	other := strings.Replace(string(data), "      description: Keycloak realm demo (JWT)\n", "      description: another realm\n      discovery_url: http://kc/realms/other\n", 1)
	if f, err = spec.Parse("sso.yaml", []byte(other), getenv); err != nil {
		t.Fatal(err)
	}
	ts, err = fileTargets(f)
	if err != nil || len(ts) != 1 || ts[0].Client != "vault" || len(ts[0].Mounts) != 1 || ts[0].Mounts[0].Path != "oidc" || !slices.Equal(ts[0].Mounts[0].Roles, []string{"default"}) {
		t.Errorf("sso.yaml with jwt/ trusting another realm: %+v %v", ts, err)
	}
}
