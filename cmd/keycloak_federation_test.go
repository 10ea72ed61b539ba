package cmd

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// stubFederationKeycloak answers realm corp's federation corp-ldap (id
// fid) with Keycloak 26.7.3's shapes; the bind test fails when bad is set.
func stubFederationKeycloak(t *testing.T, failed int, bad bool) (*httptest.Server, *[]string) {
	t.Helper()
	var mu sync.Mutex
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, r.Method+" "+r.URL.RequestURI()+" "+string(b))
		mu.Unlock()
		switch {
		case r.URL.Path == "/realms/master/protocol/openid-connect/token":
			json.NewEncoder(w).Encode(map[string]any{"access_token": "admin-token", "token_type": "Bearer", "expires_in": 60})
		case r.URL.Path == "/admin/realms/corp/components" && r.URL.Query().Get("name") == "corp-ldap":
			w.Write([]byte(`[{"id":"fid","name":"corp-ldap","providerId":"ldap","config":{"connectionUrl":["ldap://127.0.0.1:389"],"bindDn":["cn=admin"],"bindCredential":["**********"],"authType":["simple"]}}]`))
		case r.URL.Path == "/admin/realms/corp/components":
			w.Write([]byte(`[]`))
		case r.URL.Path == "/admin/realms/corp/user-storage/fid/sync":
			json.NewEncoder(w).Encode(map[string]any{"ignored": false, "added": 4, "updated": 1, "removed": 0, "failed": failed, "status": "x"})
		case r.URL.Path == "/admin/realms/corp/testLDAPConnection":
			if bad && strings.Contains(string(b), "testAuthentication") {
				w.WriteHeader(http.StatusBadRequest)
				w.Write([]byte(`{"errorMessage":"AuthenticationFailure"}`))
				return
			}
			w.WriteHeader(http.StatusNoContent)
		default:
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"error":"not found"}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &bodies
}

func TestFederationSyncRun(t *testing.T) {
	srv, bodies := stubFederationKeycloak(t, 0, false)
	env := map[string]string{"KEYCLOAK_URL": srv.URL, "KEYCLOAK_ADMIN": "admin", "KEYCLOAK_ADMIN_PASSWORD": "pw"}
	code, out, errOut := runWith(t, env, "", "keycloak", "federation", "sync", "corp-ldap", "--realm", "corp")
	if code != 0 || out != "full sync of corp-ldap: 4 added, 1 updated, 0 removed, 0 failed\n" {
		t.Fatalf("sync: exit %d %q %q", code, out, errOut)
	}
	if !strings.Contains(strings.Join(*bodies, "\n"), "sync?action=triggerFullSync") {
		t.Fatalf("requests: %v", *bodies)
	}
	code, out, _ = runWith(t, env, "", "keycloak", "federation", "sync", "corp-ldap", "--changed", "--realm", "corp", "-o", "json")
	var doc map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || doc["mode"] != "changed" || doc["added"] != 4.0 || doc["federation"] != "corp-ldap" {
		t.Fatalf("-o json: exit %d %s", code, out)
	}
	if !strings.Contains(strings.Join(*bodies, "\n"), "action=triggerChangedUsersSync") {
		t.Fatalf("requests: %v", *bodies)
	}
	if code, _, errOut := runWith(t, env, "", "keycloak", "federation", "sync", "corp-ldap", "--full", "--changed", "--realm", "corp"); code != ExitUsage || !strings.Contains(errOut, "exclude") {
		t.Fatalf("--full --changed: exit %d %q", code, errOut)
	}
	if code, _, errOut := runWith(t, env, "", "keycloak", "federation", "sync", "nope", "--realm", "corp"); code != ExitFailure || !strings.Contains(errOut, `federation "nope"`) {
		t.Fatalf("unknown federation: exit %d %q", code, errOut)
	}
	srv2, _ := stubFederationKeycloak(t, 2, false)
	env["KEYCLOAK_URL"] = srv2.URL
	if code, out, _ := runWith(t, env, "", "keycloak", "federation", "sync", "corp-ldap", "--realm", "corp"); code != 3 || !strings.Contains(out, "2 failed") {
		t.Fatalf("failed users: exit %d %q", code, out)
	}
}

func TestFederationTestRun(t *testing.T) {
	srv, bodies := stubFederationKeycloak(t, 0, false)
	env := map[string]string{"KEYCLOAK_URL": srv.URL, "KEYCLOAK_ADMIN": "admin", "KEYCLOAK_ADMIN_PASSWORD": "pw"}
	code, out, errOut := runWith(t, env, "", "keycloak", "federation", "test", "corp-ldap", "--realm", "corp")
	if code != 0 || out != "testConnection: ok\ntestAuthentication: ok\n" {
		t.Fatalf("test: exit %d %q %q", code, out, errOut)
	}
	// The stored credential is used: the component's id and the mask go, nothing else.
	all := strings.Join(*bodies, "\n")
	if !strings.Contains(all, `"componentId":"fid"`) || !strings.Contains(all, `"bindCredential":"**********"`) {
		t.Fatalf("requests: %v", all)
	}
	srv2, _ := stubFederationKeycloak(t, 0, true)
	env["KEYCLOAK_URL"] = srv2.URL
	code, out, _ = runWith(t, env, "", "keycloak", "federation", "test", "corp-ldap", "--realm", "corp", "-o", "json")
	var doc struct {
		OK    bool
		Steps []struct{ Step, Error string }
	}
	if code != 3 || json.Unmarshal([]byte(out), &doc) != nil || doc.OK || len(doc.Steps) != 2 || doc.Steps[1].Error != "AuthenticationFailure" {
		t.Fatalf("failed bind: exit %d %s", code, out)
	}
}
