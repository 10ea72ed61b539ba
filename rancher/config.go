package rancher

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/url"
	"strings"

	"github.com/ssoctl/ssoctl/spec"
)

// ProviderName is Rancher's name for its Keycloak SAML auth provider.
const ProviderName = "keycloak"

// AuthConfigType is the type of Rancher's Keycloak SAML auth config object.
const AuthConfigType = "keyCloakConfig"

// Paths Rancher serves for its Keycloak SAML service provider, below the
// Rancher URL.
const (
	metadataPath = "/v1-saml/keycloak/saml/metadata"
	acsPath      = "/v1-saml/keycloak/saml/acs"
	sloPath      = "/v1-saml/keycloak/saml/slo"
)

// KeycloakSAMLConfig is the body of Rancher's Keycloak SAML auth config
// (Rancher's SamlConfig), with Rancher's JSON field names. Rancher requires
// every field except EntityID; SPCert and SPKey are omitted from the JSON
// when empty so that a partial config is visibly partial. SPKey is a secret:
// mask it before printing.
//
// Only the SamlConfig fields this package's Rancher notes document are here;
// switches such as enabled and accessMode are left to the caller that
// enables the provider.
type KeycloakSAMLConfig struct {
	DisplayNameField   string `json:"displayNameField"`
	UserNameField      string `json:"userNameField"`
	UIDField           string `json:"uidField"`
	GroupsField        string `json:"groupsField"`
	RancherAPIHost     string `json:"rancherApiHost"`
	EntityID           string `json:"entityID"`
	IDPMetadataContent string `json:"idpMetadataContent"`
	SPCert             string `json:"spCert,omitempty"`
	SPKey              string `json:"spKey,omitempty"`
}

// Fields names the SAML attributes Rancher reads for each user property.
// Rancher matches each name against an attribute's FriendlyName, falling
// back to its Name only when the attribute has no friendly name.
type Fields struct {
	DisplayName string // displayNameField, e.g. "givenName"
	UserName    string // userNameField, e.g. "email"
	UID         string // uidField, e.g. "email"; logins fail without it
	Groups      string // groupsField, e.g. "member"
}

// FieldsOf reads the rancher: section's fields of sso.yaml.
func FieldsOf(f spec.RancherFields) Fields {
	return Fields{DisplayName: f.DisplayName, UserName: f.UserName, UID: f.UID, Groups: f.Groups}
}

// ServiceProvider holds the URLs Rancher uses as a SAML service provider,
// all derived from the Rancher URL.
type ServiceProvider struct {
	// RancherURL is the Rancher URL without a trailing slash; Rancher's
	// rancherApiHost.
	RancherURL string
	// EntityID is Rancher's SP entity ID (its metadata URL); the Keycloak
	// SAML client's client ID must equal it.
	EntityID string
	// ACSURL is where Keycloak posts the SAML response; a redirect URI of
	// the Keycloak client must equal it.
	ACSURL string
	// SLOURL is Rancher's single logout endpoint.
	SLOURL string
}

// ServiceProviderFor derives Rancher's SP URLs from the Rancher URL
// (e.g. https://rancher.example.com). The URL must be absolute http(s)
// without query or fragment; a trailing slash is dropped. A bad URL is an
// *InputError.
func ServiceProviderFor(rancherURL string) (ServiceProvider, error) {
	u, err := url.Parse(strings.TrimSpace(rancherURL))
	if err != nil {
		return ServiceProvider{}, &InputError{Input: "Rancher URL", Reason: "does not parse", Err: err}
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ServiceProvider{}, &InputError{Input: "Rancher URL", Reason: fmt.Sprintf("%q is not an absolute http(s) URL such as https://rancher.example.com", rancherURL)}
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return ServiceProvider{}, &InputError{Input: "Rancher URL", Reason: fmt.Sprintf("%q must not carry user info, a query or a fragment", rancherURL)}
	}
	base := strings.TrimRight(u.String(), "/")
	return ServiceProvider{
		RancherURL: base,
		EntityID:   base + metadataPath,
		ACSURL:     base + acsPath,
		SLOURL:     base + sloPath,
	}, nil
}

// ConfigInput is what BuildConfig needs.
type ConfigInput struct {
	// RancherURL is Rancher's external URL, e.g. https://rancher.example.com.
	RancherURL string
	Fields     Fields
	// Metadata is the IdP metadata as Rancher should receive it, usually
	// Result.Metadata from Convert. BuildConfig does not check it; Check does.
	Metadata []byte
	// SPCertPEM and SPKeyPEM are Rancher's SP certificate and RSA private
	// key in PEM. Rancher requires both.
	SPCertPEM []byte
	SPKeyPEM  []byte
	// Client describes the Keycloak SAML client that faces Rancher; nil
	// skips the client checks.
	Client *SAMLClient
}

// BuildConfig assembles Rancher's Keycloak SAML auth config and checks it:
// required fields, the SP key pair (with Rancher's own error strings), and,
// when in.Client is set, the Keycloak client against Rancher's needs (client
// ID, redirect URI, attribute names, signature settings). The config is
// returned even when findings report errors, so that it can be shown. The
// error is non-nil only when the Rancher URL is unusable (*InputError).
func BuildConfig(in ConfigInput) (*KeycloakSAMLConfig, []Finding, error) {
	sp, err := ServiceProviderFor(in.RancherURL)
	if err != nil {
		return nil, nil, err
	}
	cfg := &KeycloakSAMLConfig{
		DisplayNameField:   in.Fields.DisplayName,
		UserNameField:      in.Fields.UserName,
		UIDField:           in.Fields.UID,
		GroupsField:        in.Fields.Groups,
		RancherAPIHost:     sp.RancherURL,
		EntityID:           sp.EntityID,
		IDPMetadataContent: string(in.Metadata),
		SPCert:             string(in.SPCertPEM),
		SPKey:              string(in.SPKeyPEM),
	}
	var fs []Finding
	if strings.TrimSpace(cfg.IDPMetadataContent) == "" {
		fs = append(fs, Finding{ID: FindingMetadataMissing, Severity: SeverityError,
			Message: "No IdP metadata is given; Rancher refuses the config (\"SAML: Cannot initialize saml SP properly, missing IDP URL/metadata in the config\").",
			Fix:     "Fetch the realm descriptor (https://KEYCLOAK/realms/REALM/protocol/saml/descriptor), convert it with `ssoctl rancher convert` and pass the result."})
	}
	for _, f := range in.Fields.named() {
		if strings.TrimSpace(f.value) == "" {
			fs = append(fs, Finding{ID: FindingFieldMissing, Severity: SeverityError,
				Message: fmt.Sprintf("%s is empty; Rancher requires it.", f.json),
				Fix:     fmt.Sprintf("Set rancher.fields.%s in sso.yaml to the SAML attribute (friendly) name, e.g. %q.", f.yaml, f.example)})
		}
	}
	spCert, _, keyFindings := checkSPKeyPair(in.SPCertPEM, in.SPKeyPEM)
	fs = append(fs, keyFindings...)
	if in.Client != nil {
		fs = append(fs, in.Client.check(sp, in.Fields, spCert)...)
	}
	return cfg, fs, nil
}

// namedField is one of the four attribute fields with its names in Rancher's
// JSON and in sso.yaml.
type namedField struct {
	value, json, yaml, example string
	// mapper is an sso.yaml mapper that sends a fitting attribute.
	mapper   string
	severity Severity
	effect   string // what goes wrong when Keycloak does not send it
}

func (f Fields) named() []namedField {
	return []namedField{
		{f.DisplayName, "displayNameField", "display_name", "givenName",
			"saml_property: {property: firstName, attribute: %s}", SeverityWarning, "users get no display name in Rancher"},
		{f.UserName, "userNameField", "user_name", "email",
			"saml_property: {property: email, attribute: %s}", SeverityWarning, "users get no user name in Rancher"},
		{f.UID, "uidField", "uid", "email",
			"saml_property: {property: email, attribute: %s}", SeverityError,
			"every login fails with \"SAML: Unique ID field is not provided in SAML Response\""},
		{f.Groups, "groupsField", "groups", "member",
			"saml_groups: {attribute: %s, full_path: false}", SeverityWarning, "no group memberships reach Rancher, so group-based permissions never apply"},
	}
}

// SPKeyPairFindings checks Rancher's SP key and certificate on their own,
// before anything else is read, as BuildConfig will.
func SPKeyPairFindings(certPEM, keyPEM []byte) []Finding {
	_, _, fs := checkSPKeyPair(certPEM, keyPEM)
	return fs
}

// SPKeyPair reads Rancher's SP key and certificate as Rancher does. The key
// and certificate are nil when the findings say why (an error finding).
func SPKeyPair(certPEM, keyPEM []byte) (*rsa.PrivateKey, *x509.Certificate, []Finding) {
	cert, key, fs := checkSPKeyPair(certPEM, keyPEM)
	if HasErrors(fs) {
		return nil, nil, fs
	}
	return key, cert, fs
}

// checkSPKeyPair reads the SP key and certificate the way Rancher does and
// checks that they belong together. It returns the parsed certificate and
// key when they parse.
func checkSPKeyPair(certPEM, keyPEM []byte) (*x509.Certificate, *rsa.PrivateKey, []Finding) {
	const genFix = "Generate an RSA key pair for Rancher: openssl req -x509 -newkey rsa:2048 -nodes -keyout sp.key " +
		"-out sp.crt -days 3650 -subj \"/CN=rancher.example.com\", and give both PEM files."
	var fs []Finding
	var key *rsa.PrivateKey
	if len(strings.TrimSpace(string(keyPEM))) == 0 {
		fs = append(fs, Finding{ID: FindingSPKeyMissing, Severity: SeverityError,
			Message: "No SP private key is given; Rancher refuses the config (\"SAML: Cannot initialize saml SP properly, missing SpKey in the config\").",
			Fix:     genFix})
	} else {
		var f *Finding
		key, f = parseSPKey(keyPEM)
		if f != nil {
			fs = append(fs, *f)
		}
	}
	var cert *x509.Certificate
	if len(strings.TrimSpace(string(certPEM))) == 0 {
		fs = append(fs, Finding{ID: FindingSPCertMissing, Severity: SeverityError,
			Message: "No SP certificate is given; Rancher refuses the config (\"SAML: Cannot initialize saml SP properly, missing SpCert in the config\").",
			Fix:     genFix})
	} else {
		block, _ := pem.Decode(certPEM)
		if block == nil {
			fs = append(fs, Finding{ID: FindingSPCertInvalid, Severity: SeverityError,
				Message: "The SP certificate is not PEM; Rancher reports \"SAML: failed to parse PEM block containing the private key\" (its message says key, but it is about the certificate).",
				Fix:     "Give the certificate as PEM, starting with -----BEGIN CERTIFICATE-----."})
		} else if c, err := x509.ParseCertificate(block.Bytes); err != nil {
			fs = append(fs, Finding{ID: FindingSPCertInvalid, Severity: SeverityError,
				Message: fmt.Sprintf("The SP certificate (PEM block %q) does not parse: %s.", block.Type, err),
				Fix:     "Give the X.509 certificate of the SP key as PEM (-----BEGIN CERTIFICATE-----), not the key or a CSR."})
		} else {
			cert = c
		}
	}
	if key != nil && cert != nil {
		if pub, ok := cert.PublicKey.(*rsa.PublicKey); !ok || !key.PublicKey.Equal(pub) {
			fs = append(fs, Finding{ID: FindingSPKeyMismatch, Severity: SeverityError,
				Message: fmt.Sprintf("The SP certificate (subject %q) is not for the SP key: its public key differs, so Keycloak cannot verify what Rancher signs and Rancher cannot decrypt what Keycloak encrypts for it.", cert.Subject.String()),
				Fix:     "Give the certificate issued for this key (compare `openssl x509 -noout -pubkey -in sp.crt` with `openssl pkey -pubout -in sp.key`), or generate a new pair: " + genFix})
		}
	}
	return cert, key, fs
}

// parseSPKey mirrors Rancher: the first PEM block must be an unencrypted
// "RSA PRIVATE KEY" (PKCS#1) or "PRIVATE KEY" (PKCS#8) holding an RSA key.
func parseSPKey(keyPEM []byte) (*rsa.PrivateKey, *Finding) {
	const rsaFix = "Give an unencrypted RSA key as PEM \"RSA PRIVATE KEY\" (PKCS#1) or \"PRIVATE KEY\" (PKCS#8), e.g. from " +
		"openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sp.key (and a certificate for it)."
	bad := func(msg, fix string) (*rsa.PrivateKey, *Finding) {
		return nil, &Finding{ID: FindingSPKeyInvalid, Severity: SeverityError, Message: msg, Fix: fix}
	}
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return bad("The SP key is not PEM; Rancher reports \"SAML: no key found\".", rsaFix)
	}
	if strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED") {
		return bad("The SP key is encrypted; Rancher reports \"SAML: cannot decode encrypted private keys\".",
			"Decrypt it: openssl pkey -in sp.key -out sp-plain.key (and keep the plain key as secret as the password was).")
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return bad(fmt.Sprintf("The SP key (PKCS#1) does not parse: %s.", err), rsaFix)
		}
		return key, nil
	case "PRIVATE KEY":
		parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return bad(fmt.Sprintf("The SP key (PKCS#8) does not parse: %s.", err), rsaFix)
		}
		key, ok := parsed.(*rsa.PrivateKey)
		if !ok {
			return bad(fmt.Sprintf("The SP key (PKCS#8) holds an %s key; Rancher signs with RSA keys only.", keyKind(parsed)), rsaFix)
		}
		return key, nil
	case "ENCRYPTED PRIVATE KEY":
		return bad("The SP key is encrypted (PKCS#8); Rancher reports: SAML: unsupported key type \"ENCRYPTED PRIVATE KEY\".",
			"Decrypt it: openssl pkey -in sp.key -out sp-plain.key.")
	default:
		return bad(fmt.Sprintf("The SP key is a PEM %q block; Rancher accepts RSA keys only and reports: SAML: unsupported key type %q.", block.Type, block.Type), rsaFix)
	}
}

func keyKind(k any) string {
	switch k.(type) {
	case *ecdsa.PrivateKey:
		return "ECDSA"
	case ed25519.PrivateKey:
		return "Ed25519"
	case *ecdh.PrivateKey:
		return "ECDH"
	}
	return fmt.Sprintf("%T", k)
}
