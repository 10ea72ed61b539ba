package vault

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
	"github.com/ssoctl/ssoctl/templates"
)

// PolicyText resolves a policy's HCL from the file or a shipped template.
func PolicyText(p spec.Policy) (string, error) {
	if p.HCL != "" {
		return p.HCL, nil
	}
	return templates.Read(p.Template)
}

// policies plans the ACL policies: written when missing or different.
// Policies are never pruned.
func (b *builder) policies() error {
	want := make([]string, 0, len(b.v.Policies))
	texts := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(b.v.Policies)) {
		text, err := PolicyText(b.v.Policies[name])
		if err != nil {
			return &InputError{Msg: fmt.Sprintf("vault.policies.%s: %v", name, err)}
		}
		want = append(want, name)
		texts[name] = text
	}
	have := map[string]string{}
	for name, hcl := range b.st.Policies {
		if hcl != "" {
			have[name] = hcl
		}
	}
	for _, it := range plan.Reconcile(plan.Set[string, string]{
		Want: want, Have: have,
		Name: func(n string) string { return n },
		Diff: func(n, cur string) []plan.FieldDiff { return plan.Diff(nil, "policy", cur, texts[n]) },
	}) {
		switch it.Action {
		case plan.Create:
			b.p.Add(b.change("policy", it.Name, plan.Create, stepPolicies, []plan.FieldDiff{{Field: "policy", New: texts[it.Name]}}, putPolicy{it.Name, texts[it.Name]}))
		case plan.Update:
			b.p.Add(b.change("policy", it.Name, plan.Update, stepPolicies, it.Fields, putPolicy{it.Name, texts[it.Name]}))
		case plan.NoOp:
			b.p.Add(b.change("policy", it.Name, plan.NoOp, stepPolicies, nil, nil))
		}
	}
	return nil
}

// putPolicy writes an ACL policy. A policy Vault refuses is the file's
// fault.
type putPolicy struct{ Name, HCL string }

func (o putPolicy) apply(ctx context.Context, x *executor) error {
	err := x.c.wrap("PUT", "sys/policies/acl/"+o.Name, x.c.api.Sys().PutPolicyWithContext(ctx, o.Name, o.HCL))
	var e *APIError
	if errors.As(err, &e) && e.Status == 400 {
		return &InputError{Msg: fmt.Sprintf("vault.policies.%s: Vault refused the policy: %s", o.Name, strings.Join(e.Errors, "; "))}
	}
	return err
}
