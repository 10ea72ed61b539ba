package inspect

import (
	"context"
	"errors"
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
