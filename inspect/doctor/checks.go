package doctor

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/ssoctl/ssoctl/inspect"
	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/spec"
	"github.com/ssoctl/ssoctl/templates/django"
)

// The systems checks belong to.
const (
	sysKeycloak = "keycloak"
	sysVault    = "vault"
	sysDjango   = "django"
	sysRancher  = "rancher"
)

// discovery checks that the issuer Keycloak puts into tokens is the one each
// mount trusts, exactly, and that the JWKS has keys the mount accepts.
func (d *doc) discovery() {
	l := d.live
	if l.discErr != nil {
		d.add(Check{ID: "discovery.fetch", System: sysKeycloak, Status: Fail,
			Message:  "the realm's discovery document cannot be fetched from here",
			Evidence: l.discErr.Error(), Fix: "check the Keycloak URL and realm name; Vault and every library fetch this document"})
		return
	}
	issuer := l.disc.DocumentIssuer
	d.ok(sysKeycloak, "discovery.fetch", "the realm's discovery document names issuer "+issuer)
	for _, m := range l.mounts {
		if m.cfg == nil {
			d.add(Check{ID: "discovery.config", System: sysVault, Status: Fail, Message: "auth mount " + m.view.Path + "/ has no config",
				Fix: "write auth/" + m.view.Path + "/config with oidc_discovery_url " + issuer, FixYAML: issuerFix(m.view.Path, "discovery_url", issuer)})
			continue
		}
		bad := false
		for _, f := range []struct{ name, value, yaml string }{
			{"oidc_discovery_url", m.cfg.OIDCDiscoveryURL, "discovery_url"}, {"bound_issuer", m.cfg.BoundIssuer, "bound_issuer"},
		} {
			if f.value == "" {
				continue
			}
			if f.value != issuer {
				bad = true
				msg := fmt.Sprintf("auth mount %s/ has %s %q, but Keycloak issues tokens as %q; Vault compares them exactly", m.view.Path, f.name, f.value, issuer)
				if strings.TrimRight(f.value, "/") == strings.TrimRight(issuer, "/") {
					msg += " (they differ only in a trailing slash)"
				}
				d.add(Check{ID: "discovery.issuer", System: sysVault, Status: Fail, Message: msg,
					Evidence: "Keycloak: " + issuer + "; Vault: " + f.value,
					Fix:      fmt.Sprintf("set %s on auth/%s/config to %s exactly (or set Keycloak's hostname so that it issues %s)", f.name, m.view.Path, issuer, f.value),
					FixYAML:  issuerFix(m.view.Path, f.yaml, issuer)})
			}
		}
		if !bad {
			d.ok(sysVault, "discovery.issuer", fmt.Sprintf("auth mount %s/ trusts issuer %s, the one Keycloak puts into tokens", m.view.Path, issuer))
		}
		d.jwks(m)
	}
}

// jwks checks that the realm publishes a signing key of an algorithm the
// mount accepts.
func (d *doc) jwks(m *mount) {
	if m.cfg.OIDCDiscoveryURL == "" && m.cfg.JWKSURL == "" {
		return // static keys: nothing of Keycloak's to compare
	}
	allowed := m.cfg.JWTSupportedAlgs
	if len(allowed) == 0 {
		allowed = []string{"RS256"}
	}
	var algs []string
	for _, k := range d.live.disc.Keys {
		if k.Use == "enc" {
			continue
		}
		a := k.Alg
		if a == "" {
			a = "RS256"
		}
		algs = append(algs, a)
	}
	if !slices.ContainsFunc(algs, func(a string) bool { return slices.Contains(allowed, a) }) {
		d.add(Check{ID: "discovery.jwks", System: sysVault, Status: Fail,
			Message:  fmt.Sprintf("the realm's JWKS has no signing key of an algorithm auth mount %s/ accepts (%s)", m.view.Path, strings.Join(allowed, ", ")),
			Evidence: "signing keys: " + strings.Join(algs, ", ") + " at " + d.live.disc.JWKSURI,
			Fix:      "set jwt_supported_algs on auth/" + m.view.Path + "/config to include " + strings.Join(algs, ", ") + ", or add an RS256 key to the realm"})
		return
	}
	d.ok(sysVault, "discovery.jwks", fmt.Sprintf("the realm's JWKS has a %s signing key, which auth mount %s/ accepts", strings.Join(algs, "/"), m.view.Path))
}

// usedForBrowser reports whether the client logs users in through the
// browser: an OIDC mount or a Django site.
func (d *doc) usedForBrowser() bool {
	return len(d.t.Sites) > 0 || slices.ContainsFunc(d.live.mounts, func(m *mount) bool {
		return m.cfg != nil && m.cfg.OIDCClientID != ""
	})
}

// client checks the client itself: enabled, confidential and with the
// standard flow where the browser logs in, direct grants only when asked.
func (d *doc) client() {
	c := d.live.client.Settings()
	id := d.t.Client
	if !c.Enabled {
		d.add(Check{ID: "client.enabled", System: sysKeycloak, Status: Fail, Message: "client " + id + " is disabled: every login through it fails",
			Fix: "enable it (Clients > " + id + " > Enabled)", FixYAML: clientFix(id, "enabled: true")})
	} else {
		d.ok(sysKeycloak, "client.enabled", "client "+id+" is enabled")
	}
	if d.usedForBrowser() {
		if c.PublicClient || c.BearerOnly {
			d.add(Check{ID: "client.confidential", System: sysKeycloak, Status: Fail,
				Message: "client " + id + " is not confidential, so it has no secret for Vault's OIDC flow or a Django site",
				Fix:     "turn Client authentication on (Clients > " + id + " > Capability config)", FixYAML: clientFix(id, "access: confidential")})
		} else {
			d.ok(sysKeycloak, "client.confidential", "client "+id+" is confidential")
		}
		if !c.StandardFlow {
			d.add(Check{ID: "client.standard-flow", System: sysKeycloak, Status: Fail,
				Message: "client " + id + " has the standard flow off: the browser login (authorization code) is refused",
				Fix:     "turn Standard flow on", FixYAML: clientFix(id, "standard_flow: true")})
		} else {
			d.ok(sysKeycloak, "client.standard-flow", "client "+id+" allows the authorization-code flow")
		}
	}
	if c.DirectGrants {
		asked := false
		if f := d.t.File; f != nil && f.Keycloak != nil {
			if fc := f.Keycloak.Client(id); fc != nil && fc.DirectAccessGrants != nil && *fc.DirectAccessGrants {
				asked = true
			}
		}
		if asked {
			d.ok(sysKeycloak, "client.direct-grants", "client "+id+" allows direct grants, as the file asks")
		} else {
			d.add(Check{ID: "client.direct-grants", System: sysKeycloak, Status: Warn,
				Message: "client " + id + " allows direct grants (passwords sent to the token endpoint): needed only for scripts and tests",
				Fix:     "turn Direct access grants off unless something logs in with a password", FixYAML: clientFix(id, "direct_access_grants: false")})
		}
	}
}

// redirectAllowed applies Keycloak's redirect URI rules, as Keycloak 26
// answers them (the integration test holds this against the real server):
// a registered URI ending in * and holding no ? matches by prefix the
// requested URI without its query, and "x/*" matches "x" too; any other
// registered URI matches exactly, case and query included. A relative one
// is taken against the client's root URL, or Keycloak's own origin.
func redirectAllowed(registered []string, root, uri string) bool {
	path := uri
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	for _, r := range registered {
		if strings.HasPrefix(r, "/") {
			r = strings.TrimRight(root, "/") + r
		}
		if r == uri {
			return true
		}
		if !strings.HasSuffix(r, "*") || strings.Contains(r, "?") {
			continue
		}
		prefix := strings.TrimSuffix(r, "*")
		if strings.HasPrefix(path, prefix) || (len(prefix) > 1 && strings.TrimSuffix(prefix, "/") == path) {
			return true
		}
	}
	return false
}

// cliCallback warns when an OIDC role cannot serve `vault login
// -method=oidc`: the CLI listens on localhost:8250 and sends
// http://localhost:8250/oidc/callback. Vault drops the port of a loopback
// URI when it compares, Keycloak does not; the CLI's own port is 8250.
func (d *doc) cliCallback(m *mount, name string, r *inspect.VaultRole) {
	cli := cliCallback
	for _, u := range r.AllowedRedirectURIs {
		pu, err := url.Parse(u)
		if err == nil && pu.Hostname() == "localhost" && pu.Scheme == "http" && pu.Path == "/oidc/callback" && pu.RawQuery == "" {
			return
		}
	}
	fix := redirectURIFix(m.view.Path, name, cli)
	if !redirectAllowed(d.live.client.Settings().RedirectURIs, d.rootURL(), cli) {
		fix = clientFix(d.t.Client, "redirect_uris: "+yqList([]string{cli})) + fix
	}
	d.add(Check{ID: "redirect.vault-cli", System: sysVault, Status: Warn,
		Message: fmt.Sprintf("role %s/%s does not allow the Vault CLI's callback %s: `vault login -method=oidc role=%s` answers \"%s\" (the browser login in Vault's UI is not affected)", m.view.Path, name, cli, name, inspect.VaultCLIRedirectRefused(name, cli)),
		Fix:     "add " + cli + " to the role's allowed_redirect_uris and the client's redirect URIs, if people log in from the CLI",
		FixYAML: fix})
}

// rootURL is what Keycloak resolves a relative redirect URI against: the
// client's root URL (${authBaseUrl} is Keycloak's own), or Keycloak's origin.
func (d *doc) rootURL() string {
	base := strings.TrimRight(d.t.KeycloakURL, "/")
	if root := d.live.client.Settings().RootURL; root != "" {
		return strings.NewReplacer("${authBaseUrl}", base, "${authAdminUrl}", base).Replace(root)
	}
	if u, err := url.Parse(base); err == nil {
		return u.Scheme + "://" + u.Host
	}
	return base
}

// redirects checks each OIDC role's allowed_redirect_uris against the
// client's redirect URIs.
func (d *doc) redirects() {
	registered, root := d.live.client.Settings().RedirectURIs, d.rootURL()
	for _, m := range d.live.mounts {
		for _, name := range m.names {
			r := m.roles[name]
			if r.RoleType != "oidc" {
				continue
			}
			var missing []string
			for _, u := range r.AllowedRedirectURIs {
				if !redirectAllowed(registered, root, u) {
					missing = append(missing, u)
				}
			}
			d.cliCallback(m, name, r)
			if len(missing) == 0 {
				d.ok(sysKeycloak, "redirect.vault", fmt.Sprintf("every redirect URI of role %s/%s is registered on client %s", m.view.Path, name, d.t.Client))
				continue
			}
			d.add(Check{ID: "redirect.vault", System: sysKeycloak, Status: Fail,
				Message:  fmt.Sprintf("role %s/%s sends the browser back to %s, which client %s does not list: Keycloak answers \"Invalid parameter: redirect_uri\"", m.view.Path, name, strings.Join(missing, ", "), d.t.Client),
				Evidence: "client redirect URIs: " + strings.Join(registered, ", "),
				Fix:      "add " + strings.Join(missing, ", ") + " to the client's Valid redirect URIs",
				FixYAML:  clientFix(d.t.Client, "redirect_uris: "+yqList(missing))})
		}
	}
}

// audience checks bound_audiences against the aud of each token the
// role's login path reads (loginPaths). Each reading is a login Vault
// answers on its own, so each must pass.
func (d *doc) audience(m *mount) {
	client := d.t.Client
	for _, name := range m.names {
		r := m.roles[name]
		path := loginPaths[pathOf(m, r)]
		bound := r.BoundAudiences
		if len(bound) == 0 && !path.strictAud {
			continue // the OIDC flow holds aud against the client id itself
		}
		ref := m.view.Path + "/" + name
		login := inspect.VaultLoginOIDC
		if pathOf(m, r) == pathJWT {
			login = inspect.VaultLoginJWT
		}
		var refused, passed []reading
		selfOK := true // every reading carries the client id
		for _, rd := range path.readings {
			auds := d.aud(rd.token)
			if step, _ := inspect.VaultAudience(login, bound, auds, len(auds) > 0); step == "" {
				passed = append(passed, rd)
			} else {
				refused = append(refused, rd)
			}
			selfOK = selfOK && slices.Contains(auds, client)
		}
		if len(refused) == 0 {
			verb := "meet"
			if len(passed) == 1 {
				verb = "meets"
			}
			d.ok(sysVault, path.audID, fmt.Sprintf("%s of client %s %s the bound audiences of role %s", tokensOf(passed), client, verb, ref))
			continue
		}
		var parts []string
		for _, rd := range refused {
			part := fmt.Sprintf("an %s of client %s has aud %s", rd.token.noun(), client, quoteList(d.shownAud(rd.token)))
			if len(bound) > 0 {
				part += " (no audience mapper adds " + strings.Join(bound, " or ") + ")"
			}
			part += ": " + rd.login + " to role " + ref + " with it"
			if rd.sender != "" {
				part += ", " + rd.sender + ","
			}
			refusal := inspect.VaultMsgJWTNoAudiences
			if len(bound) > 0 {
				refusal = path.audRefused[0]
			}
			parts = append(parts, fmt.Sprintf("%s fails with %q", part, refusal))
		}
		msg := strings.Join(parts, "; ")
		if len(bound) == 0 {
			msg = "role " + ref + " binds no audiences, so Vault refuses any token that has one: " + msg
		} else if len(path.audRefused) > 1 {
			msg += fmt.Sprintf(" (older Vault: %q)", path.audRefused[1])
		}
		if len(passed) > 0 {
			msg += "; only " + tokensOf(passed) + " passes"
		}
		c := Check{ID: path.audID, System: sysVault, Status: Fail, Message: msg}
		switch {
		case len(bound) == 0:
			c.Fix = fmt.Sprintf("bind role %s to client %s (bound_audiences [%s]), the audience of every ID token", ref, client, client)
			c.FixYAML = boundAudienceFix(m.view.Path, name, client)
			if !selfOK {
				c.Fix += ", and add an audience mapper for " + client + " so that access tokens carry it too"
				c.FixYAML = audienceMapperFix(client, client) + c.FixYAML
			}
		case selfOK && path.bindClient:
			c.Fix = fmt.Sprintf("set bound_audiences on role %s to [%s] (or remove it: Vault checks the ID token's audience against the client id anyway)", ref, client)
			c.FixYAML = boundAudienceFix(m.view.Path, name, client)
		default:
			var into []string
			for _, rd := range refused {
				into = append(into, rd.token.noun())
			}
			c.Fix = "add an audience mapper (Clients > " + client + " > Client scopes > dedicated > Audience, included client audience " + bound[0] + ", add to " + strings.Join(into, " and ") + ")"
			c.FixYAML = audienceMapperFix(client, bound[0])
		}
		d.add(c)
	}
}

// shownAud is a token's aud as messages show it: an access token's with
// "account", which Keycloak adds for the account roles every user holds.
func (d *doc) shownAud(s source) []string {
	auds := slices.Clone(d.aud(s))
	if s == fromAccessToken {
		auds = append(auds, "account")
	}
	return auds
}

// tokensOf names the tokens the readings verify: "the ID token and the
// access token".
func tokensOf(rs []reading) string {
	var out []string
	for _, r := range rs {
		out = append(out, r.token.String())
	}
	return strings.Join(out, " and ")
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// claimUse is one claim a role reads, and what Vault does with a login that
// lacks it.
type claimUse struct {
	id string // the check's ID
	// what names the claim as the role does: user_claim "email".
	what string
	// pointer is where Vault looks for it.
	pointer string
	// refusal is Vault's answer to a login without the claim. Empty when
	// Vault logs in without it (claim_mappings): the check is then a
	// warning, and without says what is lost.
	refusal, without string
	// fix and fixYAML are the way out when no mapper can be made to write
	// the claim.
	fix, fixYAML string
}

// claims checks every claim each role reads against every reading of its
// login path (loginPaths).
func (d *doc) claims(m *mount) {
	for _, name := range m.names {
		for _, u := range d.uses(m, name) {
			d.claimRead(m, name, u)
		}
	}
}

// uses lists the claims role name reads, with Vault's answer to a login
// that lacks each (vault-plugin-auth-jwt createIdentity, then
// validateBoundClaims): user_claim, groups_claim, each bound_claims key,
// each claim_mappings source. A groups_claim whose name is wrong is
// reported here and left out.
func (d *doc) uses(m *mount, name string) []claimUse {
	r := m.roles[name]
	ref := m.view.Path + "/" + name
	var out []claimUse
	for _, c := range inspect.VaultClaimReads(r) {
		k := c.Name
		switch c.Field {
		case "user_claim":
			out = append(out, claimUse{id: "claims.user-claim", what: fmt.Sprintf("user_claim %q (the user's name)", k), pointer: c.Pointer,
				refusal: c.Refusal,
				fix:     "set user_claim to sub or preferred_username", fixYAML: userClaimFix(m.view.Path, name)})
		case "groups_claim":
			dotted := ""
			if !strings.HasPrefix(k, "/") && strings.Contains(k, ".") {
				if p := inspect.KeycloakClaimPointer(k).String(); len(d.live.tokens.find(p)) > 0 {
					dotted = p
				}
			}
			if dotted != "" {
				d.add(Check{ID: "claims.groups-pointer", System: sysVault, Status: Fail,
					Message: fmt.Sprintf("role %s has groups_claim %q: Vault reads a name without a leading / as one top-level claim of that exact name, but Keycloak nests it (%s): Vault answers \"%q claim not found in token\"", ref, k, dotted, k),
					Fix:     "set groups_claim to the JSON pointer " + dotted, FixYAML: groupsClaimFix(m.view.Path, name, dotted)})
				continue
			}
			out = append(out, claimUse{id: "claims.groups", what: fmt.Sprintf("groups_claim %q", k), pointer: c.Pointer,
				refusal: c.Refusal,
				fix:     "add a mapper that writes it (a client roles or group membership mapper), or point groups_claim at a claim the tokens have",
				fixYAML: d.groupsMapperFix(c.Pointer)})
		case "bound_claims":
			out = append(out, claimUse{id: "claims.bound-claims", what: fmt.Sprintf("bound_claims key %q", k), pointer: c.Pointer,
				refusal: c.Refusal,
				fix:     fmt.Sprintf("add a mapper that writes %s into every token, or take %q out of bound_claims", c.Pointer, k)})
		case "claim_mappings":
			out = append(out, claimUse{id: "claims.claim-mappings", what: fmt.Sprintf("claim_mappings source %q", k), pointer: c.Pointer,
				without: fmt.Sprintf("the entity alias gets no metadata %q (Vault skips a missing source without a word)", c.MetadataKey),
				fix:     fmt.Sprintf("add a mapper that writes %s into every token, or take %q out of claim_mappings", c.Pointer, k)})
		}
	}
	return out
}

// claimRead checks one claim role name reads on every reading of its
// login path: a reading that lacks it fails (or warns, where Vault logs in
// without it); one whose merged answer may replace it warns.
func (d *doc) claimRead(m *mount, name string, u claimUse) {
	tm := d.live.tokens
	path := loginPaths[pathOf(m, m.roles[name])]
	ref := m.view.Path + "/" + name
	var lacking, replaced []reading
	var rivals []claim
	for _, rd := range path.readings {
		switch s := tm.see(rd, u.pointer); {
		case len(s.from) == 0:
			lacking = append(lacking, rd)
		case len(s.replacedBy) > 0:
			replaced = append(replaced, rd)
			rivals = append(rivals, s.replacedBy...)
		}
	}
	written := tm.find(u.pointer)
	if len(lacking) == 0 && len(replaced) == 0 {
		d.ok(sysVault, u.id, fmt.Sprintf("role %s finds %s in %s (%s)", ref, u.what, readingsOf(path.readings), describeMappers(written)))
		if u.id == "claims.groups" {
			gc := m.roles[name].GroupsClaim
			d.add(Check{ID: "claims.empty-groups", System: sysVault, Status: Warn,
				Message: fmt.Sprintf("Keycloak leaves %s out of the token of a user with no groups or roles for it, and Vault then refuses that user (\"%s claim not found in token\") instead of logging them in without groups", u.pointer, gc),
				Fix:     "give every user who logs in to role " + ref + " at least one group or role for the claim"})
		}
		return
	}
	status := Fail
	if u.refusal == "" {
		status = Warn
	}
	outcome := func(rs []reading) string {
		var logins []string
		for _, rd := range rs {
			l := rd.login + " with " + rd.String()
			if rd.sender != "" {
				l += " (" + rd.sender + ")"
			}
			logins = append(logins, l)
		}
		if u.refusal == "" {
			return "on " + strings.Join(logins, " and ") + " Vault logs in without it: " + u.without
		}
		return fmt.Sprintf("Vault answers %q to %s", u.refusal, strings.Join(logins, " and "))
	}
	c := Check{ID: u.id, System: sysVault, Status: status}
	switch {
	case len(written) == 0:
		c.Message = fmt.Sprintf("role %s reads %s, which no mapper of client %s (nor a default client scope) writes: %s", ref, u.what, d.t.Client, outcome(lacking))
	case len(lacking) > 0:
		var where []string
		for _, rd := range lacking {
			where = append(where, rd.where())
		}
		c.Message = fmt.Sprintf("role %s reads %s, which %s %s, not into %s: %s", ref, u.what, describeMappers(written), writesInto(written), strings.Join(where, " or "), outcome(lacking))
	default:
		c.Status = Warn
		verb := "writes"
		if len(rivals) > 1 {
			verb = "write"
		}
		merged := replaced[0].merged[0]
		c.Message = fmt.Sprintf("role %s finds %s in %s, but %s %s its top-level claim %q into %s without it, and Vault decodes %s over the token's claims, each top-level claim whole: for a user with a value there, %s",
			ref, u.what, tokensOf(replaced), describeMappers(rivals), verb, topLevel(u.pointer), merged, merged, outcome(replaced))
	}
	var ok bool
	if c.Fix, c.FixYAML, ok = d.claimMapperFix(u.pointer); !ok {
		c.Fix, c.FixYAML = u.fix, u.fixYAML
	}
	d.add(c)
}

// readingsOf names what the readings show Vault: "the ID token and the
// access token", "the ID token merged with userinfo".
func readingsOf(rs []reading) string {
	var out []string
	for _, r := range rs {
		out = append(out, r.String())
	}
	return strings.Join(out, " and ")
}

// writesInto says where the mappers behind cs write: "writes into the
// access token only".
func writesInto(cs []claim) string {
	var into []string
	for _, s := range []source{fromIDToken, fromAccessToken, fromUserinfo} {
		if slices.ContainsFunc(cs, func(c claim) bool { return c.in(s) }) {
			into = append(into, s.String())
		}
	}
	verb := "writes"
	if len(cs) > 1 {
		verb = "write"
	}
	if len(into) == 0 {
		return verb + " it into no token"
	}
	return verb + " it into " + strings.Join(into, " and ") + " only"
}

// claimMapperFix makes the mapper that writes the claim at p write it into
// every token and answer Vault may read (the ID token, the access token and
// userinfo): the client's own mapper, by its name, or else a default
// scope's, copied onto the client. Every role and path gets the same fix
// for one claim, so fixes merged one after another agree. The fragment is
// empty when the file (-f) already holds that mapper: apply makes it live.
// ok is false when no mapper writes the claim, or ssoctl cannot write the
// one that does.
func (d *doc) claimMapperFix(p string) (fix, fixYAML string, ok bool) {
	var pick *claim
	for _, c := range d.live.tokens.find(p) {
		if c.mapperIndex >= 0 {
			pick = &c
			break
		}
		if pick == nil && c.scope != "" {
			pick = &c
		}
	}
	if pick == nil {
		return "", "", false
	}
	client, name := d.t.Client, pick.mapper
	sh := keycloak.MapperMeaning(pick.kind, pick.config, client)
	switch f := keycloak.TokenFlagsOf(sh); {
	case sh == nil:
		cfg := maps.Clone(pick.config)
		for _, k := range []string{"id.token.claim", "access.token.claim", "userinfo.token.claim"} {
			cfg[k] = "true"
		}
		sh = &spec.Mapper{Name: name, Raw: &spec.RawMapper{ProtocolMapper: pick.kind, Config: cfg}}
	case f == nil:
		return "", "", false
	default:
		on := true
		f.IDToken, f.AccessToken, f.Userinfo = &on, &on, &on
		if sh.ClientRoles != nil && sh.ClientRoles.Client == "" {
			sh.ClientRoles.Client = pick.roleClient
		}
		if pick.mapperIndex >= 0 && sh.DefaultName(client) != name {
			sh.Name = name
		}
	}
	fix = fmt.Sprintf("turn on Add to ID token, Add to access token and Add to userinfo on mapper %q of client %s", name, client)
	if pick.mapperIndex < 0 {
		if d.live.client.HasMapper(sh.DefaultName(client)) {
			return "", "", false // the copy's name is taken on the client
		}
		fix = fmt.Sprintf("give client %s its own copy of mapper %q of client scope %s, with Add to ID token, Add to access token and Add to userinfo on", client, name, pick.scope)
	}
	if d.fileHolds(*sh) {
		return fmt.Sprintf("the file's mapper %q already writes it into every token: ssoctl apply -f makes it live", sh.DefaultName(client)), "", true
	}
	line, err := mapperYAML(*sh)
	if err != nil {
		return "", "", false
	}
	return fix, mapperFix(client, line), true
}

// fileHolds reports whether the file (-f) gives the client a mapper of m's
// name that Keycloak would store as it would store m.
func (d *doc) fileHolds(m spec.Mapper) bool {
	if d.t.File == nil || d.t.File.Keycloak == nil {
		return false
	}
	fc := d.t.File.Keycloak.Client(d.t.Client)
	if fc == nil {
		return false
	}
	client := d.t.Client
	want := keycloak.ExpandMapper(m, client, spec.ProtocolOIDC)
	return slices.ContainsFunc(fc.Mappers, func(have spec.Mapper) bool {
		got := keycloak.ExpandMapper(have, client, spec.ProtocolOIDC)
		return got.Name == want.Name && got.ProtocolMapper == want.ProtocolMapper && maps.Equal(got.Config, want.Config)
	})
}

func describeMappers(cs []claim) string {
	var out []string
	for _, c := range cs {
		if c.scope != "" {
			out = append(out, fmt.Sprintf("mapper %q of client scope %s", c.mapper, c.scope))
		} else {
			out = append(out, fmt.Sprintf("mapper %q", c.mapper))
		}
	}
	return strings.Join(out, ", ")
}

// groupsMapperFix is the mapper that writes pointer p into every token,
// when p is where client roles or groups go.
func (d *doc) groupsMapperFix(p string) string {
	if strings.HasPrefix(p, "/resource_access/") && strings.HasSuffix(p, "/roles") {
		client := strings.TrimSuffix(strings.TrimPrefix(p, "/resource_access/"), "/roles")
		client = strings.NewReplacer("~1", "/", "~0", "~").Replace(client)
		return mapperFix(d.t.Client, "client_roles: {client: "+yq(client)+", claim: \"resource_access.${client_id}.roles\", id_token: true, access_token: true, userinfo: true}")
	}
	if p == "/realm_access/roles" {
		return mapperFix(d.t.Client, "realm_roles: {claim: realm_access.roles, id_token: true, access_token: true, userinfo: true}")
	}
	tokens := strings.Split(strings.TrimPrefix(p, "/"), "/")
	if len(tokens) == 1 {
		return mapperFix(d.t.Client, "groups: {claim: "+yq(tokens[0])+", full_path: false}")
	}
	return ""
}

// aliases checks each group alias on a mount against the values the roles'
// groups claims can carry.
func (d *doc) aliases(m *mount) {
	if len(m.view.Aliases) == 0 {
		return
	}
	var values []string
	var from string
	for _, name := range m.names {
		gc := m.roles[name].GroupsClaim
		if gc == "" {
			continue
		}
		found := d.live.tokens.find(inspect.VaultClaimPointer(gc))
		if len(found) == 0 {
			// The claim check reports the claim; what its aliases should be
			// cannot be told until it resolves.
			return
		}
		for _, c := range found {
			switch {
			case c.roleClient != "":
				if c.roleClient == d.t.Client {
					values = append(values, d.live.client.Roles...)
					from = "the roles of client " + c.roleClient
				}
			case c.kind == "oidc-group-membership-mapper":
				for p := range d.live.state.Groups {
					if c.fullPath {
						values = append(values, "/"+p)
					} else {
						values = append(values, p[strings.LastIndex(p, "/")+1:])
					}
				}
				from = "the realm's group names"
				if c.fullPath {
					from += " (full paths)"
				}
			case c.kind == "oidc-usermodel-realm-role-mapper":
				for r := range d.live.state.RealmRoles {
					values = append(values, r)
				}
				from = "the realm's roles"
			}
		}
	}
	if from == "" {
		return // the claim check reports it
	}
	slices.Sort(values)
	values = slices.Compact(values)
	for _, a := range m.view.Aliases {
		if slices.ContainsFunc(values, func(v string) bool { return strings.EqualFold(v, a.Name) }) {
			d.ok(sysVault, "aliases.match", fmt.Sprintf("group alias %q on %s/ (group %s) is one of %s", a.Name, m.view.Path, a.Group, from))
			continue
		}
		c := Check{ID: "aliases.match", System: sysVault, Status: Fail,
			Message:  fmt.Sprintf("group alias %q on %s/ (group %s) is none of %s, so no login ever joins group %s: Vault skips unknown values without a word", a.Name, m.view.Path, a.Group, from, a.Group),
			Evidence: "the claim can carry: " + strings.Join(values, ", ")}
		other := strings.TrimPrefix(a.Name, "/")
		if !strings.HasPrefix(a.Name, "/") {
			other = "/" + a.Name
		}
		if slices.Contains(values, other) {
			c.Message += fmt.Sprintf("; the claim carries %q (a leading / comes only with the groups mapper's full path)", other)
			c.Fix = fmt.Sprintf("rename the alias to %q (or flip the groups mapper's Full group path)", other)
			c.FixYAML = mountFix(m.view.Path, "groups:", "  - {name: "+yq(a.Group)+", alias: "+yq(other)+"}")
		} else {
			c.Fix = "name the alias after one of those values"
		}
		d.add(c)
	}
}

// django checks each site's needs against the live client.
func (d *doc) django() {
	exported := d.live.client.TokenClient()
	for i := range d.t.Sites {
		s := &d.t.Sites[i]
		problems := slices.DeleteFunc(django.Check(s, &exported), d.registered)
		if len(problems) == 0 {
			d.ok(sysDjango, "django.needs", fmt.Sprintf("client %s meets everything site %s (%s) needs", d.t.Client, s.Name, s.Library))
		}
		for _, p := range problems {
			id := map[string]string{"callback": "redirect.django", "post-logout": "logout.post-logout-uri", "unsigned-userinfo": "client.userinfo-signing",
				"audience": "audience.django", "groups-claim": "claims.django-groups", "roles-claim": "claims.django-roles"}[p.Need]
			c := Check{ID: id, System: sysDjango, Status: Fail, Message: fmt.Sprintf("site %s (%s): %s", s.Name, s.Library, p.Message)}
			switch p.Need {
			case "callback":
				c.Fix, c.FixYAML = "add "+p.Value+" to the client's Valid redirect URIs", clientFix(d.t.Client, "redirect_uris: "+yqList([]string{p.Value}))
			case "post-logout":
				c.Fix, c.FixYAML = "add "+p.Value+" to the client's Valid post logout redirect URIs", clientFix(d.t.Client, "post_logout_redirect_uris: "+yqList([]string{p.Value}))
			case "unsigned-userinfo":
				c.Fix, c.FixYAML = "set the client's User info signed response algorithm to unsigned", clientFix(d.t.Client, "userinfo_signed: false")
			default:
				if p.Add != nil {
					c.FixYAML = mapperFix(d.t.Client, mapperLine(*p.Add))
				}
				c.Fix = "add or fix the mapper as described (ssoctl apply with the site in sso.yaml does it)"
			}
			d.add(c)
		}
	}
}

// registered reports a callback or post-logout problem that Keycloak's own
// matching answers: a wildcard redirect URI, a relative one under the root
// URL, or "+" (the redirect URIs) in the post-logout list.
func (d *doc) registered(p django.Problem) bool {
	c := d.live.client.Settings()
	redirect, root := c.RedirectURIs, d.rootURL()
	switch p.Need {
	case "callback":
		return redirectAllowed(redirect, root, p.Value)
	case "post-logout":
		var back []string
		for _, u := range c.PostLogoutRedirectURIs {
			if u == "+" {
				back = append(back, redirect...)
			} else {
				back = append(back, u)
			}
		}
		return redirectAllowed(back, root, p.Value)
	}
	return false
}

// mapperLine writes a mapper shorthand as a flow mapping item.
func mapperLine(m spec.Mapper) string {
	switch {
	case m.Audience != nil:
		return "audience: " + yq(m.Audience.Client)
	case m.Groups != nil:
		return "groups: {claim: " + yq(m.Groups.Claim) + ", full_path: false, id_token: true, access_token: true, userinfo: true}"
	case m.ClientRoles != nil && m.ClientRoles.Claim == "roles":
		return "client_roles: {client: " + yq(m.ClientRoles.Client) + ", claim: roles, prefix: " + yq(m.ClientRoles.Prefix) + ", id_token: true}"
	case m.ClientRoles != nil:
		return "client_roles: {client: " + yq(m.ClientRoles.Client) + ", id_token: true, access_token: true, userinfo: true}"
	}
	return ""
}
