package inspect

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
)

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
