package keycloak

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/Nerzal/gocloak/v13"
)

// ClientSecret reads a confidential client's secret through the admin API.
// A public client has none: its secret is "" and no error.
func (a *Admin) ClientSecret(ctx context.Context, realm, clientID string) (string, error) {
	c, err := a.findClient(ctx, realm, clientID)
	if err != nil || deref(c.PublicClient) {
		return "", err
	}
	return a.readClientSecret(ctx, realm, c)
}

// RequiredClientSecret is ClientSecret for a caller that needs a secret to
// hand on: a public or bearer-only client, or one that authenticates with
// something other than a secret (a signed JWT, an X.509 certificate), is a
// *NoSecretError instead of an empty secret. A missing client is a
// *NotFoundError.
func (a *Admin) RequiredClientSecret(ctx context.Context, realm, clientID string) (string, error) {
	c, err := a.findClient(ctx, realm, clientID)
	if err != nil {
		return "", err
	}
	no := func(why string) error { return &NoSecretError{Realm: realm, Client: clientID, Why: why} }
	switch auth := deref(c.ClientAuthenticatorType); {
	case deref(c.PublicClient):
		return "", no("it is a public client (access: public); public clients log in without a secret")
	case deref(c.BearerOnly):
		return "", no("it is a bearer-only client (access: bearer-only), which never logs in or gets a token")
	case auth != "" && auth != "client-secret":
		return "", no(fmt.Sprintf("it authenticates with %q, not with a client secret", auth))
	}
	s, err := a.readClientSecret(ctx, realm, c)
	if err == nil && s == "" {
		err = no("Keycloak holds no secret for it (regenerate one under Clients > " + clientID + " > Credentials)")
	}
	return s, err
}

// NoSecretError reports a client that has no secret to give: bad input for
// a command asked for one (exit code 2).
type NoSecretError struct {
	Realm, Client string
	// Why says what kind of client it is.
	Why string
}

func (e *NoSecretError) Error() string {
	return fmt.Sprintf("client %q in realm %q has no secret: %s", e.Client, e.Realm, e.Why)
}

// BadInput marks the error as the caller's input (exit code 2).
func (e *NoSecretError) BadInput() bool { return true }

// findClient reads the client whose clientId is clientID.
func (a *Admin) findClient(ctx context.Context, realm, clientID string) (*gocloak.Client, error) {
	var found []gocloak.Client
	if err := a.get(ctx, "/"+esc(realm)+"/clients?clientId="+url.QueryEscape(clientID), &found); err != nil {
		return nil, err
	}
	for i := range found {
		if deref(found[i].ClientID) == clientID {
			return &found[i], nil
		}
	}
	return nil, &NotFoundError{What: fmt.Sprintf("client %q in realm %q on %s", clientID, realm, a.base)}
}

// readClientSecret reads c's secret from its credentials endpoint.
func (a *Admin) readClientSecret(ctx context.Context, realm string, c *gocloak.Client) (string, error) {
	var cred gocloak.CredentialRepresentation
	if err := a.get(ctx, "/"+esc(realm)+"/clients/"+esc(deref(c.ID))+"/client-secret", &cred); err != nil {
		return "", err
	}
	return deref(cred.Value), nil
}

// TokenRequest asks realm's token endpoint for tokens as client ClientID:
// the password grant when Username is set, client credentials otherwise.
type TokenRequest struct {
	Realm        string
	ClientID     string
	ClientSecret string // empty for public clients
	Username     string
	Password     string
	// OTP is the one-time code of a direct grant flow that asks for one
	// (Keycloak's direct-grant OTP step reads the form field otp, or totp
	// for compatibility: both measured on 26.7.3).
	OTP string
	// Scope is sent as is; "openid" is added so that an ID token comes back.
	Scope string
}

// TokenResponse is the token endpoint's JSON answer, kept whole for -o json.
type TokenResponse struct {
	AccessToken      string `json:"access_token"`
	IDToken          string `json:"id_token,omitempty"`
	RefreshToken     string `json:"refresh_token,omitempty"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int    `json:"expires_in"`
	RefreshExpiresIn int    `json:"refresh_expires_in,omitempty"`
	Scope            string `json:"scope,omitempty"`
}

// RequestToken performs the grant against the server at base.
func RequestToken(ctx context.Context, hc *http.Client, base string, r TokenRequest) (*TokenResponse, error) {
	form := url.Values{"client_id": {r.ClientID}}
	if r.ClientSecret != "" {
		form.Set("client_secret", r.ClientSecret)
	}
	scope := strings.TrimSpace(r.Scope)
	if !strings.Contains(" "+scope+" ", " openid ") {
		scope = strings.TrimSpace("openid " + scope)
	}
	form.Set("scope", scope)
	if r.Username != "" {
		form.Set("grant_type", "password")
		form.Set("username", r.Username)
		form.Set("password", r.Password)
		if r.OTP != "" {
			form.Set("totp", r.OTP)
		}
	} else {
		form.Set("grant_type", "client_credentials")
	}
	tok, err := TokenGrant(ctx, hc, base, r.Realm, form)
	if err != nil {
		return nil, err
	}
	return &TokenResponse{
		AccessToken: tok.AccessToken, IDToken: tok.IDToken, RefreshToken: tok.RefreshToken,
		TokenType: tok.TokenType, ExpiresIn: tok.ExpiresIn, RefreshExpiresIn: tok.RefreshExpiresIn, Scope: tok.Scope,
	}, nil
}

// Descriptor fetches realm's SAML IdP metadata, raw, from the public
// endpoint /realms/{realm}/protocol/saml/descriptor.
func Descriptor(ctx context.Context, hc *http.Client, base, realm string) ([]byte, error) {
	base = strings.TrimRight(base, "/")
	u := base + "/realms/" + url.PathEscape(realm) + "/protocol/saml/descriptor"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	body, _, err := exchange(hc, req, base, MaxDescriptorSize, nil)
	return body, err
}

// RealmPublicKey reads the realm's RS256 public key (base64
// SubjectPublicKeyInfo) from its public endpoint /realms/{realm}.
func RealmPublicKey(ctx context.Context, hc *http.Client, base, realm string) (string, error) {
	base = strings.TrimRight(base, "/")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/realms/"+url.PathEscape(realm), nil)
	if err != nil {
		return "", err
	}
	var r struct {
		PublicKey string `json:"public_key"`
	}
	if _, _, err := exchange(hc, req, base, maxTokenResponse, &r); err != nil {
		return "", err
	}
	if r.PublicKey == "" {
		return "", fmt.Errorf("realm %s on %s publishes no public key", realm, base)
	}
	return r.PublicKey, nil
}
