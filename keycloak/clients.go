package keycloak

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/Nerzal/gocloak/v13"
	"golang.org/x/sync/errgroup"

	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
)

// builtinClients are created by Keycloak in every realm; they are never
// pruned.
var builtinClients = map[string]bool{
	"account": true, "account-console": true, "admin-cli": true, "broker": true,
	"realm-management": true, "security-admin-console": true,
}

// isBuiltinClient reports clients Keycloak creates itself: never pruned,
// never exported unless asked for.
func isBuiltinClient(realm, clientID string) bool {
	return builtinClients[clientID] || (realm == "master" && strings.HasSuffix(clientID, "-realm"))
}

// clientPage is how many clients one listing request reads. Keycloak's
// cost for one response grows with the square of its size when its caches
// miss (right after clients were imported, or in a realm bigger than its
// realm cache): measured on 26.7.3 with 2,006 clients, one listing or one
// export of them all took 27-34 s, pages of 500 in parallel 5.3 s, pages of
// 250 3.3 s (on 2 cores); with warm caches all three take 0.2 s.
const clientPage = 250

// readClients lists the realm's clients into the state, clientPage at a time:
// the first page alone (most realms fit in it), then conc pages at a time
// until one comes back short.
func (r *reader) readClients() error {
	page := func(i int, out *[]*gocloak.Client) error {
		return r.get(fmt.Sprintf("/%s/clients?first=%d&max=%d", esc(r.realm), i*clientPage, clientPage), out)
	}
	var all [][]*gocloak.Client
	var first []*gocloak.Client
	if err := page(0, &first); err != nil {
		return err
	}
	all = append(all, first)
	for len(all[len(all)-1]) == clientPage {
		wave := make([][]*gocloak.Client, r.conc)
		var g errgroup.Group
		for j := range wave {
			g.Go(func() error { return page(len(all)+j, &wave[j]) })
		}
		if err := g.Wait(); err != nil {
			return err
		}
		for _, p := range wave {
			all = append(all, p)
			if len(p) < clientPage {
				break
			}
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range all {
		for _, c := range p {
			r.st.Clients[deref(c.ClientID)] = listedClient(c)
		}
	}
	return nil
}

// listedClient is a client as State holds it, whichever read it came from:
// without the secret (masked in an export; planning never reads it: secrets
// are read from clients/{id}/client-secret), the admin's permissions, or the
// authorization settings (read apart, State.Authz), and with its scope
// lists sorted.
func listedClient(c *gocloak.Client) *gocloak.Client {
	c.Secret = nil
	c.Access = nil
	c.AuthorizationSettings = nil
	// The export and the listing give the scopes in different orders.
	for _, l := range []*[]string{c.DefaultClientScopes, c.OptionalClientScopes} {
		if l != nil {
			slices.Sort(*l)
		}
	}
	return c
}

// clients plans the file's clients with their roles and mappers, and the
// other clients of the realm.
func (b *builder) clients() {
	for _, it := range plan.Reconcile(plan.Set[DesiredClient, *gocloak.Client]{
		Want: b.d.Clients, Have: b.st.Clients,
		Name: func(d DesiredClient) string { return d.ClientID },
		Diff: func(d DesiredClient, cur *gocloak.Client) []plan.FieldDiff {
			return append(clientDiff(resolve(d, cur), cur), b.clientFlowDiff(d, cur)...)
		},
		Ignore: func(cid string, _ *gocloak.Client) bool { return b.d.Partial || isBuiltinClient(b.d.Realm, cid) },
	}) {
		d := resolve(it.Want, it.Have)
		switch it.Action {
		case plan.Delete:
			b.extra(b.change("client", it.Name, plan.Delete, stepPrune+2, nil, deleteClient{it.Name, deref(it.Have.ID)}), clientRef(it.Name))
			continue
		case plan.Create:
			body := clientBody(d)
			// A new client gets its scopes in its create body.
			if d.DefaultScopes != nil {
				body["defaultClientScopes"] = d.DefaultScopes
			}
			if d.OptionalScopes != nil {
				body["optionalClientScopes"] = d.OptionalScopes
			}
			fields := append(createFields(body), b.clientFlowDiff(d, nil)...)
			b.p.Add(b.change("client", d.ClientID, plan.Create, stepClients, fields, createClient{d.ClientID, body, clientOverrides(d.Flows)}))
		default:
			cur := it.Have
			uuid := deref(cur.ID)
			// PUT merges: fields left out keep their value. protocolMappers stays
			// nil (a non-nil list would delete unlisted mappers), and
			// authorizationServicesEnabled is sent as it is (leaving it out turns
			// Authorization Services off and deletes their settings).
			body := clientBody(d)
			body["id"] = uuid
			if deref(cur.AuthorizationServicesEnabled) {
				body["authorizationServicesEnabled"] = true
			}
			b.p.Add(b.change("client", d.ClientID, it.Action, stepClients, it.Fields, updateClient{d.ClientID, uuid, body, clientOverrides(d.Flows)}))
		}
		b.name(clientRef(d.ClientID))
		b.clientRoles(d)
		b.mappers(d, it.Have)
		b.scopeAssignments(d, it.Have)
		b.authz(d)
		b.scopeMappings(clientOwner(d.ClientID), d.ScopeMappings, it.Have == nil)
		full := d.FullScopeAllowed == nil && (it.Have == nil || it.Have.FullScopeAllowed == nil || *it.Have.FullScopeAllowed)
		if d.ScopeMappings != nil && (full || (d.FullScopeAllowed != nil && *d.FullScopeAllowed)) {
			b.p.Warn("keycloak client %q: scope_mappings limit its tokens only with full_scope_allowed: false; with full scope every role of the user reaches them", d.ClientID)
		}
	}
}

// clientBody renders the managed fields of d as an admin-API body.
func clientBody(d DesiredClient) map[string]any {
	body := map[string]any{"clientId": d.ClientID, "protocol": d.Protocol}
	set := func(k string, v any, ok bool) {
		if ok {
			body[k] = v
		}
	}
	set("name", deref(d.Name), d.Name != nil)
	set("description", deref(d.Description), d.Description != nil)
	set("enabled", deref(d.Enabled), d.Enabled != nil)
	set("publicClient", deref(d.PublicClient), d.PublicClient != nil)
	set("bearerOnly", deref(d.BearerOnly), d.BearerOnly != nil)
	set("standardFlowEnabled", deref(d.StandardFlow), d.StandardFlow != nil)
	set("directAccessGrantsEnabled", deref(d.DirectGrants), d.DirectGrants != nil)
	set("serviceAccountsEnabled", deref(d.ServiceAccts), d.ServiceAccts != nil)
	set("rootUrl", deref(d.RootURL), d.RootURL != nil)
	set("baseUrl", deref(d.BaseURL), d.BaseURL != nil)
	set("redirectUris", d.RedirectURIs, d.RedirectURIs != nil)
	set("webOrigins", d.WebOrigins, d.WebOrigins != nil)
	set("fullScopeAllowed", deref(d.FullScopeAllowed), d.FullScopeAllowed != nil)
	set("frontchannelLogout", deref(d.FrontchannelLogout), d.FrontchannelLogout != nil)
	set("authorizationServicesEnabled", true, d.Authz != nil)
	attrs := maps.Clone(d.Attributes)
	if attrs == nil {
		attrs = map[string]string{}
	}
	if d.UserinfoSigned != nil {
		attrs[AttrUserinfoSignatureAlg] = userinfoAlg(*d.UserinfoSigned)
	}
	if len(attrs) > 0 {
		body["attributes"] = attrs
	}
	return body
}

// userinfoAlg is the attribute value for signed or plain userinfo. Unsigned
// is the empty string: Keycloak removes an attribute set to "" but ignores
// a JSON null.
func userinfoAlg(signed bool) string {
	if signed {
		return "RS256"
	}
	return ""
}

// clientDiff compares the managed fields of d with the current client.
func clientDiff(d DesiredClient, cur *gocloak.Client) []plan.FieldDiff {
	var fs []plan.FieldDiff
	cmpStr := func(field string, want, have *string) {
		if want != nil {
			fs = plan.Diff(fs, field, deref(have), *want)
		}
	}
	cmpBool := func(field string, want, have *bool) {
		if want != nil && deref(have) != *want {
			fs = append(fs, plan.FieldDiff{Field: field, Old: deref(have), New: *want})
		}
	}
	cmpSet := func(field string, want []string, have *[]string) {
		if want != nil {
			fs = plan.DiffSet(fs, field, deref(have), want)
		}
	}
	if deref(cur.Protocol) != d.Protocol && !(d.Protocol == spec.ProtocolOIDC && deref(cur.Protocol) == "") {
		fs = append(fs, plan.FieldDiff{Field: "protocol", Old: deref(cur.Protocol), New: d.Protocol})
	}
	cmpStr("name", d.Name, cur.Name)
	cmpStr("description", d.Description, cur.Description)
	cmpBool("enabled", d.Enabled, cur.Enabled)
	cmpBool("publicClient", d.PublicClient, cur.PublicClient)
	cmpBool("bearerOnly", d.BearerOnly, cur.BearerOnly)
	cmpBool("standardFlowEnabled", d.StandardFlow, cur.StandardFlowEnabled)
	cmpBool("directAccessGrantsEnabled", d.DirectGrants, cur.DirectAccessGrantsEnabled)
	cmpBool("serviceAccountsEnabled", d.ServiceAccts, cur.ServiceAccountsEnabled)
	cmpStr("rootUrl", d.RootURL, cur.RootURL)
	cmpStr("baseUrl", d.BaseURL, cur.BaseURL)
	cmpSet("redirectUris", d.RedirectURIs, cur.RedirectURIs)
	cmpSet("webOrigins", d.WebOrigins, cur.WebOrigins)
	cmpBool("fullScopeAllowed", d.FullScopeAllowed, cur.FullScopeAllowed)
	cmpBool("frontchannelLogout", d.FrontchannelLogout, cur.FrontChannelLogout)
	if d.Authz != nil && !deref(cur.AuthorizationServicesEnabled) {
		fs = append(fs, plan.FieldDiff{Field: "authorizationServicesEnabled", Old: false, New: true})
	}
	have := deref(cur.Attributes)
	for _, k := range slices.Sorted(maps.Keys(d.Attributes)) {
		fs = plan.Diff(fs, "attributes."+k, have[k], d.Attributes[k])
	}
	if d.UserinfoSigned != nil {
		signed := have[AttrUserinfoSignatureAlg] != ""
		if signed != *d.UserinfoSigned {
			fs = append(fs, plan.FieldDiff{Field: "attributes." + AttrUserinfoSignatureAlg, Old: have[AttrUserinfoSignatureAlg], New: userinfoAlg(*d.UserinfoSigned)})
		}
	}
	return fs
}

// createClient creates a client and records its id. A client created by
// someone else since planning is adopted.
type createClient struct {
	ClientID string
	Body     map[string]any
	// Flows are the client's flow overrides by alias (flows.go).
	Flows []clientOverride
}

func (o createClient) apply(ctx context.Context, x *executor) error {
	body, err := x.withOverrides(ctx, o.Body, o.Flows)
	if err != nil {
		return err
	}
	id, err := x.a.create(ctx, x.path("clients"), body)
	if IsConflict(err) {
		id, err = x.lookupClient(ctx, o.ClientID)
	}
	if err != nil {
		return err
	}
	x.ids.Set(clientRef(o.ClientID), id)
	return nil
}

// updateClient PUTs the managed fields of a client.
type updateClient struct {
	ClientID, UUID string
	Body           map[string]any
	// Flows are the client's flow overrides by alias (flows.go).
	Flows []clientOverride
}

func (o updateClient) apply(ctx context.Context, x *executor) error {
	body, err := x.withOverrides(ctx, o.Body, o.Flows)
	if err != nil {
		return err
	}
	_, err = x.a.do(ctx, http.MethodPut, x.path("clients", esc(o.UUID)), body, nil)
	return err
}

// deleteClient deletes a client with its roles and mappers.
type deleteClient struct{ ClientID, UUID string }

func (o deleteClient) apply(ctx context.Context, x *executor) error {
	return ignoreNotFound(x.a.do(ctx, http.MethodDelete, x.path("clients", esc(o.UUID)), nil, nil))
}

// lookupClient finds the id of a client by clientId.
func (x *executor) lookupClient(ctx context.Context, clientID string) (string, error) {
	var found []gocloak.Client
	if err := x.a.get(ctx, x.path("clients")+"?clientId="+url.QueryEscape(clientID), &found); err != nil {
		return "", err
	}
	for _, c := range found {
		if deref(c.ClientID) == clientID {
			x.ids.Set(clientRef(clientID), deref(c.ID))
			return deref(c.ID), nil
		}
	}
	return "", notFound("client %q in realm %q", clientID, x.realm)
}
