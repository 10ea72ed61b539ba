//go:build integration

package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ssoctl/ssoctl/inspect/doctor"
	"github.com/ssoctl/ssoctl/internal/httpclient"
	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/spec"
	"github.com/ssoctl/ssoctl/testbed"
)

// doctorFile is a healthy setup: client vault with an audience mapper,
// client roles in every token and a groups mapper; an OIDC mount and a JWT
// mount trusting it, each with a group alias; an allauth site's callback.
const doctorFile = `
keycloak:
  realm: REALM
  create_realm: true
  clients:
    - client_id: vault
      redirect_uris: [http://localhost:8250/oidc/callback, SITE/accounts/oidc/keycloak/login/callback/]
      userinfo_signed: false
      direct_access_grants: true
      roles: [secret_reader, secret_manager]
      mappers:
        - audience: vault
        - client_roles: {client: vault, claim: "resource_access.${client_id}.roles", id_token: true, access_token: true, userinfo: true}
        - groups: {claim: groups, full_path: false}
  groups:
    - {name: kv-managers, client_roles: {vault: [secret_manager]}}
  users:
    - {username: alice, password_env: ALICE_PASSWORD, groups: [kv-managers]}
vault:
  policies:
    reader: {template: vault/reader.hcl}
    manager: {template: vault/manager.hcl}
  auth:
    - path: OIDCMOUNT
      type: oidc
      client_id: vault
      default_role: default
      roles:
        default:
          groups_claim: /resource_access/vault/roles
          bound_audiences: [vault]
          allowed_redirect_uris: [http://localhost:8250/oidc/callback]
          policies: [reader]
      groups:
        - {name: GROUP-oidc, policies: [manager], alias: secret_manager}
    - path: JWTMOUNT
      type: jwt
      default_role: default
      roles:
        default:
          groups_claim: /resource_access/vault/roles
          bound_audiences: [vault]
          policies: [reader]
        bygroup:
          groups_claim: groups
          bound_audiences: [vault]
          policies: [reader]
      groups:
        - {name: GROUP-jwt, policies: [manager], alias: secret_manager}
        - {name: GROUP-teams, policies: [manager], alias: kv-managers}
`

type doctorRig struct {
	t                      *testing.T
	tb                     testbed.Env
	env                    map[string]string
	path, site             string
	realm, oidcMnt, jwtMnt string
	group                  string
}

func newDoctorRig(t *testing.T) *doctorRig {
	t.Helper()
	tb := testbed.Load(t)
	id := fmt.Sprintf("%d", time.Now().UnixNano()%1e9)
	r := &doctorRig{t: t, tb: tb, env: testEnv(tb), realm: "doc-" + id, oidcMnt: "doc-oidc-" + id, jwtMnt: "doc-jwt-" + id,
		group: "doc-" + id, site: "http://127.0.0.1:1"}
	text := strings.NewReplacer("REALM", r.realm, "OIDCMOUNT", r.oidcMnt, "JWTMOUNT", r.jwtMnt, "GROUP", r.group, "SITE", r.site).Replace(doctorFile)
	r.path = filepath.Join(t.TempDir(), "sso.yaml")
	os.WriteFile(r.path, []byte(text), 0o600)
	t.Cleanup(func() {
		ctx := context.Background()
		tb.DeleteRealm(ctx, r.realm)
		v := tb.Vault()
		for _, m := range []string{r.oidcMnt, r.jwtMnt} {
			v.Sys().DisableAuthWithContext(ctx, m)
		}
		for _, g := range []string{"oidc", "jwt", "teams"} {
			v.Logical().DeleteWithContext(ctx, "identity/group/name/"+r.group+"-"+g)
		}
	})
	if code, stdout, stderr := runEnv(t, r.env, "", "apply", "-f", r.path); code != 0 {
		t.Fatalf("apply: exit %d\n%s\n%s", code, stdout, stderr)
	}
	return r
}

// doctor runs doctor on the setup as made by hand (no file) and returns the
// exit code and the report.
func (r *doctorRig) doctor(user string, extra ...string) (int, doctor.Report) {
	r.t.Helper()
	args := []string{"doctor", "--realm", r.realm, "--client", "vault", "--vault-mount", r.oidcMnt, "--vault-mount", r.jwtMnt,
		"--site-url", r.site, "--library", "allauth", "-o", "json"}
	env := r.env
	if user != "" {
		args = append(args, "--user", user)
		env = maps2(r.env, "SSOCTL_PASSWORD", r.env["ALICE_PASSWORD"])
	}
	code, stdout, stderr := runEnv(r.t, env, "", append(args, extra...)...)
	var rep doctor.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		r.t.Fatalf("doctor: exit %d, %v\n%s\n%s", code, err, stdout, stderr)
	}
	return code, rep
}

func maps2(m map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func failedIDs(rep doctor.Report) []string {
	var out []string
	for _, c := range rep.Checks {
		if c.Status == doctor.Fail && !slices.Contains(out, c.ID) {
			out = append(out, c.ID)
		}
	}
	return out
}

func (r *doctorRig) kc(method, path string, body, out any) {
	r.t.Helper()
	if err := r.tb.KeycloakAdminRequest(context.Background(), method, "/"+r.realm+path, body, out); err != nil {
		r.t.Fatalf("%s %s: %v", method, path, err)
	}
}

func (r *doctorRig) clientID() string {
	var found []map[string]any
	r.kc(http.MethodGet, "/clients?clientId=vault", nil, &found)
	return found[0]["id"].(string)
}

func (r *doctorRig) client() map[string]any {
	var c map[string]any
	r.kc(http.MethodGet, "/clients/"+r.clientID(), nil, &c)
	return c
}

func (r *doctorRig) mapper(name string) map[string]any {
	for _, m := range r.client()["protocolMappers"].([]any) {
		if mm := m.(map[string]any); mm["name"] == name {
			return mm
		}
	}
	r.t.Fatalf("no mapper %q", name)
	return nil
}

func (r *doctorRig) vaultWrite(path string, data map[string]any) {
	r.t.Helper()
	if _, err := r.tb.Vault().Logical().Write(path, data); err != nil {
		r.t.Fatalf("write %s: %v", path, err)
	}
}

func (r *doctorRig) vaultRead(path string) map[string]any {
	r.t.Helper()
	s, err := r.tb.Vault().Logical().Read(path)
	if err != nil || s == nil {
		r.t.Fatalf("read %s: %v", path, err)
	}
	return s.Data
}

// Each setup is broken by hand, through the admin APIs: doctor exits 3
// naming that cause and no other failure; mended by hand, doctor exits 0.
func TestIntegrationDoctorFindsEachBrokenLink(t *testing.T) {
	r := newDoctorRig(t)
	if code, rep := r.doctor(""); code != 0 {
		t.Fatalf("the healthy setup: exit %d, failures %v\n%+v", code, failedIDs(rep), rep.Checks)
	}
	if code, rep := r.doctor("alice"); code != 0 || len(rep.Logins) != 6 { // the password grant, the OIDC flow, two JWT roles with each token
		t.Fatalf("the healthy setup with --user: exit %d, failures %v, logins %+v", code, failedIDs(rep), rep.Logins)
	}
	oidcCfg := r.vaultRead("auth/" + r.oidcMnt + "/config")
	jwtCfg := r.vaultRead("auth/" + r.jwtMnt + "/config")
	a := keycloak.NewAdmin(r.tb.KeycloakURL, http.DefaultClient, keycloak.Credentials{Username: r.tb.KeycloakAdmin, Password: r.tb.KeycloakAdminPassword})
	secret, err := a.ClientSecret(context.Background(), r.realm, "vault")
	if err != nil {
		t.Fatal(err)
	}
	issuer := r.tb.KeycloakURL + "/realms/" + r.realm
	var alias map[string]any
	for _, c := range []struct {
		name        string
		user        string
		want        string
		quote       string // the server's message, quoted in a login's evidence
		break_, fix func()
	}{
		{name: "no audience mapper", want: "audience.jwt", user: "alice", quote: "error validating token: invalid audience (aud) claim: audience claim does not match any expected audience",
			break_: func() {
				m := r.mapper("audience vault")
				r.kc(http.MethodDelete, "/clients/"+r.clientID()+"/protocol-mappers/models/"+m["id"].(string), nil, nil)
			},
			fix: func() {
				r.kc(http.MethodPost, "/clients/"+r.clientID()+"/protocol-mappers/models", map[string]any{"name": "audience vault", "protocol": "openid-connect",
					"protocolMapper": "oidc-audience-mapper", "config": map[string]string{"included.client.audience": "vault", "id.token.claim": "true", "access.token.claim": "true"}}, nil)
			}},
		{name: "roles only in the access token", want: "claims.groups",
			break_: func() {
				m := r.mapper("client roles vault")
				r.kc(http.MethodDelete, "/clients/"+r.clientID()+"/protocol-mappers/models/"+m["id"].(string), nil, nil)
			},
			fix: func() {
				r.kc(http.MethodPost, "/clients/"+r.clientID()+"/protocol-mappers/models", map[string]any{"name": "client roles vault", "protocol": "openid-connect",
					"protocolMapper": "oidc-usermodel-client-role-mapper", "config": map[string]string{"usermodel.clientRoleMapping.clientId": "vault",
						"claim.name": "resource_access.${client_id}.roles", "jsonType.label": "String", "multivalued": "true",
						"id.token.claim": "true", "access.token.claim": "true", "userinfo.token.claim": "true"}}, nil)
			}},
		{name: "a dotted groups claim on nested roles", user: "alice", want: "claims.groups-pointer", quote: `"resource_access.vault.roles" claim not found in token`,
			break_: func() {
				r.vaultWrite("auth/"+r.jwtMnt+"/role/default", map[string]any{"role_type": "jwt", "groups_claim": "resource_access.vault.roles"})
			},
			fix: func() {
				r.vaultWrite("auth/"+r.jwtMnt+"/role/default", map[string]any{"role_type": "jwt", "groups_claim": "/resource_access/vault/roles"})
			}},
		{name: "a redirect URI missing in Keycloak", want: "redirect.vault",
			break_: func() {
				c := r.client()
				c["redirectUris"] = []string{r.site + "/accounts/oidc/keycloak/login/callback/"}
				r.kc(http.MethodPut, "/clients/"+r.clientID(), c, nil)
			},
			fix: func() {
				c := r.client()
				c["redirectUris"] = []string{"http://localhost:8250/oidc/callback", r.site + "/accounts/oidc/keycloak/login/callback/"}
				r.kc(http.MethodPut, "/clients/"+r.clientID(), c, nil)
			}},
		{name: "a /managers alias against short group names", want: "aliases.match",
			break_: func() {
				g := r.vaultRead("identity/group/name/" + r.group + "-teams")
				alias = g["alias"].(map[string]any)
				r.vaultWrite("identity/group-alias/id/"+alias["id"].(string), map[string]any{"name": "/kv-managers", "mount_accessor": alias["mount_accessor"], "canonical_id": g["id"]})
			},
			fix: func() {
				g := r.vaultRead("identity/group/name/" + r.group + "-teams")
				r.vaultWrite("identity/group-alias/id/"+alias["id"].(string), map[string]any{"name": "kv-managers", "mount_accessor": alias["mount_accessor"], "canonical_id": g["id"]})
			}},
		{name: "a trailing-slash issuer", want: "discovery.issuer",
			break_: func() {
				r.vaultWrite("auth/"+r.jwtMnt+"/config", map[string]any{"oidc_discovery_url": jwtCfg["oidc_discovery_url"], "bound_issuer": issuer + "/"})
			},
			fix: func() {
				r.vaultWrite("auth/"+r.jwtMnt+"/config", map[string]any{"oidc_discovery_url": jwtCfg["oidc_discovery_url"], "bound_issuer": issuer})
			}},
		{name: "a wrong client secret in Vault", user: "alice", want: "login.vault-oidc", quote: "unauthorized_client",
			break_: func() {
				r.vaultWrite("auth/"+r.oidcMnt+"/config", map[string]any{"oidc_discovery_url": oidcCfg["oidc_discovery_url"], "oidc_client_id": "vault",
					"oidc_client_secret": "wrong-secret", "default_role": "default", "bound_issuer": issuer})
			},
			fix: func() {
				r.vaultWrite("auth/"+r.oidcMnt+"/config", map[string]any{"oidc_discovery_url": oidcCfg["oidc_discovery_url"], "oidc_client_id": "vault",
					"oidc_client_secret": secret, "default_role": "default", "bound_issuer": issuer})
			}},
		{name: "signed userinfo against an allauth site", want: "client.userinfo-signing",
			break_: func() {
				c := r.client()
				c["attributes"].(map[string]any)[keycloak.AttrUserinfoSignatureAlg] = "RS256"
				r.kc(http.MethodPut, "/clients/"+r.clientID(), c, nil)
			},
			fix: func() {
				c := r.client()
				c["attributes"].(map[string]any)[keycloak.AttrUserinfoSignatureAlg] = ""
				r.kc(http.MethodPut, "/clients/"+r.clientID(), c, nil)
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.break_()
			if c.user == "" || c.want != "login.vault-oidc" {
				// Config alone shows it (the wrong secret only shows in a login).
				code, rep := r.doctor("")
				if code != ExitFindings || !slices.Equal(failedIDs(rep), []string{c.want}) {
					t.Errorf("broken: exit %d, failures %v, want [%s]", code, failedIDs(rep), c.want)
				}
			} else if code, _ := r.doctor(""); code != 0 {
				t.Errorf("a wrong client secret cannot show without --user, yet doctor exited %d", code)
			}
			if c.user != "" {
				code, rep := r.doctor(c.user)
				var evidence []string
				for _, ch := range rep.Checks {
					if ch.Status == doctor.Fail {
						evidence = append(evidence, ch.Evidence)
					}
				}
				if code != ExitFindings || !slices.Contains(failedIDs(rep), c.want) || !strings.Contains(strings.Join(evidence, "\n"), c.quote) {
					t.Errorf("with --user: exit %d, failures %v, evidence %q; want %s quoting %q", code, failedIDs(rep), evidence, c.want, c.quote)
				}
			}
			c.fix()
			if code, rep := r.doctor(c.user); code != 0 {
				t.Errorf("mended: exit %d, failures %v", code, failedIDs(rep))
			}
		})
	}
}

// The client roles mapper writes into the access token and userinfo but
// not the ID token, and both mounts' roles read the claim. Live doctor
// (no login) fails the JWT role for the ID token, as a user's script sends
// it, and passes the OIDC role, whose claims Vault merges with userinfo;
// --user shows Vault's own refusal of the ID token and the other logins
// passing; the fix doctor prints, merged into the file and applied, mends
// it.
func TestIntegrationDoctorChecksEveryToken(t *testing.T) {
	r := newDoctorRig(t)
	data, _ := os.ReadFile(r.path)
	const on = `claim: "resource_access.${client_id}.roles", id_token: true, access_token: true, userinfo: true}`
	text := strings.Replace(string(data), on, `claim: "resource_access.${client_id}.roles", id_token: false, access_token: true, userinfo: true}  # no ID token`, 1)
	if text == string(data) {
		t.Fatal("the test's edit of the file failed")
	}
	os.WriteFile(r.path, []byte(text), 0o600)
	if code, stdout, stderr := runEnv(t, r.env, "", "apply", "-f", r.path); code != 0 {
		t.Fatalf("apply: exit %d\n%s\n%s", code, stdout, stderr)
	}
	jwtRole, oidcRole := "role "+r.jwtMnt+"/default", "role "+r.oidcMnt+"/default"
	const claim = "/resource_access/vault/roles"
	refusal := fmt.Sprintf("failed to fetch groups: %q claim not found in token", claim)
	check := func(rep doctor.Report, status doctor.Status, role string) *doctor.Check {
		for i, c := range rep.Checks {
			if c.ID == "claims.groups" && c.Status == status && strings.HasPrefix(c.Message, role+" ") {
				return &rep.Checks[i]
			}
		}
		return nil
	}

	code, rep := r.doctor("")
	c := check(rep, doctor.Fail, jwtRole)
	if code != ExitFindings || !slices.Equal(failedIDs(rep), []string{"claims.groups"}) || c == nil ||
		!strings.Contains(c.Message, "not into the ID token") || !strings.Contains(c.Message, claim) || !strings.Contains(c.Message, strconv.Quote(refusal)) {
		t.Fatalf("live doctor: exit %d, failures %v, the JWT role's check %+v\n%+v", code, failedIDs(rep), c, rep.Checks)
	}
	if check(rep, doctor.OK, oidcRole) == nil {
		t.Errorf("the OIDC role finds the claim in userinfo, which Vault merges: %+v", rep.Checks)
	}
	fixYAML := c.FixYAML

	// The real logins agree: Vault refuses the ID token with those words,
	// takes the access token, and the OIDC flow passes.
	code, rep = r.doctor("alice")
	logins := map[string]doctor.Login{}
	for _, l := range rep.Logins {
		logins[l.Path] = l
	}
	idLogin, accessLogin, oidcLogin := logins["vault-jwt "+r.jwtMnt+"/default"], logins["vault-jwt "+r.jwtMnt+"/default (access token)"], logins["vault-oidc "+r.oidcMnt+"/default"]
	if code != ExitFindings || idLogin.OK || !strings.Contains(idLogin.Message, refusal) || !accessLogin.OK || !oidcLogin.OK {
		t.Fatalf("doctor --user: exit %d, the ID token's login %+v, the access token's %+v, the OIDC login %+v", code, idLogin, accessLogin, oidcLogin)
	}
	t.Logf("Vault, to the ID token: %s", idLogin.Message)

	// The printed fix parses and says what --fix writes; merged and applied,
	// doctor passes, live and with the logins.
	if _, err := spec.ParseFragment("fix", []byte(fixYAML)); err != nil || !strings.Contains(fixYAML, "id_token: true") {
		t.Fatalf("fix_yaml %v:\n%s", err, fixYAML)
	}
	code, stdout, stderr := runEnv(t, r.env, "", "doctor", "-f", r.path, "--fix")
	if code != 0 || !strings.Contains(stderr, "Wrote 1 fix(es)") || !strings.Contains(stdout, "~ keycloak mapper "+r.realm+"/vault/client roles vault") {
		t.Fatalf("doctor --fix: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if fixed, _ := os.ReadFile(r.path); !strings.Contains(string(fixed), "# no ID token") || strings.Contains(string(fixed), "id_token: false") {
		t.Errorf("the fixed file:\n%s", fixed)
	}
	if code, stdout, stderr := runEnv(t, r.env, "", "apply", "-f", r.path); code != 0 {
		t.Fatalf("apply the fix: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if code, rep := r.doctor(""); code != 0 {
		t.Errorf("fixed, live doctor: exit %d, failures %v", code, failedIDs(rep))
	}
	if code, rep := r.doctor("alice"); code != 0 {
		t.Errorf("fixed, doctor --user: exit %d, failures %v, logins %+v", code, failedIDs(rep), rep.Logins)
	}
}

// doctor reads and never writes: 0 writes to Keycloak and 0 to Vault, with
// --user too (logins are not writes).
func TestIntegrationDoctorOnlyReads(t *testing.T) {
	r := newDoctorRig(t)
	var rc requestCounter
	ios, _, out, errOut := TestIO()
	f := NewFactory(ios)
	env := maps2(r.env, "SSOCTL_PASSWORD", r.env["ALICE_PASSWORD"])
	f.Getenv = func(k string) string { return env[k] }
	f.HTTPClient = func(o httpclient.Options) (*http.Client, error) {
		hc, err := httpclient.New(o)
		if err != nil {
			return nil, err
		}
		hc.Transport = &countedTransport{base: hc.Transport, c: &rc}
		return hc, nil
	}
	code := Run(f, []string{"doctor", "--realm", r.realm, "--client", "vault", "--vault-mount", r.oidcMnt, "--vault-mount", r.jwtMnt, "--user", "alice"})
	if code != 0 {
		t.Fatalf("doctor: exit %d\n%s\n%s", code, out, errOut)
	}
	if rc.writes.Load() != 0 {
		t.Errorf("doctor wrote %d times", rc.writes.Load())
	}
	t.Logf("doctor --user: %d reads, %d logins, %d logouts", rc.reads.Load(), rc.logins.Load(), rc.logouts.Load())
	// The password grant's logout, the delete of the OIDC login's session
	// and the admin's logout: each session the run opened, ended.
	if rc.logouts.Load() != 3 {
		t.Errorf("doctor --user ended %d sessions, want 3", rc.logouts.Load())
	}
	// Nothing secret is printed: not the password, not the client secret.
	a := keycloak.NewAdmin(r.tb.KeycloakURL, http.DefaultClient, keycloak.Credentials{Username: r.tb.KeycloakAdmin, Password: r.tb.KeycloakAdminPassword})
	secret, err := a.ClientSecret(context.Background(), r.realm, "vault")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{r.env["ALICE_PASSWORD"], secret, r.tb.VaultToken} {
		if strings.Contains(out.String()+errOut.String(), s) {
			t.Errorf("doctor printed a secret (%d bytes)", len(s))
		}
	}
}

// --fix writes the fixes into the file, keeping its comments, and prints
// the plan; applying it mends the setup.
func TestIntegrationDoctorFixWritesTheFile(t *testing.T) {
	r := newDoctorRig(t)
	data, _ := os.ReadFile(r.path)
	// The file itself is wrong: a dotted groups claim, applied as the file says.
	text := strings.Replace(string(data), "        default:\n          groups_claim: /resource_access/vault/roles\n          bound_audiences: [vault]\n          policies: [reader]\n        bygroup:",
		"        default:\n          groups_claim: resource_access.vault.roles  # nested roles\n          bound_audiences: [vault]\n          policies: [reader]\n        bygroup:", 1)
	// And no audience mapper: access tokens carry only aud "account".
	text2 := strings.Replace(text, "        - audience: vault\n", "", 1)
	if text == string(data) || text2 == text {
		t.Fatal("the test's edit of the file failed")
	}
	text = text2
	os.WriteFile(r.path, []byte(text), 0o600)
	if code, stdout, stderr := runEnv(t, r.env, "", "apply", "-f", r.path, "--prune"); code != 0 {
		t.Fatalf("apply: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr := runEnv(t, r.env, "", "doctor", "-f", r.path)
	if code != ExitFindings || !strings.Contains(stdout, "claims.groups-pointer") || !strings.Contains(stdout, "groups_claim: /resource_access/vault/roles") ||
		!strings.Contains(stdout, "audience.jwt") {
		t.Fatalf("doctor -f: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = runEnv(t, r.env, "", "doctor", "-f", r.path, "--fix")
	if code != 0 || !strings.Contains(stderr, "Wrote 2 fix(es)") || !strings.Contains(stdout, "~ vault role "+r.jwtMnt+"/default") ||
		!strings.Contains(stdout, "+ keycloak mapper "+r.realm+"/vault/audience vault") {
		t.Fatalf("doctor --fix: exit %d\n%s\n%s", code, stdout, stderr)
	}
	fixed, _ := os.ReadFile(r.path)
	if !strings.Contains(string(fixed), "groups_claim: /resource_access/vault/roles") || !strings.Contains(string(fixed), "# nested roles") ||
		!strings.Contains(string(fixed), `claim: "resource_access.${client_id}.roles"`) || !strings.Contains(string(fixed), "- audience: vault") {
		t.Errorf("the fixed file:\n%s", fixed)
	}
	if code, stdout, stderr := runEnv(t, r.env, "", "apply", "-f", r.path); code != 0 {
		t.Fatalf("apply the fix: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if code, stdout, _ := runEnv(t, r.env, "", "doctor", "-f", r.path); code != 0 {
		t.Errorf("after the fix: exit %d\n%s", code, stdout)
	}
	// Broken by hand while the file is right: --fix leaves the file alone
	// and says that apply mends it.
	m := r.mapper("audience vault")
	r.kc(http.MethodDelete, "/clients/"+r.clientID()+"/protocol-mappers/models/"+m["id"].(string), nil, nil)
	code, _, stderr = runEnv(t, r.env, "", "doctor", "-f", r.path, "--fix")
	if again, _ := os.ReadFile(r.path); code != ExitFindings || string(again) != string(fixed) || !strings.Contains(stderr, "already holds every fix doctor found") {
		t.Errorf("--fix on a right file: exit %d, file changed: %v\n%s", code, string(again) != string(fixed), stderr)
	}
}

// Rancher's SAML login, broken by hand: doctor names the ACS URL, the
// entity ID against --rancher-url, a field no mapper sends, and metadata
// Rancher cannot decode; mended, it passes.
func TestIntegrationDoctorRancher(t *testing.T) {
	tb := testbed.Load(t)
	env := testEnv(tb)
	path, realm := demoFile(t, tb, "rancher.yaml")
	if code, stdout, stderr := runEnv(t, env, "", "apply", "-f", path); code != 0 {
		t.Fatalf("apply: exit %d\n%s\n%s", code, stdout, stderr)
	}
	const samlID = "https://rancher.example.com/v1-saml/keycloak/saml/metadata"
	r := &doctorRig{t: t, tb: tb, realm: realm}
	var found []map[string]any
	r.kc(http.MethodGet, "/clients?clientId="+url.QueryEscape(samlID), nil, &found)
	if len(found) != 1 {
		t.Fatalf("the SAML client: %v", found)
	}
	uuid := found[0]["id"].(string)
	var client map[string]any
	r.kc(http.MethodGet, "/clients/"+uuid, nil, &client)
	put := func(edit func(c map[string]any)) {
		c := maps.Clone(client)
		edit(c)
		r.kc(http.MethodPut, "/clients/"+uuid, c, nil)
	}
	run := func(args ...string) (int, doctor.Report) {
		t.Helper()
		code, stdout, stderr := runEnv(t, env, "", append(args, "-o", "json")...)
		var rep doctor.Report
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatalf("doctor: exit %d, %v\n%s\n%s", code, err, stdout, stderr)
		}
		return code, rep
	}
	byFlags := []string{"doctor", "--realm", realm, "--client", samlID, "--rancher-url", "https://rancher.example.com",
		"--rancher-fields", "display_name=givenName,user_name=email,uid=email,groups=member"}
	ids := func(rep doctor.Report, status doctor.Status) []string {
		var out []string
		for _, c := range rep.Checks {
			if c.Status == status {
				out = append(out, c.ID)
			}
		}
		return out
	}

	if code, rep := run("doctor", "-f", path); code != 0 || !slices.Contains(ids(rep, doctor.OK), "rancher.config") {
		t.Fatalf("healthy, from the file: exit %d, %+v", code, rep.Checks)
	}
	if code, rep := run(byFlags...); code != 0 || len(ids(rep, doctor.Warn)) != 0 {
		t.Fatalf("healthy, from flags: exit %d, %+v", code, rep.Checks)
	}

	// The ACS URL taken off the client.
	put(func(c map[string]any) { c["redirectUris"] = []string{"https://rancher.example.com/other"} })
	if code, rep := run(byFlags...); code != ExitFindings || !slices.Equal(failedIDs(rep), []string{"rancher.redirect-uri"}) {
		t.Errorf("no ACS URL: exit %d, failures %v", code, failedIDs(rep))
	}
	put(func(c map[string]any) {})

	// Rancher at another URL than the client's ID says.
	moved := slices.Clone(byFlags)
	moved[slices.Index(moved, "https://rancher.example.com")] = "https://rancher.moved.example.com"
	if code, rep := run(moved...); code != ExitFindings || !slices.Contains(failedIDs(rep), "rancher.client-id") {
		t.Errorf("Rancher moved: exit %d, failures %v", code, failedIDs(rep))
	}

	// The email mapper's friendly name changed in the console: Rancher's
	// user_name field finds nothing.
	var mappers []map[string]any
	r.kc(http.MethodGet, "/clients/"+uuid+"/protocol-mappers/models", nil, &mappers)
	for _, m := range mappers {
		if cfg := m["config"].(map[string]any); cfg["attribute.name"] == "email" {
			cfg["friendly.name"], cfg["attribute.name"] = "mail", "mail"
			r.kc(http.MethodPut, "/clients/"+uuid+"/protocol-mappers/models/"+m["id"].(string), m, nil)
		}
	}
	if _, rep := run(byFlags...); !slices.Contains(ids(rep, doctor.Warn), "rancher.field-mapper") {
		t.Errorf("renamed attribute: warnings %v", ids(rep, doctor.Warn))
	}
	// Without fields, doctor lists what the client sends.
	if _, rep := run("doctor", "--realm", realm, "--client", samlID, "--rancher-url", "https://rancher.example.com"); !slices.ContainsFunc(rep.Checks, func(c doctor.Check) bool {
		return c.ID == "rancher.fields" && strings.Contains(c.Message, "mail, ") && strings.Contains(c.Message, "givenName")
	}) {
		t.Errorf("no fields: %+v", rep.Checks)
	}

	// The metadata Rancher holds: the realm's descriptor wrapped in an
	// EntitiesDescriptor, as some exports give it.
	raw, err := keycloak.Descriptor(context.Background(), http.DefaultClient, tb.KeycloakURL, realm)
	if err != nil {
		t.Fatal(err)
	}
	body := regexp.MustCompile(`^(<\?xml[^>]*\?>)?`).ReplaceAllString(string(raw), "")
	wrapped := filepath.Join(t.TempDir(), "idp.xml")
	os.WriteFile(wrapped, []byte(`<EntitiesDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata">`+body+`</EntitiesDescriptor>`), 0o600)
	if code, rep := run(append(byFlags, "--rancher-metadata", wrapped)...); code != ExitFindings || !slices.Contains(failedIDs(rep), "rancher.decode") {
		t.Errorf("EntitiesDescriptor: exit %d, failures %v, %+v", code, failedIDs(rep), rep.Checks)
	}
}
