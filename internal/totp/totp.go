// Package totp computes one-time passwords as Keycloak checks them:
// HOTP (RFC 4226) over a time step (RFC 6238).
package totp

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"hash"
	"strings"
	"time"
)

// Policy is a realm's OTP policy as Keycloak names it.
type Policy struct {
	// Algorithm is HmacSHA1 (default), HmacSHA256 or HmacSHA512.
	Algorithm string
	// Digits default 6; Period in seconds, default 30.
	Digits, Period int
}

// Code is the TOTP code for key at t.
func Code(key []byte, t time.Time, p Policy) (string, error) {
	if p.Period <= 0 {
		p.Period = 30
	}
	return HOTP(key, uint64(t.Unix())/uint64(p.Period), p)
}

// HOTP is the counter-based code for key.
func HOTP(key []byte, counter uint64, p Policy) (string, error) {
	var h func() hash.Hash
	switch p.Algorithm {
	case "", "HmacSHA1":
		h = sha1.New
	case "HmacSHA256":
		h = sha256.New
	case "HmacSHA512":
		h = sha512.New
	default:
		return "", fmt.Errorf("unknown OTP algorithm %q (want HmacSHA1, HmacSHA256 or HmacSHA512)", p.Algorithm)
	}
	if p.Digits == 0 {
		p.Digits = 6
	}
	if p.Digits < 1 || p.Digits > 10 {
		return "", fmt.Errorf("%d digits: want 6 or 8", p.Digits)
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	m := hmac.New(h, key)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range p.Digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", p.Digits, bin%mod), nil
}

// DecodeSecret reads a secret as Keycloak's setup page shows it: base32,
// in groups of four, upper or lower case, padding optional.
func DecodeSecret(s string) ([]byte, error) {
	s = strings.ToUpper(strings.Join(strings.Fields(s), ""))
	s = strings.TrimRight(s, "=")
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("the OTP secret is not base32: %v", err)
	}
	if len(key) == 0 {
		return nil, fmt.Errorf("the OTP secret is empty")
	}
	return key, nil
}
