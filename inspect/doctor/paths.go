package doctor

import (
	"slices"
	"strings"

	"github.com/ssoctl/ssoctl/inspect"
)

// source is where Vault can read a claim: one of the client's two tokens,
// or the userinfo answer.
type source int

const (
	fromIDToken source = iota
	fromAccessToken
	fromUserinfo
)

// String names the source as messages do.
func (s source) String() string {
	return [...]string{"the ID token", "the access token", "userinfo"}[s]
}

// noun is the source without its article ("ID token").
func (s source) noun() string { return strings.TrimPrefix(s.String(), "the ") }

// in reports whether the mapper behind c writes it into s.
func (c claim) in(s source) bool {
	switch s {
	case fromIDToken:
		return c.id
	case fromAccessToken:
		return c.access
	}
	return c.userinfo
}

// reading is one set of claims a login hands Vault: the token Vault
// verifies (its aud is what bound_audiences must meet), and the answers
// Vault merges over that token's claims.
type reading struct {
	token source
	// merged are answers decoded into the same claims map after the
	// token's, so that each of their top-level claims replaces the token's
	// claim of that name, whole.
	merged []source
	// login is the login as messages name it, and sender who sends it
	// (empty when it is the one login of its path).
	login, sender string
}

// String names what Vault reads: "the ID token", "the ID token merged
// with userinfo".
func (r reading) String() string {
	s := r.token.String()
	for _, m := range r.merged {
		s += " merged with " + m.String()
	}
	return s
}

// where names the places the reading takes claims from: "the ID token or
// userinfo".
func (r reading) where() string {
	s := r.token.String()
	for _, m := range r.merged {
		s += " or " + m.String()
	}
	return s
}

// loginPath is one way of logging in to a Vault role.
type loginPath struct {
	// readings are what a client of the path may hand Vault; each one is a
	// login of its own, and the role must accept every one.
	readings []reading
	// audID is the audience check's ID; audRefused Vault's answers (the
	// current wording first) to a token whose aud the role's
	// bound_audiences do not meet.
	audID      string
	audRefused []string
	// strictAud: a token with an aud is refused when the role binds no
	// audiences ("audience claim found in JWT but no audiences bound to the
	// role"). The OIDC flow holds aud against the client id instead.
	strictAud bool
	// bindClient: an unmet bound_audiences is mended by binding the role
	// to the client id, which the path's tokens carry and the flow checks
	// anyway (OIDC). Elsewhere the bound audience is the role's own choice,
	// and an audience mapper adds it to the tokens.
	bindClient bool
}

// The login paths. Their keys are what pathOf returns.
const (
	pathJWT          = "jwt"
	pathOIDC         = "oidc"
	pathOIDCImplicit = "oidc-implicit"
)

// loginPaths says, for each way of logging in to a Vault role, which token
// or tokens Vault reads and what it merges into them; every claims and
// audience check runs over the readings of the role's path, and nothing
// else decides which token a check holds a claim against.
//
// From vault-plugin-auth-jwt v0.23.0 (Vault 1.19) and its HEAD 2e68bbaf,
// whose login code is the same, as shared/reference/vault-jwt-oidc.md §1a
// and §1b record:
//   - jwt: POST auth/MOUNT/login validates the one JWT it is sent and reads
//     its claims alone (path_login.go pathLogin: validator.Validate, then
//     createIdentity and validateBoundClaims, no userinfo). Vault cannot tell
//     an ID token from an access token, and clients send either: a user's
//     script the ID token, a machine or a client-credentials login the
//     access token. doctor --user logs in with both.
//   - oidc: the browser flow with oidc_response_types code, the default. The
//     callback exchanges the code, verifies the ID token and takes its
//     claims, then fetches /userinfo with the access token and decodes the
//     answer into the same map (path_oidc.go pathCallback → cap
//     Provider.UserInfo → json.Unmarshal), so each top-level userinfo claim
//     replaces the ID token's claim of that name. A userinfo failure is only
//     logged. The access token's own claims are never read, nor its aud.
//   - oidc-implicit: oidc_response_types id_token (Vault prefers it when it
//     is listed). There is no access token, so there is no userinfo: the ID
//     token alone.
var loginPaths = map[string]loginPath{
	pathJWT: {
		readings: []reading{
			{token: fromIDToken, login: "a JWT login", sender: "as a user's script sends"},
			{token: fromAccessToken, login: "a JWT login", sender: "as machines and client-credentials logins send"},
		},
		audID: "audience.jwt", audRefused: []string{inspect.VaultMsgJWTAudience, inspect.VaultMsgJWTAudienceOld}, strictAud: true,
	},
	pathOIDC: {
		readings: []reading{{token: fromIDToken, merged: []source{fromUserinfo}, login: "the OIDC login"}},
		audID:    "audience.oidc", audRefused: []string{inspect.VaultMsgOIDCAudiences}, bindClient: true,
	},
	pathOIDCImplicit: {
		readings: []reading{{token: fromIDToken, login: "the OIDC login (implicit flow, without userinfo)"}},
		audID:    "audience.oidc", audRefused: []string{inspect.VaultMsgOIDCAudiences}, bindClient: true,
	},
}

// pathOf is the login path of role r on mount m. role_type says which
// login the role is for: auth/MOUNT/login refuses an oidc role, and the
// browser flow does not check role_type, so a jwt role is taken for the
// JWT login it was written for. The mount's response types decide between
// the code and the implicit flow.
func pathOf(m *mount, r *inspect.VaultRole) string {
	if r.RoleType != "oidc" {
		return pathJWT
	}
	if m.cfg != nil && slices.Contains(m.cfg.OIDCResponseTypes, "id_token") {
		return pathOIDCImplicit
	}
	return pathOIDC
}

// sight is what one reading shows of the claim at a pointer.
type sight struct {
	// from are the mappers whose value Vault reads there; none when the
	// reading lacks the claim.
	from []claim
	// replacedBy are the mappers of a merged answer that write the same
	// top-level claim without this one: for a user with a value for them,
	// the answer's claim replaces the token's, and the claim is lost.
	replacedBy []claim
}

// see is what reading r shows of the claim at pointer p, merged the way
// Vault merges: the token's claims, then each answer's top-level claims
// over them.
func (m tokenModel) see(r reading, p string) sight {
	top := topLevel(p)
	var s sight
	for i, src := range append([]source{r.token}, r.merged...) {
		var here, rivals []claim
		for _, c := range m.claims {
			switch {
			case !c.in(src):
			case c.pointer == p:
				here = append(here, c)
			case i > 0 && topLevel(c.pointer) == top:
				rivals = append(rivals, c)
			}
		}
		switch {
		case len(here) > 0:
			s = sight{from: here}
		case len(rivals) > 0 && len(s.from) > 0:
			s.replacedBy = rivals
		}
	}
	return s
}

// topLevel is the first reference token of a JSON pointer: the top-level
// claim that holds it.
func topLevel(p string) string {
	p = strings.TrimPrefix(p, "/")
	if i := strings.IndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return p
}

// aud is what the token from s carries in aud, as the client's audience
// mappers make it: Keycloak puts the client id into every ID token; an
// access token gets only what audience mappers add (and "account" where
// the user holds roles of that client, which no mapper shows).
func (d *doc) aud(s source) []string {
	if s == fromIDToken {
		return slices.Compact(slices.Sorted(slices.Values(append([]string{d.t.Client}, d.live.tokens.idAud...))))
	}
	return d.live.tokens.accessAud
}
