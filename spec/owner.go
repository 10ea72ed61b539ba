package spec

import (
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/ssoctl/ssoctl/plan"
)

// Unowned is the name adopt_from gives to the objects that an ownership
// record holds without an owner (written by ssoctl before owners).
const Unowned = plan.Unowned

// MaxOwnerLen bounds an owner's name; it is stored with every object of
// the ownership record.
const MaxOwnerLen = 64

// ownerPattern is what an owner's name may hold: letters, digits and
// . _ - /, starting with a letter or digit.
var ownerPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]*$`)

// DefaultOwner derives a file's owner from its path: the name of the
// directory it is in and its own name without the extension, joined by
// "/" ("shop/sso" for shop/sso.yaml, whatever the working directory), so
// that the sso.yaml of two sites' repositories are two owners. A file read
// from stdin is "stdin".
func DefaultOwner(path string) string {
	if path == "" || path == "-" || path == "<stdin>" {
		return "stdin"
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	stem := strings.TrimSuffix(filepath.Base(abs), filepath.Ext(abs))
	dir := filepath.Base(filepath.Dir(abs))
	name := stem
	if dir != "." && dir != string(filepath.Separator) && dir != "" {
		name = dir + "/" + stem
	}
	return sanitizeOwner(name)
}

// sanitizeOwner maps a derived name onto ownerPattern: other characters
// become "-", and the result is cut to MaxOwnerLen.
func sanitizeOwner(s string) string {
	b := []byte(s)
	for i, c := range b {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == '/'
		if !ok {
			b[i] = '-'
		}
	}
	s = strings.TrimLeft(string(b), "._-/")
	if len(s) > MaxOwnerLen {
		s = s[:MaxOwnerLen]
	}
	if s == "" || s == Unowned {
		return "file"
	}
	return s
}

// owner checks owner: and adopt_from:, and fills the derived owner when the
// file names none.
func (v *validator) owner(f *File) {
	if f.Owner == "" {
		f.Owner, f.OwnerDerived = DefaultOwner(f.Path), true
	} else {
		v.ownerName("owner", f.Owner)
	}
	seen := map[string]bool{}
	for i, o := range f.AdoptFrom {
		key := "adopt_from[" + strconv.Itoa(i) + "]"
		if o != Unowned {
			v.ownerName(key, o)
		}
		switch {
		case o == f.Owner:
			v.errorf(key, "adopt_from names this file's own owner %s", Quote(o))
		case seen[o]:
			v.errorf(key, "owner %s is listed twice", Quote(o))
		}
		seen[o] = true
	}
}

func (v *validator) ownerName(key, s string) {
	switch {
	case len(s) > MaxOwnerLen:
		v.errorf(key, "an owner is at most %d characters, got %d", MaxOwnerLen, len(s))
	case s == Unowned:
		v.errorf(key, "%s is reserved (adopt_from: [%s] takes the objects recorded without an owner)", Quote(s), Unowned)
	case !ownerPattern.MatchString(s):
		v.errorf(key, "an owner holds letters, digits and . _ - / and starts with a letter or digit, got %s", Quote(s))
	}
}
