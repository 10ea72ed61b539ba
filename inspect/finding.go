package inspect

// Severity grades a Finding.
type Severity string

const (
	// SeverityError means the token will be (or was) rejected, or a security rule was broken.
	SeverityError Severity = "error"
	// SeverityWarning means something is likely to break or to surprise, but nothing failed yet.
	SeverityWarning Severity = "warning"
	// SeverityInfo is context: what was checked, what could not be checked, what Vault will do.
	SeverityInfo Severity = "info"
)

// Finding is one result of a check: what rule was checked, what was found, and how to fix it.
// IDs are stable dotted names (see the Finding* constants); scripts may match on them.
type Finding struct {
	// ID is the stable identifier of the rule, e.g. "token.expired" or "vault.bound-audiences".
	ID string `json:"id"`
	// Severity is "error", "warning" or "info".
	Severity Severity `json:"severity"`
	// Message says what was found, with the values involved.
	Message string `json:"message"`
	// VaultMessage is the exact error text Vault returns for this failure, when there is one.
	VaultMessage string `json:"vault_message,omitempty"`
	// VaultMessages lists every message Vault may give when it is one of several (see
	// VaultVerdict.Messages); VaultMessage is the first of them.
	VaultMessages []string `json:"vault_messages,omitempty"`
	// Fix names the sso.yaml line, Keycloak setting or Vault field that would make the check pass.
	Fix string `json:"fix"`
}

// HasErrors reports whether any finding has error severity (the CLI exits 3 then).
func HasErrors(findings []Finding) bool {
	for i := range findings {
		if findings[i].Severity == SeverityError {
			return true
		}
	}
	return false
}

// Finding IDs for the token itself: signature, algorithm and registered claims.
const (
	// FindingAlgNone: the header says alg "none" (or has no alg); such a token is never accepted.
	FindingAlgNone = "token.alg-none"
	// FindingAlgHMAC: an HS* (shared secret) algorithm; never verified with a public key (key confusion).
	FindingAlgHMAC = "token.alg-hmac"
	// FindingAlgUnsupported: an algorithm this tool (and Vault) does not verify.
	FindingAlgUnsupported = "token.alg-unsupported"
	// FindingCrit: the "crit" header is invalid or lists an extension ssoctl does not understand
	// (RFC 7515 §4.1.11: such a token is rejected whatever its signature).
	FindingCrit = "token.crit"
	// FindingKeyUnusable: the only keys that could verify the token are unusable: an RSA key under
	// 1024 bits (Go refuses them) or one with an invalid public exponent (e.g. e=1).
	FindingKeyUnusable = "token.key-unusable"
	// FindingUnsigned: the signature segment is empty.
	FindingUnsigned = "token.unsigned"
	// FindingKidUnknown: no key carries the token's kid, even after fetching the JWKS again.
	FindingKidUnknown = "token.kid-unknown"
	// FindingNoKey: the key source holds no key that could verify the token's algorithm.
	FindingNoKey = "token.no-key"
	// FindingAlgKeyMismatch: the selected key is registered for, or belongs to, another algorithm.
	FindingAlgKeyMismatch = "token.alg-key-mismatch"
	// FindingSignature: the signature does not verify with the selected key(s).
	FindingSignature = "token.signature"
	// FindingUnverified: no keys were given, so the signature was not checked.
	FindingUnverified = "token.unverified"
	// FindingExpired: exp is in the past beyond the leeway.
	FindingExpired = "token.expired"
	// FindingNotYetValid: nbf is in the future beyond the leeway.
	FindingNotYetValid = "token.not-yet-valid"
	// FindingIssuedInFuture: iat is in the future beyond the leeway.
	FindingIssuedInFuture = "token.issued-in-future"
	// FindingNoExpiry: the token has no exp claim, or exp is null.
	FindingNoExpiry = "token.no-exp"
	// FindingTimeClaimType: exp, nbf or iat is not a number (an error), or null (a warning:
	// verifiers read null as absent).
	FindingTimeClaimType = "token.time-claim-type"
	// FindingTimeRange: exp, nbf or iat is a number outside MinNumericDate..MaxNumericDate
	// (years 0 to 9999).
	FindingTimeRange = "token.time-range"
	// FindingIssuer: iss differs from the expected issuer.
	FindingIssuer = "token.issuer"
	// FindingAudience: no aud value matches an expected audience, or aud has the wrong type.
	FindingAudience = "token.audience"
	// FindingRefreshToken: the input is a Keycloak refresh token, which no relying party accepts.
	FindingRefreshToken = "token.refresh"
)

// Finding IDs for claim assertions (--claim PTR[=VALUE]).
const (
	// FindingClaimMissing: the pointer does not resolve in the claims.
	FindingClaimMissing = "claim.missing"
	// FindingClaimMismatch: the claim exists but has another value (or the list lacks it).
	FindingClaimMismatch = "claim.mismatch"
	// FindingClaimType: the claim's JSON type cannot be compared with the expected value.
	FindingClaimType = "claim.type"
)

// Finding IDs for Keycloak pitfalls.
const (
	// FindingKeycloakAudAccount: an access token whose only audience is Keycloak's "account" client.
	FindingKeycloakAudAccount = "keycloak.access-token-aud-account"
	// FindingKeycloakRolesOnlyInAccess: client or realm roles are in the access token but not the ID token.
	FindingKeycloakRolesOnlyInAccess = "keycloak.roles-only-in-access-token"
	// FindingKeycloakGroupFullPath: group names carry a leading "/" (the mapper's "Full group path").
	FindingKeycloakGroupFullPath = "keycloak.groups-full-path"
	// FindingKeycloakGroupsMissing: a groups/roles claim is absent; Keycloak omits it when the list is empty.
	FindingKeycloakGroupsMissing = "keycloak.groups-claim-missing"
)

// Finding IDs for OIDC discovery checks.
const (
	// FindingDiscoveryIssuer: the document's issuer differs from the issuer asked for (exact compare).
	FindingDiscoveryIssuer = "discovery.issuer-mismatch"
	// FindingDiscoveryWellKnown: the issuer given already ends in /.well-known/openid-configuration.
	FindingDiscoveryWellKnown = "discovery.well-known-in-url"
	// FindingDiscoveryJWKS: jwks_uri is missing, unreachable or does not parse.
	FindingDiscoveryJWKS = "discovery.jwks"
	// FindingDiscoveryJWKSEmpty: the JWKS parsed but holds no usable signing key.
	FindingDiscoveryJWKSEmpty = "discovery.jwks-empty"
	// FindingDiscoveryAlgs: the signing algorithms the provider advertises (info), or a risky one (warning).
	FindingDiscoveryAlgs = "discovery.signing-algs"
)

// Finding IDs for the Vault model. Each failure carries Vault's exact message in VaultMessage.
const (
	// FindingVaultConfigUnknown: no mount config was given; config-dependent checks were skipped.
	FindingVaultConfigUnknown = "vault.config-unknown"
	// FindingVaultRoleType: the login path and the role's role_type do not go together.
	FindingVaultRoleType = "vault.role-type"
	// FindingVaultValidator: the mount config cannot build a JWT validator (e.g. OIDC browser-flow config).
	FindingVaultValidator = "vault.validator"
	// FindingVaultBoundCIDRs: token_bound_cidrs is set; the caller's address decides (not evaluated).
	FindingVaultBoundCIDRs = "vault.bound-cidrs"
	// FindingVaultSignature: Vault's key set would not verify the signature.
	FindingVaultSignature = "vault.signature"
	// FindingVaultSignatureUnchecked: no keys were available to model Vault's signature step.
	FindingVaultSignatureUnchecked = "vault.signature-unchecked"
	// FindingVaultKeyAlgLenient: Vault accepts a key/alg pairing that ssoctl's own verification refuses.
	FindingVaultKeyAlgLenient = "vault.key-alg-lenient"
	// FindingVaultCritLenient: Vault accepts a crit header that RFC 7515 and ssoctl refuse.
	FindingVaultCritLenient = "vault.crit-lenient"
	// FindingVaultAlgorithm: alg is not in the mount's jwt_supported_algs.
	FindingVaultAlgorithm = "vault.algorithm"
	// FindingVaultClaimsDecode: a registered claim has a type Vault cannot decode.
	FindingVaultClaimsDecode = "vault.claims-decode"
	// FindingVaultBoundIssuer: iss differs from the mount's bound_issuer.
	FindingVaultBoundIssuer = "vault.bound-issuer"
	// FindingVaultNoBoundIssuer: bound_issuer is empty, so Vault does not check iss at all.
	FindingVaultNoBoundIssuer = "vault.no-bound-issuer"
	// FindingVaultBoundSubject: sub differs from the role's bound_subject.
	FindingVaultBoundSubject = "vault.bound-subject"
	// FindingVaultBoundAudiences: no aud value is in the role's bound_audiences.
	FindingVaultBoundAudiences = "vault.bound-audiences"
	// FindingVaultAudienceUnbound: the token has aud but the role has no bound_audiences.
	FindingVaultAudienceUnbound = "vault.audience-unbound"
	// FindingVaultTime: iat/nbf/exp missing, not yet valid, expired, or issued in the future.
	FindingVaultTime = "vault.time"
	// FindingVaultUserClaim: the user_claim is missing or not a string.
	FindingVaultUserClaim = "vault.user-claim"
	// FindingVaultClaimMappings: a claim_mappings source claim is not a string.
	FindingVaultClaimMappings = "vault.claim-mappings"
	// FindingVaultGroupsClaim: the groups_claim is missing, not a list, or holds a non-string.
	FindingVaultGroupsClaim = "vault.groups-claim"
	// FindingVaultBoundClaims: a bound_claims entry is missing or does not match.
	FindingVaultBoundClaims = "vault.bound-claims"
	// FindingVaultOIDCNotConfigured: an oidc role on a mount that is not set up for the browser flow.
	FindingVaultOIDCNotConfigured = "vault.oidc-not-configured"
	// FindingVaultOIDCAccessToken: an access token evaluated against an oidc role (Vault never reads it).
	FindingVaultOIDCAccessToken = "vault.oidc-access-token"
	// FindingVaultOIDCIDToken: the OIDC callback's ID-token verification would fail.
	FindingVaultOIDCIDToken = "vault.oidc-id-token"
	// FindingVaultOIDCNotes: what the OIDC callback does that a token alone cannot show (userinfo, nonce).
	FindingVaultOIDCNotes = "vault.oidc-notes"
	// FindingVaultGroupAliases: on acceptance, the group alias names Vault will look up.
	FindingVaultGroupAliases   = "vault.group-aliases"
	FindingVaultPolicyTemplate = "vault.policy-template" // OpenBao templates token_policies over the claims (or Vault ignores the setting)
	// FindingVaultAccepted: Vault would accept the token.
	FindingVaultAccepted = "vault.accepted"
)
