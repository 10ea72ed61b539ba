package spec

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MaxKeycloakSeconds is the longest duration Keycloak keeps: its realm
// lifetimes are Java ints of seconds.
const MaxKeycloakSeconds = 1<<31 - 1

// Seconds parses a Keycloak duration as the file writes it: a Go duration
// (30s, 5m, 1h30m), a number of days (30d), or a bare number of seconds.
// Fractions of a second are refused: Keycloak counts whole seconds.
func Seconds(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("want a duration like 30s, 5m, 10h or 30d, got an empty string")
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("want a duration like 30s, 5m, 10h or 30d, got %s", Quote(s))
		}
		return min(n, 1<<40) * 86400, nil // capped, so that it cannot overflow
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("want a duration like 30s, 5m, 10h or 30d, got %s", Quote(s))
	}
	if d%time.Second != 0 {
		return 0, fmt.Errorf("%s is not a whole number of seconds (Keycloak counts seconds)", Quote(s))
	}
	return int64(d / time.Second), nil
}

// FormatSeconds writes n seconds the way a file would: the largest unit
// that divides it (30d, 10h, 5m, 45s).
func FormatSeconds(n int64) string {
	switch {
	case n == 0:
		return "0s"
	case n%86400 == 0:
		return strconv.FormatInt(n/86400, 10) + "d"
	case n%3600 == 0:
		return strconv.FormatInt(n/3600, 10) + "h"
	case n%60 == 0:
		return strconv.FormatInt(n/60, 10) + "m"
	}
	return strconv.FormatInt(n, 10) + "s"
}
