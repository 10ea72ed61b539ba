package keycloak

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// A secret's fingerprint (the SMTP password, and next the federations'
// bind credentials and identity providers' client secrets): it tells a
// re-apply whether the secret changed, since Keycloak shows only
// "**********", without keeping the secret. PBKDF2-HMAC-SHA256 with a random salt of
// 16 bytes and 600,000 iterations (OWASP's figure for it), stored as
// pbkdf2-sha256$iterations$salt$key (base64, raw URL encoding).
const fingerprintIterations = 600_000

// secretMask is what Keycloak shows for a secret it keeps (the SMTP
// password, a bind credential, a client secret), and what it takes back
// in an update to mean "keep the stored one".
const secretMask = "**********"

// fingerprint makes a new fingerprint of password, with a fresh salt.
func fingerprint(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key, err := pbkdf2.Key(sha256.New, password, salt, fingerprintIterations, 32)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	return fmt.Sprintf("pbkdf2-sha256$%d$%s$%s", fingerprintIterations, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// fingerprintMatches reports whether fp is password's fingerprint.
func fingerprintMatches(fp, password string) bool {
	parts := strings.Split(fp, "$")
	if len(parts) != 4 || parts[0] != "pbkdf2-sha256" {
		return false
	}
	iter, err := strconv.Atoi(parts[1])
	if err != nil || iter < 1 || iter > 10_000_000 {
		return false
	}
	enc := base64.RawURLEncoding
	salt, err1 := enc.DecodeString(parts[2])
	want, err2 := enc.DecodeString(parts[3])
	if err1 != nil || err2 != nil || len(want) == 0 || len(want) > 64 {
		return false
	}
	got, err := pbkdf2.Key(sha256.New, password, salt, iter, len(want))
	return err == nil && subtle.ConstantTimeCompare(got, want) == 1
}
