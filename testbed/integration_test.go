//go:build integration

package testbed

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/Nerzal/gocloak/v13"
	vaultapi "github.com/hashicorp/vault/api"
)

// The testbed's Keycloak is real: an admin login through the admin-cli client
// works and the master realm can be read back.
func TestIntegrationKeycloakAdminReadsMasterRealm(t *testing.T) {
	env := Load(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	kc := gocloak.NewClient(env.KeycloakURL)
	tok, err := kc.LoginAdmin(ctx, env.KeycloakAdmin, env.KeycloakAdminPassword, "master")
	if err != nil {
		t.Fatalf("admin login to %s: %v", env.KeycloakURL, err)
	}
	realm, err := kc.GetRealm(ctx, tok.AccessToken, "master")
	if err != nil {
		t.Fatalf("reading master realm: %v", err)
	}
	if realm.Realm == nil || *realm.Realm != "master" || realm.Enabled == nil || !*realm.Enabled {
		t.Fatalf("master realm = %+v", realm)
	}
	info, err := kc.GetServerInfo(ctx, tok.AccessToken)
	if err != nil {
		t.Fatalf("server info: %v", err)
	}
	if info.SystemInfo == nil || info.SystemInfo.Version == nil || (*info.SystemInfo.Version)[:3] != "26." {
		t.Fatalf("want a Keycloak 26.x, server info says %+v", info.SystemInfo)
	}
	if _, err := kc.LoginAdmin(ctx, env.KeycloakAdmin, "wrong-password", "master"); err == nil {
		t.Fatal("a wrong admin password was accepted")
	}
}

// The testbed's Vault is real: a KV v2 write can be read back, and a bad
// token is refused.
func TestIntegrationVaultKVWriteRead(t *testing.T) {
	env := Load(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := vaultapi.DefaultConfig()
	cfg.Address = env.VaultAddr
	c, err := vaultapi.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(env.VaultToken)
	key := fmt.Sprintf("testbed-%d", time.Now().UnixNano())
	want := map[string]any{"password": "s3cret", "n": "42"}
	if _, err := c.KVv2("secret").Put(ctx, key, want); err != nil {
		t.Fatalf("kv put: %v", err)
	}
	got, err := c.KVv2("secret").Get(ctx, key)
	if err != nil {
		t.Fatalf("kv get: %v", err)
	}
	if got.Data["password"] != "s3cret" || got.Data["n"] != "42" {
		t.Fatalf("kv get = %v, want %v", got.Data, want)
	}
	if err := c.KVv2("secret").DeleteMetadata(ctx, key); err != nil {
		t.Fatalf("kv delete: %v", err)
	}

	bad, _ := vaultapi.NewClient(cfg)
	bad.SetToken("not-a-token")
	if _, err := bad.KVv2("secret").Get(ctx, key); err == nil {
		t.Fatal("Vault accepted a bogus token")
	}
}
