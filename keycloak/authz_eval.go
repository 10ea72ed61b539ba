package keycloak

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// UMAPermission is one resource the UMA grant allowed, with the scopes.
type UMAPermission struct {
	ResourceID string   `json:"rsid"`
	Resource   string   `json:"rsname"`
	Scopes     []string `json:"scopes"`
}

// UMAPermissions asks realm's token endpoint for the permissions that the
// holder of userToken has on the resource server audience: the UMA grant
// (urn:ietf:params:oauth:grant-type:uma-ticket) with response_mode
// permissions, limited to permissions ("RESOURCE#SCOPE", "RESOURCE" or
// "#SCOPE") when given. Keycloak answers 403 access_denied when nothing is
// granted: that is an empty list, not an error.
func UMAPermissions(ctx context.Context, hc *http.Client, base, realm, userToken, audience string, permissions []string) ([]UMAPermission, error) {
	base = strings.TrimRight(base, "/")
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:uma-ticket"}, "audience": {audience}, "response_mode": {"permissions"}}
	for _, p := range permissions {
		form.Add("permission", p)
	}
	u := base + "/realms/" + url.PathEscape(realm) + "/protocol/openid-connect/token"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+userToken)
	var out []UMAPermission
	_, _, err = exchange(hc, req, base, maxTokenResponse, &out)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusForbidden && strings.Contains(apiErr.Message, "access_denied") {
		return []UMAPermission{}, nil
	}
	return out, err
}

// Evaluation is the admin policy evaluator's answer for one user: per
// resource, the permissions that applied and the policies under them.
type Evaluation struct {
	Status  string `json:"status"`
	Results []struct {
		Resource struct {
			Name string `json:"name"`
		} `json:"resource"`
		Status        string `json:"status"`
		AllowedScopes []struct {
			Name string `json:"name"`
		} `json:"allowedScopes"`
		Policies []EvaluatedPolicy `json:"policies"`
	} `json:"results"`
}

// EvaluatedPolicy is a permission's verdict with its policies'.
type EvaluatedPolicy struct {
	Policy struct {
		Name             string `json:"name"`
		Type             string `json:"type"`
		DecisionStrategy string `json:"decisionStrategy"`
	} `json:"policy"`
	Status     string            `json:"status"`
	Scopes     []string          `json:"scopes"`
	Associated []EvaluatedPolicy `json:"associatedPolicies"`
}

// EvaluatePolicies runs the admin console's policy evaluator for username
// on clientID's resource server (every resource and scope).
func (a *Admin) EvaluatePolicies(ctx context.Context, realm, clientID, username string) (*Evaluation, error) {
	uuid, err := a.clientUUID(ctx, realm, clientID)
	if err != nil {
		return nil, err
	}
	u, err := readUser(func(p string, out any) error { return a.get(ctx, p, out) }, realm, username)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, notFound("user %q in realm %q", username, realm)
	}
	body := map[string]any{"userId": deref(u.Rep.ID), "clientId": uuid, "resources": []any{}, "roleIds": []string{},
		"entitlements": false, "context": map[string]any{"attributes": map[string]string{}}}
	var ev Evaluation
	if _, err := a.do(ctx, http.MethodPost, "/"+esc(realm)+"/clients/"+esc(uuid)+"/authz/resource-server/policy/evaluate", body, &ev); err != nil {
		return nil, err
	}
	return &ev, nil
}

// clientUUID finds a client's id by clientId.
func (a *Admin) clientUUID(ctx context.Context, realm, clientID string) (string, error) {
	var found []struct {
		ID       string `json:"id"`
		ClientID string `json:"clientId"`
	}
	if err := a.get(ctx, "/"+esc(realm)+"/clients?clientId="+url.QueryEscape(clientID), &found); err != nil {
		return "", err
	}
	for _, c := range found {
		if c.ClientID == clientID {
			return c.ID, nil
		}
	}
	return "", notFound("client %q in realm %q on %s", clientID, realm, a.base)
}

// RealmKey is a realm's active RS256 signing key.
type RealmKey struct {
	KID string `json:"kid"`
	Alg string `json:"alg"`
	// PEM is the public key as a PEM "PUBLIC KEY" block with 64-character
	// lines, the form python-keycloak's decode_token accepts.
	PEM string `json:"pem"`
	// Certificate is the key's certificate as a PEM block, when the JWKS has
	// one.
	Certificate string `json:"certificate,omitempty"`
}

// ActiveRSAKey reads the realm's active RS256 key: the public key the realm
// endpoint names, matched in the JWKS for its kid and certificate.
func ActiveRSAKey(ctx context.Context, hc *http.Client, base, realm string) (*RealmKey, error) {
	b64, err := RealmPublicKey(ctx, hc, base, realm)
	if err != nil {
		return nil, err
	}
	der, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("realm %s's public_key is not base64: %w", realm, err)
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("realm %s's public_key does not parse: %w", realm, err)
	}
	k := &RealmKey{Alg: "RS256", PEM: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))}
	base = strings.TrimRight(base, "/")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/realms/"+url.PathEscape(realm)+"/protocol/openid-connect/certs", nil)
	if err != nil {
		return nil, err
	}
	var jwks struct {
		Keys []struct {
			KID string   `json:"kid"`
			Alg string   `json:"alg"`
			Use string   `json:"use"`
			X5C []string `json:"x5c"`
		} `json:"keys"`
	}
	if _, _, err := exchange(hc, req, base, maxTokenResponse, &jwks); err != nil {
		return nil, err
	}
	for _, j := range jwks.Keys {
		if len(j.X5C) == 0 || (j.Use != "" && j.Use != "sig") {
			continue
		}
		cder, err := base64.StdEncoding.DecodeString(j.X5C[0])
		if err != nil {
			continue
		}
		cert, err := x509.ParseCertificate(cder)
		if err != nil {
			continue
		}
		if eq, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); ok && eq.Equal(pub) {
			k.KID, k.Alg = j.KID, cmpOr(j.Alg, "RS256")
			k.Certificate = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cder}))
			break
		}
	}
	return k, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// ParseAuthzSettings reads exported authorization settings.
func ParseAuthzSettings(raw []byte) (*AuthzSettings, error) {
	var s AuthzSettings
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// PolicyRoles lists the roles a role policy names (CLIENT/ROLE or ROLE).
func PolicyRoles(p AuthzPolicy) []string {
	var rs []struct {
		ID string `json:"id"`
	}
	json.Unmarshal([]byte(p.Config["roles"]), &rs)
	var out []string
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

// ConfigList reads a config value that is a JSON list of names.
func ConfigList(p AuthzPolicy, key string) []string {
	var out []string
	json.Unmarshal([]byte(p.Config[key]), &out)
	return out
}

// ResourceScopes lists each resource's scopes (the pairs a decision is
// about), resources in the export's order.
func (s *AuthzSettings) ResourceScopes() [][2]string {
	var out [][2]string
	for _, r := range s.Resources {
		for _, sc := range r.Scopes {
			out = append(out, [2]string{r.Name, sc.Name})
		}
		if len(r.Scopes) == 0 {
			out = append(out, [2]string{r.Name, ""})
		}
	}
	slices.SortStableFunc(out, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	return out
}

// PythonKeycloakGaps names what python-keycloak's load_authorization_config
// and get_permissions read differently from Keycloak (7.1.x: only role
// policies are loaded; a role matches only as clientID/ROLE among the
// token's resource_access[clientID] roles; logic and decision strategies
// are not evaluated; a permission is granted when any of its role policies
// matches).
func PythonKeycloakGaps(s *AuthzSettings, clientID string) []string {
	var out []string
	for _, p := range s.Policies {
		if isPermission(p) {
			policies := ConfigList(p, "applyPolicies")
			if len(policies) > 1 && p.DecisionStrategy != "AFFIRMATIVE" {
				out = append(out, fmt.Sprintf("permission %q is %s over %d policies, but python-keycloak grants it when any one of them matches", p.Name, strings.ToLower(p.DecisionStrategy), len(policies)))
			}
			continue
		}
		switch {
		case p.Type != "role":
			out = append(out, fmt.Sprintf("%s policy %q is not loaded: python-keycloak reads only role policies, so what it grants is missing locally", p.Type, p.Name))
			continue
		case p.Logic == "NEGATIVE":
			out = append(out, fmt.Sprintf("role policy %q is negative, but python-keycloak ignores logic and reads it as positive", p.Name))
		}
		for _, r := range PolicyRoles(p) {
			if !strings.HasPrefix(r, clientID+"/") {
				what := "the realm role"
				if strings.Contains(r, "/") {
					what = "another client's role"
				}
				out = append(out, fmt.Sprintf("role policy %q names %s %q, which python-keycloak never matches (it reads only %s's client roles in resource_access)", p.Name, what, r, clientID))
			}
		}
	}
	if s.DecisionStrategy != "" && s.DecisionStrategy != "UNANIMOUS" {
		out = append(out, fmt.Sprintf("the resource server's decision strategy %s is not evaluated by python-keycloak", strings.ToLower(s.DecisionStrategy)))
	}
	return out
}
