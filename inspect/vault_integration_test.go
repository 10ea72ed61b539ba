//go:build integration

package inspect

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/spec"
	"github.com/ssoctl/ssoctl/testbed"
)

// modelCase is one token and one role, run through both the real Vault
// login and ssoctl's model of it.
type modelCase struct {
	name  string
	mount string // "static" (jwt_validation_pubkeys) or "keycloak" (discovery)
	role  map[string]any
	jwt   string
}

const staticIssuer = "https://issuer.ssoctl.test"

// TestIntegrationVaultModelAgreesWithVault logs in to the real Vault with
// every case and checks that ssoctl's verdict (accept or reject) and its
// message are exactly Vault's.
func TestIntegrationVaultModelAgreesWithVault(t *testing.T) {
	tb := testbed.Load(t)
	ctx := context.Background()
	keys := testKeys(t)
	id := fmt.Sprintf("%d", time.Now().UnixNano()%1e9)

	cfg := vaultapi.DefaultConfig()
	cfg.Address = tb.VaultAddr
	vc, err := vaultapi.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	vc.SetToken(tb.VaultToken)

	// A realm with real users for Keycloak-issued tokens.
	realm := "model-" + id
	admin := keycloak.NewAdmin(tb.KeycloakURL, http.DefaultClient, keycloak.Credentials{Username: tb.KeycloakAdmin, Password: tb.KeycloakAdminPassword})
	yes := true
	k := &spec.Keycloak{Realm: realm, CreateRealm: true,
		Clients: []spec.Client{{ClientID: "vault", Protocol: spec.ProtocolOIDC, Access: spec.AccessConfidential, DirectAccessGrants: &yes,
			Roles:   []string{"secret_reader", "secret_manager"},
			Mappers: []spec.Mapper{{Audience: &spec.AudienceMapper{Client: "vault"}}, {ClientRoles: &spec.ClientRolesMapper{}}, {Groups: &spec.GroupsMapper{}}}}},
		Groups: []spec.Group{{Name: "kv-managers", ClientRoles: map[string][]string{"vault": {"secret_manager"}}}},
		Users:  []spec.User{{Username: "alice", PasswordEnv: "P", Groups: []string{"kv-managers"}}, {Username: "dave", PasswordEnv: "P"}},
	}
	out, err := admin.Plan(ctx, k, keycloak.PlanOptions{Getenv: func(string) string { return "model-Pw-1" }, ForApply: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := out.Plan.Execute(ctx, 8, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tb.DeleteRealm(context.Background(), realm) })
	secret, err := admin.ClientSecret(ctx, realm, "vault")
	if err != nil {
		t.Fatal(err)
	}
	kcTok := func(user string) *keycloak.TokenResponse {
		tok, err := keycloak.RequestToken(ctx, http.DefaultClient, tb.KeycloakURL, keycloak.TokenRequest{Realm: realm, ClientID: "vault", ClientSecret: secret, Username: user, Password: "model-Pw-1"})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}

	// Two jwt mounts: static keys with a bound issuer, and discovery on the realm.
	pubDER, _ := x509.MarshalPKIXPublicKey(&keys.rsaA.PublicKey)
	pubPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}))
	mounts := map[string]string{"static": "model-static-" + id, "keycloak": "model-kc-" + id}
	for kind, path := range mounts {
		if err := vc.Sys().EnableAuthWithOptions(path, &vaultapi.EnableAuthOptions{Type: "jwt"}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { vc.Sys().DisableAuth(path) })
		conf := map[string]any{"jwt_validation_pubkeys": []string{pubPEM}, "bound_issuer": staticIssuer}
		if kind == "keycloak" {
			conf = map[string]any{"oidc_discovery_url": tb.KeycloakURL + "/realms/" + realm, "bound_issuer": tb.KeycloakURL + "/realms/" + realm}
		}
		if _, err := vc.Logical().Write("auth/"+path+"/config", conf); err != nil {
			t.Fatalf("config %s: %v", path, err)
		}
	}

	now := time.Now()
	base := func(extra map[string]any) map[string]any {
		c := map[string]any{"iss": staticIssuer, "sub": "user-1", "aud": []string{"vault"}, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
			"groups": []string{"kv-managers"}, "email": "u@example.com", "dept": "ops", "resource_access": map[string]any{"vault": map[string]any{"roles": []string{"secret_manager"}}}}
		for k, v := range extra {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	sign := func(extra map[string]any) string { return signJWT(t, "RS256", keys.rsaA, nil, base(extra)) }
	role := func(extra map[string]any) map[string]any {
		r := map[string]any{"role_type": "jwt", "user_claim": "sub", "bound_audiences": []string{"vault"}, "groups_claim": "groups", "token_policies": []string{"default"}}
		for k, v := range extra {
			if v == nil {
				delete(r, k)
			} else {
				r[k] = v
			}
		}
		return r
	}
	tampered := func(jwt string) string {
		parts := strings.Split(jwt, ".")
		other := strings.Split(sign(map[string]any{"sub": "admin"}), ".")
		return parts[0] + "." + other[1] + "." + parts[2]
	}
	alice := kcTok("alice")
	dave := kcTok("dave")

	cases := []modelCase{
		{"valid", "static", role(nil), sign(nil)},
		{"valid, aud array with one match", "static", role(nil), sign(map[string]any{"aud": []string{"other", "vault"}})},
		{"valid, string aud", "static", role(nil), sign(map[string]any{"aud": "vault"})},
		{"wrong audience", "static", role(nil), sign(map[string]any{"aud": []string{"account"}})},
		{"no bound audiences, aud present", "static", role(map[string]any{"bound_audiences": nil, "bound_subject": "user-1"}), sign(nil)},
		{"no bound audiences, string aud", "static", role(map[string]any{"bound_audiences": nil, "bound_subject": "user-1"}), sign(map[string]any{"aud": "x"})},
		{"no bound audiences, no aud", "static", role(map[string]any{"bound_audiences": nil, "bound_subject": "user-1"}), sign(map[string]any{"aud": nil})},
		{"expired", "static", role(nil), sign(map[string]any{"exp": now.Add(-10 * time.Minute).Unix(), "iat": now.Add(-20 * time.Minute).Unix()})},
		{"expired within the leeway", "static", role(nil), sign(map[string]any{"exp": now.Add(-20 * time.Second).Unix()})},
		{"expired, leeway raised", "static", role(map[string]any{"clock_skew_leeway": 900}), sign(map[string]any{"exp": now.Add(-10 * time.Minute).Unix(), "iat": now.Add(-20 * time.Minute).Unix()})},
		{"not yet valid", "static", role(nil), sign(map[string]any{"nbf": now.Add(10 * time.Minute).Unix()})},
		{"issued in the future", "static", role(nil), sign(map[string]any{"iat": now.Add(10 * time.Minute).Unix()})},
		{"no iat, nbf or exp", "static", role(nil), sign(map[string]any{"iat": nil, "exp": nil})},
		{"wrong issuer", "static", role(nil), sign(map[string]any{"iss": "https://evil.test"})},
		{"issuer with a trailing slash", "static", role(nil), sign(map[string]any{"iss": staticIssuer + "/"})},
		{"bound_subject mismatch", "static", role(map[string]any{"bound_subject": "someone-else"}), sign(nil)},
		{"missing user claim", "static", role(map[string]any{"user_claim": "preferred_username"}), sign(nil)},
		{"user claim pointer", "static", role(map[string]any{"user_claim": "/resource_access/vault/roles/0", "user_claim_json_pointer": true}), sign(nil)},
		{"user claim not a string", "static", role(map[string]any{"user_claim": "groups"}), sign(nil)},
		{"groups missing", "static", role(nil), sign(map[string]any{"groups": nil})},
		{"groups not a list", "static", role(nil), sign(map[string]any{"groups": map[string]any{"a": 1}})},
		{"groups a single string", "static", role(nil), sign(map[string]any{"groups": "kv-managers"})},
		{"group element not a string", "static", role(nil), sign(map[string]any{"groups": []any{"a", 5}})},
		{"non-pointer groups claim on nested roles", "static", role(map[string]any{"groups_claim": "roles"}), sign(nil)},
		{"dotted groups claim on nested roles", "static", role(map[string]any{"groups_claim": "resource_access.vault.roles"}), sign(nil)},
		{"pointer groups claim on nested roles", "static", role(map[string]any{"groups_claim": "/resource_access/vault/roles"}), sign(nil)},
		{"bound_claims match", "static", role(map[string]any{"bound_claims": map[string]any{"dept": "ops"}}), sign(nil)},
		{"bound_claims mismatch", "static", role(map[string]any{"bound_claims": map[string]any{"dept": "finance"}}), sign(nil)},
		{"bound_claims list member", "static", role(map[string]any{"bound_claims": map[string]any{"/resource_access/vault/roles": []string{"secret_manager"}}}), sign(nil)},
		{"bound_claims missing claim", "static", role(map[string]any{"bound_claims": map[string]any{"team": "a"}}), sign(nil)},
		{"glob match", "static", role(map[string]any{"bound_claims_type": "glob", "bound_claims": map[string]any{"email": "*@example.com"}}), sign(nil)},
		{"glob mismatch", "static", role(map[string]any{"bound_claims_type": "glob", "bound_claims": map[string]any{"email": "*@corp.example"}}), sign(nil)},
		{"claim_mappings not a string", "static", role(map[string]any{"claim_mappings": map[string]any{"groups": "g"}}), sign(nil)},
		{"oidc role_type on a jwt login", "static", role(map[string]any{"role_type": "oidc", "allowed_redirect_uris": []string{"http://localhost:8250/oidc/callback"}}), sign(nil)},
		{"bad signature (tampered payload)", "static", role(nil), tampered(sign(nil))},
		{"signed by another key", "static", role(nil), signJWT(t, "RS256", keys.rsaB, nil, base(nil))},
		{"alg none", "static", role(nil), signJWT(t, "none", nil, nil, base(nil))},
		{"keycloak: alice's ID token", "keycloak", role(map[string]any{"groups_claim": "/resource_access/vault/roles"}), alice.IDToken},
		{"keycloak: alice's access token", "keycloak", role(map[string]any{"groups_claim": "/resource_access/vault/roles"}), alice.AccessToken},
		{"keycloak: groups_claim roles (not a pointer)", "keycloak", role(map[string]any{"groups_claim": "roles"}), alice.IDToken},
		{"keycloak: user without groups", "keycloak", role(nil), dave.IDToken},
		{"keycloak: wrong bound_audiences", "keycloak", role(map[string]any{"bound_audiences": []string{"not-vault"}}), alice.IDToken},
		{"keycloak: bound_claims on preferred_username", "keycloak", role(map[string]any{"groups_claim": nil, "bound_claims": map[string]any{"preferred_username": "alice"}}), alice.IDToken},
	}

	hc := &http.Client{Timeout: 30 * time.Second}
	agree, rejected := 0, 0
	for i, c := range cases {
		mount := mounts[c.mount]
		roleName := fmt.Sprintf("case%02d", i)
		if _, err := vc.Logical().Write("auth/"+mount+"/role/"+roleName, c.role); err != nil {
			t.Errorf("%s: writing the role: %v", c.name, err)
			continue
		}
		// The real Vault.
		var vaultMsg string
		_, loginErr := vc.Logical().Write("auth/"+mount+"/login", map[string]any{"role": roleName, "jwt": c.jwt})
		var re *vaultapi.ResponseError
		switch {
		case loginErr == nil:
		case errors.As(loginErr, &re) && len(re.Errors) > 0:
			vaultMsg = re.Errors[0]
		default:
			t.Errorf("%s: login failed oddly: %v", c.name, loginErr)
			continue
		}
		// The model, fed what Vault holds.
		rs, _ := vc.Logical().Read("auth/" + mount + "/role/" + roleName)
		cs, _ := vc.Logical().Read("auth/" + mount + "/config")
		r, err := VaultRoleFromMap(rs.Data)
		if err != nil {
			t.Fatal(err)
		}
		conf, err := VaultConfigFromMap(cs.Data)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := ParseInput([]byte(c.jwt), PickDefault)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		var ks KeySource
		if c.mount == "static" {
			ks, err = KeySetFromPEMs(conf.JWTValidationPubKeys)
		} else {
			var d *Discovery
			d, err = Discover(ctx, hc, conf.OIDCDiscoveryURL)
			if err == nil {
				ks = NewRemoteJWKS(hc, d.JWKSURI)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		v, err := EvaluateVault(ctx, tok, r, conf, ks, VaultOptions{Now: time.Now(), Login: VaultLoginJWT, RoleName: roleName, Mount: mount})
		if err != nil {
			t.Errorf("%s: model error: %v", c.name, err)
			continue
		}
		vaultAccepted := loginErr == nil
		if !vaultAccepted {
			rejected++
		}
		switch {
		case v.Accepted != vaultAccepted:
			t.Errorf("%s: Vault accepted=%v (%q), ssoctl accepted=%v (%q)", c.name, vaultAccepted, vaultMsg, v.Accepted, v.Message)
		case !vaultAccepted && v.Message != vaultMsg:
			t.Errorf("%s: both reject, but Vault says %q and ssoctl predicts %q", c.name, vaultMsg, v.Message)
		default:
			agree++
		}
	}
	t.Logf("ssoctl and Vault agree on %d of %d cases (%d rejected by Vault, each with the same message)", agree, len(cases), rejected)
	if len(cases) < 30 || rejected < len(cases)/2 {
		t.Fatalf("the table is too small or too lenient: %d cases, %d rejected", len(cases), rejected)
	}
}
