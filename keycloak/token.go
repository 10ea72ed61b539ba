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
func (a *Admin) ClientSecret(ctx context.Context, realm, clientID string) (string, error) {
	var found []gocloak.Client
	if err := a.get(ctx, "/"+esc(realm)+"/clients?clientId="+url.QueryEscape(clientID), &found); err != nil {
		return "", err
	}
	for _, c := range found {
		if deref(c.ClientID) != clientID {
			continue
		}
		if deref(c.PublicClient) {
			return "", nil // public clients have no secret
		}
		var cred gocloak.CredentialRepresentation
		if err := a.get(ctx, "/"+esc(realm)+"/clients/"+esc(deref(c.ID))+"/client-secret", &cred); err != nil {
			return "", err
		}
		return deref(cred.Value), nil
	}
	return "", &NotFoundError{What: fmt.Sprintf("client %q in realm %q on %s", clientID, realm, a.base)}
}

// TokenRequest asks realm's token endpoint for tokens as client ClientID:
// the password grant when Username is set, client credentials otherwise.
type TokenRequest struct {
	Realm        string
	ClientID     string
	ClientSecret string // empty for public clients
	Username     string
	Password     string
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
