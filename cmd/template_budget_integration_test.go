//go:build integration

package cmd

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/ssoctl/ssoctl/inspect"
	"github.com/ssoctl/ssoctl/testbed"
)

// TestIntegrationOpenBaoTemplatePastBudget: OpenBao stores roles whose
// policy templates ssoctl cannot evaluate (it only parses them), and
// `inspect token --vault-role` on such a live role gives a warning, not
// exit 2. No login is sent: OpenBao would evaluate the template without a
// limit.
func TestIntegrationOpenBaoTemplatePastBudget(t *testing.T) {
	tb := testbed.Load(t)
	tb.NeedOpenBao(t)
	ctx := context.Background()
	cfg := vaultapi.DefaultConfig()
	cfg.Address = tb.BaoAddr
	bao, err := vaultapi.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	bao.SetToken(tb.BaoToken)
	mount := fmt.Sprintf("tplbudget-%d", time.Now().UnixNano()%1e9)
	if err := bao.Sys().EnableAuthWithOptionsWithContext(ctx, mount, &vaultapi.EnableAuthOptions{Type: "jwt"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bao.Sys().DisableAuthWithContext(context.Background(), mount) })
	now := time.Now()
	tok, keyFile := testToken(t, map[string]any{"iss": "https://kc/realms/demo", "sub": "u1", "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()})
	pemKey, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bao.Logical().WriteWithContext(ctx, "auth/"+mount+"/config", map[string]any{"jwt_validation_pubkeys": []string{string(pemKey)}}); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"BAO_ADDR": tb.BaoAddr, "BAO_TOKEN": tb.BaoToken}
	for role, policy := range map[string]string{
		"steps":  "{{range 1000000000}}{{end}}",
		"output": "{{range 1000000000}}x{{end}}",
		"text":   "{{/*" + strings.Repeat("x", inspect.MaxTemplateText) + "*/}}reader",
	} {
		if _, err := bao.Logical().WriteWithContext(ctx, "auth/"+mount+"/role/"+role, map[string]any{"role_type": "jwt", "user_claim": "sub", "bound_subject": "u1",
			"token_policies_template_claims": true, "token_policies": []string{"reader", policy}}); err != nil {
			t.Fatalf("%s: OpenBao refused the role: %v", role, err)
		}
		code, stdout, stderr := runEnv(t, env, tok, "inspect", "token", "--vault-role", role, "--vault-mount", mount)
		if code != ExitFindings || !strings.Contains(stdout, "? ssoctl cannot evaluate the role's token_policies templates") ||
			!strings.Contains(stdout, "ssoctl cannot evaluate this template: token_policies template [1] goes past ssoctl's budget") {
			t.Errorf("%s: exit %d\n%s\n%s", role, code, stdout, stderr)
		}
	}
}
