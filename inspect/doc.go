// Package inspect decodes and verifies JWTs, fetches OIDC discovery documents and JWKS, evaluates
// JSON-pointer claim assertions and audience/time/issuer rules, and models how Vault's JWT/OIDC auth
// method (vault-plugin-auth-jwt) would treat a token: the same checks in the same order, with the
// same error text, and a concrete fix for each failure.
//
// The package is domain code only. It never prints, never reads the terminal and does no network I/O
// of its own: functions that fetch (Discover, RemoteJWKS) use the *http.Client the caller hands them.
// Failures of the input itself (a malformed token, JWKS, role file or JSON pointer) are errors that
// implement BadInput() bool; failed checks are Findings.
//
// Numbers in decoded JSON (token headers and claims, role files) are always json.Number, so large
// integers keep every digit. The Vault model converts them to float64 internally, exactly as Vault does.
package inspect
