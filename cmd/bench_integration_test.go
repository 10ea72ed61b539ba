//go:build integration

package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
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
