package totp

import (
	"testing"
	"time"
)

// RFC 6238's appendix B test vectors (8 digits).
func TestRFC6238Vectors(t *testing.T) {
	keys := map[string][]byte{
		"HmacSHA1":   []byte("12345678901234567890"),
		"HmacSHA256": []byte("12345678901234567890123456789012"),
		"HmacSHA512": []byte("1234567890123456789012345678901234567890123456789012345678901234"),
	}
	cases := []struct {
		unix int64
		alg  string
		want string
	}{
		{59, "HmacSHA1", "94287082"}, {59, "HmacSHA256", "46119246"}, {59, "HmacSHA512", "90693936"},
		{1111111109, "HmacSHA1", "07081804"}, {1111111109, "HmacSHA256", "68084774"},
		{1234567890, "HmacSHA512", "93441116"}, {20000000000, "HmacSHA1", "65353130"},
	}
	for _, c := range cases {
		got, err := Code(keys[c.alg], time.Unix(c.unix, 0), Policy{Algorithm: c.alg, Digits: 8, Period: 30})
		if err != nil || got != c.want {
			t.Errorf("%s at %d = %q, %v; want %s", c.alg, c.unix, got, err, c.want)
		}
	}
}

// RFC 4226's appendix D: the first HOTP values, 6 digits.
func TestRFC4226Vectors(t *testing.T) {
	want := []string{"755224", "287082", "359152", "969429", "338314"}
	for i, w := range want {
		if got, _ := HOTP([]byte("12345678901234567890"), uint64(i), Policy{}); got != w {
			t.Errorf("HOTP(%d) = %s, want %s", i, got, w)
		}
	}
}

func TestDecodeSecretAsKeycloakShowsIt(t *testing.T) {
	// "12345678901234567890" in base32, grouped in fours as the setup page shows it.
	key, err := DecodeSecret("gezd gnbv gy3t qojq gezd gnbv gy3t qojq")
	if err != nil || string(key) != "12345678901234567890" {
		t.Fatalf("key = %q, %v", key, err)
	}
	if _, err := DecodeSecret("not base32!"); err == nil {
		t.Fatal("a bad secret was accepted")
	}
	if _, err := Code([]byte("k"), time.Now(), Policy{Algorithm: "MD5"}); err == nil {
		t.Fatal("an unknown algorithm was accepted")
	}
}
