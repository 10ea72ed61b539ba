package keycloak

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
)

// DecisionQuery is what `ssoctl keycloak authz` asks Keycloak: may User use
// the resources and scopes of the resource server Client in Realm?
type DecisionQuery struct {
	Realm  string
	Client string // the resource server: a client with Authorization Services
	User   string
	// Password is User's; the user logs in to Client with the password grant.
	Password string
	// Resource and Scopes narrow the question; empty means every resource
	// and every scope of the client.
	Resource string
	Scopes   []string
	// Explain also runs the admin console's policy evaluator.
	Explain bool
}

// Decision is one resource and scope, granted or not.
type Decision struct {
	Resource string `json:"resource"`
	Scope    string `json:"scope,omitempty"`
	Granted  bool   `json:"granted"`
}

// Decisions is Keycloak's answer to a DecisionQuery (the -o json shape of
// keycloak authz).
type Decisions struct {
	User      string            `json:"user"`
	Client    string            `json:"client"`
	Decisions []Decision        `json:"decisions"`
	Explain   []EvaluatedPolicy `json:"explain,omitempty"`
	// Warnings are what the run could not tidy up (the login's session
	// left open); printed on stderr, never in the JSON.
	Warnings []string `json:"-"`
}

// Decide asks the real Keycloak for q's decisions: it reads the client's
// resources and scopes through the admin API, logs the user in to the
// client itself (password grant, with the client's secret), and asks the
// UMA grant for every resource and scope pair, then ends the login's
// session (Warnings say when it could not). hc is the client for the
// realm's public token endpoint. secret is called with the client secret
// and the user's access token as soon as each is known, so a caller can
// redact them. A question that names no pair of the client is an
// *InputError.
func (a *Admin) Decide(ctx context.Context, hc *http.Client, q DecisionQuery, secret func(string)) (*Decisions, error) {
	pairs, err := a.decisionPairs(ctx, q)
	if err != nil {
		return nil, err
	}
	// The user logs in to the resource server itself: role policies read
	// the roles in the user's token, and another client's token carries only
	// the roles that client's scope lets through (admin-cli's: none).
	clientSecret, err := a.ClientSecret(ctx, q.Realm, q.Client)
	if err != nil {
		return nil, err
	}
	secret(clientSecret)
	tok, err := TokenGrant(ctx, hc, a.BaseURL(), q.Realm, url.Values{"grant_type": {"password"}, "client_id": {q.Client},
		"client_secret": {clientSecret}, "username": {q.User}, "password": {q.Password}})
	if err != nil {
		return nil, fmt.Errorf("logging in as %s to client %s (it needs direct_access_grants: true): %w", q.User, q.Client, err)
	}
	secret(tok.AccessToken)
	var ask []string
	for _, p := range pairs {
		ask = append(ask, p[0]+"#"+p[1])
	}
	granted, err := UMAPermissions(ctx, hc, a.BaseURL(), q.Realm, tok.AccessToken, q.Client, ask)
	// The login's session has served: it is ended whatever the answer.
	left := a.EndGrant(ctx, hc, Grant{Realm: q.Realm, ClientID: q.Client, ClientSecret: clientSecret, User: q.User,
		AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken})
	if err != nil {
		return nil, err
	}
	rep := &Decisions{User: q.User, Client: q.Client, Decisions: []Decision{}}
	if left != nil {
		rep.Warnings = append(rep.Warnings, left.Error())
	}
	for _, p := range pairs {
		ok := slices.ContainsFunc(granted, func(g UMAPermission) bool {
			return g.Resource == p[0] && (p[1] == "" || slices.Contains(g.Scopes, p[1]))
		})
		rep.Decisions = append(rep.Decisions, Decision{Resource: p[0], Scope: p[1], Granted: ok})
	}
	if q.Explain {
		if rep.Explain, err = a.explainDecisions(ctx, q); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// decisionPairs is the resource and scope pairs of q's client that q asks
// about.
func (a *Admin) decisionPairs(ctx context.Context, q DecisionQuery) ([][2]string, error) {
	raw, err := a.AuthzExport(ctx, q.Realm, q.Client)
	if err != nil {
		return nil, err
	}
	settings, err := ParseAuthzSettings(raw)
	if err != nil {
		return nil, err
	}
	var pairs [][2]string
	for _, p := range settings.ResourceScopes() {
		if (q.Resource == "" || p[0] == q.Resource) && (len(q.Scopes) == 0 || slices.Contains(q.Scopes, p[1])) {
			pairs = append(pairs, p)
		}
	}
	if len(pairs) == 0 {
		return nil, &InputError{Msg: fmt.Sprintf("client %s has no resource %q with the scopes %v", q.Client, q.Resource, q.Scopes)}
	}
	return pairs, nil
}

// explainDecisions is the admin policy evaluator's permissions for q's
// user, on q's resource when it names one.
func (a *Admin) explainDecisions(ctx context.Context, q DecisionQuery) ([]EvaluatedPolicy, error) {
	ev, err := a.EvaluatePolicies(ctx, q.Realm, q.Client, q.User)
	if err != nil {
		return nil, err
	}
	var out []EvaluatedPolicy
	for _, r := range ev.Results {
		if q.Resource == "" || r.Resource.Name == q.Resource {
			out = append(out, r.Policies...)
		}
	}
	return out, nil
}
