package inspect

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
)

const wellKnownSuffix = "/.well-known/openid-configuration"

// Discovery is the part of an OpenID Provider configuration document ssoctl uses.
type Discovery struct {
	// Issuer is the document's "issuer"; OIDC clients (and Vault) require it to equal the issuer
	// they were configured with, byte for byte.
	Issuer string `json:"issuer"`
	// JWKSURI is where the provider publishes its signing keys.
	JWKSURI string `json:"jwks_uri"`
	// AuthorizationEndpoint is the browser login endpoint.
	AuthorizationEndpoint string `json:"authorization_endpoint,omitempty"`
	// TokenEndpoint is where codes and passwords are exchanged for tokens.
	TokenEndpoint string `json:"token_endpoint,omitempty"`
	// UserinfoEndpoint serves the claims Vault's OIDC login merges into the ID token's.
	UserinfoEndpoint string `json:"userinfo_endpoint,omitempty"`
	// EndSessionEndpoint is the logout endpoint.
	EndSessionEndpoint string `json:"end_session_endpoint,omitempty"`
	// IDTokenSigningAlgs is id_token_signing_alg_values_supported.
	IDTokenSigningAlgs []string `json:"id_token_signing_alg_values_supported,omitempty"`
	// ScopesSupported is scopes_supported.
	ScopesSupported []string `json:"scopes_supported,omitempty"`
	// URL is the address the document was fetched from.
	URL string `json:"-"`
}

// DiscoveryURL returns the configuration document address for issuer the way go-oidc and Vault
// build it: a trailing slash is dropped before /.well-known/openid-configuration is appended.
// An issuer that already ends in that suffix is returned unchanged.
func DiscoveryURL(issuer string) string {
	if strings.HasSuffix(issuer, wellKnownSuffix) {
		return issuer
	}
	return strings.TrimSuffix(issuer, "/") + wellKnownSuffix
}

// Discover fetches and decodes the issuer's OIDC discovery document with client. Transport
// failures, non-200 answers and bodies that are not a discovery document are *FetchError. It
// does not compare the issuer: CheckDiscovery does.
func Discover(ctx context.Context, client *http.Client, issuer string) (*Discovery, error) {
	u := DiscoveryURL(issuer)
	body, err := getDocument(ctx, client, u)
	if err != nil {
		return nil, err
	}
	var d Discovery
	if err := json.Unmarshal(body, &d); err != nil {
		return nil, &FetchError{URL: u, StatusCode: http.StatusOK, Err: errors.New("not an OIDC discovery document: " + err.Error())}
	}
	if d.Issuer == "" {
		return nil, &FetchError{URL: u, StatusCode: http.StatusOK, Err: errors.New("not an OIDC discovery document: no \"issuer\"")}
	}
	d.URL = u
	return &d, nil
}

// DiscoveryReport is the result of CheckDiscovery (`ssoctl inspect discovery ISSUER -o json`):
//
//	{"issuer": asked, "url": fetched, "document_issuer": ..., "jwks_uri": ...,
//	 "keys": [{"kid","alg","use","kty","crv","bits"}], "id_token_signing_alg_values_supported": [...],
//	 "findings": [Finding...]}
type DiscoveryReport struct {
	// Issuer is the issuer that was asked for, as given.
	Issuer string `json:"issuer"`
	// URL is the discovery document address.
	URL string `json:"url"`
	// DocumentIssuer is the issuer the document states.
	DocumentIssuer string `json:"document_issuer"`
	// JWKSURI is the document's jwks_uri.
	JWKSURI string `json:"jwks_uri"`
	// Keys are the keys the JWKS holds (empty when it could not be fetched).
	Keys []*Key `json:"keys"`
	// SigningAlgs is id_token_signing_alg_values_supported.
	SigningAlgs []string `json:"id_token_signing_alg_values_supported"`
	// Discovery is the decoded document.
	Discovery *Discovery `json:"-"`
	// Findings are the failed or notable checks.
	Findings []Finding `json:"findings"`
}

// CheckDiscovery fetches the issuer's discovery document and its JWKS with client and checks
// them as Vault would when oidc_discovery_url is written: the document's issuer must equal the
// asked issuer exactly (a trailing slash matters), jwks_uri must fetch and parse, and the
// signing algorithms are listed. The error is for a discovery document that cannot be fetched
// at all (*FetchError); everything else is a finding.
func CheckDiscovery(ctx context.Context, client *http.Client, issuer string) (*DiscoveryReport, error) {
	d, err := Discover(ctx, client, issuer)
	if err != nil {
		return nil, err
	}
	rep := &DiscoveryReport{Issuer: issuer, URL: d.URL, DocumentIssuer: d.Issuer, JWKSURI: d.JWKSURI,
		SigningAlgs: d.IDTokenSigningAlgs, Discovery: d, Keys: []*Key{}}
	const vaultMsg = "error checking oidc discovery URL"
	if strings.HasSuffix(issuer, wellKnownSuffix) {
		base := strings.TrimSuffix(issuer, wellKnownSuffix)
		rep.Findings = append(rep.Findings, Finding{ID: FindingDiscoveryWellKnown, Severity: SeverityError,
			Message:      "the issuer given ends in " + wellKnownSuffix + "; Vault appends that itself and would fetch " + base + wellKnownSuffix + wellKnownSuffix,
			VaultMessage: vaultMsg,
			Fix:          "use `discovery_url: " + d.Issuer + "` in sso.yaml (Vault's oidc_discovery_url is the issuer, not the document)"})
	} else if d.Issuer != issuer {
		msg := "the document's issuer is " + strconv.Quote(d.Issuer) + ", not " + strconv.Quote(issuer) + "; Vault compares them exactly (its log says: oidc: issuer did not match the issuer returned by provider, expected " + strconv.Quote(issuer) + " got " + strconv.Quote(d.Issuer) + ")"
		if strings.TrimSuffix(d.Issuer, "/") == strings.TrimSuffix(issuer, "/") {
			msg += "; they differ only in a trailing slash"
		}
		rep.Findings = append(rep.Findings, Finding{ID: FindingDiscoveryIssuer, Severity: SeverityError,
			Message: msg, VaultMessage: vaultMsg,
			Fix: "use `discovery_url: " + d.Issuer + "` in sso.yaml, exactly; if that host is not the one Vault should use, set Keycloak's KC_HOSTNAME so that the issuer is the public URL"})
	}

	switch {
	case d.JWKSURI == "":
		rep.Findings = append(rep.Findings, Finding{ID: FindingDiscoveryJWKS, Severity: SeverityError,
			Message: "the document has no jwks_uri, so no token signature can be verified",
			Fix:     "check that " + d.URL + " is an OpenID Connect provider's document (Keycloak: …/realms/REALM)"})
	default:
		src := NewRemoteJWKS(client, d.JWKSURI)
		ks, err := src.KeySet(ctx)
		switch {
		case err != nil:
			rep.Findings = append(rep.Findings, Finding{ID: FindingDiscoveryJWKS, Severity: SeverityError,
				Message: "jwks_uri cannot be used: " + err.Error(),
				Fix:     "the jwks_uri host must be reachable from Vault and from here; behind a proxy set Keycloak's KC_HOSTNAME so the document names a reachable URL"})
		case ks.Len() == 0:
			msg := "the JWKS at " + d.JWKSURI + " holds no signature key"
			if len(ks.Skipped()) > 0 {
				msg += " (skipped: " + strings.Join(ks.Skipped(), "; ") + ")"
			}
			rep.Findings = append(rep.Findings, Finding{ID: FindingDiscoveryJWKSEmpty, Severity: SeverityError, Message: msg,
				Fix: "enable an RSA or EC key provider in the realm (Keycloak: Realm settings → Keys → Providers)"})
		default:
			rep.Keys = ks.Keys()
		}
	}

	algs := d.IDTokenSigningAlgs
	switch {
	case len(algs) == 0:
		rep.Findings = append(rep.Findings, Finding{ID: FindingDiscoveryAlgs, Severity: SeverityWarning,
			Message: "the document lists no id_token_signing_alg_values_supported; clients assume RS256",
			Fix:     "nothing to do if tokens are RS256; otherwise set Vault's jwt_supported_algs"})
	default:
		var risky []string
		hasRS256 := false
		for _, a := range algs {
			if a == "RS256" {
				hasRS256 = true
			}
			if strings.EqualFold(a, "none") || strings.HasPrefix(strings.ToUpper(a), "HS") {
				risky = append(risky, a)
			}
		}
		rep.Findings = append(rep.Findings, Finding{ID: FindingDiscoveryAlgs, Severity: SeverityInfo,
			Message: "ID token signing algorithms supported: " + strings.Join(algs, ", "),
			Fix:     "none needed; Vault's OIDC login accepts only jwt_supported_algs (default RS256)"})
		if len(risky) > 0 {
			rep.Findings = append(rep.Findings, Finding{ID: FindingDiscoveryAlgs, Severity: SeverityWarning,
				Message: "the provider offers " + strings.Join(risky, ", ") + " for ID tokens; ssoctl and Vault never accept them with public keys",
				Fix:     "keep each client's ID token signature algorithm on RS256 (Keycloak: client → Advanced)"})
		}
		if !hasRS256 {
			rep.Findings = append(rep.Findings, Finding{ID: FindingDiscoveryAlgs, Severity: SeverityWarning,
				Message: "RS256 is not offered; Vault's OIDC login accepts only RS256 unless jwt_supported_algs says otherwise",
				Fix:     "set jwt_supported_algs on the Vault mount to the algorithm the realm signs with"})
		}
	}
	return rep, nil
}
