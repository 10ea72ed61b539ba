package spec

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ssoctl/ssoctl/internal/secret"
)

// MaxQuoted is how many bytes of a value an error about sso.yaml shows.
// Longer values are cut there: a 500 KB anchor used 95,000 times through
// an alias gave 95,000 errors quoting it whole (before: 6.6 GB and more
// than 2 minutes, still growing).
const MaxQuoted = 64

// Quote is how every error about sso.yaml shows a value: Go-quoted, so
// that quotes and control characters are escaped, and at most its first
// MaxQuoted bytes, followed by "…" and its length when it is longer. Its
// cost does not grow with the value: one value may be quoted by 100,000
// errors.
func Quote(s string) string {
	if len(s) <= MaxQuoted {
		return strconv.Quote(s)
	}
	p := s[:runeCut(s, MaxQuoted)]
	if strings.Contains(p, "://") {
		p = cutURL(secret.MaskURLs(p))
	}
	return strconv.Quote(p) + "… (" + strconv.Itoa(len(s)) + " bytes)"
}

// cutURL hides what may be a password in a URL that a cut ends inside its
// authority (https://admin:pa…): without its @ no one can tell a password
// from a port, so the error line's own masking would show it. From the
// authority's first ":" on is dropped.
func cutURL(p string) string {
	i := strings.LastIndex(p, "://")
	if i < 0 {
		return p
	}
	auth := p[i+3:]
	if strings.ContainsAny(auth, "/?#@ \t\n\"'<>") {
		return p // the authority ends inside p, or its userinfo is masked
	}
	if j := strings.IndexByte(auth, ':'); j >= 0 {
		return p[:i+3+j]
	}
	return p
}

// maxListed is how many items of a list an error shows.
const maxListed = 10

// quoteList shows a list of values in an error: [a b c], each item as
// Quote shows it, and past maxListed items how many more there are.
func quoteList(items []string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, s := range items {
		if i == maxListed {
			fmt.Fprintf(&b, " and %d more", len(items)-i)
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(Quote(s))
	}
	b.WriteByte(']')
	return b.String()
}

// clip is a value shown unquoted: a mapping key in a key path
// (keycloak.groups[0].client_roles.KEY), a keyword such as a protocol. It
// is whole when at most MaxQuoted bytes, else cut there with "…". Key
// paths are built for every node the checker visits, so a 500 KB key over
// a list of 100,000 items must not be copied into each of them; checker and
// validator clip keys alike, so that a path's line is found.
func clip(k string) string {
	if len(k) <= MaxQuoted {
		return k
	}
	return k[:runeCut(k, MaxQuoted)] + "…"
}

// runeCut returns where to cut s to at most n bytes without splitting a
// UTF-8 sequence (at most 3 bytes back: invalid UTF-8 is cut anywhere).
func runeCut(s string, n int) int {
	for i := 0; i < utf8.UTFMax-1 && n > 0 && !utf8.RuneStart(s[n]); i++ {
		n--
	}
	return n
}
