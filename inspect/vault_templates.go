package inspect

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/template"

	"github.com/ryanuber/go-glob"
)

// OpenBao's token_policies_template_claims: after every other check, each
// of the role's token policies is executed as a Go text/template over the
// token's claims, with missing keys an error. Results that are empty are
// dropped, the rest deduplicated and sorted. A failure is a Go error of the
// login handler, which OpenBao answers with 500.

// templateFuncs are the functions OpenBao's template helper offers whose
// result depends only on their input; the rest (random, unix_time,
// unix_time_millis, timestamp, uuid) make the policies unpredictable and
// are given as stubs, with OpenBao's signatures, that mark the result so.
func templateFuncs(unpredictable *bool) template.FuncMap {
	vary := func() string { *unpredictable = true; return "" }
	return template.FuncMap{
		"truncate": func(n int, s string) (string, error) {
			if n <= 0 {
				return "", fmt.Errorf(openbaoMsgTruncate, n)
			}
			return s[:min(n, len(s))], nil
		},
		"truncate_sha256": func(n int, s string) (string, error) {
			if n <= 8 {
				return "", fmt.Errorf(openbaoMsgTruncateSHA256, n)
			}
			if len(s) <= n {
				return s, nil
			}
			cut := n - 8
			return s[:cut] + fmt.Sprintf("%x", sha256.Sum256([]byte(s[cut:])))[:8], nil
		},
		"uppercase": strings.ToUpper,
		"lowercase": strings.ToLower,
		"replace":   func(find, repl, s string) string { return strings.ReplaceAll(s, find, repl) },
		"sha256":    func(s string) string { return fmt.Sprintf("%x", sha256.Sum256([]byte(s))) },
		"base64":    func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) },
		"decode_base64": func(s string) (string, error) {
			b, err := base64.StdEncoding.DecodeString(s)
			return string(b), err
		},
		"hex": func(s string) string { return hex.EncodeToString([]byte(s)) },
		"decode_hex": func(s string) (string, error) {
			b, err := hex.DecodeString(s)
			return string(b), err
		},
		"glob": func(pattern, v string) bool { return glob.Glob(pattern, v) },
		"random": func(n int) (string, error) {
			if n < 0 { // base62.Random's make panics
				return "", errors.New("runtime error: makeslice: cap out of range")
			}
			return vary(), nil
		},
		"unix_time":        vary,
		"unix_time_millis": vary,
		"timestamp":        func(string) string { return vary() },
		"uuid":             func() (string, error) { return vary(), nil },
	}
}

// templatePolicies applies OpenBao's templating. predictable is false when
// a policy calls a function whose result varies (time, randomness). Past
// one of ssoctl's budgets (MaxTemplateSteps and the rest) the error is a
// *TemplateLimitError; every other error is OpenBao's.
func templatePolicies(policies []string, claims map[string]any) (out []string, predictable bool, err error) {
	return evalPolicyTemplates(policies, claims, defaultTemplateLimits)
}

func evalPolicyTemplates(policies []string, claims map[string]any, lim templateLimits) (out []string, predictable bool, err error) {
	b := newTemplateBudget(lim)
	if err := b.checkText(policies); err != nil {
		return nil, true, err
	}
	data := templateData(claims).(map[string]any)
	unpredictable := false
	for i, p := range policies {
		b.policy = i
		if p == "" {
			return nil, true, fmt.Errorf("failed to parse template policy [%d]: missing template", i)
		}
		t, err := template.New("template").Funcs(templateFuncs(&unpredictable)).Option("missingkey=error").Parse(p)
		if err != nil {
			return nil, true, fmt.Errorf("failed to parse template policy [%d]: unable to parse template: %w", i, err)
		}
		// The functions that check sizes stand in for OpenBao's only now:
		// parsing is OpenBao's own.
		t.Funcs(b.funcs(templateFuncs(&unpredictable)))
		b.depth = int64(b.instrument(t))
		if b.depth > b.lim.depth {
			return nil, true, b.fail(TemplateLimitDepth)
		}
		w := &budgetWriter{b: b}
		if err := t.Execute(w, data); err != nil {
			if le := (*TemplateLimitError)(nil); errors.As(err, &le) {
				return nil, true, le
			}
			return nil, true, fmt.Errorf("failed to template policy [%d]: unable to apply template: %w", i, err)
		}
		// Empty results are dropped; the rest trimmed, deduplicated, sorted.
		if r := strings.TrimSpace(w.sb.String()); r != "" {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), !unpredictable, nil
}

// templateData turns the claims into what OpenBao templates over: JSON
// decoded into interface values, numbers as float64.
func templateData(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = templateData(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = templateData(e)
		}
		return l
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return x.String()
		}
		return f
	}
	return v
}

// parsePolicyTemplates is OpenBao's check when a role with templated
// policies is written. Text past MaxTemplateText is a *TemplateLimitError,
// not parsed.
func parsePolicyTemplates(policies []string) error {
	if err := newTemplateBudget(defaultTemplateLimits).checkText(policies); err != nil {
		return err
	}
	var ignored bool
	for i, p := range policies {
		if _, err := template.New("template").Funcs(templateFuncs(&ignored)).Option("missingkey=error").Parse(p); err != nil {
			return fmt.Errorf("failed to parse template policy [%d]: unable to parse template: %w", i, err)
		}
	}
	return nil
}

// checkText holds the role's template text to the text budget.
func (b *templateBudget) checkText(policies []string) error {
	n := int64(0)
	for i, p := range policies {
		if n += int64(len(p)); n > b.lim.text {
			b.policy = i
			return b.fail(TemplateLimitText)
		}
	}
	return nil
}

// sanitizePolicies is what the server does to a token's policies: trimmed,
// lowercased, deduplicated and sorted, empty names dropped.
func sanitizePolicies(policies []string) []string {
	var out []string
	for _, p := range policies {
		if p = strings.ToLower(strings.TrimSpace(p)); p != "" {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
