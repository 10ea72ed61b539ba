package inspect

import (
	"fmt"
	"strconv"
)

// Vault's and OpenBao's own words, in one place: every error text the model of the JWT/OIDC
// auth method (EvaluateVault) and doctor's live-config checks quote. Each is cited by the file
// and function that writes it, in hashicorp/vault-plugin-auth-jwt at 2e68bbaf (the login code
// is that of v0.23.0, which Vault 1.19 pins) or in hashicorp/cap, which the plugin calls to
// validate tokens (jwt/jwt.go, oidc/provider.go at cf52420; the strings are those of v0.11.0).
// OpenBao's JWT plugin is a fork of Vault's with the same login messages (docs/openbao.md: 74
// cases give the same message on both); where OpenBao differs it is said. shared/reference/
// vault-jwt-oidc.md §1a–§1g lists them in the order Vault checks. The testbed's integration
// tests (inspect/vault_integration_test.go) hold each against the real servers.

// The JWT login, POST auth/MOUNT/login (plugin path_login.go pathLogin).
const (
	// vaultMsgOIDCRoleType: pathLogin refuses a role of role_type oidc.
	vaultMsgOIDCRoleType = "role with oidc role_type is not allowed"
	// vaultMsgUnsupportedConfig: pathLogin wraps jwtValidator's error (backend.go
	// jwtValidator: "unsupported config type" for an OIDC-flow config).
	vaultMsgUnsupportedConfig = "error configuring token validator: unsupported config type"
	// vaultMsgValidating prefixes every error of cap's Validator.Validate (pathLogin:
	// "error validating token: %s").
	vaultMsgValidating = "error validating token: "
	// vaultMsgSignature prefixes cap's signature failure (jwt.go validateAll: "error
	// verifying token signature: %w").
	vaultMsgSignature = vaultMsgValidating + "error verifying token signature: "
	// vaultMsgStaticKeys: cap jwt/keyset.go StaticKeySet.VerifySignature, when no
	// jwt_validation_pubkeys key verifies.
	vaultMsgStaticKeys = "no known key successfully validated the token signature"
	// vaultMsgJWKSVerify: go-oidc's RemoteKeySet.VerifySignature (oidc/jwks.go), through
	// cap's JSONWebKeySet.
	vaultMsgJWKSVerify = "failed to verify id token signature"
	// vaultMsgAlgorithm: cap jwt.go validateAll wrapping validateSigningAlgorithm.
	vaultMsgAlgorithm = vaultMsgValidating + "invalid algorithm (alg) header parameter: token signed with unexpected algorithm"
	// vaultMsgIssuer: cap jwt.go validateAll, bound_issuer against iss.
	vaultMsgIssuer = vaultMsgValidating + "invalid issuer (iss) claim"
	// vaultMsgSubject: cap jwt.go validateAll, bound_subject against sub.
	vaultMsgSubject = vaultMsgValidating + "invalid subject (sub) claim"
	// vaultMsgNoTimes: cap jwt.go validateAll, when iat, nbf and exp are all missing
	// (without vaultMsgValidating: jwtTimes's callers add it).
	vaultMsgNoTimes = "no issued at (iat), not before (nbf), or expiration time (exp) claims in token"
	// vaultMsgNotYetValid, vaultMsgExpired, vaultMsgFuture: cap jwt.go validateAll's time
	// checks, in the order it makes them.
	vaultMsgNotYetValid = "invalid not before (nbf) claim: " + capNotYetValid
	vaultMsgExpired     = "invalid expiration time (exp) claim: " + capExpired
	vaultMsgFuture      = "invalid issued at (iat) claim: " + capFuture
)

// The tails of cap's time errors (jwt.go validateAll), which messages about clocks quote.
const (
	capNotYetValid = "token not yet valid"
	capExpired     = "token is expired"
	capFuture      = "token issued in the future"
)

// VaultMsgClockRefusals is how doctor's clock check names what Vault answers a token from a
// clock too far off: the tails of cap's iat and exp errors (jwt.go validateAll).
const VaultMsgClockRefusals = "\"" + capFuture + "\" or \"" + capExpired + "\""

// Audience: bound_audiences against aud.
const (
	// VaultMsgJWTAudience is a JWT login's refusal of a token whose aud has none of the role's
	// bound_audiences: pathLogin's "error validating token: %s" around cap jwt.go
	// validateAll's "invalid audience (aud) claim: %w" around validateAudience's error.
	VaultMsgJWTAudience = vaultMsgValidating + "invalid audience (aud) claim: audience claim does not match any expected audience"
	// VaultMsgJWTAudienceOld is the same refusal in plugin versions before cap validated
	// tokens (claims.go validateAudience, still in the file but no longer called by the
	// login); most forum threads show it.
	VaultMsgJWTAudienceOld = "aud claim does not match any bound audience"
	// VaultMsgJWTNoAudiences is a JWT login's refusal of a token with an aud when the role
	// binds none (pathLogin after Validate, for a list and, since plugin v0.20.3, for a
	// string).
	VaultMsgJWTNoAudiences = "audience claim found in JWT but no audiences bound to the role"
	// VaultMsgOIDCAudiences is the head of the OIDC callback's refusal of an ID token whose
	// aud has none of the role's bound_audiences (cap oidc/provider.go VerifyIDToken: "%s:
	// invalid id_token audiences: %w"), as doctor quotes it.
	VaultMsgOIDCAudiences = "invalid id_token audiences"
	// vaultMsgOIDCAudiencesFull is that refusal whole, with verifyAudience's own error
	// inside (cap oidc/provider.go verifyAudience, ErrInvalidAudience in oidc/error.go).
	vaultMsgOIDCAudiencesFull = VaultMsgOIDCAudiences + ": verifyAudiences: " + VaultMsgOIDCAudiences + ": invalid audience"
)

// createIdentity (plugin path_login.go), shared by the JWT login and the OIDC callback, then
// validateBoundClaims (claims.go) with pathLogin's and pathCallback's prefix.
const (
	// createIdentity: user_claim absent.
	vaultFmtUserClaimMissing = "claim %q not found in token"
	// createIdentity: user_claim not a string.
	vaultFmtUserClaimNotString = "claim %q could not be converted to string"
	// claims.go extractMetadata: a claim_mappings source that is not a string.
	vaultFmtClaimMappingNotString = "error converting claim '%s' to string"
	// createIdentity wraps fetchGroups's error ("failed to fetch groups: %s"); fetchGroups:
	// "%q claim not found in token".
	vaultFmtGroupsClaimMissing = "failed to fetch groups: %q claim not found in token"
	// createIdentity: groups_claim neither a list nor a scalar.
	vaultFmtGroupsNotList = "%q claim could not be converted to string list"
	// createIdentity: an element of the groups claim that is not a string.
	vaultFmtGroupNotString = "value %v in groups claim could not be parsed as string"
	// vaultMsgBoundClaims prefixes validateBoundClaims's errors (pathLogin and pathCallback:
	// "error validating claims: %s").
	vaultMsgBoundClaims = "error validating claims: "
	// claims.go validateBoundClaims: a bound_claims key the claims lack.
	vaultFmtBoundClaimMissing = "claim %q is missing"
)

// VaultUserClaimMissing is Vault's refusal of a login whose claims lack the role's user_claim.
func VaultUserClaimMissing(userClaim string) string {
	return fmt.Sprintf(vaultFmtUserClaimMissing, userClaim)
}

// VaultGroupsClaimMissing is Vault's refusal of a login whose claims lack the role's
// groups_claim.
func VaultGroupsClaimMissing(groupsClaim string) string {
	return fmt.Sprintf(vaultFmtGroupsClaimMissing, groupsClaim)
}

// VaultBoundClaimMissing is Vault's refusal of a login whose claims lack a bound_claims key.
func VaultBoundClaimMissing(key string) string {
	return vaultMsgBoundClaims + fmt.Sprintf(vaultFmtBoundClaimMissing, key)
}

// The OIDC browser flow (plugin path_oidc.go, then cap oidc/provider.go VerifyIDToken and
// go-oidc's IDTokenVerifier.Verify under it).
const (
	// vaultMsgOIDCNotConfigured: path_oidc.go errNotOIDCFlow (authURL, callback).
	vaultMsgOIDCNotConfigured = "OIDC login is not configured for this mount"
	// vaultMsgOIDCSubject: path_oidc.go pathCallback, bound_subject against sub; a Go
	// error, so Vault answers 500.
	vaultMsgOIDCSubject = "sub claim does not match bound subject"
	// vaultMsgExchangeHead and vaultMsgExchangeTail: pathCallback's errLoginFailed+"
	// Error exchanging oidc code: %q." around cap's Provider.Exchange error.
	vaultMsgExchangeHead = "Vault login failed. Error exchanging oidc code: "
	vaultMsgExchangeTail = "."
	// vaultMsgVerifyIDToken: cap oidc/provider.go Exchange ("%s: id_token failed
	// verification: %w") around VerifyIDToken's op.
	vaultMsgVerifyIDToken = "Provider.Exchange: id_token failed verification: Provider.VerifyIDToken: "
	// VerifyIDToken's errors, each after vaultMsgVerifyIDToken.
	vaultFmtOIDCIssuer       = "invalid id_token: oidc: id token issued by a different provider, expected %q got %q: invalid issuer"
	vaultFmtOIDCExpired      = "invalid id_token: oidc: token is expired (Token Expiry: %v): token is expired"
	vaultFmtOIDCNotBefore    = "invalid id_token: oidc: current time %v before the nbf (not before) time: %v: invalid not before"
	vaultFmtOIDCAlgorithm    = "invalid id_token: oidc: malformed jwt: go-jose/go-jose: unexpected signature algorithm %q; expected %q: unsupported signing algorithm"
	vaultMsgOIDCSignature    = "invalid id_token: failed to verify signature: failed to verify id token signature: invalid signature"
	vaultFmtOIDCIssuedAt     = "invalid id_token current time %v before the iat (issued at) time %v: invalid issued at (iat)"
	vaultMsgOIDCNoSub        = "invalid id_token: sub: missing required claim"
	vaultMsgOIDCNoAud        = "invalid id_token: aud: missing required claim"
	vaultFmtOIDCMultiAud     = "invalid id_token: multiple audiences (%s) and one of them is not equal client_id (%s): invalid audience"
	vaultFmtOIDCAzp          = "invalid id_token: authorized party (%s) is not equal client_id (%s): invalid authorized party (azp)"
	vaultFmtOIDCMultiAudAzp  = "invalid id_token: multiple audiences and authorized party (%s) is not equal client_id (%s): invalid authorized party (azp)"
	vaultFmtOIDCOneAudAzp    = "invalid id_token: one audience (%s) which is not the client_id (%s) and authorized party (%s) is not equal client_id (%s): invalid authorized party (azp)"
	vaultMsgOIDCClaimsDecode = "oidc: failed to unmarshal claims: "
)

// vaultExchangeMessage is the OIDC callback's answer when VerifyIDToken refuses the ID token
// with inner.
func vaultExchangeMessage(inner string) string {
	return vaultMsgExchangeHead + strconv.Quote(vaultMsgVerifyIDToken+inner) + vaultMsgExchangeTail
}

// VaultCLIRedirectRefused is what `vault login -method=oidc` prints when Vault's auth_url
// comes back empty because the redirect URI is not in the role's allowed_redirect_uris
// (plugin cli.go fetchAuthURL).
func VaultCLIRedirectRefused(role, redirectURI string) string {
	return fmt.Sprintf("Unable to authorize role %q with redirect_uri %q", role, redirectURI)
}

// OpenBao only (builtin/credential/jwt in github.com/openbao/openbao, tag v2.6.2).
const (
	// openBaoRoleWriteHead and openBaoRoleWriteTail: the multierror around a role write that
	// path_role.go refuses (a token_policies template that does not parse).
	openBaoRoleWriteHead = "1 error occurred:\n\t* "
	openBaoRoleWriteTail = "\n\n"
)

// A role write, POST auth/MOUNT/role/NAME (plugin path_role.go pathRoleCreateUpdate;
// shared/reference/vault-jwt-oidc.md: user_claim is required). The role-file parser refuses
// the same role with the same words.
const vaultMsgUserClaimRequired = "a user claim must be defined on the role"

// OpenBao's templated token_policies (docs/openbao.md): the truncate functions of its template
// helper (sdk/helper/template funcs.go, truncate and truncateSHA256) refuse a length with these
// words; a failed template fails the login. Vault has no templated policies.
const (
	openbaoMsgTruncate       = "max length must be > 0 but was %d"
	openbaoMsgTruncateSHA256 = "max length must be > 8 but was %d"
)
