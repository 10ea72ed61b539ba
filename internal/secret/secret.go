// Package secret masks credentials before they reach a terminal, a log or a
// rendered plan.
package secret

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
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

// Add registers secret values to hide, however short.
func (r *Redactor) Add(values ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range values {
		if v != "" && !slices.Contains(r.values, v) {
			r.values = append(r.values, v)
		}
	}
	// The longest first: a secret that contains another is masked whole.
	slices.SortStableFunc(r.values, func(a, b string) int { return len(b) - len(a) })
}

// shortSecret is the length under which a secret is masked only where it
// stands as a word of its own: a 3-letter password replaced inside every
// word would make text unreadable without hiding more.
const shortSecret = 4

// Redact returns s with every registered value masked.
func (r *Redactor) Redact(s string) string {
	if r == nil {
		return s
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range r.values {
		if !strings.Contains(s, v) {
			continue
		}
		if len(v) >= shortSecret {
			s = strings.ReplaceAll(s, v, Mask(v))
			continue
		}
		s = replaceWord(s, v, Mask(v))
	}
	return s
}

// replaceWord replaces the occurrences of v in s that no letter or digit
// touches on either side.
func replaceWord(s, v, with string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, v)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		before, _ := utf8.DecodeLastRuneInString(s[:i])
		after, _ := utf8.DecodeRuneInString(s[i+len(v):])
		alnum := func(r rune) bool { return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r)) }
		b.WriteString(s[:i])
		if (i > 0 && alnum(before)) || (i+len(v) < len(s) && alnum(after)) {
			b.WriteString(v)
		} else {
			b.WriteString(with)
		}
		s = s[i+len(v):]
	}
}

var urlInText = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>]+`) })

// MaskURLs masks the credentials of every URL in text: the userinfo
// (user:password@) and the value of every query parameter, which may hold
// a token. The scheme, host, path and parameter names stay readable.
func MaskURLs(text string) string {
	return urlInText().ReplaceAllStringFunc(text, func(raw string) string {
		trail := strings.TrimRight(raw, ".,;:)]}")
		tail := raw[len(trail):]
		u, err := url.Parse(trail)
		if err != nil || u.Host == "" || (u.User == nil && u.RawQuery == "") {
			return raw
		}
		if u.User != nil {
			u.User = url.User("****")
		}
		if u.RawQuery != "" {
			q := u.Query()
			for _, vs := range q {
				for i := range vs {
					vs[i] = "****"
				}
			}
			u.RawQuery = strings.ReplaceAll(q.Encode(), "%2A", "*")
		}
		return strings.Replace(u.String(), "%2A%2A%2A%2A@", "****@", 1) + tail
	})
}
