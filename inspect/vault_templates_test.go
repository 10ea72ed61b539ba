package inspect

import (
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"text/template"
	"time"
)

func TestTemplatePolicies(t *testing.T) {
	claims := map[string]any{"dept": "ops", "email": "U@Example.com", "iat": json.Number("1700000000"),
		"resource_access": map[string]any{"vault": map[string]any{"roles": []any{"secret_manager"}}}}
	for _, tt := range []struct {
		in          []string
		want        []string
		predictable bool
		err         string
	}{
		{[]string{"team-{{.dept}}", "team-{{.dept}}", "{{ .email | lowercase | replace \"@\" \"-at-\" }}"}, []string{"team-ops", "u-at-example.com"}, true, ""},
		{[]string{"{{ if eq .dept \"finance\" }}finance{{ end }}", "reader"}, []string{"reader"}, true, ""},
		{[]string{"iat-{{.iat}}", "{{ index .resource_access.vault.roles 0 }}"}, []string{"iat-1.7e+09", "secret_manager"}, true, ""},
		{[]string{"{{ .dept | truncate 2 }}", "{{ .email | truncate_sha256 9 }}", "{{ .dept | hex }}"}, []string{"6f7073", "U3136373a", "op"}, true, ""},
		{[]string{"t-{{ uuid }}"}, []string{"t-"}, false, ""},
		{[]string{"team-{{.team}}"}, nil, true, `failed to template policy [0]: unable to apply template: template: template:1:7: executing "template" at <.team>: map has no entry for key "team"`},
		{[]string{"a", "{{ .dept | shout }}"}, nil, true, `failed to parse template policy [1]: unable to parse template: template: template:1: function "shout" not defined`},
		{[]string{"{{ .dept | truncate 0 }}"}, nil, true, "max length must be > 0 but was 0"},
	} {
		got, predictable, err := templatePolicies(tt.in, claims)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: err %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) || predictable != tt.predictable {
			t.Errorf("%q: %q %v %v, want %q", tt.in, got, predictable, err, tt.want)
		}
	}
	if got := sanitizePolicies([]string{" B ", "a", "b", "", "A"}); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("sanitize: %q", got)
	}
}

// templatedLogin is alice's signed access token with the key set and mount
// config that verify it, for the templated roles' tests.
func templatedLogin(t *testing.T) (*Token, *KeySet, *VaultConfig) {
	t.Helper()
	k := testKeys(t)
	claims := kcAccessClaims()
	claims["preferred_username"] = "alice"
	tok := mustParse(t, signJWT(t, "RS256", k.rsaA, nil, claims))
	keys, err := KeySetFromPEMs([]string{publicPEM(t, &k.rsaA.PublicKey)})
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := VaultConfigFromMap(baseConfig(t))
	return tok, keys, cfg
}

func TestEvaluateVaultFlavors(t *testing.T) {
	tok, keys, cfg := templatedLogin(t)
	rm := baseRole()
	rm["token_policies_template_claims"] = true
	rm["token_policies"] = []any{"user-{{.preferred_username}}", "reader"}
	role, err := VaultRoleFromMap(rm)
	if err != nil || !role.TokenPoliciesTemplateClaims {
		t.Fatalf("role: %+v %v", role, err)
	}
	eval := func(flavor string, r *VaultRole) VaultVerdict {
		v, err := EvaluateVault(bg, tok, r, cfg, keys, VaultOptions{Now: testNow, Login: VaultLoginJWT, Flavor: flavor})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := eval(FlavorOpenBao, role); !v.Accepted || !slices.Equal(v.Policies, []string{"reader", "user-alice"}) {
		t.Errorf("openbao: %+v", v)
	}
	v := eval(FlavorVault, role)
	if !v.Accepted || !slices.Equal(v.Policies, []string{"reader", "user-{{.preferred_username}}"}) ||
		!slices.ContainsFunc(v.Findings, func(f Finding) bool { return f.ID == FindingVaultPolicyTemplate && f.Severity == SeverityWarning }) {
		t.Errorf("vault: %+v", v)
	}
	rm["token_policies"] = []any{"team-{{.team}}"}
	role, _ = VaultRoleFromMap(rm)
	if v := eval(FlavorOpenBao, role); v.Accepted || v.Step != VaultStepPolicyTemplate || v.HTTPStatus != 500 || !strings.Contains(v.Message, `map has no entry for key "team"`) {
		t.Errorf("missing claim: %+v", v)
	}
	rm["token_policies"] = []any{"{{ .team"}
	role, _ = VaultRoleFromMap(rm)
	if v := eval(FlavorOpenBao, role); v.Accepted || v.Step != VaultStepRole || !strings.HasPrefix(v.Message, "1 error occurred:\n\t* failed to parse template policy [0]") {
		t.Errorf("bad template: %+v", v)
	}
}

// openBaoTemplatePolicies is the evaluation as OpenBao runs it
// (sdk/helper/template): text/template over the claims with no budget.
// Only for templates known to finish.
func openBaoTemplatePolicies(policies []string, claims map[string]any) (out []string, predictable bool, err error) {
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
		if r := strings.TrimSpace(b.String()); r != "" {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), !unpredictable, nil
}

func templateClaims() map[string]any {
	return map[string]any{"dept": "ops", "email": "U@Example.com", "iat": json.Number("1700000000"), "n": json.Number("3"),
		"groups": []any{"a", "b", "c"}, "empty": []any{}, "nested": map[string]any{"k": []any{"v", json.Number("1.5"), true, nil}}}
}

// TestTemplatePoliciesAsOpenBao: templates within the budgets give exactly
// what OpenBao's unbounded evaluation gives: results, and error texts.
func TestTemplatePoliciesAsOpenBao(t *testing.T) {
	for _, tmpl := range []string{
		"team-{{.dept}}", "{{range .groups}}g-{{.}} {{end}}", "{{range $i, $g := .groups}}{{if eq $i 1}}{{continue}}{{end}}{{$g}}{{end}}",
		"{{range .groups}}{{if eq . \"b\"}}{{break}}{{end}}{{.}}{{end}}", "{{range .empty}}x{{else}}none{{end}}",
		"{{with .nested.k}}{{index . 1}}{{else}}no{{end}}", "{{with .missing}}x{{end}}", "{{if .nosuch}}x{{end}}",
		`{{define "t"}}[{{.}}]{{end}}{{template "t" .dept}}{{template "t" .email}}`, `{{block "b" .dept}}<{{.}}>{{end}}`,
		`{{define "r"}}{{if .}}{{len .}}{{template "r" slice . 1}}{{end}}{{end}}{{template "r" .groups}}`,
		`{{template "nope"}}`, "{{.dept | truncate 0}}", "{{.dept | uppercase | lowercase | base64 | decode_base64 | hex | decode_hex}}",
		`{{"zz" | decode_hex}}`, `{{"!!" | decode_base64}}`, `{{replace "o" "0" .dept}}`, `{{replace "" "-" .dept}}`, `{{uppercase 1}}`,
		`{{replace "a" "b"}}`, `{{printf "%0999999999d" 1}}`, `{{printf "%*d" 9999999 1}}`, `{{printf "%-*d|" -5 1}}`, `{{printf "%[2]s-%[1]s" .dept .email}}`,
		`{{printf "%v %d %q %x % #x %T" .nested .n .email .dept .dept .groups}}`, `{{printf "%.3f %e %08.2f %U %c" 1.5 2.0 3.25 65 66}}`,
		`{{printf "%d"}}`, `{{printf "%s" 1 2}}`, `{{printf "%!"}}`, `{{printf "%[9]d" 1}}`, `{{printf "%.*d" 3 1}}`, `{{printf "%[1]*d" 4 2}}`,
		`{{print .dept 1 2 "x" .groups}}`, `{{println .dept .n}}`, `{{html "<a href='x'>" .dept}}`, `{{js "</script>" 1}}`, `{{urlquery "a b&c"}}`,
		`{{len .groups}} {{index .groups 2}} {{slice .email 1 3}} {{not .dept}} {{and .dept .email}} {{or .none .dept}}`, `{{index .groups 9}}`,
		`{{call .dept}}`, "{{- .dept -}} ", "{{/* c */}}x", `{{$x := 1}}{{$x = 2}}{{$x}}`, "{{ glob \"o*\" .dept }}", "{{ .dept | truncate_sha256 9 }}",
		"{{ .email | truncate_sha256 9 }}", "{{ .iat }}-{{ .nested.k }}", "{{ . }}", "{{range 3}}{{.}}{{end}}", "{{ random 5 }}x{{ unix_time }}",
		"{{ random }}", `{{ random "x" }}`, "{{ random -1 }}", `{{ timestamp "2006" }}x`, "{{ uuid 1 }}",
		"{{ .dept | shout }}", "{{ .team", "{{end}}", "",
	} {
		claims := templateClaims()
		got, gp, gerr := templatePolicies([]string{"reader", tmpl}, claims)
		want, wp, werr := openBaoTemplatePolicies([]string{"reader", tmpl}, claims)
		if fmt.Sprint(gerr) != fmt.Sprint(werr) || !slices.Equal(got, want) || gp != wp {
			t.Errorf("%q:\n got  %q %v %v\n want %q %v %v", tmpl, got, gp, gerr, want, wp, werr)
		}
		if gerr == nil && len(got) < 1 {
			t.Errorf("%q: no policies", tmpl)
		}
	}
}

// expTemplate is n templates each calling the next twice: 2^n calls of
// the last, which writes leaf.
func expTemplate(n int, leaf string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{{define "t%d"}}%s{{end}}`, n, leaf)
	for i := n - 1; i >= 0; i-- {
		fmt.Fprintf(&b, `{{define "t%d"}}{{template "t%d" .}}{{template "t%d" .}}{{end}}`, i, i+1, i+1)
	}
	return b.String() + `{{template "t0" .}}`
}

// TestTemplatePoliciesBudgets: each hostile shape stops at its budget with
// "ssoctl cannot evaluate this template", having spent no more than the
// budgets allow (counted in steps and bytes, not time).
func TestTemplatePoliciesBudgets(t *testing.T) {
	lim := defaultTemplateLimits
	lim.time = time.Hour // the counts decide here, not the clock
	big := `{{$x := printf "%0900000d" 0}}`
	for _, tt := range []struct {
		name, tmpl string
		want       TemplateLimit
	}{
		{"range over a huge integer", "{{range 1000000000}}x{{end}}", TemplateLimitOutput},
		{"range writing nothing", "{{range 1000000000}}{{end}}", TemplateLimitSteps},
		{"nested ranges with printf", `{{range 100000}}{{range 100000}}{{printf "%s-%s" "xxxxxxxx" "yyyyyyyy"}}{{end}}{{end}}`, TemplateLimitOutput},
		{"nested ranges of declarations", `{{range 100000}}{{range 100000}}{{$x := printf "%s" "x"}}{{end}}{{end}}`, TemplateLimitSteps},
		{"exponential template calls", expTemplate(30, strings.Repeat("x", 64)), TemplateLimitOutput},
		{"exponential template calls writing nothing", expTemplate(30, ""), TemplateLimitSteps},
		{"deep template recursion", `{{define "r"}}{{template "r"}}{{end}}{{template "r"}}`, TemplateLimitDepth},
		{"deep template recursion with output", `{{define "r"}}x{{template "r"}}{{end}}{{template "r"}}`, TemplateLimitDepth},
		{"deeply nested expression", "{{" + strings.Repeat("(", 6000) + "1" + strings.Repeat(")", 6000) + "}}", TemplateLimitDepth},
		{"text past the budget", strings.Repeat("x", MaxTemplateText+1), TemplateLimitText},
		{"printf width", `{{printf "%09999999d" 1}}`, TemplateLimitValue},
		{"printf widths from arguments", `{{printf "%*d%*d" 1000000 1 1000000 1}}`, TemplateLimitValue},
		{"printf precision", `{{printf "%.9999999f" 1.0}}`, TemplateLimitValue},
		{"printf width over a list", `{{printf "%0900000s" .groups}}`, TemplateLimitValue},
		{"printf reusing an argument", big + `{{printf "%[1]s%[1]s" $x}}`, TemplateLimitValue},
		{"a variable doubling without writes", `{{$x := "a"}}{{range 40}}{{$x = printf "%s%s" $x $x}}{{end}}{{len $x}}`, TemplateLimitValue},
		{"replace squaring a variable", `{{$x := "aa"}}{{range 6}}{{$x = replace "a" $x $x}}{{end}}{{len $x}}`, TemplateLimitValue},
		{"replace of the empty string", big + `{{replace "" "yy" $x}}`, TemplateLimitValue},
		{"print", big + `{{print $x $x}}`, TemplateLimitValue},
		{"println", big + `{{println $x $x}}`, TemplateLimitValue},
		{"html", big + `{{html $x $x}}`, TemplateLimitValue},
		{"js", big + `{{js $x $x}}`, TemplateLimitValue},
		{"urlquery", big + `{{urlquery $x $x}}`, TemplateLimitValue},
		{"base64", big + `{{base64 $x}}`, TemplateLimitValue},
		{"hex", big + `{{hex $x}}`, TemplateLimitValue},
		{"glob with a pattern of many stars", big + `{{glob (replace "0" "*" $x) "a"}}`, TemplateLimitValue},
		{"random, which OpenBao makes that long", `{{random 1000000000}}`, TemplateLimitValue},
		{"many values below the value budget", big + `{{range 100}}{{$y := uppercase $x}}{{end}}`, TemplateLimitFuncBytes},
	} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, _, err := evalPolicyTemplates([]string{"reader", tt.tmpl}, templateClaims(), lim)
		runtime.ReadMemStats(&after)
		var le *TemplateLimitError
		if !errors.As(err, &le) || le.Limit != tt.want || le.Policy != 1 {
			t.Errorf("%s: %v, want the %s budget", tt.name, err, tt.want)
			continue
		}
		if !strings.HasPrefix(err.Error(), "ssoctl cannot evaluate this template: token_policies template [1] goes past ssoctl's budget of ") || !le.BadInput() {
			t.Errorf("%s: %q", tt.name, err)
		}
		if le.Steps > lim.steps+1 || le.Output > lim.output || le.FuncBytes > lim.funcBytes+lim.value {
			t.Errorf("%s: spent %d steps, %d bytes of output, %d bytes of function results", tt.name, le.Steps, le.Output, le.FuncBytes)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 40<<20 {
			t.Errorf("%s: allocated %d MiB", tt.name, alloc>>20)
		}
		// With the clock too, the verdict is still that ssoctl cannot evaluate it.
		if _, _, err := templatePolicies([]string{tt.tmpl}, templateClaims()); !errors.As(err, &le) {
			t.Errorf("%s, default budgets: %v", tt.name, err)
		}
	}
	// The time budget.
	lim.time = 0
	if _, _, err := evalPolicyTemplates([]string{"team-{{.dept}}"}, templateClaims(), lim); !errors.As(err, new(*TemplateLimitError)) ||
		err.(*TemplateLimitError).Limit != TemplateLimitTime || !strings.HasSuffix(err.Error(), "budget of 0 ms") {
		t.Errorf("time: %v", err)
	}
	// parsePolicyTemplates (OpenBao's check at role write) refuses text past the budget unparsed.
	if err := parsePolicyTemplates([]string{"a", strings.Repeat("{{if 1}}", MaxTemplateText/8+1)}); !errors.As(err, new(*TemplateLimitError)) {
		t.Errorf("parse: %v", err)
	}
}

// TestEvaluateVaultTemplatePastBudget: a role file whose template ssoctl
// cannot evaluate is EvaluateVault's error (exit 2); the same role read
// from a server is a verdict with a warning, no prediction.
func TestEvaluateVaultTemplatePastBudget(t *testing.T) {
	tok, keys, cfg := templatedLogin(t)
	for _, policy := range []string{"{{range 1000000000}}{{end}}", strings.Repeat("x", MaxTemplateText+1)} {
		rm := baseRole()
		rm["token_policies_template_claims"] = true
		rm["token_policies"] = []any{"reader", policy}
		role, err := VaultRoleFromMap(rm)
		if err != nil {
			t.Fatal(err)
		}
		opts := VaultOptions{Now: testNow, Login: VaultLoginJWT, Flavor: FlavorOpenBao}
		v, err := EvaluateVault(bg, tok, role, cfg, keys, opts)
		var le *TemplateLimitError
		if !errors.As(err, &le) || le.Policy != 1 || v.Accepted {
			t.Errorf("%.20s… from a file: %+v %v", policy, v, err)
		}
		opts.RoleFromServer = true
		v, err = EvaluateVault(bg, tok, role, cfg, keys, opts)
		if err != nil || !v.CannotEvaluate() || v.Accepted || v.Step != VaultStepPolicyTemplate || v.HTTPStatus != 0 ||
			v.Findings[0].ID != FindingVaultPolicyTemplate || v.Findings[0].Severity != SeverityWarning ||
			!strings.HasPrefix(v.Findings[0].Message, "ssoctl cannot evaluate this template: token_policies template [1]") {
			t.Errorf("%.20s… from a server: %+v %v", policy, v, err)
		}
		// Vault does not template: the same role is an ordinary one there.
		opts.Flavor = FlavorVault
		if v, err := EvaluateVault(bg, tok, role, cfg, keys, opts); err != nil || !v.Accepted || v.CannotEvaluate() {
			t.Errorf("%.20s… on Vault: %+v %v", policy, v, err)
		}
	}
}

// FuzzTemplatePolicies: any template over any claims gives a result, an
// OpenBao error, or the budget's verdict, never a panic; and whatever
// ssoctl evaluates within its budgets is exactly what OpenBao's unbounded
// evaluation gives (which then finishes too: it does the same work).
func FuzzTemplatePolicies(f *testing.F) {
	claims := `{"dept":"ops","email":"U@Example.com","iat":1700000000,"groups":["a","b"],"nested":{"k":["v",1.5,true,null]}}`
	for _, s := range []string{
		"team-{{.dept}}", "{{ .email | lowercase | replace \"@\" \"-at-\" }}", "{{range .groups}}{{.}}{{end}}", "{{ .team", "{{ .dept | shout }}",
		`{{printf "%0999999999d" 1}}`, `{{printf "%09999999d" 1}}`, `{{printf "%*d" 1000000 1}}`, "{{range 1000000000}}x{{end}}",
		"{{range 1000000000}}{{end}}", `{{define "r"}}{{template "r"}}{{end}}{{template "r"}}`, expTemplate(20, "x"),
		`{{$x := "aa"}}{{range 6}}{{$x = replace "a" $x $x}}{{end}}{{len $x}}`, `{{printf "%v %q %x" . .groups .nested}}`,
		`{{with .nested}}{{range $k, $v := .}}{{$k}}={{$v}}{{end}}{{end}}`, `{{html .}}{{js .groups}}{{urlquery .email}}`,
	} {
		f.Add(s, claims)
	}
	f.Add("{{.a}}", `{"a":"`+strings.Repeat("x", 1000)+`"}`)
	// Smaller budgets than the real ones keep each run short, the
	// minimizer too: the code that enforces them is the same.
	lim := templateLimits{text: MaxTemplateText, steps: 10_000, output: 4 << 10, value: 64 << 10, funcBytes: 1 << 20, depth: 1000, time: MaxTemplateTime}
	f.Fuzz(func(t *testing.T, tmpl, claimsJSON string) {
		if len(claimsJSON) > 4096 {
			return
		}
		c, err := decodeJSONObject([]byte(claimsJSON))
		if err != nil {
			return
		}
		got, gp, err := evalPolicyTemplates([]string{tmpl}, c, lim)
		if errors.As(err, new(*TemplateLimitError)) {
			if !strings.HasPrefix(err.Error(), "ssoctl cannot evaluate this template: ") {
				t.Fatalf("budget verdict %q", err)
			}
			return
		}
		if err != nil && !strings.HasPrefix(err.Error(), "failed to parse template policy [0]: ") && !strings.HasPrefix(err.Error(), "failed to template policy [0]: ") {
			t.Fatalf("not an OpenBao error: %q", err)
		}
		want, wp, werr := openBaoTemplatePolicies([]string{tmpl}, c)
		if fmt.Sprint(err) != fmt.Sprint(werr) || !slices.Equal(got, want) || gp != wp {
			t.Fatalf("%q over %s:\n got  %q %v %v\n want %q %v %v", tmpl, claimsJSON, got, gp, err, want, wp, werr)
		}
	})
}
