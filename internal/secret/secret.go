// Package secret masks credentials before they reach a terminal, a log or a
// rendered plan.
package secret

import (
	"strings"
	"sync"
)

// Mask returns s with all but a short prefix and suffix hidden, e.g.
// "abcd…wxyz", so that two secrets can be told apart. Values shorter than
// 24 characters (passwords, short tokens) are fully hidden: showing 8 of
// their characters would give too much away. The empty string stays empty
// so that "not set" remains visible.
func Mask(s string) string {
	if s == "" {
		return ""
	}
	r := []rune(s)
	if len(r) < 24 {
		return "****"
	}
	return string(r[:4]) + "…" + string(r[len(r)-4:])
}

// Redactor replaces every occurrence of known secret values in text with
// their masked form. The zero value redacts nothing. It is safe for
// concurrent use: secrets are added while an apply runs in parallel.
type Redactor struct {
	mu     sync.Mutex
	values []string
}

// Add registers secret values to hide. Values shorter than 4 characters are
// ignored: replacing them would mangle ordinary text without protecting much.
func (r *Redactor) Add(values ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
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
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range r.values {
		if strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, Mask(v))
		}
	}
	return s
}
