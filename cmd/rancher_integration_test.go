//go:build integration

package cmd

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/rancher"
	"github.com/ssoctl/ssoctl/testbed"
)

// rancherEntity is a minimal Rancher-equivalent decode of the parts that
// must survive: entityID, signing certificates and SSO endpoints.
type rancherEntity struct {
	XMLName  xml.Name `xml:"urn:oasis:names:tc:SAML:2.0:metadata EntityDescriptor"`
	EntityID string   `xml:"entityID,attr"`
	IDP      struct {
		Keys []struct {
			Use  string `xml:"use,attr"`
			Cert string `xml:"http://www.w3.org/2000/09/xmldsig# KeyInfo>X509Data>X509Certificate"`
		} `xml:"KeyDescriptor"`
		SSO []struct {
			Binding  string `xml:"Binding,attr"`
			Location string `xml:"Location,attr"`
		} `xml:"SingleSignOnService"`
	} `xml:"IDPSSODescriptor"`
}

func TestIntegrationRancherRealDescriptor(t *testing.T) {
	tb := testbed.Load(t)
	env := testEnv(tb)
	path, realm := demoFile(t, tb, "rancher.yaml")
	// --only rancher plans the rancher section's SAML client, nothing else.
	code, stdout, stderr := runEnv(t, env, "", "plan", "-f", path, "--only", "rancher")
	if code != 0 || !strings.Contains(stdout, "+ keycloak client "+realm+"/https://rancher.example.com/v1-saml/keycloak/saml/metadata") ||
		!strings.Contains(stdout, "+ keycloak mapper ") || strings.Contains(stdout, " group ") || strings.Contains(stdout, " user ") {
		t.Fatalf("plan --only rancher: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if code, stdout, stderr := runEnv(t, env, "", "apply", "-f", path, "--only", "rancher"); code != 0 || strings.Contains(stderr, "created user") {
		t.Fatalf("apply --only rancher: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if code, stdout, stderr := runEnv(t, env, "", "apply", "-f", path); code != 0 {
		t.Fatalf("apply: exit %d\n%s\n%s", code, stdout, stderr)
	}
	raw, err := keycloak.Descriptor(context.Background(), http.DefaultClient, tb.KeycloakURL, realm)
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runEnv(t, env, "", "rancher", "convert", "--realm", realm)
	if code != 0 {
		t.Fatalf("convert --realm: exit %d %s", code, stderr)
	}
	var before, after rancherEntity
	if err := xml.Unmarshal(raw, &before); err != nil {
		t.Fatalf("Keycloak 26's descriptor does not decode as Rancher does: %v", err)
	}
	if err := xml.Unmarshal([]byte(stdout), &after); err != nil {
		t.Fatalf("converted descriptor does not decode: %v", err)
	}
	if after.EntityID != tb.KeycloakURL+"/realms/"+realm || after.EntityID != before.EntityID {
		t.Errorf("entityID %q, want %q", after.EntityID, before.EntityID)
	}
	if len(after.IDP.Keys) == 0 || after.IDP.Keys[0].Cert == "" || after.IDP.Keys[0].Cert != before.IDP.Keys[0].Cert {
		t.Errorf("signing certificate lost: %+v", after.IDP.Keys)
	}
	redirect := false
	for _, s := range after.IDP.SSO {
		redirect = redirect || (s.Binding == rancher.HTTPRedirectBinding && strings.HasSuffix(s.Location, "/realms/"+realm+"/protocol/saml"))
	}
	if !redirect || len(after.IDP.SSO) != len(before.IDP.SSO) {
		t.Errorf("SSO services: %+v", after.IDP.SSO)
	}
	// The live descriptor by URL, checked as it is (Keycloak 26 serves an EntityDescriptor).
	if code, stdout, stderr := runEnv(t, env, "", "rancher", "check", tb.KeycloakURL+"/realms/"+realm+"/protocol/saml/descriptor"); code != 0 {
		t.Fatalf("check by URL: exit %d\n%s\n%s", code, stdout, stderr)
	}
	f := filepath.Join(t.TempDir(), "idp.xml")
	os.WriteFile(f, []byte(stdout), 0o600)
	if code, stdout, _ := runEnv(t, env, "", "rancher", "check", f); code != 0 {
		t.Fatalf("check of the converted real descriptor: exit %d\n%s", code, stdout)
	}

	// rancher config: the JSON Rancher takes, with the live metadata.
	code, stdout, stderr = runEnv(t, env, "", "rancher", "config", "-f", path, "--sp-cert", "../rancher/testdata/sp.crt", "--sp-key", "../rancher/testdata/sp-pkcs8.key")
	var cfg map[string]string
	if code != 0 || json.Unmarshal([]byte(stdout), &cfg) != nil {
		t.Fatalf("rancher config: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if cfg["entityID"] != "https://rancher.example.com/v1-saml/keycloak/saml/metadata" || cfg["uidField"] != "email" || cfg["groupsField"] != "member" ||
		!strings.Contains(cfg["idpMetadataContent"], after.IDP.Keys[0].Cert) || !strings.Contains(cfg["spKey"], "PRIVATE KEY") {
		t.Fatalf("config = %v", cfg)
	}
	// On a terminal the SP key is masked.
	code, stdout, _ = runTTY(t, env, "", "rancher", "config", "-f", path, "--sp-cert", "../rancher/testdata/sp.crt", "--sp-key", "../rancher/testdata/sp-pkcs8.key")
	if code != 0 || strings.Contains(stdout, "PRIVATE KEY") || !strings.Contains(stdout, "masked") {
		t.Fatalf("rancher config on a terminal: exit %d\n%s", code, stdout)
	}
	// A field no mapper emits is reported, exit 3.
	data, _ := os.ReadFile(path)
	broken := filepath.Join(t.TempDir(), "broken.yaml")
	os.WriteFile(broken, []byte(strings.Replace(string(data), "uid: email", "uid: uid", 1)), 0o600)
	code, _, stderr = runEnv(t, env, "", "rancher", "config", "-f", broken, "--sp-cert", "../rancher/testdata/sp.crt", "--sp-key", "../rancher/testdata/sp-pkcs1.key")
	if code != ExitFindings || !strings.Contains(stderr, `"uid"`) {
		t.Fatalf("uid field without a mapper: exit %d\n%s", code, stderr)
	}
	code, _, stderr = runEnv(t, env, "", "rancher", "config", "-f", path, "--sp-cert", "../rancher/testdata/sp.crt", "--sp-key", "../rancher/testdata/sp-ec.key")
	// A key Rancher cannot use is bad input, said before Keycloak is asked.
	if code != ExitUsage || !strings.Contains(stderr, "RSA") {
		t.Fatalf("EC SP key: exit %d\n%s", code, stderr)
	}
}
