package rancher

import (
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
)

// Keycloak SAML client attributes that decide whether Rancher can log in.
// Keycloak compares each with "true" exactly.
const (
	attrServerSignature    = "saml.server.signature"    // "Sign documents"
	attrAssertionSignature = "saml.assertion.signature" // "Sign assertions"
	attrClientSignature    = "saml.client.signature"    // "Client signature required"
	attrForcePOSTBinding   = "saml.force.post.binding"  // "Force POST binding"
	attrEncrypt            = "saml.encrypt"             // "Encrypt assertions"
	attrSigningCert        = "saml.signing.certificate"
	attrEncryptionCert     = "saml.encryption.certificate"
)

// keycloakCreateDefaults are the values Keycloak stores when a SAML client is
// created over REST without the attribute; absent attributes are read as
// these. Attributes not listed default to off.
var keycloakCreateDefaults = map[string]bool{
	attrServerSignature:  true,
	attrForcePOSTBinding: true,
	attrClientSignature:  true,
}

// SAMLClient describes the Keycloak SAML client that will face Rancher, as
// the caller reads it from sso.yaml (or from Keycloak).
type SAMLClient struct {
	// ClientID is the Keycloak client ID; it must equal Rancher's entity ID.
	ClientID string
	// RedirectURIs are the client's valid redirect URIs; one must equal
	// Rancher's ACS URL.
	RedirectURIs []string
	// Attributes are Keycloak client attributes such as
	// "saml.server.signature" or "saml.force.post.binding". An absent
	// attribute is read as the value Keycloak stores when it creates a
	// client without it: server signature, force POST binding and client
	// signature on; everything else off.
	Attributes map[string]string
	// Mappers are the client's SAML attribute mappers.
	Mappers []SAMLAttribute
}

// SAMLAttribute is one SAML attribute a Keycloak mapper puts into the
// assertion: the mapper's name, and the attribute's name and friendly name.
type SAMLAttribute struct {
	MapperName    string
	AttributeName string
	// FriendlyName, when set, is the name Rancher matches; Rancher falls
	// back to AttributeName only when FriendlyName is empty.
	FriendlyName string
}

// RancherName is the name Rancher matches this attribute by: the friendly
// name, or the attribute name when there is none.
func (a SAMLAttribute) RancherName() string {
	if a.FriendlyName != "" {
		return a.FriendlyName
	}
	return a.AttributeName
}

// flag reads a boolean client attribute the way Keycloak does.
func (c *SAMLClient) flag(name string) bool {
	v, ok := c.Attributes[name]
	if !ok {
		return keycloakCreateDefaults[name]
	}
	return v == "true"
}

// check compares the client with what Rancher needs. spCert is Rancher's
// parsed SP certificate, nil when none is configured or it does not parse.
func (c *SAMLClient) check(sp ServiceProvider, fields Fields, spCert *x509.Certificate) []Finding {
	var fs []Finding
	if c.ClientID != sp.EntityID {
		msg := fmt.Sprintf("The Keycloak client ID %q is not Rancher's entity ID %q. Rancher sends its entity ID as the "+
			"Issuer of the login request and Keycloak looks the client up by it, so the login fails with an unknown client.", c.ClientID, sp.EntityID)
		if strings.TrimRight(c.ClientID, "/") == strings.TrimRight(sp.EntityID, "/") {
			msg += " They differ only by a trailing slash."
		}
		fs = append(fs, Finding{ID: FindingClientID, Severity: SeverityError, Message: msg,
			Fix: fmt.Sprintf("Set client_id: %s for the SAML client in sso.yaml (and rancher.saml_client to the same value).", sp.EntityID)})
	}
	fs = append(fs, c.checkRedirectURIs(sp)...)
	fs = append(fs, c.checkFields(fields)...)
	fs = append(fs, c.checkSignatures(spCert)...)
	return fs
}

func (c *SAMLClient) checkRedirectURIs(sp ServiceProvider) []Finding {
	var wildcard string
	for _, u := range c.RedirectURIs {
		if u == sp.ACSURL {
			return nil
		}
		if prefix, ok := strings.CutSuffix(u, "*"); ok && wildcard == "" && strings.HasPrefix(sp.ACSURL, prefix) {
			wildcard = u
		}
	}
	fix := fmt.Sprintf("Add %s to redirect_uris of the SAML client %q in sso.yaml.", sp.ACSURL, c.ClientID)
	if wildcard != "" {
		return []Finding{{ID: FindingRedirectURI, Severity: SeverityWarning,
			Message: fmt.Sprintf("Only the wildcard redirect URI %q covers Rancher's ACS URL %s; Keycloak accepts it, but it also lets the client send responses anywhere below it.", wildcard, sp.ACSURL),
			Fix:     fix + " Then drop the wildcard."}}
	}
	found := "none"
	if len(c.RedirectURIs) > 0 {
		found = strings.Join(c.RedirectURIs, ", ")
	}
	return []Finding{{ID: FindingRedirectURI, Severity: SeverityError,
		Message: fmt.Sprintf("No redirect URI of the Keycloak client equals Rancher's ACS URL %s (found: %s); Keycloak refuses to send the SAML response there.", sp.ACSURL, found),
		Fix:     fix}}
}

// checkFields requires, for each non-empty field, a mapper whose Rancher
// name (friendly name, else attribute name) equals it exactly.
func (c *SAMLClient) checkFields(fields Fields) []Finding {
	var fs []Finding
	for _, f := range fields.named() {
		if f.value == "" {
			continue
		}
		matched := false
		for _, m := range c.Mappers {
			if m.RancherName() == f.value {
				matched = true
				break
			}
		}
		if matched {
			continue
		}
		msg := fmt.Sprintf("%s is %q, but no mapper of the Keycloak client %q sends an attribute Rancher finds under that name (Rancher matches the friendly name, or the attribute name when there is no friendly name); %s.",
			f.json, f.value, c.ClientID, f.effect)
		fix := fmt.Sprintf("Add a mapper to the SAML client %q in sso.yaml: - %s", c.ClientID, fmt.Sprintf(f.mapper, f.value))
		for _, m := range c.Mappers {
			switch {
			case m.AttributeName == f.value && m.FriendlyName != "":
				msg += fmt.Sprintf(" Mapper %q sends attribute %q but with friendly name %q, which is what Rancher reads.", m.MapperName, m.AttributeName, m.FriendlyName)
				fix = fmt.Sprintf("Set rancher.fields.%s to %q in sso.yaml, or remove the friendly name from mapper %q.", f.yaml, m.FriendlyName, m.MapperName)
			case strings.EqualFold(m.RancherName(), f.value):
				msg += fmt.Sprintf(" Mapper %q sends %q, which differs only in case; Rancher compares exactly.", m.MapperName, m.RancherName())
				fix = fmt.Sprintf("Set rancher.fields.%s to %q in sso.yaml, or rename the attribute of mapper %q.", f.yaml, m.RancherName(), m.MapperName)
			default:
				continue
			}
			break
		}
		fs = append(fs, Finding{ID: FindingFieldMapper, Severity: f.severity, Message: msg, Fix: fix})
	}
	return fs
}

// checkSignatures applies Rancher's documented client settings: documents
// and/or assertions signed, client signature and assertion encryption only
// with an SP certificate Keycloak knows, Force POST binding off.
func (c *SAMLClient) checkSignatures(spCert *x509.Certificate) []Finding {
	var fs []Finding
	setting := func(attr, value string) string {
		return fmt.Sprintf("set the attribute %s: %q on the SAML client %q in sso.yaml", attr, value, c.ClientID)
	}
	if !c.flag(attrServerSignature) && !c.flag(attrAssertionSignature) {
		fs = append(fs, Finding{ID: FindingUnsignedResponse, Severity: SeverityError,
			Message: "The Keycloak client signs neither documents (saml.server.signature) nor assertions (saml.assertion.signature); Rancher requires the Response or the Assertion to be signed and rejects the login.",
			Fix:     "Turn on \"Sign documents\" and/or \"Sign assertions\": " + setting(attrServerSignature, "true") + " (and/or " + attrAssertionSignature + ")."})
	}
	if c.flag(attrClientSignature) {
		absent := ""
		if _, ok := c.Attributes[attrClientSignature]; !ok {
			absent = " (absent, and Keycloak turns it on when it creates a SAML client)"
		}
		switch {
		case spCert == nil:
			fs = append(fs, Finding{ID: FindingClientSignature, Severity: SeverityError,
				Message: "\"Client signature required\" (saml.client.signature) is on" + absent + " but Rancher has no SP certificate to sign with; Keycloak rejects the login request with \"SigAlg was null\".",
				Fix:     "Turn it off: " + setting(attrClientSignature, "false") + "."})
		default:
			if f := c.checkCertAttribute(attrSigningCert, spCert, "verify Rancher's signed requests (Rancher v2.10 and later sign them)"); f != nil {
				fs = append(fs, *f)
			}
		}
	}
	if c.flag(attrForcePOSTBinding) {
		absent := ""
		if _, ok := c.Attributes[attrForcePOSTBinding]; !ok {
			absent = " (absent, and Keycloak turns it on when it creates a SAML client)"
		}
		fs = append(fs, Finding{ID: FindingForcePOST, Severity: SeverityError,
			Message: "\"Force POST binding\" (saml.force.post.binding) is on" + absent + "; Rancher logs in with HTTP-Redirect and its docs require this setting off.",
			Fix:     "Turn it off: " + setting(attrForcePOSTBinding, "false") + "."})
	}
	if c.flag(attrEncrypt) {
		if spCert == nil {
			fs = append(fs, Finding{ID: FindingEncryptAssertion, Severity: SeverityError,
				Message: "\"Encrypt assertions\" (saml.encrypt) is on but Rancher has no SP certificate; Keycloak fails with \"Client does not have a public key\".",
				Fix:     "Turn it off: " + setting(attrEncrypt, "false") + "."})
		} else if f := c.checkCertAttribute(attrEncryptionCert, spCert, "encrypt assertions for Rancher; without it Keycloak fails with \"Client does not have a public key\""); f != nil {
			f.ID = FindingEncryptAssertion
			fs = append(fs, *f)
		}
		fs = append(fs, c.checkEncryptionAlgorithms()...)
	}
	return fs
}

// Keycloak client attributes that choose how assertions are encrypted, and
// the values Keycloak 26 uses when they are absent (measured: AES-256-GCM,
// RSA-OAEP 1.1, SHA-256).
const (
	attrEncryptionAlgorithm = "saml.encryption.algorithm"
	attrEncryptionKeyAlg    = "saml.encryption.keyAlgorithm"
	attrEncryptionDigest    = "saml.encryption.digestMethod"
)

// rancherDecrypts lists, per attribute, what rancher/saml's xmlenc
// implements (its registered decrypters and digests).
var rancherDecrypts = map[string][]string{
	attrEncryptionAlgorithm: {"http://www.w3.org/2001/04/xmlenc#aes128-cbc", "http://www.w3.org/2001/04/xmlenc#aes192-cbc",
		"http://www.w3.org/2001/04/xmlenc#aes256-cbc", "http://www.w3.org/2001/04/xmlenc#tripledes-cbc", "http://www.w3.org/2009/xmlenc11#aes128-gcm"},
	attrEncryptionKeyAlg: {"http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p", "http://www.w3.org/2001/04/xmlenc#rsa-1_5"},
	attrEncryptionDigest: {"http://www.w3.org/2000/09/xmldsig#sha1", "http://www.w3.org/2000/09/xmldsig#sha256", "http://www.w3.org/2000/09/xmldsig#sha512"},
}

// RancherEncryptionAttributes are client attributes with which Keycloak
// encrypts assertions in a way rancher/saml decrypts (proven on Keycloak
// 26.7.3), as an sso.yaml flow mapping.
const RancherEncryptionAttributes = `{saml.encryption.algorithm: "http://www.w3.org/2001/04/xmlenc#aes256-cbc", ` +
	`saml.encryption.keyAlgorithm: "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p", ` +
	`saml.encryption.digestMethod: "http://www.w3.org/2000/09/xmldsig#sha1"}`

// checkEncryptionAlgorithms requires encryption algorithms Rancher's SAML
// library implements: Keycloak 26's defaults (AES-256-GCM with RSA-OAEP
// 1.1) are not among them, so Rancher cannot decrypt with any key.
func (c *SAMLClient) checkEncryptionAlgorithms() []Finding {
	var bad []string
	for _, attr := range []string{attrEncryptionAlgorithm, attrEncryptionKeyAlg} {
		v := c.Attributes[attr]
		if v == "" {
			bad = append(bad, attr+" (absent: Keycloak 26 uses "+map[string]string{attrEncryptionAlgorithm: "aes256-gcm", attrEncryptionKeyAlg: "xmlenc11#rsa-oaep"}[attr]+")")
		} else if !slices.Contains(rancherDecrypts[attr], v) {
			bad = append(bad, attr+" = "+v)
		}
	}
	if d := c.Attributes[attrEncryptionDigest]; c.Attributes[attrEncryptionKeyAlg] == rancherDecrypts[attrEncryptionKeyAlg][0] &&
		(d == "" || !slices.Contains(rancherDecrypts[attrEncryptionDigest], d)) {
		bad = append(bad, attrEncryptionDigest+" = "+orDefault(d, "(absent: Keycloak 26 uses xmlenc#sha256)"))
	}
	if len(bad) == 0 {
		return nil
	}
	return []Finding{{ID: FindingEncryptAlgorithm, Severity: SeverityError,
		Message: "Keycloak encrypts assertions with algorithms Rancher's SAML library (rancher/saml) does not implement, so Rancher cannot decrypt them with any key: " + strings.Join(bad, "; ") + ".",
		Fix:     fmt.Sprintf("Set encrypt_assertions: false for client %q (Rancher's documented setting), or add to its attributes: %s.", c.ClientID, RancherEncryptionAttributes)}}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// checkCertAttribute requires the client attribute attr to hold Rancher's SP
// certificate, which Keycloak needs to purpose.
func (c *SAMLClient) checkCertAttribute(attr string, spCert *x509.Certificate, purpose string) *Finding {
	want := base64.StdEncoding.EncodeToString(spCert.Raw)
	fix := fmt.Sprintf("Set the attribute %s on the SAML client %q to Rancher's SP certificate (the base64 body of the PEM, without the BEGIN/END lines).", attr, c.ClientID)
	have := stripSpace(c.Attributes[attr])
	switch have {
	case want:
		return nil
	case "":
		msg := fmt.Sprintf("The Keycloak client has no %s; Keycloak needs Rancher's SP certificate there to %s.", attr, purpose)
		if attr == attrSigningCert {
			msg += " (When it creates a client with client signature on and no certificate, Keycloak generates a key pair of its own, which Rancher does not hold.)"
		}
		return &Finding{ID: FindingClientSignature, Severity: SeverityError, Message: msg, Fix: fix}
	}
	return &Finding{ID: FindingClientSignature, Severity: SeverityError,
		Message: fmt.Sprintf("The Keycloak client's %s is not Rancher's SP certificate; Keycloak needs Rancher's certificate there to %s.", attr, purpose),
		Fix:     fix}
}
