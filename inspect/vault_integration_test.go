//go:build integration

package inspect

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"slices"
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
	mount string // "static" (jwt_validation_pubkeys), "weak" (unusable RSA keys) or "keycloak" (discovery)
	role  map[string]any
	jwt   string
	// attempts is how often to log in (default 1). Where Vault may give any of several messages
	// (Go's random map order), every message it gives must be one the model lists.
	attempts int
}

const staticIssuer = "https://issuer.ssoctl.test"

// TestIntegrationVaultModelAgreesWithVault logs in to the real Vault with
// every case and checks that ssoctl's verdict (accept or reject) and its
// message are exactly Vault's.
func TestIntegrationVaultModelAgreesWithVault(t *testing.T) {
	tb := testbed.Load(t)
	modelTable(t, tb, tb.VaultAddr, tb.VaultToken, FlavorVault)
}

// TestIntegrationVaultModelAgreesWithOpenBao runs the same table against
// OpenBao, with the model set to OpenBao's flavour.
func TestIntegrationVaultModelAgreesWithOpenBao(t *testing.T) {
	tb := testbed.Load(t)
	tb.NeedOpenBao(t)
	modelTable(t, tb, tb.BaoAddr, tb.BaoToken, FlavorOpenBao)
}

func modelTable(t *testing.T, tb testbed.Env, addr, token, flavor string) {
	ctx := context.Background()
	keys := testKeys(t)
	id := fmt.Sprintf("%d", time.Now().UnixNano()%1e9)

	cfg := vaultapi.DefaultConfig()
	cfg.Address = addr
	vc, err := vaultapi.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	vc.SetToken(token)

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
	// The weak mount holds only keys Go refuses: 512 bits, and e=1 (with which anyone can sign).
	small := smallRSAKey(t, 512)
	onePub, oneTok := exponentOneToken(t, map[string]any{"iss": staticIssuer, "sub": "user-1", "aud": []string{"vault"}, "iat": time.Now().Unix(), "exp": time.Now().Add(5 * time.Minute).Unix(), "groups": []string{"kv-managers"}})
	mounts := map[string]string{"static": "model-static-" + id, "weak": "model-weak-" + id, "keycloak": "model-kc-" + id}
	for kind, path := range mounts {
		if err := vc.Sys().EnableAuthWithOptions(path, &vaultapi.EnableAuthOptions{Type: "jwt"}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { vc.Sys().DisableAuth(path) })
		conf := map[string]any{"jwt_validation_pubkeys": []string{pubPEM}, "bound_issuer": staticIssuer}
		switch kind {
		case "keycloak":
			conf = map[string]any{"oidc_discovery_url": tb.KeycloakURL + "/realms/" + realm, "bound_issuer": tb.KeycloakURL + "/realms/" + realm}
		case "weak":
			conf = map[string]any{"jwt_validation_pubkeys": []string{publicPEM(t, &small.PublicKey), publicPEM(t, onePub)}, "bound_issuer": staticIssuer}
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
	signH := func(hdr, extra map[string]any) string { return signJWT(t, "RS256", keys.rsaA, hdr, base(extra)) }
	null := json.RawMessage("null") // a claim present with the value null (nil deletes it)
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
		{"valid", "static", role(nil), sign(nil), 0},
		{"valid, aud array with one match", "static", role(nil), sign(map[string]any{"aud": []string{"other", "vault"}}), 0},
		{"valid, string aud", "static", role(nil), sign(map[string]any{"aud": "vault"}), 0},
		{"wrong audience", "static", role(nil), sign(map[string]any{"aud": []string{"account"}}), 0},
		{"no bound audiences, aud present", "static", role(map[string]any{"bound_audiences": nil, "bound_subject": "user-1"}), sign(nil), 0},
		{"no bound audiences, string aud", "static", role(map[string]any{"bound_audiences": nil, "bound_subject": "user-1"}), sign(map[string]any{"aud": "x"}), 0},
		{"no bound audiences, no aud", "static", role(map[string]any{"bound_audiences": nil, "bound_subject": "user-1"}), sign(map[string]any{"aud": nil}), 0},
		{"expired", "static", role(nil), sign(map[string]any{"exp": now.Add(-10 * time.Minute).Unix(), "iat": now.Add(-20 * time.Minute).Unix()}), 0},
		{"expired within the leeway", "static", role(nil), sign(map[string]any{"exp": now.Add(-20 * time.Second).Unix()}), 0},
		{"expired, leeway raised", "static", role(map[string]any{"clock_skew_leeway": 900}), sign(map[string]any{"exp": now.Add(-10 * time.Minute).Unix(), "iat": now.Add(-20 * time.Minute).Unix()}), 0},
		{"not yet valid", "static", role(nil), sign(map[string]any{"nbf": now.Add(10 * time.Minute).Unix()}), 0},
		{"issued in the future", "static", role(nil), sign(map[string]any{"iat": now.Add(10 * time.Minute).Unix()}), 0},
		{"no iat, nbf or exp", "static", role(nil), sign(map[string]any{"iat": nil, "exp": nil}), 0},
		{"wrong issuer", "static", role(nil), sign(map[string]any{"iss": "https://evil.test"}), 0},
		{"issuer with a trailing slash", "static", role(nil), sign(map[string]any{"iss": staticIssuer + "/"}), 0},
		{"bound_subject mismatch", "static", role(map[string]any{"bound_subject": "someone-else"}), sign(nil), 0},
		{"missing user claim", "static", role(map[string]any{"user_claim": "preferred_username"}), sign(nil), 0},
		{"user claim pointer", "static", role(map[string]any{"user_claim": "/resource_access/vault/roles/0", "user_claim_json_pointer": true}), sign(nil), 0},
		{"user claim not a string", "static", role(map[string]any{"user_claim": "groups"}), sign(nil), 0},
		{"groups missing", "static", role(nil), sign(map[string]any{"groups": nil}), 0},
		{"groups not a list", "static", role(nil), sign(map[string]any{"groups": map[string]any{"a": 1}}), 0},
		{"groups a single string", "static", role(nil), sign(map[string]any{"groups": "kv-managers"}), 0},
		{"group element not a string", "static", role(nil), sign(map[string]any{"groups": []any{"a", 5}}), 0},
		{"non-pointer groups claim on nested roles", "static", role(map[string]any{"groups_claim": "roles"}), sign(nil), 0},
		{"dotted groups claim on nested roles", "static", role(map[string]any{"groups_claim": "resource_access.vault.roles"}), sign(nil), 0},
		{"pointer groups claim on nested roles", "static", role(map[string]any{"groups_claim": "/resource_access/vault/roles"}), sign(nil), 0},
		{"bound_claims match", "static", role(map[string]any{"bound_claims": map[string]any{"dept": "ops"}}), sign(nil), 0},
		{"bound_claims mismatch", "static", role(map[string]any{"bound_claims": map[string]any{"dept": "finance"}}), sign(nil), 0},
		{"bound_claims list member", "static", role(map[string]any{"bound_claims": map[string]any{"/resource_access/vault/roles": []string{"secret_manager"}}}), sign(nil), 0},
		{"bound_claims missing claim", "static", role(map[string]any{"bound_claims": map[string]any{"team": "a"}}), sign(nil), 0},
		{"glob match", "static", role(map[string]any{"bound_claims_type": "glob", "bound_claims": map[string]any{"email": "*@example.com"}}), sign(nil), 0},
		{"glob mismatch", "static", role(map[string]any{"bound_claims_type": "glob", "bound_claims": map[string]any{"email": "*@corp.example"}}), sign(nil), 0},
		{"claim_mappings not a string", "static", role(map[string]any{"claim_mappings": map[string]any{"groups": "g"}}), sign(nil), 0},
		{"oidc role_type on a jwt login", "static", role(map[string]any{"role_type": "oidc", "allowed_redirect_uris": []string{"http://localhost:8250/oidc/callback"}}), sign(nil), 0},
		{"bad signature (tampered payload)", "static", role(nil), tampered(sign(nil)), 0},
		{"signed by another key", "static", role(nil), signJWT(t, "RS256", keys.rsaB, nil, base(nil)), 0},
		{"alg none", "static", role(nil), signJWT(t, "none", nil, nil, base(nil)), 0},
		{"keycloak: alice's ID token", "keycloak", role(map[string]any{"groups_claim": "/resource_access/vault/roles"}), alice.IDToken, 0},
		{"keycloak: alice's access token", "keycloak", role(map[string]any{"groups_claim": "/resource_access/vault/roles"}), alice.AccessToken, 0},
		{"keycloak: groups_claim roles (not a pointer)", "keycloak", role(map[string]any{"groups_claim": "roles"}), alice.IDToken, 0},
		{"keycloak: user without groups", "keycloak", role(nil), dave.IDToken, 0},
		{"keycloak: wrong bound_audiences", "keycloak", role(map[string]any{"bound_audiences": []string{"not-vault"}}), alice.IDToken, 0},
		{"keycloak: bound_claims on preferred_username", "keycloak", role(map[string]any{"groups_claim": nil, "bound_claims": map[string]any{"preferred_username": "alice"}}), alice.IDToken, 0},
		// crit (RFC 7515 §4.1.11): go-jose fails every key for a name other than b64.
		{"crit: an extension Vault does not understand", "static", role(nil), signH(map[string]any{"crit": []string{"exp"}, "exp": 1}, nil), 0},
		{"crit: a name the header does not have", "static", role(nil), signH(map[string]any{"crit": []string{"foo"}}, nil), 0},
		{"crit: not a list", "static", role(nil), signH(map[string]any{"crit": "exp", "exp": 1}, nil), 0},
		{"crit: a number in the list", "static", role(nil), signH(map[string]any{"crit": []any{1}}, nil), 0},
		{"crit: empty list (Vault accepts)", "static", role(nil), signH(map[string]any{"crit": []string{}}, nil), 0},
		{"crit: null (Vault accepts)", "static", role(nil), signH(map[string]any{"crit": null}, nil), 0},
		{"crit: b64 without a b64 member (Vault accepts)", "static", role(nil), signH(map[string]any{"crit": []string{"b64"}}, nil), 0},
		{"crit: b64 true (Vault accepts)", "static", role(nil), signH(map[string]any{"crit": []string{"b64"}, "b64": true}, nil), 0},
		{"crit: b64 false, signed over base64url", "static", role(nil), signH(map[string]any{"crit": []string{"b64"}, "b64": false}, nil), 0},
		{"b64 false without crit, signed over base64url", "static", role(nil), signH(map[string]any{"b64": false}, nil), 0},
		{"crit: b64 false, signed over the raw payload", "static", role(nil), signUnencoded(t, keys.rsaA, map[string]any{"crit": []string{"b64"}, "b64": false}, base(nil)), 0},
		// Keys Go refuses.
		{"512-bit RSA key", "weak", role(nil), signSmall(t, small, base(nil)), 0},
		{"RSA key with e=1 (forged without a private key)", "weak", role(nil), oneTok, 0},
		// Times: null, out of range, and the leeways cap makes up missing claims with.
		{"exp null", "static", role(nil), sign(map[string]any{"exp": null}), 0},
		{"exp 1e38", "static", role(nil), sign(map[string]any{"exp": 1e38}), 0},
		{"exp -1e38", "static", role(nil), sign(map[string]any{"exp": -1e38}), 0},
		{"exp just below 2^63", "static", role(nil), sign(map[string]any{"exp": 9.2233720368547e18}), 0},
		{"exp in year 3168875820", "static", role(nil), sign(map[string]any{"exp": 1e17}), 0},
		{"nbf 1e38", "static", role(nil), sign(map[string]any{"nbf": 1e38}), 0},
		{"iat 1e38", "static", role(nil), sign(map[string]any{"iat": 1e38}), 0},
		{"exp only: nbf made up from exp is ahead", "static", role(nil), sign(map[string]any{"iat": nil, "exp": now.Add(10 * time.Minute).Unix()}), 0},
		{"exp only, within the made-up window", "static", role(nil), sign(map[string]any{"iat": nil, "exp": now.Add(2 * time.Minute).Unix()}), 0},
		{"exp only, not_before_leeway raised", "static", role(map[string]any{"not_before_leeway": 900}), sign(map[string]any{"iat": nil, "exp": now.Add(10 * time.Minute).Unix()}), 0},
		{"iat only, expired by the made-up exp", "static", role(nil), sign(map[string]any{"exp": nil, "iat": now.Add(-5 * time.Minute).Unix()}), 0},
		{"nbf only", "static", role(nil), sign(map[string]any{"exp": nil, "iat": nil, "nbf": now.Add(-10 * time.Second).Unix()}), 0},
		{"nbf only, expired by the made-up exp", "static", role(nil), sign(map[string]any{"exp": nil, "iat": nil, "nbf": now.Add(-5 * time.Minute).Unix()}), 0},
		{"iat and nbf, exp made up from the later", "static", role(nil), sign(map[string]any{"exp": nil, "iat": now.Add(-400 * time.Second).Unix(), "nbf": now.Add(-100 * time.Second).Unix()}), 0},
		{"iat ahead without nbf", "static", role(nil), sign(map[string]any{"iat": now.Add(3 * time.Minute).Unix()}), 0},
		// Several failures in one Go map: Vault names one at random.
		{"two bound claims missing", "static", role(map[string]any{"bound_claims": map[string]any{"team": "a", "site": "b", "dept": "ops"}}), sign(nil), 8},
		{"a bound claim missing and one wrong", "static", role(map[string]any{"bound_claims": map[string]any{"team": "a", "dept": "finance"}}), sign(nil), 8},
		{"two claim_mappings sources not strings", "static", role(map[string]any{"claim_mappings": map[string]any{"n1": "m1", "n2": "m2"}}), sign(map[string]any{"n1": 1, "n2": true}), 8},
	}

	// OpenBao's templated policies (token_policies_template_claims). Vault
	// drops the field when the role is written, so the same roles show that
	// Vault takes the policies literally. Each accepted case compares the
	// policies too.
	tmpl := func(policies ...string) map[string]any {
		return role(map[string]any{"token_policies_template_claims": true, "token_policies": policies})
	}
	comparePolicies := map[string]bool{}
	for _, c := range []modelCase{
		{"templated policies", "static", tmpl("team-{{.dept}}", "{{ .email | lowercase | replace \"@\" \"-at-\" }}", "reader", "team-{{.dept}}", "Reader", " spaced "), sign(map[string]any{"email": "U@Example.com"}), 0},
		{"templated policy naming a missing claim", "static", tmpl("team-{{.team}}"), sign(nil), 0},
		{"templated policy that does not parse", "static", tmpl("team-{{.dept"), sign(nil), 0},
		{"templated policy calling an unknown function", "static", tmpl("{{ .dept | shout }}"), sign(nil), 0},
		{"templated policy that comes out empty", "static", tmpl("{{ if eq .dept \"finance\" }}finance{{ end }}", "reader"), sign(nil), 0},
		{"templated policy over a number and a nested claim", "static", tmpl("iat-{{.iat}}", "{{ index .resource_access.vault.roles 0 }}"), sign(map[string]any{"iat": 1700000000}), 0},
		{"templated policy on a Keycloak token", "keycloak", tmpl("user-{{.preferred_username}}"), alice.IDToken, 0},
	} {
		comparePolicies[c.name] = true
		cases = append(cases, c)
	}

	hc := &http.Client{Timeout: 30 * time.Second}
	agree, rejected := 0, 0
	for i, c := range cases {
		mount := mounts[c.mount]
		roleName := fmt.Sprintf("case%02d", i)
		if _, err := vc.Logical().Write("auth/"+mount+"/role/"+roleName, c.role); err != nil {
			// The server refuses to store the role: the model must refuse
			// it with the server's words.
			var re *vaultapi.ResponseError
			if !errors.As(err, &re) || len(re.Errors) == 0 {
				t.Errorf("%s: writing the role: %v", c.name, err)
				continue
			}
			raw, _ := json.Marshal(c.role)
			var m map[string]any
			json.Unmarshal(raw, &m)
			r, err := VaultRoleFromMap(m)
			tok, perr := ParseInput([]byte(c.jwt), PickDefault)
			if err != nil || perr != nil {
				t.Errorf("%s: %v %v", c.name, err, perr)
				continue
			}
			v, err := EvaluateVault(ctx, tok, r, nil, nil, VaultOptions{Now: time.Now(), Login: VaultLoginJWT, RoleName: roleName, Mount: mount, Flavor: flavor})
			if err != nil || v.Accepted || v.Step != VaultStepRole || v.Message != re.Errors[0] {
				t.Errorf("%s: %s refuses the role with %q; ssoctl: accepted=%v step %s %q %v", c.name, flavor, re.Errors[0], v.Accepted, v.Step, v.Message, err)
				continue
			}
			t.Logf("%s: %s refuses the role: %q (as ssoctl predicts)", c.name, flavor, re.Errors[0])
			agree++
			rejected++
			continue
		}
		// The real Vault, c.attempts times.
		var vaultMsgs []string // one per attempt; "" is an accepted login
		var serverPolicies []string
		odd := false
		for range max(c.attempts, 1) {
			login, loginErr := vc.Logical().Write("auth/"+mount+"/login", map[string]any{"role": roleName, "jwt": c.jwt})
			var re *vaultapi.ResponseError
			switch {
			case loginErr == nil:
				vaultMsgs = append(vaultMsgs, "")
				serverPolicies = slices.DeleteFunc(slices.Clone(login.Auth.TokenPolicies), func(p string) bool { return p == "default" })
			case errors.As(loginErr, &re) && len(re.Errors) > 0:
				vaultMsgs = append(vaultMsgs, re.Errors[0])
			default:
				t.Errorf("%s: login failed oddly: %v", c.name, loginErr)
				odd = true
			}
		}
		if odd {
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
		if c.mount != "keycloak" {
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
		v, err := EvaluateVault(ctx, tok, r, conf, ks, VaultOptions{Now: time.Now(), Login: VaultLoginJWT, RoleName: roleName, Mount: mount, Flavor: flavor})
		if err != nil {
			t.Errorf("%s: model error: %v", c.name, err)
			continue
		}
		predicted := v.Messages // every message Vault may give
		if len(predicted) == 0 {
			predicted = []string{v.Message}
		}
		seen := map[string]int{}
		ok := true
		for _, vaultMsg := range vaultMsgs {
			seen[vaultMsg]++
			vaultAccepted := vaultMsg == ""
			switch {
			case v.Accepted != vaultAccepted:
				t.Errorf("%s: Vault accepted=%v (%q), ssoctl accepted=%v (%q)", c.name, vaultAccepted, vaultMsg, v.Accepted, v.Message)
				ok = false
			case !vaultAccepted && !slices.Contains(predicted, vaultMsg):
				t.Errorf("%s: both reject, but Vault says %q and ssoctl predicts %q", c.name, vaultMsg, predicted)
				ok = false
			}
		}
		if comparePolicies[c.name] && vaultMsgs[0] == "" {
			model := slices.DeleteFunc(slices.Clone(v.Policies), func(p string) bool { return p == "default" })
			slices.Sort(model)
			slices.Sort(serverPolicies)
			if !slices.Equal(model, serverPolicies) {
				t.Errorf("%s: %s gives the token policies %q, ssoctl predicts %q", c.name, flavor, serverPolicies, model)
				ok = false
			}
			t.Logf("%s: %s's token policies %q", c.name, flavor, serverPolicies)
		}
		if c.attempts > 1 {
			if len(v.Messages) < 2 {
				t.Errorf("%s: the model names one message %q where Vault may give several", c.name, v.Message)
				ok = false
			}
			t.Logf("%s: in %d logins Vault said %v; ssoctl predicts one of %q", c.name, len(vaultMsgs), seen, predicted)
		}
		if vaultMsgs[0] != "" {
			rejected++
		}
		if ok {
			agree++
		}
	}
	t.Logf("ssoctl and %s agree on %d of %d cases (%d rejected by the server, each with the same message)", flavor, agree, len(cases), rejected)
	if len(cases) < 30 || rejected < len(cases)/2 {
		t.Fatalf("the table is too small or too lenient: %d cases, %d rejected", len(cases), rejected)
	}
}
