package keycloak

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestLogoutClientAndSessions(t *testing.T) {
	rec := newRecorder(t, map[string]reply{
		"GET /admin/realms/demo/clients?clientId=app-b": {Body: `[{"id":"uuid-b","clientId":"app-b","publicClient":false,"standardFlowEnabled":true,
			"frontchannelLogout":false,"rootUrl":"http://b","redirectUris":["/cb"],
			"attributes":{"backchannel.logout.url":"http://b/bc","backchannel.logout.session.required":"true","post.logout.redirect.uris":"+##http://b/bye"}}]`},
		"GET /admin/realms/demo/clients?clientId=nope":                                    {Body: `[]`},
		"GET /admin/realms/demo/clients/uuid-b/client-secret":                             {Body: `{"type":"secret","value":"s3cret"}`},
		"GET /admin/realms/demo/users?exact=true&briefRepresentation=true&username=alice": {Body: `[{"id":"u-1","username":"alice"}]`},
		"GET /admin/realms/demo/users/u-1/sessions":                                       {Body: `[{"id":"sid-1","clients":{"uuid-b":"app-b"},"start":1}]`},
	})
	a := adminOf(rec)
	c, err := a.LogoutClient(context.Background(), "demo", "app-b")
	if err != nil {
		t.Fatal(err)
	}
	if c.UUID != "uuid-b" || c.Secret != "s3cret" || !c.StandardFlow || c.Public || c.FrontchannelLogout || c.BackchannelURL != "http://b/bc" ||
		!c.BackchannelSessionRequired || !slices.Equal(c.PostLogoutRedirectURIs, []string{"+", "http://b/bye"}) || c.RootURL != "http://b" {
		t.Errorf("client: %+v", c)
	}
	if _, err := a.LogoutClient(context.Background(), "demo", "nope"); !isNotFoundError(err) || !strings.Contains(err.Error(), `client "nope"`) {
		t.Errorf("a missing client: %v", err)
	}
	id, sessions, err := a.UserSessions(context.Background(), "demo", "alice")
	if err != nil || id != "u-1" || len(sessions) != 1 || sessions[0].ID != "sid-1" || sessions[0].Clients["uuid-b"] != "app-b" {
		t.Errorf("sessions: %s %+v %v", id, sessions, err)
	}
}

func isNotFoundError(err error) bool {
	var nf *NotFoundError
	return errors.As(err, &nf)
}
