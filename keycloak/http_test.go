package keycloak

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Nerzal/gocloak/v13"

	"github.com/ssoctl/ssoctl/internal/httpclient"
	"github.com/ssoctl/ssoctl/internal/httprecorder"
	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
)

// These tests pin the requests ssoctl sends (method, path, body) and how it
// reads answers, with a recorder standing in for the server. What Keycloak
// does with those requests is proven by the integration tests against the
// real Keycloak.

type reply = httprecorder.Reply

// adminToken is Keycloak's answer to the admin login.
const adminToken = `{"access_token":"admin-token","expires_in":60,"refresh_expires_in":1800,"refresh_token":"refresh","token_type":"Bearer","not-before-policy":0,"session_state":"s1","scope":"profile email"}`

// newRecorder answers admin-API requests from routes, strictly: every
// request ssoctl sends must be in routes and every route used. The admin
// login (realm master) is answered with a token unless routes say otherwise,
// and kept out of the log.
func newRecorder(t *testing.T, routes map[string]reply) *httprecorder.Recorder {
	if routes == nil {
		routes = map[string]reply{}
	}
	if _, ok := routes[masterToken]; !ok {
		routes[masterToken] = reply{Body: adminToken}
	}
	rec := httprecorder.New(t, routes)
	rec.Skip = func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/protocol/openid-connect/token") }
	return rec
}

const masterToken = "POST /realms/master/protocol/openid-connect/token"

// adminOf is an admin of the recorder's server. The ownership record's
// lock (its own requests, pinned in record_lock_test.go) is held in memory.
func adminOf(rec *httprecorder.Recorder) *Admin {
	a := NewAdmin(rec.URL(), rec.Client(), Credentials{Username: "admin", Password: "pw-secret-1", Source: "$KEYCLOAK_ADMIN/$KEYCLOAK_ADMIN_PASSWORD"})
	var held sync.Mutex
	a.lock = func(context.Context, string) (func() error, error) {
		held.Lock()
		return func() error { held.Unlock(); return nil }, nil
	}
	return a
}

// grants lists the token requests as "grant_type username".
func grants(rec *httprecorder.Recorder) []string {
	var out []string
	for _, r := range rec.Skipped() {
		out = append(out, r.PostForm.Get("grant_type")+" "+r.PostForm.Get("username"))
	}
	return out
}

func bodyOf(t *testing.T, rec *httprecorder.Recorder, key string, out any) {
	t.Helper()
	b := rec.Body(key)
	if len(b) == 0 {
		t.Fatalf("no body for %s; requests: %v", key, rec.Requests())
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("%s: %v: %s", key, err, b)
	}
}

func TestApplyNewRealmRequests(t *testing.T) {
	rec := newRecorder(t, map[string]reply{
		"POST /admin/realms":                                                {Status: 201},
		"GET /admin/realms/demo":                                            {Body: `{"realm":"demo","attributes":{"frontendUrl":"http://x"}}`},
		"POST /admin/realms/demo/clients":                                   {Status: 201, Location: "/admin/realms/demo/clients/uuid-1"},
		"POST /admin/realms/demo/groups":                                    {Status: 201, Location: "/admin/realms/demo/groups/gid-1"},
		"POST /admin/realms/demo/users":                                     {Status: 201, Location: "/admin/realms/demo/users/uid-1"},
		"GET /admin/realms/demo/clients/uuid-1/roles/secret_manager":        {Body: `{"id":"role-sm","name":"secret_manager"}`},
		"GET /admin/realms/demo/roles/auditor":                              {Body: `{"id":"role-aud","name":"auditor"}`},
		"POST /admin/realms/demo/groups/gid-1/role-mappings/clients/uuid-1": {Status: 204},
		"POST /admin/realms/demo/clients/uuid-1/protocol-mappers/models":    {Status: 201},
		"POST /admin/realms/demo/clients/uuid-1/roles":                      {Status: 201},
		"POST /admin/realms/demo/roles":                                     {Status: 201},
		"PUT /admin/realms/demo":                                            {Status: 204},
		"POST /admin/realms/demo/groups/gid-1/role-mappings/realm":          {Status: 204},
	})
	d := demoDesired(t)
	d.Groups = d.Groups[1:] // kv-managers: a client role and a realm role
	p := mustDiff(t, d, emptyState("demo", false))
	a := adminOf(rec)
	a.bind(p, "demo", emptyState("demo", false))
	if err := p.Execute(context.Background(), 4, nil); err != nil {
		t.Fatalf("execute: %v\n%v", err, rec.Requests())
	}
	rec.Wants(t, "POST /admin/realms", "PUT /admin/realms/demo", "POST /admin/realms/demo/roles", "POST /admin/realms/demo/clients",
		"POST /admin/realms/demo/clients/uuid-1/roles", "POST /admin/realms/demo/clients/uuid-1/protocol-mappers/models",
		"POST /admin/realms/demo/groups", "POST /admin/realms/demo/groups/gid-1/role-mappings/clients/uuid-1",
		"POST /admin/realms/demo/groups/gid-1/role-mappings/realm", "POST /admin/realms/demo/users")
	var realm map[string]any
	bodyOf(t, rec, "POST /admin/realms", &realm)
	if realm["realm"] != "demo" || realm["enabled"] != true {
		t.Errorf("realm body %v", realm)
	}
	// The record keeps the realm's other attributes (an update replaces them all).
	var put struct{ Attributes map[string]string }
	bodyOf(t, rec, "PUT /admin/realms/demo", &put)
	var owned plan.Owned
	if put.Attributes["frontendUrl"] != "http://x" || json.Unmarshal([]byte(put.Attributes[OwnershipAttribute]), &owned) != nil || !owned.Has(clientRef("vault")) {
		t.Errorf("record PUT: %v", put.Attributes)
	}
	var roles []gocloak.Role
	bodyOf(t, rec, "POST /admin/realms/demo/groups/gid-1/role-mappings/clients/uuid-1", &roles)
	if len(roles) != 1 || deref(roles[0].ID) != "role-sm" || deref(roles[0].Name) != "secret_manager" {
		t.Errorf("a binding carries the role's id and name: %+v", roles)
	}
	var mapper map[string]any
	bodyOf(t, rec, "POST /admin/realms/demo/clients/uuid-1/protocol-mappers/models", &mapper)
	if _, ok := mapper["id"]; ok || mapper["consentRequired"] != false {
		t.Errorf("a new mapper carries no id: %v", mapper)
	}
}

func TestApplyUpdatesAndPrunes(t *testing.T) {
	d := demoDesired(t)
	st := stateFor(t, d)
	extras(st)
	st.Clients["vault"].RedirectURIs = ptr([]string{"http://old"})
	ms := *st.Clients["vault"].ProtocolMappers
	(*ms[0].Config)["id.token.claim"] = "false"
	ms[3].ProtocolMapper = ptr("oidc-usermodel-realm-role-mapper")
	st.Users["alice"].PasswordStale = true
	d.Users[1].Email = "bob@example.org"
	st.Users["bob"].Groups = nil
	st.Groups["kv-readers"].ClientRoles = map[string][]string{}
	p := mustDiff(t, d, st)
	p.IncludePrunable()
	// Every write answered as Keycloak does (204, a create 201 with its
	// Location); the recorder fails the test on any other request.
	writes := []string{
		"PUT /admin/realms/demo/clients/uuid-vault",
		"PUT /admin/realms/demo/clients/uuid-vault/protocol-mappers/models/m-audience%20vault",
		"DELETE /admin/realms/demo/clients/uuid-vault/protocol-mappers/models/m-groups",
		"POST /admin/realms/demo/clients/uuid-vault/protocol-mappers/models",
		"PUT /admin/realms/demo/users/u-alice/reset-password",
		"PUT /admin/realms/demo/users/u-bob",
		"PUT /admin/realms/demo/users/u-bob/groups/g-kv-readers",
		"POST /admin/realms/demo/groups/g-kv-readers/role-mappings/clients/uuid-vault",
		"DELETE /admin/realms/demo/clients/uuid-old-app",
		"DELETE /admin/realms/demo/roles/old-app",
		"DELETE /admin/realms/demo/clients/uuid-vault/roles/old-app",
		"DELETE /admin/realms/demo/clients/uuid-vault/protocol-mappers/models/m-old-app",
		"DELETE /admin/realms/demo/groups/g-old-app",
		"DELETE /admin/realms/demo/groups/g-kv-managers/role-mappings/realm",
		"DELETE /admin/realms/demo/users/u-alice/groups/g-old-app",
		"PUT /admin/realms/demo",
	}
	routes := map[string]reply{"GET /admin/realms/demo": {Body: `{"realm":"demo","attributes":{}}`}}
	for _, w := range writes {
		routes[w] = reply{Status: 204}
	}
	routes["POST /admin/realms/demo/clients/uuid-vault/protocol-mappers/models"] = reply{Status: 201, Location: "/admin/realms/demo/clients/uuid-vault/protocol-mappers/models/m-new"}
	rec := newRecorder(t, routes)
	adminOf(rec).bind(p, "demo", st)
	if err := p.Execute(context.Background(), 4, nil); err != nil {
		t.Fatalf("execute: %v", err)
	}
	rec.Wants(t, writes...)
	for _, r := range rec.Requests() {
		if strings.Contains(r, "handmade") || strings.Contains(r, "account") {
			t.Errorf("a request touches an object ssoctl does not own: %s", r)
		}
	}
	var reset map[string]any
	bodyOf(t, rec, "PUT /admin/realms/demo/users/u-alice/reset-password", &reset)
	if reset["value"] != "alice-Pw-1" || reset["temporary"] != false {
		t.Errorf("reset body %v", reset)
	}
	var unbind []gocloak.Role
	bodyOf(t, rec, "DELETE /admin/realms/demo/groups/g-kv-managers/role-mappings/realm", &unbind)
	if len(unbind) != 1 || deref(unbind[0].ID) != "rr-old-app" {
		t.Errorf("unbind body %+v", unbind)
	}
}

func TestApplyAdoptsAndLooksUp(t *testing.T) {
	rec := newRecorder(t, map[string]reply{
		"POST /admin/realms":                                          {Status: 409, Body: `{"errorMessage":"Conflict detected. See logs for details"}`},
		"POST /admin/realms/demo/clients":                             {Status: 409, Body: `{"errorMessage":"Client app already exists"}`},
		"GET /admin/realms/demo/clients?clientId=app":                 {Body: `[{"id":"found-uuid","clientId":"app"}]`},
		"POST /admin/realms/demo/clients/found-uuid/roles":            {Status: 409},
		"POST /admin/realms/demo/groups":                              {Status: 409},
		"GET /admin/realms/demo/group-by-path/team":                   {Body: `{"id":"gid-team","path":"/team"}`},
		"POST /admin/realms/demo/roles":                               {Status: 409},
		"GET /admin/realms/demo":                                      {Body: `{"realm":"demo"}`},
		"GET /admin/realms/demo/roles/r":                              {Body: `{"id":"rid","name":"r"}`},
		"POST /admin/realms/demo/groups/gid-team/role-mappings/realm": {Status: 204},
		"PUT /admin/realms/demo":                                      {Status: 204},
	})
	d := desired(t, "  realm_roles: [r]\n  clients: [{client_id: app, roles: [x]}]\n  groups: [{name: team, realm_roles: [r]}]\n")
	st := emptyState("demo", false)
	p := mustDiff(t, d, st)
	adminOf(rec).bind(p, "demo", st)
	if err := p.Execute(context.Background(), 1, nil); err != nil {
		t.Fatalf("adopting: %v", err)
	}
	rec.Wants(t, "GET /admin/realms/demo/clients", "GET /admin/realms/demo/group-by-path/team", "POST /admin/realms/demo/groups/gid-team/role-mappings/realm")
}

func TestApplyErrorsNameTheObject(t *testing.T) {
	rec := newRecorder(t, map[string]reply{
		"GET /admin/realms/demo":            {Body: `{"realm":"demo"}`},
		"POST /admin/realms/demo/groups":    {Status: 201, Location: "/admin/realms/demo/groups/gid"},
		"GET /admin/realms/demo/roles/nope": {Status: 404, Body: `{"error":"Could not find role"}`},
		"GET /admin/realms/demo/clients":    {Body: `[]`},
		"PUT /admin/realms/demo":            {Status: 204},
	})
	d := desired(t, "  groups: [{name: g, realm_roles: [nope], client_roles: {other: [r]}}]\n  users: [{username: zed, groups: [g]}]\n")
	st := emptyState("demo", true)
	p := mustDiff(t, d, st)
	adminOf(rec).bind(p, "demo", st)
	err := p.Execute(context.Background(), 2, nil)
	var ae *plan.ApplyError
	if !errors.As(err, &ae) || len(ae.Failed) != 2 {
		t.Fatalf("want the two bindings to fail: %v", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, `role "nope" of realm demo not found`) || !strings.Contains(msg, `client "other" in realm "demo" not found`) {
		t.Errorf("errors: %v", msg)
	}
	// The user step never ran: execution stops after a failed step (and
	// the recorder, which has no route for it, would fail the test too).
	if slices.Contains(rec.Requests(), "POST /admin/realms/demo/users") {
		t.Error("a later step ran after a failure")
	}
}

func TestReadState(t *testing.T) {
	owned, _ := json.Marshal(plan.Owned{clientRef("vault"): true})
	rec := newRecorder(t, map[string]reply{
		"GET /admin/realms/demo": {Body: fmt.Sprintf(`{"realm":"demo","attributes":{%q:%q}}`, OwnershipAttribute, owned)},
		"GET /admin/realms/demo/roles?briefRepresentation=true&first=0&max=-1":               {Body: `[{"id":"r1","name":"auditor"}]`},
		"GET /admin/realms/demo/clients?first=0&max=250":                                     {Body: `[{"id":"u1","clientId":"vault","protocolMappers":[{"id":"m1","name":"groups"}]},{"id":"u2","clientId":"other"}]`},
		"GET /admin/realms/demo/clients/u1/roles?briefRepresentation=true&first=0&max=-1":    {Body: `[{"id":"cr1","name":"secret_reader"}]`},
		"GET /admin/realms/demo/groups?briefRepresentation=false&first=0&max=-1":             {Body: `[{"id":"g1","name":"top","path":"/top","subGroupCount":1,"realmRoles":["auditor"]},{"id":"g3","name":"inline","path":"/inline","subGroups":[{"id":"g4","name":"kid","path":"/inline/kid"}]}]`},
		"GET /admin/realms/demo/groups/g1/children?briefRepresentation=false&first=0&max=-1": {Body: `[{"id":"g2","name":"sub","path":"/top/sub","clientRoles":{"vault":["secret_reader"]}}]`},
		"GET /admin/realms/demo/users?briefRepresentation=false&exact=true&username=alice":   {Body: `[{"id":"ua","username":"alice"}]`},
		"GET /admin/realms/demo/users?briefRepresentation=false&exact=true&username=ghost":   {Body: `[]`},
		"GET /admin/realms/demo/users/ua/groups?briefRepresentation=true&first=0&max=-1":     {Body: `[{"id":"g2","path":"/top/sub"}]`},
		"GET /admin/realms/demo/users/profile":                                               {Body: `{"unmanagedAttributePolicy":"ENABLED"}`},
		// An admin without manage-realm: the export is refused and every
		// kind is listed on its own.
		"POST /admin/realms/demo/partial-export?exportClients=false&exportGroupsAndRoles=true": {Status: 403, Body: `{"error":"HTTP 403 Forbidden"}`},
		"POST /realms/demo/protocol/openid-connect/token":                                      {Status: 401, Body: `{"error":"invalid_grant","error_description":"Invalid user credentials"}`},
	})
	st, err := adminOf(rec).ReadState(context.Background(), "demo", ReadOptions{ClientRoles: []string{"vault", "missing"},
		Users: []UserRead{{Username: "alice", Password: "old"}, {Username: "ghost"}}, UserProfile: true, Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !st.RealmExists || !st.Owned.Has(clientRef("vault")) || len(st.Owned) != 1 {
		t.Errorf("realm / record: %v %v", st.RealmExists, st.Owned)
	}
	if st.RealmRoles["auditor"] == nil || st.Clients["other"] == nil || st.ClientRoles["vault"]["secret_reader"] == nil || st.ClientRoles["other"] != nil {
		t.Errorf("roles and clients: %v %v %v", st.RealmRoles, st.Clients, st.ClientRoles)
	}
	for _, p := range []string{"top", "top/sub", "inline", "inline/kid"} {
		if st.Groups[p] == nil {
			t.Errorf("group %s not read (subgroups listed separately and inline)", p)
		}
	}
	if !slices.Equal(st.Groups["top/sub"].ClientRoles["vault"], []string{"secret_reader"}) {
		t.Errorf("subgroup bindings: %+v", st.Groups["top/sub"])
	}
	u := st.Users["alice"]
	if u == nil || !slices.Equal(u.Groups, []string{"top/sub"}) || !u.PasswordStale || st.Users["ghost"] != nil {
		t.Errorf("users: %+v", st.Users)
	}
	if st.UnmanagedAttributePolicy != "ENABLED" {
		t.Errorf("policy %q", st.UnmanagedAttributePolicy)
	}
	if !slices.Contains(grants(rec), "password alice") {
		t.Errorf("the password was not checked: %v", grants(rec))
	}
	// A missing realm is not an error; an unreadable record is a warning.
	rec.Set("GET /admin/realms/demo", reply{Status: 404, Body: `{"error":"Realm not found."}`})
	if st, err := adminOf(rec).ReadState(context.Background(), "demo", ReadOptions{}); err != nil || st.RealmExists {
		t.Errorf("missing realm: %v %v", st, err)
	}
	rec.Set("GET /admin/realms/demo", reply{Body: fmt.Sprintf(`{"realm":"demo","attributes":{%q:"not json"}}`, OwnershipAttribute)})
	st, err = adminOf(rec).ReadState(context.Background(), "demo", ReadOptions{})
	if err != nil || len(st.Warnings) != 1 || !strings.Contains(st.Warnings[0], "nothing is pruned") || len(st.Owned) != 0 {
		t.Errorf("bad record: %v %v", st.Warnings, err)
	}
}

func TestPlanChecksTheRealmAndOnlyClients(t *testing.T) {
	rec := newRecorder(t, map[string]reply{
		"GET /admin/realms/demo": {Status: 404, Body: `{"error":"Realm not found."}`},
	})
	k := specOf(t, "  clients: [{client_id: app}]\n")
	k.CreateRealm = false
	if _, err := adminOf(rec).Plan(context.Background(), k, PlanOptions{}); err == nil || !strings.Contains(err.Error(), "create_realm: true") {
		t.Errorf("a missing realm without create_realm: %v", err)
	}
	k.CreateRealm = true
	out, err := adminOf(rec).Plan(context.Background(), k, PlanOptions{OnlyClients: []string{"app"}})
	if err != nil || !out.RealmCreated || !out.NewClients["app"] {
		t.Fatalf("outcome %+v %v", out, err)
	}
	if _, err := adminOf(rec).Plan(context.Background(), k, PlanOptions{OnlyClients: []string{"nope"}}); err == nil || !strings.Contains(err.Error(), `client "nope"`) {
		t.Errorf("an unknown client: %v", err)
	}
}

// specOf parses a keycloak: section body (realm demo).
func specOf(t *testing.T, body string) *spec.Keycloak {
	t.Helper()
	f, err := spec.Parse("sso.yaml", []byte("keycloak:\n  url: http://kc\n  realm: demo\n  create_realm: true\n"+body), nil)
	if err != nil {
		t.Fatal(err)
	}
	return f.Keycloak
}

func TestAdminLoginAndErrors(t *testing.T) {
	rec := newRecorder(t, map[string]reply{
		"POST /realms/master/protocol/openid-connect/token": {Status: 401, Body: `{"error":"invalid_grant","error_description":"Invalid user credentials"}`},
	})
	_, err := adminOf(rec).ReadState(context.Background(), "demo", ReadOptions{})
	var ae *AuthError
	if !errors.As(err, &ae) || ae.Who != "admin" || ae.Realm != "master" || !strings.Contains(err.Error(), "$KEYCLOAK_ADMIN_PASSWORD") || strings.Contains(err.Error(), "pw-secret-1") || !strings.Contains(err.Error(), "Invalid user credentials") {
		t.Errorf("refused login: %v", err)
	}
	// A client-credentials admin; Keycloak's 5xx message is kept.
	rec.Set("GET /admin/realms/demo", reply{Status: 500, Body: `{"errorMessage":"unknown_error"}`})
	rec.Set("POST /realms/master/protocol/openid-connect/token", reply{Body: `{"access_token":"t","refresh_token":"r","expires_in":60}`})
	a := NewAdmin(rec.URL(), rec.Client(), Credentials{ClientID: "bot", ClientSecret: "s3cret-s3cret", Source: "test"})
	_, err = a.ReadState(context.Background(), "demo", ReadOptions{})
	var api *APIError
	if !errors.As(err, &api) || api.Status != 500 || !strings.Contains(err.Error(), "unknown_error") {
		t.Errorf("server error: %v", err)
	}
	if !slices.Contains(grants(rec), "client_credentials ") {
		t.Errorf("grants %v", grants(rec))
	}
	// The token is refreshed before it expires.
	rec.Set("GET /admin/realms/demo", reply{Status: 404})
	rec.Set("POST /realms/master/protocol/openid-connect/token", reply{Body: `{"access_token":"t","refresh_token":"r","expires_in":60}`})
	rec.Reset()
	b := adminOf(rec)
	b.ReadState(context.Background(), "demo", ReadOptions{})
	AdvanceClock(b, 2*time.Minute)
	b.ReadState(context.Background(), "demo", ReadOptions{})
	if !slices.Equal(grants(rec), []string{"password admin", "refresh_token "}) || Logins(b) != 2 {
		t.Errorf("grants %v, logins %d", grants(rec), Logins(b))
	}
	// Unreachable: the URL and the cause.
	dead := NewAdmin("http://127.0.0.1:1", http.DefaultClient, Credentials{Username: "a", Password: "b"})
	_, err = dead.ReadState(context.Background(), "demo", ReadOptions{})
	var ue *UnreachableError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "cannot reach Keycloak at http://127.0.0.1:1") || !strings.Contains(err.Error(), "refused") {
		t.Errorf("unreachable: %v", err)
	}
	// A cancelled context is reported as such, not as an unreachable server.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := adminOf(rec).ReadState(ctx, "demo", ReadOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestTokensSecretsAndDescriptor(t *testing.T) {
	rec := newRecorder(t, map[string]reply{
		"POST /realms/demo/protocol/openid-connect/token":  {Body: `{"access_token":"at","id_token":"it","token_type":"Bearer","expires_in":300}`},
		"GET /admin/realms/demo/clients?clientId=vault":    {Body: `[{"id":"u1","clientId":"vault"},{"id":"u9","clientId":"vault-other"}]`},
		"GET /admin/realms/demo/clients?clientId=pub":      {Body: `[{"id":"u2","clientId":"pub","publicClient":true}]`},
		"GET /admin/realms/demo/clients?clientId=none":     {Body: `[]`},
		"GET /admin/realms/demo/clients/u1/client-secret":  {Body: `{"type":"secret","value":"the-secret"}`},
		"GET /realms/demo/protocol/saml/descriptor":        {Body: `<md:EntityDescriptor/>`},
		"GET /realms/big/protocol/saml/descriptor":         {Body: strings.Repeat("x", MaxDescriptorSize+1)},
		"POST /realms/empty/protocol/openid-connect/token": {Body: `{"token_type":"Bearer"}`},
		"GET /realms/nope/protocol/saml/descriptor":        {Status: 404, Body: `{"error":"Realm does not exist"}`},
	})
	tok, err := RequestToken(context.Background(), rec.Client(), rec.URL()+"/", TokenRequest{Realm: "demo", ClientID: "vault", ClientSecret: "s", Username: "alice", Password: "p", Scope: "profile"})
	if err != nil || tok.AccessToken != "at" || tok.IDToken != "it" {
		t.Fatalf("token: %+v %v", tok, err)
	}
	if _, err := RequestToken(context.Background(), rec.Client(), rec.URL(), TokenRequest{Realm: "empty", ClientID: "c"}); err == nil || !strings.Contains(err.Error(), "without an access_token") {
		t.Errorf("no access token: %v", err)
	}
	a := adminOf(rec)
	if s, err := a.ClientSecret(context.Background(), "demo", "vault"); err != nil || s != "the-secret" {
		t.Errorf("secret %q %v", s, err)
	}
	if s, err := a.ClientSecret(context.Background(), "demo", "pub"); err != nil || s != "" {
		t.Errorf("a public client has no secret: %q %v", s, err)
	}
	if _, err := a.ClientSecret(context.Background(), "demo", "none"); !errors.As(err, new(*NotFoundError)) {
		t.Errorf("missing client: %v", err)
	}
	if b, err := Descriptor(context.Background(), rec.Client(), rec.URL(), "demo"); err != nil || string(b) != "<md:EntityDescriptor/>" {
		t.Errorf("descriptor %q %v", b, err)
	}
	if _, err := Descriptor(context.Background(), rec.Client(), rec.URL(), "big"); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("an oversized descriptor: %v", err)
	}
	if _, err := Descriptor(context.Background(), rec.Client(), rec.URL(), "nope"); !IsNotFound(err) {
		t.Errorf("missing realm: %v", err)
	}
}

func TestExportFromState(t *testing.T) {
	d := demoDesired(t)
	st := stateFor(t, d)
	k, err := exportState(st, "demo", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exportState(st, "demo", []string{"nope"}); err == nil {
		t.Error("exporting a missing client must fail")
	}
	if len(k.Clients) != 1 || k.Clients[0].ClientID != "vault" || len(k.Clients[0].Mappers) != 5 || !slices.Equal(k.RealmRoles, []string{"auditor"}) {
		t.Fatalf("export: %+v", k)
	}
	// Exported again it plans nothing against the same state.
	k.URL = "http://kc"
	again := Expand(k, nil)
	again.Users = nil
	p := mustDiff(t, again, st)
	if p.HasChanges() {
		t.Errorf("the export does not describe the realm: %s", describe(written(p.Changes)))
	}
}

// --parallel bounds the reads too: ReadState never has more requests in
// flight than Concurrency.
func TestReadStateBoundsRequestsInFlight(t *testing.T) {
	var mu sync.Mutex
	inFlight, peak := 0, 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/token") {
			io.WriteString(w, `{"access_token":"t","expires_in":60}`)
			return
		}
		mu.Lock()
		inFlight++
		peak = max(peak, inFlight)
		mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		inFlight--
		mu.Unlock()
		switch {
		case r.URL.Path == "/admin/realms/demo", strings.HasSuffix(r.URL.Path, "/profile"):
			io.WriteString(w, `{"realm":"demo"}`)
		case strings.HasSuffix(r.URL.Path, "/clients"):
			io.WriteString(w, `[{"id":"a","clientId":"a"},{"id":"b","clientId":"b"},{"id":"c","clientId":"c"}]`)
		default:
			io.WriteString(w, `[]`)
		}
	}))
	defer srv.Close()
	a := NewAdmin(srv.URL, srv.Client(), Credentials{Username: "u", Password: "p"})
	for _, conc := range []int{1, 3} {
		peak = 0
		_, err := a.ReadState(context.Background(), "demo", ReadOptions{ClientRoles: []string{"a", "b", "c"},
			Users: []UserRead{{Username: "x"}, {Username: "y"}}, UserProfile: true, Concurrency: conc})
		if err != nil {
			t.Fatal(err)
		}
		if peak > conc || (conc > 1 && peak < 2) {
			t.Errorf("concurrency %d: %d requests in flight at once", conc, peak)
		}
	}
}

// Keycloak sends no Date header; its clock is read from the admin token's
// iat, and a token without one is no reading.
func TestAdminClock(t *testing.T) {
	payload := base64.RawURLEncoding.EncodeToString([]byte(`{"iat":1796126400,"exp":1796126460}`))
	rec := newRecorder(t, map[string]reply{
		"POST /realms/master/protocol/openid-connect/token": {Body: `{"access_token":"h.` + payload + `.s","expires_in":60}`},
	})
	server, local, err := adminOf(rec).Clock(context.Background())
	if err != nil || !server.Equal(time.Unix(1796126400, 0)) || local.IsZero() {
		t.Errorf("clock %v %v %v", server, local, err)
	}
	rec.Set("POST /realms/master/protocol/openid-connect/token", reply{Body: `{"access_token":"opaque","expires_in":60}`})
	if _, _, err := adminOf(rec).Clock(context.Background()); err == nil {
		t.Error("an opaque token gave a clock reading")
	}
}

// A 401 to an admin request (Keycloak's answer to an expired token) drops
// the token: one new login, and the request, a POST too, is sent again. A
// second 401 in a row is the answer: no loop.
func TestAdminLogsInAgainAfter401(t *testing.T) {
	var mu sync.Mutex
	var tokens, creates int
	var authSeen []string
	reject := 1 // how many admin requests get a 401
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if strings.HasSuffix(r.URL.Path, "/token") {
			tokens++
			fmt.Fprintf(w, `{"access_token":"t%d","refresh_token":"r","expires_in":300}`, tokens)
			return
		}
		authSeen = append(authSeen, r.Header.Get("Authorization"))
		if reject > 0 {
			reject--
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"HTTP 401 Unauthorized"}`)
			return
		}
		body, _ := io.ReadAll(r.Body)
		if string(body) != `{"name":"r1"}` {
			t.Errorf("body %q: the replay lost the payload", body)
		}
		creates++
		w.Header().Set("Location", "http://"+r.Host+"/admin/realms/demo/roles/r1")
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()
	a := NewAdmin(srv.URL, srv.Client(), Credentials{Username: "u", Password: "p"})
	if _, err := a.create(context.Background(), "/demo/roles", map[string]any{"name": "r1"}); err != nil {
		t.Fatal(err)
	}
	if tokens != 2 || Logins(a) != 2 || creates != 1 || !slices.Equal(authSeen, []string{"Bearer t1", "Bearer t2"}) {
		t.Errorf("tokens %d, logins %d, creates %d, sent %v; want a new token and the POST sent once more", tokens, Logins(a), creates, authSeen)
	}
	// A token refused twice: the 401 is the answer, after one new login.
	reject, tokens, authSeen = 2, 0, nil
	b := NewAdmin(srv.URL, srv.Client(), Credentials{Username: "u", Password: "p"})
	_, err := b.create(context.Background(), "/demo/roles", map[string]any{"name": "r1"})
	var api *APIError
	if !errors.As(err, &api) || api.Status != 401 || tokens != 2 || len(authSeen) != 2 {
		t.Errorf("refused twice: err %v after %d tokens and %d requests", err, tokens, len(authSeen))
	}
}

// Concurrent requests that meet the same 401 make one login between them.
func TestAdminOneLoginForConcurrent401s(t *testing.T) {
	var mu sync.Mutex
	tokens := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if strings.HasSuffix(r.URL.Path, "/token") {
			tokens++
			fmt.Fprintf(w, `{"access_token":"t%d","expires_in":300}`, tokens)
			return
		}
		if r.Header.Get("Authorization") == "Bearer t1" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		io.WriteString(w, `[]`)
	}))
	defer srv.Close()
	a := NewAdmin(srv.URL, srv.Client(), Credentials{Username: "u", Password: "p"})
	if _, err := a.accessToken(context.Background()); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out []any
			if err := a.get(context.Background(), "/demo/roles", &out); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if tokens != 2 {
		t.Errorf("%d tokens for one expiry, want 2", tokens)
	}
}

// An answer beyond the limit is a typed error naming the URL and the limit,
// marked as bad input.
func TestAnswerLargerThanLimit(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"access_token":"`+strings.Repeat("a", maxTokenResponse)+`"}`)
	}))
	defer srv.Close()
	_, err := TokenGrant(context.Background(), srv.Client(), srv.URL, "demo", nil)
	var tl *httpclient.ResponseTooLargeError
	var bi interface{ BadInput() bool }
	if !errors.As(err, &tl) || tl.Limit != maxTokenResponse || !errors.As(err, &bi) || !strings.Contains(err.Error(), srv.URL+"/realms/demo/protocol/openid-connect/token") || !strings.Contains(err.Error(), "1048576 bytes (1 MiB)") {
		t.Errorf("err %v", err)
	}
}

// An unreachable Keycloak is named with the realm the request was about and
// where the admin credentials came from, as the README says.
func TestUnreachableNamesRealmAndSource(t *testing.T) {
	a := NewAdmin("http://127.0.0.1:1", http.DefaultClient, Credentials{Username: "admin", Password: "pw", Source: "$KEYCLOAK_ADMIN/$KEYCLOAK_ADMIN_PASSWORD"})
	_, err := a.ReadState(context.Background(), "demo", ReadOptions{})
	var ue *UnreachableError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "cannot reach Keycloak at http://127.0.0.1:1 (realm demo; admin login to realm master with $KEYCLOAK_ADMIN/$KEYCLOAK_ADMIN_PASSWORD)") {
		t.Errorf("err = %v", err)
	}
}
