package rancher

import (
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
)

const rancherURL = "https://rancher.example.com"

func TestServiceProviderFor(t *testing.T) {
	for _, in := range []string{"https://rancher.example.com", "https://rancher.example.com/", " https://rancher.example.com// "} {
		sp, err := ServiceProviderFor(in)
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		want := ServiceProvider{
			RancherURL: "https://rancher.example.com",
			EntityID:   "https://rancher.example.com/v1-saml/keycloak/saml/metadata",
			ACSURL:     "https://rancher.example.com/v1-saml/keycloak/saml/acs",
			SLOURL:     "https://rancher.example.com/v1-saml/keycloak/saml/slo",
		}
		if sp != want {
			t.Errorf("%q: %+v", in, sp)
		}
	}
	sp, err := ServiceProviderFor("http://10.0.0.5:8443/rancher")
	if err != nil || sp.EntityID != "http://10.0.0.5:8443/rancher/v1-saml/keycloak/saml/metadata" {
		t.Errorf("with port and path: %+v, %v", sp, err)
	}
	for _, bad := range []string{"", "rancher.example.com", "ftp://rancher.example.com", "https://", "https://r.example.com/?x=1", "https://u:p@r.example.com", "https://r.example.com/#frag", "http://[::1"} {
		_, err := ServiceProviderFor(bad)
		var ie *InputError
		if !errors.As(err, &ie) || ie.Input != "Rancher URL" {
			t.Errorf("%q: err = %v", bad, err)
		}
		assertBadInput(t, err)
	}
}

func goodFields() Fields {
	return Fields{DisplayName: "givenName", UserName: "email", UID: "email", Groups: "member"}
}

// goodClient is the Keycloak client Rancher's docs describe, without an SP
// certificate on Rancher's side.
func goodClient() *SAMLClient {
	return &SAMLClient{
		ClientID:     "https://rancher.example.com/v1-saml/keycloak/saml/metadata",
		RedirectURIs: []string{"https://rancher.example.com/v1-saml/keycloak/saml/acs"},
		Attributes: map[string]string{
			"saml.server.signature":    "true",
			"saml.assertion.signature": "true",
			"saml.client.signature":    "false",
			"saml.force.post.binding":  "false",
			"saml.encrypt":             "false",
		},
		Mappers: []SAMLAttribute{
			{MapperName: "givenName", AttributeName: "givenName"},
			{MapperName: "email", AttributeName: "email"},
			{MapperName: "groups", AttributeName: "member"},
		},
	}
}

func goodInput(t *testing.T) ConfigInput {
	return ConfigInput{
		RancherURL: rancherURL,
		Fields:     goodFields(),
		Metadata:   readTestdata(t, "keycloak-26-entity.xml"),
		SPCertPEM:  readTestdata(t, "sp.crt"),
		SPKeyPEM:   readTestdata(t, "sp-pkcs1.key"),
		Client:     goodClient(),
	}
}

func TestBuildConfigJSON(t *testing.T) {
	in := goodInput(t)
	cfg, fs, err := BuildConfig(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 0 {
		t.Fatalf("findings for a good setup: %+v", fs)
	}
	out, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"displayNameField":   "givenName",
		"userNameField":      "email",
		"uidField":           "email",
		"groupsField":        "member",
		"rancherApiHost":     "https://rancher.example.com",
		"entityID":           "https://rancher.example.com/v1-saml/keycloak/saml/metadata",
		"idpMetadataContent": string(in.Metadata),
		"spCert":             string(in.SPCertPEM),
		"spKey":              string(in.SPKeyPEM),
	}
	if !maps.Equal(got, want) {
		t.Errorf("JSON fields differ:\n got %v\nwant %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}

	// Without an SP key pair the fields are left out, and Rancher's refusal is reported.
	in.SPCertPEM, in.SPKeyPEM = nil, nil
	in.Client = nil
	cfg, fs, err = BuildConfig(in)
	if err != nil {
		t.Fatal(err)
	}
	out, _ = json.Marshal(cfg)
	if strings.Contains(string(out), "spCert") || strings.Contains(string(out), "spKey") {
		t.Errorf("empty SP cert/key serialised: %s", out)
	}
	if got := findingIDs(fs); !slices.Equal(got, []string{FindingSPKeyMissing, FindingSPCertMissing}) {
		t.Errorf("findings = %v", got)
	}
	if !strings.Contains(fs[0].Message, "missing SpKey") || !strings.Contains(fs[1].Message, "missing SpCert") {
		t.Errorf("Rancher's wording missing: %+v", fs)
	}
}

func TestBuildConfigRequiredFields(t *testing.T) {
	in := goodInput(t)
	in.Metadata = nil
	in.Fields.Groups = ""
	in.Client = nil
	_, fs, err := BuildConfig(in)
	if err != nil {
		t.Fatal(err)
	}
	if got := findingIDs(fs); !slices.Equal(got, []string{FindingMetadataMissing, FindingFieldMissing}) {
		t.Fatalf("findings = %+v", fs)
	}
	if !strings.Contains(fs[1].Message, "groupsField") || !strings.Contains(fs[1].Fix, "rancher.fields.groups") {
		t.Errorf("finding = %+v", fs[1])
	}
	_, _, err = BuildConfig(ConfigInput{RancherURL: "rancher"})
	assertBadInput(t, err)
}

func TestSPKeyPair(t *testing.T) {
	spCert := readTestdata(t, "sp.crt")
	encrypted := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY",
		Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00112233445566778899AABBCCDDEEFF"}, Bytes: []byte("opaque")})
	tests := []struct {
		name      string
		cert, key []byte
		want      []string
		message   string
	}{
		{name: "PKCS#1 RSA", cert: spCert, key: readTestdata(t, "sp-pkcs1.key")},
		{name: "PKCS#8 RSA", cert: spCert, key: readTestdata(t, "sp-pkcs8.key")},
		{name: "EC key", cert: spCert, key: readTestdata(t, "sp-ec.key"), want: []string{FindingSPKeyInvalid},
			message: `reports: SAML: unsupported key type "EC PRIVATE KEY".`},
		{name: "PKCS#8 EC key", cert: spCert, key: readTestdata(t, "sp-ec-pkcs8.key"), want: []string{FindingSPKeyInvalid},
			message: "holds an ECDSA key; Rancher signs with RSA keys only"},
		{name: "mismatched certificate", cert: readTestdata(t, "idp-active.crt"), key: readTestdata(t, "sp-pkcs8.key"),
			want: []string{FindingSPKeyMismatch}, message: `subject "CN=demo"`},
		{name: "encrypted key", cert: spCert, key: encrypted, want: []string{FindingSPKeyInvalid}, message: "SAML: cannot decode encrypted private keys"},
		{name: "encrypted PKCS#8", cert: spCert, key: pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte("x")}),
			want: []string{FindingSPKeyInvalid}, message: "ENCRYPTED PRIVATE KEY"},
		{name: "key not PEM", cert: spCert, key: []byte("not a key"), want: []string{FindingSPKeyInvalid}, message: "SAML: no key found"},
		{name: "corrupt PKCS#1", cert: spCert, key: pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: []byte("junk")}),
			want: []string{FindingSPKeyInvalid}, message: "PKCS#1"},
		{name: "certificate not PEM", cert: []byte("MIIB..."), key: readTestdata(t, "sp-pkcs1.key"), want: []string{FindingSPCertInvalid},
			message: "SAML: failed to parse PEM block containing the private key"},
		{name: "key given as certificate", cert: readTestdata(t, "sp-pkcs1.key"), key: readTestdata(t, "sp-pkcs1.key"), want: []string{FindingSPCertInvalid},
			message: `PEM block "RSA PRIVATE KEY"`},
		{name: "both missing", want: []string{FindingSPKeyMissing, FindingSPCertMissing}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert, _, fs := checkSPKeyPair(tt.cert, tt.key)
			if got := findingIDs(fs); !slices.Equal(got, tt.want) {
				t.Fatalf("findings = %+v", fs)
			}
			if len(tt.want) == 0 && cert == nil {
				t.Error("good certificate not returned")
			}
			for _, f := range fs {
				if f.Severity != SeverityError || f.Fix == "" {
					t.Errorf("finding %+v", f)
				}
			}
			if tt.message != "" && !strings.Contains(fs[0].Message, tt.message) {
				t.Errorf("message %q lacks %q", fs[0].Message, tt.message)
			}
		})
	}
}

func TestClientChecks(t *testing.T) {
	spCertPEM := readTestdata(t, "sp.crt")
	block, _ := pem.Decode(spCertPEM)
	spCertBody := base64.StdEncoding.EncodeToString(block.Bytes)

	tests := []struct {
		name     string
		edit     func(c *SAMLClient, in *ConfigInput)
		want     []string
		severity Severity // of the first finding
		message  string
		fix      string
	}{
		{name: "as documented", edit: func(*SAMLClient, *ConfigInput) {}},
		{name: "client ID is not the entity ID", edit: func(c *SAMLClient, _ *ConfigInput) { c.ClientID = "rancher" },
			want: []string{FindingClientID}, message: `"rancher" is not Rancher's entity ID`, fix: "client_id: https://rancher.example.com/v1-saml/keycloak/saml/metadata"},
		{name: "client ID with a trailing slash", edit: func(c *SAMLClient, _ *ConfigInput) { c.ClientID += "/" },
			want: []string{FindingClientID}, message: "only by a trailing slash"},
		{name: "no ACS redirect URI", edit: func(c *SAMLClient, _ *ConfigInput) {
			c.RedirectURIs = []string{"https://rancher.example.com/verify-auth"}
		},
			want: []string{FindingRedirectURI}, severity: SeverityError, message: "found: https://rancher.example.com/verify-auth",
			fix: "Add https://rancher.example.com/v1-saml/keycloak/saml/acs to redirect_uris"},
		{name: "wildcard redirect URI", edit: func(c *SAMLClient, _ *ConfigInput) { c.RedirectURIs = []string{"https://rancher.example.com/*"} },
			want: []string{FindingRedirectURI}, severity: SeverityWarning, message: "wildcard"},
		{name: "friendly name hides the attribute name",
			edit: func(c *SAMLClient, _ *ConfigInput) {
				c.Mappers[1] = SAMLAttribute{MapperName: "X500 email", AttributeName: "email", FriendlyName: "mail"}
			},
			want: []string{FindingFieldMapper, FindingFieldMapper}, severity: SeverityWarning,
			message: `Mapper "X500 email" sends attribute "email" but with friendly name "mail"`,
			fix:     `Set rancher.fields.user_name to "mail" in sso.yaml, or remove the friendly name from mapper "X500 email"`},
		{name: "friendly name matches", edit: func(c *SAMLClient, _ *ConfigInput) {
			c.Mappers[0] = SAMLAttribute{MapperName: "X500 givenName", AttributeName: "urn:oid:2.5.4.42", FriendlyName: "givenName"}
		}},
		{name: "field set to the attribute name of a mapper with a friendly name",
			edit: func(c *SAMLClient, in *ConfigInput) {
				c.Mappers[0] = SAMLAttribute{MapperName: "X500 givenName", AttributeName: "urn:oid:2.5.4.42", FriendlyName: "givenName"}
				in.Fields.DisplayName = "urn:oid:2.5.4.42"
			},
			want: []string{FindingFieldMapper}, message: `friendly name "givenName"`, fix: `Set rancher.fields.display_name to "givenName"`},
		{name: "no mapper for the UID", edit: func(c *SAMLClient, in *ConfigInput) { in.Fields.UID = "username" },
			want: []string{FindingFieldMapper}, severity: SeverityError, message: "SAML: Unique ID field is not provided in SAML Response",
			fix: "- saml_property: {property: email, attribute: username}"},
		{name: "no groups mapper", edit: func(c *SAMLClient, _ *ConfigInput) { c.Mappers = c.Mappers[:2] },
			want: []string{FindingFieldMapper}, severity: SeverityWarning, fix: "saml_groups: {attribute: member, full_path: false}"},
		{name: "case differs", edit: func(c *SAMLClient, _ *ConfigInput) { c.Mappers[2].AttributeName = "Member" },
			want: []string{FindingFieldMapper}, message: "differs only in case"},
		{name: "empty field is not matched", edit: func(c *SAMLClient, in *ConfigInput) { in.Fields.DisplayName = ""; c.Mappers = c.Mappers[1:] },
			want: []string{FindingFieldMissing}},
		{name: "nothing signed", edit: func(c *SAMLClient, _ *ConfigInput) {
			c.Attributes["saml.server.signature"] = "false"
			c.Attributes["saml.assertion.signature"] = "false"
		}, want: []string{FindingUnsignedResponse}, severity: SeverityError, fix: `saml.server.signature: "true"`},
		{name: "only assertions signed", edit: func(c *SAMLClient, _ *ConfigInput) { c.Attributes["saml.server.signature"] = "false" }},
		{name: "Keycloak compares with true exactly", edit: func(c *SAMLClient, _ *ConfigInput) {
			c.Attributes["saml.server.signature"] = "TRUE"
			c.Attributes["saml.assertion.signature"] = "yes"
		}, want: []string{FindingUnsignedResponse}},
		{name: "attributes absent take Keycloak's create defaults", edit: func(c *SAMLClient, in *ConfigInput) {
			c.Attributes = nil
			in.SPCertPEM, in.SPKeyPEM = nil, nil
		}, want: []string{FindingSPKeyMissing, FindingSPCertMissing, FindingClientSignature, FindingForcePOST}, message: "missing SpKey"},
		{name: "client signature without SP certificate", edit: func(c *SAMLClient, in *ConfigInput) {
			c.Attributes["saml.client.signature"] = "true"
			in.SPCertPEM = nil
		}, want: []string{FindingSPCertMissing, FindingClientSignature}},
		{name: "client signature with Rancher's certificate in Keycloak", edit: func(c *SAMLClient, _ *ConfigInput) {
			c.Attributes["saml.client.signature"] = "true"
			c.Attributes["saml.signing.certificate"] = spCertBody[:40] + "\n" + spCertBody[40:]
		}},
		{name: "client signature with Keycloak's own key pair", edit: func(c *SAMLClient, _ *ConfigInput) {
			c.Attributes["saml.client.signature"] = "true"
		}, want: []string{FindingClientSignature}, message: "generates a key pair of its own", fix: "saml.signing.certificate"},
		{name: "client signature with another certificate", edit: func(c *SAMLClient, t0 *ConfigInput) {
			c.Attributes["saml.client.signature"] = "true"
			c.Attributes["saml.signing.certificate"] = certBody(t, "idp-active.crt")
		}, want: []string{FindingClientSignature}, message: "is not Rancher's SP certificate"},
		{name: "force POST binding", edit: func(c *SAMLClient, _ *ConfigInput) { c.Attributes["saml.force.post.binding"] = "true" },
			want: []string{FindingForcePOST}, fix: `saml.force.post.binding: "false"`},
		{name: "encrypt without SP certificate", edit: func(c *SAMLClient, in *ConfigInput) {
			c.Attributes["saml.encrypt"] = "true"
			in.SPCertPEM = nil
		}, want: []string{FindingSPCertMissing, FindingEncryptAssertion, FindingEncryptAlgorithm}},
		{name: "encrypt without encryption certificate", edit: func(c *SAMLClient, _ *ConfigInput) { c.Attributes["saml.encrypt"] = "true" },
			want: []string{FindingEncryptAssertion, FindingEncryptAlgorithm}, message: "Client does not have a public key"},
		{name: "encrypt with Keycloak 26's default algorithms", edit: func(c *SAMLClient, _ *ConfigInput) {
			c.Attributes["saml.encrypt"] = "true"
			c.Attributes["saml.encryption.certificate"] = spCertBody
		}, want: []string{FindingEncryptAlgorithm}, message: "absent: Keycloak 26 uses aes256-gcm", fix: RancherEncryptionAttributes},
		{name: "encrypt with OAEP and SHA-256 digest", edit: func(c *SAMLClient, _ *ConfigInput) {
			c.Attributes["saml.encrypt"] = "true"
			c.Attributes["saml.encryption.certificate"] = spCertBody
			c.Attributes["saml.encryption.algorithm"] = "http://www.w3.org/2001/04/xmlenc#aes256-cbc"
			c.Attributes["saml.encryption.keyAlgorithm"] = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
		}, want: []string{FindingEncryptAlgorithm}, message: "digestMethod = (absent"},
		{name: "encrypt for Rancher", edit: func(c *SAMLClient, _ *ConfigInput) {
			c.Attributes["saml.encrypt"] = "true"
			c.Attributes["saml.encryption.certificate"] = spCertBody
			c.Attributes["saml.encryption.algorithm"] = "http://www.w3.org/2001/04/xmlenc#aes256-cbc"
			c.Attributes["saml.encryption.keyAlgorithm"] = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
			c.Attributes["saml.encryption.digestMethod"] = "http://www.w3.org/2000/09/xmldsig#sha1"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := goodInput(t)
			tt.edit(in.Client, &in)
			_, fs, err := BuildConfig(in)
			if err != nil {
				t.Fatal(err)
			}
			if got := findingIDs(fs); !slices.Equal(got, tt.want) {
				t.Fatalf("findings = %v, want %v\n%+v", got, tt.want, fs)
			}
			for _, f := range fs {
				if f.Message == "" || f.Fix == "" {
					t.Errorf("incomplete finding %+v", f)
				}
			}
			if len(fs) == 0 {
				return
			}
			if tt.severity != "" && fs[0].Severity != tt.severity {
				t.Errorf("severity = %s, want %s", fs[0].Severity, tt.severity)
			}
			if tt.message != "" && !strings.Contains(fs[0].Message, tt.message) {
				t.Errorf("message %q lacks %q", fs[0].Message, tt.message)
			}
			if tt.fix != "" && !strings.Contains(fs[0].Fix, tt.fix) {
				t.Errorf("fix %q lacks %q", fs[0].Fix, tt.fix)
			}
		})
	}
}

func TestSAMLAttributeRancherName(t *testing.T) {
	if n := (SAMLAttribute{AttributeName: "urn:oid:2.5.4.42", FriendlyName: "givenName"}).RancherName(); n != "givenName" {
		t.Errorf("friendly name first: %q", n)
	}
	if n := (SAMLAttribute{AttributeName: "member"}).RancherName(); n != "member" {
		t.Errorf("attribute name fallback: %q", n)
	}
}
