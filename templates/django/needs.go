package django

import (
	"fmt"
	"slices"

	"github.com/ssoctl/ssoctl/spec"
)

// Need is one thing a Django site needs from its Keycloak client.
type Need struct {
	Site    string
	Library string
	Client  string
	// Kind is redirect-uri, post-logout-redirect-uri, mapper or
	// userinfo-unsigned; Value is the URI or the mapper's name.
	Kind  string
	Value string
	// Why says what breaks without it.
	Why string
}

// Note is how a plan labels the change a need causes.
func (n Need) Note() string {
	return fmt.Sprintf("needed by django site %s (%s)", n.Site, n.Library)
}

// mapper names ssoctl gives the mappers it adds for a site.
func rolesClaimMapper(client string) string { return "roles claim for " + client }

// KeycloakWithNeeds returns the desired state that plan, apply and doctor
// work from: a copy of the file's keycloak: section with every Django site's
// needs added to its client, and the needs themselves. It changes nothing
// anywhere; the file is not modified. A need the file
// contradicts (userinfo_signed: true for allauth, a groups mapper without
// the token the library reads) is an error naming the line, the library and
// the reason.
func KeycloakWithNeeds(f *spec.File) (*spec.Keycloak, []Need, error) {
	if f.Django == nil || f.Keycloak == nil {
		return f.Keycloak, nil, nil
	}
	k := *f.Keycloak
	k.Clients = slices.Clone(k.Clients)
	var needs []Need
	var errs spec.Errors
	for si := range f.Django.Sites {
		s := &f.Django.Sites[si]
		lib := Libraries[s.Library]
		if lib == nil || lib.Refusal != "" {
			continue // render explains; nothing to configure
		}
		ci := slices.IndexFunc(k.Clients, func(c spec.Client) bool { return c.ClientID == s.Client })
		if ci < 0 {
			continue // spec validation reported it
		}
		c := &k.Clients[ci]
		c.Mappers = slices.Clone(c.Mappers)
		c.RedirectURIs = slices.Clone(c.RedirectURIs)
		c.PostLogoutRedirectURIs = slices.Clone(c.PostLogoutRedirectURIs)
		key := fmt.Sprintf("keycloak.clients[%d]", ci)
		fail := func(at, format string, args ...any) {
			errs = append(errs, &spec.Error{File: f.Path, Line: f.Line(at), Key: at,
				Msg: fmt.Sprintf("django site %s (%s): ", s.Name, s.Library) + fmt.Sprintf(format, args...)})
		}
		// The client's default scopes of the file put their mappers into
		// its tokens too: a groups mapper there meets the need.
		eff := *c
		eff.Mappers = slices.Clone(c.Mappers)
		where := make([]string, len(c.Mappers))
		for i := range c.Mappers {
			where[i] = fmt.Sprintf("%s.mappers[%d]", key, i)
		}
		for _, sm := range k.DefaultScopeMappers(c) {
			eff.Mappers = append(eff.Mappers, sm.Mapper)
			where = append(where, sm.Key)
		}
		for _, p := range Check(s, &eff) {
			need := func(kind, value, why string) {
				by := s.Library
				if p.By != "" {
					by = p.By
				}
				needs = append(needs, Need{Site: s.Name, Library: by, Client: s.Client, Kind: kind, Value: value, Why: why})
			}
			switch {
			case p.Conflict:
				at := key
				if p.Mapper >= 0 {
					at = where[p.Mapper]
				} else if p.Field != "" {
					at = key + "." + p.Field
				}
				fail(at, "%s", p.Message)
			case p.Kind == "redirect-uri":
				if c.RedirectURIs != nil {
					c.RedirectURIs = append(c.RedirectURIs, p.Value)
				} else {
					c.RequireRedirectURIs = append(c.RequireRedirectURIs, p.Value)
				}
				need(p.Kind, p.Value, p.Message)
			case p.Kind == "post-logout-redirect-uri":
				if c.PostLogoutRedirectURIs != nil {
					c.PostLogoutRedirectURIs = append(c.PostLogoutRedirectURIs, p.Value)
				} else {
					c.RequirePostLogoutRedirectURIs = append(c.RequirePostLogoutRedirectURIs, p.Value)
				}
				need(p.Kind, p.Value, p.Message)
			case p.Kind == "userinfo-unsigned":
				no := false
				c.UserinfoSigned = &no
				need(p.Kind, "", p.Message)
			case p.Kind == "mapper":
				c.Mappers = append(c.Mappers, *p.Add)
				need(p.Kind, p.Add.DefaultName(c.ClientID), p.Message)
			}
		}
	}
	if len(errs) > 0 {
		return nil, nil, errs
	}
	return &k, needs, nil
}

// Problem is one need a client does not meet: missing (Add says what to
// add) or contradicted by what the client says (Conflict).
type Problem struct {
	// Need names what is needed: callback, post-logout, unsigned-userinfo,
	// audience, groups-claim or roles-claim.
	Need    string
	Kind    string
	Value   string
	Message string
	// Conflict is set when the client says the opposite of the need; Field
	// or Mapper (its index, else -1) locate it.
	Conflict bool
	Field    string
	Mapper   int
	// Add is the mapper that meets a missing mapper need.
	Add *spec.Mapper
	// By is the library that needs it when that is the site's api:.
	By string
}

// Check compares a client with what site s needs from it. It serves both
// the file (where missing needs are added) and a live client read from
// Keycloak (where any problem is a trap to warn about).
func Check(s *spec.DjangoSite, c *spec.Client) []Problem {
	lib := Libraries[s.Library]
	if lib == nil || lib.Refusal != "" {
		return nil
	}
	var out []Problem
	missing := func(need, kind, value, msg string) {
		out = append(out, Problem{Need: need, Kind: kind, Value: value, Message: msg, Mapper: -1})
	}
	conflict := func(need, field string, mapper int, msg string) {
		out = append(out, Problem{Need: need, Kind: "conflict", Message: msg, Conflict: true, Field: field, Mapper: mapper})
	}
	callback := s.URL + lib.Callback
	if !slices.Contains(c.RedirectURIs, callback) && !slices.Contains(c.RequireRedirectURIs, callback) {
		missing("callback", "redirect-uri", callback, fmt.Sprintf("the callback %s must be a redirect URI, or Keycloak answers \"Invalid parameter: redirect_uri\"", spec.Quote(callback)))
	}
	if s.Logout == "keycloak" {
		back := s.URL + PostLogoutPath
		if !slices.Contains(c.PostLogoutRedirectURIs, back) && !slices.Contains(c.RequirePostLogoutRedirectURIs, back) {
			missing("post-logout", "post-logout-redirect-uri", back, fmt.Sprintf("logout: keycloak returns to %s, which must be a post-logout redirect URI", spec.Quote(back)))
		}
	}
	if lib.UnsignedUserinfo {
		switch {
		case c.UserinfoSigned != nil && *c.UserinfoSigned:
			conflict("unsigned-userinfo", "userinfo_signed", -1, fmt.Sprintf("%s reads userinfo as plain JSON and fails on a signed one (%s); set userinfo_signed: false", lib.Name, signedUserinfoError(lib.Name)))
		case c.UserinfoSigned == nil:
			missing("unsigned-userinfo", "userinfo-unsigned", "", fmt.Sprintf("%s reads userinfo as plain JSON and fails on a signed one (%s)", lib.Name, signedUserinfoError(lib.Name)))
		}
	}
	audience := lib.Audience
	if api := APIs[s.API]; api != nil && api.Audience {
		audience = true
	}
	if audience {
		i := slices.IndexFunc(c.Mappers, func(m spec.Mapper) bool {
			return m.Audience != nil && (m.Audience.Client == s.Client || m.Audience.Custom == s.Client)
		})
		who := lib.Name
		if !lib.Audience {
			who = s.API
		}
		switch {
		case i < 0:
			missing("audience", "mapper", "", fmt.Sprintf("%s checks that the access token's aud holds %s; without an audience mapper it fails with %s", who, spec.Quote(s.Client), audienceError(who)))
			out[len(out)-1].Add = &spec.Mapper{Audience: &spec.AudienceMapper{Client: s.Client}}
			if who != lib.Name {
				out[len(out)-1].By = who
			}
		case isFalse(c.Mappers[i].Audience.AccessToken):
			conflict("audience", "", i, fmt.Sprintf("%s checks the access token's aud, but this audience mapper has access_token: false", who))
		}
	}
	if s.Roles {
		out = append(out, claimNeed(lib, c, "client roles", func(m spec.Mapper) (*spec.TokenFlags, bool) {
			if m.ClientRoles == nil || (m.ClientRoles.Client != "" && m.ClientRoles.Client != s.Client) ||
				(m.ClientRoles.Claim != "" && m.ClientRoles.Claim != "resource_access.${client_id}.roles") || m.ClientRoles.Prefix != "" {
				return nil, false
			}
			return &m.ClientRoles.TokenFlags, true
		}, &spec.Mapper{ClientRoles: &spec.ClientRolesMapper{Client: s.Client}})...)
	} else {
		out = append(out, claimNeed(lib, c, "groups", func(m spec.Mapper) (*spec.TokenFlags, bool) {
			if m.Groups == nil {
				return nil, false
			}
			return &m.Groups.TokenFlags, true
		}, &spec.Mapper{Groups: &spec.GroupsMapper{Claim: "groups"}})...)
	}
	if lib.RolesClaim {
		i := slices.IndexFunc(c.Mappers, func(m spec.Mapper) bool { return m.ClientRoles != nil && m.ClientRoles.Claim == "roles" })
		switch {
		case i < 0:
			missing("roles-claim", "mapper", "", fmt.Sprintf("%s requires a flat roles claim in the ID token (without it the callback fails with TypeError: argument of type 'NoneType' is not iterable)", lib.Name))
			out[len(out)-1].Add = &spec.Mapper{Name: rolesClaimMapper(s.Client), ClientRoles: &spec.ClientRolesMapper{Client: s.Client, Claim: "roles", Prefix: s.Client + "#"}}
		case isFalse(c.Mappers[i].ClientRoles.IDToken):
			conflict("roles-claim", "", i, fmt.Sprintf("%s reads the roles claim from the ID token, but this mapper has id_token: false", lib.Name))
		}
	}
	return out
}

// claimNeed checks that some mapper (found by match) puts the claim into
// every token the library reads it from, and adds add when none does.
func claimNeed(lib *Library, c *spec.Client, what string, match func(spec.Mapper) (*spec.TokenFlags, bool), add *spec.Mapper) []Problem {
	// One mapper that puts the claim everywhere the library reads it is
	// enough (the built-in roles scope's access-token-only mapper next to
	// the client's own is fine); otherwise the first that falls short is
	// the one to fix.
	var first []Problem
	for i, m := range c.Mappers {
		f, ok := match(m)
		if !ok {
			continue
		}
		var off []string
		if lib.Groups.IDToken && isFalse(f.IDToken) {
			off = append(off, "id_token")
		}
		if lib.Groups.AccessToken && isFalse(f.AccessToken) {
			off = append(off, "access_token")
		}
		if lib.Groups.Userinfo && isFalse(f.Userinfo) {
			off = append(off, "userinfo")
		}
		if len(off) == 0 {
			return nil
		}
		if first == nil {
			first = []Problem{{Need: "groups-claim", Kind: "conflict", Conflict: true, Mapper: i,
				Message: fmt.Sprintf("%s reads the %s claim from %s, but this mapper has %s: false, so Django users never get their groups", lib.Name, what, readsFrom(lib.Groups), off[0])}}
		}
	}
	if first != nil {
		return first
	}
	return []Problem{{Need: "groups-claim", Kind: "mapper", Mapper: -1, Add: add,
		Message: fmt.Sprintf("%s reads the %s claim from %s; without a %s mapper Django users never get their groups", lib.Name, what, readsFrom(lib.Groups), what)}}
}

func readsFrom(f Flags) string {
	var ts []string
	if f.IDToken {
		ts = append(ts, "the ID token")
	}
	if f.AccessToken {
		ts = append(ts, "the access token")
	}
	if f.Userinfo {
		ts = append(ts, "userinfo")
	}
	switch len(ts) {
	case 0:
		return "no token"
	case 1:
		return ts[0]
	}
	return fmt.Sprintf("%s and %s", joinComma(ts[:len(ts)-1]), ts[len(ts)-1])
}

func joinComma(ss []string) string {
	out := ss[0]
	for _, s := range ss[1:] {
		out += ", " + s
	}
	return out
}

func isFalse(p *bool) bool { return p != nil && !*p }

// The errors the libraries give, as measured against Keycloak 26.
func signedUserinfoError(lib string) string {
	if lib == spec.LibAllauth {
		return `"Third-Party Login Failure", caused by JSONDecodeError`
	}
	return `AuthResponseError: "The authentication provider returned an invalid response.", caused by JSONDecodeError`
}

func audienceError(who string) string {
	switch who {
	case spec.LibSocial:
		return `InvalidAudienceError → AuthResponseError "An authentication response field could not be verified." (the "Invalid audience" trap)`
	case spec.APIDRFOIDC:
		return `401 "invalid_claim: Invalid claim: 'aud'"`
	}
	return "401 for every token"
}
