package keycloak

import (
	"context"
	"net/url"
	"slices"
	"strings"

	"github.com/Nerzal/gocloak/v13"
)

// LogoutClient is a client's login and logout settings, as single sign-out
// depends on them.
type LogoutClient struct {
	ClientID string
	// UUID is Keycloak's id of the client.
	UUID string
	// Public clients have no secret; Secret is "" then.
	Public bool
	Secret string
	// StandardFlow is the authorization-code flow switch.
	StandardFlow bool
	// RootURL resolves relative redirect URIs.
	RootURL      string
	RedirectURIs []string
	// PostLogoutRedirectURIs are the client's own ("+" means the redirect
	// URIs, as Keycloak has it).
	PostLogoutRedirectURIs []string
	// BackchannelURL is where Keycloak POSTs logout tokens ("" none).
	BackchannelURL string
	// BackchannelSessionRequired puts sid into the logout token.
	BackchannelSessionRequired bool
	// FrontchannelLogout makes Keycloak log the client out through the
	// browser (an iframe to FrontchannelURL) instead of the back channel
	// during a browser logout.
	FrontchannelLogout bool
	FrontchannelURL    string
}

// LogoutClient reads clientID's login and logout settings and, for a
// confidential client, its secret: two requests.
func (a *Admin) LogoutClient(ctx context.Context, realm, clientID string) (*LogoutClient, error) {
	var found []gocloak.Client
	if err := a.get(ctx, "/"+esc(realm)+"/clients?clientId="+url.QueryEscape(clientID), &found); err != nil {
		if IsNotFound(err) {
			return nil, notFound("realm %q on %s", realm, a.base)
		}
		return nil, err
	}
	i := slices.IndexFunc(found, func(c gocloak.Client) bool { return deref(c.ClientID) == clientID })
	if i < 0 {
		return nil, notFound("client %q in realm %q on %s", clientID, realm, a.base)
	}
	c := found[i]
	attrs := deref(c.Attributes)
	lc := &LogoutClient{ClientID: clientID, UUID: deref(c.ID), Public: deref(c.PublicClient), StandardFlow: deref(c.StandardFlowEnabled),
		RootURL: deref(c.RootURL), RedirectURIs: deref(c.RedirectURIs), BackchannelURL: attrs[AttrBackchannelLogoutURL],
		BackchannelSessionRequired: attrs[AttrBackchannelSessionRequired] == "true",
		FrontchannelLogout:         deref(c.FrontChannelLogout), FrontchannelURL: attrs[AttrFrontchannelURL]}
	if v := attrs[AttrPostLogoutRedirectURIs]; v != "" {
		lc.PostLogoutRedirectURIs = strings.Split(v, "##")
	}
	if !lc.Public && !deref(c.BearerOnly) {
		var cred gocloak.CredentialRepresentation
		if err := a.get(ctx, "/"+esc(realm)+"/clients/"+esc(lc.UUID)+"/client-secret", &cred); err != nil {
			return nil, err
		}
		lc.Secret = deref(cred.Value)
	}
	return lc, nil
}

// UserSession is one of a user's SSO sessions as the admin API lists it.
type UserSession struct {
	ID string `json:"id"`
	// Clients maps client UUIDs to client ids: the clients that took part.
	Clients map[string]string `json:"clients"`
	Start   int64             `json:"start"`
}

// UserSessions finds username in realm and lists their sessions
// (GET users/{id}/sessions). The user's id (what tokens carry as sub) is
// returned with them.
func (a *Admin) UserSessions(ctx context.Context, realm, username string) (userID string, sessions []UserSession, err error) {
	var users []gocloak.User
	if err := a.get(ctx, "/"+esc(realm)+"/users?exact=true&briefRepresentation=true&username="+url.QueryEscape(username), &users); err != nil {
		if IsNotFound(err) {
			return "", nil, notFound("realm %q on %s", realm, a.base)
		}
		return "", nil, err
	}
	i := slices.IndexFunc(users, func(u gocloak.User) bool { return strings.EqualFold(deref(u.Username), username) })
	if i < 0 {
		return "", nil, notFound("user %q in realm %q on %s", username, realm, a.base)
	}
	userID = deref(users[i].ID)
	sessions = []UserSession{}
	if err := a.get(ctx, "/"+esc(realm)+"/users/"+esc(userID)+"/sessions", &sessions); err != nil {
		return userID, nil, err
	}
	return userID, sessions, nil
}
