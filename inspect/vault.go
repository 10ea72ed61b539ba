package inspect

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// VaultLogin is the way a token reaches Vault.
type VaultLogin string

const (
	// VaultLoginAuto follows the role's role_type: jwt roles log in with the token, oidc roles
	// through the browser/CLI flow.
	VaultLoginAuto VaultLogin = ""
	// VaultLoginJWT is `vault write auth/MOUNT/login role=R jwt=TOKEN`.
	VaultLoginJWT VaultLogin = "jwt"
	// VaultLoginOIDC is the browser/CLI flow ending in auth/MOUNT/oidc/callback, where Vault
	// gets the ID token from Keycloak itself.
	VaultLoginOIDC VaultLogin = "oidc"
)

// VaultStep names the check at which Vault stops.
type VaultStep string

// The steps of the model, in the order Vault runs them for each login kind.
const (
	// VaultStepRole: role_type against the login path.
	VaultStepRole VaultStep = "role"
	// VaultStepValidator: building a validator from the mount config (jwt logins).
	VaultStepValidator VaultStep = "validator"
	// VaultStepSignature: the key set verifying the signature.
	VaultStepSignature VaultStep = "signature"
	// VaultStepAlgorithm: alg against jwt_supported_algs.
	VaultStepAlgorithm VaultStep = "algorithm"
	// VaultStepClaims: decoding the registered claims (aud, exp, iat, iss, jti, nbf, sub).
	VaultStepClaims VaultStep = "claims"
	// VaultStepIssuer: bound_issuer.
	VaultStepIssuer VaultStep = "issuer"
	// VaultStepSubject: bound_subject.
	VaultStepSubject VaultStep = "subject"
	// VaultStepAudience: bound_audiences.
	VaultStepAudience VaultStep = "audience"
	// VaultStepTime: iat/nbf/exp with the role's leeways.
	VaultStepTime VaultStep = "time"
	// VaultStepAudienceUnbound: aud present while the role has no bound_audiences (after time).
	VaultStepAudienceUnbound VaultStep = "audience-unbound"
	// VaultStepUserClaim: user_claim.
	VaultStepUserClaim VaultStep = "user-claim"
	// VaultStepClaimMappings: claim_mappings.
	VaultStepClaimMappings VaultStep = "claim-mappings"
	// VaultStepGroupsClaim: groups_claim.
	VaultStepGroupsClaim VaultStep = "groups-claim"
	// VaultStepBoundClaims: bound_claims.
	VaultStepBoundClaims VaultStep = "bound-claims"
	// VaultStepPolicyTemplate: OpenBao's templating of token_policies over the claims fails.
	VaultStepPolicyTemplate VaultStep = "policy-template"
	// VaultStepOIDCConfig: the mount is not configured for the OIDC flow.
	VaultStepOIDCConfig VaultStep = "oidc-config"
	// VaultStepTokenKind: the token is not one Vault's OIDC flow ever reads.
	VaultStepTokenKind VaultStep = "token-kind"
	// VaultStepIDToken: the OIDC callback's ID-token verification.
	VaultStepIDToken VaultStep = "id-token"
)

// VaultOptions tune EvaluateVault.
type VaultOptions struct {
	// Now is the time Vault evaluates at; zero means time.Now().
	Now time.Time
	// Login chooses the login path; VaultLoginAuto follows the role's role_type.
	Login VaultLogin
	// RoleName names the role in messages and in the alias metadata "role"; default role.Name.
	RoleName string
	// Mount is the auth mount path, for messages; default "jwt" or "oidc" by login path.
	Mount string
	// Flavor is the server the model follows: FlavorVault (default) or
	// FlavorOpenBao, whose JWT plugin is a fork of Vault's.
	Flavor string
	// RoleFromServer says the role was read from a live server (doctor,
	// inspect token --vault-role), not from a file. OpenBao's templated
	// policies that ssoctl cannot evaluate (*TemplateLimitError) are then a
	// warning in the verdict (VaultVerdict.CannotEvaluate) instead of
	// EvaluateVault's error: the role is the server's, not bad input.
	RoleFromServer bool
}

// Server flavours the model knows.
const (
	FlavorVault   = "vault"
	FlavorOpenBao = "openbao"
)

// VaultVerdict is what Vault would answer. JSON (the "vault" object of Report):
//
//	{"accepted": bool, "login": "jwt"|"oidc", "role": name, "step": VaultStep (on rejection),
//	 "message": Vault's exact error text, "messages": [every text Vault may give] (only when
//	 there are several), "http_status": 400|403|500,
//	 "alias": user claim value, "group_aliases": [...], "metadata": {...}, "policies": [...],
//	 "findings": [Finding...]}
type VaultVerdict struct {
	// Accepted is true when Vault would log the user in.
	Accepted bool `json:"accepted"`
	// Login is the login path modelled.
	Login VaultLogin `json:"login"`
	// Role is the role name.
	Role string `json:"role,omitempty"`
	// Step is where Vault stops (empty when accepted).
	Step VaultStep `json:"step,omitempty"`
	// Message is Vault's error text (the errors[0] of its answer); empty when accepted, when
	// Vault would never see the token (VaultStepTokenKind), and when ssoctl cannot evaluate
	// OpenBao's policy templates (CannotEvaluate).
	Message string `json:"message,omitempty"`
	// Messages, when Vault may give any of several messages (it names the first failing entry of
	// bound_claims or claim_mappings in Go's random map order), lists every one, Message first.
	Messages []string `json:"messages,omitempty"`
	// HTTPStatus is the status of Vault's answer to a rejected login.
	HTTPStatus int `json:"http_status,omitempty"`
	// Alias is the entity alias name (the user claim's value) on acceptance.
	Alias string `json:"alias,omitempty"`
	// GroupAliases are the names from the groups claim, each looked up as an external group
	// alias on the mount (names without an alias are silently ignored by Vault).
	GroupAliases []string `json:"group_aliases,omitempty"`
	// Metadata is the alias metadata from claim_mappings plus "role".
	Metadata map[string]string `json:"metadata,omitempty"`
	// Policies are the role's token_policies (group policies come on top from identity).
	Policies []string `json:"policies,omitempty"`
	// Findings explain the rejection (the first one quotes Message) and add context.
	Findings []Finding `json:"findings"`
}

// CannotEvaluate reports that ssoctl could not evaluate OpenBao's templated token policies of a
// role read from a server within its budgets (MaxTemplateSteps and the rest): the verdict is
// not a prediction, and a warning finding says why.
func (v VaultVerdict) CannotEvaluate() bool {
	return !v.Accepted && v.Step == VaultStepPolicyTemplate && v.Message == ""
}

// defaultJWTAlgs is the list a jwt login accepts when jwt_supported_algs is empty: the
// algorithms verified here.
var defaultJWTAlgs = signatureAlgs[:]

// EvaluateVault predicts how Vault's JWT/OIDC auth method treats tok for role on a mount with
// config, following the plugin's checks in its order and stopping at the first failure as Vault
// does. config may be nil (its checks are then skipped with an info finding).
//
// keys are the keys Vault would use. With config.jwt_validation_pubkeys they are taken from the
// config when keys is nil. For jwks_url pass NewRemoteJWKS(client, config.JWKSURL); for
// oidc_discovery_url pass a RemoteJWKS of the discovered jwks_uri. When no keys are available the
// signature step is skipped with an info finding. The error is only a runtime failure of the key
// source, unparsable jwt_validation_pubkeys (*InputError), or, for a role that is not
// opts.RoleFromServer, OpenBao policy templates past ssoctl's budgets (*TemplateLimitError).
//
// Vault's own checks are modelled, not ssoctl's: Vault verifies with any key of the right type
// for the header alg and ignores a JWK's registered "alg"; where that differs from Verify's
// stricter rule a warning says so.
func EvaluateVault(ctx context.Context, tok *Token, role *VaultRole, config *VaultConfig, keys KeySource, opts VaultOptions) (VaultVerdict, error) {
	e := &vaultEval{ctx: ctx, tok: tok, role: role, cfg: config, keys: keys, opts: opts}
	e.now = opts.Now
	if e.now.IsZero() {
		e.now = time.Now()
	}
	e.roleName = opts.RoleName
	if e.roleName == "" {
		e.roleName = role.Name
	}
	if e.roleName == "" {
		e.roleName = "ROLE"
	}
	login := opts.Login
	if login == VaultLoginAuto {
		login = VaultLogin(role.RoleType)
	}
	e.v = VaultVerdict{Login: login, Role: e.roleName, Findings: []Finding{}}
	e.mount = opts.Mount
	if e.mount == "" {
		e.mount = string(login)
	}
	if opts.Flavor == FlavorOpenBao && role.TokenPoliciesTemplateClaims {
		// OpenBao parses the templates when the role is written: a role
		// whose template does not parse cannot exist there.
		if err := parsePolicyTemplates(role.TokenPolicies); err != nil {
			if le := (*TemplateLimitError)(nil); errors.As(err, &le) {
				if !opts.RoleFromServer {
					return VaultVerdict{}, err
				}
				e.cannotEvaluate(le)
				e.v.Findings = e.failure
				return e.v, nil
			}
			e.reject(VaultStepRole, 400, openBaoRoleWriteHead+err.Error()+openBaoRoleWriteTail, Finding{ID: FindingVaultPolicyTemplate,
				Message: "OpenBao refuses to store this role: a token_policies template does not parse",
				Fix:     "fix the template (Go text/template; functions: truncate, truncate_sha256, uppercase, lowercase, replace, sha256, base64, decode_base64, hex, decode_hex, glob, random, unix_time, unix_time_millis, timestamp, uuid)"})
			e.v.Findings = e.failure
			return e.v, nil
		}
	}
	if config == nil {
		e.note(FindingVaultConfigUnknown, SeverityInfo, "the mount config (auth/"+e.mount+"/config) was not given: bound_issuer, jwt_supported_algs and the key source were not checked",
			"pass the mount config (or let ssoctl read it from Vault) to check them")
	}
	var err error
	if login == VaultLoginOIDC {
		err = e.oidcLogin()
	} else {
		err = e.jwtLogin()
	}
	if err == nil {
		err = e.err
	}
	if err != nil {
		return VaultVerdict{}, err
	}
	e.v.Findings = make([]Finding, 0, len(e.failure)+len(e.hints)+len(e.notes))
	e.v.Findings = append(append(append(e.v.Findings, e.failure...), e.hints...), e.notes...)
	return e.v, nil
}

type vaultEval struct {
	ctx      context.Context
	tok      *Token
	role     *VaultRole
	cfg      *VaultConfig
	keys     KeySource
	opts     VaultOptions
	now      time.Time
	roleName string
	mount    string

	v       VaultVerdict
	err     error // a key source failure met in the middle of the model, or a *TemplateLimitError
	failure []Finding
	hints   []Finding
	notes   []Finding
}

func (e *vaultEval) reject(step VaultStep, status int, msg string, f Finding) {
	e.v.Accepted = false
	e.v.Step, e.v.Message, e.v.Messages, e.v.HTTPStatus = step, msg, nil, status
	f.Severity = SeverityError
	f.VaultMessage = msg
	e.failure = []Finding{f}
}

// cannotEvaluate is the verdict on a role read from a server whose policy templates ssoctl
// cannot evaluate: no prediction, and a warning.
func (e *vaultEval) cannotEvaluate(le *TemplateLimitError) {
	e.v.Accepted = false
	e.v.Step, e.v.Message, e.v.Messages, e.v.HTTPStatus = VaultStepPolicyTemplate, "", nil, 0
	e.failure = []Finding{{ID: FindingVaultPolicyTemplate, Severity: SeverityWarning,
		Message: le.Error() + ", so the policies and the outcome of this login are not predicted. OpenBao sets no limit of its own on these templates: a login with " + e.roleRef() + " costs the server as much work and memory as the template asks for",
		Fix:     "make the template a short expression over the claims (no large {{range}}, recursive {{template}}, or wide printf); ssoctl's budgets are in docs/openbao.md"}}
}

// rejectOneOf rejects with one of several messages, each of which Vault may give: it stops at
// the first failure of a loop over a Go map, whose order is random. The verdict's Message is the
// first; Messages and the finding name all of them.
func (e *vaultEval) rejectOneOf(step VaultStep, msgs []string, what string, f Finding) {
	e.reject(step, 400, msgs[0], f)
	if len(msgs) < 2 {
		return
	}
	e.v.Messages = msgs
	q := make([]string, len(msgs))
	for i, m := range msgs {
		q[i] = strconv.Quote(m)
	}
	e.failure[0].Message += ". " + strings.ToUpper(what[:1]) + what[1:] + ", and Vault names the first one it meets in Go's random map order, so Vault names one of: " + strings.Join(q, ", ")
	e.failure[0].VaultMessages = msgs
}

func (e *vaultEval) note(id string, sev Severity, msg, fix string) {
	e.notes = append(e.notes, Finding{ID: id, Severity: sev, Message: msg, Fix: fix})
}

func (e *vaultEval) hint(f Finding) { e.hints = append(e.hints, f) }

func (e *vaultEval) roleRef() string {
	return "role " + strconv.Quote(e.roleName) + " (auth/" + e.mount + "/role/" + e.roleName + ")"
}

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

// jwtTimes is cap's time validation with the role's leeways. cap counts a time claim that is
// absent, null or 0 whole seconds as missing and makes up the missing ones: exp = the later of
// iat and nbf + expiration_leeway when exp is missing; nbf = iat when nbf is missing, or
// exp − not_before_leeway when iat is missing too. The messages say which of these Vault did.
func (e *vaultEval) jwtTimes(reg vaultRegistered) (string, Finding) {
	role, claims := e.role, e.tok.Claims
	iat, nbf, exp := reg.iat, reg.nbf, reg.exp
	if iat == 0 && exp == 0 && nbf == 0 {
		return vaultMsgNoTimes, Finding{ID: FindingVaultTime,
			Message: "Vault finds none of iat, nbf, exp: " + vaultAbsent(claims, "iat") + "; " + vaultAbsent(claims, "nbf") + "; " + vaultAbsent(claims, "exp"),
			Fix:     "use a token from Keycloak (it always sets exp and iat)"}
	}
	outOfRange := map[string]bool{}
	for _, name := range [...]string{"exp", "nbf", "iat"} {
		if v, ok := claims[name]; ok && v != nil {
			if _, inRange := NumericDate(v); !inRange {
				outOfRange[name] = true
			}
		}
	}
	rangeNote := func(name string, n int64) string {
		return name + " " + describeValue(claims[name]) + " is out of range, and Vault reads it as " + strconv.FormatInt(n, 10) + " seconds, " + vaultTimeWords(n)
	}
	leeway := func(field string, d time.Duration) (int64, string) {
		switch {
		case d < 0:
			return 0, field + " 0s (a negative value disables it)"
		case d == 0:
			return 150, field + " 2m30s (the default for 0)"
		}
		return int64(d.Seconds()), field + " " + (time.Duration(int64(d.Seconds())) * time.Second).String()
	}

	expWhy := ""
	if exp == 0 {
		latest, latestName := iat, "iat"
		if nbf > iat {
			latest, latestName = nbf, "nbf"
		}
		var from string
		switch {
		case iat != 0 && nbf != 0:
			from = "the later of iat and nbf (" + latestName + " " + vaultTimeWords(latest) + ")"
		case iat != 0:
			from = "iat " + vaultTimeWords(iat)
		case nbf > 0:
			from = "nbf " + vaultTimeWords(nbf)
		default: // iat missing and nbf before 1970: cap keeps iat's 0
			from = "0 (iat is missing, and nbf " + vaultTimeWords(nbf) + " is not later than 0)"
		}
		l, lText := leeway("expiration_leeway", role.ExpirationLeeway)
		exp = latest + l
		expWhy = vaultAbsent(claims, "exp") + ", so Vault makes up exp = " + from + " + " + lText + " = " + vaultTimeWords(exp)
	}
	nbfWhy, nbfFromExp := "", false
	if nbf == 0 {
		if iat != 0 {
			nbf = iat
			nbfWhy = vaultAbsent(claims, "nbf") + ", so Vault takes iat as nbf: " + vaultTimeWords(nbf)
		} else {
			l, lText := leeway("not_before_leeway", role.NotBeforeLeeway)
			nbf = exp - l // exp is the token's own here: a made-up exp needs iat or nbf
			neither := vaultAbsent(claims, "nbf") + " and " + vaultAbsent(claims, "iat")
			if _, has := claims["nbf"]; !has {
				if _, has := claims["iat"]; !has {
					neither = "the token has neither nbf nor iat"
				}
			}
			nbfWhy = neither + ", so Vault makes up nbf = exp " + vaultTimeWords(exp) + " − " + lText + " = " + vaultTimeWords(nbf)
			nbfFromExp = true
		}
	}

	cks := role.ClockSkewLeeway
	switch {
	case cks < 0:
		cks = 0
	case cks == 0:
		cks = 60 * time.Second
	}
	now := e.now
	skewText := "clock_skew_leeway " + cks.String()
	if role.ClockSkewLeeway == 0 {
		skewText += " (the default for 0)"
	}
	skewFix := "sync the clocks of Keycloak and Vault with NTP, or raise clock_skew_leeway on " + e.roleRef() + " (seconds; -1 disables it)"
	failed := "" // the claim Vault stops at; it checks nbf, then exp, then iat
	defer func() {
		for _, name := range [...]string{"nbf", "exp", "iat"} {
			if name == failed {
				break
			}
			if outOfRange[name] {
				n := map[string]int64{"exp": reg.exp, "nbf": reg.nbf, "iat": reg.iat}[name]
				e.hint(Finding{ID: FindingVaultTime, Severity: SeverityWarning, Message: rangeNote(name, n) + "; Vault does not object to it",
					Fix: "the issuer must write " + name + " as the seconds since 1970 of a real date"})
			}
		}
	}()
	if nbfT := vaultTime(nbf); now.Add(cks).Before(nbfT) {
		failed = "nbf"
		what, fix := "nbf "+vaultTimeWords(nbf), skewFix
		switch {
		case outOfRange["nbf"]:
			what = rangeNote("nbf", nbf)
		case nbfWhy != "":
			what = nbfWhy
		}
		if nbfFromExp {
			fix = "have the issuer write iat (Keycloak always does), or raise not_before_leeway on " + e.roleRef() + " to at least the token's lifetime: Vault made nbf up from exp because the token has neither nbf nor iat"
		}
		return vaultMsgNotYetValid, Finding{ID: FindingVaultTime,
			Message: what + ", which is " + aheadOf(nbfT, now) + " Vault's clock " + fmtTime(now) + ", more than " + skewText,
			Fix:     fix}
	}
	if expT := vaultTime(exp); now.Add(-cks).After(expT) {
		failed = "exp"
		what, fix := "exp "+vaultTimeWords(exp), "get a fresh token (Keycloak: realm Access Token Lifespan); if the clocks disagree, "+skewFix
		switch {
		case outOfRange["exp"]:
			what = rangeNote("exp", exp)
			fix = "the issuer must write exp as the seconds since 1970 of a real date (Keycloak: check hardcoded-claim or attribute mappers named exp)"
		case expWhy != "":
			what = expWhy
			fix = "have the issuer write exp (Keycloak always does), or raise expiration_leeway on " + e.roleRef() + ": it is how long Vault accepts a token without exp"
		}
		return vaultMsgExpired, Finding{ID: FindingVaultTime,
			Message: what + ", which is " + behind(expT, now) + " Vault's clock " + fmtTime(now) + ", more than " + skewText,
			Fix:     fix}
	}
	if iatT := vaultTime(iat); iat != 0 && now.Add(cks).Before(iatT) {
		failed = "iat"
		what := "iat " + vaultTimeWords(iat)
		if outOfRange["iat"] {
			what = rangeNote("iat", iat)
		}
		return vaultMsgFuture, Finding{ID: FindingVaultTime,
			Message: what + ", which is " + aheadOf(iatT, now) + " Vault's clock " + fmtTime(now) + ", more than " + skewText,
			Fix:     skewFix}
	}
	return "", Finding{}
}

// vaultTimeWords shows a time Vault computed from n seconds: RFC 3339 within the NumericDate
// range, otherwise only whether it lies in the past or the future (Go cannot format it right).
func vaultTimeWords(n int64) string {
	t := vaultTime(n)
	switch {
	case n >= MinNumericDate && n <= MaxNumericDate:
		return fmtTime(t)
	case t.Before(time.Unix(0, 0)):
		return "a time in the distant past"
	}
	return "a time far in the future"
}

// aheadOf says how far t is ahead of now ("2m0s ahead of"), behind how far t is behind it
// ("2m30s behind"); for times outside the NumericDate range, and more than a century away, in
// words, since a time.Duration cannot hold the difference.
func aheadOf(t, now time.Time) string {
	if d := t.Sub(now); d < 100*365*24*time.Hour {
		return roundDur(d).String() + " ahead of"
	}
	return "more than a century ahead of"
}

func behind(t, now time.Time) string {
	if d := now.Sub(t); d < 100*365*24*time.Hour {
		return roundDur(d).String() + " behind"
	}
	return "more than a century behind"
}

// vaultAbsent says why Vault counts the time claim name as missing: it is absent, null, or a
// number that is 0 in whole seconds.
func vaultAbsent(claims map[string]any, name string) string {
	v, present := claims[name]
	switch {
	case !present:
		return "the token has no " + name
	case v == nil:
		return name + " is null, which Vault reads as absent"
	}
	if f, ok := numericValue(v); ok && f == 0 {
		return name + " is 0, which Vault counts as absent"
	}
	return name + " is " + describeValue(v) + ", 0 in whole seconds, which Vault counts as absent"
}

// identity models createIdentity: user claim, claim_mappings, groups_claim. It reports false
// when Vault stops.
func (e *vaultEval) identity(claims map[string]any) bool {
	role, tok := e.role, e.tok
	var raw any
	if role.UserClaimJSONPointer {
		raw = vaultGetClaim(claims, role.UserClaim)
	} else {
		raw = claims[role.UserClaim]
	}
	if raw == nil {
		f := Finding{ID: FindingVaultUserClaim, Message: "the token has no claim " + strconv.Quote(role.UserClaim)}
		switch {
		case !role.UserClaimJSONPointer && strings.HasPrefix(role.UserClaim, "/"):
			if _, ok := vaultPointerGet(claims, role.UserClaim); ok {
				f.Message += " as a top-level name, but it resolves as a JSON pointer"
				f.Fix = "set user_claim_json_pointer=true on " + e.roleRef() + " (without it user_claim is a literal top-level key)"
				break
			}
			fallthrough
		default:
			f.Fix = "set user_claim on " + e.roleRef() + " to a string claim the token has (" + strings.Join(stringClaims(claims), ", ") + "), or add a mapper that emits " + strconv.Quote(role.UserClaim) + " to the client in sso.yaml"
			if paths := findClaimPaths(claims, role.UserClaim); len(paths) > 0 && !role.UserClaimJSONPointer {
				f.Fix = "user_claim must be `" + paths[0] + "` with user_claim_json_pointer=true on " + e.roleRef() + " (the claim is nested)"
			}
		}
		e.reject(VaultStepUserClaim, 400, VaultUserClaimMissing(role.UserClaim), f)
		if p, err := ParsePointer(VaultClaimPointer(role.UserClaim)); err == nil {
			e.hints = append(e.hints, missingClaimHints(tok, p)...)
		}
		return false
	}
	name, ok := raw.(string)
	if !ok {
		e.reject(VaultStepUserClaim, 400, fmt.Sprintf(vaultFmtUserClaimNotString, role.UserClaim), Finding{ID: FindingVaultUserClaim,
			Message: "user_claim " + strconv.Quote(role.UserClaim) + " is " + jsonTypeName(raw) + ", Vault needs a string",
			Fix:     "set user_claim on " + e.roleRef() + " to a string claim (" + strings.Join(stringClaims(claims), ", ") + ")"})
		return false
	}

	// Vault visits claim_mappings in Go's random map order and stops at the first source that
	// is not a string: with several, it may name any of them.
	metadata := map[string]string{}
	var badSrcs, badMsgs, badDescs []string
	for _, src := range slices.Sorted(maps.Keys(role.ClaimMappings)) {
		v := vaultGetClaim(claims, src)
		if v == nil {
			continue // the plugin skips a missing source claim silently
		}
		s, ok := v.(string)
		if !ok {
			badSrcs = append(badSrcs, strconv.Quote(src))
			badMsgs = append(badMsgs, fmt.Sprintf(vaultFmtClaimMappingNotString, src))
			badDescs = append(badDescs, strconv.Quote(src)+" is "+jsonTypeName(v)+" "+describeValue(v))
			continue
		}
		metadata[role.ClaimMappings[src]] = s
	}
	if len(badMsgs) > 0 {
		e.rejectOneOf(VaultStepClaimMappings, badMsgs, "several claim_mappings sources are not strings", Finding{ID: FindingVaultClaimMappings,
			Message: "claim_mappings source " + strings.Join(badDescs, ", source ") + "; alias metadata values must be strings",
			Fix:     "map a string claim instead, or remove " + strings.Join(badSrcs, ", ") + " from claim_mappings on " + e.roleRef() + " (for a list, Keycloak's mapper can emit one value with 'Multivalued' off)"})
		return false
	}
	metadata["role"] = e.roleName

	var groups []string
	if role.GroupsClaim != "" {
		raw := vaultGetClaim(claims, role.GroupsClaim)
		if raw == nil {
			e.reject(VaultStepGroupsClaim, 400, VaultGroupsClaimMissing(role.GroupsClaim), e.groupsMissing(claims))
			return false
		}
		list, ok := vaultNormalizeList(raw)
		if !ok {
			f := Finding{ID: FindingVaultGroupsClaim, Message: "groups_claim " + strconv.Quote(role.GroupsClaim) + " is " + jsonTypeName(raw) + "; Vault needs a list of strings (or one string)"}
			if obj, isObj := raw.(map[string]any); isObj {
				if _, has := obj["roles"]; has {
					f.Fix = "groups_claim must be `" + VaultClaimPointer(role.GroupsClaim) + "/roles` on " + e.roleRef() + " (a JSON pointer into the object)"
				} else {
					f.Fix = "point groups_claim at a list inside the object, e.g. `" + VaultClaimPointer(role.GroupsClaim) + "/" + firstKey(obj) + "`"
				}
			} else {
				f.Fix = "point groups_claim at a list of strings"
			}
			e.reject(VaultStepGroupsClaim, 400, fmt.Sprintf(vaultFmtGroupsNotList, role.GroupsClaim), f)
			return false
		}
		for _, g := range list {
			s, ok := g.(string)
			if !ok {
				e.reject(VaultStepGroupsClaim, 400, fmt.Sprintf(vaultFmtGroupNotString, g), Finding{ID: FindingVaultGroupsClaim,
					Message: "groups_claim " + strconv.Quote(role.GroupsClaim) + " holds " + jsonTypeName(g) + " " + describeValue(g) + "; every element must be a string",
					Fix:     "point groups_claim at a list of names (Keycloak's group and role mappers emit strings); fix the mapper that writes non-strings"})
				return false
			}
			if s != "" {
				groups = append(groups, s)
			}
		}
	}
	e.v.Alias, e.v.Metadata, e.v.GroupAliases = name, metadata, groups
	return true
}

// groupsMissing explains a groups claim that is not found: a plain name that exists nested,
// a dotted path, roles present only in the access token, or an empty Keycloak list.
func (e *vaultEval) groupsMissing(claims map[string]any) Finding {
	gc, tok := e.role.GroupsClaim, e.tok
	f := Finding{ID: FindingVaultGroupsClaim, Message: "the token has no claim " + strconv.Quote(gc)}
	if !strings.HasPrefix(gc, "/") {
		f.Message += " at the top level (without a leading \"/\" Vault reads groups_claim as a literal top-level name)"
		var suggestion string
		switch {
		case strings.Contains(gc, "."):
			if p := "/" + strings.ReplaceAll(gc, ".", "/"); resolves(claims, p) {
				suggestion = p
			}
		case strings.Contains(gc, "/"):
			if p := "/" + gc; resolves(claims, p) {
				suggestion = p
			}
		}
		if suggestion == "" {
			prefer := []string{claimString(tok.Claims, "azp")}
			prefer = append(prefer, e.role.BoundAudiences...)
			if paths := findClaimPaths(claims, lastSegment(gc), prefer...); len(paths) > 0 {
				suggestion = paths[0]
				if len(paths) > 1 {
					f.Message += "; it exists nested at " + strings.Join(paths, ", ")
				} else {
					f.Message += "; it exists nested at " + paths[0]
				}
			}
		}
		if suggestion != "" {
			f.Fix = "groups_claim must be `" + suggestion + "` (a JSON pointer) on " + e.roleRef() + "; in sso.yaml: `groups_claim: " + suggestion + "`"
			return f
		}
	}
	p, err := ParsePointer(VaultClaimPointer(gc))
	if err == nil {
		hints := missingClaimHints(tok, p)
		if len(hints) == 0 && isKeycloakToken(tok) {
			hints = append(hints, groupsMissingFinding(gc))
		}
		if len(hints) > 0 {
			f.Fix = hints[0].Fix
			e.hints = append(e.hints, hints...)
		}
	}
	if f.Fix == "" {
		f.Fix = "add a mapper that writes " + strconv.Quote(gc) + " to the client in sso.yaml (e.g. `- groups: {claim: groups, full_path: false}` with groups_claim `groups`), or point groups_claim at a claim the token has"
	}
	if e.v.Login == VaultLoginOIDC {
		f.Message += " (Vault may still find it in the /userinfo answer, which this token cannot show)"
	}
	return f
}

func (e *vaultEval) boundClaims(claims map[string]any) {
	role := e.role
	if errs := vaultMatchBoundClaims(role.BoundClaimsType == "glob", role.BoundClaims, claims); len(errs) > 0 {
		e.v.Alias, e.v.GroupAliases, e.v.Metadata = "", nil, nil
		msgs := make([]string, len(errs))
		for i, err := range errs {
			msgs[i] = vaultMsgBoundClaims + err.Error()
		}
		e.rejectOneOf(VaultStepBoundClaims, msgs, "several bound claims fail", Finding{ID: FindingVaultBoundClaims,
			Message: boundClaimsMessage(role, claims),
			Fix:     "give the user a matching value in Keycloak, or change bound_claims on " + e.roleRef() + " (bound_claims_type " + role.BoundClaimsType + ": " + map[bool]string{true: "only * wildcards, whole-string match", false: "exact, case-sensitive equality; any expected value matching any claim value passes"}[role.BoundClaimsType == "glob"] + ")"})
		return
	}
	e.accept()
}

func boundClaimsMessage(role *VaultRole, claims map[string]any) string {
	keys := make([]string, 0, len(role.BoundClaims))
	for k := range role.BoundClaims {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		var act any
		if strings.HasPrefix(k, "/") {
			act, _ = vaultPointerGet(claims, k)
		} else {
			act = claims[k]
		}
		parts = append(parts, k+": token has "+describeValue(act)+", role wants "+describeValue(role.BoundClaims[k]))
	}
	return "bound_claims (" + role.BoundClaimsType + "): " + strings.Join(parts, "; ")
}

func (e *vaultEval) accept() {
	policies := e.role.TokenPolicies
	if e.role.TokenPoliciesTemplateClaims {
		if e.opts.Flavor != FlavorOpenBao {
			e.note(FindingVaultPolicyTemplate, SeverityWarning, "the role sets token_policies_template_claims, which only OpenBao (2.1+) has: Vault takes the policies literally",
				"use OpenBao for templated policies, or list the policies literally")
		} else {
			got, predictable, err := templatePolicies(policies, e.tok.Claims)
			if le := (*TemplateLimitError)(nil); errors.As(err, &le) {
				if !e.opts.RoleFromServer {
					e.err = err
				} else {
					e.cannotEvaluate(le)
				}
				return
			}
			if err != nil {
				e.reject(VaultStepPolicyTemplate, 500, err.Error(), Finding{ID: FindingVaultPolicyTemplate,
					Message: "OpenBao templates the role's token_policies over the token's claims (token_policies_template_claims) and the template fails: a claim it names is missing, or the template does not parse",
					Fix:     "give every user the claims the templates name (a Keycloak mapper), or guard them in the template: {{ with .claim }}…{{ end }}"})
				return
			}
			policies = got
			if !predictable {
				e.note(FindingVaultPolicyTemplate, SeverityInfo, "a policy template calls a function whose result varies (time, randomness): the policies shown are not what OpenBao will compute", "none needed")
			}
		}
	}
	e.v.Accepted = true
	e.v.Step, e.v.Message, e.v.HTTPStatus = "", "", 0
	e.v.Policies = sanitizePolicies(policies)
	msg := "Vault would log in " + strconv.Quote(e.v.Alias) + " with " + e.roleRef()
	if len(e.v.Policies) > 0 {
		msg += ", token policies " + strings.Join(e.v.Policies, ", ")
	}
	e.failure = []Finding{{ID: FindingVaultAccepted, Severity: SeverityInfo, Message: msg, Fix: "none needed"}}
	if e.role.GroupsClaim != "" {
		if len(e.v.GroupAliases) == 0 {
			e.note(FindingVaultGroupAliases, SeverityWarning, "the groups claim is present but empty: the user joins no external group and gets only the role's policies",
				"give the user a group or role in Keycloak (sso.yaml `users:`/`groups:`)")
		} else {
			e.note(FindingVaultGroupAliases, SeverityInfo, "group aliases looked up on the mount: "+quoteList(e.v.GroupAliases)+"; a name without an external group alias on this mount is silently ignored (matching is case-insensitive)",
				"create each external group with an alias of exactly that name on this mount (sso.yaml: the auth entry's `groups: [{name: GROUP, alias: VALUE}]`)")
			if f := fullPathGroupsFinding(map[string]any{"groups": toAnyList(e.v.GroupAliases)}, "groups"); f != nil {
				f.Message = strings.Replace(f.Message, "in \"groups\"", "in groups_claim "+strconv.Quote(e.role.GroupsClaim), 1)
				e.hint(*f)
			}
		}
	}
}

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

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func intersects(a, b []string) bool {
	for _, x := range a {
		if containsString(b, x) {
			return true
		}
	}
	return false
}

func resolves(claims map[string]any, ptr string) bool {
	v, ok := vaultPointerGet(claims, ptr)
	return ok && v != nil
}

func lastSegment(name string) string {
	name = strings.TrimSuffix(name, "/")
	if i := strings.LastIndexAny(name, "./"); i >= 0 {
		return name[i+1:]
	}
	return name
}

// VaultClaimPointer is where Vault looks for a claim named in a role (user_claim,
// groups_claim): a JSON pointer when the name starts with "/", else the top-level claim of that name.
func VaultClaimPointer(name string) string {
	if strings.HasPrefix(name, "/") {
		return name
	}
	return "/" + escapeToken(name)
}

func stringClaims(claims map[string]any) []string {
	var out []string
	for _, k := range []string{"sub", "preferred_username", "email", "name"} {
		if _, ok := claims[k].(string); ok {
			out = append(out, k)
		}
	}
	if len(out) == 0 {
		return []string{"sub"}
	}
	return out
}

func toAnyList(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
