// Package secret masks credentials before they reach a terminal, a log or a
// rendered plan.
package secret

import "strings"

// Mask returns s with all but a short prefix and suffix hidden, e.g.
// "abcd…wxyz". Values of 12 characters or fewer are fully hidden, because
// showing 8 of them would give most of the value away. The empty string
// stays empty so that "not set" remains visible.
func Mask(s string) string {
	if s == "" {
		return ""
	}
	r := []rune(s)
	if len(r) <= 12 {
		return "****"
	}
	return string(r[:4]) + "…" + string(r[len(r)-4:])
}

// Redactor replaces every occurrence of known secret values in text with
// their masked form. The zero value redacts nothing.
type Redactor struct {
	values []string
}

// Add registers secret values to hide. Values shorter than 4 characters are
// ignored: replacing them would mangle ordinary text without protecting much.
func (r *Redactor) Add(values ...string) {
	for _, v := range values {
		if len(v) >= 4 {
			r.values = append(r.values, v)
		}
	}
}

// Redact returns s with every registered value masked.
func (r *Redactor) Redact(s string) string {
	if r == nil {
		return s
	}
	for _, v := range r.values {
		if strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, Mask(v))
		}
	}
	return s
}
