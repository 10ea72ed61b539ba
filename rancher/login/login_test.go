package login

import (
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/crewjam/saml"

	"github.com/ssoctl/ssoctl/internal/browser"
	"github.com/ssoctl/ssoctl/rancher"
	"github.com/ssoctl/ssoctl/spec"
)

func testSP(t *testing.T, withPair bool) *serviceProvider {
	t.Helper()
	md, err := os.ReadFile("../testdata/keycloak-26-entity.xml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{RancherURL: "https://rancher.example.com/", Metadata: md}
	if withPair {
		cfg.SPCertPEM, _ = os.ReadFile("../testdata/sp.crt")
		cfg.SPKeyPEM, _ = os.ReadFile("../testdata/sp-pkcs1.key")
	}
	s, fs, err := newServiceProvider(cfg)
	if err != nil || s == nil {
		t.Fatalf("newServiceProvider: %v %+v", err, fs)
	}
	return s
}

func TestServiceProviderAsRancher(t *testing.T) {
	s := testSP(t, true)
	if s.throwaway || s.entityID() != "https://rancher.example.com/v1-saml/keycloak/saml/metadata" ||
		s.sp.AcsURL.String() != "https://rancher.example.com/v1-saml/keycloak/saml/acs" {
		t.Fatalf("SP: %+v", s.sp)
	}
	sso := s.sp.GetSSOBindingLocation(saml.HTTPRedirectBinding)
	if sso == "" {
		t.Fatal("no redirect SSO location from the metadata")
	}
	req, err := s.sp.MakeAuthenticationRequest(sso, saml.HTTPRedirectBinding, saml.HTTPPostBinding)
	if err != nil {
		t.Fatal(err)
	}
	u, err := req.Redirect("state", s.sp)
	if err != nil {
		t.Fatal(err)
	}
	// Signed as Rancher 2.10+ signs it: RSA-SHA256 over the query.
	q := u.Query()
	if q.Get("SigAlg") != "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" || q.Get("Signature") == "" || q.Get("RelayState") != "state" || q.Get("SAMLRequest") == "" {
		t.Errorf("redirect query: %v", q)
	}
	if req.Issuer.Value != s.entityID() || req.AssertionConsumerServiceURL != s.urls.ACSURL {
		t.Errorf("request issuer %q ACS %q", req.Issuer.Value, req.AssertionConsumerServiceURL)
	}
	if !testSP(t, false).throwaway {
		t.Error("no pair given: want a throwaway pair")
	}
}

func TestServiceProviderBadInput(t *testing.T) {
	if _, _, err := newServiceProvider(Config{RancherURL: "rancher.example.com"}); err == nil {
		t.Error("relative Rancher URL accepted")
	}
	cert, _ := os.ReadFile("../testdata/sp.crt")
	ec, _ := os.ReadFile("../testdata/sp-ec.key")
	s, fs, err := newServiceProvider(Config{RancherURL: "https://r", SPCertPEM: cert, SPKeyPEM: ec})
	if err != nil || s != nil || !rancher.HasErrors(fs) {
		t.Errorf("EC key: %v %v %+v", s, err, fs)
	}
	s, fs, err = newServiceProvider(Config{RancherURL: "https://r", Metadata: []byte("<EntitiesDescriptor/>")})
	if err != nil || s != nil || len(fs) != 1 || fs[0].ID != rancher.FindingDecode || !strings.Contains(fs[0].Message, "expected element type <EntityDescriptor>") {
		t.Errorf("wrapper root: %v %+v", err, fs)
	}
}

func TestShapeOf(t *testing.T) {
	raw := `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Destination="https://r/acs">
<ds:Signature/><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:RequestDenied"/></samlp:StatusCode><samlp:StatusMessage>no</samlp:StatusMessage></samlp:Status>
<saml:EncryptedAssertion/></samlp:Response>`
	got := shapeOf([]byte(raw))
	want := ResponseShape{Status: "urn:oasis:names:tc:SAML:2.0:status:Responder / urn:oasis:names:tc:SAML:2.0:status:RequestDenied", StatusMessage: "no",
		ResponseSigned: true, Encrypted: true, Destination: "https://r/acs"}
	if got != want {
		t.Errorf("shape = %+v", got)
	}
	if got := shapeOf([]byte("<x")); got != (ResponseShape{}) {
		t.Errorf("broken XML: %+v", got)
	}
}

func TestInvalidCauses(t *testing.T) {
	d := &diagnosis{s: testSP(t, true), client: "rancher"}
	dt := &diagnosis{s: testSP(t, false), client: "rancher"}
	signed := ResponseShape{Status: saml.StatusSuccess, ResponseSigned: true}
	enc := ResponseShape{Status: saml.StatusSuccess, ResponseSigned: true, Encrypted: true}
	tests := []struct {
		name   string
		d      *diagnosis
		msg    string
		shape  ResponseShape
		id     string
		says   string
		fixSay string
	}{
		{"status", d, "urn:oasis:names:tc:SAML:2.0:status:Responder", ResponseShape{Status: "urn:oasis:names:tc:SAML:2.0:status:Responder"}, FindingStatus, "status urn:oasis:names:tc:SAML:2.0:status:Responder", "LOGIN_ERROR"},
		{"algorithm", d, "failed to decrypt EncryptedAssertion: algorithm is not implemented: http://www.w3.org/2009/xmlenc11#aes256-gcm", enc, FindingEncrypted, "does not implement", rancher.RancherEncryptionAttributes},
		{"no key", dt, "failed to decrypt EncryptedAssertion: crypto/rsa: decryption error", enc, FindingEncrypted, "no SP key", "--sp-key"},
		{"other key", d, "failed to decrypt EncryptedAssertion: crypto/rsa: decryption error", enc, FindingEncrypted, "other than --sp-cert", "saml.encryption.certificate"},
		{"unsigned", d, "signature element not present", ResponseShape{Status: saml.StatusSuccess}, FindingUnsigned, "not signed", "sign_assertions: true"},
		{"no certificate", d, "cannot validate signature on Response: cannot find any signing certificate in the IDP SSO descriptor", signed, FindingInvalid, "no signing certificate", "rancher convert"},
		{"stale certificate", d, "Signature could not be verified", signed, FindingInvalid, "key may have changed", "idpMetadataContent"},
		{"audience", d, `assertion Conditions AudienceRestriction does not contain "x"`, signed, FindingInvalid, "another audience", "client_id: https://rancher.example.com/v1-saml/keycloak/saml/metadata"},
		{"destination", d, "`Destination` does not match AcsURL", signed, FindingDestination, "ACS URL", "redirect_uris: [https://rancher.example.com/v1-saml/keycloak/saml/acs]"},
		{"clock", d, "assertion Conditions is expired", signed, FindingInvalid, "clocks", "NTP"},
		{"issuer", d, `issuer is not "x"`, signed, FindingInvalid, "issuer", "rancher convert"},
		{"other", d, "something new", signed, FindingInvalid, "(rancher/saml: something new)", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, msg, fix := tt.d.invalid(tt.msg, tt.shape)
			if id != tt.id || !strings.Contains(msg, tt.says) || !strings.Contains(fix, tt.fixSay) || !strings.Contains(msg, tt.msg) {
				t.Errorf("got %s %q / %q", id, msg, fix)
			}
		})
	}
}

func TestRefusalCauses(t *testing.T) {
	d := &diagnosis{s: testSP(t, true), client: "rancher"}
	dt := &diagnosis{s: testSP(t, false), client: "rancher"}
	page := func(text string) *browser.Page {
		u, _ := url.Parse("http://kc/realms/r/protocol/saml?SAMLRequest=secret-ish")
		return &browser.Page{URL: u, Status: 400, Body: []byte("<html><body><p>We are sorry...</p><p>" + text + "</p></body></html>")}
	}
	for _, tt := range []struct {
		d              *diagnosis
		text, msg, fix string
	}{
		{d, "Client not found.", "no SAML client whose client ID", "client_id: https://rancher.example.com/v1-saml/keycloak/saml/metadata"},
		{d, "Invalid redirect uri", "ACS URL", "Add https://rancher.example.com/v1-saml/keycloak/saml/acs to redirect_uris"},
		{dt, "Invalid requester", "throwaway key", "--sp-cert and --sp-key"},
		{d, "Invalid requester", "not the certificate of --sp-key", "saml.signing.certificate"},
		{d, "Something else", "Something else", "LOGIN_ERROR"},
	} {
		msg, fix := tt.d.refusal(page(tt.text))
		if !strings.Contains(msg, tt.msg) || !strings.Contains(fix, tt.fix) || strings.Contains(msg, "SAMLRequest") {
			t.Errorf("%s: %q / %q", tt.text, msg, fix)
		}
	}
}

func assertionWith(attrs ...saml.Attribute) *saml.Assertion {
	return &saml.Assertion{AttributeStatements: []saml.AttributeStatement{{Attributes: attrs}}}
}

func attr(name, friendly string, values ...string) saml.Attribute {
	a := saml.Attribute{Name: name, FriendlyName: friendly}
	for _, v := range values {
		a.Values = append(a.Values, saml.AttributeValue{Value: v})
	}
	return a
}

func TestPrincipal(t *testing.T) {
	fields := rancher.Fields{DisplayName: "givenName", UserName: "email", UID: "email", Groups: "member"}
	client := &rancher.SAMLClient{Mappers: []rancher.SAMLAttribute{
		{MapperName: "email", AttributeName: "email"}, {MapperName: "groups", AttributeName: "member"}, {MapperName: "X500 givenName", AttributeName: "urn:oid:2.5.4.42", FriendlyName: "givenName"}}}
	a := assertionWith(attr("email", "", "ann@example.com"), attr("urn:oid:2.5.4.42", "givenName", "Ann"), attr("member", "", "ops", "dev"))
	res := &Result{User: "ann", Attributes: map[string][]string{}}
	(&diagnosis{cfg: Config{Fields: fields, Client: client}, client: "rancher"}).principal(res, a)
	p := res.Principal
	if p == nil || p.ID != "keycloak_user://ann@example.com" || p.DisplayName != "Ann" || p.Username != "ann@example.com" ||
		strings.Join(p.Groups, ",") != "keycloak_group://ops,keycloak_group://dev" || len(res.Findings) != 0 {
		t.Fatalf("principal %+v findings %+v", p, res.Findings)
	}

	for _, tt := range []struct {
		name     string
		fields   rancher.Fields
		a        *saml.Assertion
		severity rancher.Severity
		msg, fix string
		noUser   bool
	}{
		{"name instead of friendly name", rancher.Fields{UID: "email", DisplayName: "urn:oid:2.5.4.42"}, a, rancher.SeverityWarning,
			"is the attribute's name; its friendly name is `givenName`", "rancher.fields.display_name: givenName", false},
		{"mapper name", rancher.Fields{UID: "email", Groups: "groups"}, a, rancher.SeverityError,
			"is the mapper's name; the attribute it sends is `member`", "rancher.fields.groups: member", false},
		{"case", rancher.Fields{UID: "Email"}, a, rancher.SeverityError, "differs only in case", "rancher.fields.uid: email", true},
		{"no group", rancher.Fields{UID: "email", Groups: "member"}, assertionWith(attr("email", "", "ann@example.com")), rancher.SeverityWarning, "Keycloak sent none for ann", "group membership", false},
		{"no mapper", rancher.Fields{UID: "email", Groups: "roles"}, a, rancher.SeverityError,
			"groupsField `roles` matches no attribute of the assertion (it carries: email, givenName, member)", "Add `- saml_groups: {attribute: roles, full_path: false}` to the mappers of client rancher", false},
		{"no uid", rancher.Fields{UID: "uid"}, a, rancher.SeverityError, "Unique ID field is not provided", "saml_property: {property: email, attribute: uid}", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := &Result{User: "ann", Attributes: map[string][]string{}}
			(&diagnosis{cfg: Config{Fields: tt.fields, Client: client}, client: "rancher"}).principal(res, tt.a)
			if len(res.Findings) != 1 || res.Findings[0].Severity != tt.severity || !strings.Contains(res.Findings[0].Message, tt.msg) || !strings.Contains(res.Findings[0].Fix, tt.fix) {
				t.Fatalf("findings %+v", res.Findings)
			}
			if (res.Principal == nil) != tt.noUser {
				t.Errorf("principal %+v", res.Principal)
			}
		})
	}
}

// Every sso.yaml line a fix suggests parses where it says it goes.
func TestFixLinesParse(t *testing.T) {
	base := "keycloak:\n  url: http://kc\n  realm: r\n  clients:\n    - client_id: https://r/v1-saml/keycloak/saml/metadata\n      protocol: saml\n      redirect_uris: [https://r/v1-saml/keycloak/saml/acs]\n"
	res := &Result{User: "ann", Attributes: map[string][]string{}}
	(&diagnosis{cfg: Config{Fields: rancher.Fields{UID: "email", Groups: "member", DisplayName: "givenName", UserName: "mail"}}, client: "c"}).principal(res, assertionWith())
	if len(res.Findings) != 4 {
		t.Fatalf("findings %+v", res.Findings)
	}
	for _, f := range res.Findings {
		line := regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(f.Fix, -1)
		frag := base + "      mappers:\n        " + line[len(line)-1][1] + "\n"
		if _, err := spec.Parse("fix.yaml", []byte(frag), nil); err != nil {
			t.Errorf("%s: %v\n%s", f.Fix, err, frag)
		}
	}
	frag := base + "      encrypt_assertions: true\n      attributes: " + rancher.RancherEncryptionAttributes + "\n"
	f, err := spec.Parse("fix.yaml", []byte(frag), nil)
	if err != nil || f.Keycloak.Clients[0].Attributes["saml.encryption.keyAlgorithm"] != "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p" {
		t.Errorf("encryption attributes: %v", err)
	}
}
