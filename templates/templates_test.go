package templates

import (
	"strings"
	"testing"
)

func TestVaultPolicies(t *testing.T) {
	for name, want := range map[string]string{
		"vault/reader.hcl":  `capabilities = ["read", "list"]`,
		"vault/manager.hcl": `capabilities = ["create", "read", "update", "delete", "list"]`,
	} {
		got, err := Read(name)
		if err != nil || !strings.Contains(got, want) || !strings.Contains(got, `path "secret/data/*"`) {
			t.Errorf("%s: %v\n%s", name, err, got)
		}
	}
	if _, err := Read("vault/nope.hcl"); err == nil || !strings.Contains(err.Error(), "vault/reader.hcl") {
		t.Errorf("missing template error should list what exists: %v", err)
	}
}
