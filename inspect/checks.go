package inspect

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// DefaultLeeway is the clock-skew tolerance applied to exp, nbf and iat when none is given; it is
// also Vault's default clock_skew_leeway for jwt roles.
const DefaultLeeway = 60 * time.Second

// CheckOptions are the expectations a token is checked against.
type CheckOptions struct {
	// Now is the time to check against. The zero value means time.Now(); pass a fixed time for
	// deterministic results.
	Now time.Time
	// Leeway is the tolerance for exp, nbf and iat. Zero means DefaultLeeway; negative means none
	// (the convention of Vault's leeway fields).
	Leeway time.Duration
	// Issuer, when set, must equal iss exactly (case and trailing slash included).
	Issuer string
	// Audiences, when set, must share at least one value with aud.
	Audiences []string
	// Claims are --claim assertions.
	Claims []ClaimAssertion
}

func (o CheckOptions) now() time.Time {
	if o.Now.IsZero() {
		return time.Now()
	}
	return o.Now
}

func effectiveLeeway(l time.Duration) time.Duration {
	switch {
	case l == 0:
		return DefaultLeeway
	case l < 0:
		return 0
	}
	return l
}

// CheckClaims runs every claim check on tok: times, issuer, audiences, claim assertions and the
// Keycloak pitfalls (KeycloakFindings). It does not verify the signature (see Verify).
func CheckClaims(tok *Token, opts CheckOptions) []Finding {
	var out []Finding
	out = append(out, CheckTimes(tok.Claims, opts.now(), opts.Leeway)...)
	if opts.Issuer != "" {
		out = append(out, CheckIssuer(tok.Claims, opts.Issuer)...)
	}
	if len(opts.Audiences) > 0 {
		out = append(out, CheckAudience(tok.Claims, opts.Audiences)...)
	}
	for _, a := range opts.Claims {
		if f := a.Check(tok.Claims); f != nil {
			out = append(out, *f)
			if f.ID == FindingClaimMissing {
				out = append(out, missingClaimHints(tok, a.Pointer)...)
			}
		}
	}
	out = append(out, KeycloakFindings(tok)...)
	return out
}

// CheckTimes checks exp, nbf and iat against now with the given leeway (zero means
// DefaultLeeway, negative means none): expired when now-leeway is after exp, not yet valid when
// now+leeway is before nbf, issued in the future when now+leeway is before iat. A missing or null
// exp is a warning, and so is a null nbf or iat (verifiers read null as absent); a non-numeric
// time claim, and one outside MinNumericDate..MaxNumericDate, is an error.
func CheckTimes(claims map[string]any, now time.Time, leeway time.Duration) []Finding {
	lw := effectiveLeeway(leeway)
	var out []Finding
	read := func(name string) (time.Time, bool) {
		v, present := claims[name]
		if !present {
			return time.Time{}, false
		}
		if v == nil {
			if name == "exp" {
				out = append(out, Finding{ID: FindingNoExpiry, Severity: SeverityWarning,
					Message: "exp is null, which verifiers (Vault included) read as no exp: the token never expires by itself",
					Fix:     "the issuer must write exp as a NumericDate or leave it out; Vault makes one up from iat/nbf plus expiration_leeway (default 150s)"})
			} else {
				out = append(out, Finding{ID: FindingTimeClaimType, Severity: SeverityWarning,
					Message: name + " is null, not a NumericDate; verifiers (Vault included) read it as absent",
					Fix:     "the issuer must write " + name + " as a NumericDate or leave it out"})
			}
			return time.Time{}, false
		}
		t, ok := NumericDate(v)
		if ok {
			return t, true
		}
		f, isNum := numericValue(v)
		if !isNum {
			out = append(out, Finding{ID: FindingTimeClaimType, Severity: SeverityError,
				Message: name + " is " + jsonTypeName(v) + " " + describeValue(v) + ", not a NumericDate (seconds since 1970)",
				Fix:     "the issuer must write " + name + " as a JSON number; no verifier accepts this token"})
			return time.Time{}, false
		}
		msg := name + " is " + describeValue(v) + ", outside the NumericDates ssoctl reads as times (years 0 to 9999: " +
			strconv.Itoa(MinNumericDate) + " to " + strconv.Itoa(MaxNumericDate) + " seconds)"
		if vt := vaultTime(floatToInt64(f)); (f > 0) != vt.After(time.Unix(0, 0)) {
			msg += "; it overflows Go's 64-bit time, so Vault reads it as a time in the distant past"
		}
		out = append(out, Finding{ID: FindingTimeRange, Severity: SeverityError, Message: msg,
			Fix: "the issuer must write " + name + " as the seconds since 1970 of a real date (Keycloak: check hardcoded-claim or attribute mappers named " + name + ")"})
		return time.Time{}, false
	}
	exp, hasExp := read("exp")
	nbf, hasNbf := read("nbf")
	iat, hasIat := read("iat")
	leewayText := "leeway " + lw.String()
	if hasExp && now.Add(-lw).After(exp) {
		out = append(out, Finding{ID: FindingExpired, Severity: SeverityError,
			Message: "token expired " + roundDur(now.Sub(exp)).String() + " ago (exp " + fmtTime(exp) + ", now " + fmtTime(now) + ", " + leewayText + ")",
			Fix:     "get a fresh token; Keycloak's lifetime is the realm's Access Token Lifespan (ID tokens too). If the clocks disagree, sync this host and the Keycloak host with NTP"})
	}
	if hasNbf && now.Add(lw).Before(nbf) {
		out = append(out, Finding{ID: FindingNotYetValid, Severity: SeverityError,
			Message: "token is not valid for another " + roundDur(nbf.Sub(now)).String() + " (nbf " + fmtTime(nbf) + ", now " + fmtTime(now) + ", " + leewayText + ")",
			Fix:     "the issuer's clock is ahead of this host's: sync both with NTP, or raise the leeway (Vault: clock_skew_leeway on the role)"})
	}
	if hasIat && now.Add(lw).Before(iat) {
		out = append(out, Finding{ID: FindingIssuedInFuture, Severity: SeverityError,
			Message: "token was issued " + roundDur(iat.Sub(now)).String() + " in the future (iat " + fmtTime(iat) + ", now " + fmtTime(now) + ", " + leewayText + ")",
			Fix:     "the issuer's clock is ahead of this host's: sync both with NTP, or raise the leeway (Vault: clock_skew_leeway on the role)"})
	}
	if _, present := claims["exp"]; !present {
		out = append(out, Finding{ID: FindingNoExpiry, Severity: SeverityWarning,
			Message: "token has no exp claim, so it never expires by itself",
			Fix:     "issue tokens with an expiry; Vault makes one up from iat/nbf plus expiration_leeway (default 150s)"})
	}
	return out
}

// CheckIssuer compares iss with want exactly: Vault's bound_issuer and every OIDC library do.
func CheckIssuer(claims map[string]any, want string) []Finding {
	v, present := claims["iss"]
	iss, isStr := v.(string)
	switch {
	case !present:
		return []Finding{{ID: FindingIssuer, Severity: SeverityError,
			Message: "token has no iss claim; expected " + strconv.Quote(want),
			Fix:     "tokens from Keycloak always carry iss; check that this is the token you meant"}}
	case !isStr:
		return []Finding{{ID: FindingIssuer, Severity: SeverityError,
			Message: "iss is " + jsonTypeName(v) + ", not a string",
			Fix:     "the issuer must write iss as a string"}}
	case iss == want:
		return nil
	}
	msg := "iss is " + strconv.Quote(iss) + ", expected exactly " + strconv.Quote(want)
	fix := "use the token's issuer " + strconv.Quote(iss) + " as the expected issuer (Vault: bound_issuer and oidc_discovery_url), or make Keycloak issue " + strconv.Quote(want) + " (its issuer follows KC_HOSTNAME and the request's scheme and host)"
	switch {
	case strings.TrimSuffix(iss, "/") == strings.TrimSuffix(want, "/"):
		msg += " (they differ only in a trailing slash, which counts)"
		fix = "write the issuer exactly as " + strconv.Quote(iss) + ", without changing the trailing slash"
	case strings.EqualFold(iss, want):
		msg += " (they differ only in letter case, which counts)"
	case strings.Contains(iss, "/auth/realms/") != strings.Contains(want, "/auth/realms/"):
		msg += " (one has the legacy /auth prefix of Keycloak before 17)"
	case strings.HasPrefix(iss, "http://") != strings.HasPrefix(want, "http://"):
		msg += " (http vs https: behind a TLS proxy Keycloak needs KC_PROXY_HEADERS=xforwarded and a correct KC_HOSTNAME)"
	}
	return []Finding{{ID: FindingIssuer, Severity: SeverityError, Message: msg, Fix: fix}}
}

// CheckAudience checks that aud (a string or a list of strings) contains at least one of want.
// The message names azp, the client the token was issued to, because Keycloak puts that client
// into aud only when an audience mapper says so.
func CheckAudience(claims map[string]any, want []string) []Finding {
	auds, present, ok := audiences(claims)
	azp := claimString(claims, "azp")
	if !ok {
		return []Finding{{ID: FindingAudience, Severity: SeverityError,
			Message: "aud is " + jsonTypeName(claims["aud"]) + " " + describeValue(claims["aud"]) + "; it must be a string or a list of strings",
			Fix:     "the issuer must write aud as a string or a list of strings"}}
	}
	for _, w := range want {
		for _, a := range auds {
			if a == w {
				return nil
			}
		}
	}
	have := "the token has no aud claim"
	if present {
		have = "aud is " + quoteList(auds)
	}
	msg := have + ", none of the expected " + quoteList(want)
	if azp != "" {
		msg += "; azp (the client the token was issued to) is " + strconv.Quote(azp)
	}
	return []Finding{{ID: FindingAudience, Severity: SeverityError, Message: msg, Fix: audienceFix(azp, want[0])}}
}

func audienceFix(azp, want string) string {
	client := azp
	if client == "" {
		client = "CLIENT"
	}
	return "add `- audience: " + want + "` to client " + client + "'s mappers in sso.yaml (Keycloak: an Audience mapper with 'Add to ID token' and 'Add to access token' on), or expect one of the token's audiences"
}

func quoteList(ss []string) string {
	if len(ss) == 0 {
		return "[]"
	}
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// MinNumericDate and MaxNumericDate bound the NumericDates (seconds since 1970) that ssoctl
// reads as times: 0000-01-01T00:00:00Z to 9999-12-31T23:59:59Z, the years RFC 3339 can write.
// exp, nbf or iat outside them is the finding token.time-range.
const (
	MinNumericDate = -62167219200
	MaxNumericDate = 253402300799
)

// NumericDate reads a decoded time claim (json.Number or float64, fractions allowed) as a time.
// ok is false for anything else: null, a non-number, or a number outside
// MinNumericDate..MaxNumericDate.
func NumericDate(v any) (t time.Time, ok bool) {
	f, isNum := numericValue(v)
	if !isNum || math.IsNaN(f) || f < MinNumericDate || f >= MaxNumericDate+1 {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
}

// vaultTime is the time Vault's go-jose makes of a NumericDate already converted to int64 (see
// floatToInt64): time.Unix, whose arithmetic wraps for seconds near the int64 limits.
func vaultTime(n int64) time.Time { return time.Unix(n, 0).UTC() }

func fmtTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func roundDur(d time.Duration) time.Duration {
	if d < 0 {
		d = -d
	}
	if d >= time.Second {
		return d.Round(time.Second)
	}
	return d
}
