package rancher

import (
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"strings"
	"time"
)

// ExpiryWarning is how close to its expiry a signing certificate must be
// for Check to warn about it.
const ExpiryWarning = 30 * 24 * time.Hour

const convertFix = "Convert it with `ssoctl rancher convert` (rancher.Convert): it keeps the EntityDescriptor and copies the " +
	"wrapper's namespace declarations onto it, the edit Rancher's instructions for Keycloak 6-13 describe doing by hand."

const rotateFix = "Rotate the realm's signing key in Keycloak (Realm settings > Keys > Providers: add an rsa-generated " +
	"provider with a higher priority, then disable the old one), fetch the descriptor again and update Rancher's IdP metadata."

// Check decodes metadata exactly as Rancher's Keycloak SAML provider does and
// reports what would make Rancher reject it or make logins fail: a decode
// error (with Rancher's own error text), a missing or unparsable signing
// certificate, no HTTP-Redirect SingleSignOnService. Certificates that have
// expired or expire within ExpiryWarning of now are warnings; a zero now
// skips the expiry checks.
//
// The returned error is non-nil only for input that cannot be metadata at
// all (not well-formed XML, over a limit, a DOCTYPE); it then implements
// BadInput() bool. Everything else is a Finding.
func Check(metadata []byte, now time.Time) ([]Finding, error) {
	doc, err := scanDocument(metadata, decodeRoot)
	if err != nil {
		return nil, err
	}
	if doc.decoded.err != nil {
		return []Finding{decodeFinding(doc, doc.decoded.err)}, nil
	}
	return checkDecoded(doc, doc.decoded.md, now), nil
}

// decodeFinding explains a decode failure: Rancher's text, the likely cause
// read from the document's shape, and the fix.
func decodeFinding(doc *document, err error) Finding {
	msg := fmt.Sprintf("Rancher cannot decode the IdP metadata: %s (Rancher reports \"SAML: cannot initialize saml SP, "+
		"cannot decode IDP Metadata content from the config\" with this error).", err)
	f := Finding{ID: FindingDecode, Severity: SeverityError}
	root := doc.root
	rootName := root.local
	if root.prefix != "" {
		rootName = root.prefix + ":" + root.local
	}
	switch {
	case root.local == "EntitiesDescriptor":
		f.Message = msg + fmt.Sprintf(" The root is an <%s> wrapper, as Keycloak 6-13 serves it; Rancher decodes only a single <EntityDescriptor> root.", rootName)
		f.Fix = convertFix
	case root.local == "EntityDescriptor" && !root.declared && root.prefix == "":
		f.Message = msg + " The root declares no namespace (no xmlns=\"" + nsMetadata + "\"), which is what copying the XML " +
			"from a browser's rendered view produces."
		f.Fix = "Use the raw descriptor (curl -o idp.xml https://KEYCLOAK/realms/REALM/protocol/saml/descriptor), or run " +
			"`ssoctl rancher convert` on this file: it declares the metadata namespace and the prefixes the certificates use."
	case root.local == "EntityDescriptor" && !root.declared:
		f.Message = msg + fmt.Sprintf(" The root uses the prefix %q, which is never declared (xmlns:%s is missing), "+
			"as happens when the EntitiesDescriptor wrapper is removed by hand.", root.prefix, root.prefix)
		f.Fix = "Run `ssoctl rancher convert` on this file: it declares the prefixes the EntityDescriptor uses " +
			"(or fetch the raw descriptor from Keycloak again and convert that)."
	case root.local == "EntityDescriptor" && root.space != nsMetadata:
		f.Message = msg + fmt.Sprintf(" The root is in namespace %q, not SAML 2.0 metadata.", root.space)
		f.Fix = "Use Keycloak's SAML IdP descriptor: https://KEYCLOAK/realms/REALM/protocol/saml/descriptor."
	case root.local == "EntityDescriptor":
		f.Message = msg + " A value in the metadata does not decode into the types Rancher uses."
		f.Fix = "Correct the element or attribute named in the error, or fetch the descriptor again from " +
			"https://KEYCLOAK/realms/REALM/protocol/saml/descriptor; Keycloak's own output decodes."
	default:
		f.Message = msg + fmt.Sprintf(" The root element <%s> is not SAML metadata.", rootName)
		f.Fix = "Download the realm's SAML IdP descriptor: https://KEYCLOAK/realms/REALM/protocol/saml/descriptor " +
			"(an HTML page usually means a wrong URL or realm name)."
	}
	return f
}

// checkDecoded runs the checks that need Rancher's decoded view.
func checkDecoded(doc *document, md *rancherIDPMetadata, now time.Time) []Finding {
	var fs []Finding
	if md.EntityID == "" {
		fs = append(fs, Finding{ID: FindingNoEntityID, Severity: SeverityError,
			Message: "The EntityDescriptor has no entityID. Rancher's SAML library compares it with the Issuer of every " +
				"response, so logins would fail.",
			Fix: "Use Keycloak's descriptor unmodified: its entityID is the realm URL, https://KEYCLOAK/realms/REALM."})
	}
	if len(md.IDPSSODescriptors) == 0 {
		msg := "The EntityDescriptor has no IDPSSODescriptor, so it does not describe an identity provider."
		if len(md.SPSSODescriptors) > 0 {
			msg += " It is service-provider metadata (SPSSODescriptor), such as a client's SP descriptor."
		}
		return append(fs, Finding{ID: FindingNoIDPDescriptor, Severity: SeverityError, Message: msg,
			Fix: "Use the realm's IdP descriptor: https://KEYCLOAK/realms/REALM/protocol/saml/descriptor."})
	}
	fs = append(fs, checkSigningCerts(doc, md, now)...)
	fs = append(fs, checkRedirectSSO(md)...)
	return fs
}

// checkSigningCerts follows Rancher's SAML library: every X509Certificate of
// a KeyDescriptor whose use is "signing" or empty is a signing certificate,
// whitespace is removed, and the rest must be base64 DER X.509.
func checkSigningCerts(doc *document, md *rancherIDPMetadata, now time.Time) []Finding {
	var (
		fs             []Finding
		certs          []string
		keyDescriptors int
	)
	for _, idp := range md.IDPSSODescriptors {
		for _, kd := range idp.KeyDescriptors {
			keyDescriptors++
			if kd.Use != "signing" && kd.Use != "" {
				continue
			}
			for _, c := range kd.KeyInfo.X509Data.X509Certificates {
				certs = append(certs, c.Data)
			}
		}
	}
	nonEmpty := 0
	for _, c := range certs {
		if stripSpace(c) != "" {
			nonEmpty++
		}
	}
	if nonEmpty == 0 {
		return []Finding{noSigningCertFinding(doc, keyDescriptors)}
	}
	for i, raw := range certs {
		n := i + 1
		body := stripSpace(raw)
		if body == "" {
			fs = append(fs, Finding{ID: FindingBadCert, Severity: SeverityWarning,
				Message: fmt.Sprintf("Signing certificate %d is empty; Rancher's SAML library may try to parse it and fail.", n),
				Fix:     "Remove the empty <X509Certificate> (or its KeyDescriptor), or fetch the descriptor again from Keycloak."})
			continue
		}
		fix := "Copy the certificate again from Keycloak (Realm settings > Keys, \"Certificate\" of the RS256 key) or fetch the descriptor again; " +
			"<X509Certificate> holds the base64 DER body only."
		if strings.Contains(raw, "-----BEGIN") {
			fix = "Put only the base64 body in <X509Certificate>, without the -----BEGIN CERTIFICATE----- and -----END CERTIFICATE----- lines."
		}
		der, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			fs = append(fs, Finding{ID: FindingBadCert, Severity: SeverityError,
				Message: fmt.Sprintf("Signing certificate %d is not valid base64; at login Rancher's SAML library fails with \"cannot parse certificate: %s\".", n, err),
				Fix:     fix})
			continue
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			fs = append(fs, Finding{ID: FindingBadCert, Severity: SeverityError,
				Message: fmt.Sprintf("Signing certificate %d does not parse as X.509 (%s); at login Rancher's SAML library fails with that error.", n, err),
				Fix:     fix})
			continue
		}
		if now.IsZero() {
			continue
		}
		label := fmt.Sprintf("Signing certificate %d (subject %q)", n, cert.Subject.String())
		expires := cert.NotAfter.UTC().Format(time.DateOnly)
		switch left := cert.NotAfter.Sub(now); {
		case left <= 0:
			fs = append(fs, Finding{ID: FindingCertExpired, Severity: SeverityWarning,
				Message: fmt.Sprintf("%s expired on %s, %d days ago.", label, expires, int(-left.Hours()/24)),
				Fix:     rotateFix})
		case left < ExpiryWarning:
			fs = append(fs, Finding{ID: FindingCertExpiring, Severity: SeverityWarning,
				Message: fmt.Sprintf("%s expires on %s, in %d days.", label, expires, int(left.Hours()/24)),
				Fix:     rotateFix})
		}
	}
	return fs
}

// noSigningCertFinding explains why no signing certificate decoded, naming
// the silent trap of an undeclared dsig/ds prefix when that is the cause.
func noSigningCertFinding(doc *document, keyDescriptors int) Finding {
	f := Finding{ID: FindingNoSigningCert, Severity: SeverityError,
		Message: "No signing certificate decodes: Rancher's decoder finds no <KeyDescriptor use=\"signing\"> (or without use) " +
			"holding a non-empty <X509Certificate> in the xmldsig namespace. Rancher saves such a configuration, then every login " +
			"fails with \"cannot find any signing certificate in the IDP SSO descriptor\"."}
	var undeclared, foreign *certElement
	for i := range doc.certElements {
		switch e := &doc.certElements[i]; {
		case e.undeclared && undeclared == nil:
			undeclared = e
		case !e.undeclared && foreign == nil:
			foreign = e
		}
	}
	switch {
	case undeclared != nil:
		prefix, _, _ := strings.Cut(undeclared.name, ":")
		f.Message += fmt.Sprintf(" <%s> (line %d) uses the prefix %q, which is never declared, so the decoder sees it in no "+
			"namespace and skips it without an error.", undeclared.name, undeclared.line, prefix)
		f.Fix = fmt.Sprintf("Declare the prefix on the EntityDescriptor: xmlns:%s=\"%s\". `ssoctl rancher convert` does this: "+
			"it copies the declaration from the EntitiesDescriptor wrapper Keycloak 6-13 put it on, or adds it when it is missing.", prefix, nsXMLDSig)
	case foreign != nil:
		f.Message += fmt.Sprintf(" <%s> (line %d) is in namespace %q instead.", foreign.name, foreign.line, foreign.space)
		f.Fix = fmt.Sprintf("Bind the prefix of <%s> to %s, as Keycloak does.", foreign.name, nsXMLDSig)
	case keyDescriptors == 0:
		f.Message += " The IDPSSODescriptor has no KeyDescriptor at all."
		f.Fix = "Give the realm an active RSA signing key (Realm settings > Keys > Providers > rsa-generated; Keycloak lists one " +
			"KeyDescriptor per RS256 key) and fetch the descriptor again."
	default:
		f.Message += " The KeyDescriptors are for encryption only or carry empty certificates."
		f.Fix = "Give the realm an active RSA signing key (Realm settings > Keys > Providers > rsa-generated) and fetch the descriptor again."
	}
	return f
}

// checkRedirectSSO requires a SingleSignOnService with the HTTP-Redirect
// binding and a location, which is where Rancher sends the login request.
func checkRedirectSSO(md *rancherIDPMetadata) []Finding {
	var bindings []string
	emptyLocation := false
	for _, idp := range md.IDPSSODescriptors {
		for _, s := range idp.SingleSignOnServices {
			if s.Binding == HTTPRedirectBinding {
				if strings.TrimSpace(s.Location) != "" {
					return nil
				}
				emptyLocation = true
			}
			bindings = append(bindings, s.Binding)
		}
	}
	f := Finding{ID: FindingNoRedirectSSO, Severity: SeverityError,
		Fix: "Use the realm descriptor (https://KEYCLOAK/realms/REALM/protocol/saml/descriptor), which lists HTTP-Redirect. " +
			"Descriptors exported from a client omit it while the client has \"Force POST binding\" on: set " +
			"saml.force.post.binding to \"false\" on the Rancher client and export again."}
	if emptyLocation {
		f.Message = "The HTTP-Redirect SingleSignOnService has an empty Location; Rancher sends the login request there."
		return []Finding{f}
	}
	found := "none"
	if len(bindings) > 0 {
		found = strings.Join(bindings, ", ")
	}
	f.Message = fmt.Sprintf("No SingleSignOnService has the binding %s (found: %s). Rancher sends the login request with "+
		"HTTP-Redirect and cannot log anyone in without it.", HTTPRedirectBinding, found)
	return []Finding{f}
}

// stripSpace removes the whitespace Rancher's SAML library removes from a
// certificate (the RE2 class \s: tab, newline, form feed, carriage return,
// space) before decoding it.
func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '\t', '\n', '\f', '\r', ' ':
			return -1
		}
		return r
	}, s)
}
