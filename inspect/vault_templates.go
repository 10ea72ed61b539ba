package inspect

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
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
// are given as stubs that mark the result so.
func templateFuncs(unpredictable *bool) template.FuncMap {
	vary := func(args ...any) string { *unpredictable = true; return "" }
	return template.FuncMap{
		"truncate": func(n int, s string) (string, error) {
			if n <= 0 {
				return "", fmt.Errorf("max length must be > 0 but was %d", n)
			}
			return s[:min(n, len(s))], nil
		},
		"truncate_sha256": func(n int, s string) (string, error) {
			if n <= 8 {
				return "", fmt.Errorf("max length must be > 8 but was %d", n)
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
		"glob":             func(pattern, v string) bool { return glob.Glob(pattern, v) },
		"random":           vary,
		"unix_time":        vary,
		"unix_time_millis": vary,
		"timestamp":        vary,
		"uuid":             vary,
	}
}

// templatePolicies applies OpenBao's templating. predictable is false when
// a policy calls a function whose result varies (time, randomness).
func templatePolicies(policies []string, claims map[string]any) (out []string, predictable bool, err error) {
	data := templateData(claims).(map[string]any)
	unpredictable := false
	for i, p := range policies {
		if p == "" {
			return nil, true, fmt.Errorf("failed to parse template policy [%d]: missing template", i)
		}
		t, err := template.New("template").Funcs(templateFuncs(&unpredictable)).Option("missingkey=error").Parse(p)
		if err != nil {
			return nil, true, fmt.Errorf("failed to parse template policy [%d]: unable to parse template: %w", i, err)
		}
		var b strings.Builder
		if err := t.Execute(&b, data); err != nil {
			return nil, true, fmt.Errorf("failed to template policy [%d]: unable to apply template: %w", i, err)
		}
		// Empty results are dropped; the rest trimmed, deduplicated, sorted.
		if r := strings.TrimSpace(b.String()); r != "" {
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
// policies is written.
func parsePolicyTemplates(policies []string) error {
	var ignored bool
	for i, p := range policies {
		if _, err := template.New("template").Funcs(templateFuncs(&ignored)).Option("missingkey=error").Parse(p); err != nil {
			return fmt.Errorf("failed to parse template policy [%d]: unable to parse template: %w", i, err)
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
