package inspect

import (
	"fmt"
	"maps"
	"slices"
)

// The rules of Vault's JWT/OIDC login that both paths hold a role to: EvaluateVault against the
// claims of one token, and doctor against the claims a client's mappers write into every token.
// Each rule is one function here; its messages are in vault_messages.go.

// VaultAudience is bound_audiences held against a token's aud as the login does it (exact,
// case-sensitive; any bound value in aud passes). On a JWT login (plugin pathLogin, cap
// validateAudience) an aud with none of bound fails at VaultStepAudience, and a role that
// binds none refuses any token with an aud (audPresent: a non-empty string or list) at
// VaultStepAudienceUnbound, which Vault checks after the token's times. The OIDC callback
// (cap VerifyIDToken) checks bound only when it is set, and stops at VaultStepIDToken. The
// step is empty when the audience passes; msg is Vault's whole answer.
func VaultAudience(login VaultLogin, bound, aud []string, audPresent bool) (step VaultStep, msg string) {
	met := len(bound) == 0 || intersects(bound, aud)
	switch {
	case login == VaultLoginOIDC && !met:
		return VaultStepIDToken, vaultExchangeMessage(vaultMsgOIDCAudiencesFull)
	case login == VaultLoginOIDC:
	case !met:
		return VaultStepAudience, VaultMsgJWTAudience
	case len(bound) == 0 && audPresent:
		return VaultStepAudienceUnbound, VaultMsgJWTNoAudiences
	}
	return "", ""
}

// VaultClaimRead is one claim a role reads, where Vault looks for it, and Vault's answer to a
// login whose claims lack it.
type VaultClaimRead struct {
	// Field is the role field that names the claim: user_claim, groups_claim, bound_claims or
	// claim_mappings.
	Field string
	// Name is the claim as the role names it.
	Name string
	// Pointer is where Vault looks: a JSON pointer (user_claim without
	// user_claim_json_pointer is one top-level key, whatever it holds).
	Pointer string
	// Step is where Vault stops without the claim; empty when it logs in without it.
	Step VaultStep
	// Refusal is Vault's answer to a login without the claim; empty when Vault logs in
	// without it (a claim_mappings source: the alias only lacks MetadataKey).
	Refusal string
	// MetadataKey is the alias metadata key a claim_mappings source fills.
	MetadataKey string
}

// VaultClaimReads lists the claims role r reads, in the order Vault reads them
// (createIdentity: user_claim, then groups_claim; validateBoundClaims: each bound_claims key;
// claim_mappings sources, which Vault skips when missing, last), keys sorted.
func VaultClaimReads(r *VaultRole) []VaultClaimRead {
	var out []VaultClaimRead
	if uc := r.UserClaim; uc != "" {
		p := VaultClaimPointer(uc)
		if !r.UserClaimJSONPointer {
			p = PointerTo(uc).String()
		}
		out = append(out, VaultClaimRead{Field: "user_claim", Name: uc, Pointer: p, Step: VaultStepUserClaim, Refusal: VaultUserClaimMissing(uc)})
	}
	if gc := r.GroupsClaim; gc != "" {
		out = append(out, VaultClaimRead{Field: "groups_claim", Name: gc, Pointer: VaultClaimPointer(gc), Step: VaultStepGroupsClaim, Refusal: VaultGroupsClaimMissing(gc)})
	}
	for _, k := range slices.Sorted(maps.Keys(r.BoundClaims)) {
		out = append(out, VaultClaimRead{Field: "bound_claims", Name: k, Pointer: VaultClaimPointer(k), Step: VaultStepBoundClaims, Refusal: VaultBoundClaimMissing(k)})
	}
	for _, k := range slices.Sorted(maps.Keys(r.ClaimMappings)) {
		out = append(out, VaultClaimRead{Field: "claim_mappings", Name: k, Pointer: VaultClaimPointer(k), MetadataKey: r.ClaimMappings[k]})
	}
	return out
}

// vaultBoundClaimMissing is validateBoundClaims's error for a bound_claims key the claims lack,
// without the prefix the login adds.
func vaultBoundClaimMissing(key string) error {
	return fmt.Errorf(vaultFmtBoundClaimMissing, key)
}
