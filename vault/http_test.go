package vault

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssoctl/ssoctl/internal/httpclient"
	"github.com/ssoctl/ssoctl/internal/httprecorder"

	"github.com/ssoctl/ssoctl/plan"
)

// These tests pin the requests ssoctl sends to Vault (method, path, body)
// and how it reads the answers, with a recorder in the server's place.
// What Vault does with those requests is proven by the integration tests
// against the real Vault.

type reply = httprecorder.Reply

// newRecorder answers Vault API requests from routes, keyed
// "METHOD /v1/path" with LIST for list requests, strictly: every request
// must be in routes and every route used.
func newRecorder(t *testing.T, routes map[string]reply) *httprecorder.Recorder {
	rec := httprecorder.New(t, routes)
	rec.Key = func(r *http.Request) string {
		if r.URL.Query().Get("list") == "true" {
			return "LIST " + r.URL.Path
		}
		return r.Method + " " + r.URL.Path
	}
	return rec
}

// vaultMissing is Vault's answer to a read of a path that holds nothing;
// vaultDone its answer to a write that returns no data.
var (
	vaultMissing = reply{Status: 404, Body: `{"errors":[]}`}
	vaultDone    = reply{Status: 204}
)

func connOf(t *testing.T, rec *httprecorder.Recorder) *Conn {
	t.Helper()
	c, err := Connect(Config{Addr: rec.URL(), Token: "root-token", HTTPClient: rec.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func bodyOf(rec *httprecorder.Recorder, key string) map[string]any {
	var m map[string]any
	json.Unmarshal(rec.Body(key), &m)
	return m
}

const mountsJSON = `{"data":{"token/":{"type":"token","accessor":"acc-token"},"oidc/":{"type":"oidc","accessor":"acc-oidc"},"jwt/":{"type":"jwt","accessor":"acc-jwt"}}}`

func TestVaultApplyRequests(t *testing.T) {
	rec := newRecorder(t, map[string]reply{
		"GET /v1/sys/auth":                        {Body: mountsJSON},
		"GET /v1/identity/group/name/manager":     {Body: `{"data":{"id":"gid-m"}}`},
		"GET /v1/identity/group/name/manager-jwt": {Body: `{"data":{"id":"gid-mj"}}`},
		"PUT /v1/sys/policies/acl/reader":         vaultDone,
		"PUT /v1/sys/policies/acl/manager":        vaultDone,
		"POST /v1/sys/auth/oidc":                  vaultDone,
		"POST /v1/sys/auth/jwt":                   vaultDone,
		"PUT /v1/auth/oidc/config":                vaultDone,
		"PUT /v1/auth/jwt/config":                 vaultDone,
		"PUT /v1/auth/oidc/role/default":          vaultDone,
		"PUT /v1/auth/jwt/role/default":           vaultDone,
		// A new group's and a new alias's ids come back as data.
		"PUT /v1/identity/group/name/manager":     {Body: `{"data":{"id":"gid-m","name":"manager"}}`},
		"PUT /v1/identity/group/name/manager-jwt": {Body: `{"data":{"id":"gid-mj","name":"manager-jwt"}}`},
		"PUT /v1/identity/group-alias":            {Body: `{"data":{"canonical_id":"gid-m","id":"al-new"}}`},
	})
	v := demoVault(t)
	var mu sync.Mutex
	var checked []string
	o := PlanOptions{KeycloakClients: map[string]bool{"vault": true},
		ClientSecret: func(_ context.Context, id string) (string, error) { return "secret-of-" + id, nil },
		CheckDiscovery: func(_ context.Context, url string) error {
			mu.Lock()
			defer mu.Unlock()
			checked = append(checked, url)
			return nil
		}}
	st := emptyVault()
	p := mustDiff(t, v, st, o)
	c := connOf(t, rec)
	c.bind(p, st, o)
	if err := p.Execute(context.Background(), 4, nil); err != nil {
		t.Fatal(err)
	}
	rec.Wants(t, "PUT /v1/sys/policies/acl/reader", "POST /v1/sys/auth/oidc", "POST /v1/sys/auth/jwt", "PUT /v1/auth/oidc/config",
		"PUT /v1/auth/jwt/role/default", "PUT /v1/identity/group/name/manager", "PUT /v1/identity/group-alias")
	if b := bodyOf(rec, "POST /v1/sys/auth/oidc"); b["type"] != "oidc" || b["options"].(map[string]any)[RolesOption] != "default" {
		t.Errorf("enable body %v", b)
	}
	if b := bodyOf(rec, "PUT /v1/auth/oidc/config"); b["oidc_client_secret"] != "secret-of-vault" || b["oidc_client_id"] != "vault" {
		t.Errorf("config body %v", b)
	}
	if !slices.Contains(checked, "http://kc/realms/demo") {
		t.Errorf("discovery is checked again before the config is written: %v", checked)
	}
	if b := bodyOf(rec, "PUT /v1/identity/group-alias"); b["mount_accessor"] == "" || (b["canonical_id"] != "gid-m" && b["canonical_id"] != "gid-mj") {
		t.Errorf("alias body %v", b)
	}
}

func TestVaultApplyPrunesAndRecords(t *testing.T) {
	v := demoVault(t)
	st := vaultFor(t, v)
	st.RoleNames["jwt"] = append(st.RoleNames["jwt"], "old")
	st.Mounts["jwt"].Options[RolesOption] = "default,old"
	st.Others["gid-x"] = map[string]any{"id": "gid-x", "name": "x", "metadata": map[string]any{ManagedByKey: ManagedByThis}}
	st.Aliases = append(st.Aliases, GroupAlias{ID: "al-x", Name: "team", MountAccessor: "acc-jwt", CanonicalID: "gid-x"})
	p := mustDiff(t, v, st, demoOpts)
	p.IncludePrunable()
	rec := newRecorder(t, map[string]reply{
		"DELETE /v1/auth/jwt/role/old":       vaultDone,
		"DELETE /v1/identity/group/id/gid-x": vaultDone,
		"PUT /v1/sys/auth/jwt/tune":          vaultDone,
	})
	connOf(t, rec).bind(p, st, demoOpts)
	if err := p.Execute(context.Background(), 2, nil); err != nil {
		t.Fatal(err)
	}
	rec.Wants(t, "DELETE /v1/auth/jwt/role/old", "DELETE /v1/identity/group/id/gid-x", "PUT /v1/sys/auth/jwt/tune")
	if b := bodyOf(rec, "PUT /v1/sys/auth/jwt/tune"); b["options"].(map[string]any)[RolesOption] != "default" {
		t.Errorf("tune body %v", b)
	}
}

func TestVaultApplyFailures(t *testing.T) {
	rec := newRecorder(t, map[string]reply{
		"PUT /v1/sys/policies/acl/bad":         {Status: 400, Body: `{"errors":["failed to parse policy: At 1:5: illegal char"]}`},
		"PUT /v1/auth/jwt/role/r":              {Status: 400, Body: `{"errors":["invalid bound_claims_type"]}`},
		"PUT /v1/auth/oidc/config":             {Status: 400, Body: `{"errors":["error checking oidc discovery URL"]}`},
		"POST /v1/sys/auth/taken":              {Status: 400, Body: `{"errors":["path is already in use at taken/"]}`},
		"POST /v1/sys/auth/same":               {Status: 400, Body: `{"errors":["path is already in use at same/"]}`},
		"GET /v1/sys/auth":                     {Body: `{"data":{"taken/":{"type":"userpass","accessor":"a1"},"same/":{"type":"jwt","accessor":"a2"}}}`},
		"PUT /v1/identity/group-alias/id/al-1": {Status: 500, Body: `{"errors":["internal error"]}`},
		"PUT /v1/identity/group/name/g":        {Body: `{"data":{"id":"gid","name":"g"}}`},
		"GET /v1/identity/group/name/g":        {Body: `{"data":{"id":"gid"}}`},
		"PUT /v1/sys/auth/same/tune":           {Status: 204},
	})
	c := connOf(t, rec)
	x := &executor{c: c, ids: plan.NewIDs(), o: PlanOptions{ClientSecret: func(context.Context, string) (string, error) { return "", nil }}}
	ctx := context.Background()
	var ie *InputError
	if err := (putPolicy{"bad", "path"}).apply(ctx, x); !errors.As(err, &ie) || !strings.Contains(err.Error(), "illegal char") {
		t.Errorf("refused HCL: %v", err)
	}
	if err := (writeRole{"jwt", "r", map[string]any{}}).apply(ctx, x); !errors.As(err, &ie) || !strings.Contains(err.Error(), "invalid bound_claims_type") {
		t.Errorf("refused role: %v", err)
	}
	var ae *APIError
	if err := (writeConfig{Path: "oidc", Body: map[string]any{}, DiscoveryURL: "http://kc/realms/x"}).apply(ctx, x); !errors.As(err, &ae) || !strings.Contains(ae.Hint, "/.well-known/openid-configuration") {
		t.Errorf("discovery failure: %v", err)
	}
	if err := (writeConfig{Path: "public", Body: map[string]any{}, ClientID: "pub", Secret: secretSource{KeycloakClient: "pub"}}).apply(ctx, x); !errors.As(err, &ie) || !strings.Contains(err.Error(), "public client") {
		t.Errorf("a client without a secret: %v", err)
	}
	if err := (enableMount{Path: "taken", Type: "jwt"}).apply(ctx, x); !errors.As(err, &ae) {
		t.Errorf("a path held by another type: %v", err)
	}
	if err := (enableMount{Path: "same", Type: "jwt", Owner: "blog", Roles: []string{"r"}}).apply(ctx, x); err != nil {
		t.Errorf("a mount of the same type enabled meanwhile is adopted: %v", err)
	}
	// ... and this owner's roles are recorded in its own option.
	if got := string(rec.Body("PUT /v1/sys/auth/same/tune")); got != `{"options":{"ssoctl.roles.blog":"r"}}` {
		t.Errorf("tune after adopting: %s", got)
	}
	if id, _ := x.ids.Get(mountRef("same")); id != "a2" {
		t.Errorf("the adopted mount's accessor: %q", id)
	}
	if err := (writeAlias{Mount: "nope", Group: "g", Alias: "a"}).apply(ctx, x); err == nil || !strings.Contains(err.Error(), "is missing") {
		t.Errorf("an alias without its mount: %v", err)
	}
	if err := (upsertGroup{"g", map[string]any{"type": "external"}}).apply(ctx, x); err != nil {
		t.Fatal(err)
	}
	x.ids.Set(mountRef("m"), "acc")
	if err := (writeAlias{Mount: "m", Group: "g", Alias: "a", ID: "al-1"}).apply(ctx, x); !errors.As(err, &ae) || ae.Status != 500 {
		t.Errorf("server error: %v", err)
	}
}

func TestVaultReadState(t *testing.T) {
	rec := newRecorder(t, map[string]reply{
		"GET /v1/sys/auth":                        {Body: mountsJSON},
		"GET /v1/sys/policies/acl/reader":         {Body: `{"data":{"name":"reader","policy":"path \"a\" {}"}}`},
		"GET /v1/auth/jwt/config":                 {Body: `{"data":{"default_role":"default"}}`},
		"LIST /v1/auth/jwt/role":                  {Body: `{"data":{"keys":["default","extra"]}}`},
		"GET /v1/auth/jwt/role/default":           {Body: `{"data":{"role_type":"jwt"}}`},
		"GET /v1/identity/group/name/manager-jwt": {Body: `{"data":{"id":"gid-mj","name":"manager-jwt"}}`},
		"LIST /v1/identity/group-alias/id": {Body: `{"data":{"keys":["al1","al2"],"key_info":{
			"al1":{"name":"secret_manager","mount_accessor":"acc-jwt","canonical_id":"gid-mj"},
			"al2":{"name":"team","mount_accessor":"acc-jwt","canonical_id":"gid-other"}}}}`},
		"GET /v1/identity/group/id/gid-other": {Body: `{"data":{"id":"gid-other","name":"other"}}`},
	})
	v := vaultSection(t, `  policies:
    reader: {template: vault/reader.hcl}
  auth:
    - path: jwt
      type: jwt
      jwks_url: http://kc/certs
      roles: {default: {bound_audiences: [x]}}
      groups: [{name: manager-jwt, alias: secret_manager}]
    - path: fresh
      type: jwt
      jwks_url: http://kc/certs
`)
	st, err := connOf(t, rec).ReadState(context.Background(), v, 2)
	if err != nil {
		t.Fatal(err)
	}
	if st.Policies["reader"] != `path "a" {}` || st.Configs["jwt"]["default_role"] != "default" || st.Roles["jwt"]["default"]["role_type"] != "jwt" {
		t.Errorf("reads: %+v", st)
	}
	if !slices.Equal(st.RoleNames["jwt"], []string{"default", "extra"}) || len(st.Aliases) != 2 || st.Mounts["jwt"].Accessor != "acc-jwt" {
		t.Errorf("listings: %v %v", st.RoleNames, st.Aliases)
	}
	if st.Others["gid-other"]["name"] != "other" || st.Others["gid-mj"] != nil {
		t.Errorf("only groups the file does not name are read by id: %v", st.Others)
	}
}

func TestVaultErrorHints(t *testing.T) {
	rec := newRecorder(t, map[string]reply{
		"GET /v1/sys/auth": {Status: 503, Body: `{"errors":["Vault is sealed"]}`},
	})
	_, err := connOf(t, rec).ReadState(context.Background(), vaultSection(t, "  policies: {p: {hcl: x}}\n"), 1)
	var ae *APIError
	if !errors.As(err, &ae) || !strings.Contains(err.Error(), "unseal") {
		t.Errorf("sealed: %v", err)
	}
	rec.Set("GET /v1/sys/auth", reply{Status: 403, Body: `{"errors":["permission denied"]}`})
	_, err = connOf(t, rec).ReadState(context.Background(), vaultSection(t, "  policies: {p: {hcl: x}}\n"), 1)
	if !errors.As(err, &ae) || !strings.Contains(err.Error(), "$VAULT_TOKEN is invalid") || strings.Contains(err.Error(), "root-token") {
		t.Errorf("forbidden: %v", err)
	}
	dead, _ := Connect(Config{Addr: "http://127.0.0.1:1", Token: "t"})
	_, err = dead.ReadState(context.Background(), vaultSection(t, "  policies: {p: {hcl: x}}\n"), 1)
	var ue *UnreachableError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "cannot reach Vault at http://127.0.0.1:1") {
		t.Errorf("unreachable: %v", err)
	}
	if _, err := Connect(Config{}); err == nil {
		t.Error("no address must fail")
	}
}

func TestVaultLoginAndReads(t *testing.T) {
	rec := newRecorder(t, map[string]reply{
		"PUT /v1/auth/jwt/login": {Body: `{"auth":{"client_token":"hvs.user","accessor":"acc","entity_id":"e1","token_policies":["default","reader"],
			"identity_policies":["manager"],"lease_duration":3600,"renewable":true,"metadata":{"role":"default"}}}`},
		"GET /v1/auth/token/lookup-self": {Body: `{"data":{"display_name":"jwt-alice","identity_policies":["manager"]}}`},
		"GET /v1/identity/entity/id/e1":  {Body: `{"data":{"group_ids":["g1"]}}`},
		"GET /v1/identity/group/id/g1":   {Body: `{"data":{"name":"manager-jwt"}}`},
		"GET /v1/auth/jwt/role/default":  {Body: `{"data":{"role_type":"jwt"}}`},
		"GET /v1/auth/jwt/config":        {Body: `{"data":{"jwks_url":"http://kc"}}`},
		"PUT /v1/auth/other/login":       {Status: 400, Body: `{"errors":["invalid audience (aud) claim"]}`},
		"GET /v1/sys/auth":               {Body: mountsJSON},
	})
	c := connOf(t, rec)
	ctx := context.Background()
	res, err := c.Login(ctx, "jwt", "default", "a.b.c")
	if err != nil {
		t.Fatal(err)
	}
	if res.DisplayName != "jwt-alice" || !slices.Equal(res.GroupNames, []string{"manager-jwt"}) || res.TTLSeconds != 3600 || !slices.Equal(res.IdentityPolicies, []string{"manager"}) {
		t.Errorf("login: %+v", res)
	}
	if b := bodyOf(rec, "PUT /v1/auth/jwt/login"); b["jwt"] != "a.b.c" || b["role"] != "default" {
		t.Errorf("login body %v", b)
	}
	var ae *APIError
	if _, err := c.Login(ctx, "other", "", "a.b.c"); !errors.As(err, &ae) || !strings.Contains(err.Error(), "invalid audience") {
		t.Errorf("rejected login: %v", err)
	}
	if r, err := c.ReadRole(ctx, "jwt", "default"); err != nil || r["role_type"] != "jwt" {
		t.Errorf("role %v %v", r, err)
	}
	if cfg, err := c.ReadAuthConfig(ctx, "jwt"); err != nil || cfg["jwks_url"] != "http://kc" {
		t.Errorf("config %v %v", cfg, err)
	}
	if typ, err := c.AuthType(ctx, "jwt"); err != nil || typ != "jwt" {
		t.Errorf("type %q %v", typ, err)
	}
	if typ, err := c.AuthType(ctx, "none"); err != nil || typ != "" {
		t.Errorf("no mount: %q %v", typ, err)
	}
	if c.Addr() != rec.URL() {
		t.Errorf("addr %q", c.Addr())
	}
}

func TestVaultPlanChecksDiscoveryFirst(t *testing.T) {
	// What a Vault that holds nothing of the file answers.
	rec := newRecorder(t, map[string]reply{
		"GET /v1/sys/auth":                        {Body: mountsJSON},
		"GET /v1/sys/seal-status":                 vaultMissing, // a proxy without it: taken for Vault
		"GET /v1/sys/policies/acl/reader":         vaultMissing,
		"GET /v1/sys/policies/acl/manager":        vaultMissing,
		"GET /v1/auth/oidc/config":                vaultMissing,
		"GET /v1/auth/jwt/config":                 vaultMissing,
		"LIST /v1/auth/oidc/role":                 vaultMissing,
		"LIST /v1/auth/jwt/role":                  vaultMissing,
		"GET /v1/auth/oidc/role/default":          vaultMissing,
		"GET /v1/auth/jwt/role/default":           vaultMissing,
		"LIST /v1/identity/group-alias/id":        vaultMissing,
		"GET /v1/identity/group/name/manager":     vaultMissing,
		"GET /v1/identity/group/name/manager-jwt": vaultMissing,
	})
	v := demoVault(t)
	boom := errors.New("issuer differs")
	_, err := connOf(t, rec).Plan(context.Background(), v, PlanOptions{CheckDiscovery: func(context.Context, string) error { return boom }})
	if !errors.Is(err, boom) || len(rec.Requests()) != 0 {
		t.Errorf("a failed discovery check stops planning before any read: %v, %v", err, rec.Requests())
	}
	p, err := connOf(t, rec).Plan(context.Background(), v, PlanOptions{KeycloakClients: map[string]bool{"vault": true},
		PendingIssuers: map[string]bool{"http://kc/realms/demo": true},
		CheckDiscovery: func(context.Context, string) error { return boom }})
	if err != nil || !p.HasChanges() {
		t.Errorf("a realm this run creates is checked at apply time only: %v", err)
	}
}

// --parallel bounds the reads too.
func TestVaultReadStateBoundsRequestsInFlight(t *testing.T) {
	var mu sync.Mutex
	inFlight, peak := 0, 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		peak = max(peak, inFlight)
		mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		inFlight--
		mu.Unlock()
		if r.URL.Path == "/v1/sys/auth" {
			io.WriteString(w, mountsJSON)
			return
		}
		w.WriteHeader(404)
		io.WriteString(w, `{"errors":[]}`)
	}))
	defer srv.Close()
	c, _ := Connect(Config{Addr: srv.URL, Token: "t", HTTPClient: srv.Client()})
	v := demoVault(t)
	for _, conc := range []int{1, 4} {
		peak = 0
		if _, err := c.ReadState(context.Background(), v, conc); err != nil {
			t.Fatal(err)
		}
		if peak > conc || (conc > 1 && peak < 2) {
			t.Errorf("concurrency %d: %d requests in flight at once", conc, peak)
		}
	}
}

// An alias create whose answer was lost is sent again by the HTTP client
// (Vault's writes are PUTs) and refused as "already in use": the group
// holding that alias on that mount is this create's work, and is adopted.
// An alias on the same name that the group does not hold is still an error.
func TestVaultAliasCreateAdoptsItsOwnAlias(t *testing.T) {
	rec := newRecorder(t, map[string]reply{
		"PUT /v1/identity/group-alias":        {Status: 400, Body: `{"errors":["combination of mount and group alias name is already in use"]}`},
		"GET /v1/identity/group/id/gid-mine":  {Body: `{"data":{"id":"gid-mine","alias":{"id":"al-1","name":"Secret_Manager","mount_accessor":"acc"}}}`},
		"GET /v1/identity/group/id/gid-other": {Body: `{"data":{"id":"gid-other","alias":{}}}`},
	})
	x := &executor{c: connOf(t, rec), ids: plan.NewIDs()}
	x.ids.Set(mountRef("m"), "acc")
	x.ids.Set(groupRef("mine"), "gid-mine")
	x.ids.Set(groupRef("other"), "gid-other")
	ctx := context.Background()
	if err := (writeAlias{Mount: "m", Group: "mine", Alias: "secret_manager"}).apply(ctx, x); err != nil {
		t.Errorf("the group holds the alias: %v", err)
	}
	var ae *APIError
	if err := (writeAlias{Mount: "m", Group: "other", Alias: "secret_manager"}).apply(ctx, x); !errors.As(err, &ae) || !strings.Contains(err.Error(), "already in use") {
		t.Errorf("another group holds the alias: %v", err)
	}
}

// A Vault that accepts and never answers fails within the HTTP client's
// timeout as an unreachable server named by its address; an answer past
// the client's size cap is that typed, bad-input error.
func TestVaultTimeoutAndOversizedAnswer(t *testing.T) {
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/sys/auth" {
			io.WriteString(w, `{"data":{"x/":{"type":"jwt","description":"`+strings.Repeat("x", 2048)+`"}}}`)
			return
		}
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}))
	defer srv.Close()
	defer close(done)
	hc, err := httpclient.New(httpclient.Options{Timeout: 100 * time.Millisecond, MaxResponseBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	c, err := Connect(Config{Addr: srv.URL, Token: "t", HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ReadRole(context.Background(), "jwt", "r")
	var ue *UnreachableError
	if !errors.As(err, &ue) || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "cannot reach Vault at "+srv.URL+" (token from $VAULT_TOKEN): timed out") {
		t.Errorf("hanging Vault: %v", err)
	}
	_, err = c.AuthType(context.Background(), "x")
	var tl *httpclient.ResponseTooLargeError
	if !errors.As(err, &tl) || tl.Limit != 1024 || !strings.Contains(err.Error(), srv.URL+"/v1/sys/auth") || !tl.BadInput() {
		t.Errorf("oversized answer: %v", err)
	}
}
