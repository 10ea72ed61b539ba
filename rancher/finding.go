package rancher

import "github.com/ssoctl/ssoctl/inspect"

// Finding is one result of a check: what rule was checked, how bad a
// violation is, what was found and how to fix it. Findings are data, not
// errors: a check that finds problems still returns a nil error. It is
// inspect's Finding, so that token, Vault and Rancher checks share one
// result type; Rancher's findings leave its Vault fields empty. Severity is
// SeverityError (Rancher will reject the setup or logins will fail) or
// SeverityWarning (works now, or may work, but needs care).
type Finding = inspect.Finding

// Severity grades a Finding; it is inspect's.
type Severity = inspect.Severity

// Severities of a Finding.
const (
	SeverityError   = inspect.SeverityError
	SeverityWarning = inspect.SeverityWarning
)

// Finding IDs reported by Check.
const (
	FindingDecode          = "rancher.decode"            // Rancher's decoder rejects the metadata
	FindingNoEntityID      = "rancher.no-entity-id"      // the EntityDescriptor has no entityID
	FindingNoIDPDescriptor = "rancher.no-idp-descriptor" // no IDPSSODescriptor: not IdP metadata
	FindingNoSigningCert   = "rancher.no-signing-cert"   // no signing certificate decodes
	FindingBadCert         = "rancher.bad-cert"          // a signing certificate does not parse
	FindingCertExpired     = "rancher.cert-expired"      // a signing certificate has expired
	FindingCertExpiring    = "rancher.cert-expiring"     // a signing certificate expires within 30 days
	FindingNoRedirectSSO   = "rancher.no-redirect-sso"   // no SingleSignOnService with HTTP-Redirect
)

// Finding IDs reported as Convert warnings.
const (
	FindingNamespaceDeclared    = "rancher.namespace-declared"    // Convert declared a namespace the input used but never declared
	FindingSignatureInvalidated = "rancher.signature-invalidated" // Convert changed signed metadata
)

// Finding IDs reported by BuildConfig.
const (
	FindingMetadataMissing  = "rancher.metadata-missing"   // no IdP metadata given
	FindingFieldMissing     = "rancher.field-missing"      // a required attribute field is empty
	FindingFieldMapper      = "rancher.field-mapper"       // no Keycloak mapper sends the attribute a field names
	FindingSPCertMissing    = "rancher.sp-cert-missing"    // no SP certificate
	FindingSPKeyMissing     = "rancher.sp-key-missing"     // no SP private key
	FindingSPCertInvalid    = "rancher.sp-cert-invalid"    // the SP certificate does not parse
	FindingSPKeyInvalid     = "rancher.sp-key-invalid"     // the SP key is not an unencrypted RSA key Rancher reads
	FindingSPKeyMismatch    = "rancher.sp-key-mismatch"    // the SP certificate is not for the SP key
	FindingClientID         = "rancher.client-id"          // the Keycloak client ID is not Rancher's entity ID
	FindingRedirectURI      = "rancher.redirect-uri"       // no redirect URI equals Rancher's ACS URL
	FindingUnsignedResponse = "rancher.unsigned-response"  // Keycloak signs neither documents nor assertions
	FindingClientSignature  = "rancher.client-signature"   // Keycloak requires signed requests Rancher cannot provide
	FindingForcePOST        = "rancher.force-post-binding" // Keycloak forces POST binding, which Rancher's docs require off
	FindingEncryptAssertion = "rancher.encrypt-assertions" // Keycloak encrypts assertions without a key for Rancher
	FindingEncryptAlgorithm = "rancher.encrypt-algorithm"  // Keycloak encrypts with algorithms rancher/saml does not implement
)

// HasErrors reports whether any finding has SeverityError; the CLI exits
// with code 3 when it does.
func HasErrors(findings []Finding) bool {
	for _, f := range findings {
		if f.Severity == SeverityError {
			return true
		}
	}
	return false
}
