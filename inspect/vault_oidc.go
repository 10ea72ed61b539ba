package inspect

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// oidcLogin models the browser/CLI flow: auth_url, then the callback's code exchange with
// ID-token verification (go-oidc, then cap), then createIdentity and validateBoundClaims on the
// ID token's claims merged with userinfo.
func (e *vaultEval) oidcLogin() error {
	role, cfg := e.role, e.cfg
	if cfg != nil && cfg.AuthType() != VaultAuthOIDCFlow {
		e.reject(VaultStepOIDCConfig, 400, vaultMsgOIDCNotConfigured, Finding{ID: FindingVaultOIDCNotConfigured,
			Message: "role_type oidc needs a mount config with oidc_discovery_url, oidc_client_id and oidc_client_secret; this mount is " + string(cfg.AuthType()),
			Fix:     "set discovery_url and client_id on the auth entry in sso.yaml (the client secret is read from Keycloak), or make the role role_type jwt to log in with a token"})
		return nil
	}
	if role.RoleTypeDefaulted {
		e.note(FindingVaultRoleType, SeverityInfo, e.roleRef()+" has no role_type, so Vault treats it as oidc (the browser flow, modelled here); a token POSTed to auth/"+e.mount+"/login would get \""+vaultMsgOIDCRoleType+"\"",
			"write role_type explicitly: oidc for browser logins, jwt for logins with a token")
	}
	if role.RoleType != "oidc" {
		e.note(FindingVaultRoleType, SeverityInfo, e.roleRef()+" has role_type "+role.RoleType+"; the OIDC callback does not check role_type, so the browser flow works with it too",
			"none needed; role_type oidc is the usual choice for browser logins")
	}
	tok := e.tok
	if tok.Kind == KindAccess || tok.Kind == KindRefresh {
		if tok.Companion != nil && tok.Companion.Kind == KindID {
			e.note(FindingVaultOIDCAccessToken, SeverityWarning, "the input's "+string(tok.Kind)+" token was replaced by the ID token of the same token response: Vault's OIDC login reads only the ID token and /userinfo, never the access token",
				"inspect with --id-token")
			tok = tok.Companion
			e.tok = tok
		} else {
			e.v.Step = VaultStepTokenKind
			e.failure = []Finding{{ID: FindingVaultOIDCAccessToken, Severity: SeverityError,
				Message: "this is " + map[bool]string{true: "an access", false: "a refresh"}[tok.Kind == KindAccess] + " token, evaluated against " + e.roleRef() + " of role_type oidc; Vault's OIDC login reads only the ID token and /userinfo, never the access token, so nothing here predicts that login",
				Fix:     "inspect the ID token instead (`ssoctl keycloak token --id-token`, or pass the whole token response with --id-token); claims only in the access token (e.g. resource_access) need 'Add to ID token'/'Add to userinfo' on their mapper"}}
			return nil
		}
	}
	e.note(FindingVaultOIDCNotes, SeverityInfo, "OIDC login: Vault gets the ID token from Keycloak's token endpoint and merges /userinfo claims into it; it never reads the access token. Checked here as the callback does: iss (exact), exp (no leeway), nbf (5 min), alg (jwt_supported_algs, default RS256), signature, iat (1 min), sub/aud, bound_audiences, aud/azp against oidc_client_id. The role's leeway fields do not apply. Not checked: nonce, at_hash, redirect URI",
		"none needed")

	claims, err := vaultClaims(tok.Claims)
	if err != nil {
		e.reject(VaultStepIDToken, 400, e.exchangeMessage(vaultMsgOIDCClaimsDecode+err.Error()), Finding{ID: FindingVaultOIDCIDToken,
			Message: "Vault cannot decode a number in the ID token's claims", Fix: "fix the mapper that writes this number"})
		return nil
	}
	msg, f := e.idTokenChecks(claims)
	if e.err != nil {
		return nil
	}
	if msg != "" {
		f.ID = FindingVaultOIDCIDToken
		e.reject(VaultStepIDToken, 400, msg, f)
		return nil
	}
	delete(claims, "nonce")
	if sub, _ := claims["sub"].(string); role.BoundSubject != "" && role.BoundSubject != sub {
		e.reject(VaultStepSubject, 500, vaultMsgOIDCSubject, Finding{ID: FindingVaultBoundSubject,
			Message: "the ID token's sub " + strconv.Quote(sub) + " is not the role's bound_subject " + strconv.Quote(role.BoundSubject) + " (Vault answers 500 here)",
			Fix:     "set bound_subject on " + e.roleRef() + " to " + strconv.Quote(sub) + ", or remove it"})
		return nil
	}
	if !e.identity(claims) {
		return nil
	}
	e.boundClaims(claims)
	return nil
}

func (e *vaultEval) exchangeMessage(inner string) string {
	return vaultExchangeMessage(inner)
}

// idTokenChecks is go-oidc's Verify (iss, exp, nbf, alg, signature) then cap's VerifyIDToken
// checks, returning Vault's message for the first failure.
func (e *vaultEval) idTokenChecks(claims map[string]any) (string, Finding) {
	tok, cfg, role := e.tok, e.cfg, e.role
	iss, _ := claims["iss"].(string)
	if cfg != nil && iss != cfg.OIDCDiscoveryURL {
		return e.exchangeMessage(fmt.Sprintf(vaultFmtOIDCIssuer, cfg.OIDCDiscoveryURL, iss)), Finding{
			Message: "the ID token's iss " + strconv.Quote(iss) + " is not the mount's oidc_discovery_url " + strconv.Quote(cfg.OIDCDiscoveryURL) + " (exact compare)",
			Fix:     "set discovery_url in sso.yaml to " + strconv.Quote(iss) + " exactly, or make Keycloak issue " + strconv.Quote(cfg.OIDCDiscoveryURL) + " (KC_HOSTNAME)"}
	}
	var expT time.Time // go-oidc: a missing exp is the zero time, which is always expired
	if f, ok := claims["exp"].(float64); ok {
		expT = time.Unix(floatToInt64(f), 0)
	}
	if expT.Before(e.now) {
		return e.exchangeMessage(fmt.Sprintf(vaultFmtOIDCExpired, expT.UTC())), Finding{
			Message: "the ID token expired at " + vaultTimeWords(expT.Unix()) + " (the OIDC callback allows no leeway on exp; Vault's clock " + fmtTime(e.now) + ")",
			Fix:     "log in again; if it fails fresh, sync the Keycloak and Vault clocks with NTP"}
	}
	if f, ok := claims["nbf"].(float64); ok {
		nbfT := time.Unix(floatToInt64(f), 0)
		if e.now.Add(5 * time.Minute).Before(nbfT) {
			return e.exchangeMessage(fmt.Sprintf(vaultFmtOIDCNotBefore, e.now.UTC(), nbfT.UTC())), Finding{
				Message: "the ID token's nbf " + vaultTimeWords(nbfT.Unix()) + " is more than 5 minutes ahead of Vault's clock " + fmtTime(e.now) + " (Vault's message shows its own clock reading)",
				Fix:     "sync the Keycloak and Vault clocks with NTP"}
		}
	}
	algs := []string{"RS256"}
	if cfg != nil && len(cfg.JWTSupportedAlgs) > 0 {
		algs = cfg.JWTSupportedAlgs
	}
	if !containsString(algs, tok.Header.Alg) {
		return e.exchangeMessage(fmt.Sprintf(vaultFmtOIDCAlgorithm, tok.Header.Alg, algs)), Finding{
			Message: "the ID token is signed with " + strconv.Quote(tok.Header.Alg) + "; the OIDC login accepts " + strings.Join(algs, ", ") + " (jwt_supported_algs, default RS256)",
			Fix:     "set jwt_supported_algs on auth/" + e.mount + "/config to include " + tok.Header.Alg + ", or set the client's 'ID token signature algorithm' to RS256 in Keycloak"}
	}
	sigFailed := e.exchangeMessage(vaultMsgOIDCSignature)
	if why := vaultCritRefusal(tok.Header.Fields); why != "" {
		return sigFailed, Finding{Message: why, Fix: critFix}
	}
	e.critLenient()
	if e.keys == nil {
		e.note(FindingVaultSignatureUnchecked, SeverityInfo, "the ID token's signature was not modelled: no keys for the mount's discovery URL were given",
			"pass --issuer (discovery) or --jwks so the signature is checked")
	} else {
		keys, err := e.keys.KeysFor(e.ctx, tok.Header.Kid)
		if err != nil {
			e.err = err
			return "", Finding{}
		}
		ok := false
		var defects []string
		input, unencoded := vaultSigningInput(tok)
		if len(tok.Signature) > 0 {
			digest := hashFor(tok.Header.Alg, input)
			for _, k := range keys {
				if (tok.Header.Kid != "" && k.ID != tok.Header.Kid) || !familyAccepts(k, tok.Header.Alg) {
					continue
				}
				if why := keyDefect(k); why != "" {
					defects = append(defects, why)
					continue
				}
				if verifySignature(tok.Header.Alg, k, input, digest, tok.Signature) {
					ok = true
					break
				}
			}
		}
		if !ok {
			f := Finding{Message: "no key in " + e.keys.String() + " verifies the ID token's signature",
				Fix: "check that the mount's discovery_url is the realm that issued the token (iss " + strconv.Quote(iss) + ")"}
			switch {
			case unencoded:
				f.Message += "; its header has b64 false, so Vault's go-jose checks the signature over the raw payload (RFC 7797 unencoded payload)"
				f.Fix = "have the issuer drop the b64 header member (Keycloak never writes it)"
			case len(defects) > 0:
				f.Message += ": " + strings.Join(defects, "; ") + ". Vault built with Go 1.24 or later refuses these keys"
				f.Fix = "have Keycloak sign with an RSA key of at least 2048 bits (Realm settings → Keys → Add provider → rsa-generated)"
			}
			return sigFailed, f
		}
	}
	if f, ok := claims["iat"].(float64); ok {
		iatT := time.Unix(floatToInt64(f), 0)
		if e.now.Add(time.Minute).Before(iatT) {
			return e.exchangeMessage(fmt.Sprintf(vaultFmtOIDCIssuedAt, e.now.UTC(), iatT.UTC())), Finding{
				Message: "the ID token's iat " + vaultTimeWords(iatT.Unix()) + " is more than 1 minute ahead of Vault's clock " + fmtTime(e.now),
				Fix:     "sync the Keycloak and Vault clocks with NTP"}
		}
	}
	if sub, _ := claims["sub"].(string); sub == "" {
		return e.exchangeMessage(vaultMsgOIDCNoSub), Finding{
			Message: "the ID token has no sub", Fix: "use an ID token issued by Keycloak (it always sets sub)"}
	}
	auds, _, _ := audiences(tok.Claims)
	if len(auds) == 0 {
		return e.exchangeMessage(vaultMsgOIDCNoAud), Finding{
			Message: "the ID token has no aud", Fix: "use an ID token issued by Keycloak (its aud is the client id)"}
	}
	if step, msg := VaultAudience(VaultLoginOIDC, role.BoundAudiences, auds, true); step != "" {
		return msg, Finding{
			Message: "the ID token's aud " + quoteList(auds) + " has none of the role's bound_audiences " + quoteList(role.BoundAudiences),
			Fix:     "for OIDC roles bound_audiences is usually not needed: remove it from " + e.roleRef() + ", or set it to the client id " + quoteList(auds[:1])}
	}
	if cfg == nil {
		e.note(FindingVaultConfigUnknown, SeverityInfo, "aud/azp were not compared with oidc_client_id: the mount config was not given", "pass the mount config")
		return "", Finding{}
	}
	cid := cfg.OIDCClientID
	azpRaw, hasAzp := claims["azp"]
	azpFix := "the ID token must be issued to the mount's oidc_client_id " + strconv.Quote(cid) + ": set client_id on the auth entry in sso.yaml to the Keycloak client Vault logs in with"
	if len(auds) > 1 && !containsString(auds, cid) {
		return e.exchangeMessage(fmt.Sprintf(vaultFmtOIDCMultiAud, auds, cid)), Finding{
			Message: "the ID token has several audiences " + quoteList(auds) + " and none is the client id " + strconv.Quote(cid), Fix: azpFix}
	}
	if hasAzp && !comparableEqual(azpRaw, cid) {
		return e.exchangeMessage(fmt.Sprintf(vaultFmtOIDCAzp, azpRaw, cid)), Finding{
			Message: "the ID token's azp " + describeValue(azpRaw) + " is not the mount's client id " + strconv.Quote(cid), Fix: azpFix}
	}
	if len(auds) > 1 && !comparableEqual(azpRaw, cid) {
		return e.exchangeMessage(fmt.Sprintf(vaultFmtOIDCMultiAudAzp, azpRaw, cid)), Finding{
			Message: "the ID token has several audiences and no azp equal to the client id " + strconv.Quote(cid), Fix: azpFix}
	}
	if len(auds) == 1 && auds[0] != cid && !comparableEqual(azpRaw, cid) {
		return e.exchangeMessage(fmt.Sprintf(vaultFmtOIDCOneAudAzp, auds[0], cid, azpRaw, cid)), Finding{
			Message: "the ID token's only audience " + strconv.Quote(auds[0]) + " is not the client id " + strconv.Quote(cid) + " and azp does not name it either", Fix: azpFix}
	}
	if role.MaxAge > 0 {
		e.note(FindingVaultOIDCNotes, SeverityInfo, "max_age "+role.MaxAge.String()+" is set: Vault also requires auth_time within it (not checked here)", "none needed")
	}
	return "", Finding{}
}
