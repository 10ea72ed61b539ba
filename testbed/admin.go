package testbed

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"
)

// KeycloakAdminRequest sends one admin-API request as the testbed's
// bootstrap admin: for test set-up and teardown that ssoctl itself never
// does (deleting realms, granting a service account admin roles). path is
// relative to /admin/realms.
func (e Env) KeycloakAdminRequest(ctx context.Context, method, path string, body, out any) error {
	form := url.Values{"grant_type": {"password"}, "client_id": {"admin-cli"}, "username": {e.KeycloakAdmin}, "password": {e.KeycloakAdminPassword}}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := e.call(ctx, http.MethodPost, e.KeycloakURL+"/realms/master/protocol/openid-connect/token", "application/x-www-form-urlencoded", "", strings.NewReader(form.Encode()), &tok); err != nil {
		return fmt.Errorf("admin login: %w", err)
	}
	var rdr io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rdr = bytes.NewReader(b)
	}
	return e.call(ctx, method, e.KeycloakURL+"/admin/realms"+path, "application/json", tok.AccessToken, rdr, out)
}

func (e Env) call(ctx context.Context, method, u, ctype, token string, body io.Reader, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return &HTTPError{Method: method, URL: u, Status: resp.StatusCode, Body: string(data)}
	}
	if out != nil && len(data) > 0 {
		return json.Unmarshal(data, out)
	}
	return nil
}

// HTTPError is a non-2xx answer to a test helper's request.
type HTTPError struct {
	Method, URL string
	Status      int
	Body        string
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.URL, e.Status, e.Body)
}

// DeleteRealm deletes a realm the test made; a realm that is gone is fine.
func (e Env) DeleteRealm(ctx context.Context, realm string) error {
	err := e.KeycloakAdminRequest(ctx, http.MethodDelete, "/"+url.PathEscape(realm), nil, nil)
	if he, ok := err.(*HTTPError); ok && he.Status == http.StatusNotFound {
		return nil
	}
	return err
}

// GrantRealmManagement gives the service account of clientID the named
// roles of realm's realm-management client, so the client can run ssoctl
// with the client-credentials grant.
func (e Env) GrantRealmManagement(ctx context.Context, realm, clientID string, roles ...string) error {
	type rep struct {
		ID   string `json:"id"`
		Name string `json:"name,omitempty"`
	}
	r := "/" + url.PathEscape(realm)
	var found []rep
	if err := e.KeycloakAdminRequest(ctx, http.MethodGet, r+"/clients?clientId="+url.QueryEscape(clientID), nil, &found); err != nil {
		return err
	}
	if len(found) == 0 {
		return fmt.Errorf("client %q not found in realm %q", clientID, realm)
	}
	var sa rep
	if err := e.KeycloakAdminRequest(ctx, http.MethodGet, r+"/clients/"+found[0].ID+"/service-account-user", nil, &sa); err != nil {
		return err
	}
	var rm []rep
	if err := e.KeycloakAdminRequest(ctx, http.MethodGet, r+"/clients?clientId=realm-management", nil, &rm); err != nil {
		return err
	}
	if len(rm) == 0 {
		return fmt.Errorf("realm %q has no realm-management client", realm)
	}
	var grant []rep
	for _, name := range roles {
		var role rep
		if err := e.KeycloakAdminRequest(ctx, http.MethodGet, r+"/clients/"+rm[0].ID+"/roles/"+url.PathEscape(name), nil, &role); err != nil {
			return err
		}
		grant = append(grant, role)
	}
	return e.KeycloakAdminRequest(ctx, http.MethodPost, r+"/users/"+sa.ID+"/role-mappings/clients/"+rm[0].ID, grant, nil)
}

// Vault returns a client for the testbed's Vault with its root token, for
// set-up and teardown.
func (e Env) Vault() *vaultapi.Client {
	c, err := vaultapi.NewClient(&vaultapi.Config{Address: e.VaultAddr, HttpClient: http.DefaultClient})
	if err != nil {
		panic(err) // only a malformed address fails, and Read checked it is set
	}
	c.SetToken(e.VaultToken)
	return c
}

// Claims decodes a JWT's payload without verifying it: for tests that read
// what a real server put into its tokens.
func Claims(t testing.TB, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %.20q", jwt)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	return c
}
