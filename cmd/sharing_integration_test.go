//go:build integration

package cmd

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
	"github.com/ssoctl/ssoctl/testbed"
)

// TestMain lets a test run ssoctl as a process of its own: the test binary,
// started with $SSOCTL_TEST_CLI_ARGS (a JSON list), is the CLI. Concurrent
// applies need two processes, not two goroutines of one.
func TestMain(m *testing.M) {
	if raw := os.Getenv("SSOCTL_TEST_CLI_ARGS"); raw != "" {
		var args []string
		if err := json.Unmarshal([]byte(raw), &args); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(99)
		}
		os.Args = append([]string{"ssoctl"}, args...)
		os.Exit(Main())
	}
	os.Exit(m.Run())
}

// cliProcess starts ssoctl as a process with env (and nothing else of the
// test's environment but PATH and HOME).
func cliProcess(t *testing.T, env map[string]string, args ...string) *exec.Cmd {
	t.Helper()
	raw, _ := json.Marshal(args)
	c := exec.Command(os.Args[0])
	c.Env = []string{"SSOCTL_TEST_CLI_ARGS=" + string(raw), "PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		c.Env = append(c.Env, k+"="+v)
	}
	return c
}

// sharedRealm is one realm that two files manage: the shop site's file
// (owner: shop-site) and the blog's, whose owner is derived from its path
// (blog/sso).
type sharedRealm struct {
	tb          testbed.Env
	env         map[string]string
	realm       string
	shop, blog  string // the files
	shopText    string
	blogText    string
	shopUser    string
	blogUser    string
	kcRequest   func(method, path string, body, out any)
	adminClient *keycloak.Admin
}

const shopFile = `owner: shop-site
keycloak:
  realm: REALM
  create_realm: true
  clients:
    - client_id: shop
      redirect_uris: [http://shop.example/oidc/callback/]
      web_origins: [http://shop.example]
      mappers:
        - groups: {claim: groups}
        - attribute: {user_attribute: tier, claim: tier}
  realm_roles: [shop-reader, shop-writer]
  groups:
    - name: shop-viewers
      realm_roles: [shop-reader, shop-writer]
    - name: shop-editors
  users:
    - {username: shopper, password_env: ALICE_PASSWORD, groups: [shop-viewers]}
`

const blogFile = `keycloak:
  realm: REALM
  clients:
    - client_id: blog
      redirect_uris: [http://blog.example/cb]
  groups:
    - name: blog-readers
  users:
    - {username: blogger, password_env: BOB_PASSWORD, groups: [blog-readers]}
`

func newSharedRealm(t *testing.T) *sharedRealm {
	t.Helper()
	tb := testbed.Load(t)
	s := &sharedRealm{tb: tb, env: testEnv(tb), realm: fmt.Sprintf("share-%d", time.Now().UnixNano()%1e9)}
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "shop"), 0o700)
	os.MkdirAll(filepath.Join(dir, "blog"), 0o700)
	s.shop, s.blog = filepath.Join(dir, "shop", "sso.yaml"), filepath.Join(dir, "blog", "sso.yaml")
	s.shopText = strings.ReplaceAll(shopFile, "REALM", s.realm)
	s.blogText = strings.ReplaceAll(blogFile, "REALM", s.realm)
	s.write(t, s.shop, s.shopText)
	s.write(t, s.blog, s.blogText)
	t.Cleanup(func() { tb.DeleteRealm(context.Background(), s.realm) })
	s.kcRequest = func(method, path string, body, out any) {
		t.Helper()
		if err := tb.KeycloakAdminRequest(context.Background(), method, "/"+url.PathEscape(s.realm)+path, body, out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return s
}

func (s *sharedRealm) write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// run runs ssoctl in this process and wants exit code want.
func (s *sharedRealm) run(t *testing.T, want int, args ...string) string {
	t.Helper()
	code, out, errOut := runEnv(t, s.env, "", args...)
	if code != want {
		t.Fatalf("ssoctl %s: exit %d, want %d\n%s\n%s", strings.Join(args, " "), code, want, out, errOut)
	}
	return out + errOut
}

// record reads the realm's ownership record.
func (s *sharedRealm) record(t *testing.T) plan.Record {
	t.Helper()
	var rr struct {
		Attributes map[string]string `json:"attributes"`
	}
	s.kcRequest(http.MethodGet, "", nil, &rr)
	rec := plan.Record{}
	if raw := rr.Attributes[keycloak.OwnershipAttribute]; raw != "" {
		if err := json.Unmarshal([]byte(raw), &rec); err != nil {
			t.Fatalf("record: %v: %s", err, raw)
		}
	}
	return rec
}

// attributes reads the realm's attributes.
func (s *sharedRealm) attributes(t *testing.T) map[string]string {
	t.Helper()
	var rr struct {
		Attributes map[string]string `json:"attributes"`
	}
	s.kcRequest(http.MethodGet, "", nil, &rr)
	return rr.Attributes
}

// userGroups lists a user's groups by path.
func (s *sharedRealm) userGroups(t *testing.T, username string) []string {
	t.Helper()
	var users []struct {
		ID string `json:"id"`
	}
	s.kcRequest(http.MethodGet, "/users?exact=true&username="+url.QueryEscape(username), nil, &users)
	if len(users) != 1 {
		t.Fatalf("user %s: %d found", username, len(users))
	}
	var groups []struct {
		Path string `json:"path"`
	}
	s.kcRequest(http.MethodGet, "/users/"+users[0].ID+"/groups", nil, &groups)
	var out []string
	for _, g := range groups {
		out = append(out, strings.TrimPrefix(g.Path, "/"))
	}
	slices.Sort(out)
	return out
}

func (s *sharedRealm) exists(t *testing.T, path string) bool {
	t.Helper()
	err := s.tb.KeycloakAdminRequest(context.Background(), http.MethodGet, "/"+url.PathEscape(s.realm)+path, nil, nil)
	var he *testbed.HTTPError
	if errors.As(err, &he) && he.Status == http.StatusNotFound {
		return false
	}
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return true
}

func (s *sharedRealm) groupExists(t *testing.T, name string) bool {
	t.Helper()
	var found []struct {
		Name string `json:"name"`
	}
	s.kcRequest(http.MethodGet, "/groups?exact=true&search="+url.QueryEscape(name), nil, &found)
	return slices.ContainsFunc(found, func(g struct {
		Name string `json:"name"`
	}) bool {
		return g.Name == name
	})
}

func (s *sharedRealm) groupID(t *testing.T, name string) string {
	t.Helper()
	var found []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	s.kcRequest(http.MethodGet, "/groups?exact=true&search="+url.QueryEscape(name), nil, &found)
	for _, g := range found {
		if g.Name == name {
			return g.ID
		}
	}
	t.Fatalf("no group %s", name)
	return ""
}

func (s *sharedRealm) clientExists(t *testing.T, clientID string) bool {
	t.Helper()
	var found []struct {
		ClientID string `json:"clientId"`
	}
	s.kcRequest(http.MethodGet, "/clients?clientId="+url.QueryEscape(clientID), nil, &found)
	return len(found) == 1
}

// Two files, two owners, one realm: each prunes only its own objects, and
// shows the other's as owned by it.
func TestIntegrationOwnersPruneOnlyTheirOwn(t *testing.T) {
	s := newSharedRealm(t)
	s.run(t, 0, "apply", "-f", s.shop)
	s.run(t, 0, "apply", "-f", s.blog)

	rec := s.record(t)
	if rec[plan.Ref{Kind: "client", Name: "shop"}] != "shop-site" || rec[plan.Ref{Kind: "client", Name: "blog"}] != "blog/sso" ||
		rec[plan.Ref{Kind: "group", Name: "blog-readers"}] != "blog/sso" || rec[plan.Ref{Kind: "user-group", Scope: "shopper", Name: "shop-viewers"}] != "shop-site" {
		t.Fatalf("the record keeps the owner per object: %v", rec)
	}

	// Each file's plan lists the other's objects as owned by it, and
	// nothing to prune.
	out := s.run(t, 0, "plan", "-f", s.shop)
	if !strings.Contains(out, "Owned by another file, left alone:") || !strings.Contains(out, "client "+s.realm+"/blog  (owned by blog/sso)") ||
		strings.Contains(out, "apply --prune would delete") {
		t.Fatalf("shop's plan:\n%s", out)
	}
	out = s.run(t, 0, "plan", "-f", s.blog, "-o", "json")
	var doc plan.JSONDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Prunable) != 0 || !slices.ContainsFunc(doc.Unmanaged, func(o plan.Object) bool {
		return o.Kind == "client" && o.Name == s.realm+"/shop" && o.Owner == "shop-site"
	}) {
		t.Fatalf("blog's JSON plan: %s", out)
	}

	// --prune of each: only its own objects go.
	s.write(t, s.shop, strings.Replace(s.shopText, "    - name: shop-editors\n", "", 1))
	s.run(t, 0, "apply", "--prune", "-f", s.shop)
	if s.groupExists(t, "shop-editors") || !s.groupExists(t, "shop-viewers") || !s.groupExists(t, "blog-readers") || !s.clientExists(t, "blog") {
		t.Fatal("shop's --prune deleted the wrong objects")
	}
	s.write(t, s.blog, strings.Replace(s.blogText, "    - name: blog-readers\n", "", 1))
	s.write(t, s.blog, strings.Replace(strings.Replace(s.blogText, "    - name: blog-readers\n", "", 1), "groups: [blog-readers]", "groups: []", 1))
	s.run(t, 0, "apply", "--prune", "-f", s.blog)
	if s.groupExists(t, "blog-readers") || !s.groupExists(t, "shop-viewers") || !s.clientExists(t, "shop") || !s.clientExists(t, "blog") {
		t.Fatal("blog's --prune deleted the wrong objects")
	}
	rec = s.record(t)
	if _, ok := rec[plan.Ref{Kind: "group", Name: "blog-readers"}]; ok || rec[plan.Ref{Kind: "group", Name: "shop-viewers"}] != "shop-site" {
		t.Fatalf("after both prunes: %v", rec)
	}
}

// A second file that declares an object the first owns is refused (exit 2,
// both owners named) until it says adopt_from, which moves the object.
func TestIntegrationOwnersConflictAndAdopt(t *testing.T) {
	s := newSharedRealm(t)
	s.run(t, 0, "apply", "-f", s.shop)
	steal := strings.Replace(s.blogText, "  clients:\n", "  clients:\n    - client_id: shop\n", 1)
	s.write(t, s.blog, steal)
	out := s.run(t, 2, "apply", "-f", s.blog)
	if !strings.Contains(out, "client shop (owned by shop-site)") || !strings.Contains(out, "owner blog/sso") || !strings.Contains(out, "adopt_from: [shop-site]") {
		t.Fatalf("the conflict names both owners and the fix:\n%s", out)
	}
	if s.clientExists(t, "blog") {
		t.Fatal("a refused apply wrote something")
	}
	// The fix it prints, applied.
	s.write(t, s.blog, "adopt_from: [shop-site]\n"+steal)
	s.run(t, 0, "apply", "-f", s.blog)
	if got := s.record(t)[plan.Ref{Kind: "client", Name: "shop"}]; got != "blog/sso" {
		t.Fatalf("adopted client's owner: %q", got)
	}
	// Now the shop's file is the one refused.
	s.run(t, 2, "plan", "-f", s.shop)
}

// Records written before owners keep working: a file that names an unowned
// object takes it; the rest is left alone until adopt_from: [unowned].
func TestIntegrationOwnersLegacyRecord(t *testing.T) {
	s := newSharedRealm(t)
	s.run(t, 0, "apply", "-f", s.shop)
	s.kcRequest(http.MethodPost, "/clients", map[string]any{"clientId": "legacy-app"}, nil)
	// Rewrite the record as ssoctl before owners wrote it: three columns.
	attrs := s.attributes(t)
	var rows [][]string
	for r := range s.record(t) {
		rows = append(rows, []string{r.Kind, r.Scope, r.Name})
	}
	rows = append(rows, []string{"client", "", "legacy-app"})
	raw, _ := json.Marshal(rows)
	attrs[keycloak.OwnershipAttribute] = string(raw)
	s.kcRequest(http.MethodPut, "", map[string]any{"attributes": attrs}, nil)

	out := s.run(t, 0, "plan", "-f", s.shop)
	if !strings.Contains(out, "client "+s.realm+"/legacy-app  (recorded without an owner") || strings.Contains(out, "apply --prune would delete") {
		t.Fatalf("an unowned object is left alone:\n%s", out)
	}
	s.run(t, 0, "apply", "-f", s.shop)
	rec := s.record(t)
	if rec[plan.Ref{Kind: "client", Name: "shop"}] != "shop-site" || rec[plan.Ref{Kind: "client", Name: "legacy-app"}] != "" {
		t.Fatalf("the file took what it names, and only that: %v", rec)
	}
	s.write(t, s.shop, "adopt_from: [unowned]\n"+s.shopText)
	s.run(t, 0, "apply", "--prune", "-f", s.shop)
	if s.clientExists(t, "legacy-app") {
		t.Fatal("adopt_from: [unowned] with --prune keeps the unowned client")
	}
}

// The file's lists are exact for what it keeps, without --prune: a user
// moved between groups is in one group afterwards; a mapper the file drops
// goes; a membership made by hand stays and is listed.
func TestIntegrationExactSetsWithoutPrune(t *testing.T) {
	s := newSharedRealm(t)
	s.run(t, 0, "apply", "-f", s.shop)
	s.run(t, 0, "apply", "-f", s.blog)
	// By hand: shopper joins blog-readers too.
	var users []struct {
		ID string `json:"id"`
	}
	s.kcRequest(http.MethodGet, "/users?exact=true&username=shopper", nil, &users)
	var groups []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	s.kcRequest(http.MethodGet, "/groups?exact=true&search=blog-readers", nil, &groups)
	s.kcRequest(http.MethodPut, "/users/"+users[0].ID+"/groups/"+groups[0].ID, nil, nil)

	moved := strings.Replace(s.shopText, "groups: [shop-viewers]", "groups: [shop-editors]", 1)
	moved = strings.Replace(moved, "        - attribute: {user_attribute: tier, claim: tier}\n", "", 1)
	moved = strings.Replace(moved, "redirect_uris: [http://shop.example/oidc/callback/]", "redirect_uris: [http://shop.example/cb2/]", 1)
	moved = strings.Replace(moved, "      realm_roles: [shop-reader, shop-writer]\n", "      realm_roles: [shop-reader]\n", 1)
	s.write(t, s.shop, moved)
	out := s.run(t, 0, "plan", "-f", s.shop)
	for _, want := range []string{
		"~ keycloak user " + s.realm + "/shopper\n    groups: \"shop-viewers\" -> (none)",
		"~ keycloak client " + s.realm + "/shop\n    mappers: \"attribute tier\" -> (none)",
		"user-group " + s.realm + "/shopper in blog-readers",
		"~ keycloak group-role-binding " + s.realm + "/shop-viewers realm-roles\n    roles: [\"shop-reader\",\"shop-writer\"] -> [\"shop-reader\"]",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	s.run(t, 0, "apply", "-f", s.shop)
	if got := s.userGroups(t, "shopper"); !slices.Equal(got, []string{"blog-readers", "shop-editors"}) {
		t.Errorf("shopper's groups: %v (shop-editors from the file, blog-readers by hand)", got)
	}
	var clients []struct {
		RedirectURIs []string `json:"redirectUris"`
		Mappers      []struct {
			Name string `json:"name"`
		} `json:"protocolMappers"`
	}
	s.kcRequest(http.MethodGet, "/clients?clientId=shop", nil, &clients)
	if len(clients) != 1 || !slices.Equal(clients[0].RedirectURIs, []string{"http://shop.example/cb2/"}) ||
		slices.ContainsFunc(clients[0].Mappers, func(m struct {
			Name string `json:"name"`
		}) bool {
			return m.Name == "attribute tier"
		}) {
		t.Errorf("shop client: %+v", clients)
	}
	var bound []struct {
		Name string `json:"name"`
	}
	s.kcRequest(http.MethodGet, "/groups/"+s.groupID(t, "shop-viewers")+"/role-mappings/realm", nil, &bound)
	if len(bound) != 1 || bound[0].Name != "shop-reader" || !s.exists(t, "/roles/shop-writer") {
		t.Errorf("shop-viewers' realm roles: %+v (shop-writer unbound, not deleted)", bound)
	}
	if _, ok := s.record(t)[plan.Ref{Kind: "user-group", Scope: "shopper", Name: "shop-viewers"}]; ok {
		t.Error("the record still holds the dropped membership")
	}
	if out := s.run(t, 0, "plan", "-f", s.shop, "--detailed-exitcode"); strings.Contains(out, "~ ") {
		t.Errorf("a second plan changes something:\n%s", out)
	}
}

// An admin's realm attribute set between plan and apply survives the
// record's rewrite.
func TestIntegrationRecordKeepsAdminAttributeSetMeanwhile(t *testing.T) {
	s := newSharedRealm(t)
	s.run(t, 0, "apply", "-f", s.shop)
	kc := keycloak.NewAdmin(s.tb.KeycloakURL, http.DefaultClient, keycloak.Credentials{Username: s.tb.KeycloakAdmin, Password: s.tb.KeycloakAdminPassword})
	file, err := spec.Load(s.blog, nil, func(k string) string { return s.env[k] })
	if err != nil {
		t.Fatal(err)
	}
	out, err := kc.Plan(context.Background(), file.Keycloak, keycloak.PlanOptions{Owner: file.Owner, ForApply: true, Getenv: func(k string) string { return s.env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	attrs := s.attributes(t)
	attrs["admin.note"] = "set by an admin meanwhile"
	s.kcRequest(http.MethodPut, "", map[string]any{"attributes": attrs}, nil)
	if err := out.Plan.Execute(context.Background(), 4, nil); err != nil {
		t.Fatal(err)
	}
	got := s.attributes(t)
	if got["admin.note"] != "set by an admin meanwhile" {
		t.Errorf("the admin's attribute is gone: %v", got)
	}
	if s.record(t)[plan.Ref{Kind: "client", Name: "blog"}] != "blog/sso" {
		t.Error("the blog's entries are not recorded")
	}
}

// Two applies of different owners at the same moment, in two processes,
// 20 times in a row: both complete, the record loses no entry, and the
// admin's attributes stay.
func TestIntegrationConcurrentAppliesOfTwoOwners(t *testing.T) {
	s := newSharedRealm(t)
	s.run(t, 0, "apply", "-f", s.shop)
	s.run(t, 0, "apply", "-f", s.blog)
	const rounds = 20
	shopText, blogText := s.shopText, s.blogText
	waits := 0
	for i := range rounds {
		// Each round both files add a group, so that both rewrite the
		// record; the admin sets an attribute of its own first.
		attrs := s.attributes(t)
		attrs[fmt.Sprintf("admin.round-%d", i)] = "kept"
		s.kcRequest(http.MethodPut, "", map[string]any{"attributes": attrs}, nil)
		shopText = strings.Replace(shopText, "  groups:\n", fmt.Sprintf("  groups:\n    - name: shop-%d\n", i), 1)
		blogText = strings.Replace(blogText, "  groups:\n", fmt.Sprintf("  groups:\n    - name: blog-%d\n", i), 1)
		s.write(t, s.shop, shopText)
		s.write(t, s.blog, blogText)
		var wg sync.WaitGroup
		outs := make([]string, 2)
		errs := make([]error, 2)
		for j, f := range []string{s.shop, s.blog} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				b, err := cliProcess(t, s.env, "apply", "-f", f).CombinedOutput()
				outs[j], errs[j] = string(b), err
			}()
		}
		wg.Wait()
		for j := range 2 {
			if errs[j] != nil {
				t.Fatalf("round %d, apply %d: %v\n%s", i, j, errs[j], outs[j])
			}
			if strings.Contains(outs[j], "waiting for the ownership record") {
				waits++
			}
		}
		rec := s.record(t)
		for k := 0; k <= i; k++ {
			if rec[plan.Ref{Kind: "group", Name: fmt.Sprintf("shop-%d", k)}] != "shop-site" || rec[plan.Ref{Kind: "group", Name: fmt.Sprintf("blog-%d", k)}] != "blog/sso" {
				t.Fatalf("round %d: the record lost an entry of round %d: %v", i, k, rec)
			}
		}
		got := s.attributes(t)
		for k := 0; k <= i; k++ {
			if got[fmt.Sprintf("admin.round-%d", k)] != "kept" {
				t.Fatalf("round %d: the admin's attribute of round %d is gone", i, k)
			}
		}
	}
	t.Logf("%d rounds of two concurrent applies; %d apply(s) said they waited for the lock", rounds, waits)
	if s.exists(t, "/roles/"+url.PathEscape(keycloak.RecordLockRole)) {
		t.Error("the record's lock is left behind")
	}
}

// A lock left by a run that died is taken over once its lease has run out:
// at once when it has, after saying so when it has not.
func TestIntegrationRecordLockLease(t *testing.T) {
	s := newSharedRealm(t)
	s.run(t, 0, "apply", "-f", s.shop)
	lock := func(until time.Time) {
		s.kcRequest(http.MethodPost, "/roles", map[string]any{"name": keycloak.RecordLockRole, "attributes": map[string][]string{
			"ssoctl.lease-until": {fmt.Sprint(until.UnixMilli())}, "ssoctl.holder": {"a run that died"}}}, nil)
	}
	lock(time.Now().Add(-time.Minute))
	out := s.run(t, 0, "apply", "-f", s.blog)
	if strings.Contains(out, "waiting") || s.exists(t, "/roles/"+url.PathEscape(keycloak.RecordLockRole)) {
		t.Fatalf("a lock whose lease ran out is taken over at once, and released:\n%s", out)
	}
	s.write(t, s.blog, strings.Replace(s.blogText, "  groups:\n", "  groups:\n    - name: after-wait\n", 1))
	lock(time.Now().Add(3 * time.Second))
	start := time.Now()
	out = s.run(t, 0, "apply", "-f", s.blog)
	if !strings.Contains(out, "ssoctl: waiting for the ownership record of realm "+s.realm+": a run that died holds it, for at most ") ||
		time.Since(start) < 2*time.Second {
		t.Fatalf("a held lock is waited for, and said so (%s):\n%s", time.Since(start), out)
	}
	if s.record(t)[plan.Ref{Kind: "group", Name: "after-wait"}] != "blog/sso" {
		t.Fatal("the apply that waited did not record its group")
	}
	// The lock is never a realm role of the plan.
	lock(time.Now().Add(time.Minute))
	defer s.kcRequest(http.MethodDelete, "/roles/"+url.PathEscape(keycloak.RecordLockRole), nil, nil)
	if out := s.run(t, 0, "plan", "-f", s.shop); strings.Contains(out, keycloak.RecordLockRole) {
		t.Fatalf("plan lists the lock:\n%s", out)
	}
}

// Two files share one Vault JWT mount: each owner's roles are recorded in an
// option of its own, and each file prunes only its own roles.
func TestIntegrationVaultRolesPerOwner(t *testing.T) {
	tb := testbed.Load(t)
	env := testEnv(tb)
	mount := fmt.Sprintf("share-jwt-%d", time.Now().UnixNano()%1e9)
	t.Cleanup(func() { tb.Vault().Sys().DisableAuth(mount) })
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pemText := strings.ReplaceAll(strings.TrimSpace(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))), "\n", "\\n")
	// Each file also has an external group with an alias on the mount.
	groupOf := map[string]string{"shop-site": mount + "-shop", "": mount + "-blog"}
	t.Cleanup(func() {
		for _, g := range groupOf {
			tb.Vault().Logical().Delete("identity/group/name/" + g)
		}
	})
	file := func(owner string, roles ...string) string {
		var b strings.Builder
		if owner != "" {
			b.WriteString("owner: " + owner + "\n")
		}
		fmt.Fprintf(&b, "vault:\n  auth:\n    - path: %s\n      type: jwt\n      jwt_validation_pubkeys: [\"%s\"]\n      roles:\n", mount, pemText)
		for _, r := range roles {
			fmt.Fprintf(&b, "        %s: {user_claim: sub, bound_audiences: [%s]}\n", r, r)
		}
		if len(roles) > 0 {
			fmt.Fprintf(&b, "      groups:\n        - {name: %s, policies: [default], alias: %s}\n", groupOf[owner], groupOf[owner])
		}
		return b.String()
	}
	groupOwner := func(name string) (string, bool) {
		s, err := tb.Vault().Logical().Read("identity/group/name/" + name)
		if err != nil || s == nil {
			return "", false
		}
		md, _ := s.Data["metadata"].(map[string]any)
		o, _ := md["ssoctl-owner"].(string)
		return o, true
	}
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "blog"), 0o700)
	shop, blog := filepath.Join(dir, "shop.yaml"), filepath.Join(dir, "blog", "sso.yaml")
	write := func(path, text string) {
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	run := func(want int, args ...string) string {
		t.Helper()
		code, out, errOut := runEnv(t, env, "", args...)
		if code != want {
			t.Fatalf("ssoctl %v: exit %d, want %d\n%s%s", args, code, want, out, errOut)
		}
		return out + errOut
	}
	write(shop, file("shop-site", "shop-a", "shop-b"))
	write(blog, file("", "blog-a"))
	run(0, "apply", "-f", shop)
	run(0, "apply", "-f", blog)
	mounts, err := tb.Vault().Sys().ListAuth()
	if err != nil {
		t.Fatal(err)
	}
	opts := mounts[mount+"/"].Options
	if opts["ssoctl.roles.shop-site"] != "shop-a,shop-b" || opts["ssoctl.roles.blog/sso"] != "blog-a" {
		t.Fatalf("mount options: %v", opts)
	}
	if o, _ := groupOwner(groupOf["shop-site"]); o != "shop-site" {
		t.Errorf("shop's group is marked %q", o)
	}
	if o, _ := groupOwner(groupOf[""]); o != "blog/sso" {
		t.Errorf("blog's group is marked %q", o)
	}
	if out := run(0, "plan", "-f", shop); !strings.Contains(out, "role "+mount+"/blog-a  (owned by blog/sso)") ||
		!strings.Contains(out, "group "+groupOf[""]+" (alias") || !strings.Contains(out, "(owned by blog/sso)") || strings.Contains(out, "would delete") {
		t.Fatalf("shop's plan:\n%s", out)
	}
	write(shop, file("shop-site", "shop-a"))
	run(0, "apply", "--prune", "-f", shop)
	write(blog, file("", "blog-a", "shop-a"))
	if out := run(2, "plan", "-f", blog); !strings.Contains(out, "role "+mount+"/shop-a (owned by shop-site)") {
		t.Fatalf("blog declaring shop's role:\n%s", out)
	}
	write(blog, file(""))
	run(0, "apply", "--prune", "-f", blog)
	list, err := tb.Vault().Logical().List("auth/" + mount + "/role")
	if err != nil || list == nil {
		t.Fatalf("roles: %v %v", list, err)
	}
	if got := fmt.Sprint(list.Data["keys"]); got != "[shop-a]" {
		t.Errorf("roles left: %s, want shop-a only", got)
	}
	if _, ok := groupOwner(groupOf[""]); ok {
		t.Error("blog's --prune kept its group")
	}
	if _, ok := groupOwner(groupOf["shop-site"]); !ok {
		t.Error("blog's --prune deleted shop's group")
	}
}
