//go:build integration

package cmd

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssoctl/ssoctl/internal/httpclient"
	"github.com/ssoctl/ssoctl/testbed"
)

// Faults on the wire: a reverse proxy of this file's own stands between
// ssoctl and the real Keycloak and Vault and, for the requests its rules
// match, answers 503 or 401, resets the connection, forwards the request and
// then loses the answer, or never answers. What ssoctl must do: retry what is
// safe to retry, never create an object twice, log in again once for an
// expired token, fail within its timeout naming the server, and converge on
// the next run, after which a run writes nothing.

// faultKind is what the proxy does to a matched request.
type faultKind int

const (
	// status503 answers 503 without forwarding.
	status503 faultKind = iota + 1
	// status502 answers 502 without forwarding.
	status502
	// resetBefore resets the connection without forwarding.
	resetBefore
	// commitThenReset forwards the request (the server acts on it), then
	// resets the connection instead of answering.
	commitThenReset
	// commitThen502 forwards the request, then answers 502.
	commitThen502
	// unauthorized answers 401 without forwarding, as Keycloak does for an
	// expired admin token.
	unauthorized
	// hang accepts the request and never answers.
	hang
	// commitThenHang forwards the request, then never answers.
	commitThenHang
	// oversized answers 200 with a body past the client's cap.
	oversized
)

func (k faultKind) String() string {
	return [...]string{"", "503", "502", "reset", "commit+reset", "commit+502", "401", "hang", "commit+hang", "oversized"}[k]
}

// fault is one rule: the requests it matches, what it does to them, and
// how often.
type fault struct {
	method string         // "" matches any
	path   *regexp.Regexp // matched against the URL's path
	kind   faultKind
	skip   int // matching requests let through before the fault starts
	times  int // requests that get the fault; 0: every one from then on
	seen   int // matching requests so far
	hits   int // faults injected so far
}

func (f *fault) String() string {
	m := f.method
	if m == "" {
		m = "*"
	}
	return fmt.Sprintf("%s %s %s", m, f.path, f.kind)
}

// seenRequest is one request the proxy received.
type seenRequest struct {
	run    int
	at     time.Time
	method string
	uri    string
	body   [32]byte // digest, to tell a re-sent request from a new one
	fault  *fault   // nil when passed through
}

// faultProxy is a reverse proxy to one real server with fault rules.
type faultProxy struct {
	name  string
	srv   *httptest.Server
	rp    *httputil.ReverseProxy
	done  chan struct{}
	mu    sync.Mutex
	rules []*fault
	log   []seenRequest
	run   int
}

func newFaultProxy(t *testing.T, name, target string) *faultProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{name: name, done: make(chan struct{})}
	// The Host header is kept: Keycloak names itself (issuer, endpoints) by
	// the proxy's address, which is the one ssoctl and Vault are given.
	p.rp = &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(u)
		pr.Out.Host = pr.In.Host
	}, ErrorLog: log.New(io.Discard, "", 0)} // a client that gave up is expected
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(func() {
		close(p.done) // let hanging handlers return, or Close would wait for them
		p.srv.Close()
	})
	return p
}

// URL is the address ssoctl is given instead of the server's.
func (p *faultProxy) URL() string { return p.srv.URL }

// unfired lists the rules that fired fewer times than they say (a rule
// that no longer matches anything tests nothing).
func (p *faultProxy) unfired() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, f := range p.rules {
		if f.times > 0 && f.hits != f.times {
			out = append(out, fmt.Sprintf("%s rule %s fired %d times, want %d", p.name, f, f.hits, f.times))
		}
	}
	return out
}

// arm replaces the rules; nextRun starts a new run in the log.
func (p *faultProxy) arm(rules ...*fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = rules
}

func (p *faultProxy) nextRun() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.run++
}

func (p *faultProxy) pick(r *http.Request, body []byte) *fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	var chosen *fault
	for _, f := range p.rules {
		if (f.method != "" && f.method != r.Method) || !f.path.MatchString(r.URL.Path) {
			continue
		}
		f.seen++
		if chosen == nil && f.seen > f.skip && (f.times == 0 || f.hits < f.times) {
			f.hits++
			chosen = f
		}
	}
	p.log = append(p.log, seenRequest{run: p.run, at: time.Now(), method: r.Method, uri: r.URL.RequestURI(), body: sha256.Sum256(body), fault: chosen})
	return chosen
}

func (p *faultProxy) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f := p.pick(r, body)
	forward := func(w http.ResponseWriter) {
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		p.rp.ServeHTTP(w, r)
	}
	if f == nil {
		forward(w)
		return
	}
	switch f.kind {
	case status503, status502:
		code := map[faultKind]int{status503: 503, status502: 502}[f.kind]
		w.WriteHeader(code)
		fmt.Fprintf(w, "%s: injected %d\n", p.name, code)
	case unauthorized:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":"HTTP 401 Unauthorized"}`)
	case resetBefore:
		reset(w)
	case commitThenReset, commitThen502, commitThenHang:
		forward(httptest.NewRecorder())
		switch f.kind {
		case commitThenReset:
			reset(w)
		case commitThen502:
			w.WriteHeader(http.StatusBadGateway)
		default:
			p.wait(r)
		}
	case hang:
		p.wait(r)
	case oversized:
		w.Header().Set("Content-Type", "application/json")
		chunk := bytes.Repeat([]byte(" "), 1<<20)
		for range 17 {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}
}

// wait holds a request until the client gives up or the test ends.
func (p *faultProxy) wait(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-p.done:
	}
}

// reset closes the client's connection with a TCP RST.
func reset(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}

// faultStats says, for one run, how many faults were injected and how many
// of them were followed by the same request (method, URI and body) sent
// again within the retry window: the retries.
type faultStats struct {
	requests, faults, retried int
	// postResent counts POSTs re-sent after a fault other than a 401.
	postResent int
	byFault    map[string][2]int // rule -> injected, retried
}

func (p *faultProxy) stats(run int) faultStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := faultStats{byFault: map[string][2]int{}}
	for i, r := range p.log {
		if r.run != run {
			continue
		}
		st.requests++
		if r.fault == nil {
			continue
		}
		st.faults++
		c := st.byFault[r.fault.String()]
		c[0]++
		for _, n := range p.log[i+1:] {
			if n.run == run && n.method == r.method && n.uri == r.uri && n.body == r.body && n.at.Sub(r.at) < 6*time.Second {
				st.retried++
				c[1]++
				if r.method == http.MethodPost && r.fault.kind != unauthorized {
					st.postResent++
				}
				break
			}
		}
		st.byFault[r.fault.String()] = c
	}
	return st
}

func (s faultStats) String() string {
	keys := make([]string, 0, len(s.byFault))
	for k := range s.byFault {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "%d requests, %d faults injected, %d retried", s.requests, s.faults, s.retried)
	for _, k := range keys {
		fmt.Fprintf(&b, "\n    %-70s injected %d, retried %d", k, s.byFault[k][0], s.byFault[k][1])
	}
	return b.String()
}

// tokenRequests counts the proxied Keycloak logins (token endpoint) of a run.
func (p *faultProxy) tokenRequests(run int) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, r := range p.log {
		if r.run == run && strings.HasSuffix(r.uri, "/protocol/openid-connect/token") {
			n++
		}
	}
	return n
}

// faultSetup is examples/sso.yaml with every name made unique, provisioned
// through a proxy to Keycloak and one to Vault.
type faultSetup struct {
	tb              testbed.Env
	id, realm       string
	path            string
	env             map[string]string
	kc, vault       *faultProxy
	oidcMnt, jwtMnt string
	// timeout, when set, is the HTTP clients' timeout.
	timeout time.Duration
}

// uniqueDemo is examples/sso.yaml with a fresh realm, mounts, groups and
// policies named after id. The Vault mounts' discovery_url is the default,
// the realm at $KEYCLOAK_URL: the proxy, which Vault fetches it through too
// (no rule matches its requests).
func uniqueDemo(t *testing.T, tb testbed.Env, id string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "examples", "sso.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	realm := "faults-" + id
	text := strings.NewReplacer(
		"realm: demo\n", "realm: "+realm+"\n",
		"    reader: {template", "    reader-"+id+": {template",
		"    manager: {template", "    manager-"+id+": {template",
		"policies: [reader]", "policies: [reader-"+id+"]",
		"policies: [manager]", "policies: [manager-"+id+"]",
		"- path: oidc\n      type: oidc\n", "- path: oidc-"+id+"\n      type: oidc\n",
		"- path: jwt\n      type: jwt\n", "- path: jwt-"+id+"\n      type: jwt\n",
		"{name: manager, ", "{name: manager-"+id+"-oidc, ",
		"{name: manager-jwt, ", "{name: manager-"+id+"-jwt, ",
	).Replace(string(data))
	for _, want := range []string{"realm: " + realm, "path: oidc-" + id, "path: jwt-" + id, "manager-" + id + "-jwt", "policies: [reader-" + id + "]"} {
		if !strings.Contains(text, want) {
			t.Fatalf("examples/sso.yaml changed shape: %q missing after renaming", want)
		}
	}
	path := filepath.Join(t.TempDir(), "sso.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		tb.DeleteRealm(ctx, realm)
		v := tb.Vault()
		for _, m := range []string{"oidc-" + id, "jwt-" + id} {
			v.Sys().DisableAuthWithContext(ctx, m)
		}
		for _, g := range []string{"manager-" + id + "-oidc", "manager-" + id + "-jwt"} {
			v.Logical().DeleteWithContext(ctx, "identity/group/name/"+g)
		}
		for _, p := range []string{"reader-" + id, "manager-" + id} {
			v.Sys().DeletePolicyWithContext(ctx, p)
		}
	})
	return path
}

var faultSeq int

func newFaultSetup(t *testing.T) *faultSetup {
	t.Helper()
	tb := testbed.Load(t)
	faultSeq++
	id := fmt.Sprintf("%d%d", time.Now().UnixNano()%1e8, faultSeq)
	s := &faultSetup{tb: tb, id: id, realm: "faults-" + id, oidcMnt: "oidc-" + id, jwtMnt: "jwt-" + id}
	s.path = uniqueDemo(t, tb, id)
	s.kc = newFaultProxy(t, "keycloak-proxy", tb.KeycloakURL)
	s.vault = newFaultProxy(t, "vault-proxy", tb.VaultAddr)
	s.env = testEnv(tb)
	s.env["KEYCLOAK_URL"] = s.kc.URL()
	s.env["VAULT_ADDR"] = s.vault.URL()
	return s
}

// run runs ssoctl through the proxies as a new run of theirs, counting the
// requests; it returns the exit code, stdout and stderr.
func (s *faultSetup) run(t *testing.T, rc *requestCounter, args ...string) (int, string, string) {
	t.Helper()
	s.kc.nextRun()
	s.vault.nextRun()
	ios, _, out, errOut := TestIO()
	f := NewFactory(ios)
	f.Getenv = func(k string) string { return s.env[k] }
	f.HTTPClient = func(o httpclient.Options) (*http.Client, error) {
		if s.timeout > 0 {
			o.Timeout = s.timeout
		}
		hc, err := httpclient.New(o)
		if err != nil || rc == nil {
			return hc, err
		}
		hc.Transport = &countedTransport{base: hc.Transport, c: rc}
		return hc, nil
	}
	code := Run(f, args)
	return code, out.String(), errOut.String()
}

// apply runs apply -f and fails the test unless it exits want.
func (s *faultSetup) apply(t *testing.T, want int) (string, *requestCounter) {
	t.Helper()
	var rc requestCounter
	start := time.Now()
	code, stdout, stderr := s.run(t, &rc, "apply", "-f", s.path)
	t.Logf("apply: exit %d in %v, %d reads, %d writes, %d logins", code, time.Since(start).Round(time.Millisecond), rc.reads.Load(), rc.writes.Load(), rc.logins.Load())
	if code != want {
		t.Fatalf("apply: exit %d, want %d\n%s\n%s", code, want, stdout, stderr)
	}
	return stderr, &rc
}

// converged applies once more with the faults cleared, then once again:
// the first run may finish the work, the second must write nothing.
func (s *faultSetup) converged(t *testing.T) {
	t.Helper()
	s.kc.arm()
	s.vault.arm()
	s.apply(t, 0)
	if _, rc := s.apply(t, 0); rc.writes.Load() != 0 {
		t.Fatalf("the run after convergence wrote %d times", rc.writes.Load())
	}
}

// inventory lists, normalized (the run's id replaced by ID), every object
// the demo file makes: Keycloak clients, mappers, client and realm roles,
// groups with their role mappings, users with their groups; Vault mounts,
// roles, external groups with policies, and every alias on the mounts. An
// object made twice appears twice.
func (s *faultSetup) inventory(t *testing.T) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	add := func(format string, args ...any) {
		out = append(out, strings.ReplaceAll(fmt.Sprintf(format, args...), s.id, "ID"))
	}
	kc := func(path string, v any) {
		t.Helper()
		if err := s.tb.KeycloakAdminRequest(ctx, http.MethodGet, "/"+s.realm+path, nil, v); err != nil {
			t.Fatalf("inventory: %v", err)
		}
	}
	var clients []struct {
		ID, ClientID    string
		ProtocolMappers []struct{ Name, ProtocolMapper string }
	}
	kc("/clients", &clients)
	for _, c := range clients {
		add("client %s", c.ClientID)
		if c.ClientID != "vault" {
			continue
		}
		for _, m := range c.ProtocolMappers {
			add("mapper %s/%s (%s)", c.ClientID, m.Name, m.ProtocolMapper)
		}
		var roles []struct{ Name string }
		kc("/clients/"+c.ID+"/roles", &roles)
		for _, r := range roles {
			add("client-role %s/%s", c.ClientID, r.Name)
		}
	}
	var roles []struct{ Name string }
	kc("/roles", &roles)
	for _, r := range roles {
		add("realm-role %s", r.Name)
	}
	var groups []struct{ ID, Path string }
	kc("/groups", &groups)
	for _, g := range groups {
		var rm struct {
			RealmMappings  []struct{ Name string }
			ClientMappings map[string]struct{ Mappings []struct{ Name string } }
		}
		kc("/groups/"+g.ID+"/role-mappings", &rm)
		var names []string
		for _, r := range rm.RealmMappings {
			names = append(names, r.Name)
		}
		for c, m := range rm.ClientMappings {
			for _, r := range m.Mappings {
				names = append(names, c+"/"+r.Name)
			}
		}
		slices.Sort(names)
		add("group %s roles %v", g.Path, names)
	}
	var users []struct{ ID, Username string }
	kc("/users?max=1000", &users)
	for _, u := range users {
		var ug []struct{ Path string }
		kc("/users/"+u.ID+"/groups", &ug)
		var paths []string
		for _, g := range ug {
			paths = append(paths, g.Path)
		}
		add("user %s groups %v", u.Username, paths)
	}

	v := s.tb.Vault()
	mounts, err := v.Sys().ListAuthWithContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	accessors := map[string]string{}
	for _, m := range []string{s.oidcMnt, s.jwtMnt} {
		mt := mounts[m+"/"]
		if mt == nil {
			add("mount %s missing", m)
			continue
		}
		accessors[mt.Accessor] = m
		add("mount %s type %s roles-record %s", m, mt.Type, mt.Options["ssoctl.roles"])
		sec, err := v.Logical().ListWithContext(ctx, "auth/"+m+"/role")
		if err != nil {
			t.Fatal(err)
		}
		if sec != nil {
			for _, k := range sec.Data["keys"].([]any) {
				add("vault-role %s/%v", m, k)
			}
		}
	}
	for _, g := range []string{"manager-" + s.id + "-oidc", "manager-" + s.id + "-jwt"} {
		sec, err := v.Logical().ReadWithContext(ctx, "identity/group/name/"+g)
		if err != nil {
			t.Fatal(err)
		}
		if sec == nil {
			add("vault-group %s missing", g)
			continue
		}
		add("vault-group %s type %v policies %v", g, sec.Data["type"], sec.Data["policies"])
	}
	sec, err := v.Logical().ListWithContext(ctx, "identity/group-alias/id")
	if err != nil {
		t.Fatal(err)
	}
	if sec != nil {
		info, _ := sec.Data["key_info"].(map[string]any)
		for _, raw := range info {
			a, _ := raw.(map[string]any)
			m, ok := accessors[fmt.Sprint(a["mount_accessor"])]
			if !ok {
				continue
			}
			g, err := v.Logical().ReadWithContext(ctx, "identity/group/id/"+fmt.Sprint(a["canonical_id"]))
			if err != nil || g == nil {
				t.Fatalf("alias %v: its group: %v", a, err)
			}
			add("vault-alias %s/%v -> %v", m, a["name"], g.Data["name"])
		}
	}
	for _, p := range []string{"reader-" + s.id, "manager-" + s.id} {
		hcl, err := v.Sys().GetPolicyWithContext(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		add("policy %s %d bytes", p, len(hcl))
	}
	slices.Sort(out)
	return out
}

// referenceOnce is the inventory of the demo applied without faults, for
// the faulted runs to be compared with.
var (
	referenceOnce sync.Once
	reference     []string
)

func referenceInventory(t *testing.T) []string {
	t.Helper()
	referenceOnce.Do(func() {
		s := newFaultSetup(t)
		s.apply(t, 0)
		reference = s.inventory(t)
	})
	if reference == nil {
		t.Fatal("no reference inventory (its apply failed in an earlier test)")
	}
	return reference
}

// sameObjects compares the objects after the faults with a fault-free
// apply's, and rules out duplicates.
func (s *faultSetup) sameObjects(t *testing.T) {
	t.Helper()
	want := referenceInventory(t)
	got := s.inventory(t)
	if !slices.Equal(got, want) {
		t.Errorf("objects after the faults differ from a fault-free apply's:\n got: %s\nwant: %s", strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
	for i := 1; i < len(got); i++ {
		if got[i] == got[i-1] {
			t.Errorf("duplicate: %s", got[i])
		}
	}
	t.Logf("%d objects, as after a fault-free apply", len(got))
}

func rx(s string) *regexp.Regexp { return regexp.MustCompile(s) }

// A burst of 503s, resets and lost answers to idempotent requests: the run
// retries them (a PUT whose answer was lost is simply sent again) and
// completes. The first run creates everything (mostly writes), the second
// finds it all in place (only reads) and writes nothing despite its faults.
func TestIntegrationFaultsTransientBurst(t *testing.T) {
	s := newFaultSetup(t)
	realm := "^/admin/realms/" + s.realm
	// Run 1: a new realm.
	s.kc.arm(
		// Reading the realm: three 503s in a row, the most the client retries.
		&fault{method: "GET", path: rx(realm + "$"), kind: status503, times: 3},
		// The ownership record (PUT of the realm): a reset, an answer lost
		// after Keycloak stored it, then a 503.
		&fault{method: "PUT", path: rx(realm + "$"), kind: resetBefore, times: 1},
		&fault{method: "PUT", path: rx(realm + "$"), kind: commitThenReset, times: 1},
		&fault{method: "PUT", path: rx(realm + "$"), kind: status503, times: 1},
		// Vault's mount config needs the client's secret: its lookup is reset,
		// the secret's read answered 502.
		&fault{method: "GET", path: rx(realm + "/clients$"), kind: resetBefore, times: 2},
		&fault{method: "GET", path: rx(realm + "/clients/[^/]+/client-secret$"), kind: status502, times: 1},
	)
	s.vault.arm(
		&fault{method: "GET", path: rx("^/v1/sys/auth$"), kind: status503, times: 2},
		&fault{method: "PUT", path: rx("^/v1/sys/policies/acl/"), kind: commitThenReset, times: 2},
		&fault{method: "PUT", path: rx("^/v1/auth/[^/]+/role/"), kind: status502, times: 1},
		&fault{method: "PUT", path: rx("^/v1/auth/[^/]+/role/"), kind: commitThen502, times: 1},
		&fault{method: "PUT", path: rx("^/v1/auth/[^/]+/config$"), kind: commitThenReset, times: 1},
		&fault{method: "PUT", path: rx("^/v1/identity/group/name/"), kind: resetBefore, times: 2},
		&fault{method: "GET", path: rx("^/v1/identity/group/name/"), kind: status503, times: 1},
	)
	s.apply(t, 0)
	s.checkAllRetried(t, "run 1")

	// Run 2: everything exists; the reads meet the faults.
	s.kc.arm(
		&fault{method: "GET", path: rx(realm + "$"), kind: resetBefore, times: 1},
		&fault{method: "GET", path: rx(realm + "/users$"), kind: resetBefore, times: 1},
		// The realm's partial export (a POST that only reads) and the role
		// picker the client roles come from are retried like any read.
		&fault{method: "POST", path: rx(realm + "/partial-export$"), kind: status503, times: 2},
		&fault{method: "GET", path: rx(realm + "/ui-ext/available-roles/roles/"), kind: status502, times: 1},
		&fault{method: "GET", path: rx(realm + "/users/[^/]+/groups$"), kind: commitThenReset, times: 1},
	)
	s.vault.arm(
		&fault{method: "GET", path: rx("^/v1/sys/auth$"), kind: resetBefore, times: 1},
		&fault{method: "GET", path: rx("^/v1/auth/[^/]+/config$"), kind: status503, times: 1},
		&fault{method: "GET", path: rx("^/v1/auth/[^/]+/role$"), kind: resetBefore, times: 1},
		&fault{method: "GET", path: rx("^/v1/identity/group/name/"), kind: commitThenReset, times: 1},
		&fault{method: "GET", path: rx("^/v1/identity/group-alias/id$"), kind: status503, times: 2},
	)
	if _, rc := s.apply(t, 0); rc.writes.Load() != 0 {
		t.Errorf("run 2 wrote %d times: the faults made it see a difference", rc.writes.Load())
	}
	s.checkAllRetried(t, "run 2")
	s.converged(t)
	s.sameObjects(t)
}

// checkAllRetried checks that every rule fired as often as it says, and
// that each fault was followed by the same request sent again.
func (s *faultSetup) checkAllRetried(t *testing.T, label string) {
	t.Helper()
	for _, p := range []*faultProxy{s.kc, s.vault} {
		st := p.stats(p.run)
		t.Logf("%s, %s: %s", label, p.name, st)
		for _, u := range p.unfired() {
			t.Errorf("%s: %s", label, u)
		}
		if st.retried != st.faults {
			t.Errorf("%s: %s: %d faults, %d retried: every one is idempotent and must be retried", label, p.name, st.faults, st.retried)
		}
	}
}

// Creates that the server committed but whose answer was lost (a reset or a
// 502 after forwarding), one per kind of object: a POST is not sent again by
// the client (it might make a second object); the run fails, and the next
// one finds the object and adopts it. Vault's writes are PUTs, so the client
// does send them again: an upsert is harmless, and a group alias, which Vault
// refuses to create twice, is adopted.
func TestIntegrationFaultsCommittedCreates(t *testing.T) {
	s := newFaultSetup(t)
	realm := "^/admin/realms/" + s.realm
	kinds := []faultKind{commitThenReset, commitThen502}
	var kcRules, vaultRules []*fault
	for i, p := range []string{
		"^/admin/realms$", // the realm
		realm + "/roles$", // realm role auditor
		realm + "/clients$",
		realm + "/clients/[^/]+/roles$",
		realm + "/clients/[^/]+/protocol-mappers/models$",
		realm + "/groups$",
		realm + "/groups/[^/]+/role-mappings/",
		realm + "/users$",
	} {
		kcRules = append(kcRules, &fault{method: "POST", path: rx(p), kind: kinds[i%2], times: 1})
	}
	for i, w := range []struct{ method, path string }{
		{"POST", "^/v1/sys/auth/oidc-"},        // enabling a mount
		{"PUT", "^/v1/auth/jwt-[^/]+/config$"}, // its config
		{"PUT", "^/v1/auth/oidc-[^/]+/role/"},  // a role
		{"PUT", "^/v1/identity/group/name/"},   // an external group
		{"PUT", "^/v1/identity/group-alias$"},  // an alias: not idempotent on create
	} {
		vaultRules = append(vaultRules, &fault{method: w.method, path: rx(w.path), kind: kinds[i%2], times: 1})
	}
	// The second alias too, with the other kind of lost answer.
	vaultRules = append(vaultRules, &fault{method: "PUT", path: rx("^/v1/identity/group-alias$"), kind: commitThen502, skip: 1, times: 1})
	s.kc.arm(kcRules...)
	s.vault.arm(vaultRules...)

	var failed int
	for run := 1; ; run++ {
		code, _, stderr := s.run(t, nil, "apply", "-f", s.path)
		for _, p := range []*faultProxy{s.kc, s.vault} {
			if st := p.stats(p.run); st.faults > 0 {
				t.Logf("run %d, exit %d, %s: %s", run, code, p.name, st)
				if st.postResent != 0 {
					t.Errorf("run %d: %d POSTs were sent again after their answer was lost", run, st.postResent)
				}
			}
		}
		if code == 0 {
			break
		}
		failed++
		if line := firstFailure(stderr); line != "" {
			t.Logf("run %d: %s", run, line)
		}
		if code != ExitFailure || run > len(kcRules)+len(vaultRules)+2 {
			t.Fatalf("run %d: exit %d\n%s", run, code, stderr)
		}
	}
	for _, p := range []*faultProxy{s.kc, s.vault} {
		for _, u := range p.unfired() {
			t.Error(u)
		}
	}
	t.Logf("%d runs failed on a lost answer before one completed", failed)
	s.converged(t)
	s.sameObjects(t)
}

// firstFailure is the first ✗ line of an apply's stderr, or its last line.
func firstFailure(stderr string) string {
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	for _, l := range lines {
		if strings.HasPrefix(l, "✗") {
			return l
		}
	}
	return lines[len(lines)-1]
}

// An admin token that Keycloak stops accepting in the middle of a run (a
// 401, as for an expired token) costs one new login; the refused request, a
// create, is sent once more and the run completes.
func TestIntegrationFaultsExpiredAdminToken(t *testing.T) {
	s := newFaultSetup(t)
	realm := "^/admin/realms/" + s.realm
	s.kc.arm(&fault{method: "POST", path: rx(realm + "/users$"), kind: unauthorized, times: 1})
	s.apply(t, 0)
	st := s.kc.stats(s.kc.run)
	logins := s.kc.tokenRequests(s.kc.run)
	t.Logf("keycloak-proxy: %s; %d token requests", st, logins)
	if st.faults != 1 || st.retried != 1 {
		t.Errorf("the 401'd create: %d faults, %d sent again; want 1 and 1", st.faults, st.retried)
	}
	if logins != 2 {
		t.Errorf("%d token requests, want 2: the first login and one after the 401", logins)
	}
	// A token refused for good is the answer, after one more login: no loop.
	s.kc.arm(&fault{path: rx("^/admin/realms/"), kind: unauthorized})
	code, _, stderr := s.run(t, nil, "plan", "-f", s.path)
	if logins := s.kc.tokenRequests(s.kc.run); code != ExitFailure || !strings.Contains(stderr, "401") || logins != 2 {
		t.Errorf("a token always refused: exit %d after %d token requests\n%s", code, logins, stderr)
	}
	s.converged(t)
	s.sameObjects(t)
}

// A server that accepts requests and never answers: the command fails
// within the HTTP client's timeout (5 s here, 30 s by default), naming the
// server's URL, and the run after the fault converges. The realm is made
// first without faults (creating a realm can take seconds on a busy
// Keycloak); then one object in each system is deleted by hand, so that
// the faulted runs have one write to make, and it hangs.
func TestIntegrationFaultsServerHangs(t *testing.T) {
	s := newFaultSetup(t)
	ctx := context.Background()
	s.apply(t, 0)
	const timeout = 5 * time.Second
	s.timeout = timeout

	// Keycloak stops answering: the group's create is held, never forwarded.
	var groups []struct{ ID, Name string }
	if err := s.tb.KeycloakAdminRequest(ctx, http.MethodGet, "/"+s.realm+"/groups?search=kv-readers&exact=true", nil, &groups); err != nil || len(groups) != 1 {
		t.Fatalf("group kv-readers: %v %v", groups, err)
	}
	if err := s.tb.KeycloakAdminRequest(ctx, http.MethodDelete, "/"+s.realm+"/groups/"+groups[0].ID, nil, nil); err != nil {
		t.Fatal(err)
	}
	s.kc.arm(&fault{method: "POST", path: rx("^/admin/realms/" + s.realm + "/groups$"), kind: hang})
	s.hangs(t, "create group "+s.realm+"/kv-readers", "cannot reach Keycloak at "+s.kc.URL(), timeout)

	// Vault takes a write, then never answers.
	s.kc.arm()
	s.timeout = 0
	s.apply(t, 0)
	s.timeout = timeout
	if _, err := s.tb.Vault().Logical().DeleteWithContext(ctx, "identity/group/name/manager-"+s.id+"-jwt"); err != nil {
		t.Fatal(err)
	}
	s.vault.arm(&fault{method: "PUT", path: rx("^/v1/identity/group/name/"), kind: commitThenHang})
	s.hangs(t, "create group manager-"+s.id+"-jwt", "cannot reach Vault at "+s.vault.URL(), timeout)

	s.timeout = 0
	s.converged(t)
	s.sameObjects(t)
}

// hangs applies and expects the run to fail on the change named change,
// with an error naming the server and the timeout, soon after timeout.
func (s *faultSetup) hangs(t *testing.T, change, server string, timeout time.Duration) {
	t.Helper()
	start := time.Now()
	stderr, _ := s.apply(t, ExitFailure)
	took := time.Since(start)
	t.Logf("failed after %v: %s", took.Round(time.Millisecond), firstFailure(stderr))
	// The server is named with what the call was for: the realm and the
	// credentials' source, or the token's.
	if !regexp.MustCompile(regexp.QuoteMeta("✗ "+change+": "+server) + ` \([^)]*\): timed out`).MatchString(stderr) {
		t.Errorf("the error should name the change, the server and the timeout:\n%s", stderr)
	}
	// Generous, for a busy testbed: without the timeout the run would wait
	// for as long as the server holds the request.
	if took > 3*timeout {
		t.Errorf("the run took %v with a %v timeout", took, timeout)
	}
}

// An answer past the 16 MiB cap (Vault's api client reads bodies itself, so
// only the transport's cap guards it) is bad input naming the URL and the
// limit.
func TestIntegrationFaultsOversizedAnswer(t *testing.T) {
	s := newFaultSetup(t)
	s.vault.arm(&fault{method: "GET", path: rx("^/v1/sys/auth$"), kind: oversized})
	file := filepath.Join(t.TempDir(), "vault.yaml")
	os.WriteFile(file, []byte("vault:\n  policies:\n    reader-"+s.id+": {template: vault/reader.hcl}\n"), 0o600)
	code, _, stderr := s.run(t, nil, "plan", "-f", file)
	if code != ExitUsage || !strings.Contains(stderr, s.vault.URL()+"/v1/sys/auth") || !strings.Contains(stderr, "16777216 bytes (16 MiB)") {
		t.Errorf("oversized Vault answer: exit %d\n%s", code, stderr)
	}
	t.Logf("exit %d: %s", code, strings.TrimSpace(stderr))
}
