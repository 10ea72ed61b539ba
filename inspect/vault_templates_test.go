package inspect

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
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
