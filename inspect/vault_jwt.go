package inspect

import (
	"fmt"
	"strconv"
	"strings"
)

// jwtLogin models POST auth/MOUNT/login (plugin path_login.go) followed by createIdentity and
// validateBoundClaims.
func (e *vaultEval) jwtLogin() error {
	role, cfg, tok := e.role, e.cfg, e.tok
	if role.RoleType == "oidc" {
		msg := e.roleRef() + " has role_type oidc (the browser flow); a token POSTed to auth/" + e.mount + "/login needs role_type jwt"
		if role.RoleTypeDefaulted {
			msg += ". The role file has no role_type, and Vault makes a role oidc whenever role_type is left out of a write"
		}
		e.reject(VaultStepRole, 400, vaultMsgOIDCRoleType, Finding{ID: FindingVaultRoleType, Message: msg,
			Fix: "write the role with role_type=jwt (always send role_type: a write without it turns the role into oidc); in sso.yaml put the role under an auth entry with `type: jwt`, or log in through the browser flow instead (`vault login -method=oidc -path=" + e.mount + " role=" + e.roleName + "`)"})
		return nil
	}
	if len(role.TokenBoundCIDRs) > 0 {
		e.note(FindingVaultBoundCIDRs, SeverityInfo, "token_bound_cidrs "+strings.Join(role.TokenBoundCIDRs, ", ")+" is set: a login from another address gets 403 permission denied before the token is looked at (not evaluated here)",
			"log in from an address inside the CIDRs, or widen token_bound_cidrs")
	}
	algs := defaultJWTAlgs
	if cfg != nil {
		switch at := cfg.AuthType(); at {
		case VaultAuthOIDCFlow, VaultAuthUnconfigured:
			msg := "the mount is configured for the OIDC browser flow (oidc_discovery_url with oidc_client_id and a client secret); such a mount cannot validate a JWT login"
			fix := "add a second auth mount of `type: jwt` in sso.yaml with the same discovery_url and no client_id/client secret, and put the jwt roles there (Vault: `vault auth enable -path=jwt jwt`, then write auth/jwt/config with oidc_discovery_url only)"
			if at == VaultAuthUnconfigured {
				msg = "the mount config sets none of jwt_validation_pubkeys, jwks_url, jwks_pairs or oidc_discovery_url"
				fix = "write auth/" + e.mount + "/config with oidc_discovery_url (the Keycloak issuer) or jwks_url"
			}
			e.reject(VaultStepValidator, 400, vaultMsgUnsupportedConfig, Finding{ID: FindingVaultValidator, Message: msg, Fix: fix})
			return nil
		}
		if len(cfg.JWTSupportedAlgs) > 0 {
			algs = cfg.JWTSupportedAlgs
		}
	}

	claims, ok, err := e.jwtSignature()
	if err != nil || !ok {
		return err
	}

	if !containsString(algs, tok.Header.Alg) {
		e.reject(VaultStepAlgorithm, 400, vaultMsgAlgorithm, Finding{ID: FindingVaultAlgorithm,
			Message: "the token is signed with " + tok.Header.Alg + "; the mount accepts " + strings.Join(algs, ", ") + " (jwt_supported_algs)",
			Fix:     "add " + tok.Header.Alg + " to jwt_supported_algs on auth/" + e.mount + "/config, or have Keycloak sign with one of " + strings.Join(algs, ", ") + " (client → Advanced → access/ID token signature algorithm)"})
		return nil
	}

	reg, err := vaultDecodeRegistered(claims)
	if err != nil {
		e.reject(VaultStepClaims, 400, vaultMsgValidating+err.Error(), Finding{ID: FindingVaultClaimsDecode,
			Message: "Vault cannot decode the token's registered claims (aud must be a string or a list of strings, exp/nbf/iat numbers, iss/sub/jti strings)",
			Fix:     "fix the mapper that overrides a registered claim (a Keycloak attribute or hardcoded-claim mapper named aud, exp, iat, iss, jti, nbf or sub)"})
		return nil
	}

	if cfg != nil {
		if cfg.BoundIssuer != "" && cfg.BoundIssuer != reg.iss {
			f := CheckIssuer(tok.Claims, cfg.BoundIssuer)
			msg := "the token's iss " + strconv.Quote(reg.iss) + " is not the mount's bound_issuer " + strconv.Quote(cfg.BoundIssuer)
			if len(f) > 0 {
				msg = strings.Replace(f[0].Message, "expected exactly", "bound_issuer is", 1)
			}
			e.reject(VaultStepIssuer, 400, vaultMsgIssuer, Finding{ID: FindingVaultBoundIssuer, Message: msg,
				Fix: "set bound_issuer on auth/" + e.mount + "/config to " + strconv.Quote(reg.iss) + " exactly (sso.yaml: the mount's discovery_url), or make Keycloak issue " + strconv.Quote(cfg.BoundIssuer) + " (KC_HOSTNAME)"})
			return nil
		}
		if cfg.BoundIssuer == "" {
			e.note(FindingVaultNoBoundIssuer, SeverityInfo, "bound_issuer is empty, so Vault does not check iss on a jwt login (even with discovery)",
				"set bound_issuer on auth/"+e.mount+"/config to "+strconv.Quote(reg.iss))
		}
	}

	if role.BoundSubject != "" && role.BoundSubject != reg.sub {
		e.reject(VaultStepSubject, 400, vaultMsgSubject, Finding{ID: FindingVaultBoundSubject,
			Message: "the token's sub " + strconv.Quote(reg.sub) + " is not the role's bound_subject " + strconv.Quote(role.BoundSubject),
			Fix:     "set bound_subject on " + e.roleRef() + " to " + strconv.Quote(reg.sub) + " (Keycloak's sub is the user's id, or service-account user id for client credentials), or remove it"})
		return nil
	}

	audPresent := false // Vault's presence test after Validate (pathLogin)
	switch a := claims["aud"].(type) {
	case []any:
		audPresent = len(a) > 0
	case string:
		audPresent = a != ""
	}
	audStep, audMsg := VaultAudience(VaultLoginJWT, role.BoundAudiences, reg.aud, audPresent)
	if audStep == VaultStepAudience {
		azp := claimString(tok.Claims, "azp")
		client := azp
		if client == "" {
			client = "CLIENT"
		}
		e.reject(audStep, 400, audMsg, Finding{ID: FindingVaultBoundAudiences,
			Message: "the token's aud is " + quoteList(reg.aud) + "; the role's bound_audiences " + quoteList(role.BoundAudiences) + " has none of them (exact, case-sensitive)",
			Fix:     "add `- audience: " + role.BoundAudiences[0] + "` to client " + client + "'s mappers in sso.yaml, or set bound_audiences on " + e.roleRef() + " to one of the token's audiences " + quoteList(reg.aud)})
		if f := accountAudienceFinding(tok); f != nil && tok.Kind == KindAccess {
			e.hint(*f)
		}
		return nil
	}

	if msg, f := e.jwtTimes(reg); msg != "" {
		e.reject(VaultStepTime, 400, vaultMsgValidating+msg, f)
		return nil
	}

	if audStep == VaultStepAudienceUnbound {
		auds, _, _ := audiences(tok.Claims)
		e.reject(audStep, 400, audMsg, Finding{ID: FindingVaultAudienceUnbound,
			Message: "the token has aud " + quoteList(auds) + " but " + e.roleRef() + " has no bound_audiences; Vault refuses a token with an audience it was not told to expect",
			Fix:     "set `bound_audiences: [" + strings.Join(auds, ", ") + "]` on the role in sso.yaml (Vault: bound_audiences=" + strings.Join(auds, ",") + ")"})
		return nil
	}

	if !e.identity(claims) {
		return nil
	}
	e.boundClaims(claims)
	return nil
}

// jwtSignature models the validator's key set. It returns Vault's view of the claims.
func (e *vaultEval) jwtSignature() (map[string]any, bool, error) {
	tok := e.tok
	static := e.cfg != nil && e.cfg.AuthType() == VaultAuthStaticKeys
	var candidates []*Key
	switch {
	case static:
		ks, isSet := e.keys.(*KeySet)
		if !isSet || ks == nil {
			var err error
			if ks, err = KeySetFromPEMs(e.cfg.JWTValidationPubKeys); err != nil {
				return nil, false, err
			}
		}
		candidates = ks.Keys()
	case e.keys != nil:
		if _, isSet := e.keys.(*KeySet); isSet && e.cfg == nil {
			static = true
		}
		if ks, isSet := e.keys.(*KeySet); static && isSet {
			candidates = ks.Keys() // a static key set tries every key, whatever the kid
			break
		}
		keys, err := e.keys.KeysFor(e.ctx, tok.Header.Kid)
		if err != nil {
			return nil, false, err
		}
		for _, k := range keys {
			if tok.Header.Kid == "" || k.ID == tok.Header.Kid {
				candidates = append(candidates, k) // go-oidc matches the kid exactly
			}
		}
	default:
		claims, err := vaultClaims(tok.Claims)
		if err != nil {
			e.reject(VaultStepSignature, 400, vaultMsgSignature+err.Error(), Finding{ID: FindingVaultSignature,
				Message: "Vault cannot decode a number in the claims as float64", Fix: "fix the mapper that writes this number"})
			return nil, false, nil
		}
		e.note(FindingVaultSignatureUnchecked, SeverityInfo, "the signature step was not modelled: no keys for the mount's key source were given",
			"pass the mount's keys (--jwks, or the config with jwt_validation_pubkeys / a reachable jwks_url or discovery URL)")
		if f := algFinding(tok); f != nil {
			e.reject(VaultStepSignature, 400, e.sigMessage(false, true), Finding{ID: FindingVaultSignature, Message: f.Message, Fix: f.Fix})
			return nil, false, nil
		}
		if why := vaultCritRefusal(tok.Header.Fields); why != "" {
			e.reject(VaultStepSignature, 400, e.sigMessage(false, true), Finding{ID: FindingVaultSignature, Message: why, Fix: critFix})
			return nil, false, nil
		}
		return claims, true, nil
	}

	claims, claimsErr := vaultClaims(tok.Claims)
	goJoseParses := isSignatureAlg(tok.Header.Alg)
	if !static && !goJoseParses {
		e.reject(VaultStepSignature, 400, e.sigMessage(false, false), Finding{ID: FindingVaultSignature,
			Message: "Vault's JWKS key set parses only " + strings.Join(defaultJWTAlgs, ", ") + "; the token says " + strconv.Quote(tok.Header.Alg),
			Fix:     "use a token signed by Keycloak with an asymmetric algorithm (RS256 by default); alg none and HS* are never accepted"})
		return nil, false, nil
	}
	critWhy := vaultCritRefusal(tok.Header.Fields)
	input, unencoded := vaultSigningInput(tok)
	var verifiedBy *Key
	var defects []string
	if len(tok.Signature) > 0 && goJoseParses && critWhy == "" {
		digest := hashFor(tok.Header.Alg, input)
		for _, k := range candidates {
			if !familyAccepts(k, tok.Header.Alg) {
				continue
			}
			if why := keyDefect(k); why != "" {
				defects = append(defects, why) // refused by Go's crypto/rsa, whatever the signature
				continue
			}
			if verifySignature(tok.Header.Alg, k, input, digest, tok.Signature) {
				verifiedBy = k
				break
			}
		}
	}
	if verifiedBy == nil || (static && claimsErr != nil) {
		f := Finding{ID: FindingVaultSignature}
		switch {
		case verifiedBy != nil:
			f.Message, f.Fix = "the claims contain a number Vault cannot decode ("+claimsErr.Error()+"), which its static key set counts as a failed key", "fix the mapper that writes this number"
		case algFinding(tok) != nil:
			af := algFinding(tok)
			f.Message, f.Fix = af.Message, af.Fix
		case critWhy != "":
			f.Message, f.Fix = critWhy, critFix
		case unencoded && e.verifiesEncoded(candidates):
			f.Message = "the header has b64 false, so Vault's go-jose checks the signature over the raw payload (RFC 7797 unencoded payload), but the token was signed over its base64url payload"
			f.Fix = "have the issuer drop the b64 header member (Keycloak never writes it)"
		case len(defects) > 0:
			f.Message = "no usable key verifies this " + tok.Header.Alg + " signature: " + strings.Join(defects, "; ") + ". Vault built with Go 1.24 or later refuses these keys (older builds accepted RSA keys under 1024 bits)"
			f.Fix = "have Keycloak sign with an RSA key of at least 2048 bits (Realm settings → Keys → Add provider → rsa-generated) and give Vault that key"
		case len(candidates) == 0 && tok.Header.Kid != "":
			f.Message = "no key with kid " + strconv.Quote(tok.Header.Kid) + " in " + e.keys.String() + " (Vault refetches the JWKS once for an unknown kid, as ssoctl did)"
			f.Fix = "the token was signed by a key the mount does not know: check that the mount's discovery URL / jwks_url is the realm that issued the token (iss " + strconv.Quote(claimString(tok.Claims, "iss")) + ")"
		default:
			src := "jwt_validation_pubkeys"
			if !static {
				src = e.keys.String()
			}
			f.Message = "no key in " + src + " verifies this " + tok.Header.Alg + " signature"
			f.Fix = "put the realm's current public key into jwt_validation_pubkeys (Keycloak: Realm settings → Keys → RS256 → Public key), or better use oidc_discovery_url/jwks_url so key rotation is followed"
			if !static {
				f.Fix = "check that the mount's key source is the realm that issued the token (iss " + strconv.Quote(claimString(tok.Claims, "iss")) + "); a token edited after signing never verifies"
			}
		}
		e.reject(VaultStepSignature, 400, e.sigMessage(static, verifiedBy == nil), f)
		return nil, false, nil
	}
	if claimsErr != nil {
		e.reject(VaultStepSignature, 400, vaultMsgSignature+claimsErr.Error(), Finding{ID: FindingVaultSignature,
			Message: "the signature verifies but Vault cannot decode a number in the claims as float64", Fix: "fix the mapper that writes this number"})
		return nil, false, nil
	}
	e.critLenient()
	if why := keyAccepts(verifiedBy, tok.Header.Alg); why != "" {
		e.hint(Finding{ID: FindingVaultKeyAlgLenient, Severity: SeverityWarning,
			Message: "Vault accepts this signature although " + why + "; ssoctl's own verification refuses it",
			Fix:     "publish the key with the alg it is used for, or sign with the key's registered alg"})
	}
	return claims, true, nil
}

// critLenient warns when Vault's go-jose lets through a crit header that RFC 7515 (and
// ssoctl's own verification) refuses: an empty or null list, or "b64" without a b64 member.
func (e *vaultEval) critLenient() {
	if f := critFinding(e.tok.Header.Fields); f != nil && vaultCritRefusal(e.tok.Header.Fields) == "" {
		e.hint(Finding{ID: FindingVaultCritLenient, Severity: SeverityWarning,
			Message: "Vault's go-jose accepts this crit header, but RFC 7515 and ssoctl's own verification refuse it: " + f.Message,
			Fix:     critFix})
	}
}

const critFix = "have the issuer sign without a crit header (Keycloak never writes one)"

// verifiesEncoded reports whether a candidate verifies the signature over the token's
// base64url signing input, the one every verifier but go-jose with b64 false uses.
func (e *vaultEval) verifiesEncoded(candidates []*Key) bool {
	tok := e.tok
	digest := hashFor(tok.Header.Alg, tok.SigningInput)
	for _, k := range candidates {
		if familyAccepts(k, tok.Header.Alg) && keyDefect(k) == "" && verifySignature(tok.Header.Alg, k, tok.SigningInput, digest, tok.Signature) {
			return true
		}
	}
	return false
}

func (e *vaultEval) sigMessage(static, keyFailed bool) string {
	const prefix = vaultMsgSignature
	if static {
		return prefix + vaultMsgStaticKeys
	}
	if !isSignatureAlg(e.tok.Header.Alg) {
		return prefix + "oidc: malformed jwt: go-jose/go-jose: unexpected signature algorithm " + strconv.Quote(e.tok.Header.Alg) + "; expected " + fmt.Sprintf("%q", defaultJWTAlgs)
	}
	return prefix + vaultMsgJWKSVerify
}
