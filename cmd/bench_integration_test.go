//go:build integration

package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ssoctl/ssoctl/testbed"
)

func benchApply(b *testing.B, env map[string]string, path string, rc *requestCounter) {
	if code, out := runApply(context.Background(), env, path, rc); code != 0 {
		b.Fatalf("apply: exit %d\n%s", code, out)
	}
}

// keycloakWorkload is the issue-3 benchmark: 50 clients x 4 mappers and 2
// roles, 20 groups each bound to a client role.
func keycloakWorkload(realm string) string {
	var s strings.Builder
	fmt.Fprintf(&s, "keycloak:\n  realm: %s\n  create_realm: true\n  clients:\n", realm)
	for i := 1; i <= 50; i++ {
		fmt.Fprintf(&s, "    - client_id: app-%02d\n      redirect_uris: [https://app-%02d.example.com/callback]\n      roles: [reader, writer]\n      mappers:\n", i, i)
		fmt.Fprintf(&s, "        - audience: app-%02d\n        - client_roles: {claim: roles}\n        - groups: {claim: groups}\n        - attribute: {user_attribute: department, claim: department}\n", i)
	}
	s.WriteString("  groups:\n")
	for i := 1; i <= 20; i++ {
		fmt.Fprintf(&s, "    - {name: team-%02d, client_roles: {app-%02d: [reader]}}\n", i, i)
	}
	return s.String()
}

func BenchmarkIntegrationKeycloak(b *testing.B) {
	tb := testbed.Load(b)
	env := testEnv(tb)
	dir := b.TempDir()
	b.Run("first-apply", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			realm := fmt.Sprintf("bench-first-%d", time.Now().UnixNano())
			p := filepath.Join(dir, realm+".yaml")
			os.WriteFile(p, []byte(keycloakWorkload(realm)), 0o600)
			rc := &requestCounter{}
			b.StartTimer()
			benchApply(b, env, p, rc)
			b.StopTimer()
			b.ReportMetric(float64(rc.reads.Load()), "reads/op")
			b.ReportMetric(float64(rc.writes.Load()), "writes/op")
			tb.DeleteRealm(context.Background(), realm)
			b.StartTimer()
		}
	})
	realm := fmt.Sprintf("bench-noop-%d", time.Now().UnixNano())
	p := filepath.Join(dir, "noop.yaml")
	os.WriteFile(p, []byte(keycloakWorkload(realm)), 0o600)
	benchApply(b, env, p, nil)
	defer tb.DeleteRealm(context.Background(), realm)
	b.Run("noop-reapply", func(b *testing.B) {
		var rc requestCounter
		for i := 0; i < b.N; i++ {
			benchApply(b, env, p, &rc)
		}
		if rc.writes.Load() != 0 {
			b.Fatalf("no-op re-apply wrote %d times", rc.writes.Load())
		}
		b.ReportMetric(float64(rc.reads.Load())/float64(b.N), "reads/op")
		b.ReportMetric(float64(rc.writes.Load())/float64(b.N), "writes/op")
		b.ReportMetric(float64(objects(b, env, p)), "objects")
	})
}

// objects counts what a plan of path manages: every change but the realm
// itself and ssoctl's ownership record.
func objects(b *testing.B, env map[string]string, path string) int {
	ios, _, out, errOut := TestIO()
	f := NewFactory(ios)
	f.Getenv = func(k string) string { return env[k] }
	if code := Run(f, []string{"plan", "-f", path, "-o", "json"}); code != 0 {
		b.Fatalf("plan: exit %d: %s", code, errOut.String())
	}
	var doc struct {
		Changes []struct{ Kind string } `json:"changes"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		b.Fatal(err)
	}
	n := 0
	for _, c := range doc.Changes {
		if c.Kind != "realm" && c.Kind != "ownership-record" {
			n++
		}
	}
	return n
}

// vaultWorkload: one jwt mount with 20 roles and 20 external groups with
// aliases, plus 2 policies.
func vaultWorkload(mount, kcURL string) string {
	var s strings.Builder
	fmt.Fprintf(&s, "vault:\n  policies:\n    bench-reader: {template: vault/reader.hcl}\n    bench-manager: {template: vault/manager.hcl}\n  auth:\n")
	fmt.Fprintf(&s, "    - path: %s\n      type: jwt\n      discovery_url: %s/realms/master\n      roles:\n", mount, kcURL)
	for i := 1; i <= 20; i++ {
		fmt.Fprintf(&s, "        r%02d: {groups_claim: /resource_access/app-%02d/roles, bound_audiences: [app-%02d], policies: [bench-reader], token_ttl: 1h}\n", i, i, i)
	}
	s.WriteString("      groups:\n")
	for i := 1; i <= 20; i++ {
		fmt.Fprintf(&s, "        - {name: %s-g%02d, policies: [bench-manager], alias: team-%02d}\n", mount, i, i)
	}
	return s.String()
}

func BenchmarkIntegrationVaultNoop(b *testing.B) {
	tb := testbed.Load(b)
	env := testEnv(tb)
	mount := fmt.Sprintf("bench-%d", time.Now().UnixNano()%1e9)
	p := filepath.Join(b.TempDir(), "vault.yaml")
	os.WriteFile(p, []byte(vaultWorkload(mount, tb.KeycloakURL)), 0o600)
	benchApply(b, env, p, nil)
	defer func() {
		tb.Vault().Sys().DisableAuth(mount)
		for i := 1; i <= 20; i++ {
			tb.Vault().Logical().Delete(fmt.Sprintf("identity/group/name/%s-g%02d", mount, i))
		}
	}()
	b.ResetTimer()
	var rc requestCounter
	for i := 0; i < b.N; i++ {
		benchApply(b, env, p, &rc)
	}
	if rc.writes.Load() != 0 {
		b.Fatalf("no-op re-apply wrote %d times", rc.writes.Load())
	}
	b.ReportMetric(float64(rc.reads.Load())/float64(b.N), "reads/op")
	b.ReportMetric(float64(rc.writes.Load())/float64(b.N), "writes/op")
}

// scopesWorkload: 20 client scopes with a mapper each, all of them default
// scopes of each of n clients, the realm's default lists managed too.
func scopesWorkload(realm string, n int) string {
	var s strings.Builder
	fmt.Fprintf(&s, "keycloak:\n  realm: %s\n  create_realm: true\n  client_scopes:\n", realm)
	var names []string
	for i := 1; i <= 20; i++ {
		fmt.Fprintf(&s, "    - name: scope-%02d\n      mappers:\n        - attribute: {user_attribute: attr%02d, claim: attr%02d}\n", i, i, i)
		names = append(names, fmt.Sprintf("scope-%02d", i))
	}
	s.WriteString("  default_client_scopes: [profile, email, roles, web-origins, acr, basic]\n  optional_client_scopes: [offline_access, microprofile-jwt]\n  clients:\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&s, "    - client_id: app-%02d\n      default_scopes: [profile, basic, %s]\n      optional_scopes: [offline_access]\n", i, strings.Join(names, ", "))
	}
	return s.String()
}

// BenchmarkIntegrationClientScopesNoop measures a no-op apply (a plan and no
// writes) of 20 scopes assigned to 10, 25 and 50 clients: its requests, and
// how they grow with the clients.
func BenchmarkIntegrationClientScopesNoop(b *testing.B) {
	tb := testbed.Load(b)
	env := testEnv(tb)
	dir := b.TempDir()
	for _, n := range []int{10, 25, 50} {
		realm := fmt.Sprintf("bench-scopes-%d-%d", n, time.Now().UnixNano())
		p := filepath.Join(dir, realm+".yaml")
		os.WriteFile(p, []byte(scopesWorkload(realm, n)), 0o600)
		benchApply(b, env, p, nil)
		b.Run(fmt.Sprintf("clients-%d", n), func(b *testing.B) {
			var rc requestCounter
			for i := 0; i < b.N; i++ {
				benchApply(b, env, p, &rc)
			}
			if rc.writes.Load() != 0 {
				b.Fatalf("no-op re-apply wrote %d times", rc.writes.Load())
			}
			b.ReportMetric(float64(rc.reads.Load())/float64(b.N), "reads/op")
		})
		tb.DeleteRealm(context.Background(), realm)
	}
}

// measured is one run of a command on the large realm: its requests, its
// wall time and the peak of the process's heap while it ran.
type measured struct {
	rc       requestCounter
	elapsed  time.Duration
	peakHeap uint64
}

// measure runs ssoctl with args once, counting its requests and sampling
// the heap every 5 ms (the peak is the largest HeapInuse seen; the test
// binary's own heap is part of it).
func measure(b *testing.B, env map[string]string, args ...string) *measured {
	b.Helper()
	m := &measured{}
	runtime.GC()
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			m.peakHeap = max(m.peakHeap, ms.HeapInuse)
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	start := time.Now()
	code, out := runCounted(context.Background(), env, &m.rc, args...)
	m.elapsed = time.Since(start)
	close(done)
	<-sampled
	if code != 0 {
		if len(out) > 4000 {
			out = out[len(out)-4000:]
		}
		b.Fatalf("ssoctl %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	return m
}

// report sets the benchmark's figures from one measured run.
func (m *measured) report(b *testing.B) {
	b.ReportMetric(float64(m.elapsed.Nanoseconds()), "ns/op")
	b.ReportMetric(float64(m.rc.reads.Load()), "reads/op")
	b.ReportMetric(float64(m.rc.writes.Load()), "writes/op")
	b.ReportMetric(float64(m.rc.logins.Load()), "logins/op")
	b.ReportMetric(float64(m.peakHeap)/(1<<20), "peak-heap-MB")
}

// BenchmarkIntegrationKeycloakLarge is issue 16's large realm
// (bench/gen-keycloak.sh REALM DIR large): 2,000 clients with 4 mappers and
// 2 roles each, 500 groups (50 of them nested) with their bindings, 10 realm
// roles, and 1,000 users of the realm's own in those groups. It measures the
// first apply (once: a new realm takes minutes), a no-op plan, and an apply
// that changes one field of one client. Each figure is of one run, not an
// average: ns/op is that run's wall time.
func BenchmarkIntegrationKeycloakLarge(b *testing.B) {
	tb := testbed.Load(b)
	env := testEnv(tb)
	dir := b.TempDir()
	realm := fmt.Sprintf("bench-large-%d", time.Now().UnixNano())
	if out, err := exec.Command("bash", "../bench/gen-keycloak.sh", realm, dir, "large").CombinedOutput(); err != nil {
		b.Fatalf("gen-keycloak.sh: %v\n%s", err, out)
	}
	path := filepath.Join(dir, "sso.yaml")
	defer tb.DeleteRealm(context.Background(), realm)
	var first *measured
	b.Run("first-apply", func(b *testing.B) {
		if first == nil {
			first = measure(b, env, "apply", "-f", path)
			users, err := os.ReadFile(filepath.Join(dir, "users.json"))
			if err != nil {
				b.Fatal(err)
			}
			if err := tb.KeycloakAdminRequest(context.Background(), "POST", "/"+realm+"/partialImport", json.RawMessage(users), nil); err != nil {
				b.Fatalf("importing the realm's users: %v", err)
			}
		}
		first.report(b)
	})
	b.Run("noop-plan", func(b *testing.B) {
		var m *measured
		for i := 0; i < b.N; i++ {
			m = measure(b, env, "plan", "-f", path, "--detailed-exitcode")
			b.Logf("no-op plan: %v, %d reads, %d logins", m.elapsed.Round(time.Millisecond), m.rc.reads.Load(), m.rc.logins.Load())
		}
		if n := m.rc.writes.Load(); n != 0 {
			b.Fatalf("a plan wrote %d times", n)
		}
		m.report(b)
	})
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	runs := 0
	b.Run("one-field-change", func(b *testing.B) {
		var m *measured
		for i := 0; i < b.N; i++ {
			// Alternate app-0001's redirect URI, so each run changes one field.
			runs++
			uri := "https://app-0001.example.com/callback"
			changed := strings.Replace(string(data), "redirect_uris: ["+uri+"]", "redirect_uris: ["+uri+"-"+strconv.Itoa(runs%2)+"]", 1)
			if err := os.WriteFile(path, []byte(changed), 0o600); err != nil {
				b.Fatal(err)
			}
			m = measure(b, env, "apply", "-f", path)
			b.Logf("one-field change: %v, %d reads, %d writes", m.elapsed.Round(time.Millisecond), m.rc.reads.Load(), m.rc.writes.Load())
		}
		if n := m.rc.writes.Load(); n != 1 {
			b.Errorf("changing one field wrote %d times, want 1", n)
		}
		m.report(b)
	})
}
