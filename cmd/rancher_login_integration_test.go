//go:build integration

package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ssoctl/ssoctl/inspect/doctor"
	"github.com/ssoctl/ssoctl/rancher"
	"github.com/ssoctl/ssoctl/rancher/login"
	"github.com/ssoctl/ssoctl/testbed"
)

// samlRig applies variants of examples/rancher.yaml to one realm and logs
// carol in as Rancher's SP.
type samlRig struct {
	t          *testing.T
	env        map[string]string
	path, orig string
	realm      string
	certBody   string
}

func newSAMLRig(t *testing.T) *samlRig {
	tb := testbed.Load(t)
	path, realm := demoFile(t, tb, "rancher.yaml")
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pemCert, err := os.ReadFile(filepath.Join("..", "rancher", "testdata", "sp.crt"))
	if err != nil {
		t.Fatal(err)
	}
	var body strings.Builder
	for _, l := range strings.Split(string(pemCert), "\n") {
		if !strings.HasPrefix(l, "-----") {
			body.WriteString(strings.TrimSpace(l))
		}
	}
	return &samlRig{t: t, env: testEnv(tb), path: path, orig: string(orig), realm: realm, certBody: body.String()}
}

// apply writes the file with each old→new replacement made (each must
// match) and applies it with --prune.
func (r *samlRig) apply(edits ...string) {
	r.t.Helper()
	s := r.orig
	for i := 0; i < len(edits); i += 2 {
		if !strings.Contains(s, edits[i]) {
			r.t.Fatalf("edit %q matches nothing", edits[i])
		}
		s = strings.Replace(s, edits[i], edits[i+1], 1)
	}
	if err := os.WriteFile(r.path, []byte(s), 0o600); err != nil {
		r.t.Fatal(err)
	}
	if code, stdout, stderr := runEnv(r.t, r.env, "", "apply", "-f", r.path, "--prune"); code != 0 {
		r.t.Fatalf("apply: exit %d\n%s\n%s\n%s", code, s, stdout, stderr)
	}
}

func (r *samlRig) login(extra ...string) (int, rancherLoginDoc) {
	r.t.Helper()
	args := append([]string{"rancher", "login", "-f", r.path, "--user", "carol", "-o", "json"}, extra...)
	code, stdout, stderr := runEnv(r.t, r.env, "", args...)
	var doc rancherLoginDoc
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		r.t.Fatalf("rancher login: exit %d, not JSON: %v\n%s\n%s", code, err, stdout, stderr)
	}
	return code, doc
}

func (r *samlRig) pair() []string {
	return []string{"--sp-cert", filepath.Join("..", "rancher", "testdata", "sp.crt"), "--sp-key", filepath.Join("..", "rancher", "testdata", "sp-pkcs8.key")}
}

// failed asserts exit 3 with a finding of id whose message and fix hold
// the texts; it returns the finding.
func (r *samlRig) failed(code int, doc rancherLoginDoc, id, message, fix string) rancher.Finding {
	r.t.Helper()
	if code != ExitFindings || doc.OK {
		r.t.Fatalf("exit %d ok=%v, want 3: %+v", code, doc.OK, doc.Findings)
	}
	for _, f := range doc.Findings {
		if f.ID == id && f.Severity == rancher.SeverityError && strings.Contains(f.Message, message) && strings.Contains(f.Fix, fix) {
			return f
		}
	}
	r.t.Fatalf("no %s finding with %q / fix %q: %+v", id, message, fix, doc.Findings)
	return rancher.Finding{}
}

// passed asserts the principal of the example's carol.
func (r *samlRig) passed(code int, doc rancherLoginDoc) {
	r.t.Helper()
	want := []string{"keycloak_group://rancher-admins", "keycloak_group://rancher-operators"}
	if code != 0 || !doc.OK || doc.Principal != "keycloak_user://carol@example.com" || doc.UID != "carol@example.com" ||
		doc.DisplayName != "Carol" || doc.Username != "carol@example.com" || strings.Join(doc.Groups, ",") != strings.Join(want, ",") {
		r.t.Fatalf("exit %d: %+v", code, doc)
	}
}

func TestIntegrationRancherLogin(t *testing.T) {
	r := newSAMLRig(t)
	r.apply()

	t.Run("carol in two groups", func(t *testing.T) {
		r.t = t
		code, doc := r.login()
		r.passed(code, doc)
		if !doc.Response.ResponseSigned || !doc.Response.AssertionSigned || doc.Response.Encrypted ||
			doc.Response.Destination != "https://rancher.example.com/v1-saml/keycloak/saml/acs" {
			t.Errorf("response: %+v", doc.Response)
		}
		if got := doc.Attributes["member"]; strings.Join(got, ",") != "rancher-admins,rancher-operators" {
			t.Errorf("member = %v (attributes %v)", got, doc.Attributes)
		}
		if len(doc.Findings) != 1 || doc.Findings[0].ID != login.FindingThrowawayPair {
			t.Errorf("findings: %+v", doc.Findings)
		}
		// With Rancher's own pair: no warning at all.
		code, doc = r.login(r.pair()...)
		r.passed(code, doc)
		if len(doc.Findings) != 0 {
			t.Errorf("findings with the pair: %+v", doc.Findings)
		}
		// The text form names the principal and the groups.
		code, stdout, _ := runEnv(t, r.env, "", "rancher", "login", "-f", r.path, "--user", "carol")
		if code != 0 || !strings.Contains(stdout, "carol logs in to Rancher as keycloak_user://carol@example.com") ||
			!strings.Contains(stdout, "keycloak_group://rancher-admins, keycloak_group://rancher-operators") {
			t.Errorf("text: exit %d\n%s", code, stdout)
		}
	})

	t.Run("re-apply after SAML logins writes nothing", func(t *testing.T) {
		r.t = t
		if code, stdout, stderr := runEnv(t, r.env, "", "plan", "-f", r.path, "--detailed-exitcode"); code != 0 {
			t.Fatalf("plan after SAML logins: exit %d (Keycloak rewrote a SAML mapper on first use?)\n%s\n%s", code, stdout, stderr)
		}
	})

	t.Run("doctor --user runs the same login", func(t *testing.T) {
		r.t = t
		env := maps2(r.env, "SSOCTL_PASSWORD", "carol-Pw-3")
		code, stdout, stderr := runEnv(t, env, "", "doctor", "-f", r.path, "--user", "carol", "-o", "json")
		var rep doctor.Report
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != 0 {
			t.Fatalf("doctor: exit %d %v\n%s\n%s", code, err, stdout, stderr)
		}
		i := slices.IndexFunc(rep.Logins, func(l doctor.Login) bool { return l.Path == "rancher saml" })
		if i < 0 || !rep.Logins[i].OK || !strings.Contains(rep.Logins[i].Granted, "keycloak_user://carol@example.com (Carol), groups keycloak_group://rancher-admins, keycloak_group://rancher-operators") {
			t.Fatalf("logins: %+v", rep.Logins)
		}
		// A broken setup fails the doctor run with the login's own cause.
		r.apply("groups: member}", "groups: groups}")
		code, stdout, _ = runEnv(t, env, "", "doctor", "-f", r.path, "--user", "carol", "-o", "json")
		rep = doctor.Report{}
		json.Unmarshal([]byte(stdout), &rep)
		i = slices.IndexFunc(rep.Checks, func(c doctor.Check) bool { return c.ID == login.FindingAttribute })
		if code != ExitFindings || i < 0 || rep.Checks[i].Status != doctor.Fail || !strings.Contains(rep.Checks[i].Message, "groupsField `groups` is the mapper's name") ||
			!strings.Contains(rep.Checks[i].Fix, "rancher.fields.groups: member") {
			t.Fatalf("doctor on a broken field: exit %d\n%s", code, stdout)
		}
	})

	t.Run("groups mapper removed", func(t *testing.T) {
		r.t = t
		r.apply("        - saml_groups: {attribute: member, full_path: false}\n", "")
		code, doc := r.login()
		f := r.failed(code, doc, login.FindingAttribute, "groupsField `member` matches no attribute", "Add `- saml_groups: {attribute: member, full_path: false}` to the mappers of client")
		if doc.Principal != "keycloak_user://carol@example.com" || len(doc.Groups) != 0 {
			t.Errorf("Rancher still logs carol in, without groups: %+v", doc)
		}
		// The fix's line, put back where it says, makes the login pass.
		line := regexp.MustCompile("`([^`]+)`").FindStringSubmatch(f.Fix)[1]
		r.apply("        - saml_groups: {attribute: member, full_path: false}\n", "",
			"        - saml_property: {property: email, attribute: email}\n", "        - saml_property: {property: email, attribute: email}\n        "+line+"\n")
		r.passed(r.login())
	})

	t.Run("groups field names the mapper", func(t *testing.T) {
		r.t = t
		r.apply("groups: member}", "groups: groups}")
		code, doc := r.login()
		r.failed(code, doc, login.FindingAttribute, "groupsField `groups` is the mapper's name; its friendly name is `member`", "Set rancher.fields.groups: member")
	})

	t.Run("uid field names the attribute, not its friendly name", func(t *testing.T) {
		r.t = t
		r.apply("{property: email, attribute: email}", "{property: email, attribute: \"urn:oid:1.2.840.113549.1.9.1\", friendly_name: email}",
			"uid: email", "uid: \"urn:oid:1.2.840.113549.1.9.1\"")
		code, doc := r.login()
		r.failed(code, doc, login.FindingAttribute, "uidField `urn:oid:1.2.840.113549.1.9.1` is the attribute's name; its friendly name is `email`", "Set rancher.fields.uid: email")
		if doc.Principal != "" {
			t.Errorf("Rancher has no uid, so no principal: %+v", doc)
		}
		// Fixed as said: friendly name email.
		r.apply("{property: email, attribute: email}", "{property: email, attribute: \"urn:oid:1.2.840.113549.1.9.1\", friendly_name: email}")
		r.passed(r.login())
	})

	t.Run("field names no attribute at all", func(t *testing.T) {
		r.t = t
		r.apply("uid: email", "uid: employeeNumber")
		code, doc := r.login()
		r.failed(code, doc, login.FindingAttribute, "uidField `employeeNumber` matches no attribute of the assertion (it carries: Role, email, givenName, member, surname)",
			"Add `- saml_property: {property: email, attribute: employeeNumber}`")
		if doc.Principal != "" {
			t.Errorf("principal without a uid: %+v", doc)
		}
	})

	t.Run("assertion signing off", func(t *testing.T) {
		r.t = t
		// The response is still signed: the library, like Rancher, accepts it.
		r.apply("sign_assertions: true", "sign_assertions: false")
		code, doc := r.login()
		r.passed(code, doc)
		if !doc.Response.ResponseSigned || doc.Response.AssertionSigned {
			t.Errorf("response: %+v", doc.Response)
		}
		// Neither signed: refused, with the library's own reason.
		r.apply("sign_assertions: true", "sign_assertions: false", "sign_documents: true", "sign_documents: false")
		code, doc = r.login()
		r.failed(code, doc, rancher.FindingUnsignedResponse, "The assertion is not signed, and neither is the response, but Rancher requires one of them signed. (rancher/saml: signature element not present)",
			"Set sign_assertions: true for client")
		if doc.Principal != "" {
			t.Errorf("principal from an unsigned response: %+v", doc)
		}
		// The fix alone (documents still unsigned) makes it pass.
		r.apply("sign_documents: true", "sign_documents: false")
		r.passed(r.login())
	})

	t.Run("encryption", func(t *testing.T) {
		r.t = t
		cert := "saml.encryption.certificate: " + r.certBody
		// Keycloak 26's default algorithms: Rancher's library cannot decrypt
		// them, even with the right key.
		r.apply("encrypt_assertions: false", "encrypt_assertions: true\n      attributes: {"+cert+"}")
		code, doc := r.login(r.pair()...)
		r.failed(code, doc, login.FindingEncrypted, "an algorithm Rancher's SAML library does not implement", rancher.RancherEncryptionAttributes)
		if !doc.Response.Encrypted {
			t.Errorf("response: %+v", doc.Response)
		}
		// The fix's attributes, with Rancher's pair: the login passes.
		attrs := strings.TrimSuffix(rancher.RancherEncryptionAttributes, "}") + ", " + cert + "}"
		r.apply("encrypt_assertions: false", "encrypt_assertions: true\n      attributes: "+attrs)
		code, doc = r.login(r.pair()...)
		r.passed(code, doc)
		if !doc.Response.Encrypted || !doc.Response.ResponseSigned {
			t.Errorf("response: %+v", doc.Response)
		}
		// Without the SP key.
		code, doc = r.login()
		r.failed(code, doc, login.FindingEncrypted, "this login has no SP key to decrypt it", "Pass --sp-cert and --sp-key")
	})

	t.Run("request signatures verified by Keycloak", func(t *testing.T) {
		r.t = t
		r.apply("client_signature: false", "client_signature: true\n      attributes: {saml.signing.certificate: "+r.certBody+"}")
		// Keycloak verifies the RSA-SHA256 signature of the redirect.
		r.passed(r.login(r.pair()...))
		code, doc := r.login()
		r.failed(code, doc, login.FindingNoResponse, "Invalid requester", "Pass --sp-cert and --sp-key with Rancher's pair")
	})

	t.Run("wrong password", func(t *testing.T) {
		r.t = t
		r.apply()
		env := maps2(r.env, "CAROL_PASSWORD", "wrong")
		code, stdout, _ := runEnv(t, env, "", "rancher", "login", "-f", r.path, "--user", "carol", "-o", "json")
		var doc rancherLoginDoc
		json.Unmarshal([]byte(stdout), &doc)
		r.failed(code, doc, login.FindingKeycloakRefused, "Invalid username or password", "password")
	})
}
