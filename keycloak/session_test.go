package keycloak

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/ssoctl/ssoctl/internal/httprecorder"
)

// unsignedJWT is a token whose payload is claims (JSON); the signature is
// junk, as ssoctl only reads sid from it.
func unsignedJWT(claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256"}`)) + "." + enc([]byte(claims)) + ".c2ln"
}

const (
	demoLogout  = "POST /realms/demo/protocol/openid-connect/logout"
	demoSession = "DELETE /admin/realms/demo/sessions/sid-7"
)

func TestEndGrant(t *testing.T) {
	access := unsignedJWT(`{"sid":"sid-7","sub":"u1"}`)
	for _, tc := range []struct {
		name   string
		routes map[string]reply
		want   []string // requests, in order
		left   string   // "" when the session ended
	}{
		{name: "the refresh token's logout ends it", routes: map[string]reply{demoLogout: {Status: 204}},
			want: []string{demoLogout}},
		{name: "a refused logout falls back to deleting that one session", routes: map[string]reply{
			demoLogout:  {Status: 400, Body: `{"error":"invalid_grant","error_description":"Invalid refresh token"}`},
			demoSession: {Status: 204}},
			want: []string{demoLogout, demoSession}},
		{name: "a session already gone is fine", routes: map[string]reply{
			demoLogout:  {Status: 400, Body: `{"error":"invalid_grant","error_description":"Session not active"}`},
			demoSession: {Status: 404, Body: `{"error":"Session not found"}`}},
			want: []string{demoLogout, demoSession}},
		{name: "both refused: a warning naming the session", routes: map[string]reply{
			demoLogout:  {Status: 400, Body: `{"error":"invalid_grant","error_description":"Invalid refresh token"}`},
			demoSession: {Status: 403, Body: `{"error":"unknown_error"}`}},
			want: []string{demoLogout, demoSession}, left: "could not end Keycloak session sid-7 of alice in realm demo"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.want) > 1 {
				tc.routes[masterToken] = reply{Body: adminToken} // the fallback logs the admin in
			}
			rec := httprecorder.New(t, tc.routes)
			rec.Skip = func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/token") }
			a := adminOf(rec)
			err := a.EndGrant(context.Background(), rec.Client(), Grant{Realm: "demo", ClientID: "app", ClientSecret: "app-secret",
				User: "alice", AccessToken: access, RefreshToken: "rt-1"})
			if got := rec.Requests(); !slices.Equal(got, tc.want) {
				t.Errorf("requests %q, want %q", got, tc.want)
			}
			var left *SessionLeftError
			switch {
			case tc.left == "" && err != nil:
				t.Fatalf("EndGrant: %v", err)
			case tc.left != "" && (!errors.As(err, &left) || left.Session != "sid-7" || !strings.Contains(err.Error(), tc.left)):
				t.Fatalf("EndGrant: %v, want a SessionLeftError saying %q", err, tc.left)
			}
			form, _ := url.ParseQuery(string(rec.Body(demoLogout)))
			if form.Get("refresh_token") != "rt-1" || form.Get("client_id") != "app" || form.Get("client_secret") != "app-secret" {
				t.Errorf("logout form %v", form)
			}
		})
	}
}

func TestSessionIDs(t *testing.T) {
	got := SessionIDs([]string{unsignedJWT(`{"sid":"a"}`), "not-a-jwt", unsignedJWT(`{"sid":"a"}`), unsignedJWT(`{"sub":"x"}`), unsignedJWT(`{"sid":"b"}`)})
	if !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("SessionIDs = %q, want [a b]", got)
	}
}

// An admin that logged in with a password logs its session out with its
// refresh token when closed; one that never logged in sends nothing.
func TestAdminClose(t *testing.T) {
	const masterLogout = "POST /realms/master/protocol/openid-connect/logout"
	rec := newRecorder(t, map[string]reply{masterLogout: {Status: 204}, "GET /admin/realms/demo": {Body: `{"realm":"demo"}`}})
	a := adminOf(rec)
	if err := a.Close(context.Background()); err != nil || len(rec.Requests()) != 0 {
		t.Fatalf("Close before any login: %v, requests %q", err, rec.Requests())
	}
	if err := a.get(context.Background(), "/demo", &map[string]any{}); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	form, _ := url.ParseQuery(string(rec.Body(masterLogout)))
	if form.Get("refresh_token") != "refresh" || form.Get("client_id") != "admin-cli" {
		t.Errorf("logout form %v", form)
	}
}
