package doctor

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ssoctl/ssoctl/inspect"
)

// unsignedToken is a compact JWT with claims and a signature no key is asked to verify.
func unsignedToken(t *testing.T, claims map[string]any) *inspect.Token {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	tok, err := inspect.ParseCompact(enc(map[string]string{"alg": "RS256", "typ": "JWT"}) + "." + enc(claims) + ".c2ln")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// The token model (inspect.EvaluateVault, one token) and doctor (the claims the client's mappers
// write) hold a role to the same rules: for each role below, the ID token doctor's model says
// client vault gets is refused by both or by neither, at the same rule, and doctor quotes the
// message the token model predicts.
func TestTokenModelAndDoctorShareVaultRules(t *testing.T) {
	const issuer = "http://kc/realms/demo"
	now := time.Date(2026, 12, 1, 12, 0, 1, 0, time.UTC)
	jwtRole := func(edit func(r *inspect.VaultRole)) *inspect.VaultRole {
		r := &inspect.VaultRole{RoleType: "jwt", UserClaim: "sub", BoundAudiences: []string{"vault"}, BoundClaimsType: "string"}
		edit(r)
		return r
	}
	oidcRole := func(bound ...string) *inspect.VaultRole {
		return &inspect.VaultRole{RoleType: "oidc", UserClaim: "sub", BoundAudiences: bound, BoundClaimsType: "string",
			AllowedRedirectURIs: []string{"http://localhost:8250/oidc/callback"}}
	}
	for _, tt := range []struct {
		name  string
		role  *inspect.VaultRole
		check string            // doctor's check of the rule
		step  inspect.VaultStep // where the token model stops; "" when it accepts
		quote string            // what doctor quotes, when not the token model's whole message
	}{
		{name: "jwt, bound to the client", role: jwtRole(func(*inspect.VaultRole) {}), check: "audience.jwt"},
		{name: "jwt, bound elsewhere", role: jwtRole(func(r *inspect.VaultRole) { r.BoundAudiences = []string{"other"} }),
			check: "audience.jwt", step: inspect.VaultStepAudience},
		{name: "jwt, bound to nothing", role: jwtRole(func(r *inspect.VaultRole) { r.BoundAudiences = nil }),
			check: "audience.jwt", step: inspect.VaultStepAudienceUnbound},
		{name: "oidc, bound to the client", role: oidcRole("vault"), check: "audience.oidc"},
		{name: "oidc, bound elsewhere", role: oidcRole("other"), check: "audience.oidc", step: inspect.VaultStepIDToken,
			quote: inspect.VaultMsgOIDCAudiences},
		{name: "user claim nobody writes", role: jwtRole(func(r *inspect.VaultRole) { r.UserClaim = "email" }),
			check: "claims.user-claim", step: inspect.VaultStepUserClaim},
		{name: "user claim written", role: jwtRole(func(r *inspect.VaultRole) { r.UserClaim = "preferred_username" }),
			check: "claims.user-claim"},
		{name: "groups claim nobody writes", role: jwtRole(func(r *inspect.VaultRole) { r.GroupsClaim = "teams" }),
			check: "claims.groups", step: inspect.VaultStepGroupsClaim},
		{name: "groups claim written", role: jwtRole(func(r *inspect.VaultRole) { r.GroupsClaim = "/resource_access/vault/roles" }),
			check: "claims.groups"},
		{name: "bound claim nobody writes", role: jwtRole(func(r *inspect.VaultRole) { r.BoundClaims = map[string]any{"dept": "ops"} }),
			check: "claims.bound-claims", step: inspect.VaultStepBoundClaims},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := healthy()
			m := d.live.mounts[1] // jwt: discovery without a client
			if tt.role.RoleType == "oidc" {
				m = d.live.mounts[0]
			}
			m.roles = map[string]*inspect.VaultRole{"r": tt.role}
			m.names = []string{"r"}
			d.audience(m)
			d.claims(m)
			var got *Check
			for i := range d.rep.Checks {
				if d.rep.Checks[i].ID == tt.check {
					got = &d.rep.Checks[i]
				}
			}
			if got == nil {
				t.Fatalf("no %s check: %+v", tt.check, d.rep.Checks)
			}

			// The ID token doctor's model gives client vault, for a user with a role of it.
			claims := map[string]any{"iss": issuer, "sub": "u-1", "azp": "vault", "iat": float64(now.Unix() - 10), "exp": float64(now.Unix() + 300),
				"aud": toAny(d.aud(fromIDToken)), "preferred_username": "alice", "resource_access": map[string]any{"vault": map[string]any{"roles": []any{"secret_reader"}}}}
			login := inspect.VaultLoginJWT
			if tt.role.RoleType == "oidc" {
				login = inspect.VaultLoginOIDC
			}
			cfg := *m.cfg
			cfg.OIDCClientSecretSet = cfg.OIDCClientID != "" // Vault keeps a client id only with its secret
			v, err := inspect.EvaluateVault(context.Background(), unsignedToken(t, claims), tt.role, &cfg, nil,
				inspect.VaultOptions{Now: now, Login: login, RoleName: "r", Mount: m.view.Path})
			if err != nil {
				t.Fatal(err)
			}
			if tt.step == "" {
				if !v.Accepted || got.Status != OK {
					t.Fatalf("want both to pass: token model %v at %s (%s); doctor %s: %s", v.Accepted, v.Step, v.Message, got.Status, got.Message)
				}
				return
			}
			if v.Accepted || v.Step != tt.step || got.Status != Fail {
				t.Fatalf("want both to refuse at %s: token model accepted=%v at %s (%s); doctor %s: %s", tt.step, v.Accepted, v.Step, v.Message, got.Status, got.Message)
			}
			quote := v.Message
			if tt.quote != "" {
				if !strings.Contains(v.Message, tt.quote) {
					t.Fatalf("the token model's message %q does not hold %q", v.Message, tt.quote)
				}
				quote = tt.quote
			}
			if !strings.Contains(got.Message, strconv.Quote(quote)) {
				t.Errorf("doctor's message does not quote the token model's %q:\n%s", quote, got.Message)
			}
		})
	}
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
