package login

import (
	"encoding/xml"
	"fmt"
	"slices"
	"strings"

	"github.com/crewjam/saml"

	"github.com/ssoctl/ssoctl/internal/browser"
	"github.com/ssoctl/ssoctl/rancher"
)

// ResponseShape is what the response holds, read before the library
// validates it, so that a rejection can be explained.
type ResponseShape struct {
	Status          string `json:"status"`
	StatusMessage   string `json:"status_message,omitempty"`
	ResponseSigned  bool   `json:"response_signed"`
	AssertionSigned bool   `json:"assertion_signed"`
	Encrypted       bool   `json:"encrypted"`
	Destination     string `json:"destination"`
}

type xmlSignature struct{}

type xmlResponse struct {
	Destination string        `xml:"Destination,attr"`
	Signature   *xmlSignature `xml:"http://www.w3.org/2000/09/xmldsig# Signature"`
	Status      struct {
		Code struct {
			Value string `xml:"Value,attr"`
			Sub   *struct {
				Value string `xml:"Value,attr"`
			} `xml:"urn:oasis:names:tc:SAML:2.0:protocol StatusCode"`
		} `xml:"urn:oasis:names:tc:SAML:2.0:protocol StatusCode"`
		Message string `xml:"urn:oasis:names:tc:SAML:2.0:protocol StatusMessage"`
	} `xml:"urn:oasis:names:tc:SAML:2.0:protocol Status"`
	Assertion *struct {
		Signature *xmlSignature `xml:"http://www.w3.org/2000/09/xmldsig# Signature"`
	} `xml:"urn:oasis:names:tc:SAML:2.0:assertion Assertion"`
	Encrypted *struct{} `xml:"urn:oasis:names:tc:SAML:2.0:assertion EncryptedAssertion"`
}

// shapeOf reads the response's outline; a response that does not parse has
// an empty shape (the library then says why).
func shapeOf(raw []byte) ResponseShape {
	var r xmlResponse
	if xml.Unmarshal(raw, &r) != nil {
		return ResponseShape{}
	}
	status := r.Status.Code.Value
	if r.Status.Code.Sub != nil && r.Status.Code.Sub.Value != "" {
		status += " / " + r.Status.Code.Sub.Value
	}
	return ResponseShape{Status: status, StatusMessage: r.Status.Message, ResponseSigned: r.Signature != nil,
		AssertionSigned: r.Assertion != nil && r.Assertion.Signature != nil, Encrypted: r.Encrypted != nil, Destination: r.Destination}
}

type diagnosis struct {
	cfg    Config
	s      *serviceProvider
	client string
}

// refusal explains a page that is neither the login form nor the POST
// binding form: Keycloak's error page.
func (d *diagnosis) refusal(p *browser.Page) (string, string) {
	text := p.Text()
	quote := text
	if len(quote) > 300 {
		quote = quote[:300] + "…"
	}
	at := *p.URL
	at.RawQuery = ""
	said := fmt.Sprintf("Keycloak answered %d at %s instead of a SAML response for Rancher: %q.", p.Status, at.Redacted(), quote)
	switch {
	case strings.Contains(text, "Client not found") || strings.Contains(text, "Unknown login requester"):
		return said + fmt.Sprintf(" Keycloak has no SAML client whose client ID is Rancher's entity ID %s.", d.s.entityID()),
			fmt.Sprintf("Set client_id: %s for the SAML client in sso.yaml (and rancher.saml_client to the same value), then apply.", d.s.entityID())
	case strings.Contains(text, "Invalid redirect uri") || strings.Contains(text, "Invalid Request") && strings.Contains(strings.ToLower(text), "redirect"):
		return said + " No redirect URI of the client allows Rancher's ACS URL " + d.s.urls.ACSURL + ".",
			fmt.Sprintf("Add %s to redirect_uris of client %s, then apply.", d.s.urls.ACSURL, d.client)
	case strings.Contains(text, "Invalid requester") || strings.Contains(text, "Invalid signature"):
		if d.s.throwaway {
			return said + " The client requires signed requests (client_signature: true) and verifies them with the certificate it holds; this login signed with a throwaway key.",
				"Pass --sp-cert and --sp-key with Rancher's pair, whose certificate is the client's saml.signing.certificate, or set client_signature: false for client " + d.client + " (Rancher's documented setting)."
		}
		return said + " Keycloak could not verify the request's signature with the certificate the client holds: it is not the certificate of --sp-key.",
			"Set the client's saml.signing.certificate attribute to Rancher's SP certificate (without the PEM armour), or set client_signature: false for client " + d.client + "."
	case strings.Contains(text, "public key") || strings.Contains(text, "encrypt"):
		return said + " The client encrypts assertions (encrypt_assertions: true) but holds no certificate of Rancher's to encrypt them for.",
			"Set encrypt_assertions: false for client " + d.client + " (Rancher's documented setting), or put Rancher's SP certificate in its saml.encryption.certificate attribute."
	}
	return said, "Read Keycloak's server log for the event of this login (type LOGIN_ERROR) to see the cause."
}

// invalid explains a response the library rejects; msg is its own reason.
func (d *diagnosis) invalid(msg string, shape ResponseShape) (id, message, fix string) {
	lib := " (rancher/saml: " + msg + ")"
	switch {
	case shape.Status != "" && shape.Status != saml.StatusSuccess:
		return FindingStatus, fmt.Sprintf("Keycloak answered with status %s%s.", shape.Status, suffix(": ", shape.StatusMessage)) + lib,
			"Read Keycloak's server log for this login's LOGIN_ERROR event."
	case shape.Encrypted && strings.Contains(msg, "algorithm is not implemented"):
		return FindingEncrypted, "Keycloak encrypts the assertion with an algorithm Rancher's SAML library does not implement, so Rancher cannot decrypt it with any key (Keycloak 26 defaults to AES-256-GCM with RSA-OAEP 1.1)." + lib,
			fmt.Sprintf("Set encrypt_assertions: false for client %s (Rancher's documented setting), or add to its attributes: %s.", d.client, rancher.RancherEncryptionAttributes)
	case shape.Encrypted && strings.Contains(msg, "decrypt"):
		if d.s.throwaway {
			return FindingEncrypted, "Keycloak encrypts the assertion (encrypt_assertions: true) for the certificate in the client's saml.encryption.certificate, and this login has no SP key to decrypt it: Rancher decrypts with its SP key." + lib,
				"Pass --sp-cert and --sp-key with Rancher's SP pair, or set encrypt_assertions: false for client " + d.client + " (Rancher's documented setting)."
		}
		return FindingEncrypted, "Keycloak encrypted the assertion for a certificate other than --sp-cert, so Rancher's SP key cannot decrypt it." + lib,
			"Put Rancher's SP certificate in the saml.encryption.certificate attribute of client " + d.client + ", or set encrypt_assertions: false."
	case !shape.ResponseSigned && !shape.AssertionSigned && !shape.Encrypted:
		return FindingUnsigned, "The assertion is not signed, and neither is the response, but Rancher requires one of them signed." + lib,
			"Set sign_assertions: true for client " + d.client + " in sso.yaml (Rancher's documented setting, with sign_documents: true), then apply."
	case strings.Contains(msg, "cannot find any signing certificate"):
		return FindingInvalid, "The IdP metadata Rancher holds has no signing certificate, so no signature can be checked." + lib,
			"Give Rancher the converted realm descriptor (ssoctl rancher convert --realm REALM); a copy without its xmlns:ds declaration loses the certificate."
	case strings.Contains(msg, "Signature could not be verified") || strings.Contains(msg, "x509") || strings.Contains(msg, "signature"):
		return FindingInvalid, "The response's signature does not verify with the certificate in the IdP metadata Rancher holds: the realm's key may have changed since the metadata was copied." + lib,
			"Give Rancher the realm's current metadata (ssoctl rancher config -f sso.yaml prints idpMetadataContent)."
	case strings.Contains(msg, "AudienceRestriction"):
		return FindingInvalid, fmt.Sprintf("The assertion is for another audience than Rancher's entity ID %s.", d.s.entityID()) + lib,
			fmt.Sprintf("Set client_id: %s for the SAML client (Keycloak puts the client ID in the audience).", d.s.entityID())
	case strings.Contains(msg, "Destination") || strings.Contains(msg, "Recipient"):
		return FindingDestination, "The response is addressed to another URL than Rancher's ACS URL " + d.s.urls.ACSURL + "." + lib,
			fmt.Sprintf("Set redirect_uris: [%s] for client %s.", d.s.urls.ACSURL, d.client)
	case strings.Contains(msg, "expired") || strings.Contains(msg, "not yet valid"):
		return FindingInvalid, "The response's time conditions do not hold on this host: the clocks of Keycloak and Rancher differ by more than the library's 180 s skew, or the assertion lifespan is too short." + lib,
			"Synchronise the clocks (NTP) of Keycloak's and Rancher's hosts; check the client's saml.assertion.lifespan."
	case strings.Contains(msg, "Issuer") || strings.Contains(msg, "issuer"):
		return FindingInvalid, "The response's issuer is not the entityID of the IdP metadata Rancher holds (metadata of another realm or another Keycloak URL?)." + lib,
			"Give Rancher this realm's metadata: ssoctl rancher convert --realm REALM."
	}
	return FindingInvalid, "Rancher's SAML library rejects the response" + lib + ".", ""
}

func suffix(sep, s string) string {
	if s == "" {
		return ""
	}
	return sep + s
}

// field is one of Rancher's four attribute fields.
type field struct {
	value, json, yaml string
	mapper            string // the sso.yaml mapper line that sends it, %s = the name
	required          bool   // a miss is an error
	effect            string
}

func fieldsOf(f rancher.Fields) []field {
	return []field{
		{f.UID, "uidField", "uid", "- saml_property: {property: email, attribute: %s}", true,
			"Rancher refuses the login: \"SAML: Unique ID field is not provided in SAML Response\""},
		{f.DisplayName, "displayNameField", "display_name", "- saml_property: {property: firstName, attribute: %s}", false,
			"the Rancher user gets no display name"},
		{f.UserName, "userNameField", "user_name", "- saml_property: {property: email, attribute: %s}", false,
			"the Rancher user gets no login name"},
		{f.Groups, "groupsField", "groups", "- saml_groups: {attribute: %s, full_path: false}", true,
			"no group principal reaches Rancher, so group-based permissions never apply"},
	}
}

// principal collects the attributes as Rancher does (keyed by friendly
// name, else name) and builds the user and group principals.
func (d *diagnosis) principal(res *Result, a *saml.Assertion) {
	type named struct{ name, friendly string }
	var all []named
	for _, st := range a.AttributeStatements {
		for _, attr := range st.Attributes {
			key := attr.FriendlyName
			if key == "" {
				key = attr.Name
			}
			all = append(all, named{attr.Name, attr.FriendlyName})
			for _, v := range attr.Values {
				res.Attributes[key] = append(res.Attributes[key], v.Value)
			}
			if _, ok := res.Attributes[key]; !ok {
				res.Attributes[key] = []string{}
			}
		}
	}
	keys := make([]string, 0, len(res.Attributes))
	for k := range res.Attributes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	carries := "none"
	if len(keys) > 0 {
		carries = strings.Join(keys, ", ")
	}
	for _, f := range fieldsOf(d.cfg.Fields) {
		if f.value == "" {
			continue
		}
		if vals, ok := res.Attributes[f.value]; ok && len(vals) > 0 {
			continue
		}
		sev := rancher.SeverityWarning
		if f.required {
			sev = rancher.SeverityError
		}
		msg := fmt.Sprintf("%s `%s` matches no attribute of the assertion (it carries: %s): %s.", f.json, f.value, carries, f.effect)
		fix := ""
		switch i := slices.IndexFunc(all, func(n named) bool { return n.name == f.value && n.friendly != "" }); {
		case i >= 0:
			msg = fmt.Sprintf("%s `%s` is the attribute's name; its friendly name is `%s`, and Rancher matches the friendly name when there is one: %s.", f.json, f.value, all[i].friendly, f.effect)
			fix = fmt.Sprintf("Set rancher.fields.%s: %s in sso.yaml.", f.yaml, all[i].friendly)
		case d.mapperNamed(f.value) != nil:
			m := d.mapperNamed(f.value)
			msg = fmt.Sprintf("%s `%s` is the mapper's name; its friendly name is `%s`: %s.", f.json, f.value, m.RancherName(), f.effect)
			if m.FriendlyName == "" {
				msg = fmt.Sprintf("%s `%s` is the mapper's name; the attribute it sends is `%s`: %s.", f.json, f.value, m.RancherName(), f.effect)
			}
			fix = fmt.Sprintf("Set rancher.fields.%s: %s in sso.yaml.", f.yaml, m.RancherName())
		case slices.ContainsFunc(keys, func(k string) bool { return strings.EqualFold(k, f.value) }):
			k := keys[slices.IndexFunc(keys, func(k string) bool { return strings.EqualFold(k, f.value) })]
			msg = fmt.Sprintf("%s `%s` differs only in case from the attribute `%s`; Rancher matches names exactly: %s.", f.json, f.value, k, f.effect)
			fix = fmt.Sprintf("Set rancher.fields.%s: %s in sso.yaml.", f.yaml, k)
		case d.mapperSending(f.value):
			// The client has the mapper, so the user has no value for it.
			msg = fmt.Sprintf("%s `%s`: the file's client has a mapper for the attribute, but Keycloak sent none for %s (the user has no value, or no group): %s.", f.json, f.value, res.User, f.effect)
			fix = "Give the user a value for the mapped property (or a group membership for the groups field); if the user has one, the live client lacks the mapper: run ssoctl plan."
			sev = rancher.SeverityWarning
			if f.json == "uidField" {
				sev = rancher.SeverityError
			}
		default:
			fix = fmt.Sprintf("Add `%s` to the mappers of client %s in sso.yaml, then apply", fmt.Sprintf(f.mapper, f.value), d.client)
			if len(keys) > 0 {
				fix += fmt.Sprintf("; or set rancher.fields.%s to one of: %s", f.yaml, carries)
			}
			fix += "."
		}
		res.Findings = append(res.Findings, rancher.Finding{ID: FindingAttribute, Severity: sev, Message: msg, Fix: fix})
	}
	uid := res.Attributes[d.cfg.Fields.UID]
	if d.cfg.Fields.UID == "" || len(uid) == 0 {
		return
	}
	p := &Principal{ID: UserPrincipalPrefix + uid[0], UID: uid[0], Groups: []string{}}
	if v := res.Attributes[d.cfg.Fields.DisplayName]; len(v) > 0 {
		p.DisplayName = v[0]
	}
	if v := res.Attributes[d.cfg.Fields.UserName]; len(v) > 0 {
		p.Username = v[0]
	}
	for _, g := range res.Attributes[d.cfg.Fields.Groups] {
		p.Groups = append(p.Groups, GroupPrincipalPrefix+g)
	}
	res.Principal = p
}

func (d *diagnosis) mapperNamed(name string) *rancher.SAMLAttribute {
	if d.cfg.Client == nil {
		return nil
	}
	for i, m := range d.cfg.Client.Mappers {
		if m.MapperName == name && m.RancherName() != name {
			return &d.cfg.Client.Mappers[i]
		}
	}
	return nil
}

func (d *diagnosis) mapperSending(name string) bool {
	return d.cfg.Client != nil && slices.ContainsFunc(d.cfg.Client.Mappers, func(m rancher.SAMLAttribute) bool { return m.RancherName() == name })
}
