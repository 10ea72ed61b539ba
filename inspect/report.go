package inspect

import "context"

// Report is the result of inspecting one token; `ssoctl inspect token -o json` prints it.
// Schema (stable; fields are only ever added):
//
//	{
//	  "header":   {JOSE header, numbers as JSON numbers},
//	  "claims":   {the token's claims, large integers kept exact},
//	  "kind":     "id" | "access" | "refresh" | "unknown",
//	  "verified": true when the signature verified (false when it failed or was not checked),
//	  "verification": {"verified", "alg", "kid", "key": {"kid","alg","use","kty","crv","bits"},
//	                   "source", "keys_tried"}            (absent when no keys were given),
//	  "findings": [{"id", "severity": "error"|"warning"|"info", "message",
//	                "vault_message" (only when Vault has one),
//	                "vault_messages" (only when Vault may give any of several), "fix"}],
//	  "vault":    {"accepted", "login", "role", "step", "message",
//	               "messages" (only when Vault may give any of several), "http_status", "alias",
//	               "group_aliases", "metadata", "policies", "findings": [...]}
//	              (absent unless a Vault role was given)
//	}
type Report struct {
	// Header is the decoded JOSE header.
	Header map[string]any `json:"header"`
	// Claims are the decoded claims.
	Claims map[string]any `json:"claims"`
	// Kind is what the token is for.
	Kind Kind `json:"kind"`
	// Verified is true when the signature verified.
	Verified bool `json:"verified"`
	// Verification details the signature check; nil when no keys were given.
	Verification *VerifyResult `json:"verification,omitempty"`
	// Findings are the token checks' results (Vault's are in Vault.Findings).
	Findings []Finding `json:"findings"`
	// Vault is the predicted Vault verdict, when a role was given.
	Vault *VaultVerdict `json:"vault,omitempty"`
}

// Failed reports whether any check failed: an error finding in the token checks or a Vault
// rejection (the CLI exits 3 then).
func (r *Report) Failed() bool {
	if HasErrors(r.Findings) {
		return true
	}
	return r.Vault != nil && !r.Vault.Accepted
}

// VaultInput is what EvaluateVault needs, for Inspect.
type VaultInput struct {
	// Role is the Vault role (required).
	Role *VaultRole
	// Config is the mount config, or nil when unknown.
	Config *VaultConfig
	// Keys are the keys Vault would use; nil means: from Config's jwt_validation_pubkeys, or the
	// token check's keys when the config names a JWKS or discovery URL.
	Keys KeySource
	// Options tune the model; a zero Now is taken from the token check's options.
	Options VaultOptions
}

// InspectOptions say what Inspect checks.
type InspectOptions struct {
	// Keys verify the signature; nil skips verification with a warning finding.
	Keys KeySource
	// Check holds the claim expectations and the clock.
	Check CheckOptions
	// Vault, when set, adds the Vault model's verdict.
	Vault *VaultInput
}

// Inspect runs everything on one token: Verify, CheckClaims and, when asked, EvaluateVault.
// The error is only a runtime failure of a key source (or unparsable jwt_validation_pubkeys).
func Inspect(ctx context.Context, tok *Token, opts InspectOptions) (*Report, error) {
	rep := &Report{Header: tok.Header.Fields, Claims: tok.Claims, Kind: tok.Kind}
	res, findings, err := Verify(ctx, tok, opts.Keys)
	if err != nil {
		return nil, err
	}
	if opts.Keys != nil {
		rep.Verification = &res
	}
	rep.Verified = res.Verified
	findings = append(findings, CheckClaims(tok, opts.Check)...)
	rep.Findings = dedupeFindings(findings)
	if opts.Vault != nil && opts.Vault.Role != nil {
		vo := opts.Vault.Options
		if vo.Now.IsZero() {
			vo.Now = opts.Check.now()
		}
		keys := opts.Vault.Keys
		if keys == nil && (opts.Vault.Config == nil || opts.Vault.Config.AuthType() != VaultAuthStaticKeys) {
			keys = opts.Keys
		}
		v, err := EvaluateVault(ctx, tok, opts.Vault.Role, opts.Vault.Config, keys, vo)
		if err != nil {
			return nil, err
		}
		v.Findings = dedupeFindings(v.Findings)
		rep.Vault = &v
	}
	return rep, nil
}

func dedupeFindings(fs []Finding) []Finding {
	out := make([]Finding, 0, len(fs))
	seen := make(map[string]bool, len(fs))
	for _, f := range fs {
		key := f.ID + "\x00" + f.Message
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, f)
	}
	return out
}
