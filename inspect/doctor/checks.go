package doctor

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/ssoctl/ssoctl/inspect"
	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/spec"
	"github.com/ssoctl/ssoctl/templates/django"
)

// Vault's own words for a token whose aud the role does not bind (Vault
// 1.19, jwt plugin v0.23; the old string is what older servers and most
// forum threads show).
const (
	vaultJWTAudience    = "error validating token: invalid audience (aud) claim: audience claim does not match any expected audience"
	vaultJWTAudienceOld = "aud claim does not match any bound audience"
	vaultOIDCAudience   = "invalid id_token audiences"
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
				Fix: "write auth/" + m.view.Path + "/config with oidc_discovery_url " + issuer, FixYAML: mountFix(m.view.Path, "discovery_url: "+yq(issuer))})
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
					FixYAML:  mountFix(m.view.Path, f.yaml+": "+yq(issuer))})
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
	c := d.live.client.Client
	id := d.t.Client
	if !deref(c.Enabled) {
		d.add(Check{ID: "client.enabled", System: sysKeycloak, Status: Fail, Message: "client " + id + " is disabled: every login through it fails",
			Fix: "enable it (Clients > " + id + " > Enabled)", FixYAML: clientFix(id, "enabled: true")})
	} else {
		d.ok(sysKeycloak, "client.enabled", "client "+id+" is enabled")
	}
	if d.usedForBrowser() {
		if deref(c.PublicClient) || deref(c.BearerOnly) {
			d.add(Check{ID: "client.confidential", System: sysKeycloak, Status: Fail,
				Message: "client " + id + " is not confidential, so it has no secret for Vault's OIDC flow or a Django site",
				Fix:     "turn Client authentication on (Clients > " + id + " > Capability config)", FixYAML: clientFix(id, "access: confidential")})
		} else {
			d.ok(sysKeycloak, "client.confidential", "client "+id+" is confidential")
		}
		if !deref(c.StandardFlowEnabled) {
			d.add(Check{ID: "client.standard-flow", System: sysKeycloak, Status: Fail,
				Message: "client " + id + " has the standard flow off: the browser login (authorization code) is refused",
				Fix:     "turn Standard flow on", FixYAML: clientFix(id, "standard_flow: true")})
		} else {
			d.ok(sysKeycloak, "client.standard-flow", "client "+id+" allows the authorization-code flow")
		}
	}
	if deref(c.DirectAccessGrantsEnabled) {
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
	fix := roleFix(m.view.Path, name, "allowed_redirect_uris: "+yqList([]string{cli}))
	if !redirectAllowed(deref(d.live.client.Client.RedirectURIs), d.rootURL(), cli) {
		fix = clientFix(d.t.Client, "redirect_uris: "+yqList([]string{cli})) + fix
	}
	d.add(Check{ID: "redirect.vault-cli", System: sysVault, Status: Warn,
		Message: fmt.Sprintf("role %s/%s does not allow the Vault CLI's callback %s: `vault login -method=oidc role=%s` answers \"Unable to authorize role %q with redirect_uri %q\" (the browser login in Vault's UI is not affected)", m.view.Path, name, cli, name, name, cli),
		Fix:     "add " + cli + " to the role's allowed_redirect_uris and the client's redirect URIs, if people log in from the CLI",
		FixYAML: fix})
}

// rootURL is what Keycloak resolves a relative redirect URI against: the
// client's root URL (${authBaseUrl} is Keycloak's own), or Keycloak's origin.
func (d *doc) rootURL() string {
	base := strings.TrimRight(d.t.KeycloakURL, "/")
	if root := deref(d.live.client.Client.RootURL); root != "" {
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
	c := d.live.client.Client
	registered, root := deref(c.RedirectURIs), d.rootURL()
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

// audience checks that bound_audiences is satisfied by the token each
// login path uses: the ID token for OIDC roles; for JWT roles the ID token
// and also an access token, which machines send (client credentials).
func (d *doc) audience(m *mount) {
	tm := d.live.tokens
	idAud := slices.Compact(slices.Sorted(slices.Values(append([]string{d.t.Client}, tm.idAud...))))
	for _, name := range m.names {
		r := m.roles[name]
		if len(r.BoundAudiences) == 0 {
			continue
		}
		ref := m.view.Path + "/" + name
		meets := func(auds []string) bool {
			return slices.ContainsFunc(r.BoundAudiences, func(a string) bool { return slices.Contains(auds, a) })
		}
		idOK := meets(idAud)
		if r.RoleType == "oidc" {
			if !idOK {
				d.add(Check{ID: "audience.oidc", System: sysVault, Status: Fail,
					Message: fmt.Sprintf("role %s binds audiences %s, but the ID token of client %s carries %s: Vault's callback answers %q", ref, quoteList(r.BoundAudiences), d.t.Client, quoteList(idAud), vaultOIDCAudience),
					Fix:     "set bound_audiences on the role to [" + d.t.Client + "] (or remove it: Vault checks the ID token's audience against the client id anyway)",
					FixYAML: roleFix(m.view.Path, name, "bound_audiences: "+yqList([]string{d.t.Client}))})
				continue
			}
			d.ok(sysVault, "audience.oidc", "the ID token's audience "+quoteList(idAud)+" meets role "+ref)
			continue
		}
		accessOK := meets(tm.accessAud)
		switch {
		case idOK && accessOK:
			d.ok(sysVault, "audience.jwt", "ID and access tokens of client "+d.t.Client+" meet the bound audiences of role "+ref)
		case !idOK && !accessOK:
			d.add(Check{ID: "audience.jwt", System: sysVault, Status: Fail,
				Message: fmt.Sprintf("role %s binds audiences %s, which no token of client %s carries (ID token %s, access token %s): Vault answers %q (older Vault: %q)",
					ref, quoteList(r.BoundAudiences), d.t.Client, quoteList(idAud), quoteList(append(tm.accessAud, "account")), vaultJWTAudience, vaultJWTAudienceOld),
				Fix:     "add an audience mapper for " + r.BoundAudiences[0] + " to client " + d.t.Client + ", or bind the role to " + d.t.Client,
				FixYAML: mapperFix(d.t.Client, "audience: "+yq(r.BoundAudiences[0]))})
		case idOK:
			d.add(Check{ID: "audience.jwt", System: sysVault, Status: Fail,
				Message: fmt.Sprintf("an access token of client %s has aud %s (no audience mapper adds %s): a JWT login to role %s with it, as machines and client-credentials logins send, fails with %q (older Vault: %q); only the ID token passes",
					d.t.Client, quoteList(append(slices.Clone(tm.accessAud), "account")), r.BoundAudiences[0], ref, vaultJWTAudience, vaultJWTAudienceOld),
				Fix:     "add an audience mapper (Clients > " + d.t.Client + " > Client scopes > dedicated > Audience, included client audience " + r.BoundAudiences[0] + ", add to access token)",
				FixYAML: mapperFix(d.t.Client, "audience: "+yq(r.BoundAudiences[0]))})
		default:
			d.ok(sysVault, "audience.jwt", "access tokens of client "+d.t.Client+" meet the bound audiences of role "+ref)
		}
	}
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// pathReads says whether a login path sees a claim: OIDC roles read the ID
// token and userinfo; JWT roles the token sent (ID or access).
func pathReads(roleType string, c claim) bool {
	if roleType == "oidc" {
		return c.id || c.userinfo
	}
	return c.id || c.access
}

// claims checks user_claim and groups_claim against what the tokens carry.
func (d *doc) claims(m *mount) {
	tm := d.live.tokens
	for _, name := range m.names {
		r := m.roles[name]
		ref := m.view.Path + "/" + name
		if uc := r.UserClaim; uc != "" {
			p := inspect.VaultClaimPointer(uc)
			if !r.UserClaimJSONPointer {
				p = inspect.PointerTo(uc).String()
			}
			if !slices.ContainsFunc(tm.find(p), func(c claim) bool { return pathReads(r.RoleType, c) }) {
				d.add(Check{ID: "claims.user-claim", System: sysVault, Status: Fail,
					Message: fmt.Sprintf("role %s takes the user's name from claim %q, which no mapper of client %s writes into the token it reads: Vault answers \"claim %q not found in token\"", ref, uc, d.t.Client, uc),
					Fix:     "set user_claim to sub or preferred_username", FixYAML: roleFix(m.view.Path, name, "user_claim: sub")})
			} else {
				d.ok(sysVault, "claims.user-claim", fmt.Sprintf("role %s finds the user's name in claim %q", ref, uc))
			}
		}
		gc := r.GroupsClaim
		if gc == "" {
			continue
		}
		if !strings.HasPrefix(gc, "/") && strings.Contains(gc, ".") {
			p := inspect.KeycloakClaimPointer(gc).String()
			if len(tm.find(p)) > 0 {
				d.add(Check{ID: "claims.groups-pointer", System: sysVault, Status: Fail,
					Message: fmt.Sprintf("role %s has groups_claim %q: Vault reads a name without a leading / as one top-level claim of that exact name, but Keycloak nests it (%s): Vault answers \"%q claim not found in token\"", ref, gc, p, gc),
					Fix:     "set groups_claim to the JSON pointer " + p, FixYAML: roleFix(m.view.Path, name, "groups_claim: "+yq(p))})
				continue
			}
		}
		p := inspect.VaultClaimPointer(gc)
		cs := tm.find(p)
		switch {
		case len(cs) == 0:
			d.add(Check{ID: "claims.groups-missing", System: sysVault, Status: Fail,
				Message: fmt.Sprintf("role %s reads groups from %s, which no mapper of client %s (nor a default client scope) writes: Vault answers \"%q claim not found in token\"", ref, p, d.t.Client, gc),
				Fix:     "add a mapper that writes it (a client roles or group membership mapper), or point groups_claim at a claim the tokens have",
				FixYAML: d.groupsMapperFix(p)})
		case !slices.ContainsFunc(cs, func(c claim) bool { return pathReads(r.RoleType, c) }):
			where := "the ID token or userinfo, which the OIDC login reads"
			if r.RoleType != "oidc" {
				where = "a token"
			}
			d.add(Check{ID: "claims.access-only", System: sysVault, Status: Fail,
				Message: fmt.Sprintf("role %s reads groups from %s, but only %s writes it, into the access token alone, not %s: Vault answers \"%q claim not found in token\"", ref, p, describeMappers(cs), where, gc),
				Fix:     "add a mapper that writes the claim into the ID token and userinfo too (Keycloak's built-in roles scope writes the access token only)",
				FixYAML: d.groupsMapperFix(p)})
		default:
			d.ok(sysVault, "claims.groups", fmt.Sprintf("role %s finds groups at %s (%s)", ref, p, describeMappers(cs)))
			d.add(Check{ID: "claims.empty-groups", System: sysVault, Status: Warn,
				Message: fmt.Sprintf("Keycloak leaves %s out of the token of a user with no groups or roles for it, and Vault then refuses that user (\"%s claim not found in token\") instead of logging them in without groups", p, gc),
				Fix:     "give every user who logs in to role " + ref + " at least one group or role for the claim"})
		}
	}
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
	exported := exportClient(d.live.client)
	for i := range d.t.Sites {
		s := &d.t.Sites[i]
		problems := slices.DeleteFunc(djangoCheck(s, &exported), d.registered)
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
	c := d.live.client.Client
	redirect, root := deref(c.RedirectURIs), d.rootURL()
	switch p.Need {
	case "callback":
		return redirectAllowed(redirect, root, p.Value)
	case "post-logout":
		var back []string
		for _, u := range strings.Split(deref(c.Attributes)[keycloak.AttrPostLogoutRedirectURIs], "##") {
			if u == "+" {
				back = append(back, redirect...)
			} else if u != "" {
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
