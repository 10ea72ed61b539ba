//go:build integration

package testbed

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/Nerzal/gocloak/v13"
)

// LDAPFederationConfig is the user-federation component config that the
// testbed's Keycloak 26 accepts for the testbed's directory (measured; see
// docs/design-notes.md, "The testbed's LDAP server").
func ldapFederationConfig(env Env) map[string][]string {
	return map[string][]string{
		"enabled":                              {"true"},
		"priority":                             {"0"},
		"vendor":                               {"other"},
		"connectionUrl":                        {env.LDAPURL},
		"bindDn":                               {env.LDAPBindDN},
		"bindCredential":                       {env.LDAPBindPassword},
		"authType":                             {"simple"},
		"startTls":                             {"false"},
		"useTruststoreSpi":                     {"never"},
		"usersDn":                              {"ou=people," + env.LDAPBaseDN},
		"usernameLDAPAttribute":                {"uid"},
		"rdnLDAPAttribute":                     {"uid"},
		"uuidLDAPAttribute":                    {"entryUUID"},
		"userObjectClasses":                    {"inetOrgPerson, organizationalPerson"},
		"searchScope":                          {"1"},
		"editMode":                             {"READ_ONLY"},
		"importEnabled":                        {"true"},
		"syncRegistrations":                    {"false"},
		"pagination":                           {"false"},
		"batchSizeForSync":                     {"1000"},
		"fullSyncPeriod":                       {"-1"},
		"changedSyncPeriod":                    {"-1"},
		"cachePolicy":                          {"DEFAULT"},
		"trustEmail":                           {"false"},
		"validatePasswordPolicy":               {"false"},
		"allowKerberosAuthentication":          {"false"},
		"useKerberosForPasswordAuthentication": {"false"},
	}
}

// The testbed's LDAP server is real and Keycloak can use it: Keycloak's own
// connection and bind tests pass (and a wrong bind password fails), and an
// LDAP federation in a throwaway realm imports the seeded people on a full
// sync, one of whom then logs in with the password kept in LDAP.
func TestIntegrationTestbedLDAPKeycloakFederation(t *testing.T) {
	env := Load(t)
	env.NeedLDAP(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	kc := gocloak.NewClient(env.KeycloakURL)
	tok, err := kc.LoginAdmin(ctx, env.KeycloakAdmin, env.KeycloakAdminPassword, "master")
	if err != nil {
		t.Fatalf("admin login: %v", err)
	}
	call := func(method, path string, body any) (int, []byte) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, err := json.Marshal(body)
			if err != nil {
				t.Fatal(err)
			}
			rd = bytes.NewReader(b)
		}
		req, err := http.NewRequestWithContext(ctx, method, env.KeycloakURL+path, rd)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return resp.StatusCode, out
	}

	// (b) Keycloak's connection and authentication tests.
	probe := func(action, password string) (int, []byte) {
		return call("POST", "/admin/realms/master/testLDAPConnection", map[string]string{
			"action": action, "connectionUrl": env.LDAPURL, "bindDn": env.LDAPBindDN,
			"bindCredential": password, "useTruststoreSpi": "never", "authType": "simple",
			"startTls": "false", "connectionTimeout": "",
		})
	}
	for _, action := range []string{"testConnection", "testAuthentication"} {
		if code, body := probe(action, env.LDAPBindPassword); code != http.StatusNoContent {
			t.Fatalf("testLDAPConnection %s: HTTP %d %s, want 204", action, code, body)
		}
	}
	if code, body := probe("testAuthentication", "not-the-bind-password"); code == http.StatusNoContent {
		t.Fatalf("testAuthentication with a wrong bind password: HTTP %d %s, want a failure", code, body)
	}

	// (c) A federation in a throwaway realm, a full sync, and an LDAP login.
	realm := fmt.Sprintf("hldap-testbed-%d", time.Now().UnixNano())
	if _, err := kc.CreateRealm(ctx, tok.AccessToken, gocloak.RealmRepresentation{Realm: &realm, Enabled: gocloak.BoolP(true)}); err != nil {
		t.Fatalf("create realm %s: %v", realm, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := kc.DeleteRealm(ctx, tok.AccessToken, realm); err != nil {
			t.Errorf("delete realm %s: %v", realm, err)
		}
	})
	rr, err := kc.GetRealm(ctx, tok.AccessToken, realm)
	if err != nil || rr.ID == nil {
		t.Fatalf("read realm %s: %v", realm, err)
	}
	// parentId is the realm's id, which Keycloak 26 makes a UUID (not the
	// realm's name): a component whose parentId is the name is stored but
	// belongs to no realm.
	code, body := call("POST", "/admin/realms/"+realm+"/components", map[string]any{
		"name": "corp-ldap", "providerId": "ldap", "providerType": "org.keycloak.storage.UserStorageProvider",
		"parentId": *rr.ID, "config": ldapFederationConfig(env),
	})
	if code != http.StatusCreated {
		t.Fatalf("create LDAP component: HTTP %d %s", code, body)
	}
	code, body = call("GET", "/admin/realms/"+realm+"/components?type=org.keycloak.storage.UserStorageProvider", nil)
	var comps []struct {
		ID     string              `json:"id"`
		Name   string              `json:"name"`
		Config map[string][]string `json:"config"`
	}
	if code != http.StatusOK || json.Unmarshal(body, &comps) != nil || len(comps) != 1 || comps[0].Name != "corp-ldap" {
		t.Fatalf("read LDAP component: HTTP %d %s", code, body)
	}
	if got := comps[0].Config["bindCredential"]; len(got) != 1 || got[0] != "**********" {
		t.Errorf("bindCredential read back as %q, want Keycloak's mask", got)
	}
	code, body = call("POST", "/admin/realms/"+realm+"/user-storage/"+comps[0].ID+"/sync?action=triggerFullSync", nil)
	var sync struct {
		Added, Updated, Removed, Failed int
		Status                          string
	}
	if code != http.StatusOK || json.Unmarshal(body, &sync) != nil {
		t.Fatalf("full sync: HTTP %d %s", code, body)
	}
	if sync.Added != 5 || sync.Failed != 0 {
		t.Fatalf("full sync = %s, want 5 users added and none failed", body)
	}
	users, err := kc.GetUsers(ctx, tok.AccessToken, realm, gocloak.GetUsersParams{Max: gocloak.IntP(100)})
	if err != nil {
		t.Fatalf("list users: %v", err)
	}
	var got []string
	for _, u := range users {
		got = append(got, gocloak.PString(u.Username))
		if gocloak.PString(u.Username) == "lena" {
			// Keycloak's default "first name" mapper (made with a non-AD
			// federation) reads cn, not givenName (measured, Keycloak 26.7.3).
			if gocloak.PString(u.Email) != "lena@corp.test" || gocloak.PString(u.FirstName) != "Lena Lindqvist" || gocloak.PString(u.LastName) != "Lindqvist" {
				t.Errorf("lena imported as %+v", u)
			}
			if u.FederationLink == nil || *u.FederationLink != comps[0].ID {
				t.Errorf("lena's federation link = %v, want %s", u.FederationLink, comps[0].ID)
			}
			if a := u.Attributes; a == nil || len((*a)["LDAP_ID"]) != 1 || len((*a)["LDAP_ID"][0]) != 36 {
				t.Errorf("lena's LDAP_ID (entryUUID) = %v", u.Attributes)
			}
		}
	}
	sort.Strings(got)
	if strings.Join(got, ",") != "lena,omar,pia,quinn,rosa" {
		t.Fatalf("imported users = %v, want lena,omar,pia,quinn,rosa", got)
	}

	login := func(user, password string) (int, map[string]any) {
		form := url.Values{"grant_type": {"password"}, "client_id": {"admin-cli"}, "username": {user}, "password": {password}, "scope": {"openid"}}
		resp, err := http.PostForm(env.KeycloakURL+"/realms/"+realm+"/protocol/openid-connect/token", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out)
		return resp.StatusCode, out
	}
	if code, out := login("quinn", "not-quinns-password"); code == http.StatusOK {
		t.Fatalf("quinn logged in with a wrong password: %v", out)
	}
	code, out := login("quinn", "quinn-ldap-pw")
	if code != http.StatusOK || out["access_token"] == nil {
		t.Fatalf("quinn's LDAP login: HTTP %d %v", code, out)
	}
	// End the session, as a login in a test should.
	rt, _ := out["refresh_token"].(string)
	resp, err := http.PostForm(env.KeycloakURL+"/realms/"+realm+"/protocol/openid-connect/logout",
		url.Values{"client_id": {"admin-cli"}, "refresh_token": {rt}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("logout: HTTP %d", resp.StatusCode)
	}
}
