package inspect

import (
	"sort"
	"strconv"
	"strings"
)

// isKeycloakToken guesses whether Keycloak issued tok: Keycloak writes a "typ" claim and its
// issuers contain "/realms/".
func isKeycloakToken(tok *Token) bool {
	switch claimString(tok.Claims, "typ") {
	case "ID", "Bearer", "Refresh", "Offline":
		return true
	}
	return strings.Contains(claimString(tok.Claims, "iss"), "/realms/")
}

// KeycloakFindings reports Keycloak pitfalls that the token (and its Companion from the same
// token response) show without any expectation given:
//   - a refresh token given as input;
//   - an access token whose aud is only "account" (or absent): Keycloak adds the requesting client
//     to aud only through an audience mapper;
//   - client or realm roles present in the access token but not in the ID token (Keycloak's
//     built-in role mappers write the access token only, and Vault's OIDC login reads only the
//     ID token and userinfo);
//   - group names with a leading "/" (the groups mapper's "Full group path").
func KeycloakFindings(tok *Token) []Finding {
	var out []Finding
	if tok.Kind == KindRefresh {
		out = append(out, Finding{ID: FindingRefreshToken, Severity: SeverityError,
			Message: "this is a Keycloak refresh token (typ " + strconv.Quote(claimString(tok.Claims, "typ")) + "); it is only for the token endpoint",
			Fix:     "inspect the access_token or id_token of the token response instead"})
	}
	if tok.Kind == KindAccess && isKeycloakToken(tok) {
		if f := accountAudienceFinding(tok); f != nil {
			out = append(out, *f)
		}
	}
	out = append(out, rolesOnlyInAccessFindings(tok)...)
	if f := fullPathGroupsFinding(tok.Claims, "groups"); f != nil {
		out = append(out, *f)
	}
	return out
}

func accountAudienceFinding(tok *Token) *Finding {
	auds, present, ok := audiences(tok.Claims)
	if !ok {
		return nil
	}
	for _, a := range auds {
		if a != "account" {
			return nil
		}
	}
	azp := claimString(tok.Claims, "azp")
	client := azp
	if client == "" {
		client = "CLIENT"
	}
	msg := "the access token's aud is only \"account\" (Keycloak's account-console client, added because the user has its default roles)"
	if !present || len(auds) == 0 {
		msg = "the access token has no aud claim"
	}
	msg += "; the client it was issued to (azp " + strconv.Quote(azp) + ") is not among them, so a Vault jwt role bound to that client (bound_audiences [" + strconv.Quote(client) + "]) rejects this token"
	return &Finding{ID: FindingKeycloakAudAccount, Severity: SeverityWarning, Message: msg,
		Fix: "add `- audience: " + client + "` to client " + client + "'s mappers in sso.yaml (an oidc-audience-mapper: Keycloak then puts " + strconv.Quote(client) + " into the access token's aud), and bind that value (Vault: bound_audiences)"}
}

// rolesOnlyInAccessFindings compares the ID token and the access token of one token response.
func rolesOnlyInAccessFindings(tok *Token) []Finding {
	id, access := tok, tok.Companion
	if tok.Kind == KindAccess {
		id, access = tok.Companion, tok
	}
	if id == nil || access == nil || id.Kind != KindID || access.Kind != KindAccess {
		return nil
	}
	var out []Finding
	var clients []string
	if ra, ok := access.Claims["resource_access"].(map[string]any); ok {
		idRA, _ := id.Claims["resource_access"].(map[string]any)
		for c, v := range ra {
			if _, inID := idRA[c]; !inID && v != nil {
				clients = append(clients, c)
			}
		}
	}
	sort.Strings(clients)
	for _, c := range clients {
		if c == "account" {
			continue // the account console's roles are Keycloak's default, rarely what anyone binds
		}
		out = append(out, Finding{ID: FindingKeycloakRolesOnlyInAccess, Severity: SeverityWarning,
			Message: "client roles of " + strconv.Quote(c) + " (/resource_access/" + escapeToken(c) + "/roles) are in the access token but not in the ID token; Vault's OIDC login reads only the ID token and userinfo",
			Fix:     clientRolesFix(c)})
	}
	if ra, inAccess := access.Claims["realm_access"].(map[string]any); inAccess {
		// A realm roles mapper may already copy them into the ID token under another claim.
		if _, inID := id.Claims["realm_access"]; !inID && !carriesList(id.Claims, ra["roles"]) {
			out = append(out, Finding{ID: FindingKeycloakRolesOnlyInAccess, Severity: SeverityWarning,
				Message: "realm roles (/realm_access/roles) are in the access token but not in the ID token; Vault's OIDC login reads only the ID token and userinfo",
				Fix:     "add `- realm_roles: {claim: realm_roles, id_token: true, userinfo: true}` to the client's mappers in sso.yaml and use groups_claim `realm_roles` (Keycloak's built-in realm roles mapper writes the access token only)"})
		}
	}
	for _, name := range []string{"groups", "roles"} {
		if _, inAccess := access.Claims[name]; inAccess {
			if _, inID := id.Claims[name]; !inID {
				out = append(out, Finding{ID: FindingKeycloakRolesOnlyInAccess, Severity: SeverityWarning,
					Message: "claim " + strconv.Quote(name) + " is in the access token but not in the ID token; Vault's OIDC login reads only the ID token and userinfo",
					Fix:     "turn on 'Add to ID token' (sso.yaml: `id_token: true`, and `userinfo: true`) on the mapper that writes " + strconv.Quote(name)})
			}
		}
	}
	return out
}

func clientRolesFix(client string) string {
	return "add `- client_roles: {client: " + client + ", claim: \"resource_access.${client_id}.roles\", id_token: true, access_token: true, userinfo: true}` to client " + client +
		"'s mappers in sso.yaml (Keycloak's built-in client roles mapper writes only the access token), or use a top-level claim: `- client_roles: {client: " + client + ", claim: roles, id_token: true, userinfo: true}` with groups_claim `roles`" +
		"; or, for every client with the built-in roles scope, change that scope's mapper: `client_scopes: [{name: roles, mappers: [{client_roles: {id_token: true, userinfo: true}}]}]` under keycloak:"
}

// fullPathGroupsFinding reports group names with a leading "/" in the claim at name (a plain
// top-level name or a JSON pointer).
func fullPathGroupsFinding(claims map[string]any, name string) *Finding {
	var v any
	if strings.HasPrefix(name, "/") {
		p, err := ParsePointer(name)
		if err != nil {
			return nil
		}
		v, _ = p.Eval(claims)
	} else {
		v = claims[name]
	}
	list, ok := v.([]any)
	if !ok {
		return nil
	}
	var full []string
	for _, e := range list {
		if s, ok := e.(string); ok && strings.HasPrefix(s, "/") {
			full = append(full, s)
		}
	}
	if len(full) == 0 {
		return nil
	}
	return &Finding{ID: FindingKeycloakGroupFullPath, Severity: SeverityWarning,
		Message: "groups in " + strconv.Quote(name) + " carry their full path " + quoteList(full) + "; a Vault group alias must then be named exactly so (\"" + full[0] + "\", not \"" + strings.TrimPrefix(full[0], "/") + "\"), or the membership is silently skipped",
		Fix:     "set `full_path: false` on the groups mapper in sso.yaml (`- groups: {claim: " + strings.TrimPrefix(name, "/") + ", full_path: false}`; Keycloak: Group Membership mapper, 'Full group path' off), or name the Vault group aliases with the leading slash"}
}

// missingClaimHints explains, for a claim that a check needed but the token lacks, the Keycloak
// causes: the claim exists only in the access token, or Keycloak left out an empty list.
func missingClaimHints(tok *Token, p Pointer) []Finding {
	var out []Finding
	if tok.Companion != nil {
		if _, err := p.Eval(tok.Companion.Claims); err == nil {
			out = append(out, Finding{ID: FindingKeycloakRolesOnlyInAccess, Severity: SeverityError,
				Message: "claim " + p.String() + " is in the " + string(tok.Companion.Kind) + " token of the same response but not in this " + string(tok.Kind) + " token",
				Fix:     mapperFlagFix(p, tok.Kind)})
			return out
		}
	}
	toks := p.tokens
	if len(toks) > 0 && (toks[0] == "resource_access" || toks[0] == "realm_access") && tok.Kind == KindID {
		fix := mapperFlagFix(p, KindID)
		out = append(out, Finding{ID: FindingKeycloakRolesOnlyInAccess, Severity: SeverityError,
			Message: "this is an ID token and " + p.String() + " is missing: Keycloak's built-in " + strings.TrimSuffix(toks[0], "_access") + " roles mapper writes " + toks[0] + " into the access token only",
			Fix:     fix})
	}
	if len(toks) > 0 && looksLikeGroupsClaim(toks) && isKeycloakToken(tok) {
		out = append(out, groupsMissingFinding(p.String()))
	}
	return out
}

func looksLikeGroupsClaim(toks []string) bool {
	last := toks[len(toks)-1]
	return last == "groups" || last == "roles" || last == "realm_roles" || strings.HasSuffix(last, "groups") || toks[0] == "resource_access" || toks[0] == "realm_access"
}

func groupsMissingFinding(claim string) Finding {
	return Finding{ID: FindingKeycloakGroupsMissing, Severity: SeverityWarning,
		Message: "Keycloak leaves a multivalued claim out of the token when its list is empty: if the mapper for " + strconv.Quote(claim) + " exists, this user has no groups/roles for it",
		Fix:     "give the user a group or role (sso.yaml `users: - {username: USER, groups: [GROUP]}` and the group's `client_roles`), or stop requiring the claim for users without groups"}
}

func mapperFlagFix(p Pointer, kind Kind) string {
	toks := p.tokens
	flag := "'Add to ID token' (sso.yaml `id_token: true`, plus `userinfo: true` for Vault's OIDC login)"
	if kind == KindAccess {
		flag = "'Add to access token' (sso.yaml `access_token: true`)"
	}
	if len(toks) >= 2 && toks[0] == "resource_access" {
		if kind == KindID {
			return clientRolesFix(toks[1])
		}
		return "turn on " + flag + " on client " + toks[1] + "'s client_roles mapper in sso.yaml"
	}
	if len(toks) >= 1 && toks[0] == "realm_access" && kind == KindID {
		return "add `- realm_roles: {claim: realm_roles, id_token: true, userinfo: true}` to the client's mappers in sso.yaml and read the claim `realm_roles` (Keycloak's built-in realm roles mapper writes the access token only)"
	}
	return "turn on " + flag + " on the mapper that writes " + p.String()
}

// carriesList reports whether some top-level claim of claims holds the same
// set of strings as list.
func carriesList(claims map[string]any, list any) bool {
	want, ok := list.([]any)
	if !ok || len(want) == 0 {
		return false
	}
	set := make(map[any]bool, len(want))
	for _, v := range want {
		set[v] = true
	}
	for _, v := range claims {
		have, ok := v.([]any)
		if !ok || len(have) != len(want) {
			continue
		}
		same := true
		for _, h := range have {
			same = same && set[h]
		}
		if same {
			return true
		}
	}
	return false
}
